//! Tracing set-up shared by every binary: human-readable lines by default, JSON lines when
//! `LOG_FORMAT=json` (for log shippers), filtered by `RUST_LOG` (default `info`).
//!
//! Spans are also exported over OTLP/HTTP (protobuf) when the standard OpenTelemetry variables
//! ask for it:
//!
//! * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: the full traces URL, used as is; otherwise
//!   `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/traces` appended. Neither set: no export.
//! * `OTEL_SERVICE_NAME`: the `service.name` resource; defaults to the name the binary passes.
//! * `OTEL_TRACES_SAMPLER_ARG`: the ratio of new traces kept, in `[0, 1]` (default `1.0`).
//!   Sampling is parent-based: a request whose caller already decided follows that decision.
//!
//! Export runs on the SDK's batch thread; the HTTP requests go through our own reqwest client
//! on a small dedicated thread (`ExportTransport`), so exporting never needs (or blocks) the
//! service's Tokio runtime. Trace context travels between services as W3C `traceparent`: the
//! propagator is installed globally, [`trace_request`] makes an incoming `traceparent` the
//! parent of a subgraph's request span, and [`inject`] writes a span's context into outgoing
//! headers. The same `RUST_LOG` filter decides which spans exist, so exported spans are the
//! `info`-level ones by default; the SDK's own warnings (such as a failed export) appear in
//! the log under the `opentelemetry` targets.

use std::time::Duration;

use axum::{extract::Request, middleware::Next, response::Response};
use bytes::Bytes;
use http::HeaderMap;
use opentelemetry::{
    global,
    trace::{TraceContextExt as _, TracerProvider as _},
};
use opentelemetry_http::{HeaderExtractor, HeaderInjector, HttpClient, HttpError};
use opentelemetry_otlp::{Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::{
    Resource,
    propagation::TraceContextPropagator,
    trace::{Sampler, SdkTracerProvider},
};
use tokio::sync::{mpsc, oneshot};
use tracing::{Instrument as _, Span};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{ConfigError, Env};

/// The full OTLP traces URL.
pub const TRACES_ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// The collector's base URL; `/v1/traces` is appended.
pub const ENDPOINT_VAR: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
pub const SERVICE_NAME_VAR: &str = "OTEL_SERVICE_NAME";
pub const SAMPLER_ARG_VAR: &str = "OTEL_TRACES_SAMPLER_ARG";

/// How long one export request may take before it is abandoned.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why tracing could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("invalid OpenTelemetry configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("cannot set up the OTLP exporter: {0}")]
    Exporter(String),
    #[error("cannot flush or shut down span export: {0}")]
    Export(String),
}

/// Where and how spans are exported.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpSettings {
    /// The full traces URL (`.../v1/traces`), `http` or `https`.
    pub endpoint: String,
    /// The share of new traces kept, in `[0, 1]`.
    pub sampler_ratio: f64,
    /// Overrides the service name the binary passes to [`init`].
    pub service_name: Option<String>,
}

impl OtlpSettings {
    /// Validated settings for `endpoint` (the full traces URL) and `sampler_ratio`.
    pub fn new(endpoint: &str, sampler_ratio: f64) -> Result<Self, TelemetryError> {
        Ok(Self {
            endpoint: checked_endpoint(TRACES_ENDPOINT_VAR, endpoint)?,
            sampler_ratio: checked_ratio(SAMPLER_ARG_VAR, sampler_ratio)?,
            service_name: None,
        })
    }

    /// Reads the standard variables; `None` when no endpoint is set (export off).
    pub fn from_env(env: &Env) -> Result<Option<Self>, TelemetryError> {
        let endpoint = match (env.get(TRACES_ENDPOINT_VAR), env.get(ENDPOINT_VAR)) {
            (Some(traces), _) => checked_endpoint(TRACES_ENDPOINT_VAR, &traces)?,
            (None, Some(base)) => {
                let base = checked_endpoint(ENDPOINT_VAR, &base)?;
                format!("{}/v1/traces", base.trim_end_matches('/'))
            }
            (None, None) => return Ok(None),
        };
        let sampler_ratio = match env.get(SAMPLER_ARG_VAR) {
            None => 1.0,
            Some(raw) => {
                let ratio = raw
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| ConfigError::Invalid {
                        name: SAMPLER_ARG_VAR.to_owned(),
                        reason: format!("`{raw}` is not a number between 0 and 1"),
                    })?;
                checked_ratio(SAMPLER_ARG_VAR, ratio)?
            }
        };
        Ok(Some(Self {
            endpoint,
            sampler_ratio,
            service_name: env.get(SERVICE_NAME_VAR).map(|s| s.trim().to_owned()),
        }))
    }
}

