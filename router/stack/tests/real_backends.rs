//! The purchase walked through the router on the real backends: PostgreSQL for products,
//! orders and payments, the MongoDB wire-protocol server for users, NATS JetStream between
//! them, and a local stand-in for Stripe's API with webhooks signed as Stripe signs them.
//! Once the order is paid, `product { name unitsSold }` spans products and orders.
//! The second test takes NATS away between the webhook and the order update and restarts
//! the orders service; the order must still end PAID exactly once.

mod support;

use kit::{
    auth::SigningKey,
    config::Env,
    testing::{NatsServer, TestBus, TestDatabase, eventually, nats_url, unique_name},
};
use payments::testing::{FakeStripe, WEBHOOK_SECRET, session_event, sign};
use sea_orm::{ConnectionTrait, Database, Statement};
use stack::{Options, Stack};
use support::{Shopper, project_dir};
use uuid::Uuid;

fn mongo_url() -> String {
    std::env::var("TEST_MONGODB_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27018/?directConnection=true".into())
}

struct Backends {
    products: TestDatabase,
    orders: TestDatabase,
    payments: TestDatabase,
    mongo_database: String,
    stripe: FakeStripe,
    data: tempfile::TempDir,
    signing_key: String,
}

impl Backends {
    async fn new() -> Self {
        Self {
            products: TestDatabase::postgres().await,
            orders: TestDatabase::postgres().await,
            payments: TestDatabase::postgres().await,
            mongo_database: unique_name("e2e"),
            stripe: FakeStripe::start().await,
            data: tempfile::tempdir().expect("temp dir"),
            signing_key: SigningKey::generate().to_pem(),
        }
    }

    fn env(&self, nats: &str, prefix: &str) -> Env {
        Env::from_pairs([
            ("PRODUCTS_DATABASE_URL", self.products.url.clone()),
            ("ORDERS_DATABASE_URL", self.orders.url.clone()),
            ("PAYMENTS_DATABASE_URL", self.payments.url.clone()),
            ("MONGODB_URL", mongo_url()),
            ("MONGODB_DATABASE", self.mongo_database.clone()),
            ("NATS_URL", nats.to_owned()),
            ("NATS_PREFIX", prefix.to_owned()),
            ("JWT_SIGNING_KEYS", self.signing_key.clone()),
            ("PAYMENTS_PROVIDER", "stripe".to_owned()),
            ("STRIPE_SECRET_KEY", "sk_test_e2e".to_owned()),
            // Every subgraph answers only the router, which sends this secret.
            (
                "SUBGRAPH_SHARED_SECRET",
                "e2e-router-secret-0123456789abcdef".to_owned(),
            ),
            ("STRIPE_API_BASE", self.stripe.url.clone()),
            ("STRIPE_WEBHOOK_SECRETS", WEBHOOK_SECRET.to_owned()),
            (
                "CHECKOUT_SUCCESS_URL",
                "https://shop.example/paid".to_owned(),
            ),
            (
                "CHECKOUT_CANCEL_URL",
                "https://shop.example/cart".to_owned(),
            ),
            ("DATA_DIR", self.data.path().to_string_lossy().into_owned()),
        ])
    }

    async fn drop_mongo(&self) {
        let client = mongodb::Client::with_uri_str(mongo_url())
            .await
            .expect("MongoDB reachable");
        client
            .database(&self.mongo_database)
            .drop()
            .await
            .expect("dropping the test database");
    }

    /// Counts rows in the orders database.
    async fn orders_scalar(&self, sql: &str) -> i64 {
        let db = Database::connect(&self.orders.url)
            .await
            .expect("orders database");
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                sql.to_owned(),
            ))
            .await
            .expect("query")
            .expect("a row");
        let n: i64 = row.try_get_by_index(0).expect("a count");
        let _ = db.close().await;
        n
    }
}

/// Logs in a new customer, orders two products and starts a Stripe checkout; returns the
/// shopper, the order id and the Stripe session id.
async fn shop_until_checkout(
    stack: &Stack,
    backends: &Backends,
    email: &str,
) -> (Shopper, String, String, String) {
    let mut shopper = Shopper::new(stack.router_url());
    shopper
        .register(email, "Real Shopper", "correct horse battery staple")
        .await;
    shopper.login(email, "correct horse battery staple").await;
    let picks = shopper.cheapest(2).await;
    let (order_id, total) = shopper.order(&[(&picks[0].0, 2), (&picks[1].0, 1)]).await;
    assert_eq!(total, "9.93", "2 × 2.49 + 4.95");
    let (url, payment_id) = shopper.checkout(&order_id).await;

    let sessions = backends.stripe.requests_to("/v1/checkout/sessions");
    assert_eq!(sessions.len(), 1, "one session requested");
    let sent = &sessions[0];
    assert_eq!(sent.field("mode"), Some("payment"));
    assert_eq!(sent.field("client_reference_id"), Some(order_id.as_str()));
    assert_eq!(sent.field("metadata[order_id]"), Some(order_id.as_str()));
    assert!(sent.idempotency_key.is_some(), "an idempotency key is sent");
    let session_id = url
        .rsplit('/')
        .next()
        .expect("session id in the URL")
        .to_owned();
    (shopper, order_id, payment_id, session_id)
}

