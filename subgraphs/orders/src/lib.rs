//! The orders subgraph: customers' orders with their price snapshots and status.
//!
//! - [`ordering`]: placing an order, priced by the products service over the bus.
//! - [`lifecycle`]: the status machine every change goes through, with its events.
//! - [`browsing`]: who sees which orders, lookups and pages.
//! - [`events::payment_events`]: applying `payments.succeeded`, exactly once per event.
//! - [`events::payable`]: answering payments' question about what an order costs.
//! - [`sales`]: units sold per product (`Product.unitsSold`), counted over paid orders.
//! - [`graphql`]: the Federation v2 GraphQL schema.
//! - [`service`]: start-up and graceful shutdown; [`config`]: settings.

pub mod browsing;
pub mod config;
pub mod entities;
pub mod events;
pub mod graphql;
pub mod lifecycle;
pub mod metrics;
pub mod ordering;
pub mod sales;
pub mod service;

pub use config::Config;
pub use service::{Deps, RunningService, connect_and_migrate, start};
