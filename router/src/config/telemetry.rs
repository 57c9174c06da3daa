//! `telemetry`: how the router identifies itself in logs and traces.
//!
//! Log output is set up by `common::telemetry`, shared with the subgraphs: `RUST_LOG`
//! filters and `LOG_FORMAT=json` switches to JSON lines. Trace context is propagated to
//! subgraphs with W3C `traceparent`; exporting spans over OTLP is not built in yet.
//!
//! Environment: `ROUTER_SERVICE_NAME`.

use serde::Deserialize;

use super::{ConfigError, Env};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
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
    pub(crate) fn apply_env(&mut self, env: &dyn Env) -> Result<(), ConfigError> {
        if let Some(name) = env.var("ROUTER_SERVICE_NAME") {
            self.service_name = name;
        }
        Ok(())
    }

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
