//! Shared set-up of the payments integration tests: the service on port 0 against a fresh
//! PostgreSQL database and NATS prefix, a local stand-in for the Stripe API that records
//! what it receives, and a test double of the orders service's `rpc.orders.payable`.
#![allow(dead_code)]

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use kit::{
    auth::Role,
    bus::{ConsumerSpec, EventBus, EventHandler, Worker, json_handler},
    config::Env,
    contracts::{OrderLine, PayableOrder, PayableOrderReply, PayableOrderRequest, Reply, subjects},
    testing::{GraphqlClient, TestBus, TestDatabase, TestKeys},
};
use payments::{Config, Deps, RunningService};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

// Each test binary uses its own subset of these.
#[allow(unused_imports)]
pub use payments::testing::{FakeStripe, OLD_WEBHOOK_SECRET, WEBHOOK_SECRET, session_event, sign};

// ---------------------------------------------------------------------------------------
// The orders double

/// Answers `rpc.orders.payable` from a table the test fills.
#[derive(Clone, Default)]
pub struct OrdersDouble {
    orders: Arc<Mutex<HashMap<Uuid, PayableOrder>>>,
    pub calls: Arc<AtomicUsize>,
}

impl OrdersDouble {
    pub async fn serve(&self, bus: &dyn EventBus) -> Worker {
        let orders = self.orders.clone();
        let calls = self.calls.clone();
        bus.serve(
            subjects::RPC_ORDERS_PAYABLE,
            json_handler(
                move |req: PayableOrderRequest| {
                    let orders = orders.clone();
                    let calls = calls.clone();
                    async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        let found = orders.lock().unwrap().get(&req.order_id).cloned();
                        match found {
                            Some(order) => PayableOrderReply::ok(order),
                            None => Reply::error(
                                kit::ErrorCode::NotFound,
                                "order not found",
                                vec![req.order_id],
                            ),
                        }
                    }
                },
                PayableOrderReply::bad_request,
            ),
        )
        .await
        .expect("serve the orders double")
    }

    /// Adds a PENDING order of `user` with two lines (2 x 19.99 + 1 x 5.00 EUR = 44.98).
    pub fn add_order(&self, user: Uuid) -> PayableOrder {
        let lines = vec![
            OrderLine {
                product_id: Uuid::now_v7(),
                name: "Tea pot".into(),
                unit_price_minor: 1999,
                quantity: 2,
                line_total_minor: 3998,
            },
            OrderLine {
                product_id: Uuid::now_v7(),
                name: "Green tea".into(),
                unit_price_minor: 500,
                quantity: 1,
                line_total_minor: 500,
            },
        ];
        let order = PayableOrder {
            order_id: Uuid::now_v7(),
            user_id: user,
            status: "PENDING".into(),
            currency: "EUR".into(),
            total_minor: 4498,
            lines,
        };
        self.orders
            .lock()
            .unwrap()
            .insert(order.order_id, order.clone());
        order
    }

    pub fn set_status(&self, order_id: Uuid, status: &str) {
        if let Some(o) = self.orders.lock().unwrap().get_mut(&order_id) {
            o.status = status.into();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Events seen on the bus

/// Every event on `payments.>` (and what else is asked), collected by a durable consumer.
pub struct Observed {
    pub events: Arc<Mutex<Vec<(String, Value)>>>,
    _worker: Worker,
}

impl Observed {
    pub async fn start(bus: &dyn EventBus, subjects: &[&str]) -> Self {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let handler: EventHandler = Arc::new(move |d| {
            let sink = sink.clone();
            Box::pin(async move {
                let payload: Value = serde_json::from_slice(&d.payload).unwrap_or(Value::Null);
                sink.lock().unwrap().push((d.subject, payload));
                Ok(())
            })
        });
        let spec = ConsumerSpec {
            durable: format!("observer-{}", &Uuid::new_v4().simple().to_string()[..8]),
            subjects: subjects.iter().map(|s| (*s).to_owned()).collect(),
        };
        let worker = bus.consume(spec, handler).await.expect("observe the bus");
        Self {
            events,
            _worker: worker,
        }
    }

    pub fn on(&self, subject: &str) -> Vec<Value> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|(s, _)| s == subject)
            .map(|(_, p)| p.clone())
            .collect()
    }
}

