//! The sandbox provider: checkout without Stripe, for local use and the embedded mode.
//!
//! `startCheckout` returns the URL of a small page served here (`/sandbox/checkout/<id>`).
//! Its "Pay" button builds the `checkout.session.completed` event Stripe would send (and the
//! `charge.succeeded` that carries the receipt), signs it with the webhook secret exactly as
//! Stripe does, and hands it to [`crate::webhook::receive`]: the same verification and the
//! same state changes as a real payment, so the rest of the system cannot tell the
//! difference. No money moves. These routes exist only when the sandbox is the provider.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use chrono::{Duration as ChronoDuration, Utc};
use kit::ApiError;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    AppState,
    payment::{self, PaymentProviderKind, PaymentStatus},
    provider::{
        CreatedRefund, CreatedSession, PaymentProvider, ProviderError, RefundRequest,
        SessionRequest,
    },
    webhook::{self, WebhookError},
};

/// How long a sandbox session stays payable, like Stripe's default of a day.
const SESSION_TTL: ChronoDuration = ChronoDuration::hours(24);

/// How many answers per kind the sandbox remembers for replay. Stripe keeps idempotency
/// keys for a day; a retry comes within seconds, so the newest answers are the ones worth
/// keeping, and memory stays bounded however many checkouts are started.
pub const REMEMBERED_ANSWERS: usize = 10_000;

/// Answers keyed by idempotency key, at most `capacity` of them; the oldest go first.
struct Bounded<V> {
    capacity: usize,
    entries: HashMap<String, V>,
    order: VecDeque<String>,
}

impl<V: Clone> Bounded<V> {
    fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    fn get_or_insert_with(&mut self, key: &str, make: impl FnOnce() -> V) -> V {
        if let Some(v) = self.entries.get(key) {
            return v.clone();
        }
        while self.entries.len() >= self.capacity {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.entries.remove(&oldest);
                }
                None => break,
            }
        }
        let value = make();
        self.entries.insert(key.to_owned(), value.clone());
        self.order.push_back(key.to_owned());
        value
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Sessions and refunds keyed by idempotency key, so retries get the first answer back as
/// they would from Stripe.
struct Remembered {
    sessions: Bounded<CreatedSession>,
    refunds: Bounded<CreatedRefund>,
}

pub struct SandboxProvider {
    public_url: String,
    remembered: Mutex<Remembered>,
}

impl SandboxProvider {
    pub fn new(public_url: impl Into<String>) -> Self {
        Self::with_capacity(public_url, REMEMBERED_ANSWERS)
    }

    /// Remembers at most `capacity` sessions and as many refunds.
    pub fn with_capacity(public_url: impl Into<String>, capacity: usize) -> Self {
        let remembered = Remembered {
            sessions: Bounded::new(capacity),
            refunds: Bounded::new(capacity),
        };
        Self {
            public_url: public_url.into(),
            remembered: Mutex::new(remembered),
        }
    }

