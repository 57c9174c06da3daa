//! The printed result: one Markdown table (it goes into the README as printed), the
//! deduplication bursts, the memory soak, and the router's targets checked against the
//! numbers just measured.

use std::fmt::Write as _;

use crate::scenarios::{Burst, Row, Scaling, Soak, Target};

fn ms(d: std::time::Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// The direct row of the same operation, if it was measured.
fn direct<'a>(rows: &'a [Row], operation: &str) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.operation == operation && matches!(r.target, Target::Direct(_)))
}

pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| operation | via | conc | req/s | p50 ms | p99 ms | errors | router CPU µs/req | subgraphs CPU µs/req | router RSS MiB | fetches/req | SQL/req | Mongo/req | req/s vs direct |"
    );
    let _ = writeln!(
        out,
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    );
    for row in rows {
        let via_router = matches!(row.target, Target::Router { .. });
        let dash = || "–".to_owned();
        let ratio = match (via_router, direct(rows, row.operation)) {
            (true, Some(d)) => format!(
                "{:.2}×",
                row.outcome.per_second() / d.outcome.per_second().max(1e-9)
            ),
            _ => dash(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {:.0} | {} | {} | {:.2} | {:.2} | {} |",
            row.operation,
            row.target.label(),
            row.concurrency,
            row.outcome.per_second(),
            ms(row.outcome.p50),
            ms(row.outcome.p99),
            row.outcome.errors,
            if via_router {
                format!("{:.0}", row.per_request(row.delta.router_cpu_us as f64))
            } else {
                dash()
            },
            row.per_request(row.delta.subgraphs_cpu_us() as f64),
            if via_router {
                format!("{:.1}", row.router_rss_mib)
            } else {
                dash()
            },
            if via_router {
                format!("{:.2}", row.per_request(row.delta.fetches))
            } else {
                dash()
            },
            row.per_request(row.delta.sql),
            row.per_request(row.delta.mongo),
            ratio,
        );
    }
    out
}

pub fn bursts(operation: &str, bursts: &[Burst]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "In-flight deduplication, `{operation}` sent {} times at once:",
        bursts.first().map_or(0, |b| b.concurrent)
    );
    for b in bursts {
        let _ = writeln!(
            out,
            "- dedup {}: {} subgraph fetches for the burst, {} for one request alone ({:.1} executions' worth), {} failed",
            if b.dedup { "on " } else { "off" },
            b.fetches_burst,
            b.fetches_one,
            b.fetches_burst / b.fetches_one.max(1.0),
            b.failed,
        );
    }
    out
}

pub fn soak(soak: &Soak) -> String {
    let mut out = String::new();
    let first = soak.samples.first().map_or(0.0, |s| s.1);
    let last = soak.samples.last().map_or(0.0, |s| s.1);
    let peak = soak.samples.iter().map(|s| s.1).fold(0.0, f64::max);
    let series: Vec<String> = soak
        .samples
        .iter()
        .map(|(t, m)| format!("{t}s {m:.1}"))
        .collect();
    let _ = writeln!(
        out,
        "Router memory (MiB) over {} s of `{}` after the warm-up (dedup off, {:.0} req/s, {} errors): {}",
        soak.samples.last().map_or(0, |s| s.0),
        soak.operation,
        soak.outcome.per_second(),
        soak.outcome.errors,
        series.join(", ")
    );
    let _ = writeln!(
        out,
        "- first {first:.1} MiB, last {last:.1} MiB, peak {peak:.1} MiB ({:+.1} % first to last)",
        (last - first) / first.max(1e-9) * 100.0
    );
    out
}

/// The router's targets: CPU per request no higher than the subgraph's own for the
/// one-subgraph query (dedup off), flat memory, a burst costing about one execution.
pub fn targets(rows: &[Row], bursts: &[Burst], soak: Option<&Soak>) -> String {
    let mut out = String::from("Targets:\n");
    let catalog = rows.iter().find(|r| {
        r.target == Target::Router { dedup: false } && direct(rows, r.operation).is_some()
    });
    if let Some(row) = catalog
        && let Some(d) = direct(rows, row.operation)
    {
        let router = row.per_request(row.delta.router_cpu_us as f64);
        let subgraph = d.per_request(d.delta.subgraphs_cpu_us() as f64);
        let _ = writeln!(
            out,
            "- router CPU per request <= the subgraph's own ({}): {router:.0} µs vs {subgraph:.0} µs: {}",
            row.operation,
            if router <= subgraph { "met" } else { "missed" }
        );
    }
    if let Some(s) = soak {
        let first = s.samples.first().map_or(0.0, |x| x.1);
        let last = s.samples.last().map_or(0.0, |x| x.1);
        // Allocator noise moves RSS by a few percent; growth beyond 10 % over a minute would be a leak.
        let flat = last <= first * 1.10;
        let _ = writeln!(
            out,
            "- memory flat over the soak (last within 10 % of first): {}",
            if flat { "met" } else { "missed" }
        );
    }
    if let Some(b) = bursts.iter().find(|b| b.dedup) {
        let worth = b.fetches_burst / b.fetches_one.max(1.0);
        let _ = writeln!(
            out,
            "- {} identical concurrent queries cost about one execution with dedup on: {worth:.1} executions' worth: {}",
            b.concurrent,
            if worth <= 2.0 { "met" } else { "missed" }
        );
    }
    out
}

pub fn scaling(rows: &[Scaling]) -> String {
    let mut out = String::from(
        "What one request costs by list length (through the router; SQL statements / MongoDB commands / subgraph fetches):\n\n",
    );
    let lengths: Vec<usize> = rows
        .first()
        .map(|r| r.points.iter().map(|p| p.0).collect())
        .unwrap_or_default();
    let header: Vec<String> = lengths.iter().map(|n| format!("first: {n}")).collect();
    let _ = writeln!(out, "| list | {} |", header.join(" | "));
    let _ = writeln!(out, "|---|{}", "--:|".repeat(lengths.len()));
    for row in rows {
        let cells: Vec<String> = row
            .points
            .iter()
            .map(|(_, sql, mongo, fetches)| format!("{sql:.1} / {mongo:.1} / {fetches:.1}"))
            .collect();
        let _ = writeln!(out, "| {} | {} |", row.operation, cells.join(" | "));
    }
    out
}

/// Bytes on the wire with and without compression.
pub fn wire_bytes(wire: &crate::scenarios::WireBytes) -> String {
    let identity = wire
        .sizes
        .iter()
        .find(|(e, _)| *e == "identity")
        .map_or(0, |(_, n)| *n);
    let mut out = format!(
        "Response bytes on the wire, {} (one request, body only):\n\n",
        wire.operation
    );
    out.push_str("| Accept-Encoding | bytes | of uncompressed |\n|---|--:|--:|\n");
    for (encoding, bytes) in &wire.sizes {
        let share = if identity == 0 {
            0.0
        } else {
            *bytes as f64 * 100.0 / identity as f64
        };
        let _ = writeln!(out, "| {encoding} | {bytes} | {share:.0} % |");
    }
    out
}
