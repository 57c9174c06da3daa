//! Ordering against the real products service over NATS: its prices, its availability
//! rules, and the snapshot staying fixed when it changes a price.

use std::sync::Arc;

use kit::{
    auth::Role,
    bus::EventBus,
    config::Env,
    testing::{GraphqlClient, TestDatabase},
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{error_code, spawn_app_without_catalog};

async fn admin_call(client: &GraphqlClient, bearer: &str, query: &str, variables: Value) -> Value {
    let resp = client.post(query, variables, Some(bearer)).await;
    assert!(resp["errors"].is_null(), "{resp}");
    resp["data"].clone()
}

#[tokio::test]
async fn orders_at_the_real_catalog_prices_and_keeps_the_snapshot() {
    let app = spawn_app_without_catalog().await;
    let products_db = TestDatabase::postgres().await;
    let config = products::Config::from_env(&Env::from_pairs([
        ("PRODUCTS_ADDR", "127.0.0.1:0"),
        ("PRODUCTS_DATABASE_URL", products_db.url.as_str()),
    ]))
    .expect("products config");
    let bus: Arc<dyn EventBus> = app.bus.clone();
    let catalog = products::start(
        config,
        products::Deps {
            bus,
            verifier: app.keys.verifier.clone(),
        },
    )
    .await
    .expect("products starts");
    let products_client = GraphqlClient::new(format!("http://{}/graphql", catalog.addr));
    let admin = app.keys.bearer(Uuid::now_v7(), Role::Admin);

    let create =
        "mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id } } }";
    let mut ids = Vec::new();
    for (name, amount) in [("Kettle", "39.90"), ("Filter", "4.05")] {
        let data = admin_call(
            &products_client,
            &admin,
            create,
            json!({ "input": { "name": name, "price": { "amount": amount, "currencyCode": "EUR" } } }),
        )
        .await;
        ids.push(
            data["createProduct"]["product"]["id"]
                .as_str()
                .unwrap()
                .parse::<Uuid>()
                .unwrap(),
        );
    }
    let (kettle, filter) = (ids[0], ids[1]);

    let (_, bearer) = app.customer();
    let resp = app.create_order(&bearer, &[(kettle, 1), (filter, 3)]).await;
    let order = &resp["data"]["createOrder"]["order"];
    assert_eq!(
        order["total"],
        json!({ "amount": "52.05", "currencyCode": "EUR" }),
        "{resp}"
    );
    assert_eq!(order["items"][0]["productName"], "Kettle");
    let id: Uuid = order["id"].as_str().unwrap().parse().unwrap();

    let update =
        "mutation($input: UpdateProductInput!) { updateProduct(input: $input) { product { id } } }";
    admin_call(
        &products_client,
        &admin,
        update,
        json!({ "input": { "id": kettle, "price": { "amount": "59.90", "currencyCode": "EUR" } } }),
    )
    .await;
    let again = app.order(&bearer, id).await;
    assert_eq!(
        again["data"]["order"]["items"][0]["unitPrice"]["amount"],
        "39.90"
    );
    assert_eq!(again["data"]["order"]["total"]["amount"], "52.05");
    let resp = app.create_order(&bearer, &[(kettle, 1)]).await;
    assert_eq!(
        resp["data"]["createOrder"]["order"]["total"]["amount"], "59.90",
        "{resp}"
    );

    let delete =
        "mutation($input: DeleteProductInput!) { deleteProduct(input: $input) { product { id } } }";
    admin_call(
        &products_client,
        &admin,
        delete,
        json!({ "input": { "id": filter } }),
    )
    .await;
    let resp = app.create_order(&bearer, &[(kettle, 1), (filter, 1)]).await;
    assert_eq!(error_code(&resp), "BAD_USER_INPUT", "{resp}");
    assert!(
        resp["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&filter.to_string())
    );

    let ghost = Uuid::now_v7();
    let resp = app.create_order(&bearer, &[(ghost, 1)]).await;
    assert_eq!(error_code(&resp), "BAD_USER_INPUT", "{resp}");
    assert!(
        resp["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&ghost.to_string())
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM orders").await, 2);

    catalog.stop().await;
}
