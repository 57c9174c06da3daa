//! The service on a SQLite file with the in-process bus: the embedded mode.

mod support;

use std::{sync::Arc, time::Duration};

use kit::{
    bus::{EventBus, InProcessBus, request_json},
    contracts::{PriceBasketReply, PriceBasketRequest, Reply, subjects},
    testing::first_error_code,
};
use serde_json::json;
use support::spawn_with;
use uuid::Uuid;

#[tokio::test]
async fn the_catalog_works_on_sqlite_and_survives_a_restart() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("products.sqlite").display()
    );
    let bus: Arc<dyn EventBus> = Arc::new(InProcessBus::new());
    let app = spawn_with(&url, bus.clone()).await;

    let mut ids = Vec::new();
    for (name, amount) in [
        ("Oolong", "6.00"),
        ("assam", "4.00"),
        ("Darjeeling", "7.50"),
        ("50%_Off Sencha", "3.25"),
    ] {
        ids.push(
            app.create_product(name, amount, "EUR").await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    app.delete_product(&ids[1]).await;

    // Name order folds case; search escapes wildcards; keyset pages continue correctly.
    let query = "query($after: String, $f: ProductFilter) { products(first: 2, after: $after, sort: NAME, filter: $f) { totalCount edges { node { name } } pageInfo { hasNextPage endCursor } } }";
    let first = app.anonymous(query, json!({})).await;
    assert!(first["errors"].is_null(), "{first}");
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["data"]["products"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&first), ["50%_Off Sencha", "assam"]);
    assert_eq!(first["data"]["products"]["totalCount"], 4);
    let second = app
        .anonymous(
            query,
            json!({ "after": first["data"]["products"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(names(&second), ["Darjeeling", "Oolong"]);
    assert_eq!(second["data"]["products"]["pageInfo"]["hasNextPage"], false);
    let search = app
        .anonymous(
            query,
            json!({ "f": { "nameContains": "%_o", "available": true } }),
        )
        .await;
    assert_eq!(names(&search), ["50%_Off Sencha"]);

    let newest = app
        .anonymous(
            "{ products(sort: NEWEST) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let newest: Vec<&str> = newest["data"]["products"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        newest,
        ids.iter().rev().map(String::as_str).collect::<Vec<_>>()
    );

    // Entities batch into one statement here too.
    let reps: Vec<_> = ids
        .iter()
        .map(|id| json!({ "__typename": "Product", "id": id }))
        .collect();
    let before = app.statements();
    let resp = app.anonymous("query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id available } } }", json!({ "r": reps })).await;
    assert_eq!(app.statements() - before, 1);
    assert_eq!(resp["data"]["_entities"][1]["available"], false);

    // The price responder answers on the in-process bus.
    let oolong = Uuid::parse_str(&ids[0]).unwrap();
    let reply: PriceBasketReply = request_json(
        &*bus,
        subjects::RPC_PRODUCTS_PRICE_BASKET,
        &PriceBasketRequest {
            product_ids: vec![oolong],
        },
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    let Reply::Ok { value } = reply else {
        panic!("expected prices, got {reply:?}")
    };
    assert_eq!(
        (value[0].name.as_str(), value[0].price_minor),
        ("Oolong", 600)
    );

    let resp = app.as_admin("mutation($id: ID!) { updateProduct(input: { id: $id, name: \"x\" }) { product { id } } }", json!({ "id": ids[1] })).await;
    assert_eq!(first_error_code(&resp), Some("CONFLICT"));
    app.service.stop().await;

    // Restarting on the same file re-runs the migrations harmlessly and keeps the data.
    let app = spawn_with(&url, Arc::new(InProcessBus::new())).await;
    assert_eq!(app.row_count().await, 4);
    assert_eq!(app.product(&ids[2]).await["name"], "Darjeeling");
    app.service.stop().await;
}
