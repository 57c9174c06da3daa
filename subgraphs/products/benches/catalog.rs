//! Catalog read paths on PostgreSQL, executed through the schema (no HTTP, no router), so
//! the numbers are resolver, query-planning and database time only.
//!
//! Seeds a fresh database with 1000 products, then measures:
//! - `products(first: 100)` with `totalCount` and `pageInfo` (two statements);
//! - `_entities` with 100 product representations (one statement, via the loader).
//!
//! Run: `cargo bench -p products --bench catalog` (add `-- --quick` for a short run). Needs
//! the local PostgreSQL (`TEST_POSTGRES_URL` to point elsewhere).

use std::hint::black_box;

use async_graphql::{Request, Variables};
use criterion::{Criterion, criterion_group, criterion_main};
use kit::{Currency, Money, auth::Auth, testing::TestDatabase};
use products::catalog::{Catalog, NewProduct};
use serde_json::json;

const PRODUCTS: usize = 1000;

const PAGE: &str = "{ products(first: 100, sort: NAME) { totalCount edges { cursor node { id name description price { amount currencyCode } available createdAt updatedAt } } pageInfo { hasNextPage endCursor } } }";
const ENTITIES: &str = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id name price { amount currencyCode } available } } }";

fn catalog_reads(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let (database, schema, statements, representations) = rt.block_on(async {
        let database = TestDatabase::postgres().await;
        let env = kit::config::Env::from_pairs([("PRODUCTS_DATABASE_URL", database.url.as_str())]);
        let config = products::Config::from_env(&env).expect("valid configuration");
        let (db, statements) = products::connect_and_migrate(&config.database)
            .await
            .expect("database ready");
        let catalog = Catalog::new(db);
        let eur = Currency::parse("EUR").expect("EUR is a currency");
        let mut ids = Vec::with_capacity(PRODUCTS);
        for i in 0..PRODUCTS {
            let product = catalog
                .create(NewProduct {
                    name: format!("Product {:04}", (i * 7919) % PRODUCTS),
                    description: "A product of the benchmark catalog.".into(),
                    price: Money::from_minor(100 + (i as i64 * 37) % 10_000, eur),
                })
                .await
                .expect("seeding works");
            ids.push(product.id);
        }
        let representations: Vec<_> = ids
            .iter()
            .step_by(PRODUCTS / 100)
            .map(|id| json!({ "__typename": "Product", "id": id.to_string() }))
            .collect();
        (
            database,
            products::graphql::schema(catalog),
            statements,
            representations,
        )
    });
    let variables = Variables::from_json(json!({ "r": representations }));

    let run = |query: &'static str, variables: Variables| {
        let schema = schema.clone();
        async move {
            let resp = schema
                .execute(
                    Request::new(query)
                        .variables(variables)
                        .data(Auth::Anonymous),
                )
                .await;
            assert!(resp.errors.is_empty(), "{:?}", resp.errors);
            black_box(resp)
        }
    };

    // One run outside the timing, to report what each operation costs in statements.
    for (name, query, vars) in [
        ("products(first: 100)", PAGE, Variables::default()),
        ("_entities x100", ENTITIES, variables.clone()),
    ] {
        let before = statements.get();
        rt.block_on(run(query, vars));
        println!(
            "{name}: {} SQL statement(s) per call",
            statements.get() - before
        );
    }

    c.bench_function("products(first: 100)", |b| {
        b.to_async(&rt).iter(|| run(PAGE, Variables::default()))
    });
    c.bench_function("_entities x100", |b| {
        b.to_async(&rt).iter(|| run(ENTITIES, variables.clone()))
    });

    drop(schema);
    drop(database);
}

criterion_group!(benches, catalog_reads);
criterion_main!(benches);
