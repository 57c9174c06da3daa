//! `POST /webhooks/stripe`: signatures, idempotency, ordering, amount checks, and the
//! events that come out of it.

mod support;

use kit::testing::first_error_code;
use serde_json::{Value, json};
use support::*;
use uuid::Uuid;

struct Pending {
    app: TestApp,
    order_id: Uuid,
    payment_id: Uuid,
    session_id: String,
    user: Uuid,
}

async fn pending_payment() -> Pending {
    let app = spawn_app().await;
    let user = Uuid::now_v7();
    let order = app.orders.add_order(user);
    let (payment_id, session_id) = app.checkout_ok(&order).await;
    Pending {
        app,
        order_id: order.order_id,
        payment_id,
        session_id,
        user,
    }
}

impl Pending {
    fn event(&self, event_type: &str) -> Value {
        session_event(
            event_type,
            &self.session_id,
            self.order_id,
            self.payment_id,
            4498,
            "eur",
        )
    }

    /// Nothing behind the signature check ran: no event recorded, payment untouched, no outbox row.
    async fn assert_untouched(&self) {
        assert_eq!(self.app.count("stripe_events").await, 0);
        assert_eq!(self.app.payment_status(self.payment_id).await, "PENDING");
        assert_eq!(self.app.count("outbox").await, 0);
    }
}

