//! Batching of entity fetches and in-flight deduplication of operations and subgraph fetches.
//!
//! Concurrent callers run on their own tasks while the subgraph holds its requests; the tests
//! release the subgraph only once every caller is known to be waiting, so overlap never depends
//! on timing.

mod support;

use http::HeaderMap;
use serde_json::{Value, json};
use support::{TestGraph, bearer, body, responses, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_fetches_are_batched_and_representations_deduplicated() {
    let graph = TestGraph::start().await;
    let response = graph
        .run(
            "{ products { id reviews { author { name } } } reviews { author { username } } }",
            json!({}),
        )
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    // Three products, one `_entities` call to reviews; three reviews by two authors, one
    // `_entities` call to users carrying two representations.
    assert_eq!(graph.reviews.received.entity_requests(), 1);
    assert_eq!(graph.users.received.entity_requests(), 1);
    let users_bodies = graph.users.received.bodies();
    assert_eq!(
        users_bodies[0]["variables"]["representations"],
        json!([{"__typename": "User", "id": "u1"}, {"__typename": "User", "id": "u2"}])
    );
    let reviews_entities: Vec<Value> = graph
        .reviews
        .received
        .bodies()
        .into_iter()
        .filter(|b| b["query"].as_str().is_some_and(|q| q.contains("_entities")))
        .map(|b| b["variables"]["representations"].clone())
        .collect();
    assert_eq!(
        reviews_entities,
        [json!([
            {"__typename": "Product", "id": "p1"},
            {"__typename": "Product", "id": "p2"},
            {"__typename": "Product", "id": "p3"},
        ])]
    );
    assert_eq!(response.stats.entity_representations, 5);
    assert_eq!(
        body(&response)["data"]["products"][0],
        json!({"id": "p1", "reviews": [
            {"author": {"name": "Ada Lovelace"}}, {"author": {"name": "Alan Turing"}}
        ]})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_concurrent_queries_share_one_execution() {
    let graph = TestGraph::start().await;
    let query = "{ products { name reviews { body } } }";
    graph.products.controls.hold();
    let tasks: Vec<_> = (0..50)
        .map(|_| graph.spawn(query, json!({}), HeaderMap::new()))
        .collect();
    let executor = graph.executor.clone();
    wait_until("all 50 callers wait on one execution", || {
        executor.in_flight().operation_waiters == 50
    })
    .await;
    assert_eq!(executor.in_flight().operations, 1);
    graph.products.controls.release();
    let responses = responses(tasks).await;

    assert_eq!(graph.products.received.requests(), 1);
    assert_eq!(graph.reviews.received.requests(), 1);
    let expected = json!({"data": {"products": [
        {"name": "Table", "reviews": [{"body": "Sturdy"}, {"body": "Wobbly"}]},
        {"name": "Chair", "reviews": [{"body": "Comfy"}]},
        {"name": "Lamp", "reviews": []},
    ]}});
    for response in &responses {
        assert_eq!(body(response), expected);
    }
    let shared = responses
        .iter()
        .filter(|r| r.stats.shared_execution)
        .count();
    assert_eq!(shared, 49);
    // Once finished, the next identical query runs afresh.
    assert_eq!(executor.in_flight(), executor::InFlightStats::default());
    graph.run(query, json!({})).await;
    assert_eq!(graph.products.received.requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_authorization_never_shares_data() {
    let graph = TestGraph::start().await;
    graph.users.controls.hold();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let token = if i % 2 == 0 { "u1" } else { "u2" };
            graph.spawn("{ me { id name } }", json!({}), bearer(token))
        })
        .collect();
    let executor = graph.executor.clone();
    wait_until("both identities' callers are waiting", || {
        executor.in_flight().operation_waiters == 50
    })
    .await;
    assert_eq!(executor.in_flight().operations, 2);
    graph.users.controls.release();
    let responses = responses(tasks).await;

    assert_eq!(graph.users.received.requests(), 2);
    for (i, response) in responses.iter().enumerate() {
        let expected = if i % 2 == 0 {
            json!({"data": {"me": {"id": "u1", "name": "Ada Lovelace"}}})
        } else {
            json!({"data": {"me": {"id": "u2", "name": "Alan Turing"}}})
        };
        assert_eq!(body(response), expected, "caller {i}");
    }
    let mut seen = graph
        .users
        .received
        .authorizations
        .lock()
        .expect("authorizations lock")
        .clone();
    seen.sort();
    assert_eq!(
        seen,
        [Some("Bearer u1".to_owned()), Some("Bearer u2".to_owned())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_variables_are_different_operations() {
    let graph = TestGraph::start().await;
    graph.products.controls.hold();
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let id = if i < 5 { "p1" } else { "p2" };
            graph.spawn(
                "query($id: ID!) { product(id: $id) { name } }",
                json!({"id": id}),
                HeaderMap::new(),
            )
        })
        .collect();
    let executor = graph.executor.clone();
    wait_until("all callers are waiting", || {
        executor.in_flight().operation_waiters == 10
    })
    .await;
    graph.products.controls.release();
    let responses = responses(tasks).await;
    assert_eq!(graph.products.received.requests(), 2);
    assert_eq!(body(&responses[0])["data"]["product"]["name"], "Table");
    assert_eq!(body(&responses[9])["data"]["product"]["name"], "Chair");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_subgraph_fetches_share_one_request() {
    // Two different operations whose plans send the same fetch to products.
    let graph = TestGraph::start_with(|config| config.deduplicate_operations = false).await;
    graph.products.controls.hold();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let query = if i % 2 == 0 {
                "{ products { name } }"
            } else {
                "query Named { products { name } }"
            };
            graph.spawn(query, json!({}), HeaderMap::new())
        })
        .collect();
    let executor = graph.executor.clone();
    wait_until("all executions wait on one fetch", || {
        executor.in_flight().fetch_waiters == 20
    })
    .await;
    assert_eq!(executor.in_flight().fetches, 1);
    graph.products.controls.release();
    let responses = responses(tasks).await;

    assert_eq!(graph.products.received.requests(), 1);
    let deduplicated: u32 = responses.iter().map(|r| r.stats.deduplicated_fetches).sum();
    let sent: u32 = responses.iter().map(|r| r.stats.subgraph_requests).sum();
    assert_eq!((sent, deduplicated), (1, 19));
    for response in &responses {
        assert_eq!(
            body(response),
            json!({"data": {"products": [{"name": "Table"}, {"name": "Chair"}, {"name": "Lamp"}]}})
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deduplication_can_be_switched_off() {
    let graph = TestGraph::start_with(|config| {
        config.deduplicate_operations = false;
        config.deduplicate_fetches = false;
    })
    .await;
    graph.products.controls.hold();
    let tasks: Vec<_> = (0..5)
        .map(|_| graph.spawn("{ products { id } }", json!({}), HeaderMap::new()))
        .collect();
    let products = graph.products.received.clone();
    wait_until("every request reached products", || {
        products.requests() == 5
    })
    .await;
    graph.products.controls.release();
    responses(tasks).await;
    assert_eq!(graph.products.received.requests(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_are_never_deduplicated() {
    let graph = TestGraph::start().await;
    graph.users.controls.hold();
    let mutation = r#"mutation { renameUser(id: "u1", name: "Ada") { name } }"#;
    let tasks: Vec<_> = (0..10)
        .map(|_| graph.spawn(mutation, json!({}), HeaderMap::new()))
        .collect();
    let users = graph.users.received.clone();
    // Held at the subgraph, identical mutations are all in flight together.
    wait_until("every mutation reached users", || users.requests() == 10).await;
    assert_eq!(
        graph.executor.in_flight(),
        executor::InFlightStats::default()
    );
    graph.users.controls.release();
    for response in responses(tasks).await {
        assert_eq!(
            body(&response),
            json!({"data": {"renameUser": {"name": "Ada"}}})
        );
        assert!(!response.stats.shared_execution);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_entity_fetches_to_one_subgraph_are_one_request() {
    let graph = TestGraph::start().await;
    let response = graph
        .run(
            "{ products { id reviewCount } items { id rating } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body(&response),
        json!({"data": {
            "products": [
                {"id": "p1", "reviewCount": 2},
                {"id": "p2", "reviewCount": 1},
                {"id": "p3", "reviewCount": 0},
            ],
            "items": [
                {"id": "p1", "rating": 5},
                {"id": "b1", "rating": 4},
                {"id": "p2", "rating": 3},
            ],
        }})
    );
    assert_eq!(graph.products.received.requests(), 1);
    assert_eq!(graph.reviews.received.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignored_headers_do_not_split_sharing_but_credentials_do() {
    let graph = TestGraph::start_with(|config| {
        config
            .dedup_ignored_headers
            .push(http::HeaderName::from_static("x-request-id"));
    })
    .await;
    graph.users.controls.hold();
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let mut headers = bearer(if i < 3 { "u1" } else { "u2" });
            headers.insert("x-request-id", format!("req-{i}").parse().expect("value"));
            graph.spawn("{ me { id } }", json!({}), headers)
        })
        .collect();
    let executor = graph.executor.clone();
    wait_until("all callers are waiting", || {
        executor.in_flight().operation_waiters == 6
    })
    .await;
    assert_eq!(executor.in_flight().operations, 2);
    graph.users.controls.release();
    let responses = responses(tasks).await;
    assert_eq!(graph.users.received.requests(), 2);
    assert_eq!(body(&responses[0]), json!({"data": {"me": {"id": "u1"}}}));
    assert_eq!(body(&responses[5]), json!({"data": {"me": {"id": "u2"}}}));
}
