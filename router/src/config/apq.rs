//! `apq`: automatic persisted queries, the protocol of Apollo's persisted-query link.
//!
//! A client first sends only `extensions.persistedQuery.sha256Hash`; when the router does
//! not know the hash it answers `PERSISTED_QUERY_NOT_FOUND`, the client sends the query
//! once with the hash, and the router keeps it (after checking the hash and that the
//! query parses and validates) so later requests, GET ones included, need only the hash.
//! The cache is bounded (`cache_size` operations, least recently used dropped first) and
//! belongs to one router process: another replica may answer `PERSISTED_QUERY_NOT_FOUND`
//! once more, which clients handle by sending the query again.
//!
//! In `persisted_operations.mode: safelist` nothing is registered: only hashes of the
//! manifest run, whatever this section says.
//!
//! Environment: `ROUTER_APQ_ENABLED`, `ROUTER_APQ_CACHE_SIZE`.

use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApqConfig {
    pub enabled: bool,
    /// Most operations kept.
    pub cache_size: usize,
}

impl Default for ApqConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            cache_size: 1_000,
        }
    }
}

impl ApqConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.enabled && self.cache_size == 0 {
            return Err(ConfigError::invalid(
                "apq.cache_size",
                "must be greater than 0 (set apq.enabled: false to turn APQ off)",
            ));
        }
        Ok(())
    }
}
