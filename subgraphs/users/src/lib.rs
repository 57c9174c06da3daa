//! The users subgraph: accounts, password hashes, sessions and the keys access tokens are
//! signed with.
//!
//! It owns the `User` entity (`@key(fields: "id")`), issues access tokens (Ed25519 JWTs)
//! and rotating refresh tokens, and publishes its public keys as a JWKS for the router
//! and the other subgraphs. Accounts live in MongoDB ([`store::mongo`]) or, in embedded
//! mode, in a file in the data folder ([`store::file`]).
//!
//! The modules follow the layout every service shares (see [`kit::service`]): [`config`],
//! [`store`], [`graphql`] (the schema), [`events`] (none yet), [`service`] (wiring and
//! HTTP), and the features: [`accounts`] (registration, login, lockout, roles),
//! [`passwords`] (policy and argon2id), [`sessions`] (token issuing, rotation, revocation),
//! [`keys`] (signing keys and rotation) and [`metrics`].

pub mod accounts;
pub mod config;
pub mod events;
pub mod graphql;
pub mod keys;
pub mod metrics;
pub mod passwords;
pub mod service;
pub mod sessions;
pub mod store;

pub use config::Config;
pub use graphql::{UsersSchema, sdl};
pub use service::{Deps, RunningService, start};
