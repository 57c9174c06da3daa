//! Starting and stopping the service: the database ([`crate::store`]), the price responder
//! ([`crate::events`]) and the schema ([`crate::graphql`]), run by [`kit::service`].

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use kit::{
    db::StatementCounter,
    health::ReadCounter,
    service::{Runtime, ServiceBuilder},
};
use prometheus_client::registry::Registry;
use sea_orm::DatabaseConnection;

use crate::{catalog::Catalog, config::Config, events, graphql, graphql::ProductsSchema, store};

/// What the service gets from outside: the kit's bus and token verifier.
pub use kit::service::Deps;

/// A started service. Dropping it aborts the price responder; [`RunningService::stop`]
/// shuts down in the order of [`kit::service`].
pub struct RunningService {
    pub addr: SocketAddr,
    /// `/metrics`, when `PRODUCTS_METRICS_ADDR` is set.
    pub metrics_addr: Option<SocketAddr>,
    pub db: DatabaseConnection,
    /// Statements run on `db` since start-up (also exported as a metric).
    pub statements: StatementCounter,
    pub schema: ProductsSchema,
    runtime: Runtime,
}

impl RunningService {
    /// Stops accepting, lets in-flight requests finish, stops answering price requests and
    /// closes the database.
    pub async fn stop(self) {
        self.runtime.stop().await;
    }
}

/// Starts the service on `config.addr` (port 0 picks a free port, see `addr`).
pub async fn start(config: Config, deps: Deps) -> anyhow::Result<RunningService> {
    let (db, statements) = store::connect_and_migrate(&config.database).await?;
    let catalog = Catalog::new(db.clone());
    let schema = graphql::schema(catalog.clone());
    let workers = events::start(&deps.bus, catalog)
        .await
        .context("serving price requests on the bus")?;

    let mut registry = Registry::default();
    let counted = statements.clone();
    registry.register_collector(Box::new(ReadCounter::new(
        "products_db_statements",
        "SQL statements run against the products database",
        move || counted.get(),
    )));
    let runtime = ServiceBuilder::new("products", &config.internal, config.addr)
        .graphql(schema.clone(), deps.verifier)
        .database(db.clone())
        .bus(deps.bus.clone())
        .metrics(Arc::new(registry))
        .workers(workers)
        .start()
        .await?;
    tracing::info!(addr = %runtime.addr(), bus = deps.bus.kind(), embedded = config.database.embedded, "products service started");
    Ok(RunningService {
        addr: runtime.addr(),
        metrics_addr: runtime.metrics_addr(),
        db,
        statements,
        schema,
        runtime,
    })
}
