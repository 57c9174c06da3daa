//! The payments service: Stripe Checkout for orders, the Stripe webhook, and refunds.
//!
//! A customer's `startCheckout` asks the orders service what the order costs and opens a
//! checkout session with the configured [`provider`] (Stripe, or the built-in
//! [`sandbox`]). Stripe reports the outcome to `POST /webhooks/stripe` ([`webhook`]), which
//! moves the payment and writes `payments.succeeded` / `payments.failed` to the outbox in
//! the same transaction; the outbox relay publishes them to the bus, and orders marks the
//! order paid. Payments that orders cannot take are refunded ([`refunds`]).
//!
//! The modules follow the layout every service shares (see [`kit::service`]): [`config`],
//! [`store`] (the database), [`graphql`] (the schema), [`events`] (the bus), [`service`]
//! (start-up and shutdown), and the features ([`checkout`], [`webhook`], [`refunds`],
//! [`payment`], [`provider`], [`sandbox`], [`stripe_client`], [`orders`]). [`start`] runs
//! the whole service (migrations, HTTP listeners, outbox relay, consumers) with the bus and
//! token verifier injected, which is how the binary, the embedded mode and the integration
//! tests all start it.

pub mod checkout;
pub mod config;
pub mod events;
pub mod graphql;
pub mod orders;
pub mod payment;
pub mod provider;
pub mod refunds;
pub mod sandbox;
pub mod service;
pub mod store;
pub mod stripe_client;
#[cfg(feature = "testing")]
pub mod testing;
pub mod webhook;

use std::{sync::Arc, time::Duration};

use kit::{bus::EventBus, config::Secret, outbox::OutboxRelay};
use prometheus_client::{
    metrics::{counter::Counter, family::Family},
    registry::Registry,
};
use sea_orm::DatabaseConnection;

pub use config::{Config, ProviderConfig};
pub use service::{Deps, RunningService, start};
pub use store::connect_and_migrate;

use crate::provider::PaymentProvider;

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
    pub parking: kit::parking::ParkingLot,
}

/// Counters exported on `/metrics`.
#[derive(Clone, Default)]
pub struct Metrics {
    webhook_events: Family<Vec<(String, String)>, Counter>,
}

impl Metrics {
    pub(crate) fn register(&self, registry: &mut Registry) {
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
