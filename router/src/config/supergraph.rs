//! `supergraph`: which composed supergraph file is served and how often it is re-read.
//!
//! With `compose_from` set (a `supergraph.yaml`), `serve` composes the subgraphs at
//! start-up instead of reading `path`, refuses to start on composition errors, and does
//! not hot-reload.
//!
//! Environment: `ROUTER_SUPERGRAPH_PATH`, `ROUTER_SUPERGRAPH_POLL_SECS` (0 disables hot
//! reload), `ROUTER_SUPERGRAPH_COMPOSE_FROM`.

use std::path::PathBuf;

use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupergraphConfig {
    /// The composed supergraph SDL (written by `router compose`).
    pub path: PathBuf,
    /// Seconds between checks of the file for changes; 0 turns hot reload off.
    pub poll_interval_secs: u64,
    /// Compose from this `supergraph.yaml` at start-up instead of reading `path`.
    pub compose_from: Option<PathBuf>,
}

impl Default for SupergraphConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("schema/supergraph.graphql"),
            poll_interval_secs: 3,
            compose_from: None,
        }
    }
}

impl SupergraphConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.path.as_os_str().is_empty() {
            return Err(ConfigError::invalid("supergraph.path", "must not be empty"));
        }
        Ok(())
    }
}
