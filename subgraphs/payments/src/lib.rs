//! The payments service: Stripe Checkout for orders, the Stripe webhook, and refunds.
//!
//! A customer's `startCheckout` asks the orders service what the order costs and opens a
//! checkout session with the configured [`provider`] (Stripe, or the built-in
//! [`sandbox`]). Stripe reports the outcome to `POST /webhooks/stripe` ([`webhook`]), which
//! moves the payment and writes `payments.succeeded` / `payments.failed` to the outbox in
//! the same transaction; the outbox relay publishes them to the bus, and orders marks the
//! order paid. Payments that orders cannot take are refunded ([`refunds`]).
//!
//! [`start`] runs the whole service (migrations, HTTP server, outbox relay, consumers) with
//! the bus and token verifier injected, which is how the binary, the embedded mode and the
//! integration tests all start it.

pub mod checkout;
pub mod config;
pub mod events;
pub mod graphql;
pub mod orders;
pub mod payment;
pub mod provider;
pub mod refunds;
pub mod sandbox;
pub mod store;
pub mod stripe_client;
#[cfg(feature = "testing")]
pub mod testing;
pub mod webhook;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use common::{
    auth::JwksVerifier,
    bus::{EventBus, Worker},
    config::Secret,
    health::{BusCheck, DatabaseCheck, ReadinessCheck, RunningServer},
    outbox::OutboxRelay,
};
use prometheus_client::{
    metrics::{counter::Counter, family::Family},
    registry::Registry,
};
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait as _;
use tokio_util::sync::CancellationToken;

pub use config::{Config, ProviderConfig};

use crate::{provider::PaymentProvider, sandbox::SandboxProvider, stripe_client::StripeProvider};

/// What every request handler shares.
pub struct AppState {
    pub db: DatabaseConnection,
    pub bus: Arc<dyn EventBus>,
    pub provider: Arc<dyn PaymentProvider>,
    pub relay: OutboxRelay,
    pub webhook_secrets: Vec<Secret>,
    pub success_url: String,
    pub cancel_url: String,
    pub public_url: String,
    pub orders_timeout: Duration,
    pub metrics: Metrics,
    /// Events the consumers parked, for the admin's list and replay.
    pub parking: common::parking::ParkingLot,
}

/// Counters exported on `/metrics`.
#[derive(Clone, Default)]
pub struct Metrics {
    webhook_events: Family<Vec<(String, String)>, Counter>,
}

impl Metrics {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "payments_webhook_events",
            "Stripe webhook events handled, by outcome",
            self.webhook_events.clone(),
        );
    }

    pub fn webhook_outcome(&self, outcome: webhook::Outcome) {
        self.webhook_events
            .get_or_create(&vec![("outcome".to_owned(), outcome.as_str().to_owned())])
            .inc();
    }
}

/// What the service gets from whoever starts it.
#[derive(Clone)]
pub struct Deps {
    pub bus: Arc<dyn EventBus>,
    pub verifier: Arc<JwksVerifier>,
}

/// A started service.
pub struct RunningService {
    /// GraphQL and probes (internal).
    pub addr: SocketAddr,
    /// The Stripe webhook and, with the sandbox, its pages (the published listener).
    pub webhook_addr: SocketAddr,
    /// `/metrics`, when `PAYMENTS_METRICS_ADDR` is set.
    pub metrics_addr: Option<SocketAddr>,
    /// The provider in use (the sandbox unless Stripe keys are configured).
    pub provider: payment::PaymentProviderKind,
    /// SQL statements run since start (metrics, and tests of batching).
    pub statements: common::db::StatementCounter,
    server: RunningServer,
    webhook_server: RunningServer,
    metrics_server: Option<RunningServer>,
    shutdown: CancellationToken,
    relay: tokio::task::JoinHandle<()>,
    _consumers: Vec<Worker>,
}

impl RunningService {
    /// Stops taking requests, lets in-flight ones finish, and flushes the outbox once more.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.server.stop().await;
        self.webhook_server.stop().await;
        if let Some(metrics) = self.metrics_server {
            metrics.stop().await;
        }
        let _ = self.relay.await;
    }
}

