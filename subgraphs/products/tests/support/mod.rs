//! Spawns the products service for integration tests and talks to it over real HTTP.
//!
//! Each app gets its own PostgreSQL database, NATS prefix and signing keys, so tests run in
//! parallel; the database and the stream are dropped with the app.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::sync::Arc;

use kit::{
    auth::Role,
    bus::EventBus,
    config::Env,
    testing::{GraphqlClient, TestBus, TestDatabase, TestKeys},
};
use products::{Config, Deps, RunningService};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

pub struct TestApp {
    pub service: RunningService,
    pub client: GraphqlClient,
    pub keys: TestKeys,
    pub bus: Arc<dyn EventBus>,
    pub admin: String,
    pub customer: String,
    // Dropped last: they delete the database and the stream.
    _database: Option<TestDatabase>,
    _nats: Option<TestBus>,
}

/// The service on a fresh PostgreSQL database and NATS stream.
pub async fn spawn_app() -> TestApp {
    let database = TestDatabase::postgres().await;
    let nats = TestBus::nats().await;
    let bus: Arc<dyn EventBus> = nats.bus.clone();
    let mut app = spawn_with(&database.url, bus).await;
    app._database = Some(database);
    app._nats = Some(nats);
    app
}

/// The service on `database_url` with `bus`; the caller owns both.
pub async fn spawn_with(database_url: &str, bus: Arc<dyn EventBus>) -> TestApp {
    let keys = TestKeys::new();
    let env = Env::from_pairs([
        ("PRODUCTS_ADDR", "127.0.0.1:0"),
        ("PRODUCTS_METRICS_ADDR", "127.0.0.1:0"),
        ("PRODUCTS_DATABASE_URL", database_url),
    ]);
    let mut config = Config::from_env(&env).expect("test configuration is valid");
    config.token_policy = keys.policy.clone();
    let deps = Deps {
        bus: bus.clone(),
        verifier: keys.verifier.clone(),
    };
    let service = products::start(config, deps)
        .await
        .expect("the service starts");
    let client = GraphqlClient::new(format!("http://{}/graphql", service.addr));
    let admin = keys.bearer(Uuid::now_v7(), Role::Admin);
    let customer = keys.bearer(Uuid::now_v7(), Role::Customer);
    TestApp {
        service,
        client,
        keys,
        bus,
        admin,
        customer,
        _database: None,
        _nats: None,
    }
}

pub const PRODUCT_FIELDS: &str =
    "id name description price { amount currencyCode } available createdAt updatedAt";

impl TestApp {
    pub async fn anonymous(&self, query: &str, variables: Value) -> Value {
        self.client.post(query, variables, None).await
    }

    pub async fn as_admin(&self, query: &str, variables: Value) -> Value {
        self.client.post(query, variables, Some(&self.admin)).await
    }

    pub async fn as_customer(&self, query: &str, variables: Value) -> Value {
        self.client
            .post(query, variables, Some(&self.customer))
            .await
    }

    /// Creates a product as an admin and returns it (all of [`PRODUCT_FIELDS`]).
    pub async fn create_product(&self, name: &str, amount: &str, currency: &str) -> Value {
        let query = format!(
            "mutation($input: CreateProductInput!) {{ createProduct(input: $input) {{ product {{ {PRODUCT_FIELDS} }} }} }}"
        );
        let input = json!({ "name": name, "description": format!("About {name}"), "price": { "amount": amount, "currencyCode": currency } });
        let resp = self.as_admin(&query, json!({ "input": input })).await;
        assert!(resp["errors"].is_null(), "createProduct failed: {resp}");
        resp["data"]["createProduct"]["product"].clone()
    }

    pub async fn delete_product(&self, id: &str) -> Value {
        let query = format!(
            "mutation($id: ID!) {{ deleteProduct(input: {{ id: $id }}) {{ product {{ {PRODUCT_FIELDS} }} }} }}"
        );
        let resp = self.as_admin(&query, json!({ "id": id })).await;
        assert!(resp["errors"].is_null(), "deleteProduct failed: {resp}");
        resp["data"]["deleteProduct"]["product"].clone()
    }

    /// The product as stored now, read over GraphQL.
    pub async fn product(&self, id: &str) -> Value {
        let query = format!("query($id: ID!) {{ product(id: $id) {{ {PRODUCT_FIELDS} }} }}");
        let resp = self.anonymous(&query, json!({ "id": id })).await;
        assert!(resp["errors"].is_null(), "product failed: {resp}");
        resp["data"]["product"].clone()
    }

    /// Rows in the products table, read directly from the database.
    pub async fn row_count(&self) -> i64 {
        let db = &self.service.db;
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM products",
            ))
            .await
            .expect("counting works")
            .expect("COUNT returns a row");
        row.try_get::<i64>("", "n")
            .expect("the count is an integer")
    }

    pub fn statements(&self) -> u64 {
        self.service.statements.get()
    }
}

/// The `extensions.field` of the first error.
pub fn error_field(resp: &Value) -> Option<&str> {
    resp["errors"][0]["extensions"]["field"].as_str()
}
