//! Applying `payments.succeeded`: the only way an order becomes PAID.
//!
//! The consumer is durable and shared by all replicas (`orders-payments`), so each event
//! reaches one replica, at least once. Idempotence comes from the inbox: the event id is
//! recorded in the same transaction as its effect, so a redelivered or duplicated event
//! changes nothing. A payment that cannot be applied is never silently dropped:
//!
//! - the order was cancelled (or already paid by another payment): the payment is recorded
//!   as an issue and `orders.payment_conflict` is emitted so payments refunds it;
//! - the amount or currency differs from the order's total: the order stays as it is and
//!   the payment is recorded as an issue and logged for a person to reconcile;
//! - the order is unknown: recorded as an issue and logged;
//! - the event cannot be read (malformed, or of a version this code does not know), or its
//!   handling keeps failing through the whole delivery budget: it is parked
//!   ([`kit::parking`]) for an admin to look at and replay (`parkedOrderEvents`,
//!   `replayParkedOrderEvent`), and the events behind it go on.

use kit::{
    bus::{BusError, HandlerError, Worker},
    contracts::{Envelope, OrderPaymentConflict, PaymentSucceeded},
    outbox::{Consumer, Handled, OutboxRelay},
    parking::ParkingLot,
};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseBackend, DatabaseTransaction, DbErr, EntityTrait,
    QuerySelect,
};
use uuid::Uuid;

use crate::{
    entities::{order, payment_issue},
    lifecycle::{self, Command, LifecycleError, OrderStatus},
    metrics::Metrics,
};

/// The durable consumer name shared by every replica (and its inbox key).
pub const CONSUMER: &str = "orders-payments";

/// Why a payment was recorded instead of applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueKind {
    /// The order could no longer take a payment (cancelled, or paid by another payment).
    OrderNotPayable,
    /// The amount or currency differs from the order's total.
    AmountMismatch,
    /// No such order.
    UnknownOrder,
}

impl IssueKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OrderNotPayable => "ORDER_NOT_PAYABLE",
            Self::AmountMismatch => "AMOUNT_MISMATCH",
            Self::UnknownOrder => "UNKNOWN_ORDER",
        }
    }
}

/// What applying one event did (a duplicate is not applied at all: see
/// [`kit::outbox::Handled`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The order is now PAID.
    Applied,
    /// The order was already paid by this very payment (announced again under a new event id).
    AlreadyApplied,
    /// Recorded as an issue (and, for [`IssueKind::OrderNotPayable`], sent for refund).
    Flagged(IssueKind),
}

