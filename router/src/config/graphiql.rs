//! `graphiql`: the in-browser IDE served at `/` and `/graphiql`.
//!
//! Its scripts come from `assets_dir` when that folder holds them (see
//! `router/graphiql/install.sh`), otherwise from a public CDN.
//!
//! Environment: `ROUTER_GRAPHIQL_ENABLED`, `ROUTER_GRAPHIQL_ASSETS_DIR`.

use std::path::PathBuf;

use serde::Deserialize;

use super::Profile;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GraphiqlConfig {
    /// Unset means the profile decides: on in `dev`, off in `production`.
    pub enabled: Option<bool>,
    pub assets_dir: PathBuf,
}

impl Default for GraphiqlConfig {
    fn default() -> Self {
        Self {
            enabled: None,
            assets_dir: PathBuf::from("router/graphiql/assets"),
        }
    }
}

impl GraphiqlConfig {
    pub fn enabled_for(&self, profile: Profile) -> bool {
        self.enabled.unwrap_or(profile == Profile::Dev)
    }
}
