//! `cors`: which browser origins may call the router.
//!
//! Empty `allow_origins` means no cross-origin access at all (no CORS headers are sent);
//! `["*"]` allows any origin but then credentials cannot be allowed, as browsers forbid it.
//!
//! Environment: `ROUTER_CORS_ALLOW_ORIGINS` (comma-separated).

use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorsConfig {
    pub allow_origins: Vec<String>,
    pub allow_credentials: bool,
    /// Extra request headers browsers may send besides the GraphQL and CSRF ones.
    pub allow_headers: Vec<String>,
    pub max_age_secs: u64,
}

impl Default for CorsConfig {
    fn default() -> Self {
        Self {
            allow_origins: Vec::new(),
            allow_credentials: false,
            allow_headers: Vec::new(),
            max_age_secs: 600,
        }
    }
}

impl CorsConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let wildcard = self.allow_origins.iter().any(|o| o == "*");
        if wildcard && self.allow_credentials {
            return Err(ConfigError::invalid(
                "cors.allow_credentials",
                "cannot be true when allow_origins contains \"*\"",
            ));
        }
        for origin in self.allow_origins.iter().filter(|o| *o != "*") {
            http::HeaderValue::from_str(origin).map_err(|_| {
                ConfigError::invalid(
                    "cors.allow_origins",
                    format!("`{origin}` is not a valid origin"),
                )
            })?;
            if !(origin.starts_with("http://") || origin.starts_with("https://")) {
                return Err(ConfigError::invalid(
                    "cors.allow_origins",
                    format!("`{origin}` must start with http:// or https://"),
                ));
            }
        }
        for name in &self.allow_headers {
            http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                ConfigError::invalid(
                    "cors.allow_headers",
                    format!("`{name}` is not a header name"),
                )
            })?;
        }
        Ok(())
    }
}
