//! `persisted_operations`: operations registered ahead of time in a manifest.
//!
//! Modes:
//! - `off`: the manifest is ignored and only full query text is accepted;
//! - `allow`: a request may name a manifest operation by id (hash) or send full text;
//! - `safelist`: only manifest operations run, named by id, or sent as text identical to
//!   a manifest entry unless `require_id` is set.
//!
//! The manifest is JSON: either an object mapping ids (usually the SHA-256 of the body) to
//! query text, or Apollo's persisted-query manifest (`{"operations":[{"id","body"}]}`).
//!
//! Environment: `ROUTER_PERSISTED_MODE`, `ROUTER_PERSISTED_MANIFEST`.

use std::{path::PathBuf, str::FromStr};

use serde::{Deserialize, Serialize};

use super::ConfigError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PersistedMode {
    #[default]
    Off,
    Allow,
    Safelist,
}

impl FromStr for PersistedMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "off" => Ok(Self::Off),
            "allow" => Ok(Self::Allow),
            "safelist" => Ok(Self::Safelist),
            other => Err(format!(
                "unknown mode `{other}` (expected off, allow or safelist)"
            )),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PersistedConfig {
    pub mode: PersistedMode,
    pub manifest: Option<PathBuf>,
    /// In safelist mode, refuse query text even when it matches a manifest entry.
    pub require_id: bool,
}

impl PersistedConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.mode != PersistedMode::Off && self.manifest.is_none() {
            return Err(ConfigError::invalid(
                "persisted_operations.manifest",
                "is required unless mode is off",
            ));
        }
        Ok(())
    }
}