#[tokio::test]
async fn a_completed_session_makes_the_payment_succeed_and_announces_it_once() {
    let p = pending_payment().await;
    let observed = Observed::start(p.app.bus.as_ref(), &["payments.>"]).await;

    let (status, body) = p.app.deliver(&p.event("checkout.session.completed")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(p.app.payment_status(p.payment_id).await, "SUCCEEDED");

    eventually("payments.succeeded on the bus", || async {
        !observed.on("payments.succeeded").is_empty()
    })
    .await;
    let events = observed.on("payments.succeeded");
    assert_eq!(events.len(), 1);
    let data = &events[0]["data"];
    assert_eq!(data["payment_id"], p.payment_id.to_string());
    assert_eq!(data["order_id"], p.order_id.to_string());
    assert_eq!(data["amount_minor"], 4498);
    assert_eq!(data["currency"], "EUR");

    let query = r#"query($id: ID!) { payment(id: $id) { status paymentIntentId succeededAt } }"#;
    let resp = p
        .app
        .graphql
        .post(
            query,
            json!({ "id": p.payment_id.to_string() }),
            Some(&p.app.customer(p.user)),
        )
        .await;
    assert_eq!(resp["data"]["payment"]["status"], "SUCCEEDED");
    assert_eq!(
        resp["data"]["payment"]["paymentIntentId"],
        format!("pi_{}", p.payment_id.simple())
    );
    assert!(resp["data"]["payment"]["succeededAt"].is_string());
}

#[tokio::test]
async fn the_same_event_three_times_and_a_second_event_for_the_session_apply_once() {
    let p = pending_payment().await;
    let observed = Observed::start(p.app.bus.as_ref(), &["payments.>"]).await;
    let completed = p.event("checkout.session.completed");
    for _ in 0..3 {
        let (status, body) = p.app.deliver(&completed).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, _) = p
        .app
        .deliver(&p.event("checkout.session.async_payment_succeeded"))
        .await;
    assert_eq!(status, 200);

    assert_eq!(p.app.count("payments").await, 1);
    assert_eq!(p.app.payment_status(p.payment_id).await, "SUCCEEDED");
    assert_eq!(
        p.app.count("stripe_events").await,
        2,
        "two distinct events recorded"
    );
    assert_eq!(
        p.app
            .count("outbox WHERE subject = 'payments.succeeded'")
            .await,
        1
    );
    eventually("outbox relayed", || async {
        p.app.outbox_pending().await == 0
    })
    .await;
    eventually("payments.succeeded observed", || async {
        !observed.on("payments.succeeded").is_empty()
    })
    .await;
    // Give a wrongly duplicated event the chance to show up before counting.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(observed.on("payments.succeeded").len(), 1);
}

#[tokio::test]
async fn a_bad_signature_is_rejected_without_echo_and_changes_nothing() {
    let p = pending_payment().await;
    let body = p.event("checkout.session.completed").to_string();
    let wrong = sign(&body, "whsec_someone_else", chrono::Utc::now().timestamp());
    let (status, text) = p.app.post_webhook(&body, Some(&wrong)).await;
    assert_eq!(status, 400);
    assert!(text.contains("invalid signature"), "{text}");
    assert!(
        !text.contains(&wrong[2..12]),
        "the header must not be echoed: {text}"
    );

    let (status, _) = p.app.post_webhook(&body, None).await;
    assert_eq!(status, 400, "a missing header is rejected");
    let (status, _) = p.app.post_webhook(&body, Some("t=garbage")).await;
    assert_eq!(status, 400, "a malformed header is rejected");
    p.assert_untouched().await;
}

#[tokio::test]
async fn a_stale_or_future_timestamp_is_rejected() {
    let p = pending_payment().await;
    let body = p.event("checkout.session.completed").to_string();
    let now = chrono::Utc::now().timestamp();
    for t in [now - 301, now + 301, now - 3600] {
        let (status, text) = p
            .app
            .post_webhook(&body, Some(&sign(&body, WEBHOOK_SECRET, t)))
            .await;
        assert_eq!(status, 400, "t = now {:+}", t - now);
        assert!(text.contains("tolerance"), "{text}");
    }
    p.assert_untouched().await;
}

#[tokio::test]
async fn a_tampered_body_is_rejected() {
    let p = pending_payment().await;
    let original = p.event("checkout.session.completed").to_string();
    let signature = sign(&original, WEBHOOK_SECRET, chrono::Utc::now().timestamp());
    let tampered = original.replace("4498", "1");
    assert_ne!(tampered, original);
    let (status, _) = p.app.post_webhook(&tampered, Some(&signature)).await;
    assert_eq!(status, 400);
    let (status, _) = p
        .app
        .post_webhook(&format!("{original} "), Some(&signature))
        .await;
    assert_eq!(
        status, 400,
        "even whitespace counts: the raw body is what is signed"
    );
    p.assert_untouched().await;
}

#[tokio::test]
async fn the_previous_secret_still_verifies_during_rotation_and_stripes_own_signer_is_accepted() {
    let p = pending_payment().await;
    let body = p.event("checkout.session.expired").to_string();
    let (status, text) = p
        .app
        .post_webhook(
            &body,
            Some(&sign(
                &body,
                OLD_WEBHOOK_SECRET,
                chrono::Utc::now().timestamp(),
            )),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(p.app.payment_status(p.payment_id).await, "EXPIRED");

    // async-stripe's own test signer, as an independent implementation of Stripe's scheme.
    let body = p.event("checkout.session.completed").to_string();
    let header = stripe_webhook::Webhook::generate_test_header(&body, WEBHOOK_SECRET, None);
    let (status, text) = p.app.post_webhook(&body, Some(&header)).await;
    assert_eq!(status, 200, "{text}");
}

#[tokio::test]
async fn unknown_event_types_are_acknowledged_and_ignored() {
    let p = pending_payment().await;
    let mut event = p.event("checkout.session.completed");
    event["type"] = json!("customer.subscription.created");
    let (status, text) = p.app.deliver(&event).await;
    assert_eq!(status, 200);
    assert!(text.contains("ignored"), "{text}");
    p.assert_untouched().await;
}

#[tokio::test]
async fn a_failure_after_a_success_never_moves_the_payment_back() {
    let p = pending_payment().await;
    assert_eq!(
        p.app
            .deliver(&p.event("checkout.session.completed"))
            .await
            .0,
        200
    );
    let (status, text) = p
        .app
        .deliver(&p.event("checkout.session.async_payment_failed"))
        .await;
    assert_eq!(status, 200);
    assert!(text.contains("stale"), "{text}");
    let (status, _) = p.app.deliver(&p.event("checkout.session.expired")).await;
    assert_eq!(status, 200);
    assert_eq!(p.app.payment_status(p.payment_id).await, "SUCCEEDED");
    assert_eq!(
        p.app
            .count("outbox WHERE subject = 'payments.failed'")
            .await,
        0
    );
    assert_eq!(p.app.count("outbox").await, 1);
}

#[tokio::test]
async fn an_async_failure_fails_the_payment_and_a_new_checkout_starts_a_new_attempt() {
    let p = pending_payment().await;
    let mut completed_unpaid = p.event("checkout.session.completed");
    completed_unpaid["data"]["object"]["payment_status"] = json!("unpaid");
    let (status, text) = p.app.deliver(&completed_unpaid).await;
    assert_eq!(status, 200);
    assert!(text.contains("awaiting_payment"), "{text}");
    assert_eq!(p.app.payment_status(p.payment_id).await, "PENDING");

    assert_eq!(
        p.app
            .deliver(&p.event("checkout.session.async_payment_failed"))
            .await
            .0,
        200
    );
    assert_eq!(p.app.payment_status(p.payment_id).await, "FAILED");
    assert_eq!(
        p.app
            .count("outbox WHERE subject = 'payments.failed'")
            .await,
        1
    );

    let resp = p
        .app
        .start_checkout(p.order_id, Some(&p.app.customer(p.user)))
        .await;
    assert_eq!(
        resp["data"]["startCheckout"]["payment"]["status"], "PENDING",
        "{resp}"
    );
    assert_ne!(
        resp["data"]["startCheckout"]["payment"]["checkoutSessionId"],
        json!(p.session_id)
    );
    assert_eq!(p.app.stripe.requests_to("/v1/checkout/sessions").len(), 2);
}

#[tokio::test]
async fn an_amount_mismatch_is_not_applied_but_flagged() {
    let p = pending_payment().await;
    let short = session_event(
        "checkout.session.completed",
        &p.session_id,
        p.order_id,
        p.payment_id,
        100,
        "eur",
    );
    let (status, text) = p.app.deliver(&short).await;
    assert_eq!(
        status, 200,
        "acknowledged, so Stripe does not retry forever"
    );
    assert!(text.contains("amount_mismatch"), "{text}");
    assert_eq!(p.app.payment_status(p.payment_id).await, "PENDING");
    assert_eq!(p.app.count("outbox").await, 0, "no payments.succeeded");
    let detail = p
        .app
        .text(&format!(
            "SELECT flag_detail FROM payments WHERE id = '{}'",
            p.payment_id
        ))
        .await
        .unwrap();
    assert!(
        detail.contains("100") && detail.contains("4498"),
        "{detail}"
    );

    let wrong_currency = session_event(
        "checkout.session.completed",
        &p.session_id,
        p.order_id,
        p.payment_id,
        4498,
        "usd",
    );
    assert_eq!(p.app.deliver(&wrong_currency).await.0, 200);
    assert_eq!(p.app.payment_status(p.payment_id).await, "PENDING");

    let query = r#"query($id: ID!) { payment(id: $id) { status flag } }"#;
    let resp = p
        .app
        .graphql
        .post(
            query,
            json!({ "id": p.payment_id.to_string() }),
            Some(&p.app.admin()),
        )
        .await;
    assert_eq!(
        resp["data"]["payment"],
        json!({ "status": "PENDING", "flag": "AMOUNT_MISMATCH" })
    );
    assert_eq!(
        p.app.count("payments WHERE flag = 'AMOUNT_MISMATCH'").await,
        1
    );
}

#[tokio::test]
async fn a_payment_is_visible_to_its_owner_and_admins_only() {
    let p = pending_payment().await;
    let query = r#"query($id: ID!) { payment(id: $id) { id } }"#;
    let vars = json!({ "id": p.payment_id.to_string() });
    let stranger = p
        .app
        .graphql
        .post(query, vars.clone(), Some(&p.app.customer(Uuid::now_v7())))
        .await;
    assert!(stranger["data"].is_null(), "{stranger}");
    assert_eq!(first_error_code(&stranger), Some("NOT_FOUND"));
    assert_eq!(stranger["errors"][0]["message"], "payment not found");
    let unknown = p
        .app
        .graphql
        .post(
            query,
            json!({ "id": Uuid::now_v7().to_string() }),
            Some(&p.app.admin()),
        )
        .await;
    assert!(unknown["data"].is_null(), "{unknown}");
    assert_eq!(first_error_code(&unknown), Some("NOT_FOUND"));
    assert_eq!(unknown["errors"][0]["message"], "payment not found");
    let anonymous = p.app.graphql.post(query, vars.clone(), None).await;
    assert_eq!(first_error_code(&anonymous), Some("UNAUTHENTICATED"));
    let owner = p
        .app
        .graphql
        .post(query, vars, Some(&p.app.customer(p.user)))
        .await;
    assert_eq!(owner["data"]["payment"]["id"], p.payment_id.to_string());
}

#[tokio::test]
async fn flagged_payments_are_listed_for_admins_page_by_page() {
    let app = spawn_app().await;
    let mut flagged = Vec::new();
    for i in 0..3 {
        let user = Uuid::now_v7();
        let order = app.orders.add_order(user);
        let (payment_id, session_id) = app.checkout_ok(&order).await;
        if i < 2 {
            let wrong = session_event(
                "checkout.session.completed",
                &session_id,
                order.order_id,
                payment_id,
                1,
                "eur",
            );
            assert_eq!(app.deliver(&wrong).await.0, 200);
            flagged.push(payment_id.to_string());
        }
    }
    let query = r#"query($first: Int, $after: String) {
      flaggedPayments(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id flag } } }
    }"#;
    let first = app
        .graphql
        .post(query, json!({ "first": 1 }), Some(&app.admin()))
        .await;
    let conn = &first["data"]["flaggedPayments"];
    assert_eq!(conn["totalCount"], 2, "{first}");
    assert_eq!(
        conn["edges"][0]["node"],
        json!({ "id": flagged[0], "flag": "AMOUNT_MISMATCH" })
    );
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    let next = app
        .graphql
        .post(
            query,
            json!({ "first": 1, "after": conn["pageInfo"]["endCursor"] }),
            Some(&app.admin()),
        )
        .await;
    let conn = &next["data"]["flaggedPayments"];
    assert_eq!(conn["edges"][0]["node"]["id"], flagged[1]);
    assert_eq!(conn["pageInfo"]["hasNextPage"], false);

    let customer = app
        .graphql
        .post(query, json!({}), Some(&app.customer(Uuid::now_v7())))
        .await;
    assert_eq!(first_error_code(&customer), Some("FORBIDDEN"));
}

