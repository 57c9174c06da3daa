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
    bus::{BusError, HandlerError, Worker},
    contracts::{OrderPaymentConflict, PaymentRefunded},
    outbox::{self, Consumer},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, TransactionTrait,
    sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    AppState,
    payment::{self, PaymentStatus},
    provider::{CreatedRefund, ProviderError, RefundRequest, refund_idempotency_key},
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

/// Refunds a succeeded payment in full; refunding a refunded payment returns it unchanged.
pub async fn refund_payment(
    state: &AppState,
    payment_id: Uuid,
) -> Result<payment::Model, RefundError> {
    let payment = find(state, payment_id).await?;
    if let Some(refund) = refund_at_provider(state, &payment).await? {
        let txn = state.db.begin().await?;
        record_refund(&txn, &payment, &refund).await?;
        txn.commit().await?;
        state.relay.notify();
    }
    find(state, payment_id).await
}

async fn find(state: &AppState, payment_id: Uuid) -> Result<payment::Model, RefundError> {
    payment::Entity::find_by_id(payment_id)
        .one(&state.db)
        .await?
        .ok_or(RefundError::NotFound(payment_id))
}

/// Asks the provider to refund `payment` (idempotently: the same refund again for the same
/// payment); `None` when it was refunded already.
async fn refund_at_provider(
    state: &AppState,
    payment: &payment::Model,
) -> Result<Option<CreatedRefund>, RefundError> {
    let status = payment.status().map_err(|e| DbErr::Custom(e.message))?;
    match status {
        PaymentStatus::Refunded => return Ok(None),
        PaymentStatus::Succeeded => {}
        other => return Err(RefundError::NotRefundable(other)),
    }
    let intent = payment
        .payment_intent_id
        .clone()
        .ok_or(RefundError::NoPaymentIntent(payment.id))?;
    let refund = state
        .provider
        .refund(&RefundRequest {
            payment_id: payment.id,
            order_id: payment.order_id,
            payment_intent_id: intent,
            amount_minor: payment.amount_minor,
            idempotency_key: refund_idempotency_key(payment.id),
        })
        .await?;
    Ok(Some(refund))
}

/// Records the provider's refund of `payment` and announces it, once: conditional on the
/// status, so two concurrent refunds record (and announce) one.
async fn record_refund<C: ConnectionTrait>(
    conn: &C,
    payment: &payment::Model,
    refund: &CreatedRefund,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let updated = payment::Entity::update_many()
        .col_expr(
            payment::Column::Status,
            Expr::value(PaymentStatus::Refunded.as_str()),
        )
        .col_expr(payment::Column::RefundId, Expr::value(refund.id.clone()))
        .col_expr(payment::Column::RefundedAt, Expr::value(now))
        .col_expr(payment::Column::UpdatedAt, Expr::value(now))
        .filter(payment::Column::Id.eq(payment.id))
        .filter(payment::Column::Status.eq(PaymentStatus::Succeeded.as_str()))
        .exec(conn)
        .await?;
    if updated.rows_affected == 1 {
        let event = PaymentRefunded {
            payment_id: payment.id,
            order_id: payment.order_id,
            amount_minor: payment.amount_minor,
            currency: payment.currency.clone(),
        };
        outbox::publish(conn, &event).await?;
    }
    Ok(())
}

/// Consumes `orders.payment_conflict` durably and refunds the payment it names: the
/// provider first, then the refund is recorded in the transaction that marks the event
/// handled.
pub async fn spawn_conflict_consumer(state: Arc<AppState>) -> Result<Worker, BusError> {
    let provider_state = state.clone();
    Consumer::<OrderPaymentConflict>::prepared(
        &state.parking,
        CONFLICT_CONSUMER,
        move |event| {
            let state = provider_state.clone();
            Box::pin(async move { refund_conflict(&state, &event.data).await })
        },
        |txn, _event, refunded| {
            Box::pin(async move {
                if let Some((payment, refund)) = refunded {
                    record_refund(txn, &payment, &refund).await?;
                }
                Ok(())
            })
        },
    )
    .notifying(&state.relay)
    .start()
    .await
}

/// The provider's side of an automatic refund; `None` when there is nothing to record.
async fn refund_conflict(
    state: &AppState,
    conflict: &OrderPaymentConflict,
) -> Result<Option<(payment::Model, CreatedRefund)>, HandlerError> {
    tracing::warn!(
        payment_id = %conflict.payment_id, order_id = %conflict.order_id, order_status = %conflict.order_status,
        "payment arrived for an order that cannot take it; refunding"
    );
    let refunded = async {
        let payment = find(state, conflict.payment_id).await?;
        let refund = refund_at_provider(state, &payment).await?;
        Ok::<_, RefundError>(refund.map(|refund| (payment, refund)))
    };
    match refunded.await {
        Ok(refunded) => Ok(refunded),
        Err(
            e @ (RefundError::NotFound(_)
            | RefundError::NotRefundable(_)
            | RefundError::NoPaymentIntent(_)),
        ) => {
            tracing::error!(error = %e, "automatic refund impossible; needs a person");
            Ok(None)
        }
        Err(e) => Err(HandlerError::Retry(e.to_string())),
    }
}
