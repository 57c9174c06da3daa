//! Test support for services and suites that run payments (feature `testing`).
//!
//! Stripe's API is the only thing tests fake: [`FakeStripe`] is a local HTTP server that
//! answers the endpoints payments calls (Checkout Sessions and refunds), replays answers by
//! idempotency key as Stripe does, and records every request so tests can assert what was
//! sent. [`sign`] and [`session_event`] make webhook deliveries exactly as Stripe does.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};
use uuid::Uuid;

/// The webhook secret test suites configure (`STRIPE_WEBHOOK_SECRETS`).
pub const WEBHOOK_SECRET: &str = "whsec_test_current";
/// A second secret, as during a rotation.
pub const OLD_WEBHOOK_SECRET: &str = "whsec_test_previous";

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub idempotency_key: Option<String>,
    pub authorization: Option<String>,
    pub form: Vec<(String, String)>,
}

impl Recorded {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct FakeState {
    requests: Mutex<Vec<Recorded>>,
    /// Answers by idempotency key, as Stripe replays them.
    replies: Mutex<HashMap<String, Value>>,
    fail_next: AtomicUsize,
    base: Mutex<String>,
}

#[derive(Clone)]
pub struct FakeStripe {
    pub url: String,
    state: Arc<FakeState>,
}

impl FakeStripe {
    pub async fn start() -> Self {
        let state = Arc::new(FakeState::default());
        let app = Router::new()
            .route("/v1/checkout/sessions", post(create_session))
            .route("/v1/checkout/sessions/{id}/expire", post(expire_session))
            .route("/v1/refunds", post(create_refund))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the Stripe stand-in");
        let addr: SocketAddr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let url = format!("http://{addr}/");
        *lock(&state.base) = url.clone();
        Self { url, state }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state.requests).clone()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Ids of the sessions expired through the API, in order.
    pub fn expired_sessions(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter_map(|r| {
                r.path
                    .strip_prefix("/v1/checkout/sessions/")?
                    .strip_suffix("/expire")
                    .map(str::to_owned)
            })
            .collect()
    }

    /// The next `n` requests answer 500 (after being recorded).
    pub fn fail_next(&self, n: usize) {
        self.state.fail_next.store(n, Ordering::SeqCst);
    }
}

fn record(state: &FakeState, path: &str, headers: &HeaderMap, body: &Bytes) -> Recorded {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let rec = Recorded {
        method: "POST".into(),
        path: path.into(),
        idempotency_key: header("idempotency-key"),
        authorization: header("authorization"),
        form,
    };
    lock(&state.requests).push(rec.clone());
    rec
}

fn should_fail(state: &FakeState) -> Option<Response> {
    let failed = state
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    failed.then(|| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": { "type": "api_error", "message": "something broke at the stand-in" } })),
        )
            .into_response()
    })
}

fn replay_or(state: &FakeState, key: &Option<String>, make: impl FnOnce() -> Value) -> Value {
    let mut replies = lock(&state.replies);
    match key {
        Some(k) => replies.entry(k.clone()).or_insert_with(make).clone(),
        None => make(),
    }
}

