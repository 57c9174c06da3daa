//! What frontend tooling relies on: introspection under its own limits, the API schema at
//! `/schema.graphql`, automatic persisted queries, compression, cache headers, 413
//! answers clients can read, and deep documents refused as too deep.
//!
//! The exact queries of graphql-js and GraphiQL are sent by the Node client tests
//! (`router/tests/clients`); here an introspection query of the same shape (15 levels,
//! `ofType` nested 9 times, lists 3 deep) is built in code.

use std::io::{Read, Write};

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Harness, encode, rejection};

/// `ofType { name kind ofType { ... } }` nested `levels` times.
fn type_ref(levels: usize) -> String {
    let mut inner = String::new();
    for _ in 0..levels {
        inner = format!("ofType {{ name kind {inner}}} ");
    }
    format!("kind name {inner}")
}

/// An introspection query shaped like the one tools send with every option on.
fn standard_shaped_introspection() -> String {
    format!(
        "query IntrospectionQuery {{ __schema {{ description queryType {{ name kind }} \
         mutationType {{ name kind }} subscriptionType {{ name kind }} types {{ ...FullType }} \
         directives {{ name description isRepeatable locations args(includeDeprecated: true) \
         {{ ...InputValue }} }} }} }} \
         fragment FullType on __Type {{ kind name description specifiedByURL isOneOf \
         fields(includeDeprecated: true) {{ name description args(includeDeprecated: true) \
         {{ ...InputValue }} type {{ ...TypeRef }} isDeprecated deprecationReason }} \
         inputFields(includeDeprecated: true) {{ ...InputValue }} interfaces {{ ...TypeRef }} \
         enumValues(includeDeprecated: true) {{ name description isDeprecated deprecationReason }} \
         possibleTypes {{ ...TypeRef }} }} \
         fragment InputValue on __InputValue {{ name description type {{ ...TypeRef }} \
         defaultValue isDeprecated deprecationReason }} \
         fragment TypeRef on __Type {{ {} }}",
        type_ref(9)
    )
}

fn code(reply: &crate::common::Reply) -> Value {
    reply.json()["errors"][0]["extensions"]["code"].clone()
}

