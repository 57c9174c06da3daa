//! Asking the orders service what an order costs (`rpc.orders.payable`).
//!
//! The amount, currency and lines of a checkout come only from here, never from the
//! client. The answer is checked before it is trusted: the lines must add up to the total
//! in the order's currency, so a bug on either side cannot turn into a wrong charge.

use std::time::Duration;

use kit::{
    ApiError, Currency, ErrorCode,
    bus::{BusError, EventBus, request_json},
    contracts::{PayableOrder, PayableOrderReply, PayableOrderRequest, Reply, subjects},
};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum OrdersError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error("order {0} not found")]
    NotFound(Uuid),
    #[error("orders refused the request: {code}: {message}")]
    Refused { code: String, message: String },
    #[error("orders answered with an inconsistent order: {0}")]
    Inconsistent(String),
}

impl From<OrdersError> for ApiError {
    fn from(err: OrdersError) -> Self {
        match err {
            OrdersError::Bus(e) => e.into(),
            OrdersError::NotFound(_) => ApiError::not_found("order"),
            OrdersError::Refused { code, message } if code == ErrorCode::Forbidden.as_str() => {
                tracing::debug!(%message, "orders refused");
                ApiError::forbidden()
            }
            other => ApiError::internal(other),
        }
    }
}

/// An order's payable state, checked.
#[derive(Debug, Clone)]
pub struct Payable {
    pub order: PayableOrder,
    pub currency: Currency,
}

pub async fn fetch_payable(
    bus: &dyn EventBus,
    order_id: Uuid,
    timeout: Duration,
) -> Result<Payable, OrdersError> {
    let reply: PayableOrderReply = request_json(
        bus,
        subjects::RPC_ORDERS_PAYABLE,
        &PayableOrderRequest { order_id },
        timeout,
    )
    .await?;
    let order = match reply {
        Reply::Ok { value } => value,
        Reply::Error { error } if error.code == ErrorCode::NotFound.as_str() => {
            return Err(OrdersError::NotFound(order_id));
        }
        Reply::Error { error } => {
            return Err(OrdersError::Refused {
                code: error.code,
                message: error.message,
            });
        }
    };
    check(order_id, order)
}

fn check(order_id: Uuid, order: PayableOrder) -> Result<Payable, OrdersError> {
    if order.order_id != order_id {
        return Err(OrdersError::Inconsistent(format!(
            "asked for {order_id}, got {}",
            order.order_id
        )));
    }
    let currency =
        Currency::parse(&order.currency).map_err(|e| OrdersError::Inconsistent(e.to_string()))?;
    let mut sum: i64 = 0;
    for line in &order.lines {
        let expected = i64::from(line.quantity).checked_mul(line.unit_price_minor);
        if line.quantity <= 0
            || line.unit_price_minor < 0
            || expected != Some(line.line_total_minor)
        {
            return Err(OrdersError::Inconsistent(format!(
                "line of product {} does not add up",
                line.product_id
            )));
        }
        sum = sum
            .checked_add(line.line_total_minor)
            .ok_or_else(|| OrdersError::Inconsistent("total overflows".into()))?;
    }
    if order.lines.is_empty() || sum != order.total_minor {
        return Err(OrdersError::Inconsistent(format!(
            "lines add up to {sum}, total is {}",
            order.total_minor
        )));
    }
    Ok(Payable { order, currency })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kit::contracts::OrderLine;

    fn order(lines: Vec<(i64, i32)>, total: i64) -> PayableOrder {
        PayableOrder {
            order_id: Uuid::nil(),
            user_id: Uuid::nil(),
            status: "PENDING".into(),
            currency: "EUR".into(),
            total_minor: total,
            lines: lines
                .into_iter()
                .map(|(price, qty)| OrderLine {
                    product_id: Uuid::nil(),
                    name: "x".into(),
                    unit_price_minor: price,
                    quantity: qty,
                    line_total_minor: price * i64::from(qty),
                })
                .collect(),
        }
    }

    #[test]
    fn accepts_consistent_orders() {
        let p = check(Uuid::nil(), order(vec![(1999, 2), (500, 1)], 4498)).unwrap();
        assert_eq!(p.currency.code(), "EUR");
    }

    #[test]
    fn rejects_totals_that_do_not_add_up() {
        assert!(matches!(
            check(Uuid::nil(), order(vec![(1999, 2)], 1)),
            Err(OrdersError::Inconsistent(_))
        ));
        assert!(matches!(
            check(Uuid::nil(), order(vec![], 0)),
            Err(OrdersError::Inconsistent(_))
        ));
        assert!(matches!(
            check(Uuid::now_v7(), order(vec![(1, 1)], 1)),
            Err(OrdersError::Inconsistent(_))
        ));
        let mut bad_line = order(vec![(100, 2)], 200);
        bad_line.lines[0].line_total_minor = 150;
        bad_line.total_minor = 150;
        assert!(matches!(
            check(Uuid::nil(), bad_line),
            Err(OrdersError::Inconsistent(_))
        ));
    }
}
