//! Wiring: opening the store, loading the keys, building the schema, and running them with
//! [`kit::service`].
//!
//! The HTTP surface is `POST|GET /graphql`, `GET /.well-known/jwks.json` (the public keys
//! every other service verifies access tokens with, and which needs no router secret), and
//! `/health`, `/ready`; `/metrics` on the internal listener (`USERS_METRICS_ADDR`).

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use axum::{Json, Router, http::header, response::IntoResponse, routing::get};
use jsonwebtoken::jwk::JwkSet;
use kit::service::{Runtime, ServiceBuilder};

use prometheus_client::registry::Registry;

use crate::{
    accounts::{AccountError, Accounts, AdminOutcome},
    config::{BootstrapAdmin, Config, StoreConfig},
    graphql,
    keys::KeyRing,
    metrics::AuthMetrics,
    passwords::PasswordHasher,
    sessions::Sessions,
    store::{
        UserStore,
        file::FileStore,
        mongo::{MongoCheck, MongoStore},
    },
};

/// What a caller may hand in instead of letting the service create it. The users service
/// needs no bus and verifies tokens with its own keys.
#[derive(Default)]
pub struct Deps {
    /// The registry `/metrics` renders (a fresh one when `None`).
    pub registry: Option<Registry>,
}

impl Deps {
    /// The production dependencies: nothing from outside.
    pub async fn from_config(_config: &Config) -> anyhow::Result<Self> {
        Ok(Self::default())
    }
}

/// An opened store, with the MongoDB handle kept when there is one (readiness, tests).
pub struct OpenStore {
    pub store: Arc<dyn UserStore>,
    pub mongo: Option<MongoStore>,
}

pub async fn open_store(config: &StoreConfig) -> anyhow::Result<OpenStore> {
    Ok(match config {
        StoreConfig::Mongo { url, database } => {
            let mongo = MongoStore::connect(url.expose(), database)
                .await
                .context("connecting to MongoDB")?;
            OpenStore {
                store: Arc::new(mongo.clone()),
                mongo: Some(mongo),
            }
        }
        StoreConfig::Embedded { dir } => {
            let file = FileStore::open(dir)
                .await
                .context("opening the embedded user store")?;
            tracing::info!(dir = %dir.display(), "using the embedded user store");
            OpenStore {
                store: Arc::new(file),
                mongo: None,
            }
        }
    })
}

/// Creates or promotes an admin (`users create-admin`, run by an operator).
pub async fn ensure_admin(
    accounts: &Accounts,
    admin: &BootstrapAdmin,
) -> anyhow::Result<AdminOutcome> {
    let outcome = accounts
        .ensure_admin(&admin.email, &admin.name, admin.password.expose())
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the admin {}: {e}", admin.email))?;
    tracing::info!(email = %admin.email, ?outcome, "admin ensured");
    Ok(outcome)
}

/// Creates the bootstrap admin at start-up, never promoting an existing account; a refusal
/// stops the service with a message naming the variable to fix.
pub async fn bootstrap_admin(
    accounts: &Accounts,
    admin: &BootstrapAdmin,
) -> anyhow::Result<AdminOutcome> {
    let outcome = accounts
        .create_admin(&admin.email, &admin.name, admin.password.expose())
        .await
        .map_err(|e| {
            let variable = match &e {
                AccountError::Password(_) => "USERS_BOOTSTRAP_ADMIN_PASSWORD",
                AccountError::InvalidName(_) => "USERS_BOOTSTRAP_ADMIN_NAME",
                _ => "USERS_BOOTSTRAP_ADMIN_EMAIL",
            };
            anyhow::anyhow!(
                "{variable}: cannot create the bootstrap admin {}: {e}",
                admin.email
            )
        })?;
    tracing::info!(email = %admin.email, ?outcome, "bootstrap admin checked");
    Ok(outcome)
}

/// A running users service.
pub struct RunningService {
    pub addr: SocketAddr,
    /// `/metrics`, when `USERS_METRICS_ADDR` is set.
    pub metrics_addr: Option<SocketAddr>,
    runtime: Runtime,
    mongo: Option<MongoStore>,
    keys: KeyRing,
    accounts: Accounts,
}

impl RunningService {
    /// Stops accepting connections, lets in-flight requests finish, and waits.
    pub async fn stop(self) {
        self.runtime.stop().await;
    }

    /// The MongoDB store, when the service runs on one.
    pub fn mongo(&self) -> Option<&MongoStore> {
        self.mongo.as_ref()
    }

    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// The accounts the service runs (tests watch its password hasher's counters).
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }
}

/// Opens everything the configuration names, ensures the bootstrap admin, and serves.
pub async fn start(config: Config, deps: Deps) -> anyhow::Result<RunningService> {
    let opened = open_store(&config.store).await?;
    let keys = KeyRing::new(
        config.keys.load().context("loading the signing keys")?,
        config.token_policy.clone(),
    )
    .context("building the key ring")?;
    let hasher = PasswordHasher::with_limits(config.hash_cost, config.hash_limits)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let accounts = Accounts::new(opened.store.clone(), hasher, config.lockout);
    if let Some(admin) = &config.bootstrap_admin {
        bootstrap_admin(&accounts, admin).await?;
    }
    let sessions = Sessions::new(opened.store.clone(), keys.clone(), config.lifetimes);
    let mut registry = deps.registry.unwrap_or_default();
    let metrics = AuthMetrics::register(&mut registry);
    if let Some(mongo) = &opened.mongo {
        let commands = mongo.commands().clone();
        registry.register_collector(Box::new(kit::health::ReadCounter::new(
            "users_db_commands",
            "Commands sent to MongoDB",
            move || commands.total(),
        )));
    }
    let schema = graphql::schema(accounts.clone(), sessions, metrics);

    let mut builder = ServiceBuilder::new("users", &config.internal, config.addr)
        .graphql(schema, keys.verifier())
        .routes(jwks_route(keys.jwks().clone()))
        .metrics(Arc::new(registry));
    if let Some(mongo) = &opened.mongo {
        builder = builder.check(MongoCheck(mongo.clone()));
    }
    let runtime = builder.start().await?;
    tracing::info!(addr = %runtime.addr(), kid = keys.current().kid(), "users service listening");
    Ok(RunningService {
        addr: runtime.addr(),
        metrics_addr: runtime.metrics_addr(),
        runtime,
        mongo: opened.mongo,
        keys,
        accounts,
    })
}

/// The key set, outside the router's guard: every service fetches it directly.
fn jwks_route(jwks: JwkSet) -> Router {
    let jwks = Arc::new(jwks);
    Router::new().route(
        "/.well-known/jwks.json",
        get(move || {
            let jwks = jwks.clone();
            async move {
                // Short enough that a removed key stops being trusted soon after a restart;
                // verifiers refetch on an unknown `kid` anyway.
                (
                    [(header::CACHE_CONTROL, "public, max-age=300")],
                    Json(jwks.as_ref().clone()),
                )
                    .into_response()
            }
        }),
    )
}
