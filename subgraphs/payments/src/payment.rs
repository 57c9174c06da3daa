//! The `Payment` record: its table, its life cycle, and how clients see it.
//!
//! One payment exists per order. Each checkout session made for it is an *attempt*
//! (`attempt` counts them), so an expired session is replaced without losing the history
//! of what happened to the order's money. Status only moves forward:
//! `PENDING -> SUCCEEDED -> REFUNDED`, `PENDING -> FAILED | EXPIRED`, and a failed or
//! expired payment may start a new attempt (back to `PENDING`) at the customer's request.

use async_graphql::{ComplexObject, Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use kit::{ApiError, Currency, Money};

/// The sea-orm entity of the `payments` table.
pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "payments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        #[sea_orm(unique)]
        pub order_id: Uuid,
        pub user_id: Uuid,
        pub status: String,
        pub amount_minor: i64,
        pub currency: String,
        pub provider: String,
        pub attempt: i32,
        pub checkout_session_id: Option<String>,
        pub checkout_url: Option<String>,
        pub session_expires_at: Option<DateTimeUtc>,
        pub payment_intent_id: Option<String>,
        pub receipt_url: Option<String>,
        pub failure_reason: Option<String>,
        pub flag: Option<String>,
        pub flag_detail: Option<String>,
        pub refund_id: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub succeeded_at: Option<DateTimeUtc>,
        pub failed_at: Option<DateTimeUtc>,
        pub expired_at: Option<DateTimeUtc>,
        pub refunded_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub use entity::{ActiveModel, Column, Entity, Model};

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PaymentStatus {
    /// A checkout session is open or about to be made.
    Pending,
    Succeeded,
    Failed,
    /// The checkout session expired unpaid.
    Expired,
    Refunded,
}

impl PaymentStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::Expired => "EXPIRED",
            Self::Refunded => "REFUNDED",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Succeeded,
            Self::Failed,
            Self::Expired,
            Self::Refunded,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }

    /// Whether money was taken (and possibly given back): such a payment never goes back
    /// to an earlier state, whatever events arrive late.
    pub const fn is_settled(self) -> bool {
        matches!(self, Self::Succeeded | Self::Refunded)
    }
}

/// Why a payment needs a person to look at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PaymentFlag {
    /// Stripe reported an amount or currency other than the one the order was charged
    /// with; the event was not applied.
    AmountMismatch,
    /// A second checkout session of the same order was paid too (the customer paid an old
    /// and a new session); the extra payment needs refunding.
    DuplicatePayment,
}

impl PaymentFlag {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AmountMismatch => "AMOUNT_MISMATCH",
            Self::DuplicatePayment => "DUPLICATE_PAYMENT",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::AmountMismatch, Self::DuplicatePayment]
            .into_iter()
            .find(|f| f.as_str() == raw)
    }
}

/// Who took the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PaymentProviderKind {
    Stripe,
    /// The built-in checkout page; no real money moves.
    Sandbox,
}

impl PaymentProviderKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Stripe => "STRIPE",
            Self::Sandbox => "SANDBOX",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "STRIPE" => Some(Self::Stripe),
            "SANDBOX" => Some(Self::Sandbox),
            _ => None,
        }
    }
}

/// A payment as clients see it.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Payment", complex)]
pub struct Payment {
    pub id: ID,
    pub order_id: ID,
    pub status: PaymentStatus,
    pub provider: PaymentProviderKind,
    /// The Stripe Checkout Session of the latest attempt.
    pub checkout_session_id: Option<String>,
    /// The Stripe PaymentIntent that took the money, once known.
    pub payment_intent_id: Option<String>,
    pub receipt_url: Option<String>,
    pub failure_reason: Option<String>,
    /// Set when the payment needs attention; such payments are listed by `flaggedPayments`.
    pub flag: Option<PaymentFlag>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub succeeded_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub expired_at: Option<DateTime<Utc>>,
    pub refunded_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub amount: Money,
    #[graphql(skip)]
    pub user_id: uuid::Uuid,
}

#[ComplexObject]
impl Payment {
    /// What the order costs, as charged.
    async fn amount(&self) -> Money {
        self.amount
    }
}

impl Model {
    pub fn status(&self) -> Result<PaymentStatus, ApiError> {
        PaymentStatus::parse(&self.status).ok_or_else(|| {
            ApiError::internal(format!(
                "payment {} has unknown status {}",
                self.id, self.status
            ))
        })
    }

    pub fn money(&self) -> Result<Money, ApiError> {
        let currency = Currency::parse(&self.currency).map_err(|e| {
            ApiError::internal(format!("payment {} has a bad currency: {e}", self.id))
        })?;
        Ok(Money::from_minor(self.amount_minor, currency))
    }
}

impl TryFrom<Model> for Payment {
    type Error = ApiError;

    fn try_from(m: Model) -> Result<Self, ApiError> {
        let status = m.status()?;
        let amount = m.money()?;
        let provider = PaymentProviderKind::parse(&m.provider).ok_or_else(|| {
            ApiError::internal(format!(
                "payment {} has unknown provider {}",
                m.id, m.provider
            ))
        })?;
        Ok(Self {
            id: ID(m.id.to_string()),
            order_id: ID(m.order_id.to_string()),
            status,
            provider,
            checkout_session_id: m.checkout_session_id,
            payment_intent_id: m.payment_intent_id,
            receipt_url: m.receipt_url,
            failure_reason: m.failure_reason,
            flag: m.flag.as_deref().and_then(PaymentFlag::parse),
            created_at: m.created_at,
            updated_at: m.updated_at,
            succeeded_at: m.succeeded_at,
            failed_at: m.failed_at,
            expired_at: m.expired_at,
            refunded_at: m.refunded_at,
            amount,
            user_id: m.user_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip() {
        for s in [
            PaymentStatus::Pending,
            PaymentStatus::Succeeded,
            PaymentStatus::Failed,
            PaymentStatus::Expired,
            PaymentStatus::Refunded,
        ] {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(PaymentStatus::parse("pending"), None);
        assert!(PaymentStatus::Refunded.is_settled());
        assert!(!PaymentStatus::Failed.is_settled());
    }
}
