//! A subgraph's request span over real HTTP: a request carrying a W3C `traceparent` to an app
//! built by `kit::graphql::routes` produces a span in the caller's trace, exported to a fake
//! OTLP/HTTP collector.
//!
//! The tracer is process-global; nextest runs each test in its own process.

use std::net::SocketAddr;

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
use kit::{
    telemetry::{OtlpSettings, TelemetryGuard},
    testing::{FakeCollector, TestKeys},
};
use tokio_util::sync::CancellationToken;

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const CALLER_SPAN_ID: &str = "b7ad6b7169203331";

struct Query;

#[Object]
impl Query {
    async fn ping(&self) -> &str {
        "pong"
    }
}

fn install_tracer(collector: &FakeCollector) -> TelemetryGuard {
    let settings = OtlpSettings::new(&collector.url, 1.0).unwrap();
    let guard = kit::telemetry::init_with("products", Some(&settings)).unwrap();
    assert!(
        guard.is_exporting(),
        "another subscriber was installed first; run with nextest"
    );
    guard
}

async fn query(url: &str, traceparent: Option<&str>) -> serde_json::Value {
    let mut request = reqwest::Client::new()
        .post(url)
        .json(&serde_json::json!({"query": "{ ping }"}));
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_span_continues_the_callers_trace_and_is_exported() {
    let collector = FakeCollector::start().await;
    let telemetry = install_tracer(&collector);
    let schema = Schema::build(Query, EmptyMutation, EmptySubscription).finish();
    let app = kit::graphql::routes(schema, TestKeys::new().verifier.clone());
    let server = kit::health::serve(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        app,
        CancellationToken::new(),
    )
    .await
    .unwrap();
    let url = format!("http://{}/graphql", server.addr);

    let traceparent = format!("00-{TRACE_ID}-{CALLER_SPAN_ID}-01");
    assert_eq!(
        query(&url, Some(&traceparent)).await,
        serde_json::json!({"data": {"ping": "pong"}})
    );
    // A second request without trace context starts a trace of its own.
    query(&url, None).await;

    tokio::task::block_in_place(|| telemetry.force_flush()).unwrap();
    let spans = collector
        .wait_for("both request spans", |spans| {
            let requests: Vec<_> = spans
                .iter()
                .filter(|s| s.name == "http.request")
                .cloned()
                .collect();
            (requests.len() >= 2).then_some(requests)
        })
        .await;
    let joined = spans
        .iter()
        .find(|s| s.trace_id == TRACE_ID)
        .expect("a span in the caller's trace");
    assert_eq!(joined.service, "products");
    assert_eq!(joined.parent_span_id, CALLER_SPAN_ID);
    assert!(
        joined.span_id.len() == 16 && joined.span_id != CALLER_SPAN_ID,
        "{}",
        joined.span_id
    );
    assert_eq!(joined.attribute("url.path"), Some("/graphql"));
    assert_eq!(joined.attribute("http.response.status_code"), Some("200"));
    let fresh = spans
        .iter()
        .find(|s| s.trace_id != TRACE_ID)
        .expect("the second request's span");
    assert_eq!(fresh.parent_span_id, "", "no caller context: a root span");
    server.stop().await;
}
