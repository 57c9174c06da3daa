//! The whole system in one process: the router with GraphiQL in front of the products,
//! users, orders and payments subgraphs.
//!
//! With nothing configured this is the embedded mode (SQLite files in the data folder, the
//! file-backed user store, the in-process event bus, and the sandbox payment provider, the
//! default here unless `PAYMENTS_PROVIDER` says otherwise; a router in its production
//! profile refuses it like the payments service's own production profile does). With
//! `DATABASE_URL`s, `MONGODB_URL`, `NATS_URL` and Stripe keys in the environment the same
//! code uses the real services, which is how the end-to-end tests run it. Each service
//! reads its own configuration exactly as its stand-alone binary does; this crate only
//! wires them together (one shared bus, the users service's keys for every verifier, the
//! router pointed at wherever the subgraphs really listen).

pub mod configuration;
pub mod demo;

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::Context as _;
use kit::{auth::JwksVerifier, bus::EventBus, config::Env};

pub use demo::DemoAccounts;

/// What the launcher needs beyond each service's own environment.
#[derive(Debug, Clone)]
pub struct Options {
    /// Load an admin, a customer and a catalog after start-up.
    pub demo: bool,
    /// Where `supergraph.yaml` and `schema/` live (the repository root).
    pub project_dir: PathBuf,
    /// Bind every service to port 0 (tests) instead of its configured address.
    pub ephemeral_ports: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            demo: false,
            project_dir: PathBuf::from("."),
            ephemeral_ports: false,
        }
    }
}

/// Where each part listens.
#[derive(Debug, Clone, Copy)]
pub struct ServiceUrls {
    pub router: SocketAddr,
    pub products: SocketAddr,
    pub orders: SocketAddr,
    pub payments: SocketAddr,
    /// The payments webhook and sandbox pages.
    pub payments_webhook: SocketAddr,
    pub users: SocketAddr,
}

/// The running system.
pub struct Stack {
    pub router: router::RunningRouter,
    pub users: users::RunningService,
    pub products: products::RunningService,
    pub orders: orders::RunningService,
    pub payments: payments::RunningService,
    pub bus: Arc<dyn EventBus>,
    /// Verifies access tokens against the users service's keys (shared by the subgraphs).
    pub verifier: Arc<JwksVerifier>,
    pub demo: Option<DemoAccounts>,
}

impl Stack {
    pub fn router_url(&self) -> String {
        format!("http://{}/graphql", self.router.addr)
    }

    /// The addresses, for the start-up banner.
    pub fn urls(&self) -> ServiceUrls {
        ServiceUrls {
            router: self.router.addr,
            products: self.products.addr,
            orders: self.orders.addr,
            payments: self.payments.addr,
            payments_webhook: self.payments.webhook_addr,
            users: self.users.addr,
        }
    }

    /// Stops the orders service and starts it again on the same address with a fresh
    /// configuration from `env` (what a crash and restart of one replica looks like).
    pub async fn restart_orders(self, env: &Env) -> anyhow::Result<Self> {
        let Stack {
            router,
            users,
            products,
            orders,
            payments,
            bus,
            verifier,
            demo,
        } = self;
        let addr = orders.addr;
        orders.stop().await;
        let mut config = orders::config::Config::from_env(env)?;
        config.addr = addr;
        let orders = orders::start(
            config,
            orders::Deps {
                bus: bus.clone(),
                verifier: verifier.clone(),
            },
        )
        .await
        .context("restarting orders")?;
        Ok(Stack {
            router,
            users,
            products,
            orders,
            payments,
            bus,
            verifier,
            demo,
        })
    }

    /// Stops the router first (no new work), then the services that emit events, so their
    /// outboxes drain while the bus is still there, then the rest.
    pub async fn stop(self) {
        self.router.shutdown().await;
        self.payments.stop().await;
        self.orders.stop().await;
        self.products.stop().await;
        self.users.stop().await;
    }
}

/// The banner lines about the router: the GraphQL endpoint, and GraphiQL and the API
/// schema only when this router serves them.
pub fn router_banner(router: &router::RunningRouter) -> Vec<String> {
    let addr = router.addr;
    let state = router.state();
    let mut lines = vec![format!("  router (GraphQL)   http://{addr}/graphql")];
    if state.graphiql.is_some() {
        lines.push(format!("  GraphiQL           http://{addr}/"));
    }
    if state.introspection {
        lines.push(format!("  API schema (SDL)   http://{addr}/schema.graphql"));
    }
    lines
}

