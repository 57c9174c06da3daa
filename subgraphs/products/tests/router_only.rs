//! With `SUBGRAPH_SHARED_SECRET` set, the products subgraph answers only requests that carry
//! the router's secret: anything else is refused before the operation runs.

use kit::{
    auth::Role,
    config::Env,
    testing::{TestBus, TestDatabase, TestKeys},
};
use products::{Config, Deps};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

const SECRET: &str = "products-router-secret-0123456789abcdef";
const CREATE: &str = r#"mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id name } } }"#;

async fn products_in(db: &sea_orm::DatabaseConnection) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM products",
        ))
        .await
        .expect("count")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("an integer")
}

#[tokio::test]
async fn a_direct_call_without_the_router_secret_changes_nothing() {
    let database = TestDatabase::postgres().await;
    let nats = TestBus::nats().await;
    let keys = TestKeys::new();
    let env = Env::from_pairs([
        ("PRODUCTS_ADDR", "127.0.0.1:0"),
        ("PRODUCTS_DATABASE_URL", database.url.as_str()),
        ("SUBGRAPH_SHARED_SECRET", SECRET),
    ]);
    let mut config = Config::from_env(&env).expect("valid configuration");
    config.token_policy = keys.policy.clone();
    let service = products::start(
        config,
        Deps {
            bus: nats.bus.clone(),
            verifier: keys.verifier.clone(),
        },
    )
    .await
    .expect("products starts");
    let url = format!("http://{}/graphql", service.addr);
    let admin = keys.bearer(Uuid::now_v7(), Role::Admin);
    let body = json!({ "query": CREATE, "variables": { "input": {
        "name": "Kettle", "description": "Boils water", "price": { "amount": "25.00", "currencyCode": "EUR" }
    }}});
    let http = reqwest::Client::new();

    for secret in [None, Some("wrong"), Some(&SECRET[1..])] {
        let mut request = http.post(&url).header("authorization", &admin).json(&body);
        if let Some(secret) = secret {
            request = request.header("x-subgraph-secret", secret);
        }
        let response = request.send().await.expect("answers");
        assert_eq!(response.status(), 403, "secret {secret:?}");
        let reply: Value = response.json().await.expect("JSON");
        assert_eq!(reply["errors"][0]["extensions"]["code"], "FORBIDDEN");
    }
    assert_eq!(products_in(&service.db).await, 0, "no product was created");

    let reply: Value = http
        .post(&url)
        .header("authorization", &admin)
        .header("x-subgraph-secret", SECRET)
        .json(&body)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert!(reply["errors"].is_null(), "{reply}");
    assert_eq!(products_in(&service.db).await, 1);
    // Probes need no secret: the orchestrator does not hold it.
    let ready = http
        .get(format!("http://{}/ready", service.addr))
        .send()
        .await
        .expect("answers");
    assert_eq!(ready.status(), 200);
    service.stop().await;
}
