//! Edge authentication: bad tokens are refused before any subgraph is called; valid
//! tokens, request ids and trace context are forwarded.

use http::StatusCode;
use platform::auth::SigningKey;
use serde_json::json;

use crate::common::{Harness, rejection, unsigned_token};

async fn assert_refused(h: &Harness, authorization: &str, message: &str) {
    let reply = h
        .post_with(
            json!({"query": "{ me { id } }"}),
            &[
                ("accept", crate::common::GRAPHQL_RESPONSE),
                ("authorization", authorization),
            ],
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "{authorization}: {}",
        reply.text
    );
    assert_eq!(
        reply.headers["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    assert_eq!(
        reply.json(),
        rejection(message, "UNAUTHENTICATED"),
        "{authorization}"
    );
}

#[tokio::test]
async fn bad_tokens_are_unauthenticated_before_any_subgraph_call() {
    let h = Harness::start().await;
    let stranger = SigningKey::generate();
    let key = &h.jwks.key;

    let unknown_key = h.jwks.token_with(&stranger, |_| {});
    assert_refused(
        &h,
        &format!("Bearer {unknown_key}"),
        "the token was signed by an unknown key",
    )
    .await;

    let foreign = h
        .jwks
        .token_with(key, |c| c.iss = "https://evil.test".into());
    assert_refused(
        &h,
        &format!("Bearer {foreign}"),
        "the token was issued by another issuer",
    )
    .await;

    let other_audience = h.jwks.token_with(key, |c| c.aud = "another-api".into());
    assert_refused(
        &h,
        &format!("Bearer {other_audience}"),
        "the token is meant for another audience",
    )
    .await;

    let expired = h
        .jwks
        .token_with(key, |c| c.exp = chrono::Utc::now().timestamp() - 3600);
    assert_refused(&h, &format!("Bearer {expired}"), "the token has expired").await;

    let none = unsigned_token(key.kid());
    // `none` is not even a known algorithm to the decoder.
    assert_refused(&h, &format!("Bearer {none}"), "the token is malformed").await;

    // A genuine header and signature around a payload the key never signed.
    let (genuine, _) = h.jwks.token();
    let (other, _) = h.jwks.token();
    let mut parts: Vec<&str> = genuine.split('.').collect();
    parts[1] = other.split('.').nth(1).unwrap();
    assert_refused(
        &h,
        &format!("Bearer {}", parts.join(".")),
        "the token's signature is invalid",
    )
    .await;

    assert_refused(&h, "Bearer not-a-jwt", "the token is malformed").await;
    assert_refused(
        &h,
        "Basic dXNlcjpwYXNz",
        "the Authorization header must be `Bearer <token>`",
    )
    .await;

    assert_eq!(h.subgraph_hits(), 0);
}

#[tokio::test]
async fn legacy_json_clients_get_200_for_bad_tokens() {
    let h = Harness::start().await;
    let reply = h
        .post_with(
            json!({"query": "{ me { id } }"}),
            &[
                ("accept", "application/json"),
                ("authorization", "Bearer nope"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json(),
        rejection("the token is malformed", "UNAUTHENTICATED")
    );
    assert_eq!(h.subgraph_hits(), 0);
}

#[tokio::test]
async fn valid_token_is_forwarded() {
    let h = Harness::start().await;
    let (token, sub) = h.jwks.token();
    let bearer = format!("Bearer {token}");
    let reply = h
        .post_with(
            json!({"query": "{ requestHeader(name: \"authorization\") me { id name } }"}),
            &[("authorization", bearer.as_str())],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!({"data": {"requestHeader": bearer, "me": {"id": sub, "name": format!("user {sub}")}}})
    );
    assert_eq!(h.users.seen_headers()[0]["authorization"], bearer.as_str());
}

#[tokio::test]
async fn no_token_is_anonymous() {
    let h = Harness::start().await;
    let reply = h.post(json!({"query": "{ me { id } }"})).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({"data": {"me": null}}));
    assert!(h.users.seen_headers()[0].get("authorization").is_none());
}

#[tokio::test]
async fn request_id_and_trace_context_are_forwarded_or_generated() {
    let h = Harness::start().await;
    let query = json!({"query": "{ id: requestHeader(name: \"x-request-id\") tp: requestHeader(name: \"traceparent\") }"});

    let reply = h
        .post_with(
            query.clone(),
            &[
                ("x-request-id", "req-42"),
                (
                    "traceparent",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                ),
            ],
        )
        .await;
    assert_eq!(reply.headers["x-request-id"], "req-42");
    let data = &reply.json()["data"];
    assert_eq!(data["id"], "req-42");
    let tp = data["tp"].as_str().unwrap();
    assert!(
        tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{tp}"
    );
    assert!(
        tp.ends_with("-01") && !tp.contains("00f067aa0ba902b7"),
        "{tp}"
    );

    let reply = h.post(query).await;
    let generated = reply.headers["x-request-id"].to_str().unwrap().to_owned();
    let data = &reply.json()["data"];
    assert_eq!(data["id"], generated.as_str());
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");
    let tp = data["tp"].as_str().unwrap();
    let parts: Vec<&str> = tp.split('-').collect();
    assert_eq!(
        (parts.len(), parts[0], parts[1].len(), parts[2].len()),
        (4, "00", 32, 16),
        "{tp}"
    );
}

#[tokio::test]
async fn header_rules_allow_rename_and_insert() {
    let h = crate::common::Harness::with(|config, _| {
        config.headers.allow = vec!["x-tenant".into()];
        config.headers.rename = vec![router::config::headers::RenameRule {
            from: "x-client".into(),
            to: "x-client-name".into(),
        }];
        config.headers.insert.insert(
            "x-internal-key".into(),
            router::config::Secret::new("s3cret"),
        );
    })
    .await;
    let query = json!({"query": "{ t: requestHeader(name: \"x-tenant\") c: requestHeader(name: \"x-client-name\") raw: requestHeader(name: \"x-client\") k: requestHeader(name: \"x-internal-key\") cookie: requestHeader(name: \"cookie\") }"});
    let reply = h
        .post_with(
            query,
            &[
                ("x-tenant", "acme"),
                ("x-client", "web"),
                ("cookie", "session=1"),
            ],
        )
        .await;
    assert_eq!(
        reply.json(),
        json!({"data": {"t": "acme", "c": "web", "raw": null, "k": "s3cret", "cookie": null}})
    );
}
