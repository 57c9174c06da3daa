//! Errors of the executor: construction failures, request (pre-execution) failures, and the
//! GraphQL error objects that end up in a response.

use serde::Serialize;
use serde_json::{Map, Value};

/// Error codes placed in `extensions.code`.
pub mod codes {
    /// The operation text is not valid GraphQL syntax.
    pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    /// The operation (or its variables) does not fit the public schema.
    pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// The operation name does not select an operation of the document.
    pub const UNKNOWN_OPERATION: &str = "GRAPHQL_UNKNOWN_OPERATION_NAME";
    /// Subscriptions are not served by this router.
    pub const SUBSCRIPTION_NOT_SUPPORTED: &str = "SUBSCRIPTION_NOT_SUPPORTED";
    /// Introspection is switched off.
    pub const INTROSPECTION_DISABLED: &str = "INTROSPECTION_DISABLED";
    /// The planner could not plan the operation.
    pub const PLANNING_FAILED: &str = "QUERY_PLANNING_FAILED";
    /// A subgraph could not be reached or answered with a failure status.
    pub const SUBGRAPH_REQUEST_FAILED: &str = "SUBGRAPH_REQUEST_FAILED";
    /// A subgraph did not answer within its timeout.
    pub const SUBGRAPH_TIMEOUT: &str = "SUBGRAPH_TIMEOUT";
    /// A subgraph answered with a body that is not a GraphQL response.
    pub const SUBGRAPH_INVALID_RESPONSE: &str = "SUBGRAPH_INVALID_RESPONSE";
    /// A non-null field resolved to null without a subgraph error explaining it.
    pub const NULL_VALUE_IN_NON_NULL_FIELD: &str = "NULL_VALUE_IN_NON_NULL_FIELD";
    /// A subgraph reported an error without a code of its own.
    pub const SUBGRAPH_ERROR: &str = "SUBGRAPH_ERROR";
    /// A subgraph returned a scalar or enum value the public schema cannot represent (an
    /// `@inaccessible` enum value, a string for an `Int`, ...); it became `null`.
    pub const INVALID_LEAF_VALUE: &str = "INVALID_LEAF_VALUE";
}

/// Failure to build an [`crate::Executor`] from a supergraph.
#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    /// The supergraph SDL does not parse.
    #[error("the supergraph SDL does not parse: {0}")]
    SupergraphParse(String),
    /// The planner refused the supergraph.
    #[error("the query planner rejected the supergraph: {0}")]
    Planner(String),
    /// A `@join__graph` has no usable URL and no override was configured.
    #[error("subgraph `{0}` has no URL: neither `@join__graph(url:)` nor an override")]
    MissingSubgraphUrl(String),
    /// A subgraph URL is not an absolute `http://` URI.
    #[error("subgraph `{name}` has an invalid URL `{url}`")]
    InvalidSubgraphUrl { name: String, url: String },
}

/// A line and column in the client's operation text (both one-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// One segment of a response path: a response key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

/// A GraphQL error as it appears in the `errors` list of a response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GraphQLError {
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<PathSegment>>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub extensions: Map<String, Value>,
}

impl GraphQLError {
    /// An error carrying `extensions.code`.
    pub fn with_code(message: impl Into<String>, code: &str) -> Self {
        let mut extensions = Map::new();
        extensions.insert("code".to_owned(), Value::String(code.to_owned()));
        Self {
            message: message.into(),
            locations: Vec::new(),
            path: None,
            extensions,
        }
    }

    /// The `extensions.code` of this error, if any.
    pub fn code(&self) -> Option<&str> {
        self.extensions.get("code").and_then(Value::as_str)
    }

    pub(crate) fn at(mut self, path: Vec<PathSegment>) -> Self {
        self.path = Some(path);
        self
    }

    pub(crate) fn located(mut self, locations: Vec<Location>) -> Self {
        self.locations = locations;
        self
    }
}

/// A failure before any subgraph is called: the request gets no `data`, only errors.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RequestError {
    /// The text is not GraphQL.
    /// Boxed: the other variants are small, and this one would make every `Result` large.
    #[error("{}", .0.message)]
    Parse(Box<GraphQLError>),
    /// The operation or its variables do not fit the schema; one entry per problem.
    #[error("the operation failed validation ({} errors)", .0.len())]
    Validation(Vec<GraphQLError>),
    /// The document holds no operation with the requested name, or several and no name.
    #[error("{0}")]
    UnknownOperation(String),
    /// The selected operation is a subscription.
    #[error("subscriptions are not supported by this router")]
    SubscriptionNotSupported,
    /// The operation asks for `__schema` or `__type` while introspection is off.
    #[error("introspection is disabled")]
    IntrospectionDisabled,
    /// The planner failed on a valid operation (a router defect, not a client mistake).
    #[error("the operation could not be planned")]
    Planning(String),
}

impl RequestError {
    /// The errors to return to the client, with codes.
    pub fn to_graphql_errors(&self) -> Vec<GraphQLError> {
        match self {
            RequestError::Parse(error) => vec![(**error).clone()],
            RequestError::Validation(errors) => errors.clone(),
            RequestError::UnknownOperation(message) => {
                vec![GraphQLError::with_code(
                    message.clone(),
                    codes::UNKNOWN_OPERATION,
                )]
            }
            RequestError::SubscriptionNotSupported => vec![GraphQLError::with_code(
                "Subscriptions are not supported by this router; use a query or a mutation.",
                codes::SUBSCRIPTION_NOT_SUPPORTED,
            )],
            RequestError::IntrospectionDisabled => vec![GraphQLError::with_code(
                "Introspection is disabled.",
                codes::INTROSPECTION_DISABLED,
            )],
            // The planner's own message names internal graph details; keep it for the log.
            RequestError::Planning(_) => vec![GraphQLError::with_code(
                "The operation could not be planned.",
                codes::PLANNING_FAILED,
            )],
        }
    }

    /// The `extensions.code` of the first error (handy for metrics and HTTP status mapping).
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::Parse(_) => codes::PARSE_FAILED,
            RequestError::Validation(_) => codes::VALIDATION_FAILED,
            RequestError::UnknownOperation(_) => codes::UNKNOWN_OPERATION,
            RequestError::SubscriptionNotSupported => codes::SUBSCRIPTION_NOT_SUPPORTED,
            RequestError::IntrospectionDisabled => codes::INTROSPECTION_DISABLED,
            RequestError::Planning(_) => codes::PLANNING_FAILED,
        }
    }

    /// A complete response (no `data`) carrying this error.
    pub fn into_response(self) -> crate::Response {
        crate::Response::from_errors(self.to_graphql_errors())
    }
}
