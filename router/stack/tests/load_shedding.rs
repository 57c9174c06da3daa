//! A login flood through the router: users sheds what its password-hashing queue cannot
//! hold, and the client gets HTTP 503 with `Retry-After`, not a 200 hiding the refusal.

mod support;

use kit::config::Env;
use serde_json::{Value, json};
use stack::Options;
use support::{Shopper, project_dir};

#[tokio::test]
async fn a_login_flood_is_answered_503_with_retry_after_through_the_router() {
    let data = tempfile::tempdir().unwrap();
    let env = Env::from_pairs([
        ("DATA_DIR", data.path().to_string_lossy().into_owned()),
        ("PASSWORD_HASH_CONCURRENCY", "1".to_owned()),
        ("PASSWORD_HASH_QUEUE", "1".to_owned()),
    ]);
    let options = Options {
        demo: false,
        project_dir: project_dir(),
        ephemeral_ports: true,
    };
    let stack = stack::start(&env, &options)
        .await
        .expect("the embedded stack starts");
    let mut shopper = Shopper::new(stack.router_url());
    shopper
        .register("flood@shop.example", "Flood", "a long enough passphrase")
        .await;

    let http = reqwest::Client::new();
    let login = json!({
        "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
        "variables": { "i": { "email": "flood@shop.example", "password": "a long enough passphrase" } },
    });
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let request = http
            .post(stack.router_url())
            .header("accept", "application/graphql-response+json")
            .json(&login);
        flood.spawn(async move {
            let resp = request.send().await.expect("the router answers");
            let status = resp.status().as_u16();
            let retry = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body: Value = resp.json().await.expect("JSON");
            (status, retry, body)
        });
    }
    let answers = flood.join_all().await;
    let shed: Vec<_> = answers
        .iter()
        .filter(|(status, _, _)| *status == 503)
        .collect();
    assert!(
        !shed.is_empty(),
        "with one place in the queue, a burst of twelve is partly refused: {answers:?}"
    );
    for (_, retry, body) in &shed {
        assert_eq!(retry.as_deref(), Some("1"), "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
            "{body}"
        );
        assert!(body["data"].is_null(), "{body}");
    }
    // Whatever was not shed got an ordinary answer.
    assert!(
        answers
            .iter()
            .all(|(status, _, _)| *status == 503 || *status == 200),
        "{answers:?}"
    );
    stack.stop().await;
}
