//! Running a subgraph: one builder, one shutdown order, for every service.
//!
//! A service assembles what it owns (its store, its schema, its consumers) and hands the
//! pieces to a [`ServiceBuilder`]: the GraphQL schema (served on `/graphql` behind the
//! router's secret), extra routes on the same listener or on listeners of their own,
//! readiness checks, the metrics registry (served on `<SERVICE>_METRICS_ADDR`), the
//! background workers that consume events and answer requests on the bus, the outbox
//! relay, and the database pool. [`ServiceBuilder::start`] binds and serves them and
//! returns a [`Runtime`].
//!
//! # Shutdown order
//!
//! [`Runtime::stop`] always does the same five steps, so that nothing a request or an
//! event handler committed is left behind:
//!
//! 1. **Stop accepting**: every listener of the service (GraphQL and probes, and extra
//!    listeners such as payments' webhook) stops taking connections.
//! 2. **Drain requests**: requests already running finish and their responses are sent.
//!    A request may write an event to the outbox until its very end.
//! 3. **Stop consumers**: the bus workers (event consumers and request responders) stop;
//!    an event being handled when this happens is rolled back and redelivered later.
//! 4. **Drain the outbox**: the relay stops polling and publishes, one last time, every
//!    event committed so far, which now includes all of the above. What cannot be published
//!    (the bus is down) stays queued for the next start.
//! 5. **Release**: the metrics listener stops and the database pool closes.
//!
//! [`Runtime::begin_shutdown`] performs step 1 alone and returns a [`Stopping`] whose
//! [`Stopping::finish`] performs the rest; `stop` is both.
//!
//! # The shape of a service
//!
//! Every subgraph has the same modules, so that a new one is written by filling them in
//! (`examples/minimal_service.rs` is the whole shape in one file):
//!
//! - `config`: its settings, read from the environment;
//! - `store`: opening its database and applying its migrations, and the tables several
//!   features share (a table one feature owns lives with that feature);
//! - `graphql`: the schema (`schema(..)` and `sdl()`), with its resolvers in submodules;
//! - `events`: its side of the bus, one submodule per consumer or responder, and
//!   `events::start(..)`, which subscribes them all and returns their [`Worker`]s;
//! - `service`: `Deps` (what the caller provides: the bus and the token verifier; this
//!   module's [`Deps`], built by [`Deps::connect`] in production and injected by tests and the
//!   all-in-one launcher),
//!   `start(config, deps)`, which wires the above into a [`ServiceBuilder`], and
//!   `RunningService`;
//! - domain modules, one per feature; `main.rs` only reads the configuration, builds the
//!   `Deps`, starts the service and stops it on a signal.

use std::{net::SocketAddr, sync::Arc};

use async_graphql::{ObjectType, Schema, SubscriptionType};
use axum::Router;
use prometheus_client::registry::Registry;
use sea_orm::DatabaseConnection;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{
    auth::{JwksVerifier, TokenPolicy},
    bus::{BusError, EventBus, Worker},
    config::BusConfig,
    health::{BusCheck, DatabaseCheck, ReadinessCheck, RunningServer, serve_metrics},
    internal::{InternalConfig, require_router_secret},
    outbox::OutboxRelay,
};

/// What a subgraph gets from outside rather than building itself: the event bus and the
/// verifier of the users service's tokens. The all-in-one launcher shares one in-process bus
/// between the services; tests inject their own bus and keys.
#[derive(Clone)]
pub struct Deps {
    pub bus: Arc<dyn EventBus>,
    pub verifier: Arc<JwksVerifier>,
}

impl Deps {
    /// The production dependencies: the configured bus, and the key set at `jwks_url`
    /// (fetched when a token first needs it).
    pub async fn connect(
        bus: &BusConfig,
        jwks_url: &str,
        policy: &TokenPolicy,
    ) -> Result<Self, BusError> {
        Ok(Self {
            bus: crate::bus::connect(bus).await?,
            verifier: Arc::new(JwksVerifier::remote(jwks_url, policy.clone())),
        })
    }
}

/// The subcommands of a subgraph with a database: each service's `main.rs` parses them
/// under its own name and version (`#[command(subcommand)] command: Option<Command>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::Subcommand)]
pub enum Command {
    /// Run the service (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Print the subgraph's federation SDL.
    PrintSchema,
}

/// Why a service could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot serve metrics: {0}")]
    Metrics(std::io::Error),
}

