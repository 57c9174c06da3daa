//! The embedded mode: SQLite in a data folder and the in-process bus, with the same
//! migrations, queries (the grouped `unitsSold` count among them) and events as production.

use std::sync::{Arc, Mutex};

use kit::{
    auth::Role,
    bus::{ConsumerSpec, EventBus, EventHandler, InProcessBus},
    config::Env,
    contracts::{Envelope, Event as _, PaymentSucceeded},
    testing::{GraphqlClient, TestKeys},
};
use orders::{Config, Deps};
use serde_json::json;
use uuid::Uuid;

use crate::support::{Catalog, eventually};

#[tokio::test]
async fn runs_on_sqlite_with_the_in_process_bus() {
    let data = tempfile::tempdir().expect("temp dir");
    let data_dir = data.path().to_str().expect("utf-8 path").to_owned();
    let config = Config::from_env(&Env::from_pairs([
        ("ORDERS_ADDR", "127.0.0.1:0"),
        ("DATA_DIR", data_dir.as_str()),
    ]))
    .expect("config");
    assert!(config.database.embedded);

    let bus = InProcessBus::new();
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = seen.clone();
    let listener: EventHandler = Arc::new(move |d| {
        let sink = sink.clone();
        Box::pin(async move {
            sink.lock().unwrap().push(d.subject);
            Ok(())
        })
    });
    let _events = bus
        .consume(
            ConsumerSpec {
                durable: "test".into(),
                subjects: vec!["orders.>".into()],
            },
            listener,
        )
        .await
        .expect("listens");
    let catalog = Catalog::default();
    let _prices = catalog.serve(&bus).await;
    let keys = TestKeys::new();
    let shared: Arc<dyn EventBus> = Arc::new(bus.clone());
    let service = orders::start(
        config,
        Deps {
            bus: shared,
            verifier: keys.verifier.clone(),
        },
    )
    .await
    .expect("starts");
    assert!(data.path().join("orders.sqlite").exists());

    let client = GraphqlClient::new(format!("http://{}/graphql", service.addr));
    let user = Uuid::now_v7();
    let bearer = keys.bearer(user, Role::Customer);
    let p = catalog.add("Lamp", 2490, "EUR");
    let create = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id total { amount } items { productName } } } }";
    let resp = client
        .post(
            create,
            json!({ "i": { "items": [{ "productId": p, "quantity": 2 }] } }),
            Some(&bearer),
        )
        .await;
    assert_eq!(
        resp["data"]["createOrder"]["order"]["total"]["amount"], "49.80",
        "{resp}"
    );
    let id: Uuid = resp["data"]["createOrder"]["order"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    let payment = Envelope::new(PaymentSucceeded {
        payment_id: Uuid::now_v7(),
        order_id: id,
        amount_minor: 4980,
        currency: "EUR".into(),
    });
    bus.publish(
        PaymentSucceeded::SUBJECT,
        payment.event_id,
        serde_json::to_vec(&payment).unwrap().into(),
    )
    .await
    .unwrap();
    let status = "query($id: ID!) { order(id: $id) { status } }";
    eventually("the order to be paid", || async {
        client
            .post(status, json!({ "id": id }), Some(&bearer))
            .await["data"]["order"]["status"]
            == "PAID"
    })
    .await;

    let other = client
        .post(
            create,
            json!({ "i": { "items": [{ "productId": p, "quantity": 1 }] } }),
            Some(&bearer),
        )
        .await;
    let other = other["data"]["createOrder"]["order"]["id"].clone();
    let cancel = "mutation($id: ID!) { cancelOrder(input: { orderId: $id }) { order { status } } }";
    let resp = client
        .post(cancel, json!({ "id": other }), Some(&bearer))
        .await;
    assert_eq!(
        resp["data"]["cancelOrder"]["order"]["status"], "CANCELLED",
        "{resp}"
    );

    // The grouped sales count runs on SQLite too: the paid order's two units, not the
    // cancelled one's; a product never ordered sold none.
    let units = "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { unitsSold } } }";
    let reps = json!({ "reps": [{ "__typename": "Product", "id": p }, { "__typename": "Product", "id": Uuid::now_v7() }] });
    let resp = client.post(units, reps, None).await;
    assert_eq!(
        resp["data"]["_entities"],
        json!([{ "unitsSold": 2 }, { "unitsSold": 0 }]),
        "{resp}"
    );

    eventually("all events to be delivered", || async {
        seen.lock().unwrap().len() == 4
    })
    .await;
    let mut subjects_seen = seen.lock().unwrap().clone();
    subjects_seen.sort();
    assert_eq!(
        subjects_seen,
        [
            "orders.cancelled",
            "orders.created",
            "orders.created",
            "orders.paid"
        ]
    );
    service.stop().await;
}

#[tokio::test]
async fn in_embedded_mode_a_poison_event_is_parked_in_sqlite_and_the_next_one_applies() {
    let data = tempfile::tempdir().expect("temp dir");
    let data_dir = data.path().to_str().expect("utf-8 path").to_owned();
    let config = Config::from_env(&Env::from_pairs([
        ("ORDERS_ADDR", "127.0.0.1:0"),
        ("DATA_DIR", data_dir.as_str()),
    ]))
    .expect("config");
    let bus = InProcessBus::new().with_delivery_policy(kit::testing::quick_delivery(2));
    let catalog = Catalog::default();
    let _prices = catalog.serve(&bus).await;
    let keys = TestKeys::new();
    let shared: Arc<dyn EventBus> = Arc::new(bus.clone());
    let service = orders::start(
        config,
        Deps {
            bus: shared,
            verifier: keys.verifier.clone(),
        },
    )
    .await
    .expect("starts");
    let client = GraphqlClient::new(format!("http://{}/graphql", service.addr));
    let bearer = keys.bearer(Uuid::now_v7(), Role::Customer);
    let p = catalog.add("Lamp", 2490, "EUR");
    let create = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }";
    let resp = client
        .post(
            create,
            json!({ "i": { "items": [{ "productId": p, "quantity": 1 }] } }),
            Some(&bearer),
        )
        .await;
    let id: Uuid = resp["data"]["createOrder"]["order"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    bus.publish(
        PaymentSucceeded::SUBJECT,
        Uuid::now_v7(),
        bytes::Bytes::from_static(b"not an event"),
    )
    .await
    .unwrap();
    let payment = Envelope::new(PaymentSucceeded {
        payment_id: Uuid::now_v7(),
        order_id: id,
        amount_minor: 2490,
        currency: "EUR".into(),
    });
    bus.publish(
        PaymentSucceeded::SUBJECT,
        payment.event_id,
        serde_json::to_vec(&payment).unwrap().into(),
    )
    .await
    .unwrap();

    let order = "query($id: ID!) { order(id: $id) { status } }";
    eventually("the order to be paid", || async {
        client.post(order, json!({ "id": id }), Some(&bearer)).await["data"]["order"]["status"]
            == "PAID"
    })
    .await;
    let admin = keys.bearer(Uuid::now_v7(), Role::Admin);
    let parked = client
        .post(
            "{ parkedOrderEvents { subject payload reason } }",
            json!({}),
            Some(&admin),
        )
        .await;
    assert_eq!(
        parked["data"]["parkedOrderEvents"][0]["payload"], "not an event",
        "{parked}"
    );
    assert_eq!(
        parked["data"]["parkedOrderEvents"].as_array().map(Vec::len),
        Some(1),
        "{parked}"
    );
    service.stop().await;
}
