//! Edge rejections: every way the router refuses a request before, or instead of,
//! executing it, with the `extensions.code` a client sees.
//!
//! | code | HTTP status (`graphql-response+json` / `json`) | when |
//! |---|---|---|
//! | `BAD_REQUEST` | 400 / 400 | the body or query string is not a GraphQL request (bad JSON, no `query`, batch) |
//! | `PAYLOAD_TOO_LARGE` | 413 / 413 | the body (or GET query string) exceeds `limits.max_body_bytes` |
//! | `UNSUPPORTED_MEDIA_TYPE` | 415 / 415 | a POST whose `Content-Type` is not JSON |
//! | `NOT_ACCEPTABLE` | 406 / 406 | `Accept` allows neither GraphQL response media type |
//! | `METHOD_NOT_ALLOWED` | 405 / 405 | a mutation sent with GET (GET is for queries only) |
//! | `CSRF_PREVENTION` | 400 / 400 | a "simple" request (GET, or POST without a JSON content type) without a preflight header |
//! | `MAX_TOKENS_EXCEEDED` | 400 / 200 | the document has more lexical tokens than `limits.max_tokens` |
//! | `GRAPHQL_PARSE_FAILED` | 400 / 200 | the document does not parse |
//! | `GRAPHQL_UNKNOWN_OPERATION_NAME` | 400 / 200 | `operationName` names no operation, or is missing while the document has several |
//! | `GRAPHQL_VALIDATION_FAILED` | 400 / 200 | the operation or its variables do not fit the schema (from the executor) |
//! | `MAX_DEPTH_EXCEEDED` | 400 / 200 | nesting deeper than `limits.max_depth` (outside introspection), or a document nested deeper than the parser accepts |
//! | `MAX_ALIASES_EXCEEDED` | 400 / 200 | more aliases than `limits.max_aliases` |
//! | `MAX_ROOT_FIELDS_EXCEEDED` | 400 / 200 | more root fields than `limits.max_root_fields` |
//! | `INTROSPECTION_DISABLED` | 400 / 200 | `__schema`/`__type` while introspection is off |
//! | `INTROSPECTION_TOO_DEEP` | 400 / 200 | introspection nested deeper than `introspection.max_depth`, `ofType` deeper than `introspection.max_of_type_depth`, or lists deeper than `introspection.max_list_depth` |
//! | `INTROSPECTION_REPEATED` | 400 / 200 | an introspection field selected under two response names in one selection set, or `__schema`/`__type` twice |
//! | `SUBSCRIPTION_NOT_SUPPORTED` | 400 / 200 | a subscription operation |
//! | `PERSISTED_QUERY_NOT_SUPPORTED` | 400 / 200 | a persisted-operation id while `persisted_operations.mode` is `off` |
//! | `PERSISTED_QUERY_NOT_FOUND` | 400 / 200 | an id neither the manifest nor the automatic persisted-query cache holds; clients then send the full query once |
//! | `PERSISTED_QUERY_HASH_MISMATCH` | 400 / 200 | `extensions.persistedQuery.sha256Hash` is not the SHA-256 of the `query` sent with it |
//! | `PERSISTED_QUERY_VERSION_NOT_SUPPORTED` | 400 / 200 | `extensions.persistedQuery.version` is not 1 |
//! | `PERSISTED_QUERY_NOT_IN_SAFELIST` | 400 / 200 | in `safelist` mode, an id or text outside the manifest |
//! | `UNAUTHENTICATED` | 401 / 200 | a bearer token that is malformed, expired, forged, unsigned, or from another issuer/audience |
//! | `AUTHENTICATION_UNAVAILABLE` | 503 / 503 | a token was sent but the signing keys cannot be fetched |
//! | `SERVICE_UNAVAILABLE` | 503 / 503 | no supergraph is loaded |
//!
//! With plain `application/json` responses GraphQL-level failures use 200, as legacy
//! clients expect; failures that are not about the GraphQL document (size, media type,
//! method, CSRF) keep their HTTP status in both cases. Errors produced while executing
//! (subgraph failures, resolver errors) are not rejections: they come back with 200 and
//! whatever partial data could be resolved, with one exception: when nothing could be
//! resolved and every error is a subgraph's `SERVICE_UNAVAILABLE` (a subgraph shedding
//! load, such as users with a full password-hashing queue), the answer is 503 with
//! `Retry-After`, so clients and proxies back off.

use http::StatusCode;
use serde_json::{Value, json};

/// The response media type negotiated from `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/graphql-response+json` (GraphQL-over-HTTP).
    GraphqlResponse,
    /// `application/json` (legacy clients).
    Json,
}