/// Where a listener serves: an address to bind (port 0 picks a free port), or a socket the
/// caller bound already (to learn its port before building what depends on it).
pub enum Listen {
    Addr(SocketAddr),
    Bound(TcpListener),
}

impl From<SocketAddr> for Listen {
    fn from(addr: SocketAddr) -> Self {
        Self::Addr(addr)
    }
}

impl From<TcpListener> for Listen {
    fn from(listener: TcpListener) -> Self {
        Self::Bound(listener)
    }
}

impl Listen {
    async fn bind(self) -> Result<TcpListener, ServiceError> {
        match self {
            Self::Bound(listener) => Ok(listener),
            Self::Addr(addr) => TcpListener::bind(addr)
                .await
                .map_err(|source| ServiceError::Bind { addr, source }),
        }
    }
}

/// A listener besides the service's main one (payments' public webhook).
struct ExtraListener {
    name: &'static str,
    listen: Listen,
    routes: Router,
}

/// Everything a service runs, collected before anything starts. See the module docs for
/// what [`ServiceBuilder::start`] does with each piece and in which order it stops them.
#[must_use]
pub struct ServiceBuilder {
    name: &'static str,
    internal: InternalConfig,
    listen: Listen,
    graphql: Router,
    open: Router,
    extra: Vec<ExtraListener>,
    checks: Vec<Arc<dyn ReadinessCheck>>,
    registry: Option<Arc<Registry>>,
    workers: Vec<Worker>,
    relay: Option<OutboxRelay>,
    database: Option<DatabaseConnection>,
}

impl ServiceBuilder {
    /// A service called `name` (for logs), guarded and observed as `internal` says, serving
    /// on `listen`.
    pub fn new(name: &'static str, internal: &InternalConfig, listen: impl Into<Listen>) -> Self {
        Self {
            name,
            internal: internal.clone(),
            listen: listen.into(),
            graphql: Router::new(),
            open: Router::new(),
            extra: Vec::new(),
            checks: Vec::new(),
            registry: None,
            workers: Vec::new(),
            relay: None,
            database: None,
        }
    }

    /// `/graphql` for `schema`, authenticating callers with `verifier` and refusing requests
    /// without the router's secret when one is configured.
    pub fn graphql<Q, M, S>(mut self, schema: Schema<Q, M, S>, verifier: Arc<JwksVerifier>) -> Self
    where
        Q: ObjectType + 'static,
        M: ObjectType + 'static,
        S: SubscriptionType + 'static,
    {
        self.graphql = self.graphql.merge(crate::graphql::routes(schema, verifier));
        self
    }

    /// Routes on the main listener that other services call directly, outside the router's
    /// secret (the users service's JWKS).
    pub fn routes(mut self, routes: Router) -> Self {
        self.open = self.open.merge(routes);
        self
    }

    /// A listener of its own for `routes`, stopped and drained with the main one.
    pub fn listener(
        mut self,
        name: &'static str,
        listen: impl Into<Listen>,
        routes: Router,
    ) -> Self {
        self.extra.push(ExtraListener {
            name,
            listen: listen.into(),
            routes,
        });
        self
    }

    /// One more dependency `/ready` asks about.
    pub fn check(mut self, check: impl ReadinessCheck + 'static) -> Self {
        self.checks.push(Arc::new(check));
        self
    }

    /// The relational store: checked by `/ready` and closed last at shutdown.
    pub fn database(mut self, db: DatabaseConnection) -> Self {
        self.checks.push(Arc::new(DatabaseCheck(db.clone())));
        self.database = Some(db);
        self
    }

    /// The event bus: checked by `/ready`.
    pub fn bus(mut self, bus: Arc<dyn EventBus>) -> Self {
        self.checks.push(Arc::new(BusCheck(bus)));
        self
    }

    /// What `/metrics` renders.
    pub fn metrics(mut self, registry: Arc<Registry>) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Bus workers (consumers and responders), stopped after requests have drained.
    pub fn workers(mut self, workers: impl IntoIterator<Item = Worker>) -> Self {
        self.workers.extend(workers);
        self
    }

    /// The outbox relay, run in the background from start and drained last.
    pub fn relay(mut self, relay: OutboxRelay) -> Self {
        self.relay = Some(relay);
        self
    }

