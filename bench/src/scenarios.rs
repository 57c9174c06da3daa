//! The operations measured and the order they run in.
//!
//! Every operation runs through the router with in-flight deduplication on, then off, and,
//! where one subgraph owns it, straight against that subgraph. Each measurement is a warm-up
//! (caches, pools, JIT-free but not cold) followed by a fixed-duration load, bracketed by
//! readings of every counter.

use std::{path::Path, time::Duration};

use serde_json::{Value, json};

use crate::{
    counters::Snapshot,
    load::{self, Outcome, Request},
    seed::{CUSTOMER_EMAIL, CUSTOMER_PASSWORD, Seed},
    system::System,
};

/// The subgraph that owns an operation, for the direct baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Products,
    Orders,
    Users,
}

impl Owner {
    pub fn name(self) -> &'static str {
        match self {
            Self::Products => "products",
            Self::Orders => "orders",
            Self::Users => "users",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub name: &'static str,
    pub query: &'static str,
    pub variables: Value,
    pub as_customer: bool,
    pub owner: Option<Owner>,
}

impl Operation {
    /// The HTTP request that sends this operation to `url`, as the customer where it needs one.
    fn request(&self, url: String, seed: &Seed) -> Request {
        Request {
            url,
            body: json!({ "query": self.query, "variables": self.variables }).to_string(),
            authorization: self.as_customer.then(|| seed.customer_bearer.clone()),
        }
    }
}

/// The five operations of the table.
pub fn operations(seed: &Seed) -> Vec<Operation> {
    let product = seed.product_ids.first().cloned().unwrap_or_default();
    let lines: Vec<Value> = seed
        .product_ids
        .iter()
        .take(2)
        .map(|id| json!({ "productId": id, "quantity": 1 }))
        .collect();
    vec![
        Operation {
            name: "catalog page (products)",
            query: "query Catalog { products(first: 20, sort: PRICE) { totalCount edges { cursor node { id name price { amount currencyCode } available } } } }",
            variables: json!({}),
            as_customer: false,
            owner: Some(Owner::Products),
        },
        Operation {
            name: "product + unitsSold (products, orders)",
            query: "query Product($id: ID!) { product(id: $id) { id name description price { amount currencyCode } unitsSold } }",
            variables: json!({ "id": product }),
            as_customer: false,
            owner: None,
        },
        Operation {
            name: "me { orders(first: 20) { items { product } } } (users, orders, products)",
            query: "query MyOrders { me { orders(first: 20) { edges { node { id items { quantity product { name price { amount currencyCode } } } } } } } }",
            variables: json!({}),
            as_customer: true,
            owner: None,
        },
        Operation {
            name: "createOrder (orders; prices from products over NATS)",
            query: "mutation Buy($i: CreateOrderInput!) { createOrder(input: $i) { order { id status total { amount currencyCode } } } }",
            variables: json!({ "i": { "items": lines } }),
            as_customer: true,
            owner: Some(Owner::Orders),
        },
        Operation {
            name: "login (users; argon2id)",
            query: "mutation Login($i: LoginInput!) { login(input: $i) { accessToken } }",
            variables: json!({ "i": { "email": CUSTOMER_EMAIL, "password": CUSTOMER_PASSWORD } }),
            as_customer: false,
            owner: Some(Owner::Users),
        },
    ]
}

/// Where a measurement sends its requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Router { dedup: bool },
    Direct(Owner),
}

impl Target {
    pub fn label(self) -> String {
        match self {
            Self::Router { dedup: true } => "router, dedup on".to_owned(),
            Self::Router { dedup: false } => "router, dedup off".to_owned(),
            Self::Direct(owner) => format!("{} direct", owner.name()),
        }
    }
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub operation: &'static str,
    pub target: Target,
    pub concurrency: usize,
    pub outcome: Outcome,
    /// The counters' increase over the load.
    pub delta: Snapshot,
    pub router_rss_mib: f64,
}

impl Row {
    pub fn per_request(&self, total: f64) -> f64 {
        total / self.outcome.requests.max(1) as f64
    }
}