#[tokio::test]
async fn nothing_is_acknowledged_unless_it_was_committed() {
    use sea_orm::ConnectionTrait as _;
    let p = pending_payment().await;
    let event = p.event("checkout.session.completed");
    // Writing the outbox fails: the whole transaction (event id, payment) must roll back.
    p.app
        .db
        .execute_unprepared("ALTER TABLE outbox RENAME TO outbox_away")
        .await
        .unwrap();
    let (status, text) = p.app.deliver(&event).await;
    assert_eq!(status, 500, "{text}");
    assert!(!text.contains("outbox"), "no database text leaks: {text}");
    p.app
        .db
        .execute_unprepared("ALTER TABLE outbox_away RENAME TO outbox")
        .await
        .unwrap();
    p.assert_untouched().await;

    // Stripe's retry of the same event then goes through.
    let (status, text) = p.app.deliver(&event).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(p.app.payment_status(p.payment_id).await, "SUCCEEDED");
    assert_eq!(
        p.app
            .count("outbox WHERE subject = 'payments.succeeded'")
            .await,
        1
    );
}

#[tokio::test]
async fn concurrent_redeliveries_of_one_event_apply_once() {
    let p = pending_payment().await;
    let event = p.event("checkout.session.completed");
    let deliveries = (0..5).map(|_| p.app.deliver(&event));
    for (status, body) in futures::future::join_all(deliveries).await {
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(p.app.count("stripe_events").await, 1);
    assert_eq!(
        p.app
            .count("outbox WHERE subject = 'payments.succeeded'")
            .await,
        1
    );
    assert_eq!(p.app.payment_status(p.payment_id).await, "SUCCEEDED");
}

#[tokio::test]
async fn a_second_paid_session_for_one_order_is_flagged_not_announced_twice() {
    use sea_orm::ConnectionTrait as _;
    let p = pending_payment().await;
    // The first session runs out, the customer starts over and pays the new one...
    p.app
        .db
        .execute_unprepared("UPDATE payments SET session_expires_at = NOW() - INTERVAL '1 minute'")
        .await
        .unwrap();
    let resp = p
        .app
        .start_checkout(p.order_id, Some(&p.app.customer(p.user)))
        .await;
    let second = resp["data"]["startCheckout"]["payment"]["checkoutSessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let paid_second = session_event(
        "checkout.session.completed",
        &second,
        p.order_id,
        p.payment_id,
        4498,
        "eur",
    );
    assert_eq!(p.app.deliver(&paid_second).await.0, 200);
    // ...and the old one is reported paid as well.
    assert_eq!(
        p.app
            .deliver(&p.event("checkout.session.completed"))
            .await
            .0,
        200
    );

    assert_eq!(p.app.payment_status(p.payment_id).await, "SUCCEEDED");
    assert_eq!(
        p.app
            .count("outbox WHERE subject = 'payments.succeeded'")
            .await,
        1
    );
    assert_eq!(
        p.app
            .count("payments WHERE flag = 'DUPLICATE_PAYMENT'")
            .await,
        1
    );
}
