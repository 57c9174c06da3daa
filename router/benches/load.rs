//! Load benchmark of the router binary (run by `router/bench/load.sh`, not by CI).
//!
//! Starts the test subgraphs in this process, runs the release `router` binary as a
//! child process in front of them, and drives bounded loads against it over loopback:
//! a query served by one subgraph (also sent straight to that subgraph for comparison)
//! and one spanning three subgraphs, with deduplication on and off. For each it prints
//! requests per second, p50/p99 latency, errors, the router's CPU time per request
//! (utime + stime from `/proc/PID/stat`) and its resident memory before and after.
//!
//! Arguments: `--router PATH` (required), `--requests N` (default 20000),
//! `--concurrency N` (default 32).

#[path = "../tests/router/common/subgraphs.rs"]
#[allow(dead_code)]
mod subgraphs;

use std::{
    net::{SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use serde_json::json;

const ONE_SUBGRAPH: &str = "{ products { id name price } }";
const THREE_SUBGRAPHS: &str = "{ user(id: \"u1\") { name orders { id product { name price } } } }";

struct Args {
    router: PathBuf,
    requests: usize,
    concurrency: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut router = None;
    let mut requests = 20_000;
    let mut concurrency = 32;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--router" => router = args.next().map(PathBuf::from),
            "--requests" => requests = args.next().context("--requests N")?.parse()?,
            "--concurrency" => concurrency = args.next().context("--concurrency N")?.parse()?,
            // `cargo bench` adds `--bench`.
            "--bench" => {}
            other => bail!("unknown argument {other}"),
        }
    }
    let router = router.context("--router PATH is required")?;
    Ok(Args { router, requests, concurrency })
}

/// The router child process; killed when dropped so no process outlives the benchmark.
struct RouterProcess {
    child: Child,
    url: String,
}

impl Drop for RouterProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RouterProcess {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?.local_addr()?.port())
}

async fn start_router(
    bin: &Path,
    supergraph: &Path,
    urls: &str,
    dedup: bool,
) -> anyhow::Result<RouterProcess> {
    let port = free_port()?;
    let child = Command::new(bin)
        .arg("serve")
        .env("ROUTER_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("ROUTER_SUPERGRAPH_PATH", supergraph)
        .env("ROUTER_SUPERGRAPH_POLL_SECS", "0")
        .env("ROUTER_SUBGRAPH_URLS", urls)
        .env("ROUTER_DEDUP_ENABLED", dedup.to_string())
        .env("ROUTER_AUTH_ENABLED", "false")
        .env("ROUTER_GRAPHIQL_ENABLED", "false")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let process = RouterProcess { child, url: format!("http://127.0.0.1:{port}") };
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{}/ready", process.url)).send().await
            && r.status().is_success()
        {
            return Ok(process);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the router did not become ready")
}

/// CPU time (user + system) of a process, in microseconds.
fn cpu_micros(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').context("malformed /proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11).context("utime")?.parse()?;
    let stime: u64 = fields.get(12).context("stime")?.parse()?;
    // /proc reports clock ticks of USER_HZ, which is 100 on every Linux architecture.
    let ticks = 100u64;
    Ok((utime + stime) * 1_000_000 / ticks)
}

fn rss_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .context("VmRSS")?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kib / 1024.0)
}

struct Outcome {
    elapsed: Duration,
    latencies_us: Vec<u64>,
    errors: usize,
}

async fn drive(url: &str, query: &str, requests: usize, concurrency: usize) -> Outcome {
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().unwrap_or_default();
    let body = Arc::new(serde_json::to_vec(&json!({ "query": query })).unwrap_or_default());
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, body, next, errors) = (client.clone(), body.clone(), next.clone(), errors.clone());
            let url = url.to_owned();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    let t = Instant::now();
                    let ok = match client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.as_ref().clone())
                        .send()
                        .await
                    {
                        Ok(r) if r.status().is_success() => {
                            r.bytes().await.map(|b| !b.windows(9).any(|w| w == b"\"errors\":")).unwrap_or(false)
                        }
                        _ => false,
                    };
                    latencies.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies
            })
        })
        .collect();
    let mut latencies_us = Vec::with_capacity(requests);
    for worker in workers {
        latencies_us.extend(worker.await.unwrap_or_default());
    }
    latencies_us.sort_unstable();
    Outcome { elapsed: started.elapsed(), latencies_us, errors: errors.load(Ordering::Relaxed) }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)] as f64 / 1000.0
}

async fn scenario(
    name: &str,
    url: &str,
    query: &str,
    args: &Args,
    router_pid: Option<u32>,
) -> anyhow::Result<()> {
    // Warm caches and connection pools outside the measurement.
    drive(url, query, args.concurrency * 10, args.concurrency).await;
    let (cpu0, rss0) = match router_pid {
        Some(pid) => (cpu_micros(pid)?, rss_mib(pid)?),
        None => (0, 0.0),
    };
    let outcome = drive(url, query, args.requests, args.concurrency).await;
    let n = outcome.latencies_us.len().max(1);
    let rps = n as f64 / outcome.elapsed.as_secs_f64();
    let router = match router_pid {
        Some(pid) => {
            let cpu = cpu_micros(pid)?.saturating_sub(cpu0) as f64 / n as f64;
            format!("{cpu:>8.1} {rss0:>8.1} {:>8.1}", rss_mib(pid)?)
        }
        None => format!("{:>8} {:>8} {:>8}", "-", "-", "-"),
    };
    println!(
        "{name:<34} {n:>7} {rps:>9.0} {:>8.2} {:>8.2} {:>7} {router}",
        percentile(&outcome.latencies_us, 0.50),
        percentile(&outcome.latencies_us, 0.99),
        outcome.errors,
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let products = subgraphs::serve(subgraphs::products_schema()).await;
    let users = subgraphs::serve(subgraphs::users_schema()).await;
    let orders = subgraphs::serve(subgraphs::orders_schema()).await;
    let urls = format!("products={},users={},orders={}", products.url, users.url, orders.url);

    let dir = tempfile::tempdir()?;
    let supergraph = dir.path().join("supergraph.graphql");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/supergraph.graphql"),
        &supergraph,
    )?;

    println!(
        "{} requests per scenario, {} concurrent; latencies in ms, router CPU in µs per request, RSS in MiB",
        args.requests, args.concurrency
    );
    println!(
        "{:<34} {:>7} {:>9} {:>8} {:>8} {:>7} {:>8} {:>8} {:>8}",
        "scenario", "reqs", "req/s", "p50", "p99", "errors", "cpu/req", "rss0", "rss1"
    );
    scenario("1 subgraph, direct to subgraph", &products.url, ONE_SUBGRAPH, &args, None).await?;
    for dedup in [true, false] {
        let router = start_router(&args.router, &supergraph, &urls, dedup).await?;
        let graphql = format!("{}/graphql", router.url);
        let label = if dedup { "dedup on" } else { "dedup off" };
        scenario(&format!("1 subgraph via router, {label}"), &graphql, ONE_SUBGRAPH, &args, Some(router.pid()))
            .await?;
        scenario(&format!("3 subgraphs via router, {label}"), &graphql, THREE_SUBGRAPHS, &args, Some(router.pid()))
            .await?;
    }
    Ok(())
}