impl MediaType {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

/// A refused request; `Display` is the message sent to the client.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Rejection {
    #[error("{0}")]
    BadRequest(String),
    #[error("request body exceeds the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported content type; send application/json")]
    UnsupportedMediaType,
    #[error(
        "the Accept header allows neither application/graphql-response+json nor application/json"
    )]
    NotAcceptable,
    #[error("mutations cannot be sent with GET; use POST")]
    MutationOverGet,
    #[error(
        "this operation has been blocked as a potential cross-site request forgery: send a JSON content type or a non-empty `apollo-require-preflight` header"
    )]
    CsrfPrevention,
    #[error("the document has more than {max} tokens")]
    MaxTokens { max: usize },
    #[error("{0}")]
    ParseFailed(String),
    #[error("{0}")]
    UnknownOperation(String),
    #[error("the operation is {actual} levels deep; the maximum is {max}")]
    MaxDepth { actual: usize, max: usize },
    #[error("the operation has {actual} aliases; the maximum is {max}")]
    MaxAliases { actual: usize, max: usize },
    #[error("the operation selects {actual} root fields; the maximum is {max}")]
    MaxRootFields { actual: usize, max: usize },
    #[error("introspection is disabled")]
    IntrospectionDisabled,
    #[error("the introspection query nests {what} {actual} levels deep; the maximum is {max}")]
    IntrospectionTooDeep {
        what: &'static str,
        actual: usize,
        max: usize,
    },
    #[error("the introspection query selects `{field}` more than once")]
    IntrospectionRepeated { field: String },
    #[error("subscriptions are not supported by this router")]
    SubscriptionNotSupported,
    #[error("persisted operations are not enabled")]
    PersistedQueryNotSupported,
    #[error("PersistedQueryNotFound")]
    PersistedQueryNotFound,
    #[error("the persisted query hash does not match the query text")]
    PersistedQueryHashMismatch,
    #[error("only version 1 of persisted queries is supported")]
    PersistedQueryVersionNotSupported,
    #[error("this operation is not in the safelist of persisted operations")]
    PersistedQueryNotInSafelist,
    #[error("{0}")]
    Unauthenticated(String),
    #[error("authentication is temporarily unavailable")]
    AuthenticationUnavailable,
    #[error("the router has no supergraph loaded yet")]
    ServiceUnavailable,
}

impl Rejection {
    /// The `extensions.code` of the error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "BAD_REQUEST",
            Self::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::NotAcceptable => "NOT_ACCEPTABLE",
            Self::MutationOverGet => "METHOD_NOT_ALLOWED",
            Self::CsrfPrevention => "CSRF_PREVENTION",
            Self::MaxTokens { .. } => "MAX_TOKENS_EXCEEDED",
            Self::ParseFailed(_) => "GRAPHQL_PARSE_FAILED",
            Self::UnknownOperation(_) => "GRAPHQL_UNKNOWN_OPERATION_NAME",
            Self::MaxDepth { .. } => "MAX_DEPTH_EXCEEDED",
            Self::MaxAliases { .. } => "MAX_ALIASES_EXCEEDED",
            Self::MaxRootFields { .. } => "MAX_ROOT_FIELDS_EXCEEDED",
            Self::IntrospectionDisabled => "INTROSPECTION_DISABLED",
            Self::IntrospectionTooDeep { .. } => "INTROSPECTION_TOO_DEEP",
            Self::IntrospectionRepeated { .. } => "INTROSPECTION_REPEATED",
            Self::SubscriptionNotSupported => "SUBSCRIPTION_NOT_SUPPORTED",
            Self::PersistedQueryNotSupported => "PERSISTED_QUERY_NOT_SUPPORTED",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::PersistedQueryHashMismatch => "PERSISTED_QUERY_HASH_MISMATCH",
            Self::PersistedQueryVersionNotSupported => "PERSISTED_QUERY_VERSION_NOT_SUPPORTED",
            Self::PersistedQueryNotInSafelist => "PERSISTED_QUERY_NOT_IN_SAFELIST",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::AuthenticationUnavailable => "AUTHENTICATION_UNAVAILABLE",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
        }
    }

    /// The HTTP status for a response of media type `media`.
    pub fn status(&self, media: MediaType) -> StatusCode {
        let graphql_level = match self {
            Self::BadRequest(_) | Self::CsrfPrevention => return StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge { .. } => return StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => return StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotAcceptable => return StatusCode::NOT_ACCEPTABLE,
            Self::MutationOverGet => return StatusCode::METHOD_NOT_ALLOWED,
            Self::ServiceUnavailable | Self::AuthenticationUnavailable => {
                return StatusCode::SERVICE_UNAVAILABLE;
            }
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        };
        match media {
            MediaType::GraphqlResponse => graphql_level,
            MediaType::Json => StatusCode::OK,
        }
    }

    /// The response body: a GraphQL response with one error and no `data`, since the
    /// operation never started.
    pub fn body(&self) -> Value {
        json!({
            "errors": [{
                "message": self.to_string(),
                "extensions": { "code": self.code() },
            }]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_level_errors_are_200_for_legacy_json() {
        let r = Rejection::MaxDepth { actual: 9, max: 3 };
        assert_eq!(
            r.status(MediaType::GraphqlResponse),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(r.status(MediaType::Json), StatusCode::OK);
        let r = Rejection::PayloadTooLarge { limit: 1 };
        assert_eq!(r.status(MediaType::Json), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn body_carries_message_and_code() {
        let r = Rejection::MaxAliases { actual: 4, max: 2 };
        assert_eq!(
            r.body(),
            json!({"errors":[{"message":"the operation has 4 aliases; the maximum is 2","extensions":{"code":"MAX_ALIASES_EXCEEDED"}}]})
        );
    }
}
