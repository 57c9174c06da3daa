//! Decode stage: media-type negotiation, CSRF prevention, the body size limit and the
//! GraphQL-over-HTTP request shape, for `GET` and `POST`.
//!
//! Order matters: CSRF is checked before the body is read, so a forged request costs the
//! router nothing, and the size limit is applied while reading, so an oversized body is
//! never buffered whole. The rest of an oversized body is read and dropped (up to
//! `limits.max_discard_bytes`, within [`DISCARD_TIMEOUT`]) before the 413 is sent:
//! clients that write the whole body before reading (browsers, Node's `fetch`) would
//! otherwise see a reset connection instead of the error.

use std::time::Duration;

use axum::body::Body;
use bytes::BytesMut;
use http::{HeaderMap, Method, header};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::rejection::{MediaType, Rejection};
use crate::config::CsrfConfig;

/// A GraphQL request as sent by the client, before persisted operations are resolved.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphqlRequest {
    pub query: Option<String>,
    pub operation_name: Option<String>,
    #[serde(default)]
    pub variables: Option<Map<String, Value>>,
    #[serde(default)]
    pub extensions: Option<Map<String, Value>>,
    /// Persisted document id, as in the GraphQL-over-HTTP persisted documents proposal.
    pub document_id: Option<String>,
}

/// Picks the response media type from `Accept`.
///
/// No `Accept` (or `*/*`) means legacy `application/json`, as the GraphQL-over-HTTP
/// specification asks for clients that did not say.
pub fn negotiate(headers: &HeaderMap) -> Result<MediaType, Rejection> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(MediaType::Json);
    };
    let mut json = false;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        // `q=0` means "not acceptable".
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        if refused {
            continue;
        }
        match essence.as_str() {
            "application/graphql-response+json" => return Ok(MediaType::GraphqlResponse),
            "application/json" | "application/*" | "*/*" => json = true,
            _ => {}
        }
    }
    if json {
        Ok(MediaType::Json)
    } else {
        Err(Rejection::NotAcceptable)
    }
}

/// Whether the request's content type is JSON (`application/json` or `+json`).
fn is_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let essence = v
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            essence == "application/json"
                || (essence.starts_with("application/") && essence.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Rejects "simple" requests (those a browser sends cross-origin without a preflight)
/// that do not carry one of the configured preflight headers. The method does not
/// matter: a GET and a POST are simple unless their content type is JSON.
pub fn check_csrf(
    config: &CsrfConfig,
    _method: &Method,
    headers: &HeaderMap,
) -> Result<(), Rejection> {
    if !config.enabled {
        return Ok(());
    }
    // A JSON content type cannot be sent cross-origin without a preflight, whatever the
    // method (Apollo Client sends it on GET too), so such a request is safe.
    let simple = !is_json_content_type(headers);
    if !simple {
        return Ok(());
    }
    let preflighted = config.required_headers.iter().any(|name| {
        headers
            .get(name.as_str())
            .is_some_and(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace))
    });
    if preflighted {
        Ok(())
    } else {
        Err(Rejection::CsrfPrevention)
    }
}

/// The query-string parameters of a `GET` request; variables and extensions are JSON text.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
    document_id: Option<String>,
}

/// Reads a `GET` request's query string.
pub fn decode_get(query: Option<&str>, max_bytes: usize) -> Result<GraphqlRequest, Rejection> {
    let query = query.unwrap_or_default();
    if query.len() > max_bytes {
        return Err(Rejection::PayloadTooLarge { limit: max_bytes });
    }
    let params: GetParams = serde_urlencoded::from_str(query).map_err(|e| {
        Rejection::BadRequest(format!("the query string is not a GraphQL request: {e}"))
    })?;
    Ok(GraphqlRequest {
        query: params.query,
        operation_name: params.operation_name.filter(|v| !v.is_empty()),
        variables: json_object_param("variables", params.variables.as_deref())?,
        extensions: json_object_param("extensions", params.extensions.as_deref())?,
        document_id: params.document_id,
    })
}

fn json_object_param(
    name: &str,
    raw: Option<&str>,
) -> Result<Option<Map<String, Value>>, Rejection> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(Value::Null) => Ok(None),
        _ => Err(Rejection::BadRequest(format!(
            "`{name}` must be a JSON object"
        ))),
    }
}

