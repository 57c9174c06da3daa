//! The messages services exchange over the bus: event payloads and request/reply bodies.
//!
//! These types are the contract between services, kept in one place so a change to one
//! side is a compile error on the other. Amounts are integer minor units with an ISO
//! currency code, as everywhere.
//!
//! Every event payload implements [`Event`], which names its subject and its version; the
//! subject is never written anywhere else. Events are published with
//! [`crate::outbox::publish`] and read with [`crate::outbox::consume`], which wrap the
//! payload in an [`Envelope`] and take it out again.
//!
//! **The version rule.** An event's version names the shape of its `data`. A consumer
//! applies only the version its contract type declares ([`Event::VERSION`]); an event of
//! any other version is not applied and not dropped but parked ([`crate::parking`]) with
//! the reason, for an admin to replay once a consumer that understands it runs. So a
//! change to a payload that old consumers could not read is a new version (adding an
//! optional field is not): events of it wait, parked, in every consumer not yet updated.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;

/// An event contract: the payload published on one subject, at one version.
pub trait Event: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The subject it travels on (without any deployment prefix); its first token is one
    /// of [`crate::bus::EVENT_DOMAINS`], which puts it in the event stream.
    const SUBJECT: &'static str;
    /// The version this code publishes and the only one its consumers apply.
    const VERSION: u32;
}

macro_rules! events {
    ($($event:ty => $subject:expr, version $version:literal;)*) => {
        $(impl Event for $event {
            const SUBJECT: &'static str = $subject;
            const VERSION: u32 = $version;
        })*

        /// The subjects of every event contract (checked against the event stream's
        /// domains in the tests).
        pub const EVENT_SUBJECTS: &[&str] = &[$($subject),*];
    };
}

events! {
    OrderCreated => "orders.created", version 1;
    OrderCancelled => "orders.cancelled", version 1;
    OrderPaid => "orders.paid", version 1;
    OrderDelivered => "orders.delivered", version 1;
    // A payment arrived for an order that can no longer take it (e.g. cancelled): refund it.
    OrderPaymentConflict => "orders.payment_conflict", version 1;
    PaymentSucceeded => "payments.succeeded", version 1;
    PaymentFailed => "payments.failed", version 1;
    PaymentRefunded => "payments.refunded", version 1;
}

/// Why a delivered event cannot be applied by this code; either way, redelivering it
/// would not help, so it is parked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("the {subject} event cannot be read: {detail}")]
    Unreadable {
        subject: &'static str,
        detail: String,
    },
    #[error(
        "{subject} events of version {version} are not understood by this version of the service (it reads version {supported})"
    )]
    UnsupportedVersion {
        subject: &'static str,
        version: u32,
        supported: u32,
    },
}

impl From<EventError> for crate::bus::HandlerError {
    fn from(err: EventError) -> Self {
        crate::bus::HandlerError::Unprocessable(err.to_string())
    }
}

/// Request subjects (without any deployment prefix); event subjects are declared by their
/// contract types ([`Event::SUBJECT`]).
pub mod subjects {
    /// orders asks products for current prices: [`super::PriceBasketRequest`].
    pub const RPC_PRODUCTS_PRICE_BASKET: &str = "rpc.products.price_basket";
    /// payments asks orders for what to charge: [`super::PayableOrderRequest`].
    pub const RPC_ORDERS_PAYABLE: &str = "rpc.orders.payable";
}

/// Every event's wrapper: what is stored in the outbox and travels on the bus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub event_id: Uuid,
    /// The subject it is published on, e.g. `orders.created`.
    pub event_type: String,
    pub version: u32,
    pub occurred_at: DateTime<Utc>,
    pub data: T,
}

impl<E: Event> Envelope<E> {
    /// A new event of `E`'s subject and version, with a fresh time-ordered id.
    pub fn new(data: E) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            event_type: E::SUBJECT.to_owned(),
            version: E::VERSION,
            occurred_at: Utc::now(),
            data,
        }
    }

    /// Reads a delivered event, applying the version rule (see the module doc): the
    /// version is checked before the data, so an event of another version is reported as
    /// such even when its data has a shape this code cannot read.
    pub fn decode(payload: &[u8]) -> Result<Self, EventError> {
        #[derive(Deserialize)]
        struct Header {
            version: u32,
        }
        let unreadable = |e: serde_json::Error| EventError::Unreadable {
            subject: E::SUBJECT,
            detail: e.to_string(),
        };
        let header: Header = serde_json::from_slice(payload).map_err(unreadable)?;
        if header.version != E::VERSION {
            return Err(EventError::UnsupportedVersion {
                subject: E::SUBJECT,
                version: header.version,
                supported: E::VERSION,
            });
        }
        serde_json::from_slice(payload).map_err(unreadable)
    }
}

