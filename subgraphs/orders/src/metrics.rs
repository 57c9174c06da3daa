//! The service's Prometheus metrics: orders placed, payment events by outcome, and the
//! number of SQL statements run (from the connection's statement counter).

use std::sync::Arc;

use common::db::StatementCounter;
use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric},
    metrics::{counter::ConstCounter, counter::Counter, family::Family},
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
        self.payment_events.get_or_create(&vec![("outcome".to_owned(), outcome.to_owned())]).inc();
    }

    /// A registry holding these metrics and the statement count of `statements`.
    pub fn registry(&self, statements: StatementCounter) -> Arc<Registry> {
        let mut registry = Registry::with_prefix("orders");
        registry.register("orders_created", "Orders placed", self.orders_created.clone());
        registry.register("payment_events", "payments.succeeded events handled, by outcome", self.payment_events.clone());
        registry.register_collector(Box::new(StatementCollector(statements)));
        Arc::new(registry)
    }
}

/// Reads the statement counter when metrics are scraped.
#[derive(Debug)]
struct StatementCollector(StatementCounter);

impl Collector for StatementCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counter = ConstCounter::new(self.0.get());
        let metric = encoder.encode_descriptor("db_statements", "SQL statements run", None, counter.metric_type())?;
        counter.encode(metric)
    }
}
