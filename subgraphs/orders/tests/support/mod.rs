//! Test harness: the orders service started on a free port against its own PostgreSQL
//! database and NATS stream, with a stand-in for the products service's price responder
//! that follows the documented `rpc.products.price_basket` contract.

#![allow(dead_code)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use bytes::Bytes;
use kit::{
    ErrorCode,
    auth::Role,
    bus::{
        BusError, ConsumerSpec, DeliveryPolicy, EventBus, EventHandler, NatsBus, RequestHandler,
        Worker, json_handler,
    },
    config::Env,
    contracts::{
        Envelope, Event as _, PaymentSucceeded, PriceBasketReply, PriceBasketRequest,
        PricedProduct, Reply, subjects,
    },
    testing::{GraphqlClient, TestBus, TestDatabase, TestKeys},
};
use orders::{Config, Deps, RunningService};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

/// How long the service waits for prices in tests: short, so the "products silent" case
/// ends quickly, yet far above what a local responder needs.
pub const PRICE_TIMEOUT: &str = "1500ms";

#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
    pub available: bool,
}

/// What the price responder answers; tests change it while the service runs.
#[derive(Clone, Default)]
pub struct Catalog {
    products: Arc<Mutex<HashMap<Uuid, CatalogEntry>>>,
    silent: Arc<Mutex<bool>>,
}

impl Catalog {
    pub fn add(&self, name: &str, price_minor: i64, currency: &str) -> Uuid {
        let id = Uuid::now_v7();
        let entry = CatalogEntry {
            name: name.into(),
            price_minor,
            currency: currency.into(),
            available: true,
        };
        self.products.lock().unwrap().insert(id, entry);
        id
    }

    pub fn set_price(&self, id: Uuid, price_minor: i64) {
        self.products
            .lock()
            .unwrap()
            .get_mut(&id)
            .expect("known product")
            .price_minor = price_minor;
    }

    pub fn set_name(&self, id: Uuid, name: &str) {
        self.products
            .lock()
            .unwrap()
            .get_mut(&id)
            .expect("known product")
            .name = name.into();
    }

    pub fn make_unavailable(&self, id: Uuid) {
        self.products
            .lock()
            .unwrap()
            .get_mut(&id)
            .expect("known product")
            .available = false;
    }

    /// While silent, requests are received but never answered.
    pub fn set_silent(&self, silent: bool) {
        *self.silent.lock().unwrap() = silent;
    }

    fn answer(&self, request: &PriceBasketRequest) -> PriceBasketReply {
        let products = self.products.lock().unwrap();
        let missing: Vec<Uuid> = request
            .product_ids
            .iter()
            .copied()
            .filter(|id| !products.contains_key(id))
            .collect();
        if !missing.is_empty() {
            return Reply::error(ErrorCode::NotFound, "products not found", missing);
        }
        let unavailable: Vec<Uuid> = request
            .product_ids
            .iter()
            .copied()
            .filter(|id| !products[id].available)
            .collect();
        if !unavailable.is_empty() {
            return Reply::error(ErrorCode::Conflict, "products unavailable", unavailable);
        }
        Reply::ok(
            request
                .product_ids
                .iter()
                .map(|id| {
                    let p = &products[id];
                    PricedProduct {
                        id: *id,
                        name: p.name.clone(),
                        price_minor: p.price_minor,
                        currency: p.currency.clone(),
                    }
                })
                .collect(),
        )
    }

    /// Answers price requests on `bus` until the worker is dropped.
    pub async fn serve(&self, bus: &dyn EventBus) -> Worker {
        let catalog = self.clone();
        let handler = json_handler(
            move |request: PriceBasketRequest| {
                let catalog = catalog.clone();
                async move {
                    let silent = *catalog.silent.lock().unwrap();
                    if silent {
                        std::future::pending::<()>().await;
                    }
                    catalog.answer(&request)
                }
            },
            PriceBasketReply::bad_request,
        );
        bus.serve(subjects::RPC_PRODUCTS_PRICE_BASKET, handler)
            .await
            .expect("price responder starts")
    }
}

/// A running orders service with everything it talks to.
pub struct TestApp {
    pub service: Option<RunningService>,
    pub client: GraphqlClient,
    pub keys: Arc<TestKeys>,
    pub catalog: Catalog,
    pub bus: Arc<NatsBus>,
    pub db_url: String,
    responder: Option<Worker>,
    _test_bus: Option<TestBus>,
    _test_db: Option<TestDatabase>,
}

