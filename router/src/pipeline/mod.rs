//! The edge pipeline for `/graphql`: every client operation passes these stages, in
//! this order, and the first one that refuses ends the request without calling any
//! subgraph:
//!
//! 1. [`request`]: `Accept` negotiation, CSRF prevention, body size limit, request shape;
//! 2. [`persisted`]: persisted-operation ids, automatic persisted queries, the safelist;
//! 3. [`tokens`]: the token limit and the parser's nesting limit, before parsing;
//! 4. parse and validate (the executor, cached by query text), then GET-only-for-queries;
//! 5. [`limits`]: depth, aliases and root fields; then the introspection switch and
//!    [`introspection`]'s own limits; a query sent with its APQ hash is registered here;
//! 6. [`auth`]: bearer token verification;
//! 7. [`headers`]: the headers subgraphs receive;
//! 8. [`execute`]: planning and execution;
//! 9. [`cache`]: `Cache-Control` and `Vary` on the answer.
//!
//! The codes of every refusal are listed in [`rejection`]. Compression is a layer around
//! the whole route (see `server`).

pub mod auth;
pub mod cache;
pub mod execute;
pub mod headers;
pub mod introspection;
pub mod limits;
pub mod persisted;
pub mod rejection;
pub mod request;
pub mod tokens;

use std::sync::Arc;

use axum::{
    body::Body,
    extract::State,
    response::{IntoResponse, Response},
};
use executor::{OperationKind, RequestError};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use serde_json::Map;
use tracing::Instrument;

use self::{
    headers::TraceContext,
    rejection::{MediaType, Rejection},
};
use crate::{config::limits::PARSER_NESTING_LIMIT, metrics::Outcome, state::AppState};

/// What a finished request reports to metrics.
struct Finished {
    kind: &'static str,
    outcome: Outcome,
    response: Response,
}

/// `GET /graphql` and `POST /graphql`.
pub async fn graphql(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    connect: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    mut headers: HeaderMap,
    body: Body,
) -> Response {
    let _in_flight = state.metrics.in_flight();
    let peer = connect.map(|axum::Extension(axum::extract::ConnectInfo(addr))| addr.ip());
    state.header_rules.stamp_client_ip(&mut headers, peer);
    let mut trace = TraceContext::from_headers(&headers);
    let span = tracing::info_span!(
        "graphql",
        otel.kind = "server",
        request_id = ?trace.request_id,
        trace_id = tracing::field::Empty,
    );
    // With an OpenTelemetry tracer the span continues the client's trace, and its ids replace
    // the hand-made ones; without one this changes nothing.
    platform::telemetry::set_remote_parent(&span, &headers);
    trace.follow_span(&span);
    span.record("trace_id", trace.trace_id.as_str());
    let finished = match request::negotiate(&headers) {
        Ok(media) => {
            run(&state, media, &method, &uri, &headers, body, &trace)
                .instrument(span)
                .await
        }
        Err(rejection) => reject(&state, "unknown", MediaType::Json, rejection),
    };
    state.metrics.request(finished.kind, finished.outcome);
    finished.response
}

async fn run(
    state: &AppState,
    media: MediaType,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    trace: &TraceContext,
) -> Finished {
    let config = &state.config;
    let mut kind = "unknown";
    macro_rules! refuse {
        ($rejection:expr) => {
            return reject(state, kind, media, $rejection)
        };
    }

    if let Err(r) = request::check_csrf(&config.csrf, method, headers) {
        refuse!(r);
    }
    let request = if *method == Method::GET {
        request::decode_get(uri.query(), config.limits.max_body_bytes)
    } else {
        request::decode_post(
            headers,
            body,
            config.limits.max_body_bytes,
            config.limits.max_discard_bytes,
        )
        .await
    };
    let request = match request {
        Ok(request) => request,
        Err(r) => refuse!(r),
    };
    let resolved = match state.persisted.resolve(&request) {
        Ok(resolved) => resolved,
        Err(r) => refuse!(r),
    };
    let query = resolved.query;
    // Which token limit applies is only known after parsing; the larger one bounds what
    // the parser is given.
    let token_ceiling = if state.introspection {
        config
            .limits
            .max_tokens
            .max(config.introspection.max_tokens)
    } else {
        config.limits.max_tokens
    };
    let scan = tokens::scan(&query, token_ceiling);
    if scan.tokens > token_ceiling {
        tracing::debug!(count = scan.tokens, "token limit exceeded");
        refuse!(Rejection::MaxTokens {
            max: config.limits.max_tokens
        });
    }
    if scan.nesting > PARSER_NESTING_LIMIT {
        refuse!(Rejection::MaxDepth {
            actual: scan.nesting,
            max: config.limits.max_depth
        });
    }
    let Some(executor) = state.executor() else {
        refuse!(Rejection::ServiceUnavailable);
    };
    let parsed = match executor.parse(&query, request.operation_name.as_deref()) {
        Ok(parsed) => parsed,
        Err(e) => return request_failed(state, kind, media, e),
    };
    kind = kind_label(parsed.kind());
    let token_limit = if state.introspection && introspection::only_introspection(&parsed) {
        config.introspection.max_tokens
    } else {
        config.limits.max_tokens
    };
    if scan.tokens > token_limit {
        refuse!(Rejection::MaxTokens { max: token_limit });
    }
    if *method == Method::GET && parsed.kind() == OperationKind::Mutation {
        refuse!(Rejection::MutationOverGet);
    }
    if let Err(r) = limits::measure(&parsed).check(&config.limits) {
        refuse!(r);
    }
    if parsed.uses_introspection() && !state.introspection {
        refuse!(Rejection::IntrospectionDisabled);
    }
    if let Err(r) = introspection::check(&parsed, &config.introspection) {
        refuse!(r);
    }
    if let Some(hash) = resolved.register {
        state.persisted.register(hash, query.clone());
    }
    if let Err(r) = state.auth.authenticate(headers).await {
        refuse!(r);
    }
    let prepared = match executor.plan(&parsed) {
        Ok(prepared) => prepared,
        Err(e) => return request_failed(state, kind, media, e),
    };
    let forward = state.header_rules.forward(headers, trace);
    let variables = request.variables.unwrap_or_else(Map::new);
    let response = executor.execute(&prepared, variables, forward).await;

    state.metrics.dedup_hits(
        response.stats.shared_execution,
        u64::from(response.stats.deduplicated_fetches),
    );
    for error in &response.errors {
        state.metrics.error(error.code().unwrap_or("OTHER"));
    }
    let (status, outcome) = if response.is_request_error() {
        // Variable coercion failed: nothing ran.
        let status = match media {
            MediaType::GraphqlResponse => StatusCode::BAD_REQUEST,
            MediaType::Json => StatusCode::OK,
        };
        (status, Outcome::Rejected)
    } else if response.errors.is_empty() {
        (StatusCode::OK, Outcome::Ok)
    } else if only_unavailable(
        response.data_json(),
        response.errors.iter().map(|e| e.code()),
    ) {
        (StatusCode::SERVICE_UNAVAILABLE, Outcome::Failed)
    } else {
        (StatusCode::OK, Outcome::Partial)
    };
    let cacheability = cache::decide(
        &config.cache_control,
        headers,
        &parsed,
        outcome == Outcome::Ok,
    );
    let mut response = json_response(status, media, response.to_bytes());
    cache::apply(&mut response, cacheability, &state.vary);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECS),
        );
    }
    Finished {
        kind,
        outcome,
        response,
    }
}

