//! Placing, cancelling and delivering orders. Each mutation takes one `input` object and
//! returns a payload holding the order as it is afterwards.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use kit::{ApiError, auth::auth_from_ctx, graphql::parse_id};

use super::objects::Order;
use crate::{
    lifecycle::{self, Command},
    ordering::{self, RequestedLine},
};

pub struct Mutation;

/// One product and how many of it.
#[derive(InputObject)]
pub struct OrderItemInput {
    pub product_id: ID,
    /// From 1 to 1000; the same product listed twice is merged into one line.
    pub quantity: i32,
}

#[derive(InputObject)]
pub struct CreateOrderInput {
    /// From 1 to 100 lines.
    pub items: Vec<OrderItemInput>,
}

#[derive(SimpleObject)]
pub struct CreateOrderPayload {
    pub order: Order,
}

#[derive(InputObject)]
pub struct CancelOrderInput {
    pub order_id: ID,
}

#[derive(SimpleObject)]
pub struct CancelOrderPayload {
    pub order: Order,
}

#[derive(InputObject)]
pub struct MarkOrderDeliveredInput {
    pub order_id: ID,
}

#[derive(SimpleObject)]
pub struct MarkOrderDeliveredPayload {
    pub order: Order,
}

#[Object]
impl Mutation {
    /// Places an order at the products' current prices. Unknown or unavailable products are
    /// `BAD_USER_INPUT` on `items`, naming them; an unreachable catalog is
    /// `SERVICE_UNAVAILABLE`. Either way nothing is stored.
    async fn create_order(
        &self,
        ctx: &Context<'_>,
        input: CreateOrderInput,
    ) -> async_graphql::Result<CreateOrderPayload> {
        let viewer = auth_from_ctx(ctx).require_user()?;
        let state = super::state(ctx)?;
        let requested: Vec<RequestedLine> = input
            .items
            .into_iter()
            .map(|i| RequestedLine {
                product_id: i.product_id.0,
                quantity: i.quantity,
            })
            .collect();
        let order = ordering::place_order(
            &state.db,
            &state.relay,
            &state.prices,
            viewer.user_id,
            &requested,
        )
        .await
        .map_err(ApiError::from)?;
        state.metrics.order_created();
        Ok(CreateOrderPayload {
            order: Order::new(order),
        })
    }

    /// Cancels a PENDING order; its owner or an admin may.
    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        input: CancelOrderInput,
    ) -> async_graphql::Result<CancelOrderPayload> {
        let viewer = auth_from_ctx(ctx).require_user()?;
        let order_id = parse_id(&input.order_id, "orderId")?;
        let state = super::state(ctx)?;
        let order = lifecycle::apply_command(
            &state.db,
            &state.relay,
            order_id,
            Command::Cancel { by: viewer },
        )
        .await
        .map_err(ApiError::from)?;
        Ok(CancelOrderPayload {
            order: Order::new(order),
        })
    }

    /// Records that a PAID order was delivered; admins only.
    async fn mark_order_delivered(
        &self,
        ctx: &Context<'_>,
        input: MarkOrderDeliveredInput,
    ) -> async_graphql::Result<MarkOrderDeliveredPayload> {
        let viewer = auth_from_ctx(ctx).require_admin()?;
        let order_id = parse_id(&input.order_id, "orderId")?;
        let state = super::state(ctx)?;
        let order = lifecycle::apply_command(
            &state.db,
            &state.relay,
            order_id,
            Command::Deliver { by: viewer },
        )
        .await
        .map_err(ApiError::from)?;
        Ok(MarkOrderDeliveredPayload {
            order: Order::new(order),
        })
    }

    /// Admin only: handles a parked event again (after its cause was fixed). On success it
    /// is marked replayed; otherwise `CONFLICT` says why it still fails.
    async fn replay_parked_order_event(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<kit::parking::ParkedEvent> {
        Ok(kit::parking::replay_for_admin(ctx, id).await?)
    }
}
