//! Test support for the router's and the services' tests (feature `testing`): a server on
//! a loopback port, polling for asynchronous outcomes, signing keys with a verifier that
//! trusts them, and a fake OTLP collector.

pub mod otlp;

pub use otlp::{ExportedSpan, FakeCollector};

use std::{sync::Arc, time::Duration};

use uuid::Uuid;

use crate::auth::{JwksVerifier, Role, SigningKey, TokenPolicy, jwks_of, new_claims};

/// Serves `app` on a free loopback port until the returned token is cancelled.
pub async fn serve_on_loopback(
    app: axum::Router,
) -> (std::net::SocketAddr, tokio_util::sync::CancellationToken) {
    let listener = tokio::net::TcpListener::bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("binding a loopback port");
    let addr = listener.local_addr().expect("the bound address");
    let shutdown = tokio_util::sync::CancellationToken::new();
    let token = shutdown.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move { token.cancelled().await })
            .await;
    });
    (addr, shutdown)
}

/// A signing key and a verifier that trusts it, for tests that need callers.
pub struct TestKeys {
    pub key: SigningKey,
    pub verifier: Arc<JwksVerifier>,
    pub policy: TokenPolicy,
}

impl Default for TestKeys {
    fn default() -> Self {
        Self::new()
    }
}

impl TestKeys {
    pub fn new() -> Self {
        let key = SigningKey::generate();
        let policy = TokenPolicy::default();
        let jwks = jwks_of([&key]).expect("a generated key has a JWK");
        Self {
            verifier: Arc::new(JwksVerifier::from_jwks(&jwks, policy.clone())),
            key,
            policy,
        }
    }

    /// A valid access token for `user_id` with `role`.
    pub fn token(&self, user_id: Uuid, role: Role) -> String {
        self.key
            .sign(&new_claims(
                &self.policy,
                user_id,
                role,
                Duration::from_secs(900),
            ))
            .expect("signing works")
    }

    /// `Authorization` header value for `user_id` with `role`.
    pub fn bearer(&self, user_id: Uuid, role: Role) -> String {
        format!("Bearer {}", self.token(user_id, role))
    }
}

/// Polls `check` until it holds, failing the test after 30 seconds with `what`. It waits
/// for asynchronous delivery; it does not assert how fast anything is.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
