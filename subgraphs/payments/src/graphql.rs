//! The payments subgraph: `Payment`, `Order.payment`, `startCheckout` and `refundPayment`.
//!
//! `Order` belongs to the orders subgraph; payments contributes its `payment` field. The
//! router resolves many orders at once through `_entities`, and each `payment` goes through
//! a [`DataLoader`], so a page of N orders costs one SQL statement, not N.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context, EmptySubscription, ID, InputObject, Object, Schema, SchemaBuilder, SimpleObject,
    dataloader::{DataLoader, Loader},
};
use chrono::{DateTime, Utc};
use kit::{
    ApiError,
    auth::{Principal, auth_from_ctx},
    connection::{Connection, ListSchema, Listed, TypeText, asks_for_total},
    graphql::{PageRequest, parse_id},
    keyset::Keyset,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{AppState, checkout, payment, payment::Payment, refunds};

pub type PaymentsSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema without its runtime data, for printing the SDL.
pub fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    kit::graphql::harden(Schema::build(Query, Mutation, EmptySubscription).enable_federation())
}

pub fn schema(state: Arc<AppState>) -> PaymentsSchema {
    let loader = DataLoader::new(PaymentsByOrder(state.db.clone()), tokio::spawn);
    let parking = state.parking.clone();
    builder().data(state).data(parking).data(loader).finish()
}

/// The SDL as written to `schema/payments.graphql`.
pub fn sdl() -> String {
    kit::graphql::federation_sdl(&builder().finish())
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
    ) -> async_graphql::Result<Connection<Payment>> {
        auth_from_ctx(ctx).require_admin()?;
        let page = PageRequest::new(first, after, last, before)?;
        let flagged = payment::Entity::find().filter(payment::Column::Flag.is_not_null());
        // Ids are UUIDv7, so their order is creation order.
        let rows = Keyset::new(
            "payments:flagged",
            [payment::Column::Id],
            sea_orm::Order::Asc,
        )
        .page(
            &state(ctx).db,
            flagged,
            &page,
            |p| (p.id,),
            asks_for_total(ctx),
        )
        .await?;
        Ok(rows.try_map(Payment::try_from)?)
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
    ) -> async_graphql::Result<Vec<kit::parking::ParkedEvent>> {
        Ok(kit::parking::list_for_admin(ctx, first, after, include_replayed).await?)
    }
}

/// `PaymentConnection` and `PaymentEdge` as they were first published (with `nodes`).
impl Listed for Payment {
    const SCHEMA: ListSchema = ListSchema {
        connection: TypeText {
            description: None,
            fields: &[
                ("pageInfo", Some("Information to aid in pagination.")),
                ("edges", Some("A list of edges.")),
                ("nodes", Some("A list of nodes.")),
                ("totalCount", None),
            ],
            shareable: true,
        },
        edge: TypeText {
            description: Some("An edge in a connection."),
            fields: &[
                ("node", Some("The item at the end of the edge")),
                ("cursor", Some("A cursor for use in pagination")),
            ],
            shareable: true,
        },
    };
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
    ) -> async_graphql::Result<kit::parking::ParkedEvent> {
        Ok(kit::parking::replay_for_admin(ctx, id).await?)
    }
}