/// Load settings shared by every measurement.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
}

/// Fills caches and connection pools with the load's own requests; nothing is measured.
async fn warm_up(request: &Request, load: Load, dir: &Path) -> anyhow::Result<()> {
    if !load.warmup.is_zero() {
        load::run(request, load.concurrency, load.warmup, dir).await?;
    }
    Ok(())
}

pub async fn measure(
    http: &reqwest::Client,
    system: &System,
    seed: &Seed,
    operation: &Operation,
    target: Target,
    load: Load,
    dir: &Path,
) -> anyhow::Result<Row> {
    let url = match target {
        Target::Router { .. } => system.router()?.graphql_url(),
        Target::Direct(Owner::Products) => system.products.graphql_url(),
        Target::Direct(Owner::Orders) => system.orders.graphql_url(),
        Target::Direct(Owner::Users) => system.users.graphql_url(),
    };
    let request = operation.request(url, seed);
    warm_up(&request, load, dir).await?;
    let before = Snapshot::take(http, system).await?;
    let outcome = load::run(&request, load.concurrency, load.duration, dir).await?;
    let after = Snapshot::take(http, system).await?;
    Ok(Row {
        operation: operation.name,
        target,
        concurrency: load.concurrency,
        outcome,
        delta: before.delta(&after),
        router_rss_mib: system.router()?.rss_mib()?,
    })
}

/// Subgraph fetches for `n` identical requests sent at once, against the fetches of one
/// request alone: with deduplication on, the burst should cost about one request's fetches.
#[derive(Debug, Clone, Copy)]
pub struct Burst {
    pub dedup: bool,
    pub concurrent: usize,
    pub fetches_one: f64,
    pub fetches_burst: f64,
    pub failed: usize,
}

pub async fn burst(
    http: &reqwest::Client,
    system: &System,
    seed: &Seed,
    operation: &Operation,
    n: usize,
    dedup: bool,
) -> anyhow::Result<Burst> {
    let request = operation.request(system.router()?.graphql_url(), seed);
    let send = || {
        let mut call = http
            .post(&request.url)
            .header("content-type", "application/json")
            .body(request.body.clone());
        if let Some(authorization) = &request.authorization {
            call = call.header("authorization", authorization);
        }
        async move {
            match call.send().await {
                Ok(r) if r.status().is_success() => {
                    r.text().await.is_ok_and(|t| !t.contains("\"errors\""))
                }
                _ => false,
            }
        }
    };
    // Warm the plan cache and open enough connections that the burst does not queue on dials.
    futures::future::join_all((0..n).map(|_| send())).await;
    let before = Snapshot::take(http, system).await?;
    send().await;
    let middle = Snapshot::take(http, system).await?;
    let results = futures::future::join_all((0..n).map(|_| send())).await;
    let after = Snapshot::take(http, system).await?;
    Ok(Burst {
        dedup,
        concurrent: n,
        fetches_one: before.delta(&middle).fetches,
        fetches_burst: middle.delta(&after).fetches,
        failed: results.iter().filter(|ok| !**ok).count(),
    })
}

/// Router memory sampled every 5 s during a long load with deduplication off, after the
/// usual warm-up.
#[derive(Debug, Clone)]
pub struct Soak {
    pub operation: &'static str,
    pub outcome: Outcome,
    /// (seconds since start, RSS in MiB)
    pub samples: Vec<(u64, f64)>,
}

pub async fn soak(
    system: &System,
    seed: &Seed,
    operation: &Operation,
    load: Load,
    dir: &Path,
) -> anyhow::Result<Soak> {
    let router = system.router()?;
    let request = operation.request(router.graphql_url(), seed);
    // The same warm-up as every row: connections open and buffers allocated before the
    // first sample, so the samples show growth under load, not the ramp to it.
    warm_up(&request, load, dir).await?;
    let run = load::run(&request, load.concurrency, load.duration, dir);
    let sample = async {
        let mut samples = vec![(0, router.rss_mib()?)];
        let step = Duration::from_secs(5);
        let mut elapsed = Duration::ZERO;
        while elapsed + step <= load.duration {
            tokio::time::sleep(step).await;
            elapsed += step;
            samples.push((elapsed.as_secs(), router.rss_mib()?));
        }
        anyhow::Ok(samples)
    };
    let (outcome, samples) = tokio::join!(run, sample);
    Ok(Soak {
        operation: operation.name,
        outcome: outcome?,
        samples: samples?,
    })
}

