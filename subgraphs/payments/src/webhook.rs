//! `POST /webhooks/stripe`: verifying Stripe's events and applying them to payments.
//!
//! The signature is checked on the raw body before anything is parsed: an HMAC-SHA256 of
//! `"<t>.<body>"` under any configured secret (several while rotating), compared in
//! constant time, with `t` at most [`TOLERANCE_SECS`] away from now so a captured request
//! cannot be replayed later. Only then is the event read.
//!
//! Applying an event is one transaction: the Stripe event id is inserted first (its
//! primary key makes a redelivery a no-op that is still acknowledged), the payment row is
//! locked and moved forward, and the resulting `payments.*` event goes into the outbox.
//! The response is 2xx only after that commit, so Stripe retries anything not durably
//! recorded. A payment never moves backwards (a late failure after a success is recorded
//! and ignored), and an amount or currency other than the stored one is not applied but
//! flagged on the payment for a person to look at.
//!
//! The sandbox's "Pay" button goes through [`receive`] as well, with an event it signs.

use std::collections::HashMap;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use chrono::Utc;
use hmac::{Hmac, Mac};
use kit::{
    ApiError,
    config::Secret,
    contracts::{PaymentFailed, PaymentSucceeded},
    outbox,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, TransactionTrait, sea_query::OnConflict,
};
use serde::Deserialize;
use sha2::Sha256;
use uuid::Uuid;

use crate::{
    AppState,
    payment::{self, PaymentFlag, PaymentStatus},
};

/// How far a signature's timestamp may be from now, as Stripe's own libraries allow.
pub const TOLERANCE_SECS: i64 = 300;
/// Stripe's events are a few kilobytes; anything much larger is not from Stripe.
const MAX_BODY_BYTES: usize = 512 * 1024;
/// A header with more candidate signatures than this is not worth checking.
const MAX_SIGNATURES: usize = 8;

/// The Stripe events already handled, by Stripe's event id.
pub mod processed_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stripe_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: String,
        pub event_type: String,
        pub payment_id: Option<Uuid>,
        pub outcome: String,
        pub received_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing")]
    Missing,
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    #[error("no signature matches")]
    Mismatch,
    #[error("the signature timestamp is outside the tolerance")]
    Stale,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("the event could not be read: {0}")]
    Malformed(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<WebhookError> for ApiError {
    fn from(err: WebhookError) -> Self {
        match err {
            // Short and fixed: never echo the header or say which part failed beyond this.
            WebhookError::Signature(SignatureError::Stale) => ApiError::bad_input(
                "Stripe-Signature",
                "signature timestamp outside the tolerance",
            ),
            WebhookError::Signature(_) => {
                ApiError::bad_input("Stripe-Signature", "invalid signature")
            }
            WebhookError::Malformed(detail) => {
                tracing::warn!(%detail, "signed webhook event could not be read");
                ApiError::bad_input("body", "malformed event")
            }
            WebhookError::Db(e) => ApiError::internal(e),
        }
    }
}

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        let err = ApiError::from(self);
        let status = StatusCode::from_u16(err.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(serde_json::json!({ "error": err.message }))).into_response()
    }
}

/// What became of an acknowledged event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The payment moved.
    Applied,
    /// Seen before; nothing changed.
    Duplicate,
    /// Not an event type payments acts on.
    Ignored,
    /// No payment of ours matches the session.
    Unmatched,
    /// Too late to matter (e.g. a failure after a success).
    Stale,
    /// Completed, but the money has not arrived yet (delayed payment methods).
    AwaitingPayment,
    /// Amount or currency differ from the payment's; not applied, payment flagged.
    AmountMismatch,
}

impl Outcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Duplicate => "duplicate",
            Self::Ignored => "ignored",
            Self::Unmatched => "unmatched",
            Self::Stale => "stale",
            Self::AwaitingPayment => "awaiting_payment",
            Self::AmountMismatch => "amount_mismatch",
        }
    }
}

