//! `csrf`: cross-site request forgery prevention for "simple" requests.
//!
//! A browser sends a cross-origin GET, or a POST with a form-like content type, without a
//! CORS preflight, so such a request could be forged by any page the user visits. The
//! router rejects them unless they carry one of `required_headers` with a non-empty
//! value, which a browser only sends after a successful preflight. A request of any method
//! with a JSON `Content-Type` is not simple (browsers preflight it), so Apollo Client's
//! GET requests, which carry one, pass.
//!
//! Environment: `ROUTER_CSRF_ENABLED`.

use serde::Deserialize;

use super::ConfigError;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CsrfConfig {
    pub enabled: bool,
    /// Any one of these headers, non-empty, marks a request as preflighted.
    pub required_headers: Vec<String>,
}

impl Default for CsrfConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            required_headers: vec![
                "apollo-require-preflight".to_owned(),
                "x-apollo-operation-name".to_owned(),
            ],
        }
    }
}

impl CsrfConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.enabled && self.required_headers.is_empty() {
            return Err(ConfigError::invalid(
                "csrf.required_headers",
                "must name at least one header while CSRF prevention is enabled",
            ));
        }
        for name in &self.required_headers {
            http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                ConfigError::invalid(
                    "csrf.required_headers",
                    format!("`{name}` is not a header name"),
                )
            })?;
        }
        Ok(())
    }
}
