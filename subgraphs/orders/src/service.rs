//! Starting and stopping the service: the database ([`crate::store`]), the bus workers
//! ([`crate::events`]), the outbox relay and the schema ([`crate::graphql`]), run by
//! [`kit::service`], which also fixes the shutdown order.

use std::net::SocketAddr;

use anyhow::Context as _;
use kit::{
    db::StatementCounter,
    outbox::OutboxRelay,
    parking::ParkingLot,
    service::{Runtime, ServiceBuilder},
};
use sea_orm::DatabaseConnection;

use crate::{
    config::Config,
    events::{self, EventContext},
    graphql::{self, ApiState},
    metrics::Metrics,
    ordering::PriceClient,
    store,
};

/// What the service gets from outside: the kit's bus and token verifier.
pub use kit::service::Deps;

/// A started service. Dropping it aborts its workers and relay; [`RunningService::stop`]
/// shuts down gracefully.
pub struct RunningService {
    pub addr: SocketAddr,
    /// `/metrics`, when `ORDERS_METRICS_ADDR` is set.
    pub metrics_addr: Option<SocketAddr>,
    pub db: DatabaseConnection,
    /// Statements run on `db` since start-up.
    pub statements: StatementCounter,
    pub relay: OutboxRelay,
    /// Events the consumers parked.
    pub parking: ParkingLot,
    runtime: Runtime,
}

impl RunningService {
    /// Stops taking requests and lets in-flight ones finish, stops the consumer and the
    /// responder, then publishes what is left in the outbox (whatever cannot be published
    /// stays queued for the next start).
    pub async fn stop(self) {
        self.runtime.stop().await;
    }
}

/// Starts the service on `config.addr` (port 0 picks a free one).
pub async fn start(config: Config, deps: Deps) -> anyhow::Result<RunningService> {
    let (db, statements) = store::connect_and_migrate(&config.database).await?;
    let metrics = Metrics::default();
    let relay = OutboxRelay::new(db.clone(), deps.bus.clone());
    let parking = ParkingLot::new(db.clone(), deps.bus.clone());
    let workers = events::start(
        &deps.bus,
        EventContext {
            db: db.clone(),
            relay: relay.clone(),
            parking: parking.clone(),
            metrics: metrics.clone(),
        },
    )
    .await
    .context("cannot subscribe to the bus")?;

    let schema = graphql::schema(ApiState {
        db: db.clone(),
        relay: relay.clone(),
        prices: PriceClient::new(deps.bus.clone(), config.price_timeout),
        metrics: metrics.clone(),
        parking: parking.clone(),
    });
    let runtime = ServiceBuilder::new("orders", &config.internal, config.addr)
        .graphql(schema, deps.verifier.clone())
        .database(db.clone())
        .bus(deps.bus.clone())
        .metrics(metrics.registry(statements.clone(), &parking))
        .workers(workers)
        .relay(relay.clone())
        .start()
        .await?;
    tracing::info!(addr = %runtime.addr(), bus = deps.bus.kind(), "orders service started");

    Ok(RunningService {
        addr: runtime.addr(),
        metrics_addr: runtime.metrics_addr(),
        db,
        statements,
        relay,
        parking,
        runtime,
    })
}
