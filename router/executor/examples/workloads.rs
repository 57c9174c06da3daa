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

use std::hint::black_box;

use executor::{Executor, ExecutorConfig, PreparedOperation};
use serde_json::{Map, Value};

#[path = "../benches/workloads/mod.rs"]
mod workloads;

use workloads::{MergeInput, QUERY, supergraph};

#[inline(never)]
fn measured_plan(executor: &Executor, query: &str) {
    black_box(executor.prepare(black_box(query), None).expect("prepares"));
}

#[inline(never)]
fn measured_merge(executor: &Executor, input: MergeInput) -> Value {
    let (mut data, entities, targets) = input;
    let failed = executor.merge_entities(&mut data, entities, targets);
    assert!(failed.is_empty());
    data
}

#[inline(never)]
fn measured_shape(executor: &Executor, prepared: &std::sync::Arc<PreparedOperation>, data: &Value) {
    black_box(executor.shape_response(prepared, black_box(data), &Map::new()));
}

fn execute(iterations: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (executor, prepared) = workloads::entity_join(&runtime);
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
                workloads::one_answer_per_object(500)
            } else {
                workloads::shared_answers(500, 20)
            };
            for _ in 0..iterations {
                black_box(measured_merge(&executor, input.clone()));
            }
        }
        "shape_500" => {
            let executor = executor();
            let prepared = executor.prepare(QUERY, None).expect("prepares");
            let data = workloads::merged_tree(500);
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