    /// Starts the relay, the metrics listener and every HTTP listener. On error whatever
    /// was started is stopped again (workers included).
    pub async fn start(self) -> Result<Runtime, ServiceError> {
        let Self {
            name,
            internal,
            listen,
            graphql,
            open,
            extra,
            checks,
            registry,
            workers,
            relay,
            database,
        } = self;
        // Bind everything before serving anything, so a taken port leaves nothing running.
        let main = listen.bind().await?;
        let mut bound = Vec::with_capacity(extra.len());
        for listener in extra {
            bound.push((
                listener.name,
                listener.listen.bind().await?,
                listener.routes,
            ));
        }
        let metrics = serve_metrics(
            internal.metrics_addr,
            registry.unwrap_or_default(),
            CancellationToken::new(),
        )
        .await
        .map_err(ServiceError::Metrics)?;

        let relay = relay.map(|relay| {
            let shutdown = CancellationToken::new();
            RelayTask {
                task: Some(relay.spawn(shutdown.clone())),
                shutdown,
            }
        });
        let router = require_router_secret(graphql, internal.subgraph_secret.as_ref())
            .merge(open)
            .merge(crate::health::routes(checks));
        let server = serve_listener(main, router);
        let extra = bound
            .into_iter()
            .map(|(name, listener, routes)| (name, serve_listener(listener, routes)))
            .collect();
        tracing::info!(service = name, addr = %server.addr, "serving");
        Ok(Runtime {
            name,
            server,
            extra,
            metrics,
            workers,
            relay,
            database,
        })
    }
}

/// Serves `router` on an already bound `listener` until its token is cancelled, then lets
/// in-flight requests finish.
pub fn serve_listener(listener: TcpListener, router: Router) -> RunningServer {
    let addr = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
    });
    RunningServer {
        addr,
        shutdown,
        task,
    }
}

/// The relay's background task; aborted if the service is dropped without stopping.
struct RelayTask {
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Drop for RelayTask {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A started service. [`Runtime::stop`] shuts it down in the documented order; dropping it
/// instead aborts its workers and relay at once.
pub struct Runtime {
    name: &'static str,
    server: RunningServer,
    extra: Vec<(&'static str, RunningServer)>,
    metrics: Option<RunningServer>,
    workers: Vec<Worker>,
    relay: Option<RelayTask>,
    database: Option<DatabaseConnection>,
}

impl Runtime {
    /// Where GraphQL and the probes are served.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// Where the extra listener `name` serves.
    pub fn listener_addr(&self, name: &str) -> Option<SocketAddr> {
        self.extra
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, server)| server.addr)
    }

    /// Where `/metrics` is served, when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|m| m.addr)
    }

    /// Shuts down in the documented order and waits until done.
    pub async fn stop(self) {
        self.begin_shutdown().finish().await;
    }

    /// Step 1 alone: every listener stops accepting connections. The rest happens in
    /// [`Stopping::finish`].
    pub fn begin_shutdown(self) -> Stopping {
        tracing::info!(
            service = self.name,
            "shutdown: no longer accepting connections"
        );
        self.server.shutdown.cancel();
        for (_, server) in &self.extra {
            server.shutdown.cancel();
        }
        Stopping { runtime: self }
    }
}

/// A service that stopped accepting connections and has the rest of its shutdown ahead.
#[must_use = "the service only finishes shutting down in `finish`"]
pub struct Stopping {
    runtime: Runtime,
}

impl Stopping {
    /// Steps 2 to 5: drain requests, stop consumers, drain the outbox, release.
    pub async fn finish(self) {
        let Runtime {
            name,
            server,
            extra,
            metrics,
            workers,
            mut relay,
            database,
        } = self.runtime;
        for server in std::iter::once(server).chain(extra.into_iter().map(|(_, s)| s)) {
            match server.task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(service = name, error = %e, "listener failed"),
                Err(e) => tracing::warn!(service = name, error = %e, "listener ended abnormally"),
            }
        }
        tracing::info!(service = name, "shutdown: requests drained");
        drop(workers);
        tracing::info!(service = name, "shutdown: consumers stopped");
        if let Some(relay) = relay.as_mut() {
            relay.shutdown.cancel();
            if let Some(task) = relay.task.take()
                && let Err(e) = task.await
            {
                tracing::warn!(service = name, error = %e, "outbox relay ended abnormally");
            }
            tracing::info!(service = name, "shutdown: outbox drained");
        }
        if let Some(metrics) = metrics {
            metrics.stop().await;
        }
        if let Some(db) = database
            && let Err(e) = db.close().await
        {
            tracing::warn!(service = name, error = %e, "closing the database failed");
        }
        tracing::info!(service = name, "shutdown: done");
    }
}
