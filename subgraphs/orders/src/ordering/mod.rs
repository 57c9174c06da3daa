//! Placing an order: validate the basket, price it with the products service, snapshot
//! each line's name and unit price, total it in integer minor units, and store the order
//! together with its `orders.created` event in one transaction.
//!
//! Nothing is written unless every step succeeds: a bad basket, an unknown or unavailable
//! product, mixed currencies, an overflowing total or an unreachable products service all
//! end the request before the transaction starts.

pub mod basket;
pub mod pricing;

use std::collections::HashMap;

use kit::{
    ApiError, Currency, Money,
    contracts::{OrderCreated, OrderLine, PricedProduct},
    money::MoneyError,
    outbox::OutboxRelay,
};
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait, TransactionTrait};
use uuid::Uuid;

pub use basket::{Basket, BasketError, RequestedLine};
pub use pricing::{PriceClient, PricingError};

use crate::{
    entities::{order, order_item},
    lifecycle::OrderStatus,
};

#[derive(Debug, thiserror::Error)]
pub enum OrderingError {
    #[error(transparent)]
    Basket(#[from] BasketError),
    #[error(transparent)]
    Pricing(#[from] PricingError),
    #[error("all products of an order must share one currency; these are priced in {}", .0.join(", "))]
    MixedCurrencies(Vec<String>),
    #[error("the order total is too large")]
    TotalTooLarge,
    #[error("product {0} is priced in an unknown currency `{1}`")]
    UnknownCurrency(Uuid, String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<OrderingError> for ApiError {
    fn from(err: OrderingError) -> Self {
        match err {
            OrderingError::Basket(e) => ApiError::bad_input(e.field(), e.to_string()),
            OrderingError::Pricing(e) => e.into(),
            e @ (OrderingError::MixedCurrencies(_) | OrderingError::TotalTooLarge) => {
                ApiError::bad_input("items", e.to_string())
            }
            e @ (OrderingError::UnknownCurrency(..) | OrderingError::Db(_)) => {
                ApiError::internal(e)
            }
        }
    }
}

/// A priced basket, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedBasket {
    pub currency: Currency,
    pub total: Money,
    pub item_count: i32,
    pub lines: Vec<OrderLine>,
}

/// Snapshots the prices of `basket` and totals it with checked arithmetic.
pub fn price_basket(
    basket: &Basket,
    prices: &HashMap<Uuid, PricedProduct>,
) -> Result<PricedBasket, OrderingError> {
    let mut currencies: Vec<String> = Vec::new();
    let mut lines = Vec::with_capacity(basket.lines().len());
    let mut total: Option<Money> = None;
    let mut item_count: i32 = 0;
    for &(product_id, quantity) in basket.lines() {
        let priced = prices
            .get(&product_id)
            .ok_or(PricingError::BadReply(product_id))?;
        let currency = Currency::parse(&priced.currency)
            .map_err(|_| OrderingError::UnknownCurrency(product_id, priced.currency.clone()))?;
        if !currencies.iter().any(|c| c == currency.code()) {
            currencies.push(currency.code().to_owned());
        }
        let unit = Money::from_minor(priced.price_minor, currency);
        let line_total = unit
            .checked_mul(i64::from(quantity))
            .map_err(|_| OrderingError::TotalTooLarge)?;
        total = Some(match total {
            None => line_total,
            Some(sum) => match sum.checked_add(line_total) {
                Ok(sum) => sum,
                Err(MoneyError::CurrencyMismatch { .. }) => continue,
                Err(_) => return Err(OrderingError::TotalTooLarge),
            },
        });
        item_count = item_count
            .checked_add(quantity)
            .ok_or(OrderingError::TotalTooLarge)?;
        lines.push(OrderLine {
            product_id,
            name: priced.name.clone(),
            unit_price_minor: priced.price_minor,
            quantity,
            line_total_minor: line_total.minor_units(),
        });
    }
    if currencies.len() > 1 {
        return Err(OrderingError::MixedCurrencies(currencies));
    }
    let total = total.ok_or(BasketError::Empty)?;
    Ok(PricedBasket {
        currency: total.currency(),
        total,
        item_count,
        lines,
    })
}

/// Places an order for `user_id`: prices `requested` and stores the order and its event.
pub async fn place_order(
    db: &DatabaseConnection,
    relay: &OutboxRelay,
    prices: &PriceClient,
    user_id: Uuid,
    requested: &[RequestedLine],
) -> Result<order::Model, OrderingError> {
    let basket = Basket::new(requested)?;
    let current = prices.prices(&basket.product_ids()).await?;
    let priced = price_basket(&basket, &current)?;

    let now = crate::entities::now();
    let order = order::Model {
        id: Uuid::now_v7(),
        user_id,
        status: OrderStatus::Pending.as_str().to_owned(),
        currency: priced.currency.code().to_owned(),
        total_minor: priced.total.minor_units(),
        item_count: priced.item_count,
        payment_id: None,
        created_at: now,
        updated_at: now,
        paid_at: None,
        cancelled_at: None,
        delivered_at: None,
    };
    let items = priced
        .lines
        .iter()
        .zip(0..)
        .map(|(line, position)| order_item::ActiveModel {
            order_id: Set(order.id),
            position: Set(position),
            product_id: Set(line.product_id),
            product_name: Set(line.name.clone()),
            unit_price_minor: Set(line.unit_price_minor),
            quantity: Set(line.quantity),
            line_total_minor: Set(line.line_total_minor),
        });
    let event = OrderCreated {
        order_id: order.id,
        user_id,
        currency: order.currency.clone(),
        total_minor: order.total_minor,
        lines: priced.lines.clone(),
    };

    let txn = db.begin().await?;
    order::Entity::insert(sea_orm::IntoActiveModel::into_active_model(order.clone()))
        .exec_without_returning(&txn)
        .await?;
    order_item::Entity::insert_many(items)
        .exec_without_returning(&txn)
        .await?;
    kit::outbox::publish(&txn, &event).await?;
    txn.commit().await?;
    relay.notify();
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn priced(id: Uuid, price_minor: i64, currency: &str) -> (Uuid, PricedProduct) {
        (
            id,
            PricedProduct {
                id,
                name: format!("product {id}"),
                price_minor,
                currency: currency.into(),
            },
        )
    }

    fn basket(lines: &[(Uuid, i32)]) -> Basket {
        let requested: Vec<_> = lines
            .iter()
            .map(|(id, q)| RequestedLine {
                product_id: id.to_string(),
                quantity: *q,
            })
            .collect();
        Basket::new(&requested).unwrap()
    }

    #[test]
    fn totals_lines_in_minor_units() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let prices = HashMap::from([priced(a, 1999, "EUR"), priced(b, 5, "EUR")]);
        let result = price_basket(&basket(&[(a, 3), (b, 1000)]), &prices).unwrap();
        assert_eq!(result.total.minor_units(), 3 * 1999 + 5000);
        assert_eq!(result.item_count, 1003);
        assert_eq!(result.lines[0].line_total_minor, 5997);
        assert_eq!(result.currency.code(), "EUR");
    }

    #[test]
    fn refuses_mixed_currencies_and_overflow() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let mixed = HashMap::from([priced(a, 100, "EUR"), priced(b, 100, "USD")]);
        let err = price_basket(&basket(&[(a, 1), (b, 1)]), &mixed).unwrap_err();
        assert!(matches!(&err, OrderingError::MixedCurrencies(c) if c == &["EUR", "USD"]));
        assert_eq!(ApiError::from(err).field.as_deref(), Some("items"));

        let huge = HashMap::from([
            priced(a, i64::MAX / 2, "EUR"),
            priced(b, i64::MAX / 2, "EUR"),
        ]);
        let err = price_basket(&basket(&[(a, 1), (b, 2)]), &huge).unwrap_err();
        assert!(matches!(err, OrderingError::TotalTooLarge));
        let err = price_basket(&basket(&[(a, 3)]), &huge).unwrap_err();
        assert!(matches!(err, OrderingError::TotalTooLarge));
    }
}