#[tokio::test]
async fn the_standard_introspection_query_passes_tight_ordinary_limits() {
    let h = Harness::with(|config, _| {
        config.limits.max_depth = 3;
        config.limits.max_aliases = 1;
        config.limits.max_root_fields = 2;
        config.limits.max_tokens = 100;
    })
    .await;
    let reply = h
        .post(json!({"query": standard_shaped_introspection(), "operationName": "IntrospectionQuery"}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let schema = &reply.json()["data"]["__schema"];
    assert_eq!(schema["queryType"]["name"], "Query");
    let product = schema["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Product")
        .expect("Product is listed");
    assert_eq!(product["kind"], "OBJECT");
    // `products: [Product!]!` is NON_NULL of LIST of NON_NULL of Product.
    let products = schema["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Query")
        .unwrap()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "products")
        .unwrap()["type"]
        .clone();
    assert_eq!(products["kind"], "NON_NULL");
    assert_eq!(products["ofType"]["kind"], "LIST");
    assert_eq!(products["ofType"]["ofType"]["kind"], "NON_NULL");
    assert_eq!(products["ofType"]["ofType"]["ofType"]["name"], "Product");

    // The ordinary limits still hold for everything else in the same document.
    let mixed = "{ __schema { queryType { name } } me { orders { product { id } } } }";
    let reply = h.post(json!({ "query": mixed })).await;
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
async fn abusive_introspection_is_refused_with_its_own_codes() {
    let h = Harness::start().await;
    let cases = [
        (
            format!(
                "{{ __type(name: \"Query\") {{ fields {{ type {{ {} }} }} }} }}",
                type_ref(10)
            ),
            "the introspection query nests `ofType` 10 levels deep; the maximum is 9",
            "INTROSPECTION_TOO_DEEP",
        ),
        (
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
                .to_owned(),
            "the introspection query nests lists 4 levels deep; the maximum is 3",
            "INTROSPECTION_TOO_DEEP",
        ),
        (
            "{ __schema { types { name } } again: __schema { types { name } } }".to_owned(),
            "the introspection query selects `__schema` more than once",
            "INTROSPECTION_REPEATED",
        ),
        (
            "{ a: __type(name: \"Product\") { name } b: __type(name: \"Product\") { name } }"
                .to_owned(),
            "the introspection query selects `__type` more than once",
            "INTROSPECTION_REPEATED",
        ),
        (
            "{ __schema { types { a: fields { name } b: fields { name } } } }".to_owned(),
            "the introspection query selects `fields` more than once",
            "INTROSPECTION_REPEATED",
        ),
        (
            "{ __schema { types { ...F ...G } } } fragment F on __Type { fields { name } } \
             fragment G on __Type { f2: fields { name } }"
                .to_owned(),
            "the introspection query selects `fields` more than once",
            "INTROSPECTION_REPEATED",
        ),
    ];
    for (query, message, code) in cases {
        let reply = h.post(json!({ "query": query })).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(reply.json(), rejection(message, code), "{query}");
    }
    // Several types by name are what tools do to look a few types up.
    let reply = h
        .post(json!({"query": "{ a: __type(name: \"Product\") { name } b: __type(name: \"User\") { name } }"}))
        .await;
    assert_eq!(
        reply.json(),
        json!({"data": {"a": {"name": "Product"}, "b": {"name": "User"}}})
    );
    // A deeper `ofType` chain than the limit, but spread through a fragment bomb: the
    // walk stays linear and the answer is the same refusal.
    let mut bomb = String::from("{ __type(name: \"Query\") { ...F0 } }");
    for i in 0..20 {
        bomb.push_str(&format!(
            " fragment F{i} on __Type {{ ...F{next} ...F{next} }}",
            next = i + 1
        ));
    }
    bomb.push_str(&format!(" fragment F20 on __Type {{ {} }}", type_ref(12)));
    let reply = h.post(json!({ "query": bomb })).await;
    assert_eq!(code(&reply), "INTROSPECTION_TOO_DEEP", "{}", reply.text);
    assert_eq!(h.subgraph_hits(), 0);
}

#[tokio::test]
async fn introspection_when_disabled_is_still_refused() {
    let h = Harness::with(|config, _| config.introspection.enabled = Some(false)).await;
    let reply = h
        .post(json!({"query": standard_shaped_introspection()}))
        .await;
    assert_eq!(
        reply.json(),
        rejection("introspection is disabled", "INTROSPECTION_DISABLED")
    );
    let schema = h.raw(Method::GET, "/schema.graphql", &[], Vec::new()).await;
    assert_eq!(schema.status, StatusCode::NOT_FOUND);
    assert_eq!(
        schema.text,
        "the API schema is not published here: introspection is disabled on this router\n"
    );
}

#[tokio::test]
async fn deeply_nested_documents_are_too_deep_not_unparseable() {
    let h = Harness::start().await;
    for levels in [50, 200] {
        let query = format!("{}{}", "{ me ".repeat(levels), "}".repeat(levels));
        let reply = h.post(json!({ "query": query })).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            reply.json(),
            rejection(
                &format!("the operation is {levels} levels deep; the maximum is 12"),
                "MAX_DEPTH_EXCEEDED"
            ),
            "{levels}"
        );
    }
    assert_eq!(h.subgraph_hits(), 0);
}

#[tokio::test]
async fn the_api_schema_is_served_when_introspection_is_on() {
    let h = Harness::start().await;
    let reply = h.raw(Method::GET, "/schema.graphql", &[], Vec::new()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.content_type().starts_with("text/plain"));
    let executor = h.router().state().executor().unwrap();
    assert_eq!(reply.text, router::compose::api_schema_of(&executor));
    assert!(reply.text.contains("type Query"), "{}", reply.text);
    for internal in [
        "join__",
        "link__",
        "_Entity",
        "_Any",
        "_service",
        "@inaccessible",
    ] {
        assert!(
            !reply.text.contains(internal),
            "{internal} leaked:\n{}",
            reply.text
        );
    }
}

fn apq(hash: &str) -> Value {
    json!({"persistedQuery": {"version": 1, "sha256Hash": hash}})
}

#[tokio::test]
async fn automatic_persisted_queries_register_then_answer_by_hash_over_get() {
    let h = Harness::start().await;
    let query = "{ products { id name } }";
    let hash = router::pipeline::persisted::sha256_hex(query);
    let expected = json!({"data": {"products": [{"id": "p1", "name": "Teapot"}, {"id": "p2", "name": "Kettle"}]}});

    let unknown = h.post(json!({ "extensions": apq(&hash) })).await;
    assert_eq!(
        unknown.json(),
        rejection("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
    );
    assert_eq!(h.subgraph_hits(), 0);

    let wrong = h
        .post(json!({ "query": "{ products { id } }", "extensions": apq(&hash) }))
        .await;
    assert_eq!(code(&wrong), "PERSISTED_QUERY_HASH_MISMATCH");
    let still_unknown = h.post(json!({ "extensions": apq(&hash) })).await;
    assert_eq!(code(&still_unknown), "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(h.subgraph_hits(), 0);

    let full = h
        .post(json!({ "query": query, "extensions": apq(&hash) }))
        .await;
    assert_eq!(full.json(), expected);
    let by_hash = h.post(json!({ "extensions": apq(&hash) })).await;
    assert_eq!(by_hash.json(), expected);

    // GET with only the hash in the URL, as a CDN would cache it.
    let path = format!("/graphql?extensions={}", encode(&apq(&hash).to_string()));
    let get = h
        .raw(
            Method::GET,
            &path,
            &[
                ("content-type", "application/json"),
                ("accept", "application/json"),
            ],
            Vec::new(),
        )
        .await;
    assert_eq!(get.status, StatusCode::OK, "{}", get.text);
    assert_eq!(get.json(), expected);
    assert_eq!(h.products.hits(), 3);

    let bad_version = h
        .post(json!({"extensions": {"persistedQuery": {"version": 2, "sha256Hash": hash}}}))
        .await;
    assert_eq!(code(&bad_version), "PERSISTED_QUERY_VERSION_NOT_SUPPORTED");
}

#[tokio::test]
async fn a_registered_mutation_never_runs_over_get() {
    let h = Harness::start().await;
    let mutation = "mutation { renameProduct(id: \"p1\", name: \"Pot\") { name } }";
    let hash = router::pipeline::persisted::sha256_hex(mutation);
    let registered = h
        .post(json!({ "query": mutation, "extensions": apq(&hash) }))
        .await;
    assert_eq!(
        registered.json(),
        json!({"data": {"renameProduct": {"name": "Pot"}}})
    );
    let hits = h.subgraph_hits();
    let path = format!("/graphql?extensions={}", encode(&apq(&hash).to_string()));
    let get = h
        .raw(
            Method::GET,
            &path,
            &[("apollo-require-preflight", "1"), ("accept", GRAPHQL_JSON)],
            Vec::new(),
        )
        .await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        get.json(),
        rejection(
            "mutations cannot be sent with GET; use POST",
            "METHOD_NOT_ALLOWED"
        )
    );
    assert_eq!(h.subgraph_hits(), hits);
}

const GRAPHQL_JSON: &str = "application/graphql-response+json";

#[tokio::test]
async fn safelist_mode_refuses_apq_registration() {
    let listed = "{ products { id } }";
    let h = Harness::with(|config, dir| {
        let manifest = dir.join("manifest.json");
        std::fs::write(&manifest, json!({ "op": listed }).to_string()).unwrap();
        config.persisted_operations.mode = router::config::persisted::PersistedMode::Safelist;
        config.persisted_operations.manifest = Some(manifest);
    })
    .await;
    let other = "{ products { name } }";
    let other_hash = router::pipeline::persisted::sha256_hex(other);
    for body in [
        json!({ "query": other, "extensions": apq(&other_hash) }),
        json!({ "extensions": apq(&other_hash) }),
    ] {
        let reply = h.post(body).await;
        assert_eq!(code(&reply), "PERSISTED_QUERY_NOT_IN_SAFELIST");
    }
    assert_eq!(h.subgraph_hits(), 0);
    let listed_hash = router::pipeline::persisted::sha256_hex(listed);
    let reply = h.post(json!({ "extensions": apq(&listed_hash) })).await;
    assert_eq!(
        reply.json(),
        json!({"data": {"products": [{"id": "p1"}, {"id": "p2"}]}})
    );
}

/// A query whose answer is larger than the default compression threshold.
fn big_query() -> String {
    let fields: Vec<String> = (0..80).map(|i| format!("n{i}: name")).collect();
    format!("{{ products {{ id {} }} }}", fields.join(" "))
}

#[tokio::test]
async fn responses_are_compressed_by_accept_encoding_above_the_threshold() {
    let h = Harness::with(|config, _| config.limits.max_aliases = 100).await;
    let body = json!({ "query": big_query() });
    let plain = h.post(body.clone()).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.headers.get("content-encoding").is_none());
    let size = plain.text.len();
    assert!(size > 1024, "{size}");

    for encoding in ["gzip", "br", "zstd"] {
        let response = h
            .client
            .post(format!("{}/graphql", h.base))
            .header("content-type", "application/json")
            .header("accept-encoding", encoding)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["content-encoding"], encoding);
        assert!(
            response.headers()["vary"]
                .to_str()
                .unwrap()
                .to_ascii_lowercase()
                .contains("accept-encoding")
                || response
                    .headers()
                    .get_all("vary")
                    .iter()
                    .any(|v| v.to_str().unwrap().eq_ignore_ascii_case("accept-encoding"))
        );
        let wire = response.bytes().await.unwrap();
        assert!(
            wire.len() < size / 3,
            "{encoding}: {} of {size}",
            wire.len()
        );
        if encoding == "gzip" {
            let mut text = String::new();
            flate2::read::GzDecoder::new(&wire[..])
                .read_to_string(&mut text)
                .unwrap();
            assert_eq!(text, plain.text);
        }
    }

    let small = h
        .post_with(
            json!({"query": "{ products { id } }"}),
            &[("accept-encoding", "gzip")],
        )
        .await;
    assert!(small.headers.get("content-encoding").is_none());
}

