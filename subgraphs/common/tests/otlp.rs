//! A subgraph's request span over real HTTP: a request carrying a W3C `traceparent` to an app
//! built by `common::graphql::routes` produces a span in the caller's trace, exported to a fake
//! OTLP/HTTP collector.
//!
//! The tracer is process-global; nextest runs each test in its own process.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
use axum::{Router, body::Bytes, extract::State, http::StatusCode, routing::post};
use common::{
    telemetry::{OtlpSettings, TelemetryGuard},
    testing::TestKeys,
};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;
use tokio_util::sync::CancellationToken;

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const CALLER_SPAN_ID: &str = "b7ad6b7169203331";

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
        for span in resource_spans
            .scope_spans
            .into_iter()
            .flat_map(|s| s.spans)
        {
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

struct Query;

#[Object]
impl Query {
    async fn ping(&self) -> &str {
        "pong"
    }
}

fn install_tracer(collector: &Collector) -> TelemetryGuard {
    let settings = OtlpSettings::new(&collector.url, 1.0).unwrap();
    let guard = common::telemetry::init_with("products", Some(&settings)).unwrap();
    assert!(guard.is_exporting(), "another subscriber was installed first; run with nextest");
    guard
}

async fn query(url: &str, traceparent: Option<&str>) -> serde_json::Value {
    let mut request = reqwest::Client::new().post(url).json(&serde_json::json!({"query": "{ ping }"}));
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_span_continues_the_callers_trace_and_is_exported() {
    let collector = Collector::start().await;
    let telemetry = install_tracer(&collector);
    let schema = Schema::build(Query, EmptyMutation, EmptySubscription).finish();
    let app = common::graphql::routes(schema, TestKeys::new().verifier.clone());
    let server = common::health::serve(SocketAddr::from(([127, 0, 0, 1], 0)), app, CancellationToken::new()).await.unwrap();
    let url = format!("http://{}/graphql", server.addr);

    let traceparent = format!("00-{TRACE_ID}-{CALLER_SPAN_ID}-01");
    assert_eq!(query(&url, Some(&traceparent)).await, serde_json::json!({"data": {"ping": "pong"}}));
    // A second request without trace context starts a trace of its own.
    query(&url, None).await;

    tokio::task::block_in_place(|| telemetry.force_flush()).unwrap();
    let spans = collector
        .wait_for("both request spans", |spans| {
            let requests: Vec<_> = spans.iter().filter(|s| s.name == "http.request").cloned().collect();
            (requests.len() >= 2).then_some(requests)
        })
        .await;
    let joined = spans.iter().find(|s| s.trace_id == TRACE_ID).expect("a span in the caller's trace");
    assert_eq!(joined.service, "products");
    assert_eq!(joined.parent_span_id, CALLER_SPAN_ID);
    assert!(joined.span_id.len() == 16 && joined.span_id != CALLER_SPAN_ID, "{}", joined.span_id);
    assert_eq!(joined.attribute("url.path"), Some("/graphql"));
    assert_eq!(joined.attribute("http.response.status_code"), Some("200"));
    let fresh = spans.iter().find(|s| s.trace_id != TRACE_ID).expect("the second request's span");
    assert_eq!(fresh.parent_span_id, "", "no caller context: a root span");
    server.stop().await;
}