pub fn config(db_url: &str) -> Config {
    Config::from_env(&Env::from_pairs([
        ("ORDERS_ADDR", "127.0.0.1:0"),
        ("ORDERS_METRICS_ADDR", "127.0.0.1:0"),
        ("ORDERS_DATABASE_URL", db_url),
        ("ORDERS_PRICE_TIMEOUT", PRICE_TIMEOUT),
    ]))
    .expect("test configuration is valid")
}

/// The service on a fresh PostgreSQL database and NATS stream, with the stand-in catalog.
pub async fn spawn_app() -> TestApp {
    spawn(true, DeliveryPolicy::default()).await
}

/// The service without the stand-in catalog, for tests that run the real products service.
pub async fn spawn_app_without_catalog() -> TestApp {
    spawn(false, DeliveryPolicy::default()).await
}

/// The service whose consumer has the delivery budget `policy`.
pub async fn spawn_app_with_delivery(policy: DeliveryPolicy) -> TestApp {
    spawn(true, policy).await
}

async fn spawn(with_catalog: bool, policy: DeliveryPolicy) -> TestApp {
    // Logs only: tests never export spans.
    let _ = kit::telemetry::init_with("orders-tests", None);
    let test_db = TestDatabase::postgres().await;
    let test_bus = TestBus::nats_with(policy).await;
    let keys = Arc::new(TestKeys::new());
    let catalog = Catalog::default();
    let responder = if with_catalog {
        Some(catalog.serve(test_bus.bus.as_ref()).await)
    } else {
        None
    };
    let bus: Arc<dyn EventBus> = test_bus.bus.clone();
    let service = orders::start(
        config(&test_db.url),
        Deps {
            bus,
            verifier: keys.verifier.clone(),
        },
    )
    .await
    .expect("the service starts");
    TestApp {
        client: GraphqlClient::new(format!("http://{}/graphql", service.addr)),
        service: Some(service),
        keys,
        catalog,
        bus: test_bus.bus.clone(),
        db_url: test_db.url.clone(),
        responder,
        _test_bus: Some(test_bus),
        _test_db: Some(test_db),
    }
}

/// A second replica of `app`'s service: same database, same bus, same keys.
pub async fn spawn_replica(app: &TestApp) -> RunningService {
    let bus: Arc<dyn EventBus> = app.bus.clone();
    orders::start(
        config(&app.db_url),
        Deps {
            bus,
            verifier: app.keys.verifier.clone(),
        },
    )
    .await
    .expect("replica starts")
}

pub const ORDER_FIELDS: &str = "id status userId itemCount createdAt paidAt cancelledAt deliveredAt
    customer { id } total { amount currencyCode }
    items { product { id } productName unitPrice { amount currencyCode } quantity lineTotal { amount currencyCode } }";

impl TestApp {
    /// Wraps a service a test started itself (with its own bus or database).
    pub fn attach(
        service: RunningService,
        keys: Arc<TestKeys>,
        catalog: Catalog,
        bus: Arc<NatsBus>,
        db_url: &str,
    ) -> Self {
        TestApp {
            client: GraphqlClient::new(format!("http://{}/graphql", service.addr)),
            service: Some(service),
            keys,
            catalog,
            bus,
            db_url: db_url.to_owned(),
            responder: None,
            _test_bus: None,
            _test_db: None,
        }
    }

    pub fn service(&self) -> &RunningService {
        self.service.as_ref().expect("service running")
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.service().db
    }

    pub fn customer(&self) -> (Uuid, String) {
        let id = Uuid::now_v7();
        (id, self.keys.bearer(id, Role::Customer))
    }

    pub fn admin(&self) -> String {
        self.keys.bearer(Uuid::now_v7(), Role::Admin)
    }

    pub async fn create_order(&self, bearer: &str, items: &[(Uuid, i32)]) -> Value {
        let items: Vec<Value> = items
            .iter()
            .map(|(id, q)| json!({ "productId": id, "quantity": q }))
            .collect();
        self.create_order_raw(bearer, json!(items)).await
    }

