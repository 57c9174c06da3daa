//! Benchmarks of the executor's hot paths: planning (cache hit and miss), response shaping of a
//! large merged result, and a whole entity join against two local canned subgraphs.
//!
//! `cargo bench -p executor` prints the timings.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::routing::post;
use criterion::{Criterion, criterion_group, criterion_main};
use executor::{Executor, ExecutorConfig};
use serde_json::{Map, Value, json};

fn supergraph() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/supergraph.graphql");
    std::fs::read_to_string(path).expect("supergraph fixture")
}

const QUERY: &str = "{ products { id name price reviews { body author { name username } } } }";

fn planning(c: &mut Criterion) {
    let executor = Executor::new(&supergraph(), ExecutorConfig::default()).expect("executor");
    let mut group = c.benchmark_group("plan");
    group.bench_function("cache_hit", |b| {
        executor.prepare(QUERY, None).expect("prepares");
        b.iter(|| black_box(executor.prepare(black_box(QUERY), None).expect("prepares")));
    });
    let counter = AtomicU64::new(0);
    group.bench_function("cache_miss", |b| {
        b.iter(|| {
            // A fresh alias makes a new text and a new normalised operation every time.
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let query = format!(
                "{{ products {{ id a{n}: name price reviews {{ body author {{ name username }} }} }} }}"
            );
            black_box(executor.prepare(&query, None).expect("prepares"))
        });
    });
    group.finish();
}

fn merged_tree(products: usize) -> Value {
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

fn shaping(c: &mut Criterion) {
    let executor = Executor::new(&supergraph(), ExecutorConfig::default()).expect("executor");
    let prepared = executor.prepare(QUERY, None).expect("prepares");
    let data = merged_tree(500);
    let variables = Map::new();
    c.bench_function("shape/500_products_1000_reviews", |b| {
        b.iter(|| black_box(executor.shape_response(&prepared, black_box(&data), &variables)));
    });
}

/// Answers every request from the supergraph's test fixture shape with canned data.
async fn canned_subgraph(answer: fn(&Value) -> Value) -> String {
    let app = axum::Router::new().route(
        "/graphql",
        post(move |body: Bytes| async move {
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            serde_json::to_vec(&answer(&request)).unwrap_or_default()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
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

fn execution(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (products, reviews) = runtime.block_on(async {
        (canned_subgraph(products_answer).await, canned_subgraph(reviews_answer).await)
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
    c.bench_function("execute/entity_join_200_products", |b| {
        b.to_async(&runtime).iter(|| async {
            let response = executor
                .execute(&prepared, Map::new(), http::HeaderMap::new())
                .await;
            assert!(response.errors.is_empty());
            black_box(response.to_bytes())
        });
    });
}

criterion_group!(benches, planning, shaping, execution);
criterion_main!(benches);
