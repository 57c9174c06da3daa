//! `subgraphs`: how the router talks to subgraphs.
//!
//! `urls` overrides routing URLs of the supergraph per subgraph name, so one composed
//! supergraph serves every environment.
//!
//! Every subgraph request carries `shared_secret` in `x-subgraph-secret` when one is set;
//! subgraphs configured with the same `SUBGRAPH_SHARED_SECRET` answer nothing else, so the
//! internal network is no way around the router's limits. It is read from the environment
//! only (`ROUTER_SUBGRAPH_SECRET`, or a file named by `ROUTER_SUBGRAPH_SECRET_FILE`), never
//! from the YAML file, and the production profile refuses to start without it.
//!
//! Environment: `ROUTER_SUBGRAPH_TIMEOUT_MS`, `ROUTER_SUBGRAPH_URLS`
//! (`name=url,name=url`), `ROUTER_SUBGRAPH_SECRET` / `ROUTER_SUBGRAPH_SECRET_FILE`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{ConfigError, Profile, Secret};

/// The variable holding the secret sent to subgraphs.
pub const SUBGRAPH_SECRET_ENV: &str = "ROUTER_SUBGRAPH_SECRET";

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubgraphsConfig {
    /// Deadline of one subgraph HTTP request.
    pub timeout_ms: u64,
    pub urls: BTreeMap<String, String>,
    /// Sent to every subgraph in `x-subgraph-secret` (environment only).
    #[serde(skip)]
    pub shared_secret: Option<Secret>,
}

impl Default for SubgraphsConfig {
    fn default() -> Self {
        Self {
            timeout_ms: 10_000,
            urls: BTreeMap::new(),
            shared_secret: None,
        }
    }
}

impl SubgraphsConfig {
    /// The production profile needs the secret; any secret must be long enough.
    pub(crate) fn validate_secret(&self, profile: Profile) -> Result<(), ConfigError> {
        platform::internal::check_secret(SUBGRAPH_SECRET_ENV, self.shared_secret.as_ref(), profile)
            .map_err(ConfigError::from)
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.timeout_ms == 0 {
            return Err(ConfigError::invalid(
                "subgraphs.timeout_ms",
                "must be greater than 0",
            ));
        }
        for (name, url) in &self.urls {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError::invalid(
                    "subgraphs.urls",
                    format!("URL for `{name}` must be http(s)"),
                ));
            }
        }
        Ok(())
    }
}
