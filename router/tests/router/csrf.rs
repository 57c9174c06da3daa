//! CSRF prevention and the GET rules: simple requests need a preflight header, and
//! mutations are never run over GET.

use http::{Method, StatusCode};
use serde_json::json;

use crate::common::{Harness, encode, rejection};

const CSRF_MESSAGE: &str = "this operation has been blocked as a potential cross-site request forgery: send a JSON content type or a non-empty `apollo-require-preflight` header";

fn get_path(query: &str) -> String {
    format!("/graphql?query={}", encode(query))
}

#[tokio::test]
async fn get_without_preflight_header_is_refused() {
    let h = Harness::start().await;
    let reply = h
        .raw(
            Method::GET,
            &get_path("{ products { id } }"),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json(), rejection(CSRF_MESSAGE, "CSRF_PREVENTION"));

    let blank = [("apollo-require-preflight", "")];
    let reply = h
        .raw(
            Method::GET,
            &get_path("{ products { id } }"),
            &blank,
            Vec::new(),
        )
        .await;
    assert_eq!(reply.json(), rejection(CSRF_MESSAGE, "CSRF_PREVENTION"));
    assert_eq!(h.subgraph_hits(), 0);
}

#[tokio::test]
async fn get_with_preflight_header_runs_queries() {
    let h = Harness::start().await;
    for header in ["apollo-require-preflight", "x-apollo-operation-name"] {
        let reply = h
            .raw(
                Method::GET,
                &get_path("{ product(id: \"p2\") { id name } }"),
                &[(header, "Q")],
                Vec::new(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(
            reply.json(),
            json!({"data": {"product": {"id": "p2", "name": "Kettle"}}})
        );
    }
    assert_eq!(h.products.hits(), 2);
}

#[tokio::test]
async fn mutation_over_get_is_405() {
    let h = Harness::start().await;
    let path = get_path("mutation { renameProduct(id: \"p1\", name: \"Pot\") { name } }");
    let reply = h
        .raw(
            Method::GET,
            &path,
            &[("apollo-require-preflight", "1")],
            Vec::new(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.headers["allow"], "POST");
    assert_eq!(
        reply.json(),
        rejection(
            "mutations cannot be sent with GET; use POST",
            "METHOD_NOT_ALLOWED"
        )
    );
    assert_eq!(h.subgraph_hits(), 0);

    // The same mutation over POST runs.
    let reply = h
        .post(json!({"query": "mutation { renameProduct(id: \"p1\", name: \"Pot\") { name } }"}))
        .await;
    assert_eq!(
        reply.json(),
        json!({"data": {"renameProduct": {"name": "Pot"}}})
    );
}

#[tokio::test]
async fn post_without_json_content_type_is_refused() {
    let h = Harness::start().await;
    let body = br#"{"query":"{ products { id } }"}"#.to_vec();
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let reply = h
            .raw(
                Method::POST,
                "/graphql",
                &[("content-type", content_type)],
                body.clone(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{content_type}");
        assert_eq!(reply.json(), rejection(CSRF_MESSAGE, "CSRF_PREVENTION"));
    }
    let reply = h.raw(Method::POST, "/graphql", &[], body.clone()).await;
    assert_eq!(reply.json(), rejection(CSRF_MESSAGE, "CSRF_PREVENTION"));

    // Preflighted but still not JSON: refused for its media type.
    let headers = [
        ("content-type", "text/plain"),
        ("apollo-require-preflight", "1"),
    ];
    let reply = h.raw(Method::POST, "/graphql", &headers, body).await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        reply.json(),
        rejection(
            "unsupported content type; send application/json",
            "UNSUPPORTED_MEDIA_TYPE"
        )
    );
    assert_eq!(h.subgraph_hits(), 0);
}

#[tokio::test]
async fn csrf_prevention_can_be_disabled() {
    let h = Harness::with(|config, _| config.csrf.enabled = false).await;
    let reply = h
        .raw(
            Method::GET,
            &get_path("{ product(id: \"p1\") { id } }"),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({"data": {"product": {"id": "p1"}}}));
}

#[tokio::test]
async fn cors_preflight_allows_configured_origins_only() {
    let h =
        Harness::with(|config, _| config.cors.allow_origins = vec!["https://shop.example".into()])
            .await;
    let preflight = |origin: &'static str| {
        [
            ("origin", origin),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "content-type,authorization",
            ),
        ]
    };
    let reply = h
        .raw(
            Method::OPTIONS,
            "/graphql",
            &preflight("https://shop.example"),
            Vec::new(),
        )
        .await;
    assert_eq!(
        reply.headers["access-control-allow-origin"],
        "https://shop.example"
    );
    let reply = h
        .raw(
            Method::OPTIONS,
            "/graphql",
            &preflight("https://evil.example"),
            Vec::new(),
        )
        .await;
    assert!(reply.headers.get("access-control-allow-origin").is_none());
    assert_eq!(h.subgraph_hits(), 0);
}
