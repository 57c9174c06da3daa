//! The deployment's least-privilege set-up, run for real: the NATS server configuration of
//! `deploy/nats` (one user per service, limited to its own subjects) on a nats-server of the
//! test's own, and the role script of `deploy/postgres` on the real PostgreSQL server.

mod support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use kit::{
    bus::{ConsumerSpec, EventBus, EventHandler, NatsBus, RequestHandler},
    testing::{NatsServer, eventually, postgres_admin_url, unique_name},
};
use sea_orm::{ConnectionTrait, Database};
use support::project_dir;
use uuid::Uuid;

const PASSWORDS: [(&str, &str); 3] = [
    ("NATS_ORDERS_PASSWORD", "orders-pw-test"),
    ("NATS_PAYMENTS_PASSWORD", "payments-pw-test"),
    ("NATS_PRODUCTS_PASSWORD", "products-pw-test"),
];

async fn nats() -> NatsServer {
    NatsServer::start_with_config(
        &project_dir().join("deploy/nats/nats-server.conf"),
        &PASSWORDS,
    )
    .await
}

async fn login(server: &NatsServer, user: &str) -> NatsBus {
    let password = format!("{user}-pw-test");
    NatsBus::connect(&server.url_as(user, &password), "")
        .await
        .unwrap_or_else(|e| panic!("{user} logs in: {e}"))
}

/// Messages per subject in the EVENTS stream, read with `user`'s own (allowed) API access.
async fn stream_subjects(
    server: &NatsServer,
    user: &str,
) -> std::collections::HashMap<String, usize> {
    let client = async_nats::ConnectOptions::with_user_and_password(
        user.to_owned(),
        format!("{user}-pw-test"),
    )
    .connect(format!("nats://127.0.0.1:{}", server.port))
    .await
    .expect("connects");
    let js = async_nats::jetstream::new(client);
    let stream = js.get_stream("EVENTS").await.expect("the stream exists");
    let mut info = stream.info_with_subjects(">").await.expect("stream info");
    let mut subjects = std::collections::HashMap::new();
    use futures::StreamExt as _;
    while let Some(entry) = info.next().await {
        let (subject, count) = entry.expect("a subject count");
        subjects.insert(subject, count);
    }
    subjects
}

#[tokio::test]
async fn a_service_publishes_its_own_events_and_cannot_forge_another_services() {
    let server = nats().await;
    let orders = login(&server, "orders").await;
    let payments = login(&server, "payments").await;

    payments
        .publish("payments.succeeded", Uuid::now_v7(), "{}".into())
        .await
        .expect("payments announces its own event");
    orders
        .publish("orders.created", Uuid::now_v7(), "{}".into())
        .await
        .expect("orders announces its own event");

    // A forged payment would mark an order paid; a forged order event would move stock.
    let forged = orders
        .publish("payments.succeeded", Uuid::now_v7(), "{}".into())
        .await;
    assert!(forged.is_err(), "orders must not announce payments' events");
    let forged = payments
        .publish("orders.paid", Uuid::now_v7(), "{}".into())
        .await;
    assert!(forged.is_err(), "payments must not announce orders' events");

    let stored = stream_subjects(&server, "orders").await;
    assert_eq!(
        stored.get("payments.succeeded"),
        Some(&1),
        "only the genuine payment is stored: {stored:?}"
    );
    assert_eq!(stored.get("orders.created"), Some(&1));
    assert_eq!(
        stored.get("orders.paid"),
        None,
        "the forged event never reached the stream: {stored:?}"
    );
    assert_eq!(stored.values().sum::<usize>(), 2, "{stored:?}");
}

#[tokio::test]
async fn each_service_consumes_and_answers_what_it_needs_and_no_more() {
    let server = nats().await;
    let orders = login(&server, "orders").await;
    let payments = login(&server, "payments").await;
    let products = login(&server, "products").await;

    // orders answers "what does this order cost" for payments.
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    let answer: RequestHandler = Arc::new(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Bytes::from_static(b"payable") })
    });
    let _responder = orders
        .serve("rpc.orders.payable", answer)
        .await
        .expect("orders serves its request subject");
    // The responder's subscription may reach the server a moment after `serve` returns.
    eventually("payments to get orders' answer", || async {
        matches!(payments.request("rpc.orders.payable", "{}".into(), Duration::from_secs(2)).await, Ok(reply) if &reply[..] == b"payable")
    })
    .await;
    let answered = asked.load(Ordering::SeqCst);
    assert!(answered >= 1);
    // products has no business asking orders about payments: refused before orders sees it.
    let refused = products
        .request("rpc.orders.payable", "{}".into(), Duration::from_secs(2))
        .await;
    assert!(
        refused.is_err(),
        "products may not ask orders for payable orders"
    );
    assert_eq!(
        asked.load(Ordering::SeqCst),
        answered,
        "orders never received the refused request"
    );

    // orders reads payments.succeeded through its own durable consumer.
    let seen = Arc::new(AtomicUsize::new(0));
    let sink = seen.clone();
    let handler: EventHandler = Arc::new(move |_| {
        sink.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(()) })
    });
    let spec = ConsumerSpec {
        durable: "orders-payments".into(),
        subjects: vec!["payments.succeeded".into()],
    };
    let _consumer = orders
        .consume(spec, handler)
        .await
        .expect("orders consumes");
    payments
        .publish("payments.succeeded", Uuid::now_v7(), "{}".into())
        .await
        .expect("published");
    eventually("orders to receive payments.succeeded", || async {
        seen.load(Ordering::SeqCst) == 1
    })
    .await;

    // A wrong password is no login at all.
    let stranger = NatsBus::connect(&server.url_as("orders", "guessed"), "").await;
    assert!(stranger.is_err(), "a wrong password is refused");
}

