//! Building blocks shared by every service of the commerce backend.
//!
//! Each module is one concern a service needs, so that the four subgraphs and the router
//! agree on the details that cross service boundaries: how errors look to clients
//! ([`error`]), how money is represented ([`money`]), how tokens are verified ([`auth`]),
//! how events and requests travel between services ([`bus`], [`contracts`], [`outbox`],
//! [`parking`]), how a service is configured, observed and probed ([`config`],
//! [`telemetry`], [`health`], [`db`]), what keeps its internal surfaces internal
//! ([`internal`]), and which characters text inputs may hold ([`text`]).
//!
//! [`service`] is how every subgraph is run: one builder, one shutdown order, and the module
//! layout each service follows (`examples/minimal_service.rs` shows it whole).

pub mod auth;
pub mod bus;
pub mod config;
pub mod contracts;
pub mod db;
pub mod error;
pub mod graphql;
pub mod health;
pub mod internal;
pub mod money;
pub mod outbox;
pub mod parking;
pub mod service;
pub mod telemetry;
pub mod text;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{ApiError, ErrorCode};
pub use money::{Currency, Money};
