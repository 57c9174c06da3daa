//! The system under test: fresh PostgreSQL databases, a NATS JetStream prefix and a MongoDB
//! database of its own, the four subgraphs and the router, each in its own process.
//!
//! Everything the run creates is removed again by [`System::shutdown`] (processes stopped,
//! databases dropped, stream deleted), also when start-up fails half-way.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context as _;
use kit::{auth::SigningKey, bus::NatsBus};
use sea_orm::{ConnectionTrait as _, Database};

use crate::processes::{Service, free_addr};

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_GRACE: Duration = Duration::from_secs(10);

/// The demo admin the users service creates at start-up.
pub const ADMIN_EMAIL: &str = "bench-admin@shop.example";
pub const ADMIN_PASSWORD: &str = "tamarind-quartz-lantern-7";
/// What the router (production profile) sends subgraphs. The subgraphs here do not require
/// it, so the "direct" rows can still call them without the router.
const SUBGRAPH_SECRET: &str = "bench-router-secret-0123456789abcdef";

/// Where the binaries and the schema are.
#[derive(Debug, Clone)]
pub struct Layout {
    pub bin_dir: PathBuf,
    pub supergraph: PathBuf,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

pub fn postgres_admin_url() -> String {
    env_or(
        "TEST_POSTGRES_URL",
        "postgres://postgres@127.0.0.1:5432/postgres",
    )
}

pub fn nats_url() -> String {
    env_or("TEST_NATS_URL", "nats://127.0.0.1:4222")
}

pub fn mongo_url() -> String {
    env_or(
        "TEST_MONGODB_URL",
        "mongodb://127.0.0.1:27018/?directConnection=true",
    )
}

/// A name no earlier run used: the run's process id and the time.
fn run_name(kind: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "bench_{kind}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000
    )
}

/// A PostgreSQL database of the run's own.
struct ScratchDatabase {
    name: String,
    url: String,
}

impl ScratchDatabase {
    async fn create(kind: &str) -> anyhow::Result<Self> {
        let admin = postgres_admin_url();
        let name = run_name(kind);
        let conn = Database::connect(&admin)
            .await
            .with_context(|| format!("connecting to PostgreSQL at {admin}"))?;
        conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .context("creating a database")?;
        let _ = conn.close().await;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Ok(Self {
            url: format!("{base}/{name}"),
            name,
        })
    }

    async fn drop_database(&self) -> anyhow::Result<()> {
        let conn = Database::connect(&postgres_admin_url()).await?;
        conn.execute_unprepared(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ))
        .await?;
        let _ = conn.close().await;
        Ok(())
    }
}

struct Backends {
    products: ScratchDatabase,
    orders: ScratchDatabase,
    payments: ScratchDatabase,
    nats_prefix: String,
    mongo_database: String,
    signing_key: String,
    data: tempfile::TempDir,
}

impl Backends {
    async fn create() -> anyhow::Result<Self> {
        let nats_prefix = run_name("nats");
        // Connecting creates the prefix's stream, so a NATS without JetStream fails here.
        NatsBus::connect(&nats_url(), &nats_prefix)
            .await
            .with_context(|| format!("connecting to NATS JetStream at {}", nats_url()))?;
        Ok(Self {
            products: ScratchDatabase::create("products").await?,
            orders: ScratchDatabase::create("orders").await?,
            payments: ScratchDatabase::create("payments").await?,
            nats_prefix,
            mongo_database: run_name("users"),
            signing_key: SigningKey::generate().to_pem(),
            data: tempfile::tempdir().context("creating a temporary folder")?,
        })
    }

