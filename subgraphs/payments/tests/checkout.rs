//! `startCheckout` against the Stripe stand-in: what is sent, reuse, replacement, and the
//! controls in front of it.

mod support;

use kit::testing::first_error_code;
use sea_orm::ConnectionTrait as _;
use serde_json::json;
use support::*;
use uuid::Uuid;

#[tokio::test]
async fn sends_the_authoritative_order_to_stripe_with_an_idempotency_key() {
    let app = spawn_app().await;
    let user = Uuid::now_v7();
    let order = app.orders.add_order(user);

    let resp = app
        .start_checkout(order.order_id, Some(&app.customer(user)))
        .await;
    let data = &resp["data"]["startCheckout"];
    assert!(resp["errors"].is_null(), "{resp}");
    let payment = &data["payment"];
    assert_eq!(payment["status"], "PENDING");
    assert_eq!(payment["provider"], "STRIPE");
    assert_eq!(payment["orderId"], order.order_id.to_string());
    assert_eq!(
        payment["amount"],
        json!({ "amount": "44.98", "currencyCode": "EUR" })
    );
    let session_id = payment["checkoutSessionId"].as_str().unwrap();
    assert!(session_id.starts_with("cs_test_"));
    assert_eq!(
        data["checkoutUrl"],
        format!("{}pay/{session_id}", app.stripe.url)
    );
    assert!(data["expiresAt"].as_str().is_some());

    let sent = app.stripe.requests_to("/v1/checkout/sessions");
    assert_eq!(sent.len(), 1);
    let req = &sent[0];
    let payment_id = payment["id"].as_str().unwrap();
    assert_eq!(
        req.idempotency_key.as_deref(),
        Some(format!("checkout-{payment_id}-1").as_str())
    );
    assert_eq!(
        req.authorization.as_deref(),
        Some("Bearer sk_test_payments_suite")
    );
    assert_eq!(req.field("mode"), Some("payment"));
    assert_eq!(
        req.field("client_reference_id"),
        Some(order.order_id.to_string().as_str())
    );
    assert_eq!(
        req.field("metadata[order_id]"),
        Some(order.order_id.to_string().as_str())
    );
    assert_eq!(req.field("metadata[payment_id]"), Some(payment_id));
    assert_eq!(
        req.field("payment_intent_data[metadata][payment_id]"),
        Some(payment_id)
    );
    assert_eq!(
        req.field("success_url"),
        Some("https://shop.example/checkout/success")
    );
    assert_eq!(
        req.field("cancel_url"),
        Some("https://shop.example/checkout/cancel")
    );
    for (i, line) in order.lines.iter().enumerate() {
        let f = |name: &str| {
            req.field(&format!("line_items[{i}]{name}"))
                .map(str::to_owned)
        };
        assert_eq!(f("[price_data][currency]").as_deref(), Some("eur"));
        assert_eq!(
            f("[price_data][unit_amount]"),
            Some(line.unit_price_minor.to_string())
        );
        assert_eq!(f("[quantity]"), Some(line.quantity.to_string()));
        assert_eq!(
            f("[price_data][product_data][name]"),
            Some(line.name.clone())
        );
    }
    assert!(req.field("line_items[2][quantity]").is_none());
    assert_eq!(app.count("payments").await, 1);
}