    /// How many session and refund answers are held now.
    pub fn remembered_len(&self) -> (usize, usize) {
        let r = self.remembered();
        (r.sessions.len(), r.refunds.len())
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, Remembered> {
        self.remembered
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl PaymentProvider for SandboxProvider {
    fn kind(&self) -> PaymentProviderKind {
        PaymentProviderKind::Sandbox
    }

    async fn create_session(&self, req: &SessionRequest) -> Result<CreatedSession, ProviderError> {
        let mut remembered = self.remembered();
        let session = remembered
            .sessions
            .get_or_insert_with(&req.idempotency_key, || {
                let id = format!("cs_sandbox_{}", Uuid::new_v4().simple());
                CreatedSession {
                    url: format!("{}/sandbox/checkout/{id}", self.public_url),
                    id,
                    expires_at: Utc::now() + SESSION_TTL,
                }
            });
        Ok(session)
    }

    async fn expire_session(&self, _session_id: &str) -> Result<(), ProviderError> {
        // A sandbox session is payable only while its payment row still names it, so
        // replacing or closing the row's session is what expires it.
        Ok(())
    }

    async fn refund(&self, req: &RefundRequest) -> Result<CreatedRefund, ProviderError> {
        let mut remembered = self.remembered();
        let refund = remembered
            .refunds
            .get_or_insert_with(&req.idempotency_key, || CreatedRefund {
                id: format!("re_sandbox_{}", Uuid::new_v4().simple()),
            });
        Ok(refund)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("no such sandbox session")]
    UnknownSession,
    #[error("the session can no longer be paid")]
    NotPayable,
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<SandboxError> for ApiError {
    fn from(err: SandboxError) -> Self {
        match err {
            SandboxError::UnknownSession => ApiError::not_found("checkout session"),
            SandboxError::NotPayable => {
                ApiError::conflict("this checkout session can no longer be paid")
            }
            SandboxError::Webhook(e) => e.into(),
            SandboxError::Db(e) => ApiError::internal(e),
        }
    }
}

impl IntoResponse for SandboxError {
    fn into_response(self) -> Response {
        let err = ApiError::from(self);
        let status = StatusCode::from_u16(err.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            Html(page(
                "Checkout",
                &format!("<p>{}</p>", escape(&err.message)),
            )),
        )
            .into_response()
    }
}

pub fn routes(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/sandbox/checkout/{session_id}", get(checkout_page))
        .route("/sandbox/checkout/{session_id}/pay", post(pay))
        .route("/sandbox/receipt/{payment_id}", get(receipt_page))
        .route("/sandbox/return", get(return_page))
        .with_state(state)
}

async fn open_session(state: &AppState, session_id: &str) -> Result<payment::Model, SandboxError> {
    if !session_id.starts_with("cs_sandbox_") {
        return Err(SandboxError::UnknownSession);
    }
    payment::Entity::find()
        .filter(payment::Column::CheckoutSessionId.eq(session_id))
        .one(&state.db)
        .await?
        .ok_or(SandboxError::UnknownSession)
}

async fn checkout_page(
    State(state): State<Arc<AppState>>,
    Path(session_id): Path<String>,
) -> Result<Response, SandboxError> {
    let payment = open_session(&state, &session_id).await?;
    let amount = payment.money().map_err(|e| DbErr::Custom(e.message))?;
    let payable = payment.status == PaymentStatus::Pending.as_str()
        && payment.session_expires_at.is_some_and(|t| t > Utc::now());
    let action = if payable {
        format!(
            r#"<form method="post" action="/sandbox/checkout/{}/pay"><button type="submit">Pay {}</button></form>
<p><a href="{}">Cancel</a></p>"#,
            escape(&session_id),
            escape(&amount.to_string()),
            escape(&state.cancel_url),
        )
    } else {
        format!(
            "<p>This checkout is {}.</p>",
            escape(&payment.status.to_ascii_lowercase())
        )
    };
    let body = format!(
        "<p>Sandbox checkout: no real money moves.</p><p>Order <code>{}</code></p><p>Total <strong>{}</strong></p>{action}",
        payment.order_id,
        escape(&amount.to_string()),
    );
    Ok(Html(page("Sandbox checkout", &body)).into_response())
}

/// The "Pay" button: completes the session through the webhook, signed like Stripe would.
async fn pay(
    State(state): State<Arc<AppState>>,
    Path(session_id): Path<String>,
) -> Result<Response, SandboxError> {
    let payment = open_session(&state, &session_id).await?;
    if payment.status != PaymentStatus::Pending.as_str()
        || payment.session_expires_at.is_none_or(|t| t <= Utc::now())
    {
        return Err(SandboxError::NotPayable);
    }
    let secret = state
        .webhook_secrets
        .first()
        .ok_or_else(|| DbErr::Custom("no webhook secret configured".into()))?;
    let intent = format!("pi_sandbox_{}", payment.id.simple());
    let now = Utc::now().timestamp();
    let completed = serde_json::json!({
        "id": format!("evt_sandbox_{}", Uuid::new_v4().simple()),
        "object": "event",
        "type": "checkout.session.completed",
        "created": now,
        "livemode": false,
        "pending_webhooks": 1,
        "data": { "object": {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "complete",
            "payment_status": "paid",
            "amount_total": payment.amount_minor,
            "currency": payment.currency.to_ascii_lowercase(),
            "client_reference_id": payment.order_id.to_string(),
            "payment_intent": intent,
            "metadata": { "order_id": payment.order_id.to_string(), "payment_id": payment.id.to_string() },
        }},
    });
    let charge = serde_json::json!({
        "id": format!("evt_sandbox_{}", Uuid::new_v4().simple()),
        "object": "event",
        "type": "charge.succeeded",
        "created": now,
        "livemode": false,
        "pending_webhooks": 1,
        "data": { "object": {
            "id": format!("ch_sandbox_{}", payment.id.simple()),
            "object": "charge",
            "amount": payment.amount_minor,
            "currency": payment.currency.to_ascii_lowercase(),
            "payment_intent": intent,
            "receipt_url": format!("{}/sandbox/receipt/{}", state.public_url, payment.id),
        }},
    });
    for event in [completed, charge] {
        let body = serde_json::to_vec(&event).map_err(|e| DbErr::Custom(e.to_string()))?;
        let signature = webhook::sign(&body, secret, now);
        webhook::receive(&state, Some(&signature), &body).await?;
    }
    Ok(Redirect::to(&state.success_url).into_response())
}

async fn receipt_page(
    State(state): State<Arc<AppState>>,
    Path(payment_id): Path<Uuid>,
) -> Result<Response, SandboxError> {
    let payment = payment::Entity::find_by_id(payment_id)
        .filter(payment::Column::Provider.eq(PaymentProviderKind::Sandbox.as_str()))
        .one(&state.db)
        .await?
        .ok_or(SandboxError::UnknownSession)?;
    let amount = payment.money().map_err(|e| DbErr::Custom(e.message))?;
    let body = format!(
        "<p>Sandbox receipt (no real money moved).</p><p>Order <code>{}</code></p><p>Paid <strong>{}</strong></p><p>Status {}</p>",
        payment.order_id,
        escape(&amount.to_string()),
        escape(&payment.status),
    );
    Ok(Html(page("Sandbox receipt", &body)).into_response())
}

#[derive(Deserialize)]
struct ReturnQuery {
    outcome: Option<String>,
}

async fn return_page(Query(q): Query<ReturnQuery>) -> impl IntoResponse {
    let text = match q.outcome.as_deref() {
        Some("success") => "Thank you, the payment went through.",
        _ => "The checkout was cancelled; nothing was charged.",
    };
    Html(page("Checkout", &format!("<p>{text}</p>")))
}

fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}}button{{font-size:1.1rem;padding:.5rem 1.5rem}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"#
    )
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[tokio::test]
    async fn sessions_and_refunds_are_idempotent() {
        let provider = SandboxProvider::new("http://localhost:4003");
        let req = SessionRequest {
            payment_id: Uuid::now_v7(),
            order_id: Uuid::now_v7(),
            currency: kit::Currency::parse("EUR").unwrap(),
            total_minor: 100,
            lines: vec![],
            idempotency_key: "k1".into(),
            success_url: "http://x/ok".into(),
            cancel_url: "http://x/cancel".into(),
        };
        let a = provider.create_session(&req).await.unwrap();
        let b = provider.create_session(&req).await.unwrap();
        assert_eq!(a, b);
        assert!(
            a.url
                .starts_with("http://localhost:4003/sandbox/checkout/cs_sandbox_")
        );
        let other = provider
            .create_session(&SessionRequest {
                idempotency_key: "k2".into(),
                ..req
            })
            .await
            .unwrap();
        assert_ne!(a.id, other.id);
    }

    fn request(key: String) -> SessionRequest {
        SessionRequest {
            payment_id: Uuid::now_v7(),
            order_id: Uuid::now_v7(),
            currency: kit::Currency::parse("EUR").unwrap(),
            total_minor: 100,
            lines: vec![],
            idempotency_key: key,
            success_url: "http://x/ok".into(),
            cancel_url: "http://x/cancel".into(),
        }
    }

    #[tokio::test]
    async fn remembered_answers_are_bounded_and_the_oldest_go_first() {
        let provider = SandboxProvider::with_capacity("http://localhost:4013", 3);
        let mut first = Vec::new();
        for i in 0..10 {
            first.push(
                provider
                    .create_session(&request(format!("k{i}")))
                    .await
                    .unwrap(),
            );
            let refund = RefundRequest {
                payment_id: Uuid::now_v7(),
                order_id: Uuid::now_v7(),
                payment_intent_id: "pi".into(),
                amount_minor: 1,
                idempotency_key: format!("r{i}"),
            };
            provider.refund(&refund).await.unwrap();
            let (sessions, refunds) = provider.remembered_len();
            assert!(
                sessions <= 3 && refunds <= 3,
                "{sessions} sessions, {refunds} refunds held"
            );
        }
        assert_eq!(provider.remembered_len(), (3, 3));
        // The newest three still replay; the oldest was forgotten and gets a new session.
        for (i, session) in first.iter().enumerate().skip(7) {
            assert_eq!(
                &provider
                    .create_session(&request(format!("k{i}")))
                    .await
                    .unwrap(),
                session
            );
        }
        assert_ne!(
            provider
                .create_session(&request("k0".into()))
                .await
                .unwrap(),
            first[0]
        );
        assert_eq!(provider.remembered_len().0, 3);
    }
}
