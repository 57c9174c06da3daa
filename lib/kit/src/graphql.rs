//! GraphQL plumbing every subgraph shares: the HTTP endpoint (which authenticates the
//! caller and hands an [`Auth`] to resolvers), Federation SDL export, and Relay pagination
//! arguments and cursors.

use std::sync::Arc;

use async_graphql::{ObjectType, Schema, SubscriptionType};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{Router, extract::State, http::HeaderMap, routing::MethodFilter, routing::on};
use base64::Engine as _;
use serde::{Serialize, de::DeserializeOwned};

use crate::{ApiError, auth::JwksVerifier};

/// The largest request body a subgraph accepts.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub use platform::internal::CLIENT_IP_HEADER;

/// The client address the router reported ([`CLIENT_IP_HEADER`]), in the request data
/// when the header was present and valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);

impl ClientIp {
    /// Reads [`CLIENT_IP_HEADER`]; `None` when absent or not an IP address.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        headers
            .get(CLIENT_IP_HEADER)?
            .to_str()
            .ok()?
            .trim()
            .parse()
            .ok()
            .map(Self)
    }
}

struct Endpoint<Q, M, S> {
    schema: Schema<Q, M, S>,
    verifier: Arc<JwksVerifier>,
}

impl<Q, M, S> Clone for Endpoint<Q, M, S> {
    fn clone(&self) -> Self {
        Self {
            schema: self.schema.clone(),
            verifier: self.verifier.clone(),
        }
    }
}

/// `POST /graphql` (and `GET` for queries): verifies the bearer token, if any, and runs the
/// operation with the resulting [`crate::auth::Auth`] (and the [`ClientIp`], when the router
/// sent one) in the request data. Each request runs in
/// a span that continues the caller's W3C trace ([`crate::telemetry::trace_request`]).
pub fn routes<Q, M, S>(schema: Schema<Q, M, S>, verifier: Arc<JwksVerifier>) -> Router
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    Router::new()
        .route(
            "/graphql",
            on(MethodFilter::GET.or(MethodFilter::POST), execute::<Q, M, S>),
        )
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Outermost, so the request span (child of the caller's `traceparent`) covers it all.
        .layer(axum::middleware::from_fn(crate::telemetry::trace_request))
        .with_state(Endpoint { schema, verifier })
}

async fn execute<Q, M, S>(
    State(ep): State<Endpoint<Q, M, S>>,
    headers: HeaderMap,
    req: GraphQLRequest,
) -> axum::response::Response
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let auth = crate::auth::Auth::from_headers(&ep.verifier, &headers).await;
    let mut request = req.into_inner().data(auth);
    if let Some(client) = ClientIp::from_headers(&headers) {
        request = request.data(client);
    }
    let response = ep.schema.execute(request).await;
    let shed = is_shed(&response);
    let mut http = axum::response::IntoResponse::into_response(GraphQLResponse::from(response));
    if shed {
        *http.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
        http.headers_mut().insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static(RETRY_AFTER_SECS),
        );
    }
    http
}

/// What `Retry-After` says when a request is shed (seconds).
pub const RETRY_AFTER_SECS: &str = "1";

/// Whether nothing was resolved and every error is `SERVICE_UNAVAILABLE` (load shed, a
/// dependency down): HTTP then answers 503 with `Retry-After`, so clients and proxies back
/// off. Anything else keeps 200, as GraphQL over HTTP expects for `application/json`.
fn is_shed(response: &async_graphql::Response) -> bool {
    let code = crate::ErrorCode::ServiceUnavailable.as_str();
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| {
            e.extensions.as_ref().and_then(|x| x.get("code"))
                == Some(&async_graphql::Value::from(code))
        })
}

/// Limits every subgraph schema applies, whatever the router in front of it does.
pub fn harden<Q, M, S>(
    builder: async_graphql::SchemaBuilder<Q, M, S>,
) -> async_graphql::SchemaBuilder<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    builder
        .limit_depth(24)
        .limit_complexity(5_000)
        .limit_recursive_depth(24)
}

