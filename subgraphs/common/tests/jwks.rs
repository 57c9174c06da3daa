//! Verifying tokens against a JWKS served over real HTTP, including key rotation.

use std::{
    net::SocketAddr,
    sync::{
        Arc, RwLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{Json, Router, extract::State, routing::get};
use common::auth::{AuthError, JwksVerifier, Role, SigningKey, TokenPolicy, jwks_of, new_claims};
use jsonwebtoken::jwk::JwkSet;
use uuid::Uuid;

#[derive(Clone)]
struct Served {
    jwks: Arc<RwLock<JwkSet>>,
    hits: Arc<AtomicUsize>,
}

async fn serve_jwks(initial: JwkSet) -> (String, Served) {
    let served = Served { jwks: Arc::new(RwLock::new(initial)), hits: Arc::new(AtomicUsize::new(0)) };
    let app = Router::new()
        .route(
            "/.well-known/jwks.json",
            get(|State(s): State<Served>| async move {
                s.hits.fetch_add(1, Ordering::SeqCst);
                Json(s.jwks.read().unwrap().clone())
            }),
        )
        .with_state(served.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/.well-known/jwks.json"), served)
}

fn token(key: &SigningKey) -> String {
    key.sign(&new_claims(&TokenPolicy::default(), Uuid::now_v7(), Role::Customer, Duration::from_secs(60))).unwrap()
}

#[tokio::test]
async fn fetches_once_caches_and_refetches_for_a_new_kid() {
    let old = SigningKey::generate();
    let (url, served) = serve_jwks(jwks_of([&old]).unwrap()).await;
    let cooldown = Duration::from_millis(300);
    let verifier = JwksVerifier::remote(url, TokenPolicy::default()).with_refresh_cooldown(cooldown);

    for _ in 0..5 {
        verifier.verify(&token(&old)).await.unwrap();
    }
    assert_eq!(served.hits.load(Ordering::SeqCst), 1, "keys are cached");

    // Rotation: users starts signing with a new key and publishes both.
    let new = SigningKey::generate();
    *served.jwks.write().unwrap() = jwks_of([&new, &old]).unwrap();
    tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
    verifier.verify(&token(&new)).await.unwrap();
    verifier.verify(&token(&old)).await.unwrap();
    assert_eq!(served.hits.load(Ordering::SeqCst), 2);

    // Unknown kids right after a fetch do not turn into a request each (cool-down).
    let stranger = SigningKey::generate();
    for _ in 0..10 {
        assert_eq!(verifier.verify(&token(&stranger)).await, Err(AuthError::UnknownKey));
    }
    assert_eq!(served.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn unreachable_jwks_is_a_distinct_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let verifier = JwksVerifier::remote(format!("http://{addr}/jwks.json"), TokenPolicy::default());
    let key = SigningKey::generate();
    assert_eq!(verifier.verify(&token(&key)).await, Err(AuthError::KeysUnavailable));
}