/// SQL statements, MongoDB commands and subgraph fetches of one request, by list length.
#[derive(Debug, Clone)]
pub struct Scaling {
    pub operation: &'static str,
    /// (list length, SQL statements, MongoDB commands, subgraph fetches), each per request.
    pub points: Vec<(usize, f64, f64, f64)>,
}

/// A list query: name, text, whether it needs the customer, where its list is.
type ListQuery = (&'static str, &'static str, bool, fn(&Value) -> &Value);

/// Sends each list query alone (sequentially, `repeat` times per length) and counts what it
/// cost: the counts must not grow with the length of the list.
pub async fn scaling(
    http: &reqwest::Client,
    system: &System,
    seed: &Seed,
    lengths: &[usize],
    repeat: usize,
) -> anyhow::Result<Vec<Scaling>> {
    let lists: [ListQuery; 2] = [
        (
            "catalog page",
            "query($n: Int!) { products(first: $n, sort: PRICE) { edges { node { id name price { amount currencyCode } } } } }",
            false,
            |data| &data["products"]["edges"],
        ),
        (
            "me { orders { items { product } } }",
            "query($n: Int!) { me { orders(first: $n) { edges { node { id items { quantity product { name price { amount currencyCode } } } } } } } }",
            true,
            |data| &data["me"]["orders"]["edges"],
        ),
    ];
    let url = system.router()?.graphql_url();
    let mut out = Vec::new();
    for (operation, query, as_customer, edges) in lists {
        let bearer = as_customer.then_some(seed.customer_bearer.as_str());
        let mut points = Vec::new();
        for &n in lengths {
            let before = Snapshot::take(http, system).await?;
            for _ in 0..repeat {
                let data = crate::seed::call(http, &url, query, json!({ "n": n }), bearer).await?;
                let got = edges(&data).as_array().map_or(0, Vec::len);
                anyhow::ensure!(
                    got == n,
                    "{operation} with first: {n} returned {got} items; load more demo data"
                );
            }
            let delta = before.delta(&Snapshot::take(http, system).await?);
            let per = |x: f64| x / repeat as f64;
            points.push((n, per(delta.sql), per(delta.mongo), per(delta.fetches)));
        }
        out.push(Scaling { operation, points });
    }
    Ok(out)
}

/// Response bytes on the wire for one operation, per `Accept-Encoding`.
#[derive(Debug, Clone)]
pub struct WireBytes {
    pub operation: &'static str,
    /// (encoding asked for, body bytes received); `identity` is the uncompressed size.
    pub sizes: Vec<(&'static str, usize)>,
}

/// Sends `operation` through the router once per encoding and counts the body bytes as
/// they arrive (the client does not decode them), checking the router used the encoding.
pub async fn wire_bytes(
    http: &reqwest::Client,
    system: &System,
    seed: &Seed,
    operation: &Operation,
) -> anyhow::Result<WireBytes> {
    let request = operation.request(system.router()?.graphql_url(), seed);
    let mut sizes = Vec::new();
    for encoding in ["identity", "gzip", "br", "zstd"] {
        let mut call = http
            .post(&request.url)
            .header("content-type", "application/json")
            .header("accept-encoding", encoding)
            .body(request.body.clone());
        if let Some(bearer) = &request.authorization {
            call = call.header("authorization", bearer);
        }
        let response = call.send().await?.error_for_status()?;
        let used = response
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("identity")
            .to_owned();
        anyhow::ensure!(
            used == encoding,
            "asked for {encoding}, the router answered with {used}"
        );
        sizes.push((encoding, response.bytes().await?.len()));
    }
    Ok(WireBytes {
        operation: operation.name,
        sizes,
    })
}
