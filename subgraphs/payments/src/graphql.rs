//! The payments subgraph: `Payment`, `Order.payment`, `startCheckout` and `refundPayment`.
//!
//! `Order` belongs to the orders subgraph; payments contributes its `payment` field. The
//! router resolves many orders at once through `_entities`, and each `payment` goes through
//! a [`DataLoader`], so a page of N orders costs one SQL statement, not N.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context, EmptySubscription, ID, InputObject, Object, Schema, SchemaBuilder, SimpleObject,
    connection::{Connection, Edge},
    dataloader::{DataLoader, Loader},
};
use chrono::{DateTime, Utc};
use common::{
    ApiError,
    auth::{Principal, auth_from_ctx},
    graphql::{PageRequest, decode_cursor, encode_cursor, parse_id},
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use crate::{AppState, checkout, payment, payment::Payment, refunds};

pub type PaymentsSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema without its runtime data, for printing the SDL.
pub fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    common::graphql::harden(Schema::build(Query, Mutation, EmptySubscription).enable_federation())
}

pub fn schema(state: Arc<AppState>) -> PaymentsSchema {
    let loader = DataLoader::new(PaymentsByOrder(state.db.clone()), tokio::spawn);
    let parking = state.parking.clone();
    builder().data(state).data(parking).data(loader).finish()
}

/// The SDL as written to `schema/payments.graphql`.
pub fn sdl() -> String {
    common::graphql::federation_sdl(&builder().finish())
}

fn state<'a>(ctx: &'a Context<'_>) -> &'a Arc<AppState> {
    ctx.data_unchecked::<Arc<AppState>>()
}

/// Whether `caller` may see `payment`: its owner or an admin.
fn visible_to(caller: &Principal, payment: &payment::Model) -> bool {
    caller.is_admin() || payment.user_id == caller.user_id
}

/// Loads payments by order id in one statement.
pub struct PaymentsByOrder(DatabaseConnection);

impl Loader<Uuid> for PaymentsByOrder {
    type Value = payment::Model;
    type Error = Arc<String>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, payment::Model>, Self::Error> {
        let rows = payment::Entity::find()
            .filter(payment::Column::OrderId.is_in(keys.iter().copied()))
            .all(&self.0)
            .await
            .map_err(|e| Arc::new(e.to_string()))?;
        Ok(rows.into_iter().map(|p| (p.order_id, p)).collect())
    }
}

/// An order, as far as payments knows it.
pub struct Order {
    id: Uuid,
}

#[Object(name = "Order")]
impl Order {
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// The order's payment, once checkout started; visible to the order's owner and admins.
    async fn payment(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Payment>> {
        let caller = auth_from_ctx(ctx).require_user()?;
        let loaded = ctx
            .data_unchecked::<DataLoader<PaymentsByOrder>>()
            .load_one(self.id)
            .await
            .map_err(|e| ApiError::internal(e.as_str()))?;
        match loaded {
            Some(p) if visible_to(&caller, &p) => Ok(Some(Payment::try_from(p)?)),
            _ => Ok(None),
        }
    }
}

pub struct Query;

#[Object]
impl Query {
    /// A payment by id; its owner and admins only. Anyone else's payment is `NOT_FOUND`,
    /// as an unknown one is, so ids cannot be probed.
    async fn payment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Payment> {
        let caller = auth_from_ctx(ctx).require_user()?;
        let id = parse_id(&id, "id")?;
        let found = payment::Entity::find_by_id(id)
            .one(&state(ctx).db)
            .await
            .map_err(ApiError::from)?;
        match found {
            Some(p) if visible_to(&caller, &p) => Ok(Payment::try_from(p)?),
            _ => Err(ApiError::not_found("payment").into()),
        }
    }