    /// Drops the databases and the stream; tries every step and reports the first failure.
    async fn remove(&self) -> anyhow::Result<()> {
        let mut results = Vec::new();
        for db in [&self.products, &self.orders, &self.payments] {
            results.push(
                db.drop_database()
                    .await
                    .with_context(|| format!("dropping {}", db.name)),
            );
        }
        results.push(
            async {
                let bus = NatsBus::connect(&nats_url(), &self.nats_prefix).await?;
                bus.delete_stream().await?;
                anyhow::Ok(())
            }
            .await
            .context("deleting the NATS stream"),
        );
        results.push(
            async {
                let client = mongodb::Client::with_uri_str(mongo_url()).await?;
                client.database(&self.mongo_database).drop().await?;
                anyhow::Ok(())
            }
            .await
            .context("dropping the MongoDB database"),
        );
        results
            .into_iter()
            .collect::<anyhow::Result<Vec<()>>>()
            .map(|_| ())
    }
}

pub struct System {
    layout: Layout,
    backends: Backends,
    pub users: Service,
    pub products: Service,
    pub orders: Service,
    pub payments: Service,
    pub router: Option<Service>,
    router_addr: SocketAddr,
    http: reqwest::Client,
}

impl System {
    /// Creates the backends, starts users, then the other subgraphs, then the router.
    pub async fn start(layout: Layout, dedup: bool) -> anyhow::Result<Self> {
        let http = reqwest::Client::new();
        let backends = Backends::create().await?;
        let services = Self::start_subgraphs(&layout, &backends, &http).await;
        let (users, products, orders, payments) = match services {
            Ok(services) => services,
            Err(e) => {
                // The processes died with the error; take the data with them.
                if let Err(cleanup) = backends.remove().await {
                    eprintln!("cleaning up after a failed start: {cleanup:#}");
                }
                return Err(e);
            }
        };
        let mut system = Self {
            layout,
            backends,
            users,
            products,
            orders,
            payments,
            router: None,
            router_addr: free_addr()?,
            http,
        };
        if let Err(e) = system.start_router(dedup).await {
            if let Err(cleanup) = system.shutdown().await {
                eprintln!("cleaning up after a failed start: {cleanup:#}");
            }
            return Err(e);
        }
        Ok(system)
    }

