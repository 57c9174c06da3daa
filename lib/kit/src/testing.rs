//! Test support shared by the services' integration tests (feature `testing`).
//!
//! Each test gets its own PostgreSQL or MongoDB database, its own NATS stream and subject
//! prefix, and its own signing key, so tests run in parallel and leave nothing behind: the
//! databases and the stream are dropped when their guard is. Missing services make the test fail with a
//! message saying what to start; they are never skipped.
//!
//! The helpers that need nothing but HTTP and tokens (a loopback server, polling, test
//! keys, a fake trace collector) are the platform's ([`platform::testing`], re-exported).

pub use platform::testing::*;

use std::{sync::Arc, time::Duration};

use sea_orm::{ConnectionTrait, Database};
use uuid::Uuid;

use crate::bus::NatsBus;

/// The server tests create databases on (`TEST_POSTGRES_URL`, default the local server).
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The MongoDB (wire-protocol) server tests create databases on (`TEST_MONGODB_URL`,
/// default a local server on port 27018).
pub fn mongo_url() -> String {
    std::env::var("TEST_MONGODB_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27018/?directConnection=true".into())
}

/// The NATS server tests create streams on (`TEST_NATS_URL`, default the local server).
pub fn nats_url() -> String {
    std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// A short random name usable as a database name or subject prefix.
pub fn unique_name(kind: &str) -> String {
    format!("{kind}_{}", &Uuid::new_v4().simple().to_string()[..16])
}

/// A fresh PostgreSQL database, dropped with the guard.
pub struct TestDatabase {
    pub url: String,
    name: String,
}

impl TestDatabase {
    pub async fn postgres() -> Self {
        let admin = postgres_admin_url();
        let name = unique_name("test");
        let conn = Database::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL is required for this test ({admin}): {e}"));
        conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database: {e}"));
        let _ = conn.close().await;
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        Self {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin = postgres_admin_url();
        let name = self.name.clone();
        clean_up_on_drop(async move {
            if let Ok(conn) = Database::connect(&admin).await {
                let _ = conn
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await;
                let _ = conn.close().await;
            }
        });
    }
}

/// A fresh MongoDB database (a name nobody else uses on [`mongo_url`]'s server), dropped
/// with the guard.
pub struct TestMongo {
    pub url: String,
    pub name: String,
}

impl TestMongo {
    /// Checks that the server answers; the database itself is created by its first write.
    pub async fn new() -> Self {
        let url = mongo_url();
        let client = mongodb::Client::with_uri_str(&url)
            .await
            .unwrap_or_else(|e| panic!("bad TEST_MONGODB_URL {url}: {e}"));
        let ping = tokio::time::timeout(
            Duration::from_secs(10),
            client
                .database("admin")
                .run_command(mongodb::bson::doc! { "ping": 1 }),
        )
        .await;
        if !matches!(ping, Ok(Ok(_))) {
            panic!(
                "MongoDB is required for this test and is not reachable at {url}; start one, e.g. \
                 `python -m secantus --host 127.0.0.1 --port 27018 --storage-path :memory:`, or set TEST_MONGODB_URL"
            );
        }
        Self {
            url,
            name: unique_name("test"),
        }
    }

    /// A handle on the database, for looking at what the service stored.
    pub async fn database(&self) -> mongodb::Database {
        mongodb::Client::with_uri_str(&self.url)
            .await
            .expect("client")
            .database(&self.name)
    }
}

impl Drop for TestMongo {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        clean_up_on_drop(async move {
            if let Ok(client) = mongodb::Client::with_uri_str(&url).await {
                let _ = client.database(&name).drop().await;
            }
        });
    }
}

/// A NATS bus on its own prefix and stream, deleted with the guard.
pub struct TestBus {
    pub bus: Arc<NatsBus>,
    pub prefix: String,
}

impl TestBus {
    pub async fn nats() -> Self {
        Self::nats_with(crate::bus::DeliveryPolicy::default()).await
    }

    /// A bus whose consumers have the delivery budget `policy` (short ones keep tests of
    /// retries and parking quick).
    pub async fn nats_with(policy: crate::bus::DeliveryPolicy) -> Self {
        let prefix = unique_name("t");
        let url = nats_url();
        let bus = NatsBus::connect(&url, &prefix)
            .await
            .unwrap_or_else(|e| {
                panic!("NATS with JetStream is required for this test ({url}): {e}")
            })
            .with_delivery_policy(policy);
        Self {
            bus: Arc::new(bus),
            prefix,
        }
    }

    /// Waits until the durable consumer `durable` has handled everything on its subjects
    /// that this bus's stream holds; see [`consumer_settled`].
    pub async fn settled(&self, durable: &str) {
        consumer_settled(&nats_url(), self.bus.stream_name(), durable).await;
    }
}

/// Waits until the durable consumer `durable` of `stream` on the NATS server at `url` has
/// nothing left to deliver and nothing delivered but unacknowledged (a failed delivery
/// waiting for its retry still counts as unacknowledged). Consumers acknowledge an event
/// after its handler has finished, so by then every event published before the call has
/// been handled, for good: this is how a test shows that an event led to nothing more (no
/// duplicate, no further delivery) without sleeping and hoping.
pub async fn consumer_settled(url: &str, stream: &str, durable: &str) {
    let client = async_nats::connect(url)
        .await
        .unwrap_or_else(|e| panic!("NATS reachable at {url}: {e}"));
    let js = async_nats::jetstream::new(client);
    eventually(
        format_args!("consumer {durable} of {stream} to settle"),
        async || {
            let Ok(stream) = js.get_stream(stream).await else {
                return false;
            };
            let Ok(info) = stream.consumer_info(durable).await else {
                return false;
            };
            info.num_pending == 0 && info.num_ack_pending == 0
        },
    )
    .await;
}

/// A delivery budget for tests: `max_attempts` deliveries 50 ms apart.
pub fn quick_delivery(max_attempts: u32) -> crate::bus::DeliveryPolicy {
    crate::bus::DeliveryPolicy {
        max_attempts,
        retry_delays: vec![Duration::from_millis(50)],
        ack_timeouts: vec![Duration::from_secs(30)],
    }
}

impl Drop for TestBus {
    fn drop(&mut self) {
        let prefix = self.prefix.clone();
        clean_up_on_drop(async move {
            if let Ok(Ok(bus)) = tokio::time::timeout(
                Duration::from_secs(5),
                NatsBus::connect(&nats_url(), &prefix),
            )
            .await
            {
                let _ = bus.delete_stream().await;
            }
        });
    }
}

/// Compares a schema file with what the code prints. Set `UPDATE_SCHEMA=1` to rewrite it.
pub fn check_schema_file(path: &std::path::Path, actual: &str) {
    if std::env::var("UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(path, actual).expect("schema file writable");
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        expected == actual,
        "{} differs from the schema the code prints; run the tests with UPDATE_SCHEMA=1 to rewrite it and commit the result",
        path.display()
    );
}

/// A small GraphQL-over-HTTP client for tests.
#[derive(Clone)]
pub struct GraphqlClient {
    pub http: reqwest::Client,
    pub url: String,
}

impl GraphqlClient {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            http: reqwest::Client::new(),
            url: url.into(),
        }
    }

    /// Posts an operation and returns the whole JSON response.
    pub async fn post(
        &self,
        query: &str,
        variables: serde_json::Value,
        bearer: Option<&str>,
    ) -> serde_json::Value {
        let mut req = self
            .http
            .post(&self.url)
            .json(&serde_json::json!({ "query": query, "variables": variables }));
        if let Some(b) = bearer {
            req = req.header("authorization", b);
        }
        let resp = req.send().await.expect("the service answers");
        resp.json().await.expect("the response is JSON")
    }
}

