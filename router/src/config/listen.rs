//! `listen`: where the router accepts client connections, and where its metrics are served.
//!
//! `/metrics` never shares the client port: it is served on `metrics_addr`, an address on the
//! internal network (unset = not served).
//!
//! Environment: `ROUTER_LISTEN_ADDR` (e.g. `0.0.0.0:4000`), `ROUTER_SHUTDOWN_GRACE_SECS`,
//! `ROUTER_METRICS_ADDR`.

use std::net::SocketAddr;

use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListenConfig {
    /// Socket address to bind; port 0 picks a free port (tests).
    pub addr: SocketAddr,
    /// How long in-flight requests may run after a shutdown signal.
    pub shutdown_grace_secs: u64,
    /// Where `/metrics` is served (internal); unset = not served.
    pub metrics_addr: Option<SocketAddr>,
}

impl Default for ListenConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 4000)),
            shutdown_grace_secs: 10,
            metrics_addr: None,
        }
    }
}

impl ListenConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self
            .metrics_addr
            .is_some_and(|m| m.port() != 0 && m == self.addr)
        {
            return Err(ConfigError::invalid(
                "listen.metrics_addr",
                "must differ from listen.addr: metrics stay off the client port",
            ));
        }
        if self.shutdown_grace_secs > 300 {
            return Err(ConfigError::invalid(
                "listen.shutdown_grace_secs",
                "must be at most 300 seconds",
            ));
        }
        Ok(())
    }
}