async fn deliver_completed(stack: &Stack, session_id: &str, order_id: &str, payment_id: &str) {
    let event = session_event(
        "checkout.session.completed",
        session_id,
        Uuid::parse_str(order_id).expect("uuid"),
        Uuid::parse_str(payment_id).expect("uuid"),
        993,
        "eur",
    );
    let body = event.to_string();
    let resp = reqwest::Client::new()
        .post(format!(
            "http://{}/webhooks/stripe",
            stack.payments.webhook_addr
        ))
        .header("content-type", "application/json")
        .header(
            "stripe-signature",
            sign(&body, WEBHOOK_SECRET, chrono::Utc::now().timestamp()),
        )
        .body(body)
        .send()
        .await
        .expect("the webhook answers");
    assert_eq!(
        resp.status(),
        200,
        "{}",
        resp.text().await.unwrap_or_default()
    );
}

#[tokio::test]
async fn a_customer_buys_through_the_router_on_real_backends() {
    let backends = Backends::new().await;
    let bus = TestBus::nats().await;
    let env = backends.env(&nats_url(), &bus.prefix);
    let options = Options {
        demo: true,
        project_dir: project_dir(),
        ephemeral_ports: true,
    };
    let stack = stack::start(&env, &options)
        .await
        .expect("the stack starts on real backends");
    assert_eq!(stack.bus.kind(), "nats");

    let (shopper, order_id, payment_id, session_id) =
        shop_until_checkout(&stack, &backends, "real@shop.example").await;
    assert_eq!(
        shopper.order_status(&order_id).await,
        ("PENDING".to_owned(), "PENDING".to_owned())
    );
    let lines = shopper.order_lines(&order_id).await;
    assert_eq!(lines.len(), 2);
    for (product_id, _) in &lines {
        assert_eq!(
            shopper.product_sales(product_id).await.1,
            0,
            "a pending order sells nothing"
        );
    }
    deliver_completed(&stack, &session_id, &order_id, &payment_id).await;
    shopper.until_paid(&order_id).await;
    // One product query spanning products (name) and orders (unitsSold).
    for (product_id, quantity) in &lines {
        let (name, units_sold) = shopper.product_sales(product_id).await;
        assert!(!name.is_empty());
        assert_eq!(units_sold, *quantity, "{name}: the paid order's quantity");
    }
    let names = shopper.my_order_product_names().await;
    assert_eq!(names.len(), 1);
    assert_eq!(names[0].len(), 2);
    assert_eq!(
        backends
            .orders_scalar("SELECT COUNT(*) FROM outbox WHERE subject = 'orders.paid'")
            .await,
        1
    );

    stack.stop().await;
    backends.drop_mongo().await;
}

#[tokio::test]
async fn the_order_ends_paid_once_when_nats_drops_and_orders_restarts() {
    let backends = Backends::new().await;
    let mut nats = NatsServer::start().await;
    let env = backends.env(&nats.url(), "fault");
    let options = Options {
        demo: true,
        project_dir: project_dir(),
        ephemeral_ports: true,
    };
    let stack = stack::start(&env, &options)
        .await
        .expect("the stack starts on real backends");

    let (shopper, order_id, payment_id, session_id) =
        shop_until_checkout(&stack, &backends, "fault@shop.example").await;

    // NATS goes away after checkout: the webhook still commits the payment and its event.
    nats.stop().await;
    eventually("the bus to notice NATS is gone", || async {
        stack.bus.ping().await.is_err()
    })
    .await;
    deliver_completed(&stack, &session_id, &order_id, &payment_id).await;
    // A second, different event for the same session must not pay the order twice.
    deliver_completed(&stack, &session_id, &order_id, &payment_id).await;

    // The orders service restarts while NATS is still down, then NATS comes back.
    let stack = stack.restart_orders(&env).await.expect("orders restarts");
    nats.resume().await;
    shopper.until_paid(&order_id).await;

    assert_eq!(
        backends
            .orders_scalar("SELECT COUNT(*) FROM outbox WHERE subject = 'orders.paid'")
            .await,
        1
    );
    assert_eq!(
        backends.orders_scalar("SELECT COUNT(*) FROM inbox").await,
        1,
        "one payment event applied"
    );
    stack.stop().await;
    backends.drop_mongo().await;
}
