//! `dedup`: sharing one in-flight subgraph fetch between identical concurrent fetches.
//!
//! Only fetches with identical subgraph, body and forwarded headers are shared, so two
//! users never see each other's data.
//!
//! Environment: `ROUTER_DEDUP_ENABLED`.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DedupConfig {
    pub enabled: bool,
}

impl Default for DedupConfig {
    fn default() -> Self {
        Self { enabled: true }
    }
}
