//! `Product.unitsSold`: counted over paid orders only, resolved for the router's `_entities`
//! calls in one statement however many products are asked for.

use std::{sync::Arc, time::Duration};

use async_graphql::{Request, Variables};
use kit::{bus::EventBus, outbox::OutboxRelay};
use orders::{
    graphql::{self, ApiState},
    metrics::Metrics,
    ordering::PriceClient,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{TestApp, error_code, eventually, spawn_app};

const UNITS_SOLD: &str = "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id unitsSold } } }";

fn representations(ids: &[Uuid]) -> Value {
    json!({ "reps": ids.iter().map(|id| json!({ "__typename": "Product", "id": id })).collect::<Vec<_>>() })
}

/// Pays `order` the way the payments service announces it and waits until it is PAID.
async fn pay(app: &TestApp, order: Uuid) {
    let payment = app.payment_for(order).await;
    app.publish_payment(&payment).await;
    eventually("the order to be paid", || async {
        app.status_of(order).await == "PAID"
    })
    .await;
}

#[tokio::test]
async fn units_sold_counts_paid_and_delivered_orders_of_every_customer() {
    let app = spawn_app().await;
    let (_, alice) = app.customer();
    let (_, bob) = app.customer();
    let (_, carol) = app.customer();
    let lamp = app.catalog.add("Lamp", 2490, "EUR");
    let chair = app.catalog.add("Chair", 8900, "EUR");
    let rug = app.catalog.add("Rug", 12000, "EUR");
    let never_ordered = app.catalog.add("Vase", 1500, "EUR");

    // Paid, then delivered: still sold.
    let alices = app.place(&alice, &[(lamp, 2), (chair, 1)]).await;
    pay(&app, alices).await;
    let resp = app.deliver(&app.admin(), alices).await;
    assert_eq!(
        resp["data"]["markOrderDelivered"]["order"]["status"], "DELIVERED",
        "{resp}"
    );
    // Paid.
    let bobs_paid = app.place(&bob, &[(lamp, 3)]).await;
    pay(&app, bobs_paid).await;
    // Cancelled before payment: not sold.
    let bobs_cancelled = app.place(&bob, &[(chair, 5)]).await;
    let resp = app.cancel(&bob, bobs_cancelled).await;
    assert_eq!(
        resp["data"]["cancelOrder"]["order"]["status"], "CANCELLED",
        "{resp}"
    );
    // Still pending: not sold.
    app.place(&carol, &[(lamp, 7), (rug, 4)]).await;
    let carols_paid = app.place(&carol, &[(rug, 1)]).await;
    pay(&app, carols_paid).await;

    // The router calls `_entities` without the caller's rights mattering: sales are public.
    let ids = [lamp, chair, rug, never_ordered, Uuid::now_v7()];
    let resp = app
        .client
        .post(UNITS_SOLD, representations(&ids), None)
        .await;
    assert!(resp.get("errors").is_none(), "{resp}");
    let entities = resp["data"]["_entities"].as_array().expect("entities");
    let got: Vec<(String, i64)> = entities
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap_or_default().to_owned(),
                e["unitsSold"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    let want: Vec<(String, i64)> = ids
        .iter()
        .zip([2 + 3, 1, 1, 0, 0])
        .map(|(id, n)| (id.to_string(), n))
        .collect();
    assert_eq!(got, want, "in the order of the representations");

    // Within orders, a line's product answers the same.
    let query =
        "query($id: ID!) { order(id: $id) { items { product { id unitsSold } quantity } } }";
    let resp = app
        .client
        .post(query, json!({ "id": alices }), Some(&alice))
        .await;
    let items = &resp["data"]["order"]["items"];
    assert_eq!(items[0]["product"]["unitsSold"], 5, "{resp}");
    assert_eq!(items[1]["product"]["unitsSold"], 1, "{resp}");
}

#[tokio::test]
async fn ill_formed_product_ids_are_bad_input_not_database_errors() {
    let app = spawn_app().await;
    for bad in [
        json!("not-a-uuid"),
        json!("'; DROP TABLE orders; --"),
        json!(""),
    ] {
        let vars = json!({ "reps": [{ "__typename": "Product", "id": bad }] });
        let resp = app.client.post(UNITS_SOLD, vars, None).await;
        assert_eq!(error_code(&resp), "BAD_USER_INPUT", "{resp}");
        assert_eq!(resp["errors"][0]["extensions"]["field"], "id", "{resp}");
    }
    // A representation without an id does not match the key at all.
    let resp = app
        .client
        .post(
            UNITS_SOLD,
            json!({ "reps": [{ "__typename": "Product" }] }),
            None,
        )
        .await;
    assert!(resp["errors"].is_array(), "{resp}");
    assert!(!resp.to_string().to_lowercase().contains("sql"), "{resp}");
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 0);
}

#[tokio::test]
async fn one_statement_resolves_any_number_of_products() {
    let app = spawn_app().await;
    let (_, bearer) = app.customer();
    let products: Vec<Uuid> = (0..10)
        .map(|i| app.catalog.add(&format!("P{i}"), 100 + i, "EUR"))
        .collect();
    let lines: Vec<(Uuid, i32)> = products.iter().map(|p| (*p, 2)).collect();
    let paid = app.place(&bearer, &lines).await;
    pay(&app, paid).await;

    // A schema of its own on a connection of its own, so the count holds only this query's
    // statements and not the background relay's or consumer's.
    let (db, statements) = kit::db::connect_url(&app.db_url, 2)
        .await
        .expect("connects");
    let bus: Arc<dyn EventBus> = app.bus.clone();
    let schema = graphql::schema(ApiState {
        db: db.clone(),
        relay: OutboxRelay::new(db.clone(), bus.clone()),
        prices: PriceClient::new(bus.clone(), Duration::from_secs(1)),
        metrics: Metrics::default(),
        parking: kit::parking::ParkingLot::new(db.clone(), bus),
    });
    let run = |query: &'static str, ids: Vec<Uuid>| {
        let schema = schema.clone();
        let statements = statements.clone();
        async move {
            let before = statements.get();
            let resp = schema
                .execute(Request::new(query).variables(Variables::from_json(representations(&ids))))
                .await;
            assert!(resp.errors.is_empty(), "{:?}", resp.errors);
            let data = resp.data.into_json().expect("JSON data");
            (statements.get() - before, data)
        }
    };

    let (one, data) = run(UNITS_SOLD, vec![products[0]]).await;
    assert_eq!(data["_entities"][0]["unitsSold"], 2);

    // The ten sold products and forty nobody ordered.
    let mut fifty = products.clone();
    fifty.extend((0..40).map(|_| Uuid::now_v7()));
    let (many, data) = run(UNITS_SOLD, fifty.clone()).await;
    let counts: Vec<i64> = data["_entities"]
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| e["unitsSold"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(counts.len(), 50);
    assert!(
        counts[..10].iter().all(|&n| n == 2) && counts[10..].iter().all(|&n| n == 0),
        "{counts:?}"
    );
    assert_eq!(
        (one, many),
        (1, 1),
        "one statement for 1 and for 50 representations"
    );

    // The lines are found by product through their own index, not a scan.
    let indexed = "SELECT COUNT(*) FROM pg_indexes WHERE tablename = 'order_items' AND indexname = 'idx_order_items_product_id'";
    assert_eq!(app.count(indexed).await, 1);

    // Asking only for the key reads nothing.
    let (none, _) = run(
        "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Product { id } } }",
        fifty,
    )
    .await;
    assert_eq!(none, 0);
}
