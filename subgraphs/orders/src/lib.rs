//! The orders subgraph: customers' orders with their price snapshots and status.
//!
//! The modules follow the layout every service shares (see [`kit::service`]):
//! - [`config`]: settings; [`store`]: opening and migrating the database, whose tables are
//!   in [`entities`];
//! - [`graphql`]: the Federation v2 GraphQL schema;
//! - [`events`]: the bus: [`events::payment_events`] applies `payments.succeeded` exactly
//!   once per event, [`events::payable`] answers payments' question about what an order
//!   costs;
//! - [`service`]: start-up and graceful shutdown;
//! - the features: [`ordering`] (placing an order, priced by the products service over the
//!   bus), [`lifecycle`] (the status machine every change goes through, with its events),
//!   [`browsing`] (who sees which orders, lookups and pages), [`sales`] (units sold per
//!   product, `Product.unitsSold`, counted over paid orders) and [`metrics`].

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
pub mod store;

pub use config::Config;
pub use service::{Deps, RunningService, start};
pub use store::connect_and_migrate;
