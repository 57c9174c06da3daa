//! Authentication stage: verifies a bearer token before anything reaches a subgraph.
//!
//! The router does not decide what a caller may do (subgraphs enforce roles and
//! ownership); it only makes sure that a token it forwards is genuine, so a forged or
//! expired token is refused once, at the edge, instead of fanning out to every subgraph.

use std::time::Duration;

use http::HeaderMap;
use platform::auth::{AuthError, JwksVerifier, Principal, TokenPolicy, bearer_token};

use super::rejection::Rejection;
use crate::config::AuthConfig;

/// The edge's token check; a no-op when authentication is disabled in the config.
#[derive(Debug)]
pub struct EdgeAuth {
    verifier: Option<JwksVerifier>,
}

impl EdgeAuth {
    pub fn new(config: &AuthConfig) -> Self {
        let verifier = config.enabled.then(|| {
            JwksVerifier::remote(
                config.jwks_url.clone(),
                TokenPolicy {
                    issuer: config.issuer.clone(),
                    audience: config.audience.clone(),
                    leeway: Duration::from_secs(config.leeway_secs),
                },
            )
        });
        Self { verifier }
    }

    /// The verified caller, `None` for an anonymous request, or the rejection.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Option<Principal>, Rejection> {
        let Some(verifier) = &self.verifier else {
            return Ok(None);
        };
        let token = match bearer_token(headers) {
            Ok(Some(token)) => token,
            Ok(None) => return Ok(None),
            Err(e) => return Err(Rejection::Unauthenticated(e.to_string())),
        };
        match verifier.verify(token).await {
            Ok(principal) => Ok(Some(principal)),
            Err(AuthError::KeysUnavailable) => Err(Rejection::AuthenticationUnavailable),
            Err(e) => Err(Rejection::Unauthenticated(e.to_string())),
        }
    }
}