    pub async fn create_order_raw(&self, bearer: &str, items: Value) -> Value {
        let query = format!(
            "mutation($input: CreateOrderInput!) {{ createOrder(input: $input) {{ order {{ {ORDER_FIELDS} }} }} }}"
        );
        self.client
            .post(&query, json!({ "input": { "items": items } }), Some(bearer))
            .await
    }

    /// Places an order that must succeed and returns its id.
    pub async fn place(&self, bearer: &str, items: &[(Uuid, i32)]) -> Uuid {
        let resp = self.create_order(bearer, items).await;
        let id = resp["data"]["createOrder"]["order"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("order placed: {resp}"));
        id.parse().expect("uuid")
    }

    pub async fn order(&self, bearer: &str, id: Uuid) -> Value {
        let query = format!("query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}");
        self.client
            .post(&query, json!({ "id": id }), Some(bearer))
            .await
    }

    pub async fn cancel(&self, bearer: &str, id: Uuid) -> Value {
        let query = "mutation($id: ID!) { cancelOrder(input: { orderId: $id }) { order { id status cancelledAt } } }";
        self.client
            .post(query, json!({ "id": id }), Some(bearer))
            .await
    }

    pub async fn deliver(&self, bearer: &str, id: Uuid) -> Value {
        let query = "mutation($id: ID!) { markOrderDelivered(input: { orderId: $id }) { order { id status deliveredAt } } }";
        self.client
            .post(query, json!({ "id": id }), Some(bearer))
            .await
    }

    /// Publishes a `payments.succeeded` event the way the payments service does.
    pub async fn publish_payment(&self, event: &Envelope<PaymentSucceeded>) {
        let payload = serde_json::to_vec(event).expect("encodes");
        self.bus
            .publish(PaymentSucceeded::SUBJECT, event.event_id, payload.into())
            .await
            .expect("published");
    }

    /// A payment event paying `order_id` in full.
    pub async fn payment_for(&self, order_id: Uuid) -> Envelope<PaymentSucceeded> {
        let (total, currency): (i64, String) = {
            let row = self
                .db()
                .query_one_raw(Statement::from_sql_and_values(
                    self.db().get_database_backend(),
                    "SELECT total_minor, currency FROM orders WHERE id = $1",
                    [order_id.into()],
                ))
                .await
                .expect("query")
                .expect("order exists");
            (
                row.try_get("", "total_minor").unwrap(),
                row.try_get("", "currency").unwrap(),
            )
        };
        Envelope::new(PaymentSucceeded {
            payment_id: Uuid::now_v7(),
            order_id,
            amount_minor: total,
            currency,
        })
    }

    /// Publishes `event` again under a fresh message id, so JetStream's duplicate window does
    /// not drop it: what a consumer sees when an event is redelivered after a lost ack.
    pub async fn republish(&self, event: &Envelope<PaymentSucceeded>) {
        let client = async_nats::connect(kit::testing::nats_url())
            .await
            .expect("NATS reachable");
        let js = async_nats::jetstream::new(client);
        let payload = serde_json::to_vec(event).expect("encodes");
        let publish = async_nats::jetstream::message::PublishMessage::build()
            .payload(payload.into())
            .message_id(Uuid::now_v7().to_string());
        js.send_publish(self.full_subject(PaymentSucceeded::SUBJECT), publish)
            .await
            .expect("publish sent")
            .await
            .expect("publish stored");
    }

    /// Waits until the payment consumer has acknowledged everything in the stream.
    pub async fn consumer_settled(&self) {
        self._test_bus
            .as_ref()
            .expect("bus")
            .settled(orders::events::payment_events::CONSUMER)
            .await;
    }

    /// The service's metrics in the Prometheus text format.
    pub async fn metrics(&self) -> String {
        let url = format!(
            "http://{}/metrics",
            self.service()
                .metrics_addr
                .expect("metrics listener configured")
        );
        reqwest::get(url)
            .await
            .expect("metrics answer")
            .text()
            .await
            .expect("text")
    }

    pub async fn status_of(&self, id: Uuid) -> String {
        scalar_string(
            self.db(),
            &format!("SELECT status FROM orders WHERE id = '{id}'"),
        )
        .await
    }

    pub async fn count(&self, sql: &str) -> i64 {
        count(self.db(), sql).await
    }