impl Outcome {
    /// The `outcome` label of `orders_payment_events_total` for a delivery.
    pub const fn label(handled: &Handled<Self>) -> &'static str {
        match handled {
            Handled::Duplicate => "duplicate",
            Handled::Applied(Self::Applied) => "applied",
            Handled::Applied(Self::AlreadyApplied) => "already_applied",
            Handled::Applied(Self::Flagged(IssueKind::OrderNotPayable)) => "refund_requested",
            Handled::Applied(Self::Flagged(IssueKind::AmountMismatch)) => "amount_mismatch",
            Handled::Applied(Self::Flagged(IssueKind::UnknownOrder)) => "unknown_order",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentEventError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
}

/// The one place these errors are turned into something the bus understands: an attempt
/// delivered again later (the database may be back by then), parked when the budget is
/// spent. (What cannot be read, or is of another version, never reaches this code.)
impl From<PaymentEventError> for HandlerError {
    fn from(err: PaymentEventError) -> Self {
        HandlerError::Retry(err.to_string())
    }
}

/// Consumes `payments.succeeded` durably, counting each delivery's outcome in `metrics`.
pub async fn start(
    parking: &ParkingLot,
    relay: &OutboxRelay,
    metrics: Metrics,
) -> Result<Worker, BusError> {
    Consumer::<PaymentSucceeded, Outcome>::new(parking, CONSUMER, |txn, event| {
        Box::pin(async move { Ok(apply(txn, &event).await?) })
    })
    .notifying(relay)
    .observe(move |handled| metrics.payment_event(Outcome::label(handled)))
    .start()
    .await
}

/// Applies one payment, in the transaction that records it as handled.
async fn apply(
    txn: &DatabaseTransaction,
    event: &Envelope<PaymentSucceeded>,
) -> Result<Outcome, PaymentEventError> {
    let payment = &event.data;
    let mut query = order::Entity::find_by_id(payment.order_id);
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        // Holds off a concurrent cancel until this payment is settled one way or the other.
        query = query.lock_exclusive();
    }
    let outcome = match query.one(txn).await? {
        None => {
            tracing::error!(order_id = %payment.order_id, payment_id = %payment.payment_id, "payment for an unknown order");
            record_issue(txn, event, IssueKind::UnknownOrder, None).await?;
            Outcome::Flagged(IssueKind::UnknownOrder)
        }
        Some(order) if order.payment_id == Some(payment.payment_id) => Outcome::AlreadyApplied,
        Some(order)
            if order.total_minor != payment.amount_minor
                || !order.currency.eq_ignore_ascii_case(&payment.currency) =>
        {
            tracing::error!(
                order_id = %order.id,
                payment_id = %payment.payment_id,
                expected = %format!("{} {}", order.total_minor, order.currency),
                received = %format!("{} {}", payment.amount_minor, payment.currency),
                "payment amount differs from the order total; not applied"
            );
            record_issue(txn, event, IssueKind::AmountMismatch, Some(&order.status)).await?;
            Outcome::Flagged(IssueKind::AmountMismatch)
        }
        Some(order) => {
            match lifecycle::transition(
                txn,
                &order,
                Command::Pay {
                    payment_id: payment.payment_id,
                },
                crate::entities::now(),
            )
            .await
            {
                Ok(_) => Outcome::Applied,
                Err(LifecycleError::InvalidTransition { current, .. }) => {
                    tracing::warn!(order_id = %order.id, payment_id = %payment.payment_id, status = %current, "payment for an order that cannot take it; requesting a refund");
                    request_refund(txn, event, current).await?;
                    Outcome::Flagged(IssueKind::OrderNotPayable)
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    Ok(outcome)
}

async fn request_refund<C: ConnectionTrait>(
    conn: &C,
    event: &Envelope<PaymentSucceeded>,
    status: OrderStatus,
) -> Result<(), DbErr> {
    record_issue(
        conn,
        event,
        IssueKind::OrderNotPayable,
        Some(status.as_str()),
    )
    .await?;
    let payment = &event.data;
    let conflict = OrderPaymentConflict {
        order_id: payment.order_id,
        payment_id: payment.payment_id,
        amount_minor: payment.amount_minor,
        currency: payment.currency.clone(),
        order_status: status.as_str().to_owned(),
    };
    kit::outbox::publish(conn, &conflict).await?;
    Ok(())
}

async fn record_issue<C: ConnectionTrait>(
    conn: &C,
    event: &Envelope<PaymentSucceeded>,
    kind: IssueKind,
    order_status: Option<&str>,
) -> Result<(), DbErr> {
    let payment = &event.data;
    payment_issue::Entity::insert(payment_issue::ActiveModel {
        id: Set(Uuid::now_v7()),
        event_id: Set(event.event_id),
        order_id: Set(payment.order_id),
        payment_id: Set(payment.payment_id),
        kind: Set(kind.as_str().to_owned()),
        amount_minor: Set(payment.amount_minor),
        // The column holds an ISO code; a malformed one is cut rather than refused, so the
        // payment is still recorded instead of failing (and being redelivered) forever.
        currency: Set(payment.currency.chars().take(3).collect()),
        order_status: Set(order_status.map(str::to_owned)),
        recorded_at: Set(crate::entities::now()),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}
