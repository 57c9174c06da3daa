//! The one seam between payments and whoever takes the money.
//!
//! [`PaymentProvider`] is implemented by the Stripe client ([`crate::stripe_client`]) and by
//! the sandbox ([`crate::sandbox`]). Everything else (checkout, webhook handling, refunds)
//! is written once against this trait, so the sandbox exercises the same code paths as
//! production.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kit::{Currency, contracts::OrderLine};
use uuid::Uuid;

use crate::payment::PaymentProviderKind;

/// What a checkout session charges for.
#[derive(Debug, Clone)]
pub struct SessionRequest {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub currency: Currency,
    pub total_minor: i64,
    pub lines: Vec<OrderLine>,
    /// Stable per payment attempt, so a retried request returns the session the first one made.
    pub idempotency_key: String,
    pub success_url: String,
    pub cancel_url: String,
}

/// A session the customer can pay in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedSession {
    pub id: String,
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct RefundRequest {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    /// The PaymentIntent to refund.
    pub payment_intent_id: String,
    pub amount_minor: i64,
    pub idempotency_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedRefund {
    pub id: String,
}

/// Why the provider could not do what was asked. The detail is for logs only.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider could not be reached or answered with a server error; worth retrying.
    #[error("payment provider unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the request (bad parameters, account problems).
    #[error("payment provider refused the request: {0}")]
    Rejected(String),
}

#[async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    fn kind(&self) -> PaymentProviderKind;

    async fn create_session(
        &self,
        request: &SessionRequest,
    ) -> Result<CreatedSession, ProviderError>;

    /// Closes an open session so it can no longer be paid. A session that is already closed
    /// (expired, completed) is `Rejected`, which callers treat as done.
    async fn expire_session(&self, session_id: &str) -> Result<(), ProviderError>;

    async fn refund(&self, request: &RefundRequest) -> Result<CreatedRefund, ProviderError>;
}

/// The idempotency key of a payment's `attempt`-th checkout session.
pub fn session_idempotency_key(payment_id: Uuid, attempt: i32) -> String {
    format!("checkout-{payment_id}-{attempt}")
}

/// A payment is refunded at most once, so its refund key is the payment itself.
pub fn refund_idempotency_key(payment_id: Uuid) -> String {
    format!("refund-{payment_id}")
}
