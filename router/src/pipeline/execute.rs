//! Execution stage: turns the router config into an [`Executor`] for a supergraph,
//! reports subgraph latencies to the metrics, puts each subgraph request's trace context in
//! its `traceparent`, and maps the executor's request errors
//! to HTTP statuses. (The pipeline calls the executor's `parse`, `plan` and `execute`
//! itself, so the edge stages can run between them.)

use std::{collections::HashMap, sync::Arc, time::Duration};

use executor::{
    Executor, ExecutorConfig, ExecutorError, RequestError, SubgraphEvent, SubgraphObserver,
};
use http::StatusCode;

use super::rejection::MediaType;
use crate::{config::RouterConfig, metrics::Metrics};

/// Feeds subgraph request events into the Prometheus histogram, gives each subgraph
/// request the trace context of its own `subgraph.fetch` span, and the shared secret that
/// tells subgraphs the request came through the router.
struct EdgeObserver {
    metrics: Arc<Metrics>,
    subgraph_secret: Option<http::HeaderValue>,
}

impl SubgraphObserver for EdgeObserver {
    fn on_subgraph_request(&self, event: &SubgraphEvent<'_>) {
        self.metrics
            .subgraph_latency(event.subgraph, event.latency.as_secs_f64());
    }

    fn before_subgraph_request(&self, _subgraph: &str, headers: &mut http::HeaderMap) {
        // With an OpenTelemetry tracer the subgraph's spans become children of the fetch span;
        // without one this leaves the request-wide `traceparent` from the headers stage.
        platform::telemetry::inject(&tracing::Span::current(), headers);
        // Set here, after the deduplication key is made, so the secret never becomes part
        // of a key; a client's own header of that name is overwritten.
        if let Some(secret) = &self.subgraph_secret {
            headers.insert(platform::internal::SUBGRAPH_SECRET_HEADER, secret.clone());
        }
    }
}

/// Builds an executor for `supergraph_sdl` with the router's settings.
pub fn build_executor(
    supergraph_sdl: &str,
    config: &RouterConfig,
    metrics: Arc<Metrics>,
) -> Result<Executor, ExecutorError> {
    let executor_config = ExecutorConfig {
        subgraph_urls: config
            .subgraphs
            .urls
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        subgraph_timeouts: HashMap::new(),
        default_timeout: Duration::from_millis(config.subgraphs.timeout_ms),
        deduplicate_operations: config.dedup.enabled,
        deduplicate_fetches: config.dedup.enabled,
        introspection: config.introspection_enabled(),
        observer: Some(Arc::new(EdgeObserver {
            metrics,
            subgraph_secret: config.subgraphs.shared_secret.as_ref().and_then(|s| {
                let mut value = http::HeaderValue::from_str(s.expose()).ok()?;
                value.set_sensitive(true);
                Some(value)
            }),
        })),
        // The router gives every request its own id and trace context; keyed on them, no two
        // requests would ever share an execution. Credentials always stay in the key.
        dedup_ignored_headers: vec![
            http::HeaderName::from_static("x-request-id"),
            http::HeaderName::from_static("traceparent"),
            http::HeaderName::from_static("tracestate"),
        ],
        ..ExecutorConfig::default()
    };
    Executor::new(supergraph_sdl, executor_config)
}

/// The HTTP status of a request the executor refused before running it.
pub fn request_error_status(error: &RequestError, media: MediaType) -> StatusCode {
    match media {
        MediaType::Json => StatusCode::OK,
        MediaType::GraphqlResponse => match error {
            // A valid operation the planner cannot handle is the router's fault.
            RequestError::Planning(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        },
    }
}
