//! Subgraph failures keep the rest of the data: located errors with codes, internals masked.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use executor::{SubgraphEvent, SubgraphObserver, SubgraphOutcome};
use serde_json::json;
use support::{Mode, TestGraph, bearer, body};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_entity_subgraph_leaves_the_other_data() {
    let graph = TestGraph::start().await;
    graph.reviews.controls.set_mode(Mode::ServerError);
    let response = graph.run("{ items { id name rating } }", json!({})).await;
    assert_eq!(
        body(&response),
        json!({
            "errors": [{
                "message": "The subgraph `reviews` failed with HTTP status 500.",
                "path": ["items", 0],
                "extensions": {"code": "SUBGRAPH_REQUEST_FAILED", "service": "reviews"},
            }],
            "data": {"items": [
                {"id": "p1", "name": "Table", "rating": null},
                {"id": "b1", "name": "Office set", "rating": null},
                {"id": "p2", "name": "Chair", "rating": null},
            ]},
        })
    );
    let text = String::from_utf8(response.to_bytes()).expect("utf-8");
    assert!(!text.contains("postgres") && !text.contains("db.rs") && !text.contains("127.0.0.1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_root_subgraph_nulls_only_its_fields() {
    let graph = TestGraph::start().await;
    graph.users.controls.set_mode(Mode::ServerError);
    let response = graph
        .run_with_headers(
            r#"{ product(id: "p1") { name } me { name } }"#,
            json!({}),
            bearer("u1"),
        )
        .await;
    assert_eq!(
        body(&response),
        json!({
            "errors": [{
                "message": "The subgraph `users` failed with HTTP status 500.",
                "path": ["me"],
                "extensions": {"code": "SUBGRAPH_REQUEST_FAILED", "service": "users"},
            }],
            "data": {"product": {"name": "Table"}, "me": null},
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_null_field_of_a_failed_fetch_nulls_its_parent_without_extra_errors() {
    let graph = TestGraph::start().await;
    graph.reviews.controls.set_mode(Mode::ServerError);
    // `Product.reviews` is non-null: each product becomes null, and `product` is nullable.
    let response = graph
        .run(
            r#"{ product(id: "p1") { name reviews { body } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        body(&response),
        json!({
            "errors": [{
                "message": "The subgraph `reviews` failed with HTTP status 500.",
                "path": ["product"],
                "extensions": {"code": "SUBGRAPH_REQUEST_FAILED", "service": "reviews"},
            }],
            "data": {"product": null},
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_subgraph_times_out_with_partial_data() {
    let graph = TestGraph::start_with(|config| {
        config
            .subgraph_timeouts
            .insert("users".to_owned(), Duration::from_millis(100));
    })
    .await;
    graph.users.controls.set_delay(Duration::from_secs(5));
    let response = graph
        .run_with_headers(
            r#"{ product(id: "p2") { name } me { name } }"#,
            json!({}),
            bearer("u1"),
        )
        .await;
    assert_eq!(
        body(&response),
        json!({
            "errors": [{
                "message": "The subgraph `users` did not answer in time.",
                "path": ["me"],
                "extensions": {"code": "SUBGRAPH_TIMEOUT", "service": "users"},
            }],
            "data": {"product": {"name": "Chair"}, "me": null},
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_subgraph_body_is_reported_without_its_content() {
    let graph = TestGraph::start().await;
    graph.users.controls.set_mode(Mode::Garbage);
    let response = graph
        .run_with_headers("{ me { name } }", json!({}), bearer("u1"))
        .await;
    assert_eq!(
        body(&response),
        json!({
            "errors": [{
                "message": "The subgraph `users` sent an invalid response.",
                "path": ["me"],
                "extensions": {"code": "SUBGRAPH_INVALID_RESPONSE", "service": "users"},
            }],
            "data": {"me": null},
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subgraph_graphql_errors_keep_their_code_and_lose_internals() {
    let graph = TestGraph::start().await;
    let response = graph
        .run(r#"{ user(id: "nobody") { name } users { id } }"#, json!({}))
        .await;
    assert_eq!(
        body(&response),
        json!({
            "errors": [{
                "message": "No user with this id.",
                "path": ["user"],
                "extensions": {"code": "NOT_FOUND"},
            }],
            "data": {"user": null, "users": [{"id": "u1"}, {"id": "u2"}, {"id": "u3"}]},
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_subgraph_is_a_request_failure() {
    // Bind and drop a listener: the port is then (almost certainly) closed.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address")
    };
    let graph = TestGraph::start_with(|config| {
        config
            .subgraph_urls
            .insert("users".to_owned(), format!("http://{closed}/graphql"));
    })
    .await;
    let response = graph
        .run_with_headers("{ me { name } }", json!({}), bearer("u1"))
        .await;
    assert_eq!(
        body(&response),
        json!({
            "errors": [{
                "message": "The subgraph `users` could not be reached.",
                "path": ["me"],
                "extensions": {"code": "SUBGRAPH_REQUEST_FAILED", "service": "users"},
            }],
            "data": {"me": null},
        })
    );
}

#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<(String, SubgraphOutcome)>>,
}

impl SubgraphObserver for Recorder {
    fn on_subgraph_request(&self, event: &SubgraphEvent<'_>) {
        self.events
            .lock()
            .expect("events lock")
            .push((event.subgraph.to_owned(), event.outcome));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_observer_sees_every_subgraph_request_and_its_outcome() {
    let recorder = Arc::new(Recorder::default());
    let observer = recorder.clone();
    let graph = TestGraph::start_with(move |config| config.observer = Some(observer)).await;
    graph.reviews.controls.set_mode(Mode::ServerError);
    let response = graph
        .run(r#"{ items { id rating } user(id: "x") { id } }"#, json!({}))
        .await;
    assert_eq!(response.stats.subgraph_requests, 3);
    let mut events: HashMap<String, SubgraphOutcome> = HashMap::new();
    for (subgraph, outcome) in recorder.events.lock().expect("events lock").iter() {
        assert!(
            events.insert(subgraph.clone(), *outcome).is_none(),
            "one event per request"
        );
    }
    assert_eq!(
        events,
        HashMap::from([
            ("products".to_owned(), SubgraphOutcome::Success),
            ("reviews".to_owned(), SubgraphOutcome::HttpStatus(500)),
            ("users".to_owned(), SubgraphOutcome::GraphQLErrors),
        ])
    );
}