// ---------------------------------------------------------------------------------------
// PostgreSQL

/// The roles and databases the script made for one suffix, dropped with the guard.
struct Roles {
    suffix: String,
}

impl Drop for Roles {
    fn drop(&mut self) {
        let suffix = self.suffix.clone();
        kit::testing::clean_up_on_drop(async move {
            if let Ok(conn) = Database::connect(postgres_admin_url()).await {
                for service in ["products", "orders", "payments"] {
                    let _ = conn
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{service}{suffix}\" WITH (FORCE)"
                        ))
                        .await;
                    let _ = conn
                        .execute_unprepared(&format!("DROP ROLE IF EXISTS \"{service}{suffix}\""))
                        .await;
                }
            }
        });
    }
}

/// `user@host:port` of the test server's URL.
fn server_parts() -> (String, String, String) {
    let admin = postgres_admin_url();
    let rest = admin.split_once("://").map(|(_, r)| r).expect("a URL");
    let (authority, _) = rest.split_once('/').unwrap_or((rest, ""));
    let (user, host_port) = authority
        .rsplit_once('@')
        .expect("a user in TEST_POSTGRES_URL");
    let user = user.split(':').next().unwrap_or(user).to_owned();
    let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, "5432"));
    (user, host.to_owned(), port.to_owned())
}

async fn run_role_script() -> Roles {
    let suffix = format!("_{}", unique_name("r").to_ascii_lowercase());
    let (user, host, port) = server_parts();
    let output = tokio::process::Command::new("sh")
        .arg(project_dir().join("deploy/postgres/init-roles.sh"))
        .env("POSTGRES_USER", user)
        .env("POSTGRES_DB", "postgres")
        .env("PGHOST", host)
        .env("PGPORT", port)
        .env("COMMERCE_DB_SUFFIX", &suffix)
        .env("PRODUCTS_DB_PASSWORD", "products-pw")
        .env("ORDERS_DB_PASSWORD", "orders-pw")
        .env("PAYMENTS_DB_PASSWORD", "payments-pw")
        .output()
        .await
        .expect("sh and psql must be installed for this test");
    let roles = Roles { suffix };
    assert!(
        output.status.success(),
        "the role script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    roles
}

fn url_as(role: &str, database: &str) -> String {
    let (_, host, port) = server_parts();
    let password = role
        .split('_')
        .next()
        .map(|s| format!("{s}-pw"))
        .unwrap_or_default();
    format!("postgres://{role}:{password}@{host}:{port}/{database}")
}

#[tokio::test]
async fn a_service_role_owns_its_database_and_cannot_reach_anothers() {
    let roles = run_role_script().await;
    let s = &roles.suffix;
    let (products, orders, payments) = (
        format!("products{s}"),
        format!("orders{s}"),
        format!("payments{s}"),
    );

    // The owner creates its tables (what migrations do) and reads them.
    let own = Database::connect(url_as(&orders, &orders))
        .await
        .expect("orders reaches its own database");
    own.execute_unprepared("CREATE TABLE secrets (card TEXT); INSERT INTO secrets VALUES ('4242')")
        .await
        .expect("owner creates tables");
    let superuser = own
        .query_one_raw(sea_orm::Statement::from_string(
            own.get_database_backend(),
            "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user",
        ))
        .await
        .expect("query")
        .expect("row")
        .try_get_by_index::<String>(0)
        .expect("text");
    assert_eq!(superuser, "false", "a service role is no superuser");
    let create_db = own.execute_unprepared("CREATE DATABASE stolen_space").await;
    assert!(create_db.is_err(), "a service role cannot create databases");

    // Another service's role does not even get a connection to it, so it cannot read it.
    for intruder in [&products, &payments] {
        let refused = Database::connect(url_as(intruder, &orders)).await;
        let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("permission denied for database"),
            "{intruder} -> {orders}: {message}"
        );
    }
    let refused = Database::connect(url_as(&orders, &payments)).await;
    assert!(refused.is_err(), "and the other way round");
    let _ = own.close().await;
}