/// Connects to the database, migrates it, and serves until [`RunningService::stop`].
pub async fn start(config: Config, deps: Deps) -> anyhow::Result<RunningService> {
    let (db, statements) = common::db::connect(&config.database)
        .await
        .context("connecting to the payments database")?;
    payments_migration::Migrator::up(&db, None)
        .await
        .context("migrating the payments database")?;

    // Bind first: with port 0 the public URL of the sandbox pages is only known now.
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("binding {}", config.addr))?;
    let addr = listener.local_addr()?;
    let webhook_listener = tokio::net::TcpListener::bind(config.webhook_addr)
        .await
        .with_context(|| format!("binding {}", config.webhook_addr))?;
    let webhook_addr = webhook_listener.local_addr()?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{webhook_addr}"));

    let (provider, webhook_secrets): (Arc<dyn PaymentProvider>, Vec<Secret>) = match &config
        .provider
    {
        ProviderConfig::Stripe {
            secret_key,
            api_base,
        } => {
            let provider = StripeProvider::new(secret_key.expose(), api_base.as_deref())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            (Arc::new(provider), config.webhook_secrets.clone())
        }
        ProviderConfig::Sandbox => {
            let mut secrets = config.webhook_secrets.clone();
            if secrets.is_empty() {
                secrets.push(Secret::new(format!(
                    "whsec_sandbox_{}",
                    hex::encode(rand::random::<[u8; 32]>())
                )));
            }
            tracing::warn!(
                "PAYMENTS_PROVIDER=sandbox: payments complete on a local page; no real money moves"
            );
            (Arc::new(SandboxProvider::new(public_url.clone())), secrets)
        }
    };
    let provider_kind = provider.kind();

    let relay = OutboxRelay::new(db.clone(), deps.bus.clone());
    let metrics = Metrics::default();
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    let parking = common::parking::ParkingLot::new(db.clone(), deps.bus.clone());
    // `payments_events_parked_total{consumer}`.
    parking.register_metrics(registry.sub_registry_with_prefix("payments"));
    let state = Arc::new(AppState {
        db: db.clone(),
        bus: deps.bus.clone(),
        provider,
        relay: relay.clone(),
        webhook_secrets,
        success_url: config
            .success_url
            .clone()
            .unwrap_or_else(|| format!("{public_url}/sandbox/return?outcome=success")),
        cancel_url: config
            .cancel_url
            .clone()
            .unwrap_or_else(|| format!("{public_url}/sandbox/return?outcome=cancel")),
        public_url,
        orders_timeout: config.orders_timeout,
        metrics,
        parking,
    });

    let shutdown = CancellationToken::new();
    let relay_task = relay.spawn(shutdown.child_token());
    let consumer = refunds::spawn_conflict_consumer(state.clone())
        .await
        .context("subscribing to payment conflicts")?;
    let cancellations = events::cancellations::spawn_consumer(state.clone())
        .await
        .context("subscribing to order cancellations")?;

    let checks: Vec<Arc<dyn ReadinessCheck>> = vec![
        Arc::new(DatabaseCheck(db.clone())),
        Arc::new(BusCheck(deps.bus.clone())),
    ];
    let graphql = common::graphql::routes(graphql::schema(state.clone()), deps.verifier.clone());
    let router =
        common::internal::require_router_secret(graphql, config.internal.subgraph_secret.as_ref())
            .merge(common::health::routes(checks));
    // The public listener: the webhook, and the sandbox pages when the sandbox is chosen.
    let mut public = webhook::routes(state.clone());
    if provider_kind == payment::PaymentProviderKind::Sandbox {
        public = public.merge(sandbox::routes(state.clone()));
    }
    let metrics_server = common::health::serve_metrics(
        config.internal.metrics_addr,
        Arc::new(registry),
        shutdown.child_token(),
    )
    .await
    .context("binding the metrics listener")?;

    let server = spawn_server(listener, router, shutdown.child_token());
    let webhook_server = spawn_server(webhook_listener, public, shutdown.child_token());
    tracing::info!(%addr, %webhook_addr, provider = provider_kind.as_str(), bus = deps.bus.kind(), "payments listening");
    Ok(RunningService {
        addr,
        webhook_addr,
        metrics_addr: metrics_server.as_ref().map(|m| m.addr),
        provider: provider_kind,
        statements,
        server,
        webhook_server,
        metrics_server,
        shutdown,
        relay: relay_task,
        _consumers: vec![consumer, cancellations],
    })
}

fn spawn_server(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    token: CancellationToken,
) -> RunningServer {
    let addr = listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    let stop = token.clone();
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
        shutdown: token,
        task,
    }
}
