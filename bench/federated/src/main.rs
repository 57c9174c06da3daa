//! `federated-bench --router PATH [--duration SECS] [--warmup SECS] [--connections N]`
//!
//! Prints one row per query and deduplication setting: router and subgraph CPU per request,
//! their ratio, throughput, latency, the router's peak memory and its subgraph fetches per
//! request. `federated-bench serve-subgraphs` is the child process that serves the subgraphs.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use clap::{Parser, Subcommand, builder::RangedU64ValueParser, value_parser};
use federated_bench::measure::{self, Process};
use federated_bench::{expected, queries, subgraphs};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;

/// Measures the router alone: four in-memory subgraphs behind it, wrk driving it.
#[derive(Parser)]
#[command(
    name = "federated-bench",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Needs wrk on PATH."
)]
struct Cli {
    #[command(subcommand)]
    child: Option<Child>,
    /// The router binary to measure (cargo build --release -p router).
    #[arg(long, value_name = "PATH", required = true)]
    router: Option<PathBuf>,
    /// Seconds of each measured load.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = value_parser!(u64).range(1..))]
    duration: u64,
    /// Seconds of load before each measurement.
    #[arg(long, value_name = "SECS", default_value_t = 2)]
    warmup: u64,
    /// Concurrent connections of each load.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = RangedU64ValueParser::<usize>::new().range(1..))]
    connections: usize,
}

#[derive(Subcommand)]
enum Child {
    /// Serve the subgraphs and print their addresses (the benchmark's own child process).
    #[command(hide = true)]
    ServeSubgraphs,
}

struct Options {
    router: PathBuf,
    duration: Duration,
    warmup: Duration,
    connections: usize,
}

impl Options {
    fn from_cli(cli: Cli) -> anyhow::Result<Self> {
        let router = cli.router.context("--router is required")?;
        ensure!(
            router.is_file(),
            "{} is not a file (cargo build --release -p router)",
            router.display()
        );
        Ok(Self {
            router,
            duration: Duration::from_secs(cli.duration),
            warmup: Duration::from_secs(cli.warmup),
            connections: cli.connections,
        })
    }
}

/// Child mode: serve the subgraphs, print `name=addr` pairs on one line, run until killed.
async fn serve_subgraphs() -> anyhow::Result<()> {
    let served = subgraphs::serve_all().await?;
    let line: Vec<String> = served
        .iter()
        .map(|s| format!("{}={}", s.name, s.addr))
        .collect();
    println!("{}", line.join(" "));
    std::future::pending::<()>().await;
    Ok(())
}

struct Row {
    query: &'static str,
    dedup: bool,
    outcome: bench::load::Outcome,
    router_cpu_us: f64,
    subgraphs_cpu_us: f64,
    peak_rss_mib: f64,
    fetches: f64,
}

async fn start_router(
    options: &Options,
    dir: &std::path::Path,
    supergraph: &std::path::Path,
    urls: &str,
    dedup: bool,
    http: &reqwest::Client,
) -> anyhow::Result<(Process, String, String)> {
    let addr = measure::free_addr()?;
    let metrics_addr = measure::free_addr()?;
    let mut command = Command::new(&options.router);
    command
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("ROUTER_PROFILE", "production")
        .env("ROUTER_LISTEN_ADDR", addr.to_string())
        .env("ROUTER_METRICS_ADDR", metrics_addr.to_string())
        // The production profile requires it; the bench's subgraphs do not check it.
        .env(
            "ROUTER_SUBGRAPH_SECRET",
            "federated-bench-subgraph-secret-0123456789",
        )
        .env("ROUTER_SUPERGRAPH_PATH", supergraph)
        .env("ROUTER_SUPERGRAPH_POLL_SECS", "0")
        .env("ROUTER_SUBGRAPH_URLS", urls)
        .env("ROUTER_AUTH_ENABLED", "false")
        .env("ROUTER_MAX_DEPTH", "20")
        .env("ROUTER_DEDUP_ENABLED", dedup.to_string())
        .stdout(std::fs::File::create(dir.join("router.log"))?)
        .stderr(std::fs::File::create(dir.join("router.err"))?);
    let router = Process::spawn(command)?;
    let base = format!("http://{addr}");
    if let Err(e) =
        measure::wait_ready(http, &format!("{base}/ready"), Duration::from_secs(30)).await
    {
        let log = std::fs::read_to_string(dir.join("router.log")).unwrap_or_default();
        let err = std::fs::read_to_string(dir.join("router.err")).unwrap_or_default();
        bail!("{e}\n{log}{err}");
    }
    Ok((router, base, format!("http://{metrics_addr}/metrics")))
}

/// Waits until the router has no request in flight and its fetch count stops moving;
/// returns its subgraph fetch and served request counts.
async fn settle<F, Fut>(metrics: &F) -> anyhow::Result<(f64, f64)>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<String>>,
{
    let counts = |text: &str| {
        (
            measure::metric_sum(text, "router_subgraph_request_duration_seconds_count"),
            measure::metric_sum(text, "router_requests_total"),
            measure::metric_sum(text, "router_in_flight_requests"),
        )
    };
    let (mut fetches, mut served, _) = counts(&metrics().await?);
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = counts(&metrics().await?);
        if now.2 == 0.0 && now.0 == fetches && now.1 == served {
            break;
        }
        (fetches, served) = (now.0, now.1);
    }
    Ok((fetches, served))
}

