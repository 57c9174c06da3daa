//! OpenTelemetry export of the router over real HTTP: a fake OTLP/HTTP collector records what
//! the router exports, and a test subgraph echoes the `traceparent` it receives, so the test
//! checks that both sides of the hop belong to the client's trace.
//!
//! The tracer is process-global; nextest runs each test in its own process.

#[path = "router/common/mod.rs"]
mod support;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, body::Bytes, extract::State, http::StatusCode, routing::post};
use common::telemetry::{OtlpSettings, TelemetryGuard};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;
use serde_json::json;
use tokio_util::sync::CancellationToken;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN_ID: &str = "00f067aa0ba902b7";

/// One exported span, ids in lowercase hex.
#[derive(Debug, Clone)]
struct ExportedSpan {
    service: String,
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    attributes: Vec<(String, String)>,
}

impl ExportedSpan {
    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// `POST /v1/traces` with a protobuf `ExportTraceServiceRequest`, recorded span by span.
struct Collector {
    url: String,
    spans: Arc<Mutex<Vec<ExportedSpan>>>,
    shutdown: CancellationToken,
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Collector {
    async fn start() -> Self {
        let spans = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/v1/traces", post(receive))
            .with_state(spans.clone());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { token.cancelled().await })
                .await
                .unwrap();
        });
        Self {
            url: format!("http://{addr}/v1/traces"),
            spans,
            shutdown,
        }
    }

    fn spans(&self) -> Vec<ExportedSpan> {
        self.spans.lock().unwrap().clone()
    }

    /// Polls until `found` picks something out of the exported spans (20 s at most).
    async fn wait_for<T>(&self, what: &str, found: impl Fn(&[ExportedSpan]) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(value) = found(&self.spans()) {
                return value;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; exported: {:#?}",
                self.spans()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn receive(State(spans): State<Arc<Mutex<Vec<ExportedSpan>>>>, body: Bytes) -> StatusCode {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return StatusCode::BAD_REQUEST;
    };
    let mut recorded = spans.lock().unwrap();
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|kv| kv.key == "service.name")
            .map(|kv| any_value(kv.value.as_ref()))
            .unwrap_or_default();
        for span in resource_spans.scope_spans.into_iter().flat_map(|s| s.spans) {
            recorded.push(ExportedSpan {
                service: service.clone(),
                name: span.name,
                trace_id: hex(&span.trace_id),
                span_id: hex(&span.span_id),
                parent_span_id: hex(&span.parent_span_id),
                attributes: span
                    .attributes
                    .iter()
                    .map(|kv| (kv.key.clone(), any_value(kv.value.as_ref())))
                    .collect(),
            });
        }
    }
    StatusCode::OK
}

fn any_value(value: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    match value.and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn install_tracer(collector: &Collector) -> TelemetryGuard {
    let settings = OtlpSettings::new(&collector.url, 1.0).unwrap();
    let guard = common::telemetry::init_with("router", Some(&settings)).unwrap();
    assert!(
        guard.is_exporting(),
        "another subscriber was installed first; run with nextest"
    );
    guard
}

/// Exports what has finished; the collector runs on another worker of this runtime.
fn flush(guard: &TelemetryGuard) {
    tokio::task::block_in_place(|| guard.force_flush()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_join_the_client_trace_and_the_subgraph_gets_the_fetch_span_context() {
    let collector = Collector::start().await;
    let telemetry = install_tracer(&collector);
    let harness = support::Harness::start().await;

    let client_traceparent = format!("00-{TRACE_ID}-{CLIENT_SPAN_ID}-01");
    let reply = harness
        .post_with(
            json!({"query": "{ tp: requestHeader(name: \"traceparent\") }"}),
            &[
                ("accept", support::GRAPHQL_RESPONSE),
                ("traceparent", client_traceparent.as_str()),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let received = reply.json()["data"]["tp"].as_str().unwrap().to_owned();
    let parts: Vec<&str> = received.split('-').collect();
    assert_eq!(parts.len(), 4, "{received}");
    assert_eq!(
        parts[1], TRACE_ID,
        "the subgraph stays in the client's trace"
    );
    assert_ne!(parts[2], CLIENT_SPAN_ID, "the router is a hop of its own");
    assert_eq!(parts[3], "01", "sampled, as the client decided");
    let subgraph_parent = parts[2].to_owned();

    flush(&telemetry);
    let (request, fetch) = collector
        .wait_for("the router's request and fetch spans", |spans| {
            let request = spans
                .iter()
                .find(|s| s.name == "graphql" && s.trace_id == TRACE_ID)?;
            let fetch = spans
                .iter()
                .find(|s| s.name == "subgraph.fetch" && s.trace_id == TRACE_ID)?;
            Some((request.clone(), fetch.clone()))
        })
        .await;

    assert_eq!(request.service, "router");
    assert_eq!(fetch.service, "router");
    assert_eq!(
        request.parent_span_id, CLIENT_SPAN_ID,
        "the request span continues the client's span"
    );
    assert_eq!(fetch.parent_span_id, request.span_id);
    assert_eq!(fetch.attribute("subgraph"), Some("products"));
    assert_eq!(
        fetch.span_id, subgraph_parent,
        "the subgraph's traceparent names the exported fetch span as its parent"
    );
    assert_eq!(request.attribute("trace_id"), Some(TRACE_ID));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_client_trace_the_router_starts_one_and_still_propagates_it() {
    let collector = Collector::start().await;
    let telemetry = install_tracer(&collector);
    let harness = support::Harness::start().await;

    let reply = harness
        .post(json!({"query": "{ tp: requestHeader(name: \"traceparent\") }"}))
        .await;
    let received = reply.json()["data"]["tp"].as_str().unwrap().to_owned();
    let parts: Vec<&str> = received.split('-').collect();
    assert_eq!(parts.len(), 4, "{received}");
    let (trace_id, parent) = (parts[1].to_owned(), parts[2].to_owned());

    flush(&telemetry);
    let fetch = collector
        .wait_for(
            "the fetch span named by the subgraph's traceparent",
            |spans| {
                spans
                    .iter()
                    .find(|s| s.name == "subgraph.fetch" && s.span_id == parent)
                    .cloned()
            },
        )
        .await;
    assert_eq!(fetch.trace_id, trace_id);
    let request = collector
        .spans()
        .into_iter()
        .find(|s| s.span_id == fetch.parent_span_id)
        .expect("the fetch span's parent is exported");
    assert_eq!(request.name, "graphql");
    assert_eq!(
        request.parent_span_id, "",
        "a new trace starts at the router"
    );
}

/// Runs the router binary (which reads the standard variables at start-up) with `vars` set.
fn start_router_binary(vars: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_router"));
    command.arg("serve");
    for name in [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_TRACES_SAMPLER_ARG",
        "ROUTER_CONFIG",
    ] {
        command.env_remove(name);
    }
    command.envs(vars.iter().copied());
    command.output().expect("the router binary runs")
}

#[test]
fn invalid_export_settings_stop_the_router_at_start_up() {
    let cases = [
        (
            vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")],
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ),
        (
            vec![(
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "ftp://collector/v1/traces",
            )],
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        ),
        (
            vec![
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
                ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
            ],
            "OTEL_TRACES_SAMPLER_ARG",
        ),
    ];
    for (vars, culprit) in cases {
        let output = start_router_binary(&vars);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{vars:?} was accepted");
        assert!(
            stderr.contains("invalid OpenTelemetry configuration") && stderr.contains(culprit),
            "{vars:?}: {stderr}"
        );
    }
}
