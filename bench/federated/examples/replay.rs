//! Runs one benchmark query a fixed number of times against replayed answers, for
//! instruction counts that stay the same on a busy machine:
//!
//! ```sh
//! cargo build --release -p federated-bench --example replay
//! valgrind --tool=callgrind --toggle-collect='*replay::measured*' \
//!     target/release/examples/replay deep 20
//! ```
//!
//! Everything runs on one thread (a current-thread runtime; replayed answers need no I/O), so
//! `--toggle-collect` on [`measured`] counts exactly the executor's work for the requests.

use std::hint::black_box;
use std::sync::Arc;

use federated_bench::recorded::Replay;
use federated_bench::{executor_with, expected, queries, record};

// The router's allocator (`router/src/main.rs`), so the counts are the router's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[inline(never)]
fn measured(
    runtime: &tokio::runtime::Runtime,
    executor: &executor::Executor,
    prepared: &Arc<executor::PreparedOperation>,
) -> Vec<u8> {
    runtime.block_on(async {
        let response = executor
            .execute(prepared, serde_json::Map::new(), Default::default())
            .await;
        response.to_bytes()
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "deep".to_owned());
    let runs: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10);
    let (query, expected) = match which.as_str() {
        "deep" => (queries::DEEP, expected::deep()),
        "pass-through" => (queries::PASS_THROUGH, expected::pass_through()),
        other => {
            eprintln!("unknown query {other:?}: deep or pass-through");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (supergraph, answers) = runtime.block_on(record()).expect("recording");
    let executor = executor_with(&supergraph, Arc::new(Replay(answers))).expect("executor");
    let prepared = executor.prepare(query, None).expect("prepares");
    for _ in 0..runs {
        let body = black_box(measured(&runtime, &executor, &prepared));
        assert_eq!(body, expected.as_bytes());
    }
}
