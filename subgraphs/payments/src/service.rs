//! Starting and stopping the service: the database ([`crate::store`]), the payment
//! provider, the consumers ([`crate::events`]), the outbox relay, the schema
//! ([`crate::graphql`]) on the internal listener and the webhook (with the sandbox's pages)
//! on the public one, run by [`kit::service`].
//!
//! Shutdown follows [`kit::service`]'s order, which matters here: a webhook still being
//! handled when shutdown starts finishes and commits its event before the relay's last
//! drain, so that event is published rather than left for the next start.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use kit::{
    config::Secret,
    outbox::OutboxRelay,
    service::{Runtime, ServiceBuilder},
};
use prometheus_client::registry::Registry;

use crate::{
    AppState, Metrics,
    config::{Config, ProviderConfig},
    events, graphql, payment,
    provider::PaymentProvider,
    sandbox::{self, SandboxProvider},
    store,
    stripe_client::StripeProvider,
    webhook,
};

/// The name of the public listener (the webhook and the sandbox pages).
const WEBHOOK_LISTENER: &str = "webhook";

/// What the service gets from outside: the kit's bus and token verifier.
pub use kit::service::Deps;

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
    pub statements: kit::db::StatementCounter,
    runtime: Runtime,
}

impl RunningService {
    /// Stops taking requests and webhooks, lets in-flight ones finish, stops the consumers,
    /// and flushes the outbox once more.
    pub async fn stop(self) {
        self.runtime.stop().await;
    }
}

/// The provider the configuration names, and the secrets webhooks are verified with (the
/// sandbox makes one up when none is configured).
fn provider(
    config: &Config,
    public_url: &str,
) -> anyhow::Result<(Arc<dyn PaymentProvider>, Vec<Secret>)> {
    Ok(match &config.provider {
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
            (
                Arc::new(SandboxProvider::new(public_url.to_owned())),
                secrets,
            )
        }
    })
}

/// Connects to the database, migrates it, and serves until [`RunningService::stop`].
pub async fn start(config: Config, deps: Deps) -> anyhow::Result<RunningService> {
    let (db, statements) = store::connect_and_migrate(&config.database).await?;

    // Bind first: with port 0 the public URL of the sandbox pages is only known now.
    let webhook_listener = tokio::net::TcpListener::bind(config.webhook_addr)
        .await
        .with_context(|| format!("binding {}", config.webhook_addr))?;
    let webhook_addr = webhook_listener.local_addr()?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{webhook_addr}"));
    let (provider, webhook_secrets) = provider(&config, &public_url)?;
    let provider_kind = provider.kind();

    let relay = OutboxRelay::new(db.clone(), deps.bus.clone());
    let metrics = Metrics::default();
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    let parking = kit::parking::ParkingLot::new(db.clone(), deps.bus.clone());
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
    let workers = events::start(&state).await?;

    // The public listener: the webhook, and the sandbox pages when the sandbox is chosen.
    let mut public = webhook::routes(state.clone());
    if provider_kind == payment::PaymentProviderKind::Sandbox {
        public = public.merge(sandbox::routes(state.clone()));
    }
    let runtime = ServiceBuilder::new("payments", &config.internal, config.addr)
        .graphql(graphql::schema(state.clone()), deps.verifier.clone())
        .listener(WEBHOOK_LISTENER, webhook_listener, public)
        .database(db)
        .bus(deps.bus.clone())
        .metrics(Arc::new(registry))
        .workers(workers)
        .relay(relay)
        .start()
        .await?;
    let addr = runtime.addr();
    tracing::info!(%addr, %webhook_addr, provider = provider_kind.as_str(), bus = deps.bus.kind(), "payments listening");
    Ok(RunningService {
        addr,
        webhook_addr,
        metrics_addr: runtime.metrics_addr(),
        provider: provider_kind,
        statements,
        runtime,
    })
}
