//! The products subgraph: the catalog of the commerce backend.
//!
//! It owns `Product` (`@key(fields: "id")`) with its price and availability, serves the
//! catalog queries and the admin mutations over GraphQL, resolves product references for the
//! other subgraphs through federation's `_entities`, and answers orders' price requests on
//! the bus. See [`catalog`] for the rules and [`events::pricing`] for the bus contract.
//!
//! The binary is thin: [`Config::from_env`], [`Deps::from_config`], then [`start`].

pub mod catalog;
pub mod config;
pub mod events;
pub mod graphql;
pub mod service;

pub use config::Config;
pub use graphql::{ProductsSchema, build_schema, sdl};
pub use service::{Deps, RunningService, connect_and_migrate, start};
