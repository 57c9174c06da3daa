//! Queries and the federation entity resolvers.

use async_graphql::{Context, ID, Object, dataloader::DataLoader};
use common::{ApiError, auth::auth_from_ctx, graphql::{PageRequest, parse_id}};

use super::objects::{Order, OrderConnection, User};
use crate::{
    browsing::{self, OrderFilter, OrderLoader},
    lifecycle::OrderStatus,
};

pub struct Query;

#[Object]
impl Query {
    /// One order. Customers see only their own; anyone else's is reported as not found.
    async fn order(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Order> {
        let viewer = auth_from_ctx(ctx).require_user()?;
        let id = parse_id(&id, "id")?;
        let state = super::state(ctx)?;
        let order = browsing::find_visible(&state.db, &viewer, id).await.map_err(ApiError::from)?;
        Ok(Order::new(order))
    }

    /// Orders, newest first. Customers see their own; admins see everyone's and may filter
    /// by customer.
    #[allow(clippy::too_many_arguments, reason = "one parameter per GraphQL argument")]
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
        let customer_id = customer_id.map(|id| parse_id(&id, "customerId")).transpose()?;
        let filter = OrderFilter::for_viewer(&viewer, customer_id, status).map_err(ApiError::from)?;
        OrderConnection::load(ctx, filter, &request).await
    }

    /// Resolves `Order` references for the router (e.g. from payments' `Payment.order`).
    /// Orders the caller may not see resolve to null.
    #[graphql(entity)]
    async fn find_order_by_id(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Order>> {
        let viewer = auth_from_ctx(ctx).require_user()?;
        let Ok(id) = uuid::Uuid::parse_str(id.as_str()) else { return Ok(None) };
        let loader = ctx.data::<DataLoader<OrderLoader>>().map_err(|e| ApiError::internal(e.message))?;
        let order = loader.load_one(id).await.map_err(ApiError::internal)?;
        Ok(order.filter(|o| browsing::can_see(&viewer, o)).map(Order::new))
    }

    /// Resolves `User` references so the router can ask for `User.orders`.
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> async_graphql::Result<User> {
        Ok(User { id: parse_id(&id, "id")? })
    }
}
