//! The orders subgraph's GraphQL schema (Federation v2): `Order` and its lines, the
//! `User.orders` connection contributed to the users service's `User`, `Product.unitsSold`
//! contributed to the products service's `Product`, and the order mutations.
//!
//! Resolvers stay thin: they authenticate, call the feature modules, and convert those
//! modules' errors into client errors through each error's `From` impl.

mod mutation;
mod objects;
mod query;

use std::sync::Arc;

use async_graphql::{
    EmptySubscription, Request, Schema, SchemaBuilder, ServerResult,
    dataloader::DataLoader,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest},
};
use kit::{ApiError, outbox::OutboxRelay, parking::ParkingLot};
use sea_orm::DatabaseConnection;

pub use mutation::Mutation;
pub use objects::{Order, OrderConnection, OrderItem, Product, User};
pub use query::Query;

use crate::{
    browsing::{ItemsLoader, OrderLoader},
    metrics::Metrics,
    ordering::PriceClient,
    sales::{RequestSales, UnitsSoldLoader},
};

pub type OrdersSchema = Schema<Query, Mutation, EmptySubscription>;

/// What resolvers need, shared by all requests.
pub struct ApiState {
    pub db: DatabaseConnection,
    pub relay: OutboxRelay,
    pub prices: PriceClient,
    pub metrics: Metrics,
    /// Parked events, for the admin's list and replay.
    pub parking: ParkingLot,
}

/// The schema's types and limits, without the runtime data (enough to print the SDL).
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    kit::graphql::harden(Schema::build(Query, Mutation, EmptySubscription)).enable_federation()
}

/// The executable schema.
pub fn schema(state: ApiState) -> OrdersSchema {
    // The loaders do not cache (each load sees the current rows) but batch the loads made
    // while one request resolves, which is what keeps a page of orders at two statements.
    let items = DataLoader::new(ItemsLoader(state.db.clone()), tokio::spawn);
    let orders = DataLoader::new(OrderLoader(state.db.clone()), tokio::spawn);
    let units_sold = DataLoader::new(UnitsSoldLoader(state.db.clone()), tokio::spawn);
    let parking = state.parking.clone();
    schema_builder()
        .data(state)
        .data(parking)
        .data(items)
        .data(orders)
        .data(units_sold)
        .extension(PerRequestSales)
        .finish()
}

/// Gives every request a fresh [`RequestSales`], where the representations of one
/// `_entities` call share the statement that counts their units sold.
struct PerRequestSales;

impl ExtensionFactory for PerRequestSales {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequestSales)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for PerRequestSales {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        next.run(ctx, request.data(RequestSales::default())).await
    }
}

/// The SDL written to `schema/orders.graphql`.
pub fn sdl() -> String {
    kit::graphql::federation_sdl(&schema_builder().finish())
}

fn state<'a>(ctx: &async_graphql::Context<'a>) -> Result<&'a ApiState, ApiError> {
    ctx.data::<ApiState>()
        .map_err(|e| ApiError::internal(e.message))
}
