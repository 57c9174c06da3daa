//! Operating the router: GraphiQL, introspection switches, the persisted-operation
//! safelist, health and metrics, hot reload, start-up failures and composition.

use http::{Method, StatusCode};
use serde_json::json;

use platform::testing::eventually;

use crate::common::{Harness, fixture_path, fixture_supergraph, rejection};

#[tokio::test]
async fn graphiql_is_served_to_browsers() {
    let h = Harness::start().await;
    for path in ["/", "/graphiql", "/graphql"] {
        let reply = h
            .raw(
                Method::GET,
                path,
                &[("accept", "text/html,application/xhtml+xml")],
                Vec::new(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert!(
            reply.content_type().starts_with("text/html"),
            "{path}: {}",
            reply.content_type()
        );
        assert!(reply.text.contains("GraphiQL.createFetcher"), "{path}");
        assert!(reply.text.contains("query MyOrders"), "{path}");
        // No local assets in this harness, so the CDN is used.
        assert!(reply.text.contains("https://unpkg.com/graphiql@"), "{path}");
    }
    assert_eq!(h.subgraph_hits(), 0);
}

#[tokio::test]
async fn graphiql_uses_local_assets_when_installed() {
    let h = Harness::with(|config, dir| {
        let assets = dir.join("assets");
        std::fs::create_dir_all(&assets).unwrap();
        for file in [
            "react.production.min.js",
            "react-dom.production.min.js",
            "graphiql.min.js",
            "graphiql.min.css",
        ] {
            std::fs::write(assets.join(file), format!("/* {file} */")).unwrap();
        }
        config.graphiql.assets_dir = assets;
    })
    .await;
    let page = h
        .raw(
            Method::GET,
            "/graphiql",
            &[("accept", "text/html")],
            Vec::new(),
        )
        .await;
    assert!(
        page.text
            .contains("src=\"/graphiql/assets/graphiql.min.js\"")
    );
    assert!(!page.text.contains("unpkg.com"));
    let asset = h
        .raw(
            Method::GET,
            "/graphiql/assets/graphiql.min.js",
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(asset.status, StatusCode::OK);
    assert_eq!(asset.text, "/* graphiql.min.js */");
}

#[tokio::test]
async fn production_profile_hides_graphiql_and_introspection() {
    let h = Harness::with(|config, _| {
        config.profile = router::config::Profile::Production;
        config.subgraphs.shared_secret = Some(router::config::Secret::new(
            "0123456789abcdef0123456789abcdef",
        ));
    })
    .await;
    let page = h
        .raw(
            Method::GET,
            "/graphiql",
            &[("accept", "text/html")],
            Vec::new(),
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);

    let reply = h
        .post(json!({"query": "{ __schema { queryType { name } } }"}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        rejection("introspection is disabled", "INTROSPECTION_DISABLED")
    );
    let reply = h
        .post(json!({"query": "{ __type(name: \"Product\") { name } }"}))
        .await;
    assert_eq!(
        reply.json(),
        rejection("introspection is disabled", "INTROSPECTION_DISABLED")
    );
    // `__typename` is not introspection.
    let reply = h.post(json!({"query": "{ __typename }"})).await;
    assert_eq!(reply.json(), json!({"data": {"__typename": "Query"}}));
    assert_eq!(h.subgraph_hits(), 0);
}

#[tokio::test]
async fn introspection_is_answered_in_dev() {
    let h = Harness::start().await;
    let reply = h
        .post(json!({"query": "{ __schema { queryType { name } } __type(name: \"Product\") { fields { name } } }"}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!({"data": {
            "__schema": {"queryType": {"name": "Query"}},
            "__type": {"fields": [{"name": "id"}, {"name": "name"}, {"name": "price"}]}
        }})
    );
    assert_eq!(h.subgraph_hits(), 0);
}

#[tokio::test]
async fn safelist_mode_accepts_only_registered_operations() {
    let listed = "{ products { id } }";
    let hash = router::pipeline::persisted::sha256_hex(listed);
    let h = Harness::with(|config, dir| {
        let manifest = dir.join("manifest.json");
        std::fs::write(&manifest, json!({ "listed-op": listed }).to_string()).unwrap();
        config.persisted_operations.mode = router::config::persisted::PersistedMode::Safelist;
        config.persisted_operations.manifest = Some(manifest);
    })
    .await;
    let expected = json!({"data": {"products": [{"id": "p1"}, {"id": "p2"}]}});

    let by_hash = h
        .post(json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": hash}}}))
        .await;
    assert_eq!(by_hash.json(), expected);
    let by_id = h.post(json!({"documentId": "listed-op"})).await;
    assert_eq!(by_id.json(), expected);
    let by_text = h.post(json!({"query": listed})).await;
    assert_eq!(by_text.json(), expected);
    let hits = h.subgraph_hits();

    let message = "this operation is not in the safelist of persisted operations";
    let other = h.post(json!({"query": "{ products { id name } }"})).await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        other.json(),
        rejection(message, "PERSISTED_QUERY_NOT_IN_SAFELIST")
    );
    let unknown = h
        .post(
            json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0".repeat(64)}}}),
        )
        .await;
    assert_eq!(
        unknown.json(),
        rejection(message, "PERSISTED_QUERY_NOT_IN_SAFELIST")
    );
    assert_eq!(h.subgraph_hits(), hits);
}

#[tokio::test]
async fn health_ready_and_metrics() {
    let h = Harness::start().await;
    let health = h.raw(Method::GET, "/health", &[], Vec::new()).await;
    assert_eq!(
        (health.status, health.json()),
        (StatusCode::OK, json!({"status": "ok"}))
    );
    let ready = h.raw(Method::GET, "/ready", &[], Vec::new()).await;
    assert_eq!(
        (ready.status, ready.json()),
        (
            StatusCode::OK,
            json!({"status": "ready", "checks": {"supergraph": "ok"}})
        )
    );

    h.post(json!({"query": "{ products { id } }"})).await;
    h.post(json!({"query": "{ products { id } }"})).await;
    h.post(json!({"query": "{ products { a: id b: id c: id d: id e: id f: id g: id h: id i: id j: id k: id l: id m: id n: id o: id p: id q: id r: id s: id t: id u: id v: id w: id x: id y: id z: id aa: id ab: id ac: id ad: id ae: id } }"})).await;
    let on_client_port = h.raw(Method::GET, "/metrics", &[], Vec::new()).await;
    assert_eq!(
        on_client_port.status,
        StatusCode::NOT_FOUND,
        "metrics stay off the client port"
    );
    let metrics = h.metrics().await;
    for line in [
        "router_requests_total{kind=\"query\",outcome=\"ok\"} 2",
        "router_requests_total{kind=\"query\",outcome=\"rejected\"} 1",
        "router_errors_total{code=\"MAX_ALIASES_EXCEEDED\"} 1",
        "router_subgraph_request_duration_seconds_count{subgraph=\"products\"} 2",
        "router_in_flight_requests 0",
        "# TYPE router_dedup_hits counter",
    ] {
        assert!(metrics.contains(line), "missing `{line}` in:\n{metrics}");
    }
}

#[tokio::test]
async fn supergraph_hot_reload_swaps_good_files_and_keeps_the_old_one_on_bad_files() {
    let h = Harness::with(|config, _| config.supergraph.poll_interval_secs = 1).await;
    let path = h.router().state().config.supergraph.path.clone();
    let original = h.router().state().supergraph_sha256().unwrap();
    let query = json!({"query": "{ requestHeader(name: \"x\") }"});
    assert_eq!(
        h.post(query.clone()).await.json(),
        json!({"data": {"requestHeader": null}})
    );

    std::fs::write(&path, "this is not a supergraph").unwrap();
    eventually("the bad supergraph to be rejected", async || {
        h.metrics()
            .await
            .contains("router_supergraph_reloads_total{result=\"failed\"} 1")
    })
    .await;
    assert_eq!(h.router().state().supergraph_sha256().unwrap(), original);
    assert_eq!(
        h.post(query.clone()).await.json(),
        json!({"data": {"requestHeader": null}})
    );

    // A valid supergraph without `Query.requestHeader` (renamed).
    let without = fixture_supergraph().replace("requestHeader(", "requestHeaderRenamed(");
    assert_ne!(
        without,
        fixture_supergraph(),
        "the fixture declares Query.requestHeader"
    );
    std::fs::write(&path, &without).unwrap();
    let expected = router::pipeline::persisted::sha256_hex(&without);
    eventually("the new supergraph to be served", async || {
        h.router().state().supergraph_sha256().as_deref() == Some(expected.as_str())
    })
    .await;
    let reply = h.post(query).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json()["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    assert!(
        h.metrics()
            .await
            .contains("router_supergraph_reloads_total{result=\"ok\"} 1")
    );
}

#[tokio::test]
async fn refuses_to_start_without_a_usable_supergraph() {
    let err = Harness::try_with(|config, dir| {
        let bad = dir.join("bad.graphql");
        std::fs::write(&bad, "type Query {").unwrap();
        config.supergraph.path = bad;
    })
    .await
    .err()
    .expect("start-up fails");
    assert!(matches!(err, router::StartError::Supergraph(_)), "{err}");
}

#[tokio::test]
async fn graceful_shutdown_stops_serving() {
    let mut h = Harness::start().await;
    let url = format!("{}/health", h.base);
    assert!(h.client.get(&url).send().await.is_ok());
    h.router.take().unwrap().shutdown().await;
    assert!(reqwest::Client::new().get(&url).send().await.is_err());
}

fn supergraph_yaml(dir: &std::path::Path, subgraphs: &[(&str, &str)]) -> std::path::PathBuf {
    let mut yaml = String::from("subgraphs:\n");
    for (name, file) in subgraphs {
        yaml.push_str(&format!(
            "  {name}:\n    routing_url: ${{TEST_{}_URL:-http://127.0.0.1:1/{name}}}\n    schema:\n      file: {file}\n",
            name.to_uppercase()
        ));
    }
    let path = dir.join("supergraph.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

#[tokio::test]
async fn composes_the_test_subgraphs_into_a_servable_supergraph() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["orders", "products", "users"] {
        std::fs::copy(
            fixture_path(&format!("{name}.graphql")),
            dir.path().join(format!("{name}.graphql")),
        )
        .unwrap();
    }
    let yaml = supergraph_yaml(
        dir.path(),
        &[
            ("orders", "orders.graphql"),
            ("products", "products.graphql"),
            ("users", "users.graphql"),
        ],
    );
    let sdl = router::compose::compose_file(&yaml)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let executor = executor::Executor::new(&sdl, executor::ExecutorConfig::default()).unwrap();
    let urls = executor.subgraph_urls();
    assert_eq!(urls["products"], "http://127.0.0.1:1/products");
    executor
        .prepare("{ me { orders { product { name } } } }", None)
        .unwrap();
}

#[tokio::test]
async fn composition_conflicts_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let a = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.5\", import: [\"@key\"])\ntype Query { thing: Thing }\ntype Thing { id: ID! size: Int! }\n";
    let b = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.5\", import: [\"@key\"])\ntype Query { other: Thing }\ntype Thing { id: ID! size: String! }\n";
    std::fs::write(dir.path().join("a.graphql"), a).unwrap();
    std::fs::write(dir.path().join("b.graphql"), b).unwrap();
    let yaml = supergraph_yaml(dir.path(), &[("a", "a.graphql"), ("b", "b.graphql")]);
    let err = router::compose::compose_file(&yaml).await.unwrap_err();
    assert!(
        matches!(err, router::compose::ComposeError::Conflicts(_)),
        "{err}"
    );
    assert!(err.to_string().contains("Thing"), "{err}");
}

fn fixture_yaml(dir: &std::path::Path) -> std::path::PathBuf {
    for name in ["orders", "products", "users"] {
        std::fs::copy(
            fixture_path(&format!("{name}.graphql")),
            dir.join(format!("{name}.graphql")),
        )
        .unwrap();
    }
    supergraph_yaml(
        dir,
        &[
            ("orders", "orders.graphql"),
            ("products", "products.graphql"),
            ("users", "users.graphql"),
        ],
    )
}

fn router_bin(args: &[&str], envs: &[(&str, &std::path::Path)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_router"));
    command.args(args);
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().unwrap()
}

#[test]
fn the_command_line_has_help_a_version_and_refuses_unknown_flags() {
    platform::testing::check_command_line(platform::testing::CommandLine {
        binary: env!("CARGO_BIN_EXE_router"),
        version: concat!("router ", env!("CARGO_PKG_VERSION")),
        help_mentions: &["serve", "compose", "[env: ROUTER_CONFIG"],
        bogus: &["serve", "--bogus"],
    });
}

#[test]
fn compose_command_writes_and_checks_the_supergraph() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = fixture_yaml(dir.path());
    let out = dir.path().join("schema/supergraph.graphql");
    let (yaml_arg, out_arg) = (yaml.to_str().unwrap(), out.to_str().unwrap());
    let compose_check = || {
        router_bin(
            &[
                "compose",
                "--supergraph-config",
                yaml_arg,
                "-o",
                out_arg,
                "--check",
            ],
            &[],
        )
    };

    let check = compose_check();
    assert!(!check.status.success(), "a missing supergraph is stale");

    let write = router_bin(
        &["compose", "--supergraph-config", yaml_arg, "-o", out_arg],
        &[],
    );
    assert!(
        write.status.success(),
        "{}",
        String::from_utf8_lossy(&write.stderr)
    );
    let sdl = std::fs::read_to_string(&out).unwrap();
    assert!(sdl.contains("join__Graph"), "{sdl}");
    let api = std::fs::read_to_string(dir.path().join("schema/api.graphql")).unwrap();
    assert_eq!(api, router::compose::api_schema(&sdl).unwrap());
    assert!(!api.contains("join__Graph"), "{api}");

    let check = compose_check();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    let api_path = dir.path().join("schema/api.graphql");
    std::fs::write(&api_path, format!("{api}\n# edited\n")).unwrap();
    let check = compose_check();
    assert!(
        !check.status.success(),
        "a stale API schema fails the check"
    );
    assert!(String::from_utf8_lossy(&check.stderr).contains("api.graphql"));
    std::fs::write(&api_path, &api).unwrap();

    std::fs::write(&out, format!("{sdl}\n# edited\n")).unwrap();
    let check = compose_check();
    assert!(!check.status.success());
    assert!(String::from_utf8_lossy(&check.stderr).contains("differs"));
}

#[test]
fn serve_refuses_to_start_on_composition_errors() {
    let dir = tempfile::tempdir().unwrap();
    let a = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.5\", import: [\"@key\"])\ntype Query { thing: Thing }\ntype Thing { id: ID! size: Int! }\n";
    let b = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.5\", import: [\"@key\"])\ntype Query { other: Thing }\ntype Thing { id: ID! size: String! }\n";
    std::fs::write(dir.path().join("a.graphql"), a).unwrap();
    std::fs::write(dir.path().join("b.graphql"), b).unwrap();
    let yaml = supergraph_yaml(dir.path(), &[("a", "a.graphql"), ("b", "b.graphql")]);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_router"))
        .arg("serve")
        .env("ROUTER_SUPERGRAPH_COMPOSE_FROM", &yaml)
        .env("ROUTER_LISTEN_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("composition failed") && stderr.contains("Thing"),
        "{stderr}"
    );
}

/// The repository's `supergraph.yaml`, composed from the checked-in subgraph SDLs.
async fn repository_supergraph() -> String {
    let yaml = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../supergraph.yaml");
    router::compose::compose_file(&yaml)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn checked_in_supergraph_matches_composition() {
    let sdl = repository_supergraph().await;
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/supergraph.graphql");
    assert!(
        router::compose::is_up_to_date(&path, &sdl).unwrap(),
        "schema/supergraph.graphql is stale: run `cargo run -p router -- compose`"
    );
}

#[tokio::test]
async fn checked_in_api_schema_matches_composition() {
    let sdl = repository_supergraph().await;
    let api = router::compose::api_schema(&sdl).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/api.graphql");
    assert!(
        router::compose::is_up_to_date(&path, &api).unwrap(),
        "schema/api.graphql is stale: run `cargo run -p router -- compose`"
    );
    // What clients see: no federation machinery, nothing @inaccessible.
    for internal in [
        "join__",
        "link__",
        "_Entity",
        "_Any",
        "_service",
        "@inaccessible",
    ] {
        assert!(!api.contains(internal), "{internal} in the API schema");
    }
    assert!(api.contains("type Query"));
}

#[tokio::test]
async fn graphiql_examples_are_valid_operations_of_the_supergraph() {
    let executor = executor::Executor::new(
        &repository_supergraph().await,
        executor::ExecutorConfig::default(),
    )
    .unwrap();
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("graphiql/examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(examples).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let names: Vec<&str> = text
            .lines()
            .filter_map(|l| {
                l.strip_prefix("query ")
                    .or_else(|| l.strip_prefix("mutation "))
            })
            .filter_map(|rest| rest.split(['(', ' ', '{']).next())
            .collect();
        assert!(!names.is_empty(), "{text}");
        for name in names {
            if let Err(e) = executor.prepare(&text, Some(name)) {
                panic!("example {name} is not valid: {:?}", e.to_graphql_errors());
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 4);
}

#[tokio::test]
async fn every_subgraph_request_carries_the_shared_secret_and_a_client_cannot_set_it() {
    let secret = "router-to-subgraph-0123456789abcdef";
    let h = Harness::with(|config, _| {
        config.subgraphs.shared_secret = Some(router::config::Secret::new(secret));
    })
    .await;
    let reply = h
        .post_with(
            json!({"query": "{ products { id } }"}),
            &[
                ("accept", "application/graphql-response+json"),
                ("x-subgraph-secret", "forged-by-the-client"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let seen = h.products.seen_headers();
    assert!(!seen.is_empty());
    for headers in seen {
        let values: Vec<_> = headers.get_all("x-subgraph-secret").iter().collect();
        assert_eq!(values, [secret], "exactly the router's secret");
    }
}

#[test]
fn production_refuses_to_start_without_a_subgraph_secret() {
    let missing = router::RouterConfig::load(
        None,
        &router::config::Env::from_pairs([("ROUTER_PROFILE", "production")]),
    )
    .unwrap_err();
    assert!(
        missing.to_string().contains("ROUTER_SUBGRAPH_SECRET"),
        "{missing}"
    );
    let short = router::RouterConfig::load(
        None,
        &router::config::Env::from_pairs([("ROUTER_SUBGRAPH_SECRET", "short")]),
    )
    .unwrap_err();
    assert!(
        short.to_string().contains("ROUTER_SUBGRAPH_SECRET"),
        "{short}"
    );
    let ok = router::RouterConfig::load(
        None,
        &router::config::Env::from_pairs([
            ("ROUTER_PROFILE", "production"),
            ("ROUTER_SUBGRAPH_SECRET", "0123456789abcdef0123456789abcdef"),
        ]),
    )
    .unwrap();
    assert_eq!(
        ok.subgraphs.shared_secret.unwrap().expose(),
        "0123456789abcdef0123456789abcdef"
    );
}
