//! `subgraphs`: how the router talks to subgraphs.
//!
//! `urls` overrides routing URLs of the supergraph per subgraph name, so one composed
//! supergraph serves every environment.
//!
//! Environment: `ROUTER_SUBGRAPH_TIMEOUT_MS`, `ROUTER_SUBGRAPH_URLS`
//! (`name=url,name=url`).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{ConfigError, Env, env_parse};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubgraphsConfig {
    /// Deadline of one subgraph HTTP request.
    pub timeout_ms: u64,
    pub urls: BTreeMap<String, String>,
}

impl Default for SubgraphsConfig {
    fn default() -> Self {
        Self {
            timeout_ms: 10_000,
            urls: BTreeMap::new(),
        }
    }
}

impl SubgraphsConfig {
    pub(crate) fn apply_env(&mut self, env: &dyn Env) -> Result<(), ConfigError> {
        if let Some(ms) = env_parse(env, "ROUTER_SUBGRAPH_TIMEOUT_MS")? {
            self.timeout_ms = ms;
        }
        if let Some(list) = env.var("ROUTER_SUBGRAPH_URLS") {
            for pair in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let (name, url) = pair.split_once('=').ok_or_else(|| ConfigError::Env {
                    var: "ROUTER_SUBGRAPH_URLS".to_owned(),
                    reason: format!("`{pair}` is not name=url"),
                })?;
                self.urls
                    .insert(name.trim().to_owned(), url.trim().to_owned());
            }
        }
        Ok(())
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
