//! OpenTelemetry export of the router over real HTTP: a fake OTLP/HTTP collector records what
//! the router exports, and a test subgraph echoes the `traceparent` it receives, so the test
//! checks that both sides of the hop belong to the client's trace.
//!
//! The tracer is process-global; nextest runs each test in its own process.

#[path = "router/common/mod.rs"]
mod support;

use platform::{
    telemetry::{OtlpSettings, TelemetryGuard},
    testing::FakeCollector,
};
use serde_json::json;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN_ID: &str = "00f067aa0ba902b7";

fn install_tracer(collector: &FakeCollector) -> TelemetryGuard {
    let settings = OtlpSettings::new(&collector.url, 1.0).unwrap();
    let guard = platform::telemetry::init_with("router", Some(&settings)).unwrap();
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
    let collector = FakeCollector::start().await;
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
    assert_eq!(reply.status, http::StatusCode::OK, "{}", reply.text);
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
    let collector = FakeCollector::start().await;
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