async fn run(options: Options) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let http = reqwest::Client::new();

    let exe = std::env::current_exe()?;
    let mut command = Command::new(exe);
    command
        .arg("serve-subgraphs")
        .stdout(std::process::Stdio::piped());
    let mut subgraphs_process = Process::spawn(command)?;
    let stdout = subgraphs_process
        .child
        .stdout
        .take()
        .context("subgraph output")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).await?;
    let addrs: Vec<(&str, String)> = line
        .split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, addr)| (name, format!("http://{addr}/graphql")))
        .collect();
    ensure!(addrs.len() == 4, "the subgraph process printed {line:?}");
    let sdl = federated_bench::supergraph(&addrs)?;
    let supergraph = dir.path().join("supergraph.graphql");
    std::fs::write(&supergraph, sdl)?;
    let urls: Vec<String> = addrs.iter().map(|(n, u)| format!("{n}={u}")).collect();
    let urls = urls.join(",");

    let cases: [(&'static str, &str, String); 2] = [
        ("deep (7 fetches)", queries::DEEP, expected::deep()),
        (
            "pass-through (1 fetch)",
            queries::PASS_THROUGH,
            expected::pass_through(),
        ),
    ];
    let mut rows = Vec::new();
    for dedup in [false, true] {
        for (name, query, expected) in &cases {
            eprintln!("== {name}, dedup {}", if dedup { "on" } else { "off" });
            // A fresh router per row, so its peak memory belongs to this row.
            let (router, base, metrics_url) =
                start_router(&options, dir.path(), &supergraph, &urls, dedup, &http).await?;
            let url = format!("{base}/graphql");
            let body = queries::body(query);
            let answer = http
                .post(&url)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await?
                .text()
                .await?;
            ensure!(
                &answer == expected,
                "the router's answer to {name} differs from the expected one:\n{answer}"
            );
            let request = bench::load::Request {
                url: url.clone(),
                body: body.clone(),
                authorization: None,
            };
            bench::load::run(&request, options.connections, options.warmup, dir.path()).await?;
            let metrics =
                || async { anyhow::Ok(http.get(&metrics_url).send().await?.text().await?) };
            // Requests the warm-up left in flight finish before the measured window opens.
            let (fetches_before, served_before) = settle(&metrics).await?;
            let (router_before, subgraphs_before) =
                (router.cpu_micros()?, subgraphs_process.cpu_micros()?);
            let outcome =
                bench::load::run(&request, options.connections, options.duration, dir.path())
                    .await?;
            // wrk counts only the responses it received; the requests in flight when it
            // stops are still executed by the router (with 50 connections on the deep query
            // that was a fifth of the window's fetches). The window closes when they are
            // done, and costs are divided by the requests the router served.
            let (fetches_after, served_after) = settle(&metrics).await?;
            let (router_after, subgraphs_after) =
                (router.cpu_micros()?, subgraphs_process.cpu_micros()?);
            let served = served_after - served_before;
            let requests = if served > 0.0 {
                served
            } else {
                outcome.requests.max(1) as f64
            };
            rows.push(Row {
                query: name,
                dedup,
                outcome,
                router_cpu_us: (router_after - router_before) as f64 / requests,
                subgraphs_cpu_us: (subgraphs_after - subgraphs_before) as f64 / requests,
                peak_rss_mib: router.peak_rss_mib()?,
                fetches: (fetches_after - fetches_before) / requests,
            });
            router.stop().await;
        }
    }
    subgraphs_process.stop().await;

    let mut text = format!(
        "{} s per row after {} s of warm-up, {} connections (wrk, one thread); answers checked byte for byte first.\n\n",
        options.duration.as_secs(),
        options.warmup.as_secs(),
        options.connections
    );
    text.push_str("| query | dedup | req/s | p50 ms | p99 ms | errors | router CPU µs/req | subgraphs CPU µs/req | router / subgraphs | router peak RSS MiB | fetches/req |\n");
    text.push_str("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for row in &rows {
        text.push_str(&format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {} | {:.0} | {:.0} | {:.2}× | {:.1} | {:.2} |\n",
            row.query,
            if row.dedup { "on" } else { "off" },
            row.outcome.per_second(),
            row.outcome.p50.as_secs_f64() * 1e3,
            row.outcome.p99.as_secs_f64() * 1e3,
            row.outcome.errors,
            row.router_cpu_us,
            row.subgraphs_cpu_us,
            row.router_cpu_us / row.subgraphs_cpu_us.max(1.0),
            row.peak_rss_mib,
            row.fetches,
        ));
    }
    Ok(text)
}

#[tokio::main]
async fn main() -> ExitCode {
    // Prints help, the version or a usage error itself, and exits.
    let cli = Cli::parse();
    if let Some(Child::ServeSubgraphs) = cli.child {
        return match serve_subgraphs().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let options = match Options::from_cli(cli) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("{e:#}");
            return ExitCode::from(2);
        }
    };
    match run(options).await {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("benchmark failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
