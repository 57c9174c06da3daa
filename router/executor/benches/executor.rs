//! Benchmarks of the executor's hot paths: planning (cache hit and miss), merging `_entities`
//! answers into the result tree, response shaping of a large merged result, and a whole entity
//! join against two local canned subgraphs.
//!
//! `cargo bench -p executor` prints the timings.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use executor::{Executor, ExecutorConfig};
use serde_json::Map;

mod workloads;

use workloads::{QUERY, supergraph};

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

fn shaping(c: &mut Criterion) {
    let executor = Executor::new(&supergraph(), ExecutorConfig::default()).expect("executor");
    let prepared = executor.prepare(QUERY, None).expect("prepares");
    let data = workloads::merged_tree(500);
    let variables = Map::new();
    c.bench_function("shape/500_products_1000_reviews", |b| {
        b.iter(|| black_box(executor.shape_response(&prepared, black_box(&data), &variables)));
    });
}

fn merging(c: &mut Criterion) {
    let executor = Executor::new(&supergraph(), ExecutorConfig::default()).expect("executor");
    let mut group = c.benchmark_group("merge");

    // One representation per object: 500 products each get their two reviews.
    let products = 500;
    let (tree, entities, targets) = workloads::one_answer_per_object(products);
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
    let (tree, entities, targets) = workloads::shared_answers(products, 20);
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

fn execution(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (executor, prepared) = workloads::entity_join(&runtime);
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
