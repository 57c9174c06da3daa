//! `createOrder` throughput over real HTTP, PostgreSQL and NATS JetStream, with a local
//! price responder standing in for the products service.
//!
//! Run with `cargo bench -p orders --bench create_order`. Needs the same PostgreSQL and
//! NATS as the integration tests.

use std::{collections::HashMap, sync::Arc, time::Duration};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kit::{
    auth::Role,
    bus::{EventBus, json_handler},
    config::Env,
    contracts::{PriceBasketReply, PriceBasketRequest, PricedProduct, Reply, subjects},
    testing::{GraphqlClient, TestBus, TestDatabase, TestKeys},
};
use serde_json::{Value, json};
use uuid::Uuid;

fn bench_create_order(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (db, bus, keys) = rt.block_on(async {
        (
            TestDatabase::postgres().await,
            TestBus::nats().await,
            TestKeys::new(),
        )
    });

    let catalog: Arc<HashMap<Uuid, (String, i64)>> = Arc::new(
        (0..5)
            .map(|i| (Uuid::now_v7(), (format!("Product {i}"), 995 + i)))
            .collect(),
    );
    let prices = catalog.clone();
    let responder = json_handler(
        move |req: PriceBasketRequest| {
            let prices = prices.clone();
            async move {
                let priced: Option<Vec<PricedProduct>> = req
                    .product_ids
                    .iter()
                    .map(|id| {
                        prices.get(id).map(|(name, price)| PricedProduct {
                            id: *id,
                            name: name.clone(),
                            price_minor: *price,
                            currency: "EUR".into(),
                        })
                    })
                    .collect();
                match priced {
                    Some(p) => Reply::ok(p),
                    None => Reply::error(kit::ErrorCode::NotFound, "unknown product", vec![]),
                }
            }
        },
        PriceBasketReply::bad_request,
    );
    let (service, _worker) = rt.block_on(async {
        let worker = bus
            .bus
            .serve(subjects::RPC_PRODUCTS_PRICE_BASKET, responder)
            .await
            .expect("responder");
        let config = orders::Config::from_env(&Env::from_pairs([
            ("ORDERS_ADDR", "127.0.0.1:0"),
            ("ORDERS_DATABASE_URL", db.url.as_str()),
        ]))
        .expect("config");
        let shared: Arc<dyn EventBus> = bus.bus.clone();
        let service = orders::start(
            config,
            orders::Deps {
                bus: shared,
                verifier: keys.verifier.clone(),
            },
        )
        .await
        .expect("starts");
        (service, worker)
    });

    let client = GraphqlClient::new(format!("http://{}/graphql", service.addr));
    let bearer = keys.bearer(Uuid::now_v7(), Role::Customer);
    let items: Vec<Value> = catalog
        .keys()
        .take(3)
        .map(|id| json!({ "productId": id, "quantity": 2 }))
        .collect();
    let variables = json!({ "input": { "items": items } });
    let mutation = "mutation($input: CreateOrderInput!) { createOrder(input: $input) { order { id total { amount } } } }";
    let place = || async {
        let resp = client
            .post(mutation, variables.clone(), Some(&bearer))
            .await;
        assert!(
            resp["data"]["createOrder"]["order"]["id"].is_string(),
            "{resp}"
        );
    };

    let mut group = c.benchmark_group("createOrder");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(1));
    group.bench_function("one at a time, 3 lines", |b| b.to_async(&rt).iter(place));
    const CONCURRENT: usize = 16;
    group.throughput(Throughput::Elements(CONCURRENT as u64));
    group.bench_function("16 concurrent, 3 lines", |b| {
        b.to_async(&rt)
            .iter(|| async { futures::future::join_all((0..CONCURRENT).map(|_| place())).await })
    });
    group.finish();

    rt.block_on(service.stop());
}

criterion_group!(benches, bench_create_order);
criterion_main!(benches);
