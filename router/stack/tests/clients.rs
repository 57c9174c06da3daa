//! Real frontend clients against the whole system: the Node scripts in
//! `router/tests/clients` (graphql-js introspection and `buildClientSchema`, Apollo Client's
//! persisted-query link, compression, a 5 MB body from `fetch`, GraphiQL in headless
//! Chromium) run against the embedded stack with its demo catalog. Missing Node, missing
//! packages or a missing Chromium fail this test: `scripts/test.sh` installs them.
//! Also: the `commerce` banner lists only what the router serves.

mod support;

use std::{path::Path, process::Command};

use kit::config::Env;
use stack::Options;
use support::project_dir;

fn require(ok: bool, what: &str) {
    assert!(
        ok,
        "{what} (scripts/test.sh installs everything these tests need)"
    );
}

#[tokio::test]
async fn node_clients_work_against_the_running_system() {
    let clients = project_dir().join("router/tests/clients");
    let node = Command::new("node").arg("--version").output();
    require(
        node.as_ref().is_ok_and(|o| o.status.success()),
        "`node` must be on the PATH",
    );
    require(
        clients.join("node_modules/graphql").is_dir()
            && clients.join("node_modules/@apollo/client").is_dir()
            && clients.join("node_modules/playwright-core").is_dir(),
        "router/tests/clients needs `npm ci`",
    );
    let chromium =
        std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    require(
        Path::new(&chromium).is_file(),
        &format!("{chromium} must exist (Debian's `chromium` package)"),
    );

    let data = tempfile::tempdir().unwrap();
    let env = Env::from_pairs([("DATA_DIR", data.path().to_string_lossy().into_owned())]);
    let options = Options {
        demo: true,
        project_dir: project_dir(),
        ephemeral_ports: true,
    };
    let stack = stack::start(&env, &options)
        .await
        .expect("the embedded stack starts");
    let router_url = format!("http://{}", stack.router.addr);

    let output = tokio::process::Command::new("node")
        .arg("--test")
        .arg("--test-reporter=spec")
        .arg("clients.test.mjs")
        .current_dir(&clients)
        .env("ROUTER_URL", &router_url)
        .env("CHROMIUM_PATH", &chromium)
        .output()
        .await
        .expect("node runs");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    stack.stop().await;
    println!("{report}");
    assert!(
        output.status.success(),
        "the Node client tests failed:\n{report}"
    );
    assert!(report.contains("ℹ fail 0"), "{report}");
    assert!(
        report.contains("ℹ pass 5"),
        "every client test ran:\n{report}"
    );
}

#[tokio::test]
async fn the_banner_lists_only_what_the_router_serves() {
    let start = |profile| async move {
        let mut config = router::RouterConfig {
            profile,
            ..Default::default()
        };
        config.listen.addr = "127.0.0.1:0".parse().unwrap();
        config.supergraph.path = project_dir().join("schema/supergraph.graphql");
        config.supergraph.poll_interval_secs = 0;
        router::spawn(config).await.expect("router starts")
    };
    let dev = start(router::config::Profile::Dev).await;
    let lines = stack::router_banner(&dev);
    let addr = dev.addr;
    assert_eq!(
        lines,
        [
            format!("  router (GraphQL)   http://{addr}/graphql"),
            format!("  GraphiQL           http://{addr}/"),
            format!("  API schema (SDL)   http://{addr}/schema.graphql"),
        ]
    );
    dev.shutdown().await;

    let production = start(router::config::Profile::Production).await;
    let addr = production.addr;
    assert_eq!(
        stack::router_banner(&production),
        [format!("  router (GraphQL)   http://{addr}/graphql")]
    );
    let page = reqwest::Client::new()
        .get(format!("http://{addr}/"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status(),
        404,
        "no GraphiQL is served where the banner lists none"
    );
    production.shutdown().await;
}