/// A line as orders records it at purchase time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: Uuid,
    pub name: String,
    pub unit_price_minor: i64,
    pub quantity: i32,
    pub line_total_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCreated {
    pub order_id: Uuid,
    pub user_id: Uuid,
    pub currency: String,
    pub total_minor: i64,
    pub lines: Vec<OrderLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCancelled {
    pub order_id: Uuid,
    pub user_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPaid {
    pub order_id: Uuid,
    pub payment_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDelivered {
    pub order_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPaymentConflict {
    pub order_id: Uuid,
    pub payment_id: Uuid,
    pub amount_minor: i64,
    pub currency: String,
    /// The order's status when the payment arrived, e.g. `CANCELLED`.
    pub order_status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSucceeded {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub amount_minor: i64,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFailed {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRefunded {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub amount_minor: i64,
    pub currency: String,
}

/// A request/reply answer: the value, or an error with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Reply<T> {
    Ok { value: T },
    Error { error: RpcError },
}

/// Why a request failed; `code` is one of the `extensions.code` values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpcError {
    pub code: String,
    pub message: String,
    /// The ids the error is about (missing or unavailable products, ...).
    #[serde(default)]
    pub ids: Vec<Uuid>,
}

impl RpcError {
    pub fn bad_request(detail: String) -> Self {
        Self {
            code: "BAD_USER_INPUT".into(),
            message: format!("malformed request: {detail}"),
            ids: vec![],
        }
    }
}

impl<T> Reply<T> {
    pub fn ok(value: T) -> Self {
        Reply::Ok { value }
    }

    pub fn error(code: crate::ErrorCode, message: impl Into<String>, ids: Vec<Uuid>) -> Self {
        Reply::Error {
            error: RpcError {
                code: code.as_str().into(),
                message: message.into(),
                ids,
            },
        }
    }

    /// The reply for a request body that did not decode (for [`crate::bus::json_handler`]).
    pub fn bad_request(detail: String) -> Self {
        Reply::Error {
            error: RpcError::bad_request(detail),
        }
    }
}

/// orders -> products: the current price and availability of these products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceBasketRequest {
    pub product_ids: Vec<Uuid>,
}

/// One priced product. The reply is an error (`NOT_FOUND` or `CONFLICT` for unavailable
/// products, naming the ids) unless every product exists and is available.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedProduct {
    pub id: Uuid,
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
}

pub type PriceBasketReply = Reply<Vec<PricedProduct>>;

/// payments -> orders: what the caller owes for this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayableOrderRequest {
    pub order_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayableOrder {
    pub order_id: Uuid,
    pub user_id: Uuid,
    /// `PENDING`, `PAID`, `CANCELLED` or `DELIVERED`.
    pub status: String,
    pub currency: String,
    pub total_minor: i64,
    pub lines: Vec<OrderLine>,
}

pub type PayableOrderReply = Reply<PayableOrder>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_subject_falls_into_the_event_stream() {
        for subject in EVENT_SUBJECTS {
            let domain = subject.split('.').next().unwrap_or_default();
            assert!(
                crate::bus::EVENT_DOMAINS.contains(&domain),
                "{subject} is outside the event stream"
            );
            assert!(!subject.starts_with("rpc."), "{subject}");
        }
        let mut unique = EVENT_SUBJECTS.to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            EVENT_SUBJECTS.len(),
            "one contract per subject"
        );
    }

    #[test]
    fn an_envelope_carries_its_contracts_subject_and_version() {
        let event = Envelope::new(OrderDelivered {
            order_id: Uuid::nil(),
        });
        assert_eq!(event.event_type, "orders.delivered");
        assert_eq!(event.version, 1);
        let json = serde_json::to_vec(&event).unwrap();
        assert_eq!(Envelope::<OrderDelivered>::decode(&json), Ok(event));
    }

    #[test]
    fn decoding_applies_the_version_rule_before_reading_the_data() {
        let other = serde_json::json!({
            "event_id": Uuid::nil(), "event_type": "orders.delivered", "version": 2,
            "occurred_at": "2026-12-03T00:00:00Z", "data": { "renamed": true },
        });
        let err = Envelope::<OrderDelivered>::decode(other.to_string().as_bytes()).unwrap_err();
        assert_eq!(
            err,
            EventError::UnsupportedVersion {
                subject: "orders.delivered",
                version: 2,
                supported: 1
            }
        );
        assert!(err.to_string().contains("version 2"), "{err}");
        let err = Envelope::<OrderDelivered>::decode(b"{not json").unwrap_err();
        assert!(err.to_string().contains("cannot be read"), "{err}");
        let same_version_bad_data = serde_json::json!({
            "event_id": Uuid::nil(), "event_type": "orders.delivered", "version": 1,
            "occurred_at": "2026-12-03T00:00:00Z", "data": { "renamed": true },
        });
        assert!(matches!(
            Envelope::<OrderDelivered>::decode(same_version_bad_data.to_string().as_bytes()),
            Err(EventError::Unreadable { .. })
        ));
    }

    #[test]
    fn reply_wire_format_is_stable() {
        let ok: Reply<u8> = Reply::ok(1);
        assert_eq!(
            serde_json::to_string(&ok).unwrap(),
            r#"{"status":"ok","value":1}"#
        );
        let err: Reply<u8> = Reply::error(crate::ErrorCode::NotFound, "gone", vec![Uuid::nil()]);
        assert_eq!(
            serde_json::to_string(&err).unwrap(),
            r#"{"status":"error","error":{"code":"NOT_FOUND","message":"gone","ids":["00000000-0000-0000-0000-000000000000"]}}"#
        );
    }
}