/// The `extensions.code` of the first error of a GraphQL response.
pub fn first_error_code(resp: &serde_json::Value) -> Option<&str> {
    resp["errors"][0]["extensions"]["code"].as_str()
}

/// A nats-server process of a test's own, for tests that stop and restart NATS (the shared
/// server must never be stopped) or that need a server configuration of their own (users
/// and permissions, [`NatsServer::start_with_config`]). Storage lives in a temporary folder,
/// so JetStream state survives a restart just as it does in production; the process dies
/// with the guard.
pub struct NatsServer {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<tokio::process::Child>,
    config: Option<(std::path::PathBuf, Vec<(String, String)>)>,
}

impl NatsServer {
    pub async fn start() -> Self {
        Self::launch(None).await
    }

    /// Starts nats-server with the configuration file at `config` (e.g. the deployment's
    /// users and permissions), with `env` in its environment for the `$VARIABLES` it names.
    pub async fn start_with_config(config: &std::path::Path, env: &[(&str, &str)]) -> Self {
        let env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Self::launch(Some((config.to_owned(), env))).await
    }

    async fn launch(config: Option<(std::path::PathBuf, Vec<(String, String)>)>) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut server = Self {
            port,
            dir,
            child: None,
            config,
        };
        server.resume().await;
        server
    }

    /// What the server logged so far (permission violations, for instance).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("nats-server.log")).unwrap_or_default()
    }

    /// The URL a client logs in with as `user`.
    pub fn url_as(&self, user: &str, password: &str) -> String {
        format!("nats://{user}:{password}@127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the process again on the same port and storage.
    pub async fn resume(&mut self) {
        let mut command = tokio::process::Command::new("nats-server");
        if let Some((config, env)) = &self.config {
            command
                .arg("-c")
                .arg(config)
                .envs(env.iter().map(|(k, v)| (k, v)));
        }
        let child = command
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-l"])
            .arg(self.dir.path().join("nats-server.log"))
            .arg("-sd")
            .arg(self.dir.path())
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server must be on PATH for this test");
        self.child = Some(child);
        let addr = format!("127.0.0.1:{}", self.port);
        eventually("the test's nats-server to listen", || {
            let addr = addr.clone();
            async move { tokio::net::TcpStream::connect(addr).await.is_ok() }
        })
        .await;
    }

    /// Kills the process (as an outage would) and waits until it is gone.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("stopping the test's nats-server");
        }
    }
}
