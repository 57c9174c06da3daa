//! Benchmarks of the executor's hot paths: planning (cache hit and miss), merging `_entities`
//! answers into the result tree, response shaping of a large merged result, and a whole entity
//! join against two local canned subgraphs.
//!
//! `cargo bench -p executor` prints the timings.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::routing::post;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use executor::{Executor, ExecutorConfig, PathSegment};
use serde_json::{Map, Value, json};

fn supergraph() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/supergraph.graphql"
    );
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

/// `products` as the root fetch left them: keys and names only, before any entity fetch.
fn root_products(products: usize) -> Value {
    let items: Vec<Value> = (0..products)
        .map(|i| json!({"__typename": "Product", "id": format!("p{i}"), "name": format!("Product {i}")}))
        .collect();
    json!({ "products": items })
}

/// `products` after the reviews fetch: every review names one of `authors` users.
fn products_with_reviews(products: usize, authors: usize) -> Value {
    let items: Vec<Value> = (0..products)
        .map(|i| {
            let review = |n: usize| {
                json!({"body": "Good", "author": {"__typename": "User", "id": format!("u{}", (2 * i + n) % authors)}})
            };
            json!({"__typename": "Product", "id": format!("p{i}"), "reviews": [review(0), review(1)]})
        })
        .collect();
    json!({ "products": items })
}

fn at(path: &[&str], indexes: &[usize]) -> Vec<PathSegment> {
    // Paths alternate a key and a list index: products.3.reviews.1.author
    let mut out = Vec::new();
    for (n, key) in path.iter().enumerate() {
        out.push(PathSegment::Key((*key).to_owned()));
        if let Some(&index) = indexes.get(n) {
            out.push(PathSegment::Index(index));
        }
    }
    out
}

fn merging(c: &mut Criterion) {
    let executor = Executor::new(&supergraph(), ExecutorConfig::default()).expect("executor");
    let mut group = c.benchmark_group("merge");

    // One representation per object: 500 products each get their two reviews.
    let products = 500;
    let tree = root_products(products);
    let entities: Vec<Value> = (0..products)
        .map(|_| {
            json!({"reviews": [
                {"body": "Good", "author": {"__typename": "User", "id": "u1"}},
                {"body": "Bad", "author": {"__typename": "User", "id": "u2"}},
            ]})
        })
        .collect();
    let targets: Vec<Vec<Vec<PathSegment>>> = (0..products)
        .map(|i| vec![at(&["products"], &[i])])
        .collect();
    let mut check = tree.clone();
    executor.merge_entities(&mut check, entities.clone(), targets.clone());
    assert_eq!(check["products"][products - 1]["reviews"][1]["body"], "Bad");
    group.bench_function("entities/500_products_2_reviews_each", |b| {
        b.iter_batched(
            // The merge consumes its input and mutates the tree, so each run gets fresh
            // copies; building them is left out of the measurement.
            || (tree.clone(), entities.clone(), targets.clone()),
            |(mut data, entities, targets)| {
                let failed = executor.merge_entities(&mut data, entities, targets);
                assert!(failed.is_empty());
                data
            },
            BatchSize::LargeInput,
        );
    });

    // Shared representations: 1000 review authors are 20 distinct users, so each answer is
    // merged into 50 locations (copied into all but the last).
    let authors = 20;
    let tree = products_with_reviews(products, authors);
    let entities: Vec<Value> = (0..authors)
        .map(|u| json!({"name": format!("User {u}"), "username": format!("user{u}")}))
        .collect();
    let mut targets: Vec<Vec<Vec<PathSegment>>> = vec![Vec::new(); authors];
    for i in 0..products {
        for n in 0..2 {
            targets[(2 * i + n) % authors].push(at(&["products", "reviews", "author"], &[i, n]));
        }
    }
    let mut check = tree.clone();
    executor.merge_entities(&mut check, entities.clone(), targets.clone());
    assert_eq!(
        check["products"][products - 1]["reviews"][1]["author"]["name"],
        "User 19"
    );
    group.bench_function("entities/1000_authors_20_users", |b| {
        b.iter_batched(
            || (tree.clone(), entities.clone(), targets.clone()),
            |(mut data, entities, targets)| {
                let failed = executor.merge_entities(&mut data, entities, targets);
                assert!(failed.is_empty());
                data
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
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

fn execution(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
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

criterion_group!(benches, planning, merging, shaping, execution);
criterion_main!(benches);
