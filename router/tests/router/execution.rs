//! Execution through the router: one and several subgraphs, per-user data under
//! deduplication, and partial data when a subgraph fails.

use http::StatusCode;
use serde_json::{Value, json};

use crate::common::Harness;

#[tokio::test]
async fn one_subgraph_query() {
    let h = Harness::start().await;
    let reply = h
        .post(json!({"query": "{ products { id name price } }"}))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .content_type()
            .starts_with("application/graphql-response+json")
    );
    assert_eq!(
        reply.json(),
        json!({"data": {"products": [
            {"id": "p1", "name": "Teapot", "price": 1999},
            {"id": "p2", "name": "Kettle", "price": 4550}
        ]}})
    );
    assert_eq!(
        (h.products.hits(), h.users.hits(), h.orders.hits()),
        (1, 0, 0)
    );
}

fn my_orders(sub: &str) -> Value {
    json!({"data": {"me": {
        "id": sub,
        "name": format!("user {sub}"),
        "orders": [
            {"id": format!("{sub}-o1"), "product": {"id": "p1", "name": "Teapot"}},
            {"id": format!("{sub}-o2"), "product": {"id": "p2", "name": "Kettle"}}
        ]
    }}})
}

const MY_ORDERS: &str = "{ me { id name orders { id product { id name } } } }";

#[tokio::test]
async fn three_subgraph_query() {
    let h = Harness::start().await;
    let (token, sub) = h.jwks.token();
    let reply = h
        .post_with(
            json!({ "query": MY_ORDERS }),
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json(), my_orders(&sub));
    assert!(h.users.hits() >= 1 && h.orders.hits() >= 1 && h.products.hits() >= 1);
}

#[tokio::test]
async fn concurrent_users_each_get_their_own_data_with_dedup_on() {
    let h = Harness::start().await;
    assert!(h.router().state().config.dedup.enabled);
    let users: Vec<(String, String)> = (0..2).map(|_| h.jwks.token()).collect();
    let mut requests = Vec::new();
    for round in 0..4 {
        for (token, sub) in &users {
            let bearer = format!("Bearer {token}");
            let sub = sub.clone();
            let h = &h;
            requests.push(async move {
                let reply = h
                    .post_with(json!({ "query": MY_ORDERS }), &[("authorization", &bearer)])
                    .await;
                (round, sub, reply)
            });
        }
    }
    for (round, sub, reply) in futures::future::join_all(requests).await {
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "round {round}: {}",
            reply.text
        );
        assert_eq!(reply.json(), my_orders(&sub), "round {round}");
    }
}

#[tokio::test]
async fn identical_concurrent_queries_are_answered_alike_with_dedup_off() {
    let h = Harness::with(|config, _| config.dedup.enabled = false).await;
    let (token, sub) = h.jwks.token();
    let bearer = format!("Bearer {token}");
    let headers = [("authorization", bearer.as_str())];
    let replies = futures::future::join_all(
        (0..4).map(|_| h.post_with(json!({ "query": MY_ORDERS }), &headers)),
    )
    .await;
    for reply in replies {
        assert_eq!(reply.json(), my_orders(&sub));
    }
    // Without deduplication every request fetches `me` itself.
    assert_eq!(h.users.hits(), 4);
}

#[tokio::test]
async fn a_failing_subgraph_gives_partial_data() {
    // Port 9 (discard) on loopback is closed, so every call to `users` fails.
    let h = Harness::with(|config, _| {
        config
            .subgraphs
            .urls
            .insert("users".into(), "http://127.0.0.1:9/graphql".into());
    })
    .await;
    let (token, _) = h.jwks.token();
    let reply = h
        .post_with(
            json!({"query": "{ product(id: \"p1\") { name } me { id } }"}),
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    assert_eq!(
        body["data"],
        json!({"product": {"name": "Teapot"}, "me": null}),
        "{body}"
    );
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(
        errors[0]["extensions"]["code"], "SUBGRAPH_REQUEST_FAILED",
        "{body}"
    );
    assert_eq!(errors[0]["path"], json!(["me"]), "{body}");
    assert!(
        !errors[0]["message"].as_str().unwrap().contains("127.0.0.1"),
        "{body}"
    );
}
