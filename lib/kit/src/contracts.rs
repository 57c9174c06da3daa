//! The messages services exchange over the bus: event payloads and request/reply bodies.
//!
//! These types are the contract between services, kept in one place so a change to one
//! side is a compile error on the other. Events travel in an [`Envelope`] with a version;
//! a consumer parks versions it does not know (see [`crate::parking`]) instead of misreading them. Amounts are
//! integer minor units with an ISO currency code, as everywhere.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Event and request subjects (without any deployment prefix).
pub mod subjects {
    pub const ORDERS_CREATED: &str = "orders.created";
    pub const ORDERS_CANCELLED: &str = "orders.cancelled";
    pub const ORDERS_PAID: &str = "orders.paid";
    pub const ORDERS_DELIVERED: &str = "orders.delivered";
    /// A payment arrived for an order that can no longer take it (e.g. cancelled): refund it.
    pub const ORDERS_PAYMENT_CONFLICT: &str = "orders.payment_conflict";
    pub const PAYMENTS_SUCCEEDED: &str = "payments.succeeded";
    pub const PAYMENTS_FAILED: &str = "payments.failed";
    pub const PAYMENTS_REFUNDED: &str = "payments.refunded";

    /// orders asks products for current prices: [`super::PriceBasketRequest`].
    pub const RPC_PRODUCTS_PRICE_BASKET: &str = "rpc.products.price_basket";
    /// payments asks orders for what to charge: [`super::PayableOrderRequest`].
    pub const RPC_ORDERS_PAYABLE: &str = "rpc.orders.payable";
}

/// Every event's wrapper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub event_id: Uuid,
    /// The subject it is published on, e.g. `orders.created`.
    pub event_type: String,
    pub version: u32,
    pub occurred_at: DateTime<Utc>,
    pub data: T,
}

impl<T> Envelope<T> {
    /// A new version-1 event with a fresh time-ordered id.
    pub fn new(event_type: &str, data: T) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            event_type: event_type.to_owned(),
            version: 1,
            occurred_at: Utc::now(),
            data,
        }
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