async fn create_session(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rec = record(&state, "/v1/checkout/sessions", &headers, &body);
    if let Some(failure) = should_fail(&state) {
        return failure;
    }
    let base = lock(&state.base).clone();
    let reply = replay_or(&state, &rec.idempotency_key, || {
        let id = format!("cs_test_{}", Uuid::new_v4().simple());
        let now = chrono::Utc::now().timestamp();
        let mut metadata = serde_json::Map::new();
        for (k, v) in &rec.form {
            if let Some(key) = k
                .strip_prefix("metadata[")
                .and_then(|k| k.strip_suffix(']'))
            {
                metadata.insert(key.to_owned(), Value::String(v.clone()));
            }
        }
        let total: i64 = (0..)
            .map_while(|i| {
                let price = rec
                    .field(&format!("line_items[{i}][price_data][unit_amount]"))?
                    .parse::<i64>()
                    .ok()?;
                let qty = rec
                    .field(&format!("line_items[{i}][quantity]"))?
                    .parse::<i64>()
                    .ok()?;
                Some(price * qty)
            })
            .sum();
        json!({
            "id": id,
            "object": "checkout.session",
            "amount_total": total,
            "currency": rec.field("line_items[0][price_data][currency]"),
            "automatic_tax": { "enabled": false, "liability": null, "provider": null, "status": null },
            "client_reference_id": rec.field("client_reference_id"),
            "created": now,
            "expires_at": now + 24 * 3600,
            "custom_fields": [],
            "custom_text": { "after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null },
            "livemode": false,
            "metadata": metadata,
            "mode": "payment",
            "payment_intent": null,
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "shipping_options": [],
            "status": "open",
            "success_url": rec.field("success_url"),
            "cancel_url": rec.field("cancel_url"),
            "url": format!("{base}pay/{id}"),
        })
    });
    Json(reply).into_response()
}

/// `POST /v1/checkout/sessions/{id}/expire`: an open session becomes expired; anything else
/// is refused as Stripe refuses it.
async fn expire_session(
    State(state): State<Arc<FakeState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(
        &state,
        &format!("/v1/checkout/sessions/{id}/expire"),
        &headers,
        &body,
    );
    if let Some(failure) = should_fail(&state) {
        return failure;
    }
    let mut replies = lock(&state.replies);
    let Some(session) = replies.values_mut().find(|v| v["id"] == id.as_str()) else {
        let error = json!({ "error": { "type": "invalid_request_error", "message": "No such checkout.session" } });
        return (StatusCode::NOT_FOUND, Json(error)).into_response();
    };
    if session["status"] != "open" {
        let error = json!({ "error": { "type": "invalid_request_error", "message": "Only Checkout Sessions with a status in [\"open\"] can be expired." } });
        return (StatusCode::BAD_REQUEST, Json(error)).into_response();
    }
    session["status"] = json!("expired");
    session["url"] = Value::Null;
    Json(session.clone()).into_response()
}

async fn create_refund(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rec = record(&state, "/v1/refunds", &headers, &body);
    if let Some(failure) = should_fail(&state) {
        return failure;
    }
    let reply = replay_or(&state, &rec.idempotency_key, || {
        json!({
            "id": format!("re_test_{}", Uuid::new_v4().simple()),
            "object": "refund",
            "amount": rec.field("amount").and_then(|a| a.parse::<i64>().ok()).unwrap_or(0),
            "created": chrono::Utc::now().timestamp(),
            "currency": "eur",
            "payment_intent": rec.field("payment_intent"),
            "status": "succeeded",
            "metadata": {},
        })
    });
    Json(reply).into_response()
}

/// `Stripe-Signature` exactly as Stripe computes it.
pub fn sign(body: &str, secret: &str, timestamp: i64) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// A Checkout Session event as Stripe sends it.
pub fn session_event(
    event_type: &str,
    session_id: &str,
    order_id: Uuid,
    payment_id: Uuid,
    amount: i64,
    currency: &str,
) -> Value {
    json!({
        "id": format!("evt_{}", Uuid::new_v4().simple()),
        "object": "event",
        "api_version": "2025-11-17.clover",
        "created": chrono::Utc::now().timestamp(),
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": event_type,
        "data": { "object": {
            "id": session_id,
            "object": "checkout.session",
            "amount_total": amount,
            "currency": currency,
            "client_reference_id": order_id.to_string(),
            "metadata": { "order_id": order_id.to_string(), "payment_id": payment_id.to_string() },
            "mode": "payment",
            "payment_intent": format!("pi_{}", payment_id.simple()),
            "payment_status": if event_type == "checkout.session.expired" || event_type.ends_with("failed") { "unpaid" } else { "paid" },
            "status": if event_type == "checkout.session.expired" { "expired" } else { "complete" },
        }},
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