/// The schema as Federation v2 SDL, as written to `schema/<service>.graphql`.
pub fn federation_sdl<Q, M, S>(schema: &Schema<Q, M, S>) -> String
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    schema.sdl_with_options(
        async_graphql::SDLExportOptions::new()
            .federation()
            .compose_directive(),
    )
}

pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

/// Validated Relay arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRequest {
    /// `first` items after the `after` cursor.
    Forward { limit: u64, after: Option<String> },
    /// `last` items before the `before` cursor.
    Backward { limit: u64, before: Option<String> },
}

impl PageRequest {
    /// Checks `first`/`after`/`last`/`before`: not both directions, sizes within 0..=100.
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Self, ApiError> {
        let size = |value: i32, field: &str| -> Result<u64, ApiError> {
            u64::try_from(value)
                .ok()
                .filter(|v| *v <= MAX_PAGE_SIZE)
                .ok_or_else(|| {
                    ApiError::bad_input(
                        field,
                        format!("`{field}` must be between 0 and {MAX_PAGE_SIZE}"),
                    )
                })
        };
        match (first, last) {
            (Some(_), Some(_)) => Err(ApiError::bad_input(
                "last",
                "use either `first` or `last`, not both",
            )),
            (_, Some(l)) => {
                if after.is_some() {
                    return Err(ApiError::bad_input("after", "`after` goes with `first`"));
                }
                Ok(Self::Backward {
                    limit: size(l, "last")?,
                    before,
                })
            }
            (f, None) => {
                if before.is_some() && f.is_none() {
                    return Ok(Self::Backward {
                        limit: DEFAULT_PAGE_SIZE,
                        before,
                    });
                }
                if before.is_some() {
                    return Err(ApiError::bad_input("before", "`before` goes with `last`"));
                }
                Ok(Self::Forward {
                    limit: f
                        .map(|f| size(f, "first"))
                        .transpose()?
                        .unwrap_or(DEFAULT_PAGE_SIZE),
                    after,
                })
            }
        }
    }

    pub fn limit(&self) -> u64 {
        match self {
            Self::Forward { limit, .. } | Self::Backward { limit, .. } => *limit,
        }
    }
}

/// An opaque cursor: URL-safe base64 of the JSON of `position`.
pub fn encode_cursor<T: Serialize>(position: &T) -> String {
    let json = serde_json::to_vec(position).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

/// Reads a cursor made by [`encode_cursor`]; anything else is `BAD_USER_INPUT` on `field`.
pub fn decode_cursor<T: DeserializeOwned>(cursor: &str, field: &str) -> Result<T, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::bad_input(field, "the cursor is not valid"))
}

/// Parses an `ID` argument as a UUID, or `BAD_USER_INPUT` on `field`.
pub fn parse_id(id: &async_graphql::ID, field: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(id.as_str()).map_err(|_| ApiError::bad_input(field, "not a valid id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_rules() {
        assert_eq!(
            PageRequest::new(None, None, None, None).unwrap(),
            PageRequest::Forward {
                limit: 20,
                after: None
            }
        );
        assert_eq!(
            PageRequest::new(Some(100), None, None, None)
                .unwrap()
                .limit(),
            100
        );
        let too_big = PageRequest::new(Some(1000), None, None, None).unwrap_err();
        assert_eq!(too_big.field.as_deref(), Some("first"));
        assert_eq!(
            PageRequest::new(Some(-1), None, None, None)
                .unwrap_err()
                .field
                .as_deref(),
            Some("first")
        );
        assert_eq!(
            PageRequest::new(Some(1), None, Some(1), None)
                .unwrap_err()
                .field
                .as_deref(),
            Some("last")
        );
        assert_eq!(
            PageRequest::new(None, None, Some(5), Some("c".into())).unwrap(),
            PageRequest::Backward {
                limit: 5,
                before: Some("c".into())
            }
        );
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = encode_cursor(&("name", 42));
        assert_eq!(
            decode_cursor::<(String, i32)>(&c, "after").unwrap(),
            ("name".into(), 42)
        );
        let err = decode_cursor::<(String, i32)>("%%%", "after").unwrap_err();
        assert_eq!(
            (err.code, err.field.as_deref()),
            (crate::ErrorCode::BadUserInput, Some("after"))
        );
    }
}