#[tokio::test]
async fn an_open_session_is_reused_and_an_expired_one_replaced() {
    let app = spawn_app().await;
    let user = Uuid::now_v7();
    let order = app.orders.add_order(user);
    let bearer = app.customer(user);

    let first = app.start_checkout(order.order_id, Some(&bearer)).await;
    let again = app.start_checkout(order.order_id, Some(&bearer)).await;
    assert_eq!(
        first["data"]["startCheckout"]["checkoutUrl"],
        again["data"]["startCheckout"]["checkoutUrl"]
    );
    assert_eq!(
        app.stripe.requests_to("/v1/checkout/sessions").len(),
        1,
        "the open session is reused"
    );

    app.db
        .execute_unprepared("UPDATE payments SET session_expires_at = NOW() - INTERVAL '1 minute'")
        .await
        .unwrap();
    let replaced = app.start_checkout(order.order_id, Some(&bearer)).await;
    let new_session = replaced["data"]["startCheckout"]["payment"]["checkoutSessionId"]
        .as_str()
        .unwrap();
    assert_ne!(
        Some(new_session),
        first["data"]["startCheckout"]["payment"]["checkoutSessionId"].as_str()
    );
    let sent = app.stripe.requests_to("/v1/checkout/sessions");
    assert_eq!(sent.len(), 2);
    let payment_id = replaced["data"]["startCheckout"]["payment"]["id"]
        .as_str()
        .unwrap();
    assert_eq!(
        sent[1].idempotency_key.as_deref(),
        Some(format!("checkout-{payment_id}-2").as_str())
    );
    assert_eq!(
        app.count("payments").await,
        1,
        "one payment per order, one attempt more"
    );
}

#[tokio::test]
async fn a_retry_after_a_failed_stripe_call_repeats_the_same_idempotency_key() {
    let app = spawn_app().await;
    let user = Uuid::now_v7();
    let order = app.orders.add_order(user);
    let bearer = app.customer(user);

    app.stripe.fail_next(1);
    let failed = app.start_checkout(order.order_id, Some(&bearer)).await;
    assert_eq!(
        first_error_code(&failed),
        Some("SERVICE_UNAVAILABLE"),
        "{failed}"
    );
    assert!(
        !failed.to_string().contains("stand-in"),
        "Stripe's text must not leak: {failed}"
    );

    let ok = app.start_checkout(order.order_id, Some(&bearer)).await;
    assert!(ok["errors"].is_null(), "{ok}");
    let sent = app.stripe.requests_to("/v1/checkout/sessions");
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0].idempotency_key, sent[1].idempotency_key,
        "the retry must not open a second session"
    );
}

#[tokio::test]
async fn only_the_owner_of_a_pending_order_can_check_out_and_nothing_runs_otherwise() {
    let app = spawn_app().await;
    let owner = Uuid::now_v7();
    let order = app.orders.add_order(owner);

    let anonymous = app.start_checkout(order.order_id, None).await;
    assert_eq!(first_error_code(&anonymous), Some("UNAUTHENTICATED"));
    let forged = app
        .start_checkout(order.order_id, Some("Bearer not.a.token"))
        .await;
    assert_eq!(first_error_code(&forged), Some("UNAUTHENTICATED"));
    assert_eq!(
        app.orders.calls.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no caller, no question to orders"
    );

    let stranger = app
        .start_checkout(order.order_id, Some(&app.customer(Uuid::now_v7())))
        .await;
    assert_eq!(first_error_code(&stranger), Some("FORBIDDEN"));
    let admin = app.start_checkout(order.order_id, Some(&app.admin())).await;
    assert_eq!(
        first_error_code(&admin),
        Some("FORBIDDEN"),
        "only the owner pays"
    );

    app.orders.set_status(order.order_id, "CANCELLED");
    let cancelled = app
        .start_checkout(order.order_id, Some(&app.customer(owner)))
        .await;
    assert_eq!(first_error_code(&cancelled), Some("CONFLICT"));

    let unknown = app
        .start_checkout(Uuid::now_v7(), Some(&app.customer(owner)))
        .await;
    assert_eq!(first_error_code(&unknown), Some("NOT_FOUND"));

    let bad_id = app
        .graphql
        .post(
            START_CHECKOUT,
            json!({ "orderId": "nope" }),
            Some(&app.customer(owner)),
        )
        .await;
    assert_eq!(first_error_code(&bad_id), Some("BAD_USER_INPUT"));
    assert_eq!(bad_id["errors"][0]["extensions"]["field"], "orderId");

    assert!(
        app.stripe.requests().is_empty(),
        "no Stripe call may happen"
    );
    assert_eq!(app.count("payments").await, 0, "no payment may be written");
}

