//! Starting and stopping the service: database and migrations, the price responder on the
//! bus, and the HTTP server (GraphQL plus health, readiness and metrics).

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use common::{
    auth::JwksVerifier,
    bus::{EventBus, Worker},
    config::DatabaseConfig,
    db::StatementCounter,
    health::{BusCheck, DatabaseCheck, ReadCounter, ReadinessCheck},
    internal::SubgraphServer,
};
use products_migration::{Migrator, MigratorTrait};
use prometheus_client::registry::Registry;
use sea_orm::DatabaseConnection;

use crate::{
    catalog::Catalog,
    config::Config,
    events::pricing,
    graphql::{ProductsSchema, build_schema},
};

/// What the service gets from outside rather than building itself, so that the all-in-one
/// launcher can share one in-process bus and tests can inject their own keys and bus.
#[derive(Clone)]
pub struct Deps {
    pub bus: Arc<dyn EventBus>,
    pub verifier: Arc<JwksVerifier>,
}

impl Deps {
    /// The production dependencies: the configured bus and the users service's key set.
    pub async fn from_config(config: &Config) -> anyhow::Result<Self> {
        let bus = common::bus::connect(&config.bus)
            .await
            .context("connecting to the event bus")?;
        let verifier = Arc::new(JwksVerifier::remote(
            config.jwks_url.clone(),
            config.token_policy.clone(),
        ));
        Ok(Self { bus, verifier })
    }
}

/// A started service. Dropping it aborts the price responder; [`RunningService::stop`] also
/// lets in-flight HTTP requests finish.
pub struct RunningService {
    pub addr: SocketAddr,
    /// `/metrics`, when `PRODUCTS_METRICS_ADDR` is set.
    pub metrics_addr: Option<SocketAddr>,
    pub db: DatabaseConnection,
    /// Statements run on `db` since start-up (also exported as a metric).
    pub statements: StatementCounter,
    pub schema: ProductsSchema,
    server: SubgraphServer,
    _pricing: Worker,
}

impl RunningService {
    /// Stops answering price requests, then drains and stops the HTTP server.
    pub async fn stop(self) {
        let Self {
            server,
            _pricing,
            db,
            ..
        } = self;
        drop(_pricing);
        server.stop().await;
        if let Err(e) = db.close().await {
            tracing::warn!(error = %e, "closing the database pool failed");
        }
    }
}

/// Opens the database and applies pending migrations.
pub async fn connect_and_migrate(
    config: &DatabaseConfig,
) -> anyhow::Result<(DatabaseConnection, StatementCounter)> {
    let (db, statements) = common::db::connect(config)
        .await
        .context("connecting to the database")?;
    Migrator::up(&db, None)
        .await
        .context("applying the database migrations")?;
    Ok((db, statements))
}

/// Starts the service on `config.addr` (port 0 picks a free port, see `addr`).
pub async fn start(config: Config, deps: Deps) -> anyhow::Result<RunningService> {
    let (db, statements) = connect_and_migrate(&config.database).await?;
    let catalog = Catalog::new(db.clone());
    let schema = build_schema(catalog.clone());
    let pricing = pricing::serve(&deps.bus, catalog)
        .await
        .context("serving price requests on the bus")?;

    let mut registry = Registry::default();
    let counted = statements.clone();
    registry.register_collector(Box::new(ReadCounter::new(
        "products_db_statements",
        "SQL statements run against the products database",
        move || counted.get(),
    )));
    let checks: Vec<Arc<dyn ReadinessCheck>> = vec![
        Arc::new(DatabaseCheck(db.clone())),
        Arc::new(BusCheck(deps.bus.clone())),
    ];
    let graphql = common::graphql::routes(schema.clone(), deps.verifier);
    let server = common::internal::serve_subgraph(
        &config.internal,
        config.addr,
        graphql,
        None,
        checks,
        Arc::new(registry),
    )
    .await
    .with_context(|| format!("listening on {}", config.addr))?;
    tracing::info!(addr = %server.addr(), bus = deps.bus.kind(), embedded = config.database.embedded, "products service started");
    Ok(RunningService {
        addr: server.addr(),
        metrics_addr: server.metrics_addr(),
        db,
        statements,
        schema,
        server,
        _pricing: pricing,
    })
}
