//! The executor's share of the benchmark's queries, in process: answers recorded from the
//! benchmark's own subgraphs at start-up are replayed without HTTP, so what is timed is
//! building the fetches, parsing the answers, merging them and writing the response.
//!
//! `cargo bench -p federated-bench --bench merge`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use federated_bench::recorded::Replay;
use federated_bench::{answer, executor_with, expected, queries, record};
use serde_json::Map;

fn replayed(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (supergraph, answers) = runtime
        .block_on(record())
        .expect("recording the subgraphs' answers");
    let executor = executor_with(&supergraph, Arc::new(Replay(answers))).expect("executor");
    let mut group = c.benchmark_group("replayed");
    for (name, query, expected) in [
        ("deep_7_fetches", queries::DEEP, expected::deep()),
        (
            "pass_through_1_fetch",
            queries::PASS_THROUGH,
            expected::pass_through(),
        ),
    ] {
        let body = runtime.block_on(answer(&executor, query)).expect("answers");
        assert_eq!(
            String::from_utf8_lossy(&body),
            expected,
            "{name}: the replayed answer differs"
        );
        let prepared = executor.prepare(query, None).expect("prepares");
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let response = executor
                    .execute(&prepared, Map::new(), http::HeaderMap::new())
                    .await;
                black_box(response.to_bytes())
            });
        });
    }
    group.finish();
}

criterion_group!(benches, replayed);
criterion_main!(benches);
