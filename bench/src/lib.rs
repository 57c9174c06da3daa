//! Benchmarks of the running system, the numbers performance work here is decided on.
//!
//! `bench/run.sh` builds the services in release mode and runs [`run`]: fresh PostgreSQL
//! databases, a NATS JetStream prefix and a MongoDB database, the four subgraphs and the
//! router each in its own process, demo data loaded through the router, then `wrk` loads of
//! fixed duration for each operation through the router (deduplication on and off) and
//! straight to its owning subgraph. The table shows throughput and latency beside what the
//! load cost: router and subgraph CPU time per request (CPU time over requests served, which
//! stays meaningful when load generator, router and subgraphs share two cores), router
//! memory, and the services' own counts of subgraph fetches, SQL statements and MongoDB
//! commands per request. Single requests with lists of growing length show that statement
//! counts do not grow with the list, 50-request bursts show deduplication, and a longer load
//! shows whether the router's memory stays flat. The catalog page is also fetched once per
//! `Accept-Encoding` (identity, gzip, br, zstd) to report its bytes on the wire.

pub mod counters;
pub mod load;
pub mod processes;
pub mod report;
pub mod scenarios;
pub mod seed;
pub mod system;

use std::{path::PathBuf, time::Duration};

use anyhow::Context as _;
use clap::{Parser, builder::RangedU64ValueParser, value_parser};

use scenarios::{Load, Target};
use system::{Layout, System};

/// What the benchmark runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub layout: Layout,
    pub duration: Duration,
    pub warmup: Duration,
    pub concurrency: usize,
    /// Seconds of the memory soak; 0 skips it.
    pub soak: Duration,
    pub burst: usize,
    pub products: usize,
    pub orders: usize,
}

fn count(min: u64) -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(min..)
}

/// The command line of `bench`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "bench",
    version,
    after_help = "Needs PostgreSQL (TEST_POSTGRES_URL), NATS JetStream (TEST_NATS_URL), a MongoDB server
(TEST_MONGODB_URL) and wrk on PATH; bench/run.sh provides all of them."
)]
pub struct Cli {
    /// The folder holding the release binaries of the router and the subgraphs.
    #[arg(long, value_name = "DIR")]
    bin_dir: PathBuf,
    /// The supergraph the router serves.
    #[arg(long, value_name = "FILE")]
    supergraph: PathBuf,
    /// Seconds of each measured load.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = value_parser!(u64).range(1..))]
    duration: u64,
    /// Seconds of load before each measurement.
    #[arg(long, value_name = "SECS", default_value_t = 2)]
    warmup: u64,
    /// Concurrent connections of each load.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = count(1))]
    concurrency: usize,
    /// Seconds of the memory soak; 0 skips it.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    soak: u64,
    /// Requests in each deduplication burst.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = count(1))]
    burst: usize,
    /// Products in the demo catalog.
    #[arg(long, value_name = "N", default_value_t = 60, value_parser = count(10))]
    products: usize,
    /// Orders placed before the loads.
    #[arg(long, value_name = "N", default_value_t = 25, value_parser = count(10))]
    orders: usize,
}

impl From<Cli> for Options {
    fn from(cli: Cli) -> Self {
        Self {
            layout: Layout {
                bin_dir: cli.bin_dir,
                supergraph: cli.supergraph,
            },
            duration: Duration::from_secs(cli.duration),
            warmup: Duration::from_secs(cli.warmup),
            concurrency: cli.concurrency,
            soak: Duration::from_secs(cli.soak),
            burst: cli.burst,
            products: cli.products,
            orders: cli.orders,
        }
    }
}

impl Options {
    /// Parses the arguments after the program name.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, clap::Error> {
        let argv = std::iter::once("bench".to_owned()).chain(args);
        Ok(Cli::try_parse_from(argv)?.into())
    }
}

fn progress(what: &str) {
    eprintln!("== {what}");
}

