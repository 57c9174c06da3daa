//! The object types the orders subgraph serves.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, dataloader::DataLoader};
use chrono::{DateTime, Utc};
use kit::{
    ApiError, Currency, Money,
    auth::auth_from_ctx,
    connection::{Connection, ListSchema, Listed, TypeText, asks_for_total},
    graphql::PageRequest,
};
use uuid::Uuid;

use crate::{
    browsing::{self, ItemsLoader, OrderFilter},
    entities::{order, order_item},
    lifecycle::OrderStatus,
    sales::{self, UnitsSoldLoader},
};

/// A customer's order. Its lines and prices are fixed when it is placed.
pub struct Order {
    model: order::Model,
    /// Lines loaded together with a whole page of orders; otherwise loaded on demand.
    items: Option<Arc<Vec<order_item::Model>>>,
}

impl Order {
    pub fn new(model: order::Model) -> Self {
        Self { model, items: None }
    }

    fn currency(&self) -> Result<Currency, ApiError> {
        Currency::parse(&self.model.currency).map_err(ApiError::internal)
    }
}

/// A customer's order. Its lines and prices are fixed when it is placed.
#[Object]
impl Order {
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    async fn status(&self) -> async_graphql::Result<OrderStatus> {
        Ok(OrderStatus::of(&self.model).map_err(ApiError::from)?)
    }

    /// Who placed the order.
    async fn customer(&self) -> User {
        User {
            id: self.model.user_id,
        }
    }

    /// The id of the customer who placed the order.
    async fn user_id(&self) -> ID {
        ID(self.model.user_id.to_string())
    }

    /// The lines, in the order the customer listed the products.
    async fn items(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<OrderItem>> {
        let lines = match &self.items {
            Some(lines) => lines.clone(),
            None => {
                let loader = ctx
                    .data::<DataLoader<ItemsLoader>>()
                    .map_err(|e| ApiError::internal(e.message))?;
                loader
                    .load_one(self.model.id)
                    .await
                    .map_err(ApiError::internal)?
                    .unwrap_or_default()
            }
        };
        let currency = self.currency()?;
        Ok(lines
            .iter()
            .map(|line| OrderItem {
                line: line.clone(),
                currency,
            })
            .collect())
    }

    /// The number of units over all lines.
    async fn item_count(&self) -> i32 {
        self.model.item_count
    }

    /// The sum of the line totals.
    async fn total(&self) -> async_graphql::Result<Money> {
        Ok(Money::from_minor(self.model.total_minor, self.currency()?))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.model.updated_at
    }

    async fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.model.paid_at
    }

    async fn cancelled_at(&self) -> Option<DateTime<Utc>> {
        self.model.cancelled_at
    }

    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.model.delivered_at
    }
}

/// One line of an order, with the product's name and price as they were at purchase.
pub struct OrderItem {
    line: order_item::Model,
    currency: Currency,
}

/// One line of an order, with the product's name and price as they were at purchase.
#[Object]
impl OrderItem {
    /// The product as it is now (resolved by the products service).
    async fn product(&self) -> Product {
        Product::new(self.line.product_id)
    }

    /// The product's name when the order was placed.
    async fn product_name(&self) -> &str {
        &self.line.product_name
    }

    /// The unit price when the order was placed.
    async fn unit_price(&self) -> Money {
        Money::from_minor(self.line.unit_price_minor, self.currency)
    }

    async fn quantity(&self) -> i32 {
        self.line.quantity
    }

    /// `unitPrice` times `quantity`.
    async fn line_total(&self) -> Money {
        Money::from_minor(self.line.line_total_minor, self.currency)
    }
}

/// A product of the catalog, owned by the products service; orders adds its sales.
pub struct Product {
    id: Uuid,
    /// Counted ahead with the other products of an `_entities` call, when that is how the
    /// product was reached; otherwise counted on demand through the loader.
    units_sold: Option<i64>,
}

impl Product {
    pub fn new(id: Uuid) -> Self {
        Self {
            id,
            units_sold: None,
        }
    }

    pub fn with_units_sold(id: Uuid, units_sold: i64) -> Self {
        Self {
            id,
            units_sold: Some(units_sold),
        }
    }
}

/// A product of the catalog, owned by the products service; orders adds its sales.
#[Object]
impl Product {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// Units of this product in orders that were paid: PAID or DELIVERED, the states an
    /// order reaches only through payment. PENDING and CANCELLED orders do not count (an
    /// order can only be cancelled before payment); 0 when no paid order has the product.
    /// A refund is recorded on the payment, not the order, so it does not lower the count.
    async fn units_sold(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let units = match self.units_sold {
            Some(units) => units,
            None => {
                let loader = ctx
                    .data::<DataLoader<UnitsSoldLoader>>()
                    .map_err(|e| ApiError::internal(e.message))?;
                loader
                    .load_one(self.id)
                    .await
                    .map_err(|e| ApiError::from(&*e))?
                    .unwrap_or(0)
            }
        };
        Ok(sales::as_graphql_int(units))
    }
}

/// An account, owned by the users service; orders adds the account's orders.
pub struct User {
    pub id: Uuid,
}

/// An account (owned by the users service); orders adds the account's orders.
#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// This user's orders, newest first. Only the user themselves and admins may look.
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        status: Option<OrderStatus>,
    ) -> async_graphql::Result<OrderConnection> {
        let viewer = auth_from_ctx(ctx).require_user()?;
        if !viewer.is_admin() && viewer.user_id != self.id {
            return Err(ApiError::forbidden().into());
        }
        let request = PageRequest::new(first, after, last, before)?;
        let filter = OrderFilter {
            user_id: Some(self.id),
            status,
        };
        load_orders(ctx, filter, &request).await
    }
}

/// A page of orders (Relay connection).
pub type OrderConnection = Connection<Order>;

impl Listed for Order {
    const SCHEMA: ListSchema = ListSchema {
        connection: TypeText {
            description: Some("A page of orders (Relay connection)."),
            fields: &[
                ("edges", None),
                ("pageInfo", None),
                (
                    "totalCount",
                    Some("How many orders match, over all pages (counted only when asked for)."),
                ),
            ],
            shareable: false,
        },
        edge: TypeText {
            description: Some("An order in a connection, with the cursor to continue from it."),
            ..ListSchema::PLAIN.edge
        },
    };
}

/// One page of the orders `filter` selects. When the query asks for the orders' lines, they
/// are loaded for the whole page in one batch now rather than left to the loader's timing
/// window: a page costs two statements, always.
pub async fn load_orders(
    ctx: &Context<'_>,
    filter: OrderFilter,
    request: &PageRequest,
) -> async_graphql::Result<OrderConnection> {
    let state = super::state(ctx)?;
    let page = browsing::page(&state.db, &filter, request, asks_for_total(ctx)).await?;
    let wants_items = ctx
        .look_ahead()
        .field("edges")
        .field("node")
        .field("items")
        .exists();
    let mut items = if wants_items && !page.edges().is_empty() {
        let loader = ctx
            .data::<DataLoader<ItemsLoader>>()
            .map_err(|e| ApiError::internal(e.message))?;
        Some(
            loader
                .load_many(page.nodes().map(|o| o.id))
                .await
                .map_err(ApiError::internal)?,
        )
    } else {
        None
    };
    Ok(page.map(|model| Order {
        items: items
            .as_mut()
            .map(|lines| lines.remove(&model.id).unwrap_or_default()),
        model,
    }))
}
