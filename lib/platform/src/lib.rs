//! What the router and every service of the commerce backend run on.
//!
//! Nothing here knows about GraphQL schemas, databases or the event bus (those are the
//! services' kit), so the router links only this: configuration basics ([`config`]: one
//! [`config::Env`], one [`config::Secret`], the deployment [`config::Profile`]), access
//! token verification and JWKS ([`auth`]), logs and traces ([`telemetry`]), the HTTP
//! serving shell with health, readiness, metrics and graceful shutdown ([`health`]), and
//! what the router and the subgraphs agree on to keep the subgraphs internal
//! ([`internal`]).

pub mod auth;
pub mod config;
pub mod health;
pub mod internal;
pub mod telemetry;

#[cfg(feature = "testing")]
pub mod testing;
