//! Starting and stopping the service: database and migrations, the outbox relay, the
//! payment-event consumer, the payable-order responder, and the HTTP endpoints.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use common::{
    auth::JwksVerifier,
    bus::{EventBus, Worker},
    db::StatementCounter,
    health::{BusCheck, DatabaseCheck, ReadinessCheck},
    internal::SubgraphServer,
    outbox::OutboxRelay,
    parking::ParkingLot,
};
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    events::{payable, payment_events},
    graphql::{self, ApiState},
    metrics::Metrics,
    ordering::PriceClient,
};

/// What the service is given rather than builds itself, so tests and the embedded mode
/// can share a bus and keys between services.
#[derive(Clone)]
pub struct Deps {
    pub bus: Arc<dyn EventBus>,
    pub verifier: Arc<JwksVerifier>,
}

/// A started service. Dropping it aborts its workers; [`RunningService::stop`] shuts down
/// gracefully.
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
    server: SubgraphServer,
    relay_shutdown: CancellationToken,
    relay_task: RelayTask,
    workers: Vec<Worker>,
}

/// The relay's background task, aborted if the service is dropped without [`RunningService::stop`].
struct RelayTask(Option<JoinHandle<()>>);

impl Drop for RelayTask {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

impl RunningService {
    /// Stops taking requests and lets in-flight ones finish, stops the consumer and the
    /// responder, then publishes what is left in the outbox (whatever cannot be published
    /// stays queued for the next start).
    pub async fn stop(self) {
        self.server.stop().await;
        drop(self.workers);
        self.relay_shutdown.cancel();
        let mut relay_task = self.relay_task;
        if let Some(task) = relay_task.0.take()
            && let Err(e) = task.await
        {
            tracing::warn!(error = %e, "outbox relay ended abnormally");
        }
        if let Err(e) = self.db.close().await {
            tracing::warn!(error = %e, "closing the database failed");
        }
    }
}

/// Opens the database and brings its schema up to date.
pub async fn connect_and_migrate(
    config: &Config,
) -> anyhow::Result<(DatabaseConnection, StatementCounter)> {
    let (db, statements) = common::db::connect(&config.database)
        .await
        .context("cannot open the orders database")?;
    orders_migration::Migrator::up(&db, None)
        .await
        .context("cannot migrate the orders database")?;
    Ok((db, statements))
}

/// Starts the service on `config.addr` (port 0 picks a free one).
pub async fn start(config: Config, deps: Deps) -> anyhow::Result<RunningService> {
    let (db, statements) = connect_and_migrate(&config).await?;
    let metrics = Metrics::default();

    let relay = OutboxRelay::new(db.clone(), deps.bus.clone());
    let relay_shutdown = CancellationToken::new();
    let relay_task = relay.clone().spawn(relay_shutdown.clone());

    let parking = ParkingLot::new(db.clone(), deps.bus.clone());
    let spec = payment_events::consumer_spec();
    let handler = parking.handler(
        &spec,
        payment_events::handler(db.clone(), relay.clone(), metrics.clone()),
    );
    let consumer = deps
        .bus
        .consume(spec, handler)
        .await
        .context("cannot subscribe to payment events")?;
    let responder = payable::serve(deps.bus.as_ref(), db.clone())
        .await
        .context("cannot answer payable-order requests")?;

    let schema = graphql::schema(ApiState {
        db: db.clone(),
        relay: relay.clone(),
        prices: PriceClient::new(deps.bus.clone(), config.price_timeout),
        metrics: metrics.clone(),
        parking: parking.clone(),
    });
    let checks: Vec<Arc<dyn ReadinessCheck>> = vec![
        Arc::new(DatabaseCheck(db.clone())),
        Arc::new(BusCheck(deps.bus.clone())),
    ];
    let graphql = common::graphql::routes(schema, deps.verifier.clone());
    let server = common::internal::serve_subgraph(
        &config.internal,
        config.addr,
        graphql,
        None,
        checks,
        metrics.registry(statements.clone(), &parking),
    )
    .await
    .with_context(|| format!("cannot listen on {}", config.addr))?;
    tracing::info!(addr = %server.addr(), bus = deps.bus.kind(), "orders service started");

    Ok(RunningService {
        addr: server.addr(),
        metrics_addr: server.metrics_addr(),
        db,
        statements,
        relay,
        parking,
        server,
        relay_shutdown,
        relay_task: RelayTask(Some(relay_task)),
        workers: vec![consumer, responder],
    })
}
