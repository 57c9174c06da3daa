//! A cancelled order must not stay payable: on `orders.cancelled` the order's open checkout
//! session is expired at the provider and the payment is marked `EXPIRED`, so neither
//! Stripe's page nor the sandbox's takes money for it any more.
//!
//! The provider call comes first and is idempotent (a session already closed counts as
//! done); the state change is recorded with the event's id in one transaction, so a
//! redelivered event changes nothing twice. While the provider is unreachable the event is
//! redelivered (within the consumer's delivery budget); an event that cannot be read, or
//! keeps failing, is parked for an admin (`common::parking`).

use std::sync::Arc;

use chrono::Utc;
use common::{
    bus::{BusError, ConsumerSpec, Delivery, EventHandler, HandlerError, Worker},
    contracts::{Envelope, OrderCancelled, subjects},
    outbox,
};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr};

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

/// Consumes `orders.cancelled` durably.
pub async fn spawn_consumer(state: Arc<AppState>) -> Result<Worker, BusError> {
    let spec = ConsumerSpec {
        durable: CANCELLED_CONSUMER.into(),
        subjects: vec![subjects::ORDERS_CANCELLED.into()],
    };
    let bus = state.bus.clone();
    let parking = state.parking.clone();
    let handler: EventHandler = Arc::new(move |delivery: Delivery| {
        let state = state.clone();
        Box::pin(async move { on_cancelled(&state, delivery).await })
    });
    bus.consume(spec.clone(), parking.handler(&spec, handler))
        .await
}

async fn on_cancelled(state: &AppState, delivery: Delivery) -> Result<(), HandlerError> {
    // Redelivering a message that cannot be read would never succeed: it is parked.
    let event: Envelope<OrderCancelled> =
        serde_json::from_slice(&delivery.payload).map_err(|e| {
            HandlerError::Unprocessable(format!("the order cancellation event cannot be read: {e}"))
        })?;
    if event.version != 1 {
        return Err(HandlerError::Unprocessable(format!(
            "order cancellation events of version {} are not understood by this version of the service",
            event.version
        )));
    }
    expire_for_cancelled_order(state, &event)
        .await
        .map_err(|e| HandlerError::Retry(e.to_string()))
}

/// Expires the session of the cancelled order's pending payment, once per event.
pub async fn expire_for_cancelled_order(
    state: &AppState,
    event: &Envelope<OrderCancelled>,
) -> Result<(), CancellationError> {
    let order_id = event.data.order_id;
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
    let txn = state.db.begin().await?;
    if outbox::mark_processed(&txn, CANCELLED_CONSUMER, event.event_id).await?
        && let Some(payment) = pending
    {
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
            .exec(&txn)
            .await?;
        tracing::info!(%order_id, payment_id = %payment.id, expired = updated.rows_affected, "order cancelled; its checkout closed");
    }
    txn.commit().await?;
    Ok(())
}