#[tokio::test]
async fn public_queries_get_cache_headers_and_nothing_else_does() {
    let h = Harness::with(|config, _| {
        config.cache_control.root_fields =
            [("products".to_owned(), 60), ("product".to_owned(), 30)]
                .into_iter()
                .collect();
    })
    .await;
    let cache_control = |reply: &crate::common::Reply| {
        reply
            .headers
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let both = h
        .post(json!({"query": "{ products { id } product(id: \"p1\") { name } }"}))
        .await;
    assert_eq!(cache_control(&both).as_deref(), Some("public, max-age=30"));
    assert!(
        both.headers["vary"]
            .to_str()
            .unwrap()
            .contains("authorization"),
        "{:?}",
        both.headers
    );
    let (token, _) = h.jwks.token();
    let authed = h
        .post_with(
            json!({"query": "{ products { id } }"}),
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(authed.status, StatusCode::OK, "{}", authed.text);
    assert_eq!(cache_control(&authed).as_deref(), Some("private, no-store"));
    let unruled = h
        .post(json!({"query": "{ products { id } me { id } }"}))
        .await;
    assert_eq!(cache_control(&unruled), None);
    let mutation = h
        .post(json!({"query": "mutation { renameProduct(id: \"p1\", name: \"x\") { name } }"}))
        .await;
    assert_eq!(cache_control(&mutation), None);
    // An answer with errors (a required variable missing) is never cacheable.
    let failed = h
        .post(json!({"query": "query($id: ID!) { product(id: $id) { name } }"}))
        .await;
    assert_eq!(
        code(&failed),
        "GRAPHQL_VALIDATION_FAILED",
        "{}",
        failed.text
    );
    assert_eq!(cache_control(&failed), None);
}

/// Writes a whole oversized body before reading, as browsers and Node's `fetch` do, over
/// a plain socket so nothing in between hides a reset.
#[tokio::test]
async fn an_oversized_body_sent_without_expect_gets_the_413_answer() {
    let h = Harness::start().await;
    let addr = h.router().addr;
    let body = format!(
        "{{\"query\":\"{{ products {{ id }} }}\",\"pad\":\"{}\"}}",
        "x".repeat(5 << 20)
    );
    let reply = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "POST /graphql HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
             accept: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .unwrap();
        stream.write_all(body.as_bytes()).unwrap();
        let mut reply = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    reply.extend_from_slice(&buf[..n]);
                    if reply.windows(4).any(|w| w == b"\r\n\r\n")
                        && String::from_utf8_lossy(&reply).contains("PAYLOAD_TOO_LARGE")
                    {
                        break;
                    }
                }
                Err(e) => panic!("the connection failed before the answer: {e}"),
            }
        }
        String::from_utf8(reply).unwrap()
    })
    .await
    .unwrap();
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    let json_body = &reply[reply.find("\r\n\r\n").unwrap() + 4..];
    assert_eq!(
        serde_json::from_str::<Value>(json_body).unwrap(),
        rejection(
            "request body exceeds the limit of 1048576 bytes",
            "PAYLOAD_TOO_LARGE"
        )
    );
    assert_eq!(h.subgraph_hits(), 0);
}