    /// Payments needing a person's attention (e.g. amount mismatches), oldest first; admins only.
    async fn flagged_payments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<Connection<String, Payment, PaymentConnectionFields>> {
        auth_from_ctx(ctx).require_admin()?;
        let page = PageRequest::new(first, after, last, before)?;
        let db = &state(ctx).db;
        let flagged = payment::Entity::find().filter(payment::Column::Flag.is_not_null());
        let total_count = flagged.clone().count(db).await.map_err(ApiError::from)?;
        // One row more than asked tells whether another page follows. Ids are UUIDv7, so
        // their order is creation order.
        let (rows, has_previous, has_next) = match &page {
            PageRequest::Forward { limit, after } => {
                let mut q = flagged.order_by_asc(payment::Column::Id).limit(limit + 1);
                if let Some(cursor) = after {
                    q = q.filter(payment::Column::Id.gt(decode_cursor::<Uuid>(cursor, "after")?));
                }
                let mut rows = q.all(db).await.map_err(ApiError::from)?;
                let more = rows.len() as u64 > *limit;
                rows.truncate(*limit as usize);
                (rows, after.is_some(), more)
            }
            PageRequest::Backward { limit, before } => {
                let mut q = flagged.order_by_desc(payment::Column::Id).limit(limit + 1);
                if let Some(cursor) = before {
                    q = q.filter(payment::Column::Id.lt(decode_cursor::<Uuid>(cursor, "before")?));
                }
                let mut rows = q.all(db).await.map_err(ApiError::from)?;
                let more = rows.len() as u64 > *limit;
                rows.truncate(*limit as usize);
                rows.reverse();
                (rows, more, before.is_some())
            }
        };
        let mut connection = Connection::with_additional_fields(
            has_previous,
            has_next,
            PaymentConnectionFields { total_count },
        );
        for row in rows {
            let cursor = encode_cursor(&row.id);
            connection
                .edges
                .push(Edge::new(cursor, Payment::try_from(row)?));
        }
        Ok(connection)
    }

    #[graphql(entity)]
    async fn find_order_by_id(&self, id: ID) -> async_graphql::Result<Order> {
        Ok(Order {
            id: parse_id(&id, "id")?,
        })
    }

    /// Admin only: events this service could not process and parked (an unreadable
    /// `orders.payment_conflict`, or one whose refund kept failing), oldest first.
    /// Replayed ones only with `includeReplayed`.
    async fn parked_payment_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most 100; default 20.")] first: Option<i32>,
        #[graphql(desc = "The `id` of the last event of the previous page.")] after: Option<ID>,
        include_replayed: Option<bool>,
    ) -> async_graphql::Result<Vec<common::parking::ParkedEvent>> {
        Ok(common::parking::list_for_admin(ctx, first, after, include_replayed).await?)
    }
}

#[derive(Debug, SimpleObject)]
pub struct PaymentConnectionFields {
    pub total_count: u64,
}

#[derive(Debug, InputObject)]
pub struct StartCheckoutInput {
    /// The PENDING order to pay; the amount is taken from the order, never from the client.
    pub order_id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct StartCheckoutPayload {
    pub payment: Payment,
    /// Where to send the customer to pay.
    pub checkout_url: String,
    /// After this the session cannot be paid; calling `startCheckout` again makes a new one.
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, InputObject)]
pub struct RefundPaymentInput {
    pub payment_id: ID,
}

#[derive(Debug, SimpleObject)]
pub struct RefundPaymentPayload {
    pub payment: Payment,
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// Opens (or reopens) a checkout session for the caller's PENDING order.
    async fn start_checkout(
        &self,
        ctx: &Context<'_>,
        input: StartCheckoutInput,
    ) -> async_graphql::Result<StartCheckoutPayload> {
        let caller = auth_from_ctx(ctx).require_user()?;
        let order_id = parse_id(&input.order_id, "orderId")?;
        let checkout = checkout::start_checkout(state(ctx), caller, order_id)
            .await
            .map_err(ApiError::from)?;
        Ok(StartCheckoutPayload {
            payment: Payment::try_from(checkout.payment)?,
            checkout_url: checkout.url,
            expires_at: checkout.expires_at,
        })
    }

    /// Refunds a succeeded payment in full (admins only).
    async fn refund_payment(
        &self,
        ctx: &Context<'_>,
        input: RefundPaymentInput,
    ) -> async_graphql::Result<RefundPaymentPayload> {
        auth_from_ctx(ctx).require_admin()?;
        let payment_id = parse_id(&input.payment_id, "paymentId")?;
        let payment = refunds::refund_payment(state(ctx), payment_id)
            .await
            .map_err(ApiError::from)?;
        Ok(RefundPaymentPayload {
            payment: Payment::try_from(payment)?,
        })
    }

    /// Admin only: handles a parked event again (after its cause was fixed). On success it
    /// is marked replayed; otherwise `CONFLICT` says why it still fails.
    async fn replay_parked_payment_event(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<common::parking::ParkedEvent> {
        Ok(common::parking::replay_for_admin(ctx, id).await?)
    }
}
