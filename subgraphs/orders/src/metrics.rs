//! The service's Prometheus metrics: orders placed, payment events by outcome, events
//! parked (`orders_events_parked_total{consumer}`), and the number of SQL statements run
//! (from the connection's statement counter).

use std::sync::Arc;

use kit::{db::StatementCounter, health::ReadCounter, parking::ParkingLot};
use prometheus_client::{
    metrics::{counter::Counter, family::Family},
    registry::Registry,
};

/// Counters updated by the request and event paths.
#[derive(Clone, Default)]
pub struct Metrics {
    orders_created: Counter,
    payment_events: Family<Vec<(String, String)>, Counter>,
}

impl Metrics {
    pub fn order_created(&self) {
        self.orders_created.inc();
    }

    pub fn payment_event(&self, outcome: &str) {
        self.payment_events
            .get_or_create(&vec![("outcome".to_owned(), outcome.to_owned())])
            .inc();
    }

    /// A registry holding these metrics, the statement count of `statements` and the
    /// parked events of `parking`.
    pub fn registry(&self, statements: StatementCounter, parking: &ParkingLot) -> Arc<Registry> {
        let mut registry = Registry::with_prefix("orders");
        parking.register_metrics(&mut registry);
        registry.register(
            "orders_created",
            "Orders placed",
            self.orders_created.clone(),
        );
        registry.register(
            "payment_events",
            "payments.succeeded events handled, by outcome",
            self.payment_events.clone(),
        );
        registry.register_collector(Box::new(ReadCounter::new(
            "db_statements",
            "SQL statements run",
            move || statements.get(),
        )));
        Arc::new(registry)
    }
}
