//! `startCheckout`: turning a PENDING order into a checkout session the customer can pay.
//!
//! The order's owner, status, amount, currency and lines come from the orders service.
//! The payment row is reserved (or its next attempt recorded) in a short transaction
//! *before* the provider is called, and the provider call carries an idempotency key made
//! of the payment id and attempt number. So two concurrent calls, or a retry after the
//! provider answered but before the session was stored, send the same key and get the same
//! session back instead of opening a second one. An open session is reused; one that has
//! expired (or failed) is replaced by the next attempt. A session that is replaced while
//! the provider would still take money on it (close to its expiry, or for a changed amount)
//! is expired at the provider first, so an order never has two payable sessions.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use kit::{ApiError, auth::Principal};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, TransactionTrait,
};
use uuid::Uuid;

use crate::{
    AppState,
    orders::{self, OrdersError},
    payment::{self, PaymentStatus},
    provider::{ProviderError, SessionRequest, session_idempotency_key},
};

/// A session closer than this to its expiry is not handed out again: the customer would
/// land on a page that expires while they type their card number.
const REUSE_MARGIN: ChronoDuration = ChronoDuration::minutes(2);

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error(transparent)]
    Orders(#[from] OrdersError),
    #[error("the caller does not own the order")]
    NotOwner,
    #[error("the order is {0}, not PENDING")]
    NotPayable(String),
    #[error("the order is already paid")]
    AlreadyPaid,
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<CheckoutError> for ApiError {
    fn from(err: CheckoutError) -> Self {
        match err {
            CheckoutError::Orders(e) => e.into(),
            CheckoutError::NotOwner => ApiError::forbidden(),
            CheckoutError::NotPayable(status) => ApiError::conflict(format!(
                "only a PENDING order can be paid; this one is {status}"
            )),
            CheckoutError::AlreadyPaid => ApiError::conflict("this order is already paid"),
            CheckoutError::Provider(ProviderError::Unavailable(detail)) => {
                tracing::warn!(%detail, "payment provider unavailable");
                ApiError::unavailable("the payment provider is unavailable; try again shortly")
            }
            CheckoutError::Provider(e) => ApiError::internal(e),
            CheckoutError::Db(e) => ApiError::internal(e),
        }
    }
}

/// A session to send the customer to.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub payment: payment::Model,
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// What the reservation step decided.
enum Reservation {
    /// The open session of the current attempt.
    Reuse(Checkout),
    /// A session must be made for this attempt.
    Create(payment::Model),
}

pub async fn start_checkout(
    state: &AppState,
    caller: Principal,
    order_id: Uuid,
) -> Result<Checkout, CheckoutError> {
    let payable = orders::fetch_payable(state.bus.as_ref(), order_id, state.orders_timeout).await?;
    if payable.order.user_id != caller.user_id {
        return Err(CheckoutError::NotOwner);
    }
    if payable.order.status != "PENDING" {
        return Err(CheckoutError::NotPayable(payable.order.status.clone()));
    }
    expire_replaced_session(state, &payable, Utc::now()).await?;
    let payment = match reserve(state, &payable, Utc::now()).await? {
        Reservation::Reuse(checkout) => return Ok(checkout),
        Reservation::Create(payment) => payment,
    };
    let request = SessionRequest {
        payment_id: payment.id,
        order_id,
        currency: payable.currency,
        total_minor: payable.order.total_minor,
        lines: payable.order.lines.clone(),
        idempotency_key: session_idempotency_key(payment.id, payment.attempt),
        success_url: state.success_url.clone(),
        cancel_url: state.cancel_url.clone(),
    };
    let session = state.provider.create_session(&request).await?;
    let now = Utc::now();
    // Only the attempt that asked for the session may store it; a concurrent caller that
    // moved to a later attempt in the meantime wins.
    let stored = payment::Entity::update_many()
        .col_expr(
            payment::Column::CheckoutSessionId,
            sea_orm::sea_query::Expr::value(session.id.clone()),
        )
        .col_expr(
            payment::Column::CheckoutUrl,
            sea_orm::sea_query::Expr::value(session.url.clone()),
        )
        .col_expr(
            payment::Column::SessionExpiresAt,
            sea_orm::sea_query::Expr::value(session.expires_at),
        )
        .col_expr(
            payment::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(payment::Column::Id.eq(payment.id))
        .filter(payment::Column::Attempt.eq(payment.attempt))
        .exec(&state.db)
        .await?;
    if stored.rows_affected == 0 {
        tracing::info!(payment_id = %payment.id, "a newer checkout attempt superseded this one");
    }
    let payment = payment::Entity::find_by_id(payment.id)
        .one(&state.db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("payment {}", payment.id)))?;
    Ok(Checkout {
        payment,
        url: session.url,
        expires_at: session.expires_at,
    })
}

/// Whether `existing`'s session may be handed out again for this order.
fn reusable(existing: &payment::Model, payable: &orders::Payable, now: DateTime<Utc>) -> bool {
    let same_charge = existing.amount_minor == payable.order.total_minor
        && existing.currency == payable.currency.code();
    existing.status == PaymentStatus::Pending.as_str()
        && same_charge
        && existing.checkout_url.is_some()
        && existing
            .session_expires_at
            .is_some_and(|t| t > now + REUSE_MARGIN)
}

/// Expires the order's current session at the provider when the next call will replace it
/// while it can still be paid. Nothing is changed here when the provider cannot be reached:
/// the caller gets `SERVICE_UNAVAILABLE` and a retry tries again.
async fn expire_replaced_session(
    state: &AppState,
    payable: &orders::Payable,
    now: DateTime<Utc>,
) -> Result<(), CheckoutError> {
    let Some(existing) = payment::Entity::find()
        .filter(payment::Column::OrderId.eq(payable.order.order_id))
        .one(&state.db)
        .await?
    else {
        return Ok(());
    };
    let still_open = existing.status == PaymentStatus::Pending.as_str()
        && existing.session_expires_at.is_some_and(|t| t > now);
    match &existing.checkout_session_id {
        Some(session_id) if still_open && !reusable(&existing, payable, now) => {
            close_session(state, session_id).await?;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Expires `session_id` at the provider; one already closed counts as done.
pub(crate) async fn close_session(state: &AppState, session_id: &str) -> Result<(), ProviderError> {
    match state.provider.expire_session(session_id).await {
        Ok(()) => {
            tracing::info!(session_id, "checkout session expired at the provider");
            Ok(())
        }
        Err(ProviderError::Rejected(detail)) => {
            tracing::info!(session_id, %detail, "checkout session was already closed");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Records the payment (or its next attempt) and decides whether a new session is needed.
async fn reserve(
    state: &AppState,
    payable: &orders::Payable,
    now: DateTime<Utc>,
) -> Result<Reservation, CheckoutError> {
    // Two first calls for one order race on the unique order id; the loser sees the
    // winner's row on its second pass.
    for _ in 0..2 {
        match try_reserve(state, payable, now).await {
            Err(CheckoutError::Db(e)) if is_unique_violation(&e) => continue,
            other => return other,
        }
    }
    try_reserve(state, payable, now).await
}

async fn try_reserve(
    state: &AppState,
    payable: &orders::Payable,
    now: DateTime<Utc>,
) -> Result<Reservation, CheckoutError> {
    let order = &payable.order;
    let txn = state.db.begin().await?;
    let existing = crate::store::lock_for_update(
        payment::Entity::find().filter(payment::Column::OrderId.eq(order.order_id)),
        &txn,
    )
    .one(&txn)
    .await?;
    let reservation = match existing {
        None => {
            let model = payment::ActiveModel {
                id: Set(Uuid::now_v7()),
                order_id: Set(order.order_id),
                user_id: Set(order.user_id),
                status: Set(PaymentStatus::Pending.as_str().to_owned()),
                amount_minor: Set(order.total_minor),
                currency: Set(payable.currency.code().to_owned()),
                provider: Set(state.provider.kind().as_str().to_owned()),
                attempt: Set(1),
                checkout_session_id: Set(None),
                checkout_url: Set(None),
                session_expires_at: Set(None),
                payment_intent_id: Set(None),
                receipt_url: Set(None),
                failure_reason: Set(None),
                flag: Set(None),
                flag_detail: Set(None),
                refund_id: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                succeeded_at: Set(None),
                failed_at: Set(None),
                expired_at: Set(None),
                refunded_at: Set(None),
            };
            Reservation::Create(model.insert(&txn).await?)
        }
        Some(existing) => {
            let status = existing.status().map_err(|e| DbErr::Custom(e.message))?;
            if status.is_settled() {
                return Err(CheckoutError::AlreadyPaid);
            }
            let same_charge = existing.amount_minor == order.total_minor
                && existing.currency == payable.currency.code();
            let open_session = match (&existing.checkout_url, existing.session_expires_at) {
                (Some(url), Some(expires_at)) if expires_at > now + REUSE_MARGIN => {
                    Some((url.clone(), expires_at))
                }
                _ => None,
            };
            match open_session {
                Some((url, expires_at)) if status == PaymentStatus::Pending && same_charge => {
                    Reservation::Reuse(Checkout {
                        payment: existing,
                        url,
                        expires_at,
                    })
                }
                _ => {
                    // A PENDING attempt without a stored session is one whose provider call
                    // failed or was cut short: repeat it under the same key. Anything else
                    // (expired, failed, or a changed amount) starts the next attempt.
                    let unfinished = status == PaymentStatus::Pending
                        && existing.checkout_session_id.is_none()
                        && same_charge;
                    let attempt = if unfinished {
                        existing.attempt
                    } else {
                        existing.attempt.saturating_add(1)
                    };
                    let mut model = existing.into_active_model();
                    model.status = Set(PaymentStatus::Pending.as_str().to_owned());
                    model.amount_minor = Set(order.total_minor);
                    model.currency = Set(payable.currency.code().to_owned());
                    model.provider = Set(state.provider.kind().as_str().to_owned());
                    model.attempt = Set(attempt);
                    model.checkout_session_id = Set(None);
                    model.checkout_url = Set(None);
                    model.session_expires_at = Set(None);
                    model.failure_reason = Set(None);
                    model.updated_at = Set(now);
                    Reservation::Create(model.update(&txn).await?)
                }
            }
        }
    };
    txn.commit().await?;
    Ok(reservation)
}

fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
