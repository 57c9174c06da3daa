//! Queries and the federation entity resolvers.

use async_graphql::{Context, ID, Object, Value, dataloader::DataLoader};
use kit::{
    ApiError,
    auth::auth_from_ctx,
    graphql::{PageRequest, parse_id},
};

use uuid::Uuid;

use super::objects::{Order, OrderConnection, Product, User, load_orders};
use crate::{
    browsing::{self, OrderFilter, OrderLoader},
    lifecycle::OrderStatus,
    sales::RequestSales,
};

pub struct Query;

/// The ids of the `Product` representations of the `_entities` field `ctx` resolves;
/// ill-formed ones are left out (their own resolution reports them).
fn represented_products(ctx: &Context<'_>) -> Vec<Uuid> {
    let Ok(arguments) = ctx.field().arguments() else {
        return Vec::new();
    };
    let Some(Value::List(representations)) = arguments
        .into_iter()
        .find_map(|(name, value)| (name.as_str() == "representations").then_some(value))
    else {
        return Vec::new();
    };
    representations
        .iter()
        .filter_map(|rep| match rep {
            Value::Object(fields) => Some(fields),
            _ => None,
        })
        .filter(
            |fields| matches!(fields.get("__typename"), Some(Value::String(t)) if t == "Product"),
        )
        .filter_map(|fields| match fields.get("id") {
            Some(Value::String(id)) => Uuid::parse_str(id).ok(),
            _ => None,
        })
        .collect()
}

#[Object]
impl Query {
    /// One order. Customers see only their own; anyone else's is reported as not found.
    async fn order(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Order> {
        let viewer = auth_from_ctx(ctx).require_user()?;
        let id = parse_id(&id, "id")?;
        let state = super::state(ctx)?;
        let order = browsing::find_visible(&state.db, &viewer, id)
            .await
            .map_err(ApiError::from)?;
        Ok(Order::new(order))
    }

    /// Orders, newest first. Customers see their own; admins see everyone's and may filter
    /// by customer.
    #[allow(
        clippy::too_many_arguments,
        reason = "one parameter per GraphQL argument"
    )]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        status: Option<OrderStatus>,
        customer_id: Option<ID>,
    ) -> async_graphql::Result<OrderConnection> {
        let viewer = auth_from_ctx(ctx).require_user()?;
        let request = PageRequest::new(first, after, last, before)?;
        let customer_id = customer_id
            .map(|id| parse_id(&id, "customerId"))
            .transpose()?;
        let filter =
            OrderFilter::for_viewer(&viewer, customer_id, status).map_err(ApiError::from)?;
        load_orders(ctx, filter, &request).await
    }

    /// Resolves `Order` references for the router (e.g. from payments' `Payment.order`).
    /// Orders the caller may not see resolve to null.
    #[graphql(entity)]
    async fn find_order_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Order>> {
        let viewer = auth_from_ctx(ctx).require_user()?;
        let Ok(id) = uuid::Uuid::parse_str(id.as_str()) else {
            return Ok(None);
        };
        let loader = ctx
            .data::<DataLoader<OrderLoader>>()
            .map_err(|e| ApiError::internal(e.message))?;
        let order = loader.load_one(id).await.map_err(ApiError::internal)?;
        Ok(order
            .filter(|o| browsing::can_see(&viewer, o))
            .map(Order::new))
    }

    /// Resolves `Product` references so the router can ask for `Product.unitsSold`. Any
    /// well-formed id resolves (a product orders never saw sold 0); an ill-formed one is
    /// `BAD_USER_INPUT` and never reaches the database. Sales figures are public, like the
    /// catalog. When `unitsSold` is selected, the first representation resolved counts the
    /// units of every product of this `_entities` call in one statement.
    #[graphql(entity)]
    async fn find_product_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Product> {
        let id = parse_id(&id, "id")?;
        if !ctx.look_ahead().field("unitsSold").exists() {
            return Ok(Product::new(id));
        }
        let state = super::state(ctx)?;
        let sales = ctx
            .data::<RequestSales>()
            .map_err(|e| ApiError::internal(e.message))?;
        // This resolver runs in the context of the `_entities` field itself.
        let call = ctx.item.node.response_key().node.as_str();
        let batch = sales
            .batch(call, &state.db, || represented_products(ctx))
            .await
            .map_err(|e| ApiError::from(&*e))?;
        Ok(match batch.get(id) {
            Some(units) => Product::with_units_sold(id, units),
            // Not among the representations the batch read (they are the same list, so this
            // should not happen): count it on its own rather than report a wrong 0.
            None => Product::new(id),
        })
    }

    /// Resolves `User` references so the router can ask for `User.orders`.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> async_graphql::Result<User> {
        Ok(User {
            id: parse_id(&id, "id")?,
        })
    }

    /// Admin only: events this service could not process and parked (an unreadable or
    /// unknown-version `payments.succeeded`, or one whose handling kept failing), oldest
    /// first. Replayed ones only with `includeReplayed`.
    async fn parked_order_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most 100; default 20.")] first: Option<i32>,
        #[graphql(desc = "The `id` of the last event of the previous page.")] after: Option<ID>,
        include_replayed: Option<bool>,
    ) -> async_graphql::Result<Vec<kit::parking::ParkedEvent>> {
        Ok(kit::parking::list_for_admin(ctx, first, after, include_replayed).await?)
    }
}
