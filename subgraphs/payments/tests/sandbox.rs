//! The sandbox provider end to end: checkout page, "Pay", the signed event through the
//! webhook code path, and the payment announced.

mod support;

use serde_json::json;
use support::*;
use uuid::Uuid;

#[tokio::test]
async fn paying_on_the_sandbox_page_completes_the_payment_through_the_webhook() {
    let app = spawn_app_with(Options {
        sandbox: true,
        ..Options::default()
    })
    .await;
    let observed = Observed::start(app.bus.as_ref(), &["payments.>"]).await;
    let user = Uuid::now_v7();
    let order = app.orders.add_order(user);

    let resp = app
        .start_checkout(order.order_id, Some(&app.customer(user)))
        .await;
    let data = &resp["data"]["startCheckout"];
    assert_eq!(data["payment"]["provider"], "SANDBOX", "{resp}");
    let url = data["checkoutUrl"].as_str().unwrap();
    let session_id = data["payment"]["checkoutSessionId"].as_str().unwrap();
    assert_eq!(
        url,
        format!("http://{}/sandbox/checkout/{session_id}", app.webhook_addr)
    );
    assert!(
        app.stripe.requests().is_empty(),
        "the sandbox never calls Stripe"
    );

    let page = app.http.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("44.98 EUR"), "{html}");
    assert!(html.contains(&format!("/sandbox/checkout/{session_id}/pay")));

    let paid = app.http.post(format!("{url}/pay")).send().await.unwrap();
    assert_eq!(paid.status(), 303);
    assert_eq!(
        paid.headers()["location"],
        "https://shop.example/checkout/success"
    );

    let payment_id: Uuid = data["payment"]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(app.payment_status(payment_id).await, "SUCCEEDED");
    assert_eq!(
        app.count("stripe_events").await,
        2,
        "the completed session and the charge went through the webhook"
    );
    let query = r#"query($id: ID!) { payment(id: $id) { status receiptUrl } }"#;
    let resp = app
        .graphql
        .post(
            query,
            json!({ "id": payment_id.to_string() }),
            Some(&app.customer(user)),
        )
        .await;
    let receipt = resp["data"]["payment"]["receiptUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("{resp}"));
    let receipt_page = app.http.get(receipt).send().await.unwrap();
    assert_eq!(receipt_page.status(), 200);

    eventually("payments.succeeded observed", || async {
        !observed.on("payments.succeeded").is_empty()
    })
    .await;
    assert_eq!(
        observed.on("payments.succeeded")[0]["data"]["order_id"],
        order.order_id.to_string()
    );

    // A second click cannot pay twice.
    let again = app.http.post(format!("{url}/pay")).send().await.unwrap();
    assert_eq!(again.status(), 409);
    assert_eq!(app.count("stripe_events").await, 2);
    assert_eq!(
        app.count("outbox WHERE subject = 'payments.succeeded'")
            .await,
        1
    );
}

#[tokio::test]
async fn unknown_sandbox_sessions_are_not_found_and_sandbox_routes_are_off_with_stripe() {
    let sandbox = spawn_app_with(Options {
        sandbox: true,
        ..Options::default()
    })
    .await;
    let pay = sandbox
        .http
        .post(format!(
            "http://{}/sandbox/checkout/cs_sandbox_nope/pay",
            sandbox.webhook_addr
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(pay.status(), 404);
    assert_eq!(sandbox.count("stripe_events").await, 0);

    let stripe = spawn_app().await;
    let user = Uuid::now_v7();
    let order = stripe.orders.add_order(user);
    let (_, session_id) = stripe.checkout_ok(&order).await;
    let pay = stripe
        .http
        .post(format!(
            "http://{}/sandbox/checkout/{session_id}/pay",
            stripe.webhook_addr
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        pay.status(),
        404,
        "with Stripe configured there is no way around paying"
    );
    assert_eq!(stripe.count("stripe_events").await, 0);
}
