//! Refunds by an admin and on `orders.payment_conflict`, through the Stripe stand-in.

mod support;

use kit::{
    contracts::{Envelope, Event as _, OrderPaymentConflict},
    testing::first_error_code,
};
use serde_json::json;
use support::*;
use uuid::Uuid;

const REFUND: &str = r#"mutation($id: ID!) { refundPayment(input: { paymentId: $id }) { payment { status refundedAt } } }"#;

async fn paid(app: &TestApp) -> (Uuid, Uuid) {
    let user = Uuid::now_v7();
    let order = app.orders.add_order(user);
    let (payment_id, session_id) = app.checkout_ok(&order).await;
    let event = session_event(
        "checkout.session.completed",
        &session_id,
        order.order_id,
        payment_id,
        4498,
        "eur",
    );
    assert_eq!(app.deliver(&event).await.0, 200);
    (payment_id, order.order_id)
}

#[tokio::test]
async fn an_admin_refund_goes_to_stripe_once_and_is_announced() {
    let app = spawn_app().await;
    let observed = Observed::start(app.bus.as_ref(), &["payments.refunded"]).await;
    let (payment_id, order_id) = paid(&app).await;

    let resp = app
        .graphql
        .post(
            REFUND,
            json!({ "id": payment_id.to_string() }),
            Some(&app.admin()),
        )
        .await;
    assert_eq!(
        resp["data"]["refundPayment"]["payment"]["status"], "REFUNDED",
        "{resp}"
    );
    let again = app
        .graphql
        .post(
            REFUND,
            json!({ "id": payment_id.to_string() }),
            Some(&app.admin()),
        )
        .await;
    assert_eq!(
        again["data"]["refundPayment"]["payment"]["status"],
        "REFUNDED"
    );

    let refunds = app.stripe.requests_to("/v1/refunds");
    assert_eq!(refunds.len(), 1, "a refunded payment is not refunded again");
    assert_eq!(
        refunds[0].field("payment_intent"),
        Some(format!("pi_{}", payment_id.simple()).as_str())
    );
    assert_eq!(refunds[0].field("amount"), Some("4498"));
    assert_eq!(
        refunds[0].idempotency_key.as_deref(),
        Some(format!("refund-{payment_id}").as_str())
    );

    eventually("payments.refunded observed", || async {
        !observed.on("payments.refunded").is_empty()
    })
    .await;
    let event = &observed.on("payments.refunded")[0]["data"];
    assert_eq!(event["order_id"], order_id.to_string());
    assert_eq!(event["amount_minor"], 4498);
    assert_eq!(
        app.count("outbox WHERE subject = 'payments.refunded'")
            .await,
        1
    );
}

