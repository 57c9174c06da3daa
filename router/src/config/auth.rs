//! `auth`: verification of `Authorization: Bearer` access tokens at the edge.
//!
//! Tokens are checked against the users service's JWKS (cached; refetched when a token
//! names an unknown `kid`) and must carry the configured issuer and audience. A request
//! without a token is anonymous; the subgraphs decide what anonymous callers may do.
//! With `enabled: false` the router forwards tokens unverified (subgraphs still verify).
//!
//! Environment: `ROUTER_AUTH_ENABLED`, `ROUTER_JWKS_URL`, `ROUTER_JWT_ISSUER`,
//! `ROUTER_JWT_AUDIENCE`, `ROUTER_JWT_LEEWAY_SECS`.

use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub enabled: bool,
    pub jwks_url: String,
    pub issuer: String,
    pub audience: String,
    /// Clock skew tolerated on `exp`.
    pub leeway_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            jwks_url: "http://127.0.0.1:4004/.well-known/jwks.json".to_owned(),
            issuer: "commerce-users".to_owned(),
            audience: "commerce".to_owned(),
            leeway_secs: 30,
        }
    }
}

impl AuthConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        if !(self.jwks_url.starts_with("http://") || self.jwks_url.starts_with("https://")) {
            return Err(ConfigError::invalid(
                "auth.jwks_url",
                "must be an http(s) URL",
            ));
        }
        if self.issuer.trim().is_empty() {
            return Err(ConfigError::invalid("auth.issuer", "must not be empty"));
        }
        if self.leeway_secs > 300 {
            return Err(ConfigError::invalid(
                "auth.leeway_secs",
                "must be at most 300 seconds",
            ));
        }
        if self.audience.trim().is_empty() {
            return Err(ConfigError::invalid("auth.audience", "must not be empty"));
        }
        Ok(())
    }
}
