//! Size and shape limits: each refusal has its own code and reaches no subgraph.

use http::StatusCode;
use serde_json::json;

use crate::common::{Harness, rejection};

async fn limited() -> Harness {
    Harness::with(|config, _| {
        config.limits.max_depth = 3;
        config.limits.max_aliases = 2;
        config.limits.max_root_fields = 2;
        config.limits.max_tokens = 40;
        config.limits.max_body_bytes = 400;
    })
    .await
}

#[tokio::test]
async fn operations_within_the_limits_run() {
    let h = limited().await;
    let reply = h
        .post(
            json!({"query": "{ a: product(id: \"p1\") { name } b: product(id: \"p2\") { name } }"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json(),
        json!({"data": {"a": {"name": "Teapot"}, "b": {"name": "Kettle"}}})
    );
    assert_eq!(h.products.hits(), 1);
}

#[tokio::test]
async fn depth_limit() {
    let h = limited().await;
    let reply = h
        .post(json!({"query": "{ me { orders { product { id } } } }"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        rejection(
            "the operation is 4 levels deep; the maximum is 3",
            "MAX_DEPTH_EXCEEDED"
        )
    );
    assert_eq!(h.subgraph_hits(), 0);
}

#[tokio::test]
async fn depth_limit_counts_fragments() {
    let h = limited().await;
    let query = "{ me { ...O } } fragment O on User { orders { product { id } } }";
    let reply = h.post(json!({ "query": query })).await;
    assert_eq!(
        reply.json()["errors"][0]["extensions"]["code"],
        "MAX_DEPTH_EXCEEDED"
    );
    assert_eq!(h.subgraph_hits(), 0);
}

#[tokio::test]
async fn alias_limit() {
    let h = limited().await;
    let reply = h
        .post(json!({"query": "{ products { a: id b: name c: price } }"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        rejection(
            "the operation has 3 aliases; the maximum is 2",
            "MAX_ALIASES_EXCEEDED"
        )
    );
    assert_eq!(h.subgraph_hits(), 0);
}

#[tokio::test]
async fn root_field_limit() {
    let h = limited().await;
    let reply = h
        .post(json!({"query": "{ products { id } product(id: \"p1\") { id } me { id } }"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        rejection(
            "the operation selects 3 root fields; the maximum is 2",
            "MAX_ROOT_FIELDS_EXCEEDED"
        )
    );
    assert_eq!(h.subgraph_hits(), 0);
}

#[tokio::test]
async fn token_limit() {
    let h = limited().await;
    // `{ products {` + 37 × `id` + `} }` is 42 tokens.
    let query = format!("{{ products {{ {} }} }}", "id ".repeat(37));
    let reply = h.post(json!({ "query": query })).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        rejection(
            "the document has more than 40 tokens",
            "MAX_TOKENS_EXCEEDED"
        )
    );
    assert_eq!(h.subgraph_hits(), 0);
}

#[tokio::test]
async fn body_size_limit() {
    let h = limited().await;
    let query = format!("{{ products {{ id }} }} # {}", "x".repeat(500));
    let reply = h.post(json!({ "query": query })).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        reply.json(),
        rejection(
            "request body exceeds the limit of 400 bytes",
            "PAYLOAD_TOO_LARGE"
        )
    );
    assert_eq!(h.subgraph_hits(), 0);
}

#[tokio::test]
async fn legacy_json_clients_get_200_for_graphql_errors() {
    let h = limited().await;
    let reply = h
        .post_with(
            json!({"query": "{ me { orders { product { id } } } }"}),
            &[("accept", "application/json")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.content_type().starts_with("application/json"),
        "{}",
        reply.content_type()
    );
    assert_eq!(
        reply.json(),
        rejection(
            "the operation is 4 levels deep; the maximum is 3",
            "MAX_DEPTH_EXCEEDED"
        )
    );
    assert_eq!(h.subgraph_hits(), 0);
}

#[tokio::test]
async fn parse_and_validation_errors_are_400_and_reach_no_subgraph() {
    let h = Harness::start().await;
    let reply = h.post(json!({"query": "{ products { id }"})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply
            .content_type()
            .starts_with("application/graphql-response+json")
    );
    let body = reply.json();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "GRAPHQL_PARSE_FAILED",
        "{body}"
    );
    assert!(body.get("data").is_none(), "{body}");

    let reply = h.post(json!({"query": "{ nope }"})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let body = reply.json();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{body}"
    );
    assert!(body.get("data").is_none(), "{body}");

    let reply = h
        .post(json!({"query": "query A { products { id } }", "operationName": "B"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json()["errors"][0]["extensions"]["code"],
        "GRAPHQL_UNKNOWN_OPERATION_NAME"
    );

    let reply = h.post(json!({"query": "query Q($id: ID!) { product(id: $id) { id } }", "variables": {"id": [1, 2]}})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json()["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    assert_eq!(h.subgraph_hits(), 0);
}

#[tokio::test]
async fn malformed_requests_are_400() {
    let h = Harness::start().await;
    let reply = h
        .raw(
            http::Method::POST,
            "/graphql",
            &[
                ("content-type", "application/json"),
                ("accept", "application/json"),
            ],
            b"{not json".to_vec(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json()["errors"][0]["extensions"]["code"],
        "BAD_REQUEST"
    );

    let reply = h.post(json!([{"query": "{ products { id } }"}])).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        rejection("batched requests are not supported", "BAD_REQUEST")
    );

    let reply = h.post(json!({"variables": {}})).await;
    assert_eq!(
        reply.json(),
        rejection("the request has no `query`", "BAD_REQUEST")
    );

    let reply = h
        .post_with(
            json!({"query": "{ products { id } }"}),
            &[("accept", "text/html")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(
        reply.json()["errors"][0]["extensions"]["code"],
        "NOT_ACCEPTABLE"
    );
    assert_eq!(h.subgraph_hits(), 0);
}