    async fn start_subgraphs(
        layout: &Layout,
        backends: &Backends,
        http: &reqwest::Client,
    ) -> anyhow::Result<(Service, Service, Service, Service)> {
        let logs = backends.data.path();

        let users_addr = free_addr()?;
        let jwks = format!("http://{users_addr}/.well-known/jwks.json");
        let mut users = Service::spawn(
            "users",
            &layout.bin_dir.join("users"),
            users_addr,
            &[
                ("USERS_ADDR", users_addr.to_string()),
                ("MONGODB_URL", mongo_url()),
                ("MONGODB_DATABASE", backends.mongo_database.clone()),
                ("JWT_SIGNING_KEYS", backends.signing_key.clone()),
                (
                    "DATA_DIR",
                    logs.join("users").to_string_lossy().into_owned(),
                ),
                ("USERS_BOOTSTRAP_ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
                ("USERS_BOOTSTRAP_ADMIN_NAME", "Bench Admin".to_owned()),
                ("USERS_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
            ],
            logs,
        )?;
        users.wait_ready(http, READY_TIMEOUT).await?;

        let shared = |addr_var: &'static str,
                      db_var: &'static str,
                      addr: SocketAddr,
                      db: &ScratchDatabase| {
            vec![
                (addr_var, addr.to_string()),
                (db_var, db.url.clone()),
                ("NATS_URL", nats_url()),
                ("NATS_PREFIX", backends.nats_prefix.clone()),
                ("JWKS_URL", jwks.clone()),
            ]
        };
        let products_addr = free_addr()?;
        let mut products = Service::spawn(
            "products",
            &layout.bin_dir.join("products"),
            products_addr,
            &shared(
                "PRODUCTS_ADDR",
                "PRODUCTS_DATABASE_URL",
                products_addr,
                &backends.products,
            ),
            logs,
        )?;
        let orders_addr = free_addr()?;
        let mut orders = Service::spawn(
            "orders",
            &layout.bin_dir.join("orders"),
            orders_addr,
            &shared(
                "ORDERS_ADDR",
                "ORDERS_DATABASE_URL",
                orders_addr,
                &backends.orders,
            ),
            logs,
        )?;
        let payments_addr = free_addr()?;
        let mut payments_env = shared(
            "PAYMENTS_ADDR",
            "PAYMENTS_DATABASE_URL",
            payments_addr,
            &backends.payments,
        );
        let webhook_addr = free_addr()?;
        payments_env.push(("PAYMENTS_PROVIDER", "sandbox".to_owned()));
        payments_env.push(("PAYMENTS_WEBHOOK_ADDR", webhook_addr.to_string()));
        payments_env.push(("PUBLIC_URL", format!("http://{webhook_addr}")));
        let mut payments = Service::spawn(
            "payments",
            &layout.bin_dir.join("payments"),
            payments_addr,
            &payments_env,
            logs,
        )?;
        products.wait_ready(http, READY_TIMEOUT).await?;
        orders.wait_ready(http, READY_TIMEOUT).await?;
        payments.wait_ready(http, READY_TIMEOUT).await?;
        Ok((users, products, orders, payments))
    }

    /// (Re)starts the router on the same address with in-flight deduplication on or off.
    pub async fn start_router(&mut self, dedup: bool) -> anyhow::Result<()> {
        if let Some(old) = self.router.take() {
            old.stop(STOP_GRACE).await;
        }
        let urls = format!(
            "products={},orders={},payments={},users={}",
            self.products.graphql_url(),
            self.orders.graphql_url(),
            self.payments.graphql_url(),
            self.users.graphql_url()
        );
        let mut router = Service::spawn(
            "router",
            &self.layout.bin_dir.join("router"),
            self.router_addr,
            &[
                ("ROUTER_PROFILE", "production".to_owned()),
                ("ROUTER_SUBGRAPH_SECRET", SUBGRAPH_SECRET.to_owned()),
                ("ROUTER_LISTEN_ADDR", self.router_addr.to_string()),
                (
                    "ROUTER_SUPERGRAPH_PATH",
                    self.layout.supergraph.to_string_lossy().into_owned(),
                ),
                ("ROUTER_SUPERGRAPH_POLL_SECS", "0".to_owned()),
                ("ROUTER_SUBGRAPH_URLS", urls),
                (
                    "ROUTER_JWKS_URL",
                    format!("{}/.well-known/jwks.json", self.users.base_url()),
                ),
                ("ROUTER_DEDUP_ENABLED", dedup.to_string()),
            ],
            self.backends.data.path(),
        )?;
        router.wait_ready(&self.http, READY_TIMEOUT).await?;
        self.router = Some(router);
        Ok(())
    }

    pub fn router(&self) -> anyhow::Result<&Service> {
        self.router.as_ref().context("the router is not running")
    }

    pub fn subgraphs(&self) -> [&Service; 4] {
        [&self.products, &self.orders, &self.payments, &self.users]
    }

    /// Stops the router, then the subgraphs, then removes the databases and the stream.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let Self {
            backends,
            users,
            products,
            orders,
            payments,
            router,
            ..
        } = self;
        if let Some(router) = router {
            router.stop(STOP_GRACE).await;
        }
        futures::join!(
            payments.stop(STOP_GRACE),
            orders.stop(STOP_GRACE),
            products.stop(STOP_GRACE)
        );
        users.stop(STOP_GRACE).await;
        backends.remove().await
    }
}

/// The binaries `bench/run.sh` builds, checked before anything starts.
pub fn check_binaries(bin_dir: &Path) -> anyhow::Result<()> {
    for name in ["router", "products", "users", "orders", "payments"] {
        let path = bin_dir.join(name);
        anyhow::ensure!(
            path.is_file(),
            "{} is missing; build it with `cargo build --release -p {name}`",
            path.display()
        );
    }
    Ok(())
}
