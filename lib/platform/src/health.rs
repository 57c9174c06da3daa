//! The HTTP serving shell of the router and every service: liveness, readiness and metrics
//! endpoints, serving a router with graceful shutdown, and the shutdown signal.
//!
//! `GET /health` answers as long as the process serves HTTP; `GET /ready` asks each
//! [`ReadinessCheck`] (the router's supergraph, a service's database and bus, ...) and
//! answers 503 naming the failing ones, so an orchestrator stops routing to a replica that
//! lost what it depends on. `GET /metrics` renders the service's Prometheus registry on a
//! listener of its own ([`serve_metrics`], bound to `<SERVICE>_METRICS_ADDR`), so metrics
//! stay on the internal network whatever is published.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use async_trait::async_trait;
use axum::{Json, Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
use prometheus_client::registry::Registry;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// One dependency whose health decides readiness.
#[async_trait]
pub trait ReadinessCheck: Send + Sync {
    fn name(&self) -> &str;
    async fn check(&self) -> Result<(), String>;
}

#[derive(Clone)]
struct Probes {
    checks: Arc<Vec<Arc<dyn ReadinessCheck>>>,
}

/// `/health` and `/ready`, to be merged into a service's router. `/metrics` is not among
/// them: it is served by [`serve_metrics`] on the internal listener.
pub fn routes(checks: Vec<Arc<dyn ReadinessCheck>>) -> Router {
    Router::new()
        .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/ready", get(ready))
        .with_state(Probes {
            checks: Arc::new(checks),
        })
}

/// `GET /metrics` alone, for the internal listener.
pub fn metrics_routes(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(registry)
}

/// Serves `/metrics` on `addr` until `shutdown`; `None` serves nothing (metrics off).
pub async fn serve_metrics(
    addr: Option<SocketAddr>,
    registry: Arc<Registry>,
    shutdown: CancellationToken,
) -> std::io::Result<Option<RunningServer>> {
    match addr {
        None => Ok(None),
        Some(addr) => {
            let server = serve(addr, metrics_routes(registry), shutdown).await?;
            tracing::info!(addr = %server.addr, "metrics listening");
            Ok(Some(server))
        }
    }
}

async fn ready(State(p): State<Probes>) -> impl IntoResponse {
    let results = futures::future::join_all(p.checks.iter().map(|c| async move {
        let outcome = tokio::time::timeout(Duration::from_secs(2), c.check())
            .await
            .unwrap_or(Err("timeout".into()));
        (c.name().to_owned(), outcome)
    }))
    .await;
    let ok = results.iter().all(|(_, r)| r.is_ok());
    let detail: serde_json::Map<String, serde_json::Value> = results
        .into_iter()
        .map(|(name, r)| (name, json!(r.err().unwrap_or_else(|| "ok".into()))))
        .collect();
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({ "status": if ok { "ready" } else { "not ready" }, "checks": detail })),
    )
}

async fn metrics(State(registry): State<Arc<Registry>>) -> impl IntoResponse {
    let mut body = String::new();
    match prometheus_client::encoding::text::encode(&mut body, &registry) {
        Ok(()) => (
            StatusCode::OK,
            [(
                axum::http::header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            body,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// A service listening on a port, stopped by cancelling `shutdown`.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub shutdown: CancellationToken,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }
}

/// Binds `addr` (port 0 picks a free port) and serves `router` until `shutdown`.
pub async fn serve(
    addr: SocketAddr,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let token = shutdown.clone();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { token.cancelled().await })
        .await
    });
    Ok(RunningServer {
        addr,
        shutdown,
        task,
    })
}

/// Resolves on Ctrl-C or SIGTERM, for binaries.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// A counter kept elsewhere (a connection's statement count, a driver's command count),
/// read when `/metrics` is scraped. Register it with `Registry::register_collector`.
pub struct ReadCounter {
    name: &'static str,
    help: &'static str,
    read: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl ReadCounter {
    /// `name` without the `_total` suffix, which the encoder adds.
    pub fn new(
        name: &'static str,
        help: &'static str,
        read: impl Fn() -> u64 + Send + Sync + 'static,
    ) -> Self {
        Self {
            name,
            help,
            read: Box::new(read),
        }
    }
}

impl std::fmt::Debug for ReadCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCounter")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl prometheus_client::collector::Collector for ReadCounter {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::DescriptorEncoder,
    ) -> Result<(), std::fmt::Error> {
        use prometheus_client::encoding::EncodeMetric as _;
        let counter = prometheus_client::metrics::counter::ConstCounter::new((self.read)());
        let metric =
            encoder.encode_descriptor(self.name, self.help, None, counter.metric_type())?;
        counter.encode(metric)
    }
}
