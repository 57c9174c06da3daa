//! Execution stage: turns the router config into an [`Executor`] for a supergraph,
//! reports subgraph latencies to the metrics, and maps the executor's request errors
//! to HTTP statuses. (The pipeline calls the executor's `parse`, `plan` and `execute`
//! itself, so the edge stages can run between them.)

use std::{collections::HashMap, sync::Arc, time::Duration};

use executor::{
    Executor, ExecutorConfig, ExecutorError, RequestError, SubgraphEvent, SubgraphObserver,
};
use http::StatusCode;

use super::rejection::MediaType;
use crate::{config::RouterConfig, metrics::Metrics};

/// Feeds subgraph request events into the Prometheus histogram.
struct MetricsObserver(Arc<Metrics>);

impl SubgraphObserver for MetricsObserver {
    fn on_subgraph_request(&self, event: &SubgraphEvent<'_>) {
        self.0
            .subgraph_latency(event.subgraph, event.latency.as_secs_f64());
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
        observer: Some(Arc::new(MetricsObserver(metrics))),
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