#[tokio::test]
async fn only_admins_refund_and_only_succeeded_payments() {
    let app = spawn_app().await;
    let (payment_id, _) = paid(&app).await;
    let customer = app
        .graphql
        .post(
            REFUND,
            json!({ "id": payment_id.to_string() }),
            Some(&app.customer(Uuid::now_v7())),
        )
        .await;
    assert_eq!(first_error_code(&customer), Some("FORBIDDEN"));
    let anonymous = app
        .graphql
        .post(REFUND, json!({ "id": payment_id.to_string() }), None)
        .await;
    assert_eq!(first_error_code(&anonymous), Some("UNAUTHENTICATED"));
    let unknown = app
        .graphql
        .post(
            REFUND,
            json!({ "id": Uuid::now_v7().to_string() }),
            Some(&app.admin()),
        )
        .await;
    assert_eq!(first_error_code(&unknown), Some("NOT_FOUND"));

    let user = Uuid::now_v7();
    let pending = app.orders.add_order(user);
    let (pending_id, _) = app.checkout_ok(&pending).await;
    let not_paid = app
        .graphql
        .post(
            REFUND,
            json!({ "id": pending_id.to_string() }),
            Some(&app.admin()),
        )
        .await;
    assert_eq!(first_error_code(&not_paid), Some("CONFLICT"));

    assert!(
        app.stripe.requests_to("/v1/refunds").is_empty(),
        "no refund may reach Stripe"
    );
    assert_eq!(app.payment_status(payment_id).await, "SUCCEEDED");
    assert_eq!(
        app.count("outbox WHERE subject = 'payments.refunded'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_payment_conflict_from_orders_is_refunded_automatically_once() {
    let app = spawn_app().await;
    let (payment_id, order_id) = paid(&app).await;
    let conflict = |_: ()| {
        Envelope::new(OrderPaymentConflict {
            order_id,
            payment_id,
            amount_minor: 4498,
            currency: "EUR".into(),
            order_status: "CANCELLED".into(),
        })
    };
    let first = conflict(());
    app.bus
        .publish(
            OrderPaymentConflict::SUBJECT,
            first.event_id,
            serde_json::to_vec(&first).unwrap().into(),
        )
        .await
        .unwrap();
    eventually("payment refunded", || async {
        app.payment_status(payment_id).await == "REFUNDED"
    })
    .await;
    assert_eq!(
        app.count("inbox").await,
        1,
        "the event is recorded as handled"
    );

    // A second report about the same payment (another event id) changes nothing.
    let second = conflict(());
    app.bus
        .publish(
            OrderPaymentConflict::SUBJECT,
            second.event_id,
            serde_json::to_vec(&second).unwrap().into(),
        )
        .await
        .unwrap();
    let refunded_events = || async {
        app.count("outbox WHERE subject = 'payments.refunded'")
            .await
    };
    eventually("outbox relayed", || async {
        app.outbox_pending().await == 0
    })
    .await;
    // The service's consumer has handled (and acknowledged) the second report.
    app.settled(payments::refunds::CONFLICT_CONSUMER).await;
    assert_eq!(refunded_events().await, 1);
    assert_eq!(app.stripe.requests_to("/v1/refunds").len(), 1);
}

const PARKED: &str =
    "{ parkedPaymentEvents { id consumer subject payload reason attempts replayedAt } }";

#[tokio::test]
async fn an_unreadable_conflict_is_parked_and_the_refund_behind_it_still_happens() {
    let app = spawn_app().await;
    let (payment_id, order_id) = paid(&app).await;
    app.bus
        .publish(
            OrderPaymentConflict::SUBJECT,
            Uuid::now_v7(),
            b"{\"truncated".to_vec().into(),
        )
        .await
        .unwrap();
    let conflict = Envelope::new(OrderPaymentConflict {
        order_id,
        payment_id,
        amount_minor: 4498,
        currency: "EUR".into(),
        order_status: "CANCELLED".into(),
    });
    app.bus
        .publish(
            OrderPaymentConflict::SUBJECT,
            conflict.event_id,
            serde_json::to_vec(&conflict).unwrap().into(),
        )
        .await
        .unwrap();
    eventually("payment refunded", || async {
        app.payment_status(payment_id).await == "REFUNDED"
    })
    .await;
    eventually("the unreadable event parked", || async {
        app.count("parked_events").await == 1
    })
    .await;

    let listed = app
        .graphql
        .post(PARKED, json!({}), Some(&app.admin()))
        .await;
    let parked = &listed["data"]["parkedPaymentEvents"];
    assert_eq!(parked.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(parked[0]["consumer"], "payments-refund-on-conflict");
    assert_eq!(parked[0]["subject"], "orders.payment_conflict");
    assert_eq!(parked[0]["payload"], "{\"truncated");
    assert!(
        parked[0]["reason"]
            .as_str()
            .unwrap()
            .contains("cannot be read"),
        "{listed}"
    );
    let metrics = app
        .http
        .get(format!("http://{}/metrics", app.metrics_addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .contains(r#"payments_events_parked_total{consumer="payments-refund-on-conflict"} 1"#),
        "{metrics}"
    );

    // Customers see nothing and replay nothing.
    let customer = app.customer(Uuid::now_v7());
    let refused = app.graphql.post(PARKED, json!({}), Some(&customer)).await;
    assert_eq!(first_error_code(&refused), Some("FORBIDDEN"), "{refused}");
    let replay = "mutation($id: ID!) { replayParkedPaymentEvent(id: $id) { replayedAt } }";
    let refused = app
        .graphql
        .post(replay, json!({ "id": parked[0]["id"] }), Some(&customer))
        .await;
    assert_eq!(first_error_code(&refused), Some("FORBIDDEN"), "{refused}");
    assert_eq!(
        app.scalar("SELECT attempts FROM parked_events").await,
        1,
        "nothing ran"
    );
    // An admin's replay of what still cannot be read fails and keeps it parked.
    let again = app
        .graphql
        .post(replay, json!({ "id": parked[0]["id"] }), Some(&app.admin()))
        .await;
    assert_eq!(first_error_code(&again), Some("CONFLICT"), "{again}");
    assert_eq!(
        app.count("parked_events WHERE replayed_at IS NULL").await,
        1
    );
}
