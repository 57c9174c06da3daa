//! The router's executor answers the benchmark's queries exactly as the catalogue's rules say,
//! byte for byte: over HTTP against the subgraphs, and from replayed recordings (the path the
//! in-process benchmark measures). Every optimisation of the executor must keep these green.

use std::sync::Arc;

use federated_bench::recorded::Replay;
use federated_bench::{answer, executor_with, expected, queries, record, start_subgraphs};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_answers_are_byte_identical_to_the_expected_ones() {
    // The supergraph carries the subgraphs' URLs: the executor's own HTTP client is used.
    let (_served, sdl) = start_subgraphs().await.expect("subgraphs");
    let config = executor::ExecutorConfig {
        deduplicate_operations: false,
        deduplicate_fetches: false,
        ..Default::default()
    };
    let executor = executor::Executor::new(&sdl, config).expect("executor");
    let deep = answer(&executor, queries::DEEP).await.expect("deep");
    assert_eq!(String::from_utf8(deep).expect("utf-8"), expected::deep());
    let pass = answer(&executor, queries::PASS_THROUGH)
        .await
        .expect("pass-through");
    assert_eq!(
        String::from_utf8(pass).expect("utf-8"),
        expected::pass_through()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_answers_match_and_the_deep_query_takes_seven_fetches() {
    let (sdl, answers) = record().await.expect("recording");
    // Seven for the deep query, one for the pass-through query.
    assert_eq!(
        answers.len(),
        8,
        "recorded requests: {:?}",
        answers.keys().map(|(s, _)| s).collect::<Vec<_>>()
    );
    let executor = executor_with(&sdl, Arc::new(Replay(answers))).expect("executor");
    for _ in 0..2 {
        let deep = answer(&executor, queries::DEEP).await.expect("deep");
        assert_eq!(String::from_utf8(deep).expect("utf-8"), expected::deep());
    }
}

#[tokio::test]
async fn an_unrecorded_request_fails_instead_of_answering() {
    let (sdl, _) = record().await.expect("recording");
    let executor = executor_with(&sdl, Arc::new(Replay(Default::default()))).expect("executor");
    let body = answer(&executor, queries::PASS_THROUGH)
        .await
        .expect("runs");
    let text = String::from_utf8(body).expect("utf-8");
    assert!(text.contains("SUBGRAPH_REQUEST_FAILED"), "{text}");
}

/// Counts the requests the executor sends and keeps their bodies.
struct Counting(Replay, std::sync::Mutex<Vec<bytes::Bytes>>);

impl executor::SubgraphTransport for Counting {
    fn post(
        &self,
        subgraph: &str,
        body: bytes::Bytes,
    ) -> futures::future::BoxFuture<'static, Result<bytes::Bytes, String>> {
        self.1
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(body.clone());
        self.0.post(subgraph, body)
    }
}

#[tokio::test]
async fn the_deep_query_sends_seven_requests_without_repeated_representations() {
    let (sdl, answers) = record().await.expect("recording");
    let transport = Arc::new(Counting(Replay(answers), Default::default()));
    let executor = executor_with(&sdl, transport.clone()).expect("executor");
    let deep = answer(&executor, queries::DEEP).await.expect("deep");
    assert_eq!(String::from_utf8(deep).expect("utf-8"), expected::deep());
    let bodies = transport.1.lock().expect("not poisoned").clone();
    assert_eq!(bodies.len(), 7, "one request per planned fetch");
    for body in bodies {
        let request: serde_json::Value = serde_json::from_slice(&body).expect("JSON body");
        let variables = request["variables"].as_object().expect("variables");
        for (name, list) in variables {
            let Some(list) = list.as_array() else {
                continue;
            };
            for (i, representation) in list.iter().enumerate() {
                assert!(
                    !list[..i].contains(representation),
                    "{representation} sent twice in ${name}"
                );
            }
        }
    }
}
