//! Refunds: by an admin (`refundPayment`) and automatically when orders reports a payment
//! it cannot take (`orders.payment_conflict`, e.g. the order was cancelled meanwhile).
//! A conflict event that cannot be read, or whose refund keeps failing through the whole
//! delivery budget, is parked ([`kit::parking`]) for an admin to list and replay
//! (`parkedPaymentEvents`, `replayParkedPaymentEvent`); it is never dropped.
//!
//! The provider is called with an idempotency key per payment, so a refund repeated after a
//! crash or a redelivered event returns the first refund instead of paying out twice. The
//! state change and the `payments.refunded` event are written in one transaction, together
//! with the consumed event's id when the refund was triggered by an event.

use std::sync::Arc;

use chrono::Utc;
use kit::{
    ApiError,
    bus::{BusError, ConsumerSpec, Delivery, EventHandler, HandlerError, Worker},
    contracts::{Envelope, OrderPaymentConflict, PaymentRefunded, subjects},
    outbox::{self, inbox_message},
};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr};
use uuid::Uuid;

use crate::{
    AppState,
    payment::{self, PaymentStatus},
    provider::{ProviderError, RefundRequest, refund_idempotency_key},
};

/// The durable consumer (shared by all replicas) and inbox name of the automatic refunds.
pub const CONFLICT_CONSUMER: &str = "payments-refund-on-conflict";

#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("payment {0} not found")]
    NotFound(Uuid),
    #[error("a {0:?} payment cannot be refunded")]
    NotRefundable(PaymentStatus),
    #[error("payment {0} has no payment intent to refund")]
    NoPaymentIntent(Uuid),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<RefundError> for ApiError {
    fn from(err: RefundError) -> Self {
        match err {
            RefundError::NotFound(_) => ApiError::not_found("payment"),
            RefundError::NotRefundable(status) => ApiError::conflict(format!(
                "only a SUCCEEDED payment can be refunded; this one is {}",
                status.as_str()
            )),
            RefundError::Provider(ProviderError::Unavailable(detail)) => {
                tracing::warn!(%detail, "payment provider unavailable");
                ApiError::unavailable("the payment provider is unavailable; try again shortly")
            }
            other => ApiError::internal(other),
        }
    }
}

/// The consumed event a refund answers, recorded with it so a redelivery does nothing.
#[derive(Debug, Clone, Copy)]
pub struct Trigger {
    pub event_id: Uuid,
}

/// Refunds a succeeded payment in full; refunding a refunded payment returns it unchanged.
pub async fn refund_payment(
    state: &AppState,
    payment_id: Uuid,
    trigger: Option<Trigger>,
) -> Result<payment::Model, RefundError> {
    let payment = payment::Entity::find_by_id(payment_id)
        .one(&state.db)
        .await?
        .ok_or(RefundError::NotFound(payment_id))?;
    let status = payment.status().map_err(|e| DbErr::Custom(e.message))?;
    match status {
        PaymentStatus::Refunded => return Ok(payment),
        PaymentStatus::Succeeded => {}
        other => return Err(RefundError::NotRefundable(other)),
    }
    let intent = payment
        .payment_intent_id
        .clone()
        .ok_or(RefundError::NoPaymentIntent(payment_id))?;
    let refund = state
        .provider
        .refund(&RefundRequest {
            payment_id,
            order_id: payment.order_id,
            payment_intent_id: intent,
            amount_minor: payment.amount_minor,
            idempotency_key: refund_idempotency_key(payment_id),
        })
        .await?;
    let txn = state.db.begin().await?;
    let first_time = match trigger {
        Some(t) => outbox::mark_processed(&txn, CONFLICT_CONSUMER, t.event_id).await?,
        None => true,
    };
    if first_time {
        let now = Utc::now();
        // Conditional on the status, so two concurrent refunds record (and announce) one.
        let updated = payment::Entity::update_many()
            .col_expr(
                payment::Column::Status,
                Expr::value(PaymentStatus::Refunded.as_str()),
            )
            .col_expr(payment::Column::RefundId, Expr::value(refund.id.clone()))
            .col_expr(payment::Column::RefundedAt, Expr::value(now))
            .col_expr(payment::Column::UpdatedAt, Expr::value(now))
            .filter(payment::Column::Id.eq(payment_id))
            .filter(payment::Column::Status.eq(PaymentStatus::Succeeded.as_str()))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 1 {
            let event = Envelope::new(
                subjects::PAYMENTS_REFUNDED,
                PaymentRefunded {
                    payment_id,
                    order_id: payment.order_id,
                    amount_minor: payment.amount_minor,
                    currency: payment.currency.clone(),
                },
            );
            outbox::enqueue(&txn, &event).await?;
        }
    }
    txn.commit().await?;
    state.relay.notify();
    let refreshed = payment::Entity::find_by_id(payment_id)
        .one(&state.db)
        .await?
        .ok_or(RefundError::NotFound(payment_id))?;
    Ok(refreshed)
}

/// Consumes `orders.payment_conflict` durably and refunds the payment it names.
pub async fn spawn_conflict_consumer(state: Arc<AppState>) -> Result<Worker, BusError> {
    let spec = ConsumerSpec {
        durable: CONFLICT_CONSUMER.into(),
        subjects: vec![subjects::ORDERS_PAYMENT_CONFLICT.into()],
    };
    let bus = state.bus.clone();
    let parking = state.parking.clone();
    let handler: EventHandler = Arc::new(move |delivery: Delivery| {
        let state = state.clone();
        Box::pin(async move { on_conflict(&state, delivery).await })
    });
    bus.consume(spec.clone(), parking.handler(&spec, handler))
        .await
}

async fn on_conflict(state: &AppState, delivery: Delivery) -> Result<(), HandlerError> {
    // Redelivering a message that cannot be read would never succeed: it is parked.
    let event: Envelope<OrderPaymentConflict> =
        serde_json::from_slice(&delivery.payload).map_err(|e| {
            HandlerError::Unprocessable(format!("the payment conflict event cannot be read: {e}"))
        })?;
    if event.version != 1 {
        return Err(HandlerError::Unprocessable(format!(
            "payment conflict events of version {} are not understood by this version of the service",
            event.version
        )));
    }
    let already = inbox_message::Entity::find_by_id((CONFLICT_CONSUMER.to_owned(), event.event_id))
        .one(&state.db)
        .await
        .map_err(|e| HandlerError::Retry(e.to_string()))?;
    if already.is_some() {
        return Ok(());
    }
    let data = &event.data;
    tracing::warn!(
        payment_id = %data.payment_id, order_id = %data.order_id, order_status = %data.order_status,
        "payment arrived for an order that cannot take it; refunding"
    );
    match refund_payment(
        state,
        data.payment_id,
        Some(Trigger {
            event_id: event.event_id,
        }),
    )
    .await
    {
        Ok(_) => Ok(()),
        Err(
            e @ (RefundError::NotFound(_)
            | RefundError::NotRefundable(_)
            | RefundError::NoPaymentIntent(_)),
        ) => {
            tracing::error!(error = %e, "automatic refund impossible; needs a person");
            Ok(())
        }
        Err(e) => Err(HandlerError::Retry(e.to_string())),
    }
}