fn ephemeral(addr: SocketAddr, on: bool) -> SocketAddr {
    if on {
        SocketAddr::new(addr.ip(), 0)
    } else {
        addr
    }
}

/// Starts users, products, orders, payments and the router, in that order (each later one
/// needs the earlier ones' addresses).
pub async fn start(env: &Env, options: &Options) -> anyhow::Result<Stack> {
    // Read first: its profile decides whether the payment sandbox may run.
    let mut router_config = router::RouterConfig::load(None, &Env::process())?;
    let host_profile = router_config.profile;
    // Payments' settings are checked before anything starts: a refused provider (the sandbox
    // under a production router, Stripe without its keys) leaves nothing running.
    // Stripe keys in the environment mean Stripe; otherwise the launcher's default is the sandbox.
    let default_provider =
        if env.get("STRIPE_SECRET_KEY").is_some() || env.get("STRIPE_SECRET_KEY_FILE").is_some() {
            payments::config::DefaultProvider::Stripe
        } else {
            payments::config::DefaultProvider::Sandbox
        };
    let mut payments_config =
        payments::config::Config::from_env_with(env, default_provider, host_profile)?;
    let bus_config = kit::config::BusConfig::from_env(env)?;
    let bus = kit::bus::connect(&bus_config)
        .await
        .context("connecting to the event bus")?;

    let mut users_config = users::config::Config::from_env(env)?;
    users_config.addr = ephemeral(users_config.addr, options.ephemeral_ports);
    if options.demo && users_config.bootstrap_admin.is_none() {
        users_config.bootstrap_admin = Some(demo::admin());
    }
    let users = users::start(users_config, users::Deps::default())
        .await
        .context("starting users")?;
    let jwks_url = format!("http://{}/.well-known/jwks.json", users.addr);
    let policy = kit::auth::TokenPolicy::from_env(env)?;
    let verifier = Arc::new(JwksVerifier::remote(jwks_url.clone(), policy));

    let mut products_config = products::config::Config::from_env(env)?;
    products_config.addr = ephemeral(products_config.addr, options.ephemeral_ports);
    let products = products::start(
        products_config,
        products::Deps {
            bus: bus.clone(),
            verifier: verifier.clone(),
        },
    )
    .await
    .context("starting products")?;

    let mut orders_config = orders::config::Config::from_env(env)?;
    orders_config.addr = ephemeral(orders_config.addr, options.ephemeral_ports);
    let orders = orders::start(
        orders_config,
        orders::Deps {
            bus: bus.clone(),
            verifier: verifier.clone(),
        },
    )
    .await
    .context("starting orders")?;

    payments_config.addr = ephemeral(payments_config.addr, options.ephemeral_ports);
    payments_config.webhook_addr = ephemeral(payments_config.webhook_addr, options.ephemeral_ports);
    let subgraph_secret = payments_config.internal.subgraph_secret.clone();
    let payments = payments::start(
        payments_config,
        payments::Deps {
            bus: bus.clone(),
            verifier: verifier.clone(),
        },
    )
    .await
    .context("starting payments")?;

    router_config.listen.addr = ephemeral(router_config.listen.addr, options.ephemeral_ports);
    // The subgraphs read SUBGRAPH_SHARED_SECRET; in one process the router sends that one.
    if router_config.subgraphs.shared_secret.is_none() {
        router_config.subgraphs.shared_secret = subgraph_secret;
    }
    router_config.supergraph.compose_from = Some(options.project_dir.join("supergraph.yaml"));
    router_config.supergraph.path = options.project_dir.join("schema/supergraph.graphql");
    if router_config.graphiql.assets_dir.is_relative() {
        router_config.graphiql.assets_dir =
            options.project_dir.join(&router_config.graphiql.assets_dir);
    }
    router_config.auth.jwks_url = jwks_url;
    for (name, addr) in [
        ("products", products.addr),
        ("orders", orders.addr),
        ("payments", payments.addr),
        ("users", users.addr),
    ] {
        router_config
            .subgraphs
            .urls
            .insert(name.to_owned(), format!("http://{addr}/graphql"));
    }
    let router = router::spawn(router_config)
        .await
        .context("starting the router")?;

    let mut stack = Stack {
        router,
        users,
        products,
        orders,
        payments,
        bus,
        verifier,
        demo: None,
    };
    if options.demo {
        stack.demo = Some(demo::load(&stack).await.context("loading demo data")?);
    }
    Ok(stack)
}