/// Runs everything and returns the report to print.
pub async fn run(options: &Options) -> anyhow::Result<String> {
    system::check_binaries(&options.layout.bin_dir)?;
    let work = tempfile::tempdir()?;
    let http = reqwest::Client::new();
    let load = Load {
        concurrency: options.concurrency,
        warmup: options.warmup,
        duration: options.duration,
    };

    progress(
        "starting PostgreSQL databases, a NATS prefix, a MongoDB database and the five services",
    );
    let mut system = System::start(options.layout.clone(), true).await?;
    let outcome = async {
        progress("loading demo data through the router");
        let seed = seed::load(&system.router()?.graphql_url(), options.products, options.orders).await?;
        let operations = scenarios::operations(&seed);
        let burst_op = operations.iter().find(|o| o.owner.is_none() && o.as_customer).context("a three-subgraph query")?;
        progress("bytes on the wire with and without compression");
        let catalog = operations.iter().find(|o| o.name.starts_with("catalog page")).context("the catalog page")?;
        let wire = scenarios::wire_bytes(&http, &system, &seed, catalog).await?;
        progress("statement and fetch counts by list length");
        let lengths = [1, 10, options.orders.min(options.products)];
        let scaling = scenarios::scaling(&http, &system, &seed, &lengths, 5).await?;

        let mut rows = Vec::new();
        let mut bursts = Vec::new();
        for dedup in [true, false] {
            if !dedup {
                system.start_router(false).await?;
            }
            for operation in &operations {
                progress(&format!("{} via the router, dedup {}", operation.name, if dedup { "on" } else { "off" }));
                rows.push(scenarios::measure(&http, &system, &seed, operation, Target::Router { dedup }, load, work.path()).await?);
            }
            progress(&format!("{} identical concurrent requests, dedup {}", options.burst, if dedup { "on" } else { "off" }));
            bursts.push(scenarios::burst(&http, &system, &seed, burst_op, options.burst, dedup).await?);
        }
        for operation in &operations {
            if let Some(owner) = operation.owner {
                progress(&format!("{} straight to {}", operation.name, owner.name()));
                rows.push(scenarios::measure(&http, &system, &seed, operation, Target::Direct(owner), load, work.path()).await?);
            }
        }
        let soak = if options.soak.is_zero() {
            None
        } else {
            progress(&format!("{} s of {} via the router, dedup off, sampling its memory", options.soak.as_secs(), burst_op.name));
            let soak_load = Load { duration: options.soak, ..load };
            Some(scenarios::soak(&system, &seed, burst_op, soak_load, work.path()).await?)
        };

        // Group each operation's rows: direct first, then the router without and with dedup.
        let order = |t: Target| match t {
            Target::Direct(_) => 0,
            Target::Router { dedup: false } => 1,
            Target::Router { dedup: true } => 2,
        };
        let position = |name: &str| operations.iter().position(|o| o.name == name).unwrap_or(usize::MAX);
        rows.sort_by_key(|r| (position(r.operation), order(r.target)));

        let mut text = format!(
            "{} s per row after {} s of warm-up, {} connections (wrk, one thread); {} products, {} orders of the customer.\n\n",
            options.duration.as_secs(),
            options.warmup.as_secs(),
            options.concurrency,
            options.products,
            seed.orders
        );
        text.push_str(&report::table(&rows));
        text.push('\n');
        text.push_str(&report::scaling(&scaling));
        text.push('\n');
        text.push_str(&report::wire_bytes(&wire));
        text.push('\n');
        text.push_str(&report::bursts(burst_op.name, &bursts));
        if let Some(soak) = &soak {
            text.push('\n');
            text.push_str(&report::soak(soak));
        }
        text.push('\n');
        text.push_str(&report::targets(&rows, &bursts, soak.as_ref()));
        anyhow::Ok(text)
    }
    .await;
    progress("stopping the services and removing the databases");
    let stopped = system.shutdown().await;
    let text = outcome?;
    stopped?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_the_options_and_keeps_defaults() {
        let o = Options::parse(args(&[
            "--bin-dir",
            "out",
            "--supergraph",
            "s.graphql",
            "--duration",
            "3",
            "--concurrency",
            "8",
        ]))
        .expect("valid");
        assert_eq!(o.layout.bin_dir, PathBuf::from("out"));
        assert_eq!(o.duration, Duration::from_secs(3));
        assert_eq!(o.concurrency, 8);
        assert_eq!(o.soak, Duration::from_secs(60));
        assert_eq!(o.burst, 50);
    }

    #[test]
    fn refuses_missing_paths_bad_numbers_and_unknown_flags() {
        for bad in [
            args(&["--supergraph", "s"]),
            args(&["--bin-dir", "b"]),
            args(&["--bin-dir", "b", "--supergraph", "s", "--duration", "ten"]),
            args(&["--bin-dir", "b", "--supergraph", "s", "--concurrency", "0"]),
            args(&["--bin-dir", "b", "--supergraph", "s", "--orders", "3"]),
            args(&["--bin-dir", "b", "--supergraph", "s", "--fast"]),
            args(&["--bin-dir"]),
        ] {
            assert!(Options::parse(bad.clone()).is_err(), "{bad:?} was accepted");
        }
    }
}