/// Checks a `Stripe-Signature` header (`t=<unix>,v1=<hex>[,v1=<hex>...]`) against the raw
/// body with each secret.
pub fn verify_signature(
    header: &str,
    body: &[u8],
    secrets: &[Secret],
    now: i64,
) -> Result<(), SignatureError> {
    let mut timestamp: Option<&str> = None;
    let mut candidates: Vec<[u8; 32]> = Vec::new();
    for part in header.split(',') {
        let (key, value) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match key {
            "t" if timestamp.is_none() => timestamp = Some(value),
            "t" => return Err(SignatureError::Malformed),
            "v1" if candidates.len() < MAX_SIGNATURES => {
                let mut sig = [0u8; 32];
                // A v1 value that is not 32 hex-encoded bytes can never match; skip it.
                if hex::decode_to_slice(value, &mut sig).is_ok() {
                    candidates.push(sig);
                }
            }
            // Other schemes (v0 test signatures) and surplus signatures are not trusted.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    let t: i64 = timestamp.parse().map_err(|_| SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Mismatch);
    }
    let matched = secrets.iter().any(|secret| {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()) else {
            return false;
        };
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        // `verify_slice` compares in constant time.
        candidates
            .iter()
            .any(|sig| mac.clone().verify_slice(sig).is_ok())
    });
    if !matched {
        return Err(SignatureError::Mismatch);
    }
    if (now - t).abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// The `Stripe-Signature` header for `body`, made exactly as Stripe makes it. Used by the
/// sandbox to send its events through [`receive`].
pub fn sign(body: &[u8], secret: &Secret, timestamp: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[derive(Debug, Deserialize)]
struct StripeEvent {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    data: EventData,
}

#[derive(Debug, Deserialize)]
struct EventData {
    object: serde_json::Value,
}

/// The fields of a Checkout Session payments needs.
#[derive(Debug, Deserialize)]
struct SessionObject {
    id: String,
    amount_total: Option<i64>,
    currency: Option<String>,
    payment_status: Option<String>,
    /// An id, or the whole object when the event was expanded.
    payment_intent: Option<serde_json::Value>,
    #[serde(default)]
    metadata: Option<HashMap<String, String>>,
}

/// The id of an expandable field: Stripe sends either the id or the whole object.
fn expandable_id(field: Option<&serde_json::Value>) -> Option<String> {
    match field? {
        serde_json::Value::String(id) => Some(id.clone()),
        serde_json::Value::Object(obj) => obj.get("id").and_then(|v| v.as_str()).map(str::to_owned),
        _ => None,
    }
}

impl SessionObject {
    fn payment_intent_id(&self) -> Option<String> {
        expandable_id(self.payment_intent.as_ref())
    }

    fn metadata_payment_id(&self) -> Option<Uuid> {
        self.metadata
            .as_ref()?
            .get("payment_id")
            .and_then(|id| Uuid::parse_str(id).ok())
    }
}

/// A charge, for its receipt.
#[derive(Debug, Deserialize)]
struct ChargeObject {
    payment_intent: Option<serde_json::Value>,
    receipt_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SessionEvent {
    Completed,
    AsyncSucceeded,
    AsyncFailed,
    Expired,
}

impl SessionEvent {
    fn parse(event_type: &str) -> Option<Self> {
        match event_type {
            "checkout.session.completed" => Some(Self::Completed),
            "checkout.session.async_payment_succeeded" => Some(Self::AsyncSucceeded),
            "checkout.session.async_payment_failed" => Some(Self::AsyncFailed),
            "checkout.session.expired" => Some(Self::Expired),
            _ => None,
        }
    }
}

/// `POST /webhooks/stripe`.
pub fn routes(state: std::sync::Arc<AppState>) -> Router {
    Router::new()
        .route("/webhooks/stripe", post(endpoint))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn endpoint(
    State(state): State<std::sync::Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    match receive(&state, signature, &body).await {
        Ok(outcome) => (
            StatusCode::OK,
            Json(serde_json::json!({ "received": true, "outcome": outcome.as_str() })),
        )
            .into_response(),
        Err(err) => {
            if let WebhookError::Signature(reason) = &err {
                tracing::warn!(%reason, "webhook rejected");
            }
            err.into_response()
        }
    }
}

/// Verifies and applies one delivery; `Ok` means it is durably recorded and may be acknowledged.
pub async fn receive(
    state: &AppState,
    signature: Option<&str>,
    body: &[u8],
) -> Result<Outcome, WebhookError> {
    let signature = signature.ok_or(SignatureError::Missing)?;
    verify_signature(
        signature,
        body,
        &state.webhook_secrets,
        Utc::now().timestamp(),
    )?;
    let event: StripeEvent =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let outcome = if let Some(kind) = SessionEvent::parse(&event.event_type) {
        let session: SessionObject = serde_json::from_value(event.data.object.clone())
            .map_err(|e| WebhookError::Malformed(e.to_string()))?;
        apply_session_event(state, &event, kind, &session).await?
    } else if event.event_type == "charge.succeeded" {
        let charge: ChargeObject = serde_json::from_value(event.data.object.clone())
            .map_err(|e| WebhookError::Malformed(e.to_string()))?;
        record_receipt(state, &event, &charge).await?
    } else {
        tracing::debug!(event_type = %event.event_type, "webhook event type not handled; acknowledged");
        Outcome::Ignored
    };
    state.metrics.webhook_outcome(outcome);
    tracing::info!(event_id = %event.id, event_type = %event.event_type, outcome = outcome.as_str(), "webhook handled");
    Ok(outcome)
}

/// Inserts the event id; `false` when it was already there (a redelivery).
async fn record_event(txn: &DatabaseTransaction, event: &StripeEvent) -> Result<bool, DbErr> {
    let inserted = processed_event::Entity::insert(processed_event::ActiveModel {
        event_id: Set(event.id.clone()),
        event_type: Set(event.event_type.clone()),
        payment_id: Set(None),
        outcome: Set("received".to_owned()),
        received_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(processed_event::Column::EventId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(inserted == 1)
}

async fn finish_event(
    txn: &DatabaseTransaction,
    event: &StripeEvent,
    payment_id: Option<Uuid>,
    outcome: Outcome,
) -> Result<(), DbErr> {
    processed_event::Entity::update_many()
        .col_expr(
            processed_event::Column::Outcome,
            sea_orm::sea_query::Expr::value(outcome.as_str()),
        )
        .col_expr(
            processed_event::Column::PaymentId,
            sea_orm::sea_query::Expr::value(payment_id),
        )
        .filter(processed_event::Column::EventId.eq(event.id.clone()))
        .exec(txn)
        .await?;
    Ok(())
}

/// The payment a session belongs to: by the session id of its current attempt, else by the
/// payment id in the session's metadata (a session of an earlier attempt).
async fn find_payment(
    txn: &DatabaseTransaction,
    session: &SessionObject,
) -> Result<Option<payment::Model>, DbErr> {
    let by_session = crate::store::lock_for_update(
        payment::Entity::find().filter(payment::Column::CheckoutSessionId.eq(session.id.clone())),
        txn,
    )
    .one(txn)
    .await?;
    if by_session.is_some() {
        return Ok(by_session);
    }
    match session.metadata_payment_id() {
        Some(id) => {
            crate::store::lock_for_update(payment::Entity::find_by_id(id), txn)
                .one(txn)
                .await
        }
        None => Ok(None),
    }
}

async fn apply_session_event(
    state: &AppState,
    event: &StripeEvent,
    kind: SessionEvent,
    session: &SessionObject,
) -> Result<Outcome, WebhookError> {
    let txn = state.db.begin().await?;
    if !record_event(&txn, event).await? {
        txn.rollback().await?;
        return Ok(Outcome::Duplicate);
    }
    let Some(payment) = find_payment(&txn, session).await? else {
        tracing::warn!(event_id = %event.id, session_id = %session.id, "webhook for a session no payment knows");
        finish_event(&txn, event, None, Outcome::Unmatched).await?;
        txn.commit().await?;
        return Ok(Outcome::Unmatched);
    };
    let payment_id = payment.id;
    let mut enqueued = false;
    let outcome = match kind {
        SessionEvent::Completed if session.payment_status.as_deref() != Some("paid") => {
            // Delayed methods (bank debits) complete the session before the money arrives;
            // `async_payment_succeeded` or `_failed` follows.
            Outcome::AwaitingPayment
        }
        SessionEvent::Completed | SessionEvent::AsyncSucceeded => {
            let outcome = succeed(&txn, payment, session).await?;
            enqueued = outcome == Outcome::Applied;
            outcome
        }
        SessionEvent::AsyncFailed => {
            let outcome = fail(&txn, payment, session).await?;
            enqueued = outcome == Outcome::Applied;
            outcome
        }
        SessionEvent::Expired => expire(&txn, payment, session).await?,
    };
    finish_event(&txn, event, Some(payment_id), outcome).await?;
    txn.commit().await?;
    if enqueued {
        state.relay.notify();
    }
    Ok(outcome)
}

fn status_of(payment: &payment::Model) -> Result<PaymentStatus, DbErr> {
    payment.status().map_err(|e| DbErr::Custom(e.message))
}

async fn succeed(
    txn: &DatabaseTransaction,
    payment: payment::Model,
    session: &SessionObject,
) -> Result<Outcome, DbErr> {
    if status_of(&payment)?.is_settled() {
        if payment.checkout_session_id.as_deref() != Some(session.id.as_str()) {
            // Money arrived through another session of the same order: the customer paid
            // twice. The order stays paid once; the extra charge is for a person to refund.
            tracing::error!(payment_id = %payment.id, session_id = %session.id, "second payment for one order; flagged");
            let mut model = payment.into_active_model();
            model.flag = Set(Some(PaymentFlag::DuplicatePayment.as_str().to_owned()));
            model.flag_detail = Set(Some(format!("session {} was paid as well", session.id)));
            model.updated_at = Set(Utc::now());
            model.update(txn).await?;
        }
        return Ok(Outcome::Stale);
    }
    let currency_matches = session
        .currency
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case(&payment.currency));
    if session.amount_total != Some(payment.amount_minor) || !currency_matches {
        let detail = format!(
            "session {} reported {} {}, expected {} {}",
            session.id,
            session
                .amount_total
                .map_or_else(|| "no amount".to_owned(), |a| a.to_string()),
            session.currency.as_deref().unwrap_or("no currency"),
            payment.amount_minor,
            payment.currency,
        );
        tracing::error!(payment_id = %payment.id, order_id = %payment.order_id, %detail, "payment amount mismatch; not applied");
        let mut model = payment.into_active_model();
        model.flag = Set(Some(PaymentFlag::AmountMismatch.as_str().to_owned()));
        model.flag_detail = Set(Some(detail));
        model.updated_at = Set(Utc::now());
        model.update(txn).await?;
        return Ok(Outcome::AmountMismatch);
    }
    let now = Utc::now();
    let event = PaymentSucceeded {
        payment_id: payment.id,
        order_id: payment.order_id,
        amount_minor: payment.amount_minor,
        currency: payment.currency.clone(),
    };
    let mut model = payment.into_active_model();
    model.status = Set(PaymentStatus::Succeeded.as_str().to_owned());
    model.checkout_session_id = Set(Some(session.id.clone()));
    if let Some(intent) = session.payment_intent_id() {
        model.payment_intent_id = Set(Some(intent));
    }
    model.failure_reason = Set(None);
    model.succeeded_at = Set(Some(now));
    model.updated_at = Set(now);
    model.update(txn).await?;
    outbox::publish(txn, &event).await?;
    Ok(Outcome::Applied)
}

async fn fail(
    txn: &DatabaseTransaction,
    payment: payment::Model,
    session: &SessionObject,
) -> Result<Outcome, DbErr> {
    let current = payment.checkout_session_id.as_deref() == Some(session.id.as_str());
    if status_of(&payment)? != PaymentStatus::Pending || !current {
        return Ok(Outcome::Stale);
    }
    let now = Utc::now();
    let reason = "the payment method was declined".to_owned();
    let event = PaymentFailed {
        payment_id: payment.id,
        order_id: payment.order_id,
        reason: reason.clone(),
    };
    let mut model = payment.into_active_model();
    model.status = Set(PaymentStatus::Failed.as_str().to_owned());
    model.failure_reason = Set(Some(reason));
    model.failed_at = Set(Some(now));
    model.updated_at = Set(now);
    model.update(txn).await?;
    outbox::publish(txn, &event).await?;
    Ok(Outcome::Applied)
}

async fn expire(
    txn: &DatabaseTransaction,
    payment: payment::Model,
    session: &SessionObject,
) -> Result<Outcome, DbErr> {
    let current = payment.checkout_session_id.as_deref() == Some(session.id.as_str());
    if status_of(&payment)? != PaymentStatus::Pending || !current {
        return Ok(Outcome::Stale);
    }
    let now = Utc::now();
    let mut model = payment.into_active_model();
    model.status = Set(PaymentStatus::Expired.as_str().to_owned());
    model.expired_at = Set(Some(now));
    model.updated_at = Set(now);
    model.update(txn).await?;
    Ok(Outcome::Applied)
}

/// `charge.succeeded` carries the receipt link the session events lack.
async fn record_receipt(
    state: &AppState,
    event: &StripeEvent,
    charge: &ChargeObject,
) -> Result<Outcome, WebhookError> {
    let (Some(intent), Some(receipt)) = (
        expandable_id(charge.payment_intent.as_ref()),
        &charge.receipt_url,
    ) else {
        return Ok(Outcome::Ignored);
    };
    let txn = state.db.begin().await?;
    if !record_event(&txn, event).await? {
        txn.rollback().await?;
        return Ok(Outcome::Duplicate);
    }
    let payment = payment::Entity::find()
        .filter(payment::Column::PaymentIntentId.eq(intent))
        .one(&txn)
        .await?;
    let outcome = match &payment {
        Some(p) => {
            let mut model = p.clone().into_active_model();
            model.receipt_url = Set(Some(receipt.clone()));
            model.updated_at = Set(Utc::now());
            model.update(&txn).await?;
            Outcome::Applied
        }
        None => Outcome::Unmatched,
    };
    finish_event(&txn, event, payment.map(|p| p.id), outcome).await?;
    txn.commit().await?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kit::ErrorCode;

    fn secrets(list: &[&str]) -> Vec<Secret> {
        list.iter().map(|s| Secret::new(*s)).collect()
    }

    #[test]
    fn accepts_a_stripe_signature_with_any_configured_secret() {
        let body = br#"{"id":"evt_1"}"#;
        let now = 1_700_000_000;
        let header = sign(body, &Secret::new("whsec_old"), now);
        assert_eq!(
            verify_signature(&header, body, &secrets(&["whsec_new", "whsec_old"]), now),
            Ok(())
        );
        assert_eq!(
            verify_signature(&header, body, &secrets(&["whsec_new"]), now),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn rejects_tampering_staleness_and_garbage() {
        let body = br#"{"id":"evt_1","amount":100}"#;
        let now = 1_700_000_000;
        let s = secrets(&["whsec_x"]);
        let header = sign(body, &s[0], now);
        assert_eq!(
            verify_signature(&header, br#"{"id":"evt_1","amount":1}"#, &s, now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(&header, body, &s, now + TOLERANCE_SECS + 1),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify_signature(&header, body, &s, now - TOLERANCE_SECS - 1),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify_signature(&header, body, &s, now + TOLERANCE_SECS),
            Ok(())
        );
        // A signature made for another timestamp does not carry over.
        let moved = header.replacen(&format!("t={now}"), &format!("t={}", now + 1), 1);
        assert_eq!(
            verify_signature(&moved, body, &s, now),
            Err(SignatureError::Mismatch)
        );
        for bad in ["", "garbage", "t=abc,v1=00", "v1=00", "t=1,t=2,v1=00"] {
            assert_eq!(
                verify_signature(bad, body, &s, now),
                Err(SignatureError::Malformed),
                "{bad:?}"
            );
        }
        assert_eq!(
            verify_signature(&format!("t={now},v1=zz"), body, &s, now),
            Err(SignatureError::Mismatch)
        );
        // Only v1 counts: a v0 signature with the right value is not accepted.
        let v0 = header.replace("v1=", "v0=");
        assert_eq!(
            verify_signature(&v0, body, &s, now),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn errors_map_to_400_without_echoing_the_header() {
        let err: ApiError = WebhookError::Signature(SignatureError::Mismatch).into();
        assert_eq!(err.code, ErrorCode::BadUserInput);
        assert_eq!(err.message, "invalid signature");
        assert_eq!(err.code.http_status(), 400);
    }
}