/// How long the rest of an oversized body may take to arrive before the connection is
/// dropped.
pub const DISCARD_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads and drops what is left of `body`, up to `max_discard` bytes (`read` already
/// read), so the client is reading when the error is sent.
async fn discard(mut body: Body, mut read: usize, max_discard: usize) {
    let drain = async {
        while read <= max_discard {
            match body.frame().await {
                Some(Ok(frame)) => {
                    read = read.saturating_add(frame.data_ref().map_or(0, |d| d.len()));
                }
                _ => return,
            }
        }
    };
    if tokio::time::timeout(DISCARD_TIMEOUT, drain).await.is_err() {
        tracing::debug!("oversized body still arriving; answering without reading it all");
    }
}

/// Reads a `POST` body as JSON, enforcing the size limit while reading.
pub async fn decode_post(
    headers: &HeaderMap,
    mut body: Body,
    max_bytes: usize,
    max_discard: usize,
) -> Result<GraphqlRequest, Rejection> {
    if !is_json_content_type(headers) {
        return Err(Rejection::UnsupportedMediaType);
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared.filter(|len| *len > max_bytes as u64) {
        if len <= max_discard as u64 {
            discard(body, 0, max_discard).await;
        }
        return Err(Rejection::PayloadTooLarge { limit: max_bytes });
    }
    let mut buffer = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(Rejection::BadRequest(
                "the request body could not be read".to_owned(),
            ));
        };
        let Some(data) = frame.data_ref() else {
            continue;
        };
        if buffer.len() + data.len() > max_bytes {
            discard(body, buffer.len() + data.len(), max_discard).await;
            return Err(Rejection::PayloadTooLarge { limit: max_bytes });
        }
        buffer.extend_from_slice(data);
    }
    let bytes = buffer.freeze();
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(_)) => serde_json::from_slice::<GraphqlRequest>(&bytes).map_err(|e| {
            Rejection::BadRequest(format!("the request body is not a GraphQL request: {e}"))
        }),
        Ok(Value::Array(_)) => Err(Rejection::BadRequest(
            "batched requests are not supported".to_owned(),
        )),
        Ok(_) => Err(Rejection::BadRequest(
            "the request body must be a JSON object".to_owned(),
        )),
        Err(e) => Err(Rejection::BadRequest(format!(
            "the request body is not valid JSON: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn accept_negotiation() {
        assert_eq!(negotiate(&headers(&[])), Ok(MediaType::Json));
        assert_eq!(
            negotiate(&headers(&[(
                "accept",
                "application/graphql-response+json, application/json;q=0.9"
            )])),
            Ok(MediaType::GraphqlResponse)
        );
        assert_eq!(
            negotiate(&headers(&[("accept", "*/*")])),
            Ok(MediaType::Json)
        );
        assert_eq!(
            negotiate(&headers(&[("accept", "text/html")])),
            Err(Rejection::NotAcceptable)
        );
        assert_eq!(
            negotiate(&headers(&[(
                "accept",
                "application/graphql-response+json;q=0, application/json"
            )])),
            Ok(MediaType::Json)
        );
    }

    #[test]
    fn csrf_rules() {
        let config = CsrfConfig::default();
        let json = headers(&[("content-type", "application/json; charset=utf-8")]);
        assert_eq!(check_csrf(&config, &Method::POST, &json), Ok(()));
        let text = headers(&[("content-type", "text/plain")]);
        assert_eq!(
            check_csrf(&config, &Method::POST, &text),
            Err(Rejection::CsrfPrevention)
        );
        assert_eq!(
            check_csrf(&config, &Method::GET, &headers(&[])),
            Err(Rejection::CsrfPrevention)
        );
        // A JSON content type forces a preflight on GET as on POST (Apollo Client sends it).
        assert_eq!(check_csrf(&config, &Method::GET, &json), Ok(()));
        let blank = headers(&[("apollo-require-preflight", " ")]);
        assert_eq!(
            check_csrf(&config, &Method::GET, &blank),
            Err(Rejection::CsrfPrevention)
        );
        let marked = headers(&[("x-apollo-operation-name", "Q")]);
        assert_eq!(check_csrf(&config, &Method::GET, &marked), Ok(()));
        let off = CsrfConfig {
            enabled: false,
            ..CsrfConfig::default()
        };
        assert_eq!(check_csrf(&off, &Method::GET, &headers(&[])), Ok(()));
    }

    #[test]
    fn get_parameters() {
        let request = decode_get(
            Some("query=%7B%20a%20%7D&operationName=&variables=%7B%22x%22%3A1%7D"),
            1024,
        )
        .unwrap();
        assert_eq!(request.query.as_deref(), Some("{ a }"));
        assert_eq!(request.operation_name, None);
        assert_eq!(request.variables.unwrap()["x"], 1);
        assert_eq!(
            decode_get(Some("variables=%5B%5D"), 1024)
                .unwrap_err()
                .code(),
            "BAD_REQUEST"
        );
        assert_eq!(
            decode_get(Some("query=aaaaaaaa"), 4).unwrap_err().code(),
            "PAYLOAD_TOO_LARGE"
        );
    }

    #[tokio::test]
    async fn post_body_limits_and_shape() {
        let json = headers(&[("content-type", "application/json")]);
        let ok = decode_post(&json, Body::from(r#"{"query":"{ a }"}"#), 64, 1024)
            .await
            .unwrap();
        assert_eq!(ok.query.as_deref(), Some("{ a }"));
        let big = format!(r#"{{"query":"{}"}}"#, "a".repeat(100));
        assert_eq!(
            decode_post(&json, Body::from(big), 64, 1024)
                .await
                .unwrap_err()
                .code(),
            "PAYLOAD_TOO_LARGE"
        );
        assert_eq!(
            decode_post(&json, Body::from("[]"), 64, 1024)
                .await
                .unwrap_err()
                .code(),
            "BAD_REQUEST"
        );
        let text = headers(&[("content-type", "text/plain")]);
        assert_eq!(
            decode_post(&text, Body::from("{}"), 64, 1024)
                .await
                .unwrap_err()
                .code(),
            "UNSUPPORTED_MEDIA_TYPE"
        );
    }
}
