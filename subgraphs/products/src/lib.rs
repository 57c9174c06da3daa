//! The products subgraph: the catalog of the commerce backend.
//!
//! It owns `Product` (`@key(fields: "id")`) with its price and availability, serves the
//! catalog queries and the admin mutations over GraphQL, resolves product references for the
//! other subgraphs through federation's `_entities`, and answers orders' price requests on
//! the bus. See [`catalog`] for the rules and [`events::pricing`] for the bus contract.
//!
//! The modules follow the layout every service shares (see [`kit::service`]): [`config`],
//! [`store`] (the database), [`graphql`] (the schema), [`events`] (the bus), [`service`]
//! (start-up and shutdown), and the feature, [`catalog`]. The binary is thin:
//! [`Config::from_env`], [`Deps::connect`], then [`start`].

pub mod catalog;
pub mod config;
pub mod events;
pub mod graphql;
pub mod service;
pub mod store;

pub use config::Config;
pub use graphql::{ProductsSchema, sdl};
pub use service::{Deps, RunningService, start};
pub use store::connect_and_migrate;
