//! Hooks for the edge: it implements [`SubgraphObserver`] to count and time subgraph calls, and
//! to stamp each subgraph request with headers that depend on its `subgraph.fetch` span (trace
//! context), without this crate knowing about any tracing backend.

use std::time::Duration;

/// How a subgraph request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubgraphOutcome {
    /// A GraphQL response without errors.
    Success,
    /// A GraphQL response that carries errors.
    GraphQLErrors,
    /// An HTTP status outside 2xx (with a body that is not a GraphQL response).
    HttpStatus(u16),
    /// No answer within the subgraph's timeout.
    Timeout,
    /// Connection refused, reset, or another transport failure.
    Transport,
    /// A 2xx answer whose body is not a GraphQL response.
    InvalidResponse,
}

impl SubgraphOutcome {
    /// A short label for metrics (`success`, `graphql_errors`, `http_status`, ...).
    pub fn label(&self) -> &'static str {
        match self {
            SubgraphOutcome::Success => "success",
            SubgraphOutcome::GraphQLErrors => "graphql_errors",
            SubgraphOutcome::HttpStatus(_) => "http_status",
            SubgraphOutcome::Timeout => "timeout",
            SubgraphOutcome::Transport => "transport",
            SubgraphOutcome::InvalidResponse => "invalid_response",
        }
    }
}

/// One finished subgraph HTTP request (deduplicated fetches produce one event in total).
#[derive(Debug, Clone)]
pub struct SubgraphEvent<'a> {
    /// The subgraph name from the supergraph.
    pub subgraph: &'a str,
    /// Time from sending the request to having the whole body (or giving up).
    pub latency: Duration,
    pub outcome: SubgraphOutcome,
}

/// Receives subgraph request events; called on the request's task, so keep it cheap.
pub trait SubgraphObserver: Send + Sync + 'static {
    fn on_subgraph_request(&self, event: &SubgraphEvent<'_>);

    /// Called just before a request to `subgraph` is sent, inside its `subgraph.fetch` span,
    /// with the headers it will carry (forwarded ones included), so the edge can add or replace
    /// headers tied to that span such as `traceparent`. Does nothing by default.
    fn before_subgraph_request(&self, subgraph: &str, headers: &mut http::HeaderMap) {
        let _ = (subgraph, headers);
    }
}
