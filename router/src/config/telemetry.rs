//! `telemetry`: how the router identifies itself in logs and traces.
//!
//! Log output is set up by `platform::telemetry`, shared with the subgraphs: `RUST_LOG`
//! filters and `LOG_FORMAT=json` switches to JSON lines.
//!
//! Traces: span export is configured the same way for the router and every subgraph, by the
//! standard OpenTelemetry variables that `platform::telemetry` reads at start-up (there are no
//! YAML keys for it, so one set of variables drives the whole deployment):
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (the collector's base URL, `/v1/traces` appended) or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the full URL) turns OTLP/HTTP export on;
//! `OTEL_TRACES_SAMPLER_ARG` is the ratio of new traces kept (default `1.0`, parent-based);
//! `OTEL_SERVICE_NAME` overrides [`TelemetryConfig::service_name`] as the `service.name`. A
//! malformed endpoint (not an `http(s)` URL) or a ratio outside `[0, 1]` stops the router at
//! start-up. Each request is a `graphql` span (child of the client's `traceparent` when it is
//! valid) and each subgraph request a `subgraph.fetch` span whose context is the `traceparent`
//! the subgraph receives. Without export, the router still propagates W3C `traceparent` by
//! hand (see `pipeline::headers`).
//!
//! Environment: `ROUTER_SERVICE_NAME`.

use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// The name in logs, and the `service.name` of exported spans unless `OTEL_SERVICE_NAME`
    /// is set.
    pub service_name: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            service_name: "router".to_owned(),
        }
    }
}

impl TelemetryConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.service_name.trim().is_empty() {
            return Err(ConfigError::invalid(
                "telemetry.service_name",
                "must not be empty",
            ));
        }
        Ok(())
    }
}
