//! The main flows on the embedded (file) store, and the `create-admin` command on it.

use std::io::Write as _;

use serde_json::json;

use crate::support::{LOGOUT, PASSWORD, error_code, start_embedded};

#[tokio::test]
async fn the_main_flows_work_on_the_embedded_store_and_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = start_embedded(dir.path().to_owned()).await;

    let registered = app.register_ok("ada@example.com").await;
    assert_eq!(
        error_code(&app.register("ADA@example.com", "Ada", PASSWORD).await),
        Some("CONFLICT")
    );
    assert_eq!(
        error_code(&app.register("nope", "Ada", PASSWORD).await),
        Some("BAD_USER_INPUT")
    );

    let wrong = app.login("ada@example.com", "not the right password").await;
    let unknown = app.login("nobody@example.com", PASSWORD).await;
    assert_eq!(error_code(&wrong), Some("UNAUTHENTICATED"));
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );

    let login = app.login("ada@example.com", PASSWORD).await;
    let access = login["data"]["login"]["accessToken"]
        .as_str()
        .expect("token");
    assert_eq!(
        app.me(access).await["data"]["me"]["email"],
        "ada@example.com"
    );

    let r1 = login["data"]["login"]["refreshToken"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let rotated = app.refresh(&r1).await;
    let r2 = rotated["data"]["refreshSession"]["refreshToken"]
        .as_str()
        .expect("rotated")
        .to_owned();
    assert_eq!(
        error_code(&app.refresh(&r1).await),
        Some("UNAUTHENTICATED"),
        "reuse is refused"
    );
    assert_eq!(
        error_code(&app.refresh(&r2).await),
        Some("UNAUTHENTICATED"),
        "and revoked the session"
    );

    let other = registered["refreshToken"].as_str().expect("refresh");
    let out = app
        .gql(LOGOUT, json!({ "input": { "refreshToken": other } }), None)
        .await;
    assert_eq!(out["data"]["logout"]["success"], true, "{out}");
    assert_eq!(
        error_code(&app.refresh(other).await),
        Some("UNAUTHENTICATED")
    );
    app.service.stop().await;

    let restarted = start_embedded(dir.path().to_owned()).await;
    let again = restarted.login("ada@example.com", PASSWORD).await;
    assert!(again["errors"].is_null(), "{again}");
    assert_eq!(
        again["data"]["login"]["user"]["id"],
        registered["user"]["id"]
    );
}

#[test]
fn create_admin_reads_the_password_from_stdin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |email: &str| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_users"))
            .args(["create-admin", "--email", email, "--name", "Root"])
            .env("DATA_DIR", dir.path())
            .env_remove("MONGODB_URL")
            .env_remove("USERS_ADMIN_PASSWORD")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{PASSWORD}\n").as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    assert!(run("root@example.com").contains("Created"));
    assert!(run("root@example.com").contains("AlreadyAdmin"));
    let stored = std::fs::read_to_string(dir.path().join(users::store::file::FILE_NAME))
        .expect("store file");
    assert!(stored.contains("\"ADMIN\"") && !stored.contains(PASSWORD));
}
