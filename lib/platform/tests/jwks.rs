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
use jsonwebtoken::jwk::JwkSet;
use platform::auth::{AuthError, JwksVerifier, Role, SigningKey, TokenPolicy, jwks_of, new_claims};
use uuid::Uuid;

#[derive(Clone)]
struct Served {
    jwks: Arc<RwLock<JwkSet>>,
    hits: Arc<AtomicUsize>,
}

async fn serve_jwks(initial: JwkSet) -> (String, Served) {
    let served = Served {
        jwks: Arc::new(RwLock::new(initial)),
        hits: Arc::new(AtomicUsize::new(0)),
    };
    let app = Router::new()
        .route(
            "/.well-known/jwks.json",
            get(|State(s): State<Served>| async move {
                s.hits.fetch_add(1, Ordering::SeqCst);
                Json(s.jwks.read().unwrap().clone())
            }),
        )
        .with_state(served.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/.well-known/jwks.json"), served)
}

fn token(key: &SigningKey) -> String {
    key.sign(&new_claims(
        &TokenPolicy::default(),
        Uuid::now_v7(),
        Role::Customer,
        Duration::from_secs(60),
    ))
    .unwrap()
}

#[tokio::test]
async fn fetches_once_caches_and_refetches_for_a_new_kid() {
    let old = SigningKey::generate();
    let (url, served) = serve_jwks(jwks_of([&old]).unwrap()).await;
    let cooldown = Duration::from_millis(300);
    let verifier =
        JwksVerifier::remote(url, TokenPolicy::default()).with_refresh_cooldown(cooldown);

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
        assert_eq!(
            verifier.verify(&token(&stranger)).await,
            Err(AuthError::UnknownKey)
        );
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
    assert_eq!(
        verifier.verify(&token(&key)).await,
        Err(AuthError::KeysUnavailable)
    );
}

/// A JWKS endpoint that counts requests and answers 503 (users is down or broken).
async fn serve_down() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new().route(
        "/jwks.json",
        get(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                axum::http::StatusCode::SERVICE_UNAVAILABLE
            }
        }),
    );
    let (addr, _shutdown) = platform::testing::serve_on_loopback(app).await;
    std::mem::forget(_shutdown);
    (format!("http://{addr}/jwks.json"), hits)
}

#[tokio::test]
async fn a_failed_fetch_is_cached_for_the_cooldown_even_without_keys() {
    let (url, hits) = serve_down().await;
    let verifier = Arc::new(
        JwksVerifier::remote(url, TokenPolicy::default())
            .with_refresh_cooldown(Duration::from_secs(3600)),
    );
    let key = SigningKey::generate();
    assert_eq!(
        verifier.verify(&token(&key)).await,
        Err(AuthError::KeysUnavailable)
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // Twenty more tokens (sequential and concurrent) within the cool-down: no fetch each.
    for _ in 0..10 {
        assert_eq!(
            verifier.verify(&token(&key)).await,
            Err(AuthError::KeysUnavailable)
        );
    }
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (verifier, t) = (verifier.clone(), token(&key));
            tokio::spawn(async move { verifier.verify(&t).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Err(AuthError::KeysUnavailable));
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "the failure is remembered for the cool-down"
    );
}

/// A JWKS endpoint that holds every request until the test lets it answer.
struct SlowJwks {
    url: String,
    hits: Arc<AtomicUsize>,
    release: Arc<tokio::sync::Notify>,
}

async fn serve_slow(jwks: JwkSet) -> SlowJwks {
    let hits = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(tokio::sync::Notify::new());
    let (counter, gate) = (hits.clone(), release.clone());
    let app = Router::new().route(
        "/jwks.json",
        get(move || {
            let (counter, gate, jwks) = (counter.clone(), gate.clone(), jwks.clone());
            async move {
                let released = gate.notified();
                counter.fetch_add(1, Ordering::SeqCst);
                released.await;
                Json(jwks)
            }
        }),
    );
    let (addr, shutdown) = platform::testing::serve_on_loopback(app).await;
    std::mem::forget(shutdown);
    SlowJwks {
        url: format!("http://{addr}/jwks.json"),
        hits,
        release,
    }
}

#[tokio::test]
async fn waiters_share_one_slow_fetch_and_anonymous_requests_do_not_wait() {
    let key = SigningKey::generate();
    let slow = serve_slow(jwks_of([&key]).unwrap()).await;
    let verifier = Arc::new(JwksVerifier::remote(
        slow.url.clone(),
        TokenPolicy::default(),
    ));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (verifier, t) = (verifier.clone(), token(&key));
            tokio::spawn(async move { verifier.verify(&t).await })
        })
        .collect();
    platform::testing::eventually("the JWKS request to arrive", || {
        let hits = slow.hits.clone();
        async move { hits.load(Ordering::SeqCst) >= 1 }
    })
    .await;
    // The fetch is held: a request without a token is answered all the same.
    assert_eq!(
        verifier.caller(&axum::http::HeaderMap::new()).await,
        Ok(None)
    );
    assert!(
        tasks.iter().all(|t| !t.is_finished()),
        "token checks wait for the keys"
    );
    // Let every held request answer (one, if the fetch is shared).
    slow.release.notify_waiters();
    for task in tasks {
        assert!(
            task.await.unwrap().is_ok(),
            "every waiter gets the fetched key"
        );
    }
    assert_eq!(
        slow.hits.load(Ordering::SeqCst),
        1,
        "twenty waiters, one fetch"
    );
}

#[tokio::test]
async fn a_cancelled_waiter_does_not_cancel_the_shared_fetch() {
    let key = SigningKey::generate();
    let slow = serve_slow(jwks_of([&key]).unwrap()).await;
    let verifier = Arc::new(JwksVerifier::remote(
        slow.url.clone(),
        TokenPolicy::default(),
    ));
    let first = {
        let (verifier, t) = (verifier.clone(), token(&key));
        tokio::spawn(async move { verifier.verify(&t).await })
    };
    platform::testing::eventually("the JWKS request to arrive", || {
        let hits = slow.hits.clone();
        async move { hits.load(Ordering::SeqCst) >= 1 }
    })
    .await;
    first.abort();
    let _ = first.await;
    let second = {
        let (verifier, t) = (verifier.clone(), token(&key));
        tokio::spawn(async move { verifier.verify(&t).await })
    };
    slow.release.notify_waiters();
    assert!(second.await.unwrap().is_ok());
    assert_eq!(
        slow.hits.load(Ordering::SeqCst),
        1,
        "the second request joined the first one's fetch"
    );
}