// Each test binary compiles this module; not all of them wait for anything.
#[allow(unused_imports)]
pub use kit::testing::eventually;

// ---------------------------------------------------------------------------------------
// The service under test

pub struct TestApp {
    /// GraphQL and probes.
    pub addr: SocketAddr,
    /// The webhook and sandbox pages.
    pub webhook_addr: SocketAddr,
    /// `/metrics`.
    pub metrics_addr: SocketAddr,
    pub graphql: GraphqlClient,
    pub http: reqwest::Client,
    pub keys: TestKeys,
    pub stripe: FakeStripe,
    pub orders: OrdersDouble,
    pub db: DatabaseConnection,
    pub bus: Arc<dyn EventBus>,
    pub service: Option<RunningService>,
    _orders_worker: Option<Worker>,
    pub test_bus: Option<TestBus>,
    pub database: TestDatabase,
}

pub struct Options {
    /// Use the real Stripe client against the stand-in (default), or the sandbox.
    pub sandbox: bool,
    /// Serve the orders double on the bus.
    pub orders_double: bool,
    /// Use this bus instead of a fresh test prefix on the shared NATS server.
    pub bus: Option<Arc<dyn EventBus>>,
    /// Require the router's shared secret on `/graphql` (the `graphql` client then sends it).
    pub subgraph_secret: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            sandbox: false,
            orders_double: true,
            bus: None,
            subgraph_secret: None,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    // Logs only: tests never export spans.
    let _ = kit::telemetry::init_with("payments-tests", None);
    let database = TestDatabase::postgres().await;
    let (test_bus, bus): (Option<TestBus>, Arc<dyn EventBus>) = match options.bus {
        Some(bus) => (None, bus),
        None => {
            let tb = TestBus::nats().await;
            let bus: Arc<dyn EventBus> = tb.bus.clone();
            (Some(tb), bus)
        }
    };
    let stripe = FakeStripe::start().await;
    let keys = TestKeys::new();
    let mut env = vec![
        ("PAYMENTS_ADDR", "127.0.0.1:0".to_owned()),
        ("PAYMENTS_WEBHOOK_ADDR", "127.0.0.1:0".to_owned()),
        ("PAYMENTS_METRICS_ADDR", "127.0.0.1:0".to_owned()),
        ("PAYMENTS_DATABASE_URL", database.url.clone()),
        (
            "STRIPE_WEBHOOK_SECRETS",
            format!("{WEBHOOK_SECRET},{OLD_WEBHOOK_SECRET}"),
        ),
        (
            "CHECKOUT_SUCCESS_URL",
            "https://shop.example/checkout/success".to_owned(),
        ),
        (
            "CHECKOUT_CANCEL_URL",
            "https://shop.example/checkout/cancel".to_owned(),
        ),
        ("NATS_REQUEST_TIMEOUT", "2s".to_owned()),
    ];
    if options.sandbox {
        env.push(("PAYMENTS_PROVIDER", "sandbox".to_owned()));
    } else {
        env.push(("STRIPE_SECRET_KEY", "sk_test_payments_suite".to_owned()));
        env.push(("STRIPE_API_BASE", stripe.url.clone()));
    }
    if let Some(secret) = &options.subgraph_secret {
        env.push(("SUBGRAPH_SHARED_SECRET", secret.clone()));
    }
    let config = Config::from_env(&Env::from_pairs(env)).expect("valid test config");
    let orders = OrdersDouble::default();
    let orders_worker = if options.orders_double {
        Some(orders.serve(bus.as_ref()).await)
    } else {
        None
    };
    let service = payments::start(
        config,
        Deps {
            bus: bus.clone(),
            verifier: keys.verifier.clone(),
        },
    )
    .await
    .expect("payments starts");
    let addr = service.addr;
    let webhook_addr = service.webhook_addr;
    let metrics_addr = service.metrics_addr.expect("metrics listener configured");
    let (db, _) = kit::db::connect_url(&database.url, 2)
        .await
        .expect("test connection");
    let mut graphql = GraphqlClient::new(format!("http://{addr}/graphql"));
    if let Some(secret) = &options.subgraph_secret {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            kit::internal::SUBGRAPH_SECRET_HEADER,
            secret.parse().expect("a header value"),
        );
        graphql.http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();
    }
    TestApp {
        addr,
        webhook_addr,
        metrics_addr,
        graphql,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        keys,
        stripe,
        orders,
        db,
        bus,
        service: Some(service),
        _orders_worker: orders_worker,
        test_bus,
        database,
    }
}

