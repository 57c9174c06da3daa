//! Prometheus metrics served at `/metrics` (OpenMetrics text format).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `router_requests_total` | counter | `kind` (query, mutation, subscription, unknown), `outcome` (ok, partial, rejected, failed) |
//! | `router_errors_total` | counter | `code` (the `extensions.code` of every error returned) |
//! | `router_subgraph_request_duration_seconds` | histogram | `subgraph` |
//! | `router_in_flight_requests` | gauge | |
//! | `router_dedup_hits_total` | counter | `level` (operation: a whole request joined an identical one in flight; fetch: a subgraph fetch did) |
//! | `router_supergraph_reloads_total` | counter | `result` (ok, failed) |
//!
//! Error codes come from subgraphs too, so a label value that does not look like a code
//! (upper-case letters and underscores) is counted as `OTHER` to keep cardinality bounded.

use std::sync::atomic::AtomicU64;

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

/// The outcome of one client request, for `router_requests_total`.
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub enum Outcome {
    /// Data and no errors.
    Ok,
    /// Executed, but with errors (partial or no data).
    Partial,
    /// Refused at the edge or by validation; no subgraph was called.
    Rejected,
    /// The router failed (for example no supergraph loaded).
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Partial => "partial",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    kind: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SubgraphLabels {
    subgraph: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DedupLabels {
    level: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    result: &'static str,
}

fn latency_histogram() -> Histogram {
    // 1 ms .. ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The router's metric handles; the registry they are registered in is served by
/// `platform::health` at `/metrics`.
pub struct Metrics {
    requests: Family<RequestLabels, Counter>,
    errors: Family<CodeLabels, Counter>,
    subgraph_latency: Family<SubgraphLabels, Histogram, fn() -> Histogram>,
    in_flight: Gauge<i64, std::sync::atomic::AtomicI64>,
    dedup_hits: Family<DedupLabels, Counter<u64, AtomicU64>>,
    reloads: Family<ReloadLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Creates the metrics and registers them in `registry` (which should carry the
    /// `router` prefix, see [`Metrics::registry`]).
    pub fn register(registry: &mut Registry) -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let errors = Family::<CodeLabels, Counter>::default();
        let subgraph_latency =
            Family::<SubgraphLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram as fn() -> Histogram,
            );
        let in_flight = Gauge::default();
        let dedup_hits = Family::<DedupLabels, Counter<u64, AtomicU64>>::default();
        let reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "requests",
            "Client GraphQL requests by operation kind and outcome",
            requests.clone(),
        );
        registry.register(
            "errors",
            "GraphQL errors returned to clients, by extensions.code",
            errors.clone(),
        );
        registry.register(
            "subgraph_request_duration_seconds",
            "Latency of subgraph HTTP requests",
            subgraph_latency.clone(),
        );
        registry.register(
            "in_flight_requests",
            "Client requests being processed",
            in_flight.clone(),
        );
        registry.register(
            "dedup_hits",
            "Subgraph fetches served by an identical in-flight fetch",
            dedup_hits.clone(),
        );
        registry.register(
            "supergraph_reloads",
            "Supergraph hot reload attempts",
            reloads.clone(),
        );
        Self {
            requests,
            errors,
            subgraph_latency,
            in_flight,
            dedup_hits,
            reloads,
        }
    }

    pub fn request(&self, kind: &'static str, outcome: Outcome) {
        self.requests
            .get_or_create(&RequestLabels {
                kind,
                outcome: outcome.as_str(),
            })
            .inc();
    }

    pub fn error(&self, code: &str) {
        let looks_like_code = !code.is_empty()
            && code.len() <= 48
            && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
        let code = if looks_like_code { code } else { "OTHER" };
        self.errors
            .get_or_create(&CodeLabels {
                code: code.to_owned(),
            })
            .inc();
    }

    pub fn subgraph_latency(&self, subgraph: &str, seconds: f64) {
        self.subgraph_latency
            .get_or_create(&SubgraphLabels {
                subgraph: subgraph.to_owned(),
            })
            .observe(seconds);
    }

    /// Records deduplication: `operation` when the whole request shared an identical
    /// in-flight execution, `fetches` subgraph fetches that shared one.
    pub fn dedup_hits(&self, operation: bool, fetches: u64) {
        if operation {
            self.dedup_hits
                .get_or_create(&DedupLabels { level: "operation" })
                .inc();
        }
        if fetches > 0 {
            self.dedup_hits
                .get_or_create(&DedupLabels { level: "fetch" })
                .inc_by(fetches);
        }
    }

    pub fn reload(&self, ok: bool) {
        let result = if ok { "ok" } else { "failed" };
        self.reloads.get_or_create(&ReloadLabels { result }).inc();
    }

    /// Counts a request as in flight until the guard is dropped.
    pub fn in_flight(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// An empty registry with the `router_` prefix.
    pub fn registry() -> Registry {
        Registry::with_prefix("router")
    }
}

/// Decrements the in-flight gauge when dropped, also on early returns and panics.
#[derive(Debug)]
pub struct InFlight(Gauge<i64, std::sync::atomic::AtomicI64>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(registry: &Registry) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, registry).unwrap();
        out
    }

    #[test]
    fn renders_recorded_values() {
        let mut registry = Metrics::registry();
        let metrics = Metrics::register(&mut registry);
        metrics.request("query", Outcome::Ok);
        metrics.error("MAX_DEPTH_EXCEEDED");
        metrics.error("weird code!");
        metrics.subgraph_latency("products", 0.003);
        metrics.dedup_hits(true, 2);
        let guard = metrics.in_flight();
        let text = render(&registry);
        assert!(
            text.contains(r#"router_requests_total{kind="query",outcome="ok"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"router_errors_total{code="MAX_DEPTH_EXCEEDED"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"router_errors_total{code="OTHER"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"router_subgraph_request_duration_seconds_count{subgraph="products"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"router_dedup_hits_total{level="fetch"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"router_dedup_hits_total{level="operation"} 1"#),
            "{text}"
        );
        assert!(text.contains("router_in_flight_requests 1"), "{text}");
        drop(guard);
        assert!(render(&registry).contains("router_in_flight_requests 0"));
    }
}
