//! The subgraph kit: building blocks shared by the services of the commerce backend.
//!
//! Each module is one concern a service needs, so that the four subgraphs agree on the
//! details that cross service boundaries: how errors look to clients ([`error`]), how money
//! is represented ([`money`]), how callers are seen by resolvers ([`auth`]), how events and
//! requests travel between services ([`bus`], [`contracts`], [`outbox`], [`parking`]), how a
//! service is configured, observed and probed ([`config`], [`telemetry`], [`health`],
//! [`db`]), what keeps its internal surfaces internal ([`internal`]), and which characters
//! text inputs may hold ([`text`]).
//!
//! What the router needs too (configuration basics, token verification, telemetry, the
//! HTTP serving shell) lives in the `platform` crate; the modules that extend it here
//! re-export it, so `kit::auth`, `kit::config`, `kit::health` and `kit::telemetry` offer
//! the platform's items beside the kit's.

pub mod auth;
pub mod bus;
pub mod config;
pub mod connection;
pub mod contracts;
pub mod db;
pub mod error;
pub mod graphql;
pub mod health;
pub mod internal;
pub mod keyset;
pub mod money;
pub mod outbox;
pub mod parking;
pub mod service;
pub mod text;

pub use platform::telemetry;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{ApiError, ErrorCode};
pub use money::{Currency, Money};
