//! What the payments service exposes where: the webhook (and sandbox pages) on the public
//! listener only, GraphQL and probes on the internal one, metrics on their own; and a
//! `/graphql` that answers only the router when the deployment has a shared secret.

mod support;

use serde_json::json;
use support::*;
use uuid::Uuid;

const SECRET: &str = "router-secret-0123456789abcdef-0123";

async fn status(http: &reqwest::Client, method: reqwest::Method, url: String) -> u16 {
    http.request(method, url)
        .send()
        .await
        .expect("answers")
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_public_listener_serves_only_the_webhook_and_metrics_are_internal() {
    use reqwest::Method;
    let app = spawn_app().await;
    let (public, internal, metrics) = (app.webhook_addr, app.addr, app.metrics_addr);
    assert_ne!(public, internal);
    for path in ["/graphql", "/metrics", "/ready", "/health"] {
        assert_eq!(
            status(&app.http, Method::GET, format!("http://{public}{path}")).await,
            404,
            "{path} is not public"
        );
    }
    assert_eq!(
        status(&app.http, Method::POST, format!("http://{public}/graphql")).await,
        404
    );
    assert_eq!(
        status(
            &app.http,
            Method::POST,
            format!("http://{internal}/webhooks/stripe")
        )
        .await,
        404
    );
    assert_eq!(
        status(&app.http, Method::GET, format!("http://{internal}/metrics")).await,
        404,
        "no metrics on the service port"
    );
    assert_eq!(
        status(&app.http, Method::GET, format!("http://{internal}/ready")).await,
        200
    );

    // The webhook answers on the public listener; its counters are read on the internal one.
    let (code, _) = app.post_webhook("{}", Some("t=1,v1=00")).await;
    assert_eq!(code, 400);
    let text = app
        .http
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("# TYPE payments_webhook_events counter"),
        "{text}"
    );
    assert_eq!(
        status(&app.http, Method::GET, format!("http://{metrics}/graphql")).await,
        404
    );
}

#[tokio::test]
async fn graphql_refuses_callers_without_the_router_secret_and_runs_nothing() {
    let app = spawn_app_with(Options {
        subgraph_secret: Some(SECRET.into()),
        ..Options::default()
    })
    .await;
    let user = Uuid::now_v7();
    let order = app.orders.add_order(user);
    let body =
        json!({ "query": START_CHECKOUT, "variables": { "orderId": order.order_id.to_string() } });
    let url = format!("http://{}/graphql", app.addr);
    let wrong = format!("{}x", &SECRET[..SECRET.len() - 1]);
    for secret in [
        None,
        Some(""),
        Some(wrong.as_str()),
        Some(&SECRET[..20]),
        Some("x"),
    ] {
        let mut req = app
            .http
            .post(&url)
            .header("authorization", app.customer(user))
            .json(&body);
        if let Some(s) = secret {
            req = req.header("x-subgraph-secret", s);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 403, "secret {secret:?}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
        assert!(body["data"].is_null());
    }
    assert_eq!(
        app.orders.calls.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no question to orders"
    );
    assert!(app.stripe.requests().is_empty(), "no Stripe call");
    assert_eq!(app.count("payments").await, 0, "no payment written");

    // The router's header passes; probes and the webhook need no secret.
    let ok = app
        .start_checkout(order.order_id, Some(&app.customer(user)))
        .await;
    assert!(ok["errors"].is_null(), "{ok}");
    assert_eq!(app.count("payments").await, 1);
    assert_eq!(
        app.http
            .get(format!("http://{}/ready", app.addr))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (code, _) = app.post_webhook("{}", None).await;
    assert_eq!(
        code, 400,
        "the webhook is guarded by Stripe's signature, not the router secret"
    );
}