fn checked_endpoint(var: &str, raw: &str) -> Result<String, ConfigError> {
    let raw = raw.trim();
    let invalid = |reason: String| ConfigError::Invalid {
        name: var.to_owned(),
        reason,
    };
    let url = reqwest::Url::parse(raw).map_err(|e| {
        invalid(format!(
            "`{raw}` is not a URL ({e}); expected e.g. http://collector:4318"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(format!(
            "`{raw}` is not an http(s) URL with a host"
        )));
    }
    Ok(raw.to_owned())
}

fn checked_ratio(var: &str, ratio: f64) -> Result<f64, ConfigError> {
    if (0.0..=1.0).contains(&ratio) {
        Ok(ratio)
    } else {
        Err(ConfigError::Invalid {
            name: var.to_owned(),
            reason: format!("{ratio} is outside [0, 1]"),
        })
    }
}

/// Keeps span export running; dropping it flushes pending spans and shuts the exporter down,
/// so binaries hold it until they exit.
#[must_use = "dropping the guard stops span export"]
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Whether this call installed an OTLP exporter.
    pub fn is_exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Exports every finished span now. Blocks until the collector answered (or timed out), so
    /// async callers should use `spawn_blocking` or `block_in_place`.
    pub fn force_flush(&self) -> Result<(), TelemetryError> {
        match &self.provider {
            Some(provider) => provider
                .force_flush()
                .map_err(|e| TelemetryError::Export(e.to_string())),
            None => Ok(()),
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            // Shutdown flushes the batch first. It blocks for at most the SDK's shutdown
            // timeout, and exports run on their own thread, so this cannot deadlock a runtime.
            if let Err(error) = provider.shutdown() {
                eprintln!("span export did not shut down cleanly: {error}");
            }
        }
    }
}

/// Installs the global subscriber once, with OTLP export when the environment asks for it
/// (see the module doc). Later calls (e.g. from tests) install nothing and return a guard
/// that does not export; invalid OpenTelemetry variables are an error.
pub fn init(service: &str) -> Result<TelemetryGuard, TelemetryError> {
    let otlp = OtlpSettings::from_env(&Env::process())?;
    init_with(service, otlp.as_ref())
}

/// [`init`] with explicit export settings (`None`: logs only) instead of the environment.
pub fn init_with(
    service: &str,
    otlp: Option<&OtlpSettings>,
) -> Result<TelemetryGuard, TelemetryError> {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,opentelemetry=warn"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let provider = otlp
        .map(|settings| build_provider(service, settings))
        .transpose()?;
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer(service.to_owned())));
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let installed = if json {
        registry
            .with(fmt::layer().json().with_current_span(false))
            .try_init()
    } else {
        registry.with(fmt::layer().compact()).try_init()
    };
    match (installed, provider) {
        (Ok(()), provider) => {
            if let Some(provider) = &provider {
                global::set_tracer_provider(provider.clone());
            }
            tracing::debug!(
                service,
                exporting = provider.is_some(),
                "tracing initialised"
            );
            Ok(TelemetryGuard { provider })
        }
        (Err(_), provider) => {
            // Another subscriber is already in place: this provider would never see a span.
            if let Some(provider) = provider {
                let _ = provider.shutdown();
            }
            Ok(TelemetryGuard { provider: None })
        }
    }
}

fn build_provider(
    service: &str,
    settings: &OtlpSettings,
) -> Result<SdkTracerProvider, TelemetryError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(settings.endpoint.clone())
        .with_timeout(EXPORT_TIMEOUT)
        .with_http_client(ExportTransport::start(EXPORT_TIMEOUT)?)
        .build()
        .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
    let service_name = settings
        .service_name
        .clone()
        .unwrap_or_else(|| service.to_owned());
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            settings.sampler_ratio,
        ))))
        .with_resource(
            Resource::builder_empty()
                .with_service_name(service_name)
                .build(),
        )
        .build())
}

/// One export request and where its answer goes.
type Job = (
    http::Request<Bytes>,
    oneshot::Sender<Result<http::Response<Bytes>, HttpError>>,
);

/// The exporter's HTTP client. The SDK exports from its own thread with a plain executor, where
/// Tokio-based clients cannot run; this sends each request to a dedicated thread that drives
/// our reqwest client on its own single-threaded runtime (as `reqwest::blocking` does).
#[derive(Debug)]
struct ExportTransport {
    jobs: mpsc::UnboundedSender<Job>,
}

impl ExportTransport {
    fn start(timeout: Duration) -> Result<Self, TelemetryError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| TelemetryError::Exporter(e.to_string()))?;
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        std::thread::Builder::new()
            .name("otlp-export".to_owned())
            .spawn(move || {
                // Ends when the exporter (the only sender) is dropped.
                runtime.block_on(async move {
                    while let Some((request, reply)) = queue.recv().await {
                        let _ = reply.send(send(&client, request).await);
                    }
                });
            })
            .map_err(|e| {
                TelemetryError::Exporter(format!("cannot start the export thread: {e}"))
            })?;
        Ok(Self { jobs })
    }
}

