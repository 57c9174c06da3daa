//! Federation: batched entity resolution, the exported SDL, and the operational endpoints.

use serde_json::{Value, json};

use crate::support::{PASSWORD, spawn_app};

#[tokio::test]
async fn entities_resolve_in_one_query_and_unknown_ids_are_null() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(app.register_ok(&format!("user{i}@example.com")).await["user"]["id"].clone());
    }
    let missing = uuid::Uuid::now_v7().to_string();
    let mut reps: Vec<Value> = ids
        .iter()
        .map(|id| json!({ "__typename": "User", "id": id }))
        .collect();
    reps.push(json!({ "__typename": "User", "id": missing }));
    let query = r#"query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id role createdAt } } }"#;

    let commands = app.service.mongo().expect("mongo").commands().clone();
    let finds_before = commands.get("find");
    let resp = app.gql(query, json!({ "reps": reps }), None).await;
    assert!(resp["errors"].is_null(), "{resp}");
    let entities = resp["data"]["_entities"].as_array().expect("entities");
    assert_eq!(entities.len(), 4);
    for (entity, id) in entities.iter().zip(&ids) {
        assert_eq!(&entity["id"], id);
        assert_eq!(entity["role"], "CUSTOMER");
    }
    assert!(entities[3].is_null());
    assert_eq!(
        commands.get("find") - finds_before,
        1,
        "four representations, one query"
    );
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    let ready = reqwest::get(format!("{}/ready", app.base))
        .await
        .expect("ready");
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.expect("json");
    assert_eq!(body["checks"]["mongodb"], "ok", "{body}");
    assert_eq!(
        reqwest::get(format!("{}/health", app.base))
            .await
            .expect("health")
            .status(),
        200
    );

    app.register_ok("ada@example.com").await;
    app.login("ada@example.com", PASSWORD).await;
    app.login("ada@example.com", "not the right password").await;
    let metrics = reqwest::get(format!("{}/metrics", app.metrics_base))
        .await
        .expect("metrics");
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.expect("text");
    for line in [
        "users_registrations_total 1",
        "users_logins_total{outcome=\"success\"} 1",
        "users_logins_total{outcome=\"failure\"} 1",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    // The MongoDB command count reported is what the driver saw, not an estimate.
    let commands = app.service.mongo().expect("mongo").commands().clone();
    let before = commands.total();
    let text = reqwest::get(format!("{}/metrics", app.metrics_base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let after = commands.total();
    let reported = text
        .lines()
        .find_map(|l| l.strip_prefix("users_db_commands_total "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("users_db_commands_total missing from\n{text}"));
    assert!(before > 0, "registering and logging in sent commands");
    assert!(
        (before..=after).contains(&reported),
        "{reported} not within {before}..={after}"
    );
}

#[test]
fn the_schema_file_matches_the_code() {
    let sdl = users::graphql::sdl();
    assert!(sdl.contains("type User @key(fields: \"id\")"), "{sdl}");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/users.graphql");
    kit::testing::check_schema_file(&path, &sdl);
}

#[test]
fn the_binary_prints_the_schema() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_users"))
        .arg("print-schema")
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).expect("utf-8"),
        users::graphql::sdl()
    );
}

#[test]
fn the_command_line_has_help_a_version_and_refuses_unknown_flags() {
    kit::testing::check_command_line(kit::testing::CommandLine {
        binary: env!("CARGO_BIN_EXE_users"),
        version: concat!("users ", env!("CARGO_PKG_VERSION")),
        help_mentions: &["serve", "print-schema", "create-admin"],
        bogus: &["serve", "--bogus"],
    });
}