#[tokio::test]
async fn orders_down_is_service_unavailable_and_touches_nothing() {
    let app = spawn_app_with(Options {
        orders_double: false,
        ..Options::default()
    })
    .await;
    let user = Uuid::now_v7();
    let resp = app
        .start_checkout(Uuid::now_v7(), Some(&app.customer(user)))
        .await;
    assert_eq!(
        first_error_code(&resp),
        Some("SERVICE_UNAVAILABLE"),
        "{resp}"
    );
    assert!(app.stripe.requests().is_empty());
    assert_eq!(app.count("payments").await, 0);
}

#[tokio::test]
async fn order_payment_is_resolved_in_one_statement_for_many_orders_and_only_for_the_owner() {
    let app = spawn_app().await;
    let user = Uuid::now_v7();
    let mut orders = Vec::new();
    for _ in 0..5 {
        let order = app.orders.add_order(user);
        app.checkout_ok(&order).await;
        orders.push(order.order_id);
    }
    let query = r#"query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Order { id payment { status amount { amount } } } } }"#;
    let reps: Vec<_> = orders
        .iter()
        .map(|id| json!({ "__typename": "Order", "id": id.to_string() }))
        .collect();
    let counter = &app.service.as_ref().unwrap().statements;
    // The outbox relay polls on the same pool once a second; the fewest statements seen
    // over a few runs is the query's own count.
    let mut fewest = u64::MAX;
    let mut resp = json!(null);
    for _ in 0..3 {
        let before = counter.get();
        resp = app
            .graphql
            .post(query, json!({ "reps": reps }), Some(&app.customer(user)))
            .await;
        fewest = fewest.min(counter.get() - before);
    }
    let entities = resp["data"]["_entities"]
        .as_array()
        .unwrap_or_else(|| panic!("{resp}"));
    assert_eq!(entities.len(), 5);
    for e in entities {
        assert_eq!(e["payment"]["status"], "PENDING");
        assert_eq!(e["payment"]["amount"]["amount"], "44.98");
    }
    assert_eq!(fewest, 1, "five payments, one statement");

    let stranger = app
        .graphql
        .post(
            query,
            json!({ "reps": reps }),
            Some(&app.customer(Uuid::now_v7())),
        )
        .await;
    assert!(
        stranger["data"]["_entities"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["payment"].is_null())
    );
    let admin = app
        .graphql
        .post(query, json!({ "reps": reps }), Some(&app.admin()))
        .await;
    assert!(
        admin["data"]["_entities"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["payment"]["status"] == "PENDING")
    );
    let anonymous = app.graphql.post(query, json!({ "reps": reps }), None).await;
    assert_eq!(first_error_code(&anonymous), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn concurrent_checkouts_for_one_order_share_one_session() {
    let app = spawn_app().await;
    let user = Uuid::now_v7();
    let order = app.orders.add_order(user);
    let bearer = app.customer(user);
    let calls = (0..4).map(|_| app.start_checkout(order.order_id, Some(&bearer)));
    let answers = futures::future::join_all(calls).await;
    let sessions: std::collections::HashSet<_> = answers
        .iter()
        .map(|a| {
            a["data"]["startCheckout"]["payment"]["checkoutSessionId"]
                .as_str()
                .unwrap_or_else(|| panic!("{a}"))
                .to_owned()
        })
        .collect();
    assert_eq!(sessions.len(), 1, "one session for all callers");
    let keys: std::collections::HashSet<_> = app
        .stripe
        .requests_to("/v1/checkout/sessions")
        .into_iter()
        .map(|r| r.idempotency_key)
        .collect();
    assert_eq!(
        keys.len(),
        1,
        "every request Stripe saw carried the same idempotency key"
    );
    assert_eq!(app.count("payments").await, 1);
}

#[tokio::test]
async fn a_session_replaced_while_still_payable_is_expired_at_stripe_first() {
    let app = spawn_app().await;
    let user = Uuid::now_v7();
    let order = app.orders.add_order(user);
    let bearer = app.customer(user);
    let (_, first_session) = app.checkout_ok(&order).await;

    // One minute left: too close to hand out again, but Stripe would still take money on it.
    app.db
        .execute_unprepared("UPDATE payments SET session_expires_at = NOW() + INTERVAL '1 minute'")
        .await
        .unwrap();
    // The provider cannot be reached: nothing is replaced and the old session stays recorded.
    app.stripe.fail_next(1);
    let failed = app.start_checkout(order.order_id, Some(&bearer)).await;
    assert_eq!(
        first_error_code(&failed),
        Some("SERVICE_UNAVAILABLE"),
        "{failed}"
    );
    assert_eq!(
        app.stripe.requests_to("/v1/checkout/sessions").len(),
        1,
        "no second session while the first is open"
    );
    let recorded = app.text("SELECT checkout_session_id FROM payments").await;
    assert_eq!(recorded.as_deref(), Some(first_session.as_str()));

    let replaced = app.start_checkout(order.order_id, Some(&bearer)).await;
    assert!(replaced["errors"].is_null(), "{replaced}");
    let second_session = replaced["data"]["startCheckout"]["payment"]["checkoutSessionId"]
        .as_str()
        .unwrap();
    assert_ne!(second_session, first_session);
    assert_eq!(
        app.stripe.expired_sessions(),
        [first_session.clone(), first_session.clone()],
        "the failed try and the retry"
    );
    let paths: Vec<String> = app.stripe.requests().into_iter().map(|r| r.path).collect();
    let expire_at = paths.iter().rposition(|p| p.ends_with("/expire")).unwrap();
    let created_at = paths
        .iter()
        .rposition(|p| p == "/v1/checkout/sessions")
        .unwrap();
    assert!(
        expire_at < created_at,
        "expired before the replacement was made: {paths:?}"
    );

    // The replacement is open and reused: no further expiry.
    let again = app.start_checkout(order.order_id, Some(&bearer)).await;
    assert_eq!(
        again["data"]["startCheckout"]["payment"]["checkoutSessionId"],
        second_session
    );
    assert_eq!(app.stripe.expired_sessions().len(), 2);
}

#[tokio::test]
async fn cancelling_the_order_expires_its_open_session_once() {
    use kit::contracts::{Envelope, Event as _, OrderCancelled};
    let app = spawn_app().await;
    let user = Uuid::now_v7();
    let order = app.orders.add_order(user);
    let other = app.orders.add_order(user);
    let (payment_id, session_id) = app.checkout_ok(&order).await;
    let (other_payment, _) = app.checkout_ok(&other).await;

    let event = Envelope::new(OrderCancelled {
        order_id: order.order_id,
        user_id: user,
    });
    let payload = serde_json::to_vec(&event).unwrap();
    app.bus
        .publish(
            OrderCancelled::SUBJECT,
            event.event_id,
            payload.clone().into(),
        )
        .await
        .unwrap();
    eventually("the payment of the cancelled order expired", || async {
        app.payment_status(payment_id).await == "EXPIRED"
    })
    .await;
    assert_eq!(
        app.stripe.expired_sessions(),
        std::slice::from_ref(&session_id)
    );
    assert_eq!(
        app.payment_status(other_payment).await,
        "PENDING",
        "other orders keep their session"
    );

    // A redelivery (a new message id, the same event) closes nothing twice and changes nothing.
    let again = Envelope::new(OrderCancelled {
        order_id: other.order_id,
        user_id: user,
    });
    app.bus
        .publish(
            OrderCancelled::SUBJECT,
            uuid::Uuid::now_v7(),
            payload.into(),
        )
        .await
        .unwrap();
    app.bus
        .publish(
            OrderCancelled::SUBJECT,
            again.event_id,
            serde_json::to_vec(&again).unwrap().into(),
        )
        .await
        .unwrap();
    eventually("the second order's payment expired", || async {
        app.payment_status(other_payment).await == "EXPIRED"
    })
    .await;
    let expired = app.stripe.expired_sessions();
    assert_eq!(
        expired.iter().filter(|s| **s == session_id).count(),
        1,
        "{expired:?}"
    );
    assert_eq!(expired.len(), 2);
}