    /// The one UUID `sql` selects.
    pub async fn scalar_id(&self, sql: &str) -> Uuid {
        let row = self
            .db()
            .query_one_raw(Statement::from_string(
                self.db().get_database_backend(),
                sql.to_owned(),
            ))
            .await
            .expect("query runs")
            .expect("a row");
        row.try_get_by_index::<Uuid>(0).expect("a UUID")
    }

    /// Waits until the outbox is empty, so every event is in the stream.
    pub async fn outbox_drained(&self) {
        let relay = self.service().relay.clone();
        eventually("the outbox to drain", || {
            let relay = relay.clone();
            async move { relay.pending().await.ok() == Some(0) }
        })
        .await;
    }

    /// The events on `subject` in this test's stream.
    pub async fn events(&self, subject: &str) -> Vec<Value> {
        stream_events(
            &kit::testing::nats_url(),
            self.bus.stream_name(),
            &self.full_subject(subject),
        )
        .await
    }

    pub fn full_subject(&self, subject: &str) -> String {
        format!("{}.{subject}", self._test_bus.as_ref().expect("bus").prefix)
    }

    /// Takes the price responder away, as if products were down.
    pub fn stop_responder(&mut self) {
        self.responder.take();
    }

    pub async fn stop(&mut self) {
        if let Some(service) = self.service.take() {
            service.stop().await;
        }
        self.responder.take();
    }
}

pub async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("count query runs")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("a count")
}

pub async fn scalar_string(db: &DatabaseConnection, sql: &str) -> String {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("query runs")
        .expect("a row");
    row.try_get_by_index::<String>(0).expect("a string")
}

pub use kit::testing::eventually;

/// Every message on `subject` (full, prefixed) in `stream`, decoded as JSON.
pub async fn stream_events(url: &str, stream: &str, subject: &str) -> Vec<Value> {
    use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
    use futures::StreamExt as _;
    let client = async_nats::connect(url).await.expect("NATS reachable");
    let js = async_nats::jetstream::new(client);
    let stream = js.get_stream(stream).await.expect("stream exists");
    let mut consumer = stream
        .create_consumer(pull::Config {
            filter_subject: subject.to_owned(),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::None,
            ..Default::default()
        })
        .await
        .expect("ephemeral consumer");
    let pending = consumer.info().await.expect("consumer info").num_pending as usize;
    let mut events = Vec::with_capacity(pending);
    while events.len() < pending {
        let mut batch = consumer
            .fetch()
            .max_messages(pending - events.len())
            .messages()
            .await
            .expect("fetch");
        while let Some(msg) = batch.next().await {
            let msg = msg.expect("message");
            events.push(serde_json::from_slice(&msg.payload).expect("JSON event"));
        }
    }
    events
}

/// A bus that sends events and consumer traffic to one NATS server and requests to another,
/// so a test can take the event side down while the catalog stays reachable.
pub struct SplitBus {
    pub events: Arc<dyn EventBus>,
    pub requests: Arc<dyn EventBus>,
}

#[async_trait]
impl EventBus for SplitBus {
    async fn publish(&self, subject: &str, event_id: Uuid, payload: Bytes) -> Result<(), BusError> {
        self.events.publish(subject, event_id, payload).await
    }
    async fn request(
        &self,
        subject: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, BusError> {
        self.requests.request(subject, payload, timeout).await
    }
    async fn serve(&self, subject: &str, handler: RequestHandler) -> Result<Worker, BusError> {
        self.requests.serve(subject, handler).await
    }
    async fn consume(&self, spec: ConsumerSpec, handler: EventHandler) -> Result<Worker, BusError> {
        self.events.consume(spec, handler).await
    }
    async fn ping(&self) -> Result<(), BusError> {
        self.events.ping().await
    }
    fn kind(&self) -> &'static str {
        "split"
    }
    fn delivery_policy(&self) -> kit::bus::DeliveryPolicy {
        self.events.delivery_policy()
    }
    async fn dead_letter(
        &self,
        consumer: &str,
        delivery: &kit::bus::Delivery,
        reason: &str,
    ) -> Result<(), BusError> {
        self.events.dead_letter(consumer, delivery, reason).await
    }
}

/// The error code of the first error, or a panic showing the whole response.
pub fn error_code(resp: &Value) -> &str {
    kit::testing::first_error_code(resp).unwrap_or_else(|| panic!("expected an error: {resp}"))
}