// ---------------------------------------------------------------------------------------
// MongoDB

/// A secantusdb process of the test's own, on file storage so users survive a restart.
struct Secantus {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<tokio::process::Child>,
}

impl Secantus {
    async fn start(auth: bool, dir: tempfile::TempDir, port: u16) -> Self {
        let python = std::env::var("TEST_SECANTUS_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut command = tokio::process::Command::new(&python);
        command
            .args([
                "-m",
                "secantus",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--storage-path",
            ])
            .arg(dir.path())
            .kill_on_drop(true)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if auth {
            command.arg("--auth");
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("secantusdb is required (TEST_SECANTUS_PYTHON={python}, see scripts/services.sh): {e}"));
        eventually("secantusdb to listen", || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        })
        .await;
        Self {
            port,
            dir,
            child: Some(child),
        }
    }

    async fn restart_with_auth(mut self) -> Self {
        if let Some(mut child) = self.child.take() {
            // A clean shutdown (SIGTERM), so what it stored is on disk for the restart.
            let pid = child.id().expect("secantusdb runs").to_string();
            let stopped = tokio::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .await;
            assert!(stopped.is_ok_and(|s| s.success()), "signalling secantusdb");
            child.wait().await.expect("secantusdb stops");
        }
        Self::start(true, self.dir, self.port).await
    }

    fn url(&self, credentials: Option<(&str, &str, &str)>) -> String {
        match credentials {
            Some((user, password, source)) => {
                format!(
                    "mongodb://{user}:{password}@127.0.0.1:{}/?authSource={source}&directConnection=true",
                    self.port
                )
            }
            None => format!("mongodb://127.0.0.1:{}/?directConnection=true", self.port),
        }
    }
}

fn mongo_code(err: &mongodb::error::Error) -> Option<i32> {
    use mongodb::error::{ErrorKind, WriteFailure};
    match err.kind.as_ref() {
        ErrorKind::Command(c) => Some(c.code),
        ErrorKind::Write(WriteFailure::WriteError(w)) => Some(w.code),
        _ => None,
    }
}

#[tokio::test]
async fn the_users_service_user_reads_and_writes_only_the_users_database() {
    use mongodb::bson::{Document, doc};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let server = Secantus::start(false, tempfile::tempdir().unwrap(), port).await;

    // Provisioning, as deploy/mongo/init-users.js does it (plus an administrator to look
    // around with afterwards).
    let setup = mongodb::Client::with_uri_str(server.url(None))
        .await
        .unwrap();
    setup
        .database("users")
        .run_command(doc! { "createUser": "users", "pwd": "users-pw", "roles": [{ "role": "readWrite", "db": "users" }] })
        .await
        .expect("createUser");
    setup
        .database("admin")
        .run_command(doc! { "createUser": "root", "pwd": "root-pw", "roles": [{ "role": "root", "db": "admin" }] })
        .await
        .expect("createUser root");
    drop(setup);
    let server = server.restart_with_auth().await;

    let service = mongodb::Client::with_uri_str(server.url(Some(("users", "users-pw", "users"))))
        .await
        .unwrap();
    let own = service.database("users").collection::<Document>("accounts");
    own.insert_one(doc! { "email": "ada@example.com" })
        .await
        .expect("the users database is writable");
    assert_eq!(own.count_documents(doc! {}).await.expect("and readable"), 1);

    let foreign = service.database("orders").collection::<Document>("orders");
    let write = foreign
        .insert_one(doc! { "forged": true })
        .await
        .expect_err("another database is not writable");
    assert_eq!(mongo_code(&write), Some(13), "Unauthorized: {write}");
    let read = foreign.find_one(doc! {}).await.expect_err("nor readable");
    assert_eq!(mongo_code(&read), Some(13), "Unauthorized: {read}");
    let admin = service
        .database("admin")
        .run_command(doc! { "createUser": "x", "pwd": "y", "roles": [] })
        .await;
    assert_eq!(
        admin.as_ref().err().and_then(mongo_code),
        Some(13),
        "no user administration: {admin:?}"
    );

    let anonymous = mongodb::Client::with_uri_str(server.url(None))
        .await
        .unwrap();
    let refused = anonymous
        .database("users")
        .collection::<Document>("accounts")
        .find_one(doc! {})
        .await;
    assert!(refused.is_err(), "authentication is required");

    let root = mongodb::Client::with_uri_str(server.url(Some(("root", "root-pw", "admin"))))
        .await
        .unwrap();
    let stored = root
        .database("orders")
        .collection::<Document>("orders")
        .count_documents(doc! {})
        .await
        .expect("root reads");
    assert_eq!(stored, 0, "the refused write left nothing behind");
}