pub const START_CHECKOUT: &str = r#"mutation($orderId: ID!) {
  startCheckout(input: { orderId: $orderId }) {
    checkoutUrl expiresAt
    payment { id orderId status provider checkoutSessionId amount { amount currencyCode } flag }
  }
}"#;

impl TestApp {
    pub fn customer(&self, user: Uuid) -> String {
        self.keys.bearer(user, Role::Customer)
    }

    pub fn admin(&self) -> String {
        self.keys.bearer(Uuid::now_v7(), Role::Admin)
    }

    pub async fn start_checkout(&self, order_id: Uuid, bearer: Option<&str>) -> Value {
        self.graphql
            .post(
                START_CHECKOUT,
                json!({ "orderId": order_id.to_string() }),
                bearer,
            )
            .await
    }

    /// Starts a checkout as the owner and returns (payment id, session id).
    pub async fn checkout_ok(&self, order: &PayableOrder) -> (Uuid, String) {
        let resp = self
            .start_checkout(order.order_id, Some(&self.customer(order.user_id)))
            .await;
        let payment = &resp["data"]["startCheckout"]["payment"];
        let id = payment["id"]
            .as_str()
            .unwrap_or_else(|| panic!("checkout failed: {resp}"));
        (
            Uuid::parse_str(id).unwrap(),
            payment["checkoutSessionId"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn post_webhook(&self, body: &str, signature: Option<&str>) -> (u16, String) {
        let mut req = self
            .http
            .post(format!("http://{}/webhooks/stripe", self.webhook_addr))
            .body(body.to_owned());
        if let Some(sig) = signature {
            req = req.header("stripe-signature", sig);
        }
        let resp = req.send().await.expect("the webhook answers");
        (
            resp.status().as_u16(),
            resp.text().await.unwrap_or_default(),
        )
    }

    /// Posts `event` signed with the current secret now.
    pub async fn deliver(&self, event: &Value) -> (u16, String) {
        let body = event.to_string();
        let sig = sign(&body, WEBHOOK_SECRET, chrono::Utc::now().timestamp());
        self.post_webhook(&body, Some(&sig)).await
    }

    pub async fn scalar(&self, sql: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                self.db.get_database_backend(),
                sql.to_owned(),
            ))
            .await
            .expect("query runs")
            .expect("one row");
        row.try_get_by_index::<i64>(0).expect("an integer")
    }

    pub async fn text(&self, sql: &str) -> Option<String> {
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                self.db.get_database_backend(),
                sql.to_owned(),
            ))
            .await
            .expect("query runs")?;
        row.try_get_by_index::<Option<String>>(0).expect("text")
    }

    pub async fn payment_status(&self, payment_id: Uuid) -> String {
        self.text(&format!(
            "SELECT status FROM payments WHERE id = '{payment_id}'"
        ))
        .await
        .expect("payment exists")
    }

    pub async fn count(&self, table_and_filter: &str) -> i64 {
        self.scalar(&format!("SELECT COUNT(*) FROM {table_and_filter}"))
            .await
    }

    pub async fn outbox_pending(&self) -> i64 {
        self.count("outbox WHERE published_at IS NULL").await
    }

    pub async fn stop(&mut self) {
        if let Some(s) = self.service.take() {
            s.stop().await;
        }
    }
}

/// Connects a second handle to a test database (for assertions from outside the service).
pub async fn connect(url: &str) -> DatabaseConnection {
    Database::connect(url).await.expect("connect")
}
