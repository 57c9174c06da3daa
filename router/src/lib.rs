//! The federated GraphQL router: the one endpoint clients talk to.
//!
//! It serves a supergraph composed from the subgraphs (see [`compose`]), guards it with
//! the edge [`pipeline`] (CSRF, size and shape limits, persisted operations, token
//! verification), hands accepted operations to the `executor` crate, and exposes
//! GraphiQL, health probes and Prometheus metrics. [`spawn`] starts a router from a
//! [`config::RouterConfig`]; the binary in `main.rs` only parses the command line.
//!
//! Running it from the repository root:
//!
//! ```text
//! cargo run -p router -- compose                 # supergraph.yaml -> schema/{supergraph,api}.graphql
//! cargo run -p router -- compose --check         # fails when that file is stale
//! router/graphiql/install.sh                     # optional: GraphiQL without internet
//! cargo run -p router -- serve --config router/config/dev.yaml
//! bench/run.sh                                   # system benchmark (release build)
//! ```
//!
//! Endpoints: `POST`/`GET /graphql`, GraphiQL at `/` and `/graphiql`, the API schema at
//! `/schema.graphql` (where introspection is on), `/health`, `/ready` and `/metrics`.

pub mod cli;
pub mod compose;
pub mod config;
pub mod graphiql;
pub mod metrics;
pub mod pipeline;
pub mod reload;
pub mod server;
pub mod state;

pub use config::RouterConfig;
pub use server::{RunningRouter, StartError, spawn};