async fn send(
    client: &reqwest::Client,
    request: http::Request<Bytes>,
) -> Result<http::Response<Bytes>, HttpError> {
    let response = client.execute(reqwest::Request::try_from(request)?).await?;
    let mut out = http::Response::builder().status(response.status());
    if let Some(headers) = out.headers_mut() {
        headers.extend(
            response
                .headers()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
    }
    Ok(out.body(response.bytes().await?)?)
}

#[async_trait::async_trait]
impl HttpClient for ExportTransport {
    async fn send_bytes(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, HttpError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send((request, reply))
            .map_err(|_| "the OTLP export thread has stopped")?;
        answer
            .await
            .map_err(|_| "the OTLP export thread dropped the request")?
    }
}

/// Makes the W3C trace context in `headers`, when valid, the parent of `span` (which must not
/// have been entered yet). Returns whether it did; without an OpenTelemetry layer it never does.
pub fn set_remote_parent(span: &Span, headers: &HeaderMap) -> bool {
    let parent = global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)));
    if !parent.span().span_context().is_valid() {
        return false;
    }
    span.set_parent(parent).is_ok()
}

/// The 32-hex-digit trace id of `span` when an OpenTelemetry tracer records it.
pub fn trace_id(span: &Span) -> Option<String> {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

/// Writes `span`'s trace context (`traceparent`, and `tracestate` when there is one) into
/// `headers`. Returns false, leaving `headers` alone, when no OpenTelemetry tracer records it.
pub fn inject(span: &Span, headers: &mut HeaderMap) -> bool {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return false;
    }
    global::get_text_map_propagator(|p| p.inject_context(&context, &mut HeaderInjector(headers)));
    true
}

/// Axum middleware: runs the request in an `http.request` span whose parent is the caller's
/// `traceparent`, so a subgraph's spans join the router's trace.
pub async fn trace_request(request: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "http.request",
        otel.kind = "server",
        http.request.method = %request.method(),
        url.path = %request.uri().path(),
        http.response.status_code = tracing::field::Empty,
    );
    set_remote_parent(&span, request.headers());
    let response = next.run(request).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Option<OtlpSettings>, TelemetryError> {
        OtlpSettings::from_env(&Env::from_pairs(pairs.iter().copied()))
    }

    fn invalid_var(result: Result<Option<OtlpSettings>, TelemetryError>) -> String {
        match result {
            Err(TelemetryError::Config(ConfigError::Invalid { name, .. })) => name,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn a_second_init_installs_nothing_and_does_not_fail() {
        let _first = init_with("first", None).unwrap();
        let settings = OtlpSettings::new("http://127.0.0.1:9/v1/traces", 1.0).unwrap();
        let second = init_with("second", Some(&settings)).unwrap();
        assert!(
            !second.is_exporting(),
            "the first subscriber stays; nothing would reach this exporter"
        );
        second.force_flush().unwrap();
    }

    #[test]
    fn export_is_off_without_an_endpoint() {
        assert_eq!(settings(&[(SAMPLER_ARG_VAR, "0.5")]).unwrap(), None);
    }

    #[test]
    fn base_endpoint_gets_the_traces_path_and_the_signal_endpoint_is_kept() {
        let s = settings(&[(ENDPOINT_VAR, "http://collector:4318/")])
            .unwrap()
            .unwrap();
        assert_eq!(s.endpoint, "http://collector:4318/v1/traces");
        assert_eq!(s.sampler_ratio, 1.0);
        assert_eq!(s.service_name, None);
        let s = settings(&[
            (ENDPOINT_VAR, "http://ignored:4318"),
            (TRACES_ENDPOINT_VAR, "https://collector/custom"),
            (SAMPLER_ARG_VAR, "0.25"),
            (SERVICE_NAME_VAR, "shop-router"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(s.endpoint, "https://collector/custom");
        assert_eq!(s.sampler_ratio, 0.25);
        assert_eq!(s.service_name.as_deref(), Some("shop-router"));
    }

    #[test]
    fn invalid_endpoints_and_ratios_are_refused() {
        assert_eq!(
            invalid_var(settings(&[(ENDPOINT_VAR, "collector:4318")])),
            ENDPOINT_VAR
        );
        assert_eq!(
            invalid_var(settings(&[(ENDPOINT_VAR, "ftp://collector")])),
            ENDPOINT_VAR
        );
        assert_eq!(
            invalid_var(settings(&[(TRACES_ENDPOINT_VAR, "not a url")])),
            TRACES_ENDPOINT_VAR
        );
        for ratio in ["1.5", "-0.1", "NaN", "half"] {
            let result = settings(&[
                (ENDPOINT_VAR, "http://collector:4318"),
                (SAMPLER_ARG_VAR, ratio),
            ]);
            assert_eq!(invalid_var(result), SAMPLER_ARG_VAR, "{ratio}");
        }
        assert!(OtlpSettings::new("http://collector:4318/v1/traces", 2.0).is_err());
        let message = settings(&[(ENDPOINT_VAR, "http://c:4318"), (SAMPLER_ARG_VAR, "1.5")])
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(SAMPLER_ARG_VAR) && message.contains("outside [0, 1]"),
            "{message}"
        );
    }
}