/// What `Retry-After` says when a subgraph sheds load (seconds).
const RETRY_AFTER_SECS: &str = "1";

/// Whether the operation produced no data at all and every error is a subgraph's
/// `SERVICE_UNAVAILABLE` (e.g. users refusing a login while its password queue is full):
/// then the whole request is "try again later", and HTTP says so with 503 and
/// `Retry-After`. Partial results keep 200.
fn only_unavailable<'a>(
    data: Option<&str>,
    mut codes: impl Iterator<Item = Option<&'a str>>,
) -> bool {
    data.is_some_and(|data| data.trim() == "null")
        && codes.all(|code| code == Some("SERVICE_UNAVAILABLE"))
}

fn kind_label(kind: OperationKind) -> &'static str {
    match kind {
        OperationKind::Query => "query",
        OperationKind::Mutation => "mutation",
        OperationKind::Subscription => "subscription",
    }
}

fn reject(
    state: &AppState,
    kind: &'static str,
    media: MediaType,
    rejection: Rejection,
) -> Finished {
    tracing::debug!(code = rejection.code(), %rejection, "request refused");
    state.metrics.error(rejection.code());
    let status = rejection.status(media);
    let outcome = match rejection {
        Rejection::ServiceUnavailable | Rejection::AuthenticationUnavailable => Outcome::Failed,
        _ => Outcome::Rejected,
    };
    let body = serde_json::to_vec(&rejection.body()).unwrap_or_default();
    let mut response = json_response(status, media, body);
    match rejection {
        Rejection::MutationOverGet => {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        Rejection::Unauthenticated(_) => {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        _ => {}
    }
    Finished {
        kind,
        outcome,
        response,
    }
}

fn request_failed(
    state: &AppState,
    kind: &'static str,
    media: MediaType,
    error: RequestError,
) -> Finished {
    tracing::debug!(code = error.code(), %error, "operation refused by the executor");
    state.metrics.error(error.code());
    let status = execute::request_error_status(&error, media);
    let outcome = match error {
        RequestError::Planning(_) => Outcome::Failed,
        _ => Outcome::Rejected,
    };
    Finished {
        kind,
        outcome,
        response: json_response(status, media, error.into_response().to_bytes()),
    }
}

fn json_response(status: StatusCode, media: MediaType, body: Vec<u8>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(media.content_type()),
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::only_unavailable;

    #[test]
    fn only_a_whole_request_shed_by_subgraphs_is_a_503() {
        let shed = [Some("SERVICE_UNAVAILABLE"), Some("SERVICE_UNAVAILABLE")];
        assert!(only_unavailable(Some("null"), shed.into_iter()));
        // Partial data, or any other error among them, stays a 200 with errors.
        assert!(!only_unavailable(
            Some(r#"{"me":null,"products":[]}"#),
            shed.into_iter()
        ));
        assert!(!only_unavailable(
            Some("null"),
            [Some("SERVICE_UNAVAILABLE"), Some("UNAUTHENTICATED")].into_iter()
        ));
        assert!(!only_unavailable(Some("null"), [None].into_iter()));
        // A request error (no data at all) is not this case.
        assert!(!only_unavailable(None, shed.into_iter()));
    }
}
