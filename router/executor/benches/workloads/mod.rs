//! The executor workloads shared by the criterion benches (`benches/executor.rs`) and the
//! fixed-count program for callgrind (`examples/workloads.rs`), so both measure the same
//! inputs: the fixture supergraph, the planned query, merge inputs, a large merged tree, and
//! two canned subgraphs for a whole entity join.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::routing::post;
use executor::{Executor, ExecutorConfig, PathSegment, PreparedOperation};
use serde_json::{Value, json};

/// The query planned and shaped by the workloads.
pub const QUERY: &str = "{ products { id name price reviews { body author { name username } } } }";

/// The executor tests' supergraph.
pub fn supergraph() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/supergraph.graphql"
    );
    std::fs::read_to_string(path).expect("supergraph fixture")
}

/// Where each `_entities` answer goes: a list of locations per answer.
pub type Targets = Vec<Vec<Vec<PathSegment>>>;

/// A merge's input: the tree, the `_entities` answers, and where each goes.
pub type MergeInput = (Value, Vec<Value>, Targets);

/// A path alternating a key and a list index: `products.3.reviews.1.author`.
pub fn at(path: &[&str], indexes: &[usize]) -> Vec<PathSegment> {
    let mut out = Vec::new();
    for (n, key) in path.iter().enumerate() {
        out.push(PathSegment::Key((*key).to_owned()));
        if let Some(&index) = indexes.get(n) {
            out.push(PathSegment::Index(index));
        }
    }
    out
}

/// One representation per object: `products` products (as the root fetch left them: keys
/// and names) each get their two reviews.
pub fn one_answer_per_object(products: usize) -> MergeInput {
    let items: Vec<Value> = (0..products)
        .map(|i| json!({"__typename": "Product", "id": format!("p{i}"), "name": format!("Product {i}")}))
        .collect();
    let entities: Vec<Value> = (0..products)
        .map(|_| {
            json!({"reviews": [
                {"body": "Good", "author": {"__typename": "User", "id": "u1"}},
                {"body": "Bad", "author": {"__typename": "User", "id": "u2"}},
            ]})
        })
        .collect();
    let targets = (0..products)
        .map(|i| vec![at(&["products"], &[i])])
        .collect();
    (json!({ "products": items }), entities, targets)
}

/// Shared representations: the two reviews of each of `products` products name one of
/// `authors` users, so each user's answer is merged into many locations.
pub fn shared_answers(products: usize, authors: usize) -> MergeInput {
    let items: Vec<Value> = (0..products)
        .map(|i| {
            let review = |n: usize| {
                json!({"body": "Good", "author": {"__typename": "User", "id": format!("u{}", (2 * i + n) % authors)}})
            };
            json!({"__typename": "Product", "id": format!("p{i}"), "reviews": [review(0), review(1)]})
        })
        .collect();
    let entities = (0..authors)
        .map(|u| json!({"name": format!("User {u}"), "username": format!("user{u}")}))
        .collect();
    let mut targets: Targets = vec![Vec::new(); authors];
    for i in 0..products {
        for n in 0..2 {
            targets[(2 * i + n) % authors].push(at(&["products", "reviews", "author"], &[i, n]));
        }
    }
    (json!({ "products": items }), entities, targets)
}

/// A fully merged answer to [`QUERY`] with `products` products and two reviews each.
pub fn merged_tree(products: usize) -> Value {
    let items: Vec<Value> = (0..products)
        .map(|i| {
            json!({
                "__typename": "Product", "id": format!("p{i}"), "name": format!("Product {i}"),
                "price": i, "sku": format!("sku-{i}"),
                "reviews": [
                    {"body": "Good", "author": {"__typename": "User", "id": "u1", "name": "Ada", "username": "ada"}},
                    {"body": "Bad", "author": {"__typename": "User", "id": "u2", "name": "Alan", "username": "alan"}},
                ],
            })
        })
        .collect();
    json!({ "products": items })
}

/// Serves `answer` to every request on a loopback port; returns the GraphQL URL.
async fn canned_subgraph(answer: fn(&Value) -> Value) -> String {
    let app = axum::Router::new().route(
        "/graphql",
        post(move |body: Bytes| async move {
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            serde_json::to_vec(&answer(&request)).unwrap_or_default()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    format!("http://{address}/graphql")
}

fn products_answer(_: &Value) -> Value {
    let products: Vec<Value> = (0..200)
        .map(|i| json!({"__typename": "Product", "id": format!("p{i}"), "name": format!("Product {i}")}))
        .collect();
    json!({"data": {"products": products}})
}

fn reviews_answer(request: &Value) -> Value {
    let count = request["variables"]["representations"]
        .as_array()
        .map_or(0, Vec::len);
    let entities: Vec<Value> = (0..count)
        .map(|_| json!({"reviews": [{"body": "Good"}, {"body": "Bad"}]}))
        .collect();
    json!({"data": {"_entities": entities}})
}

/// A whole entity join: 200 products from one canned subgraph, their reviews from another,
/// served on `runtime`, with deduplication off so every run fetches. Returns the executor and
/// the prepared operation to execute.
pub fn entity_join(
    runtime: &tokio::runtime::Runtime,
) -> (Executor, std::sync::Arc<PreparedOperation>) {
    let (products, reviews) = runtime.block_on(async {
        (
            canned_subgraph(products_answer).await,
            canned_subgraph(reviews_answer).await,
        )
    });
    let config = ExecutorConfig {
        subgraph_urls: HashMap::from([
            ("products".to_owned(), products),
            ("reviews".to_owned(), reviews),
        ]),
        deduplicate_operations: false,
        deduplicate_fetches: false,
        ..ExecutorConfig::default()
    };
    let executor = Executor::new(&supergraph(), config).expect("executor");
    let prepared = executor
        .prepare("{ products { id name reviews { body } } }", None)
        .expect("prepares");
    (executor, prepared)
}
