//! The criterion benches' workloads (`benches/executor.rs`) as a plain program that runs one of
//! them a fixed number of times, for instruction counts that stay the same on a busy machine:
//!
//! ```sh
//! cargo build --release -p executor --example workloads
//! valgrind --tool=callgrind --toggle-collect='*workloads::measured*' \
//!     target/release/examples/workloads merge_500 100
//! ```
//!
//! Only the calls inside the `measured_*` functions are counted with `--toggle-collect`, so the
//! inputs built (and cloned) around them stay out. `execute_200` runs on a Tokio runtime whose
//! worker threads do the work; count it over the whole program with two iteration counts and take
//! the difference (the canned subgraphs' own work is then included).

use std::collections::HashMap;
use std::hint::black_box;

use axum::body::Bytes;
use axum::routing::post;
use executor::{Executor, ExecutorConfig, PathSegment, PreparedOperation};
use serde_json::{Map, Value, json};

const QUERY: &str = "{ products { id name price reviews { body author { name username } } } }";

fn supergraph() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/supergraph.graphql"
    );
    std::fs::read_to_string(path).expect("supergraph fixture")
}

fn at(path: &[&str], indexes: &[usize]) -> Vec<PathSegment> {
    let mut out = Vec::new();
    for (n, key) in path.iter().enumerate() {
        out.push(PathSegment::Key((*key).to_owned()));
        if let Some(&index) = indexes.get(n) {
            out.push(PathSegment::Index(index));
        }
    }
    out
}

type Targets = Vec<Vec<Vec<PathSegment>>>;

fn merge_500_input() -> (Value, Vec<Value>, Targets) {
    let products = 500;
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

fn merge_1000_input() -> (Value, Vec<Value>, Targets) {
    let (products, authors) = (500, 20);
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

#[inline(never)]
fn measured_plan(executor: &Executor, query: &str) {
    black_box(executor.prepare(black_box(query), None).expect("prepares"));
}

#[inline(never)]
fn measured_merge(executor: &Executor, input: (Value, Vec<Value>, Targets)) -> Value {
    let (mut data, entities, targets) = input;
    let failed = executor.merge_entities(&mut data, entities, targets);
    assert!(failed.is_empty());
    data
}

#[inline(never)]
fn measured_shape(executor: &Executor, prepared: &std::sync::Arc<PreparedOperation>, data: &Value) {
    black_box(executor.shape_response(prepared, black_box(data), &Map::new()));
}

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

fn execute(iterations: usize) {
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
    runtime.block_on(async {
        for _ in 0..iterations {
            let response = executor
                .execute(&prepared, Map::new(), http::HeaderMap::new())
                .await;
            assert!(response.errors.is_empty());
            black_box(response.to_bytes());
        }
    });
}

fn main() {
    let mut args = std::env::args().skip(1);
    let workload = args.next().unwrap_or_default();
    let iterations: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10);
    let executor = || Executor::new(&supergraph(), ExecutorConfig::default()).expect("executor");
    match workload.as_str() {
        "plan_hit" => {
            let executor = executor();
            executor.prepare(QUERY, None).expect("prepares");
            for _ in 0..iterations {
                measured_plan(&executor, QUERY);
            }
        }
        "plan_miss" => {
            let executor = executor();
            for n in 0..iterations {
                let query = format!(
                    "{{ products {{ id a{n}: name price reviews {{ body author {{ name username }} }} }} }}"
                );
                measured_plan(&executor, &query);
            }
        }
        "merge_500" | "merge_1000" => {
            let executor = executor();
            let input = if workload == "merge_500" {
                merge_500_input()
            } else {
                merge_1000_input()
            };
            for _ in 0..iterations {
                black_box(measured_merge(&executor, input.clone()));
            }
        }
        "shape_500" => {
            let executor = executor();
            let prepared = executor.prepare(QUERY, None).expect("prepares");
            let data = merged_tree(500);
            for _ in 0..iterations {
                measured_shape(&executor, &prepared, &data);
            }
        }
        "execute_200" => execute(iterations),
        other => {
            eprintln!(
                "unknown workload {other:?}: plan_hit, plan_miss, merge_500, merge_1000, shape_500, execute_200"
            );
            std::process::exit(2);
        }
    }
}
