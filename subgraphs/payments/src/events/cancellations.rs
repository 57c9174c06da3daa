//! A cancelled order must not stay payable: on `orders.cancelled` the order's open checkout
//! session is expired at the provider and the payment is marked `EXPIRED`, so neither
//! Stripe's page nor the sandbox's takes money for it any more.
//!
//! The provider call comes first and is idempotent (a session already closed counts as
//! done); the state change is recorded with the event's id in one transaction, so a
//! redelivered event changes nothing twice. While the provider is unreachable the event is
//! redelivered (within the consumer's delivery budget); an event that cannot be read, or
//! keeps failing, is parked for an admin (`kit::parking`).

use std::sync::Arc;

use chrono::Utc;
use kit::{
    bus::{BusError, HandlerError, Worker},
    contracts::OrderCancelled,
    outbox::Consumer,
};
use sea_orm::{ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use crate::{
    AppState,
    checkout::close_session,
    payment::{self, PaymentStatus},
    provider::ProviderError,
};

/// The durable consumer (shared by all replicas) and inbox name.
pub const CANCELLED_CONSUMER: &str = "payments-expire-on-cancel";

#[derive(Debug, thiserror::Error)]
pub enum CancellationError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Either failure may pass (the provider or the database is back later): the event is
/// delivered again.
impl From<CancellationError> for HandlerError {
    fn from(err: CancellationError) -> Self {
        HandlerError::Retry(err.to_string())
    }
}

/// Consumes `orders.cancelled` durably: the order's session is closed at the provider,
/// then the payment is expired in the transaction that marks the event handled.
pub async fn spawn_consumer(state: Arc<AppState>) -> Result<Worker, BusError> {
    let provider_state = state.clone();
    Consumer::<OrderCancelled>::prepared(
        &state.parking,
        CANCELLED_CONSUMER,
        move |event| {
            let state = provider_state.clone();
            Box::pin(async move { Ok(close_pending_session(&state, event.data.order_id).await?) })
        },
        |txn, event, pending| {
            Box::pin(async move { Ok(expire(txn, event.data.order_id, pending).await?) })
        },
    )
    .start()
    .await
}

/// Closes the session of the order's pending payment at the provider; returns that payment.
async fn close_pending_session(
    state: &AppState,
    order_id: Uuid,
) -> Result<Option<payment::Model>, CancellationError> {
    let payment = payment::Entity::find()
        .filter(payment::Column::OrderId.eq(order_id))
        .one(&state.db)
        .await?;
    let pending = payment.filter(|p| p.status == PaymentStatus::Pending.as_str());
    if let Some(session_id) = pending
        .as_ref()
        .and_then(|p| p.checkout_session_id.as_deref())
    {
        close_session(state, session_id).await?;
    }
    Ok(pending)
}

/// Marks the payment whose session was closed `EXPIRED`.
async fn expire(
    txn: &DatabaseTransaction,
    order_id: Uuid,
    pending: Option<payment::Model>,
) -> Result<(), CancellationError> {
    let Some(payment) = pending else {
        return Ok(());
    };
    let now = Utc::now();
    // Conditional on the status and session, so a payment that succeeded meanwhile keeps
    // its state (orders refunds it as a conflict).
    let updated = payment::Entity::update_many()
        .col_expr(
            payment::Column::Status,
            Expr::value(PaymentStatus::Expired.as_str()),
        )
        .col_expr(payment::Column::ExpiredAt, Expr::value(now))
        .col_expr(payment::Column::UpdatedAt, Expr::value(now))
        .filter(payment::Column::Id.eq(payment.id))
        .filter(payment::Column::Status.eq(PaymentStatus::Pending.as_str()))
        .filter(payment::Column::Attempt.eq(payment.attempt))
        .exec(txn)
        .await?;
    tracing::info!(%order_id, payment_id = %payment.id, expired = updated.rows_affected, "order cancelled; its checkout closed");
    Ok(())
}
