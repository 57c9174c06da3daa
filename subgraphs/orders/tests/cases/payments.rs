//! `payments.succeeded`: paying orders exactly once, refusing what cannot be applied, and
//! two replicas sharing the durable consumer. Also the payable-order responder.

use std::time::Duration;

use kit::{
    bus::request_json,
    contracts::{PayableOrderReply, PayableOrderRequest, Reply, subjects},
};
use uuid::Uuid;

use crate::support::{count, eventually, spawn_app, spawn_replica};

#[tokio::test]
async fn a_duplicated_payment_event_pays_the_order_once() {
    let app = spawn_app().await;
    let (_, bearer) = app.customer();
    let p = app.catalog.add("P", 1999, "EUR");
    let id = app.place(&bearer, &[(p, 2)]).await;

    let payment = app.payment_for(id).await;
    app.publish_payment(&payment).await;
    app.republish(&payment).await;
    // The same payment announced again under a new event id changes nothing either.
    let mut again = payment.clone();
    again.event_id = Uuid::now_v7();
    app.publish_payment(&again).await;

    app.consumer_settled().await;
    assert_eq!(app.status_of(id).await, "PAID");
    let order = app.order(&bearer, id).await;
    assert!(order["data"]["order"]["paidAt"].is_string(), "{order}");
    app.outbox_drained().await;
    let paid = app.events("orders.paid").await;
    assert_eq!(paid.len(), 1);
    assert_eq!(
        paid[0]["data"]["payment_id"],
        payment.data.payment_id.to_string()
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM inbox").await,
        2,
        "two distinct events recorded"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM payment_issues").await, 0);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"orders_payment_events_total{outcome="applied"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"orders_payment_events_total{outcome="duplicate"} 1"#),
        "{metrics}"
    );
    // The statement count the benchmark reads, under the registry's prefix.
    let statements = metrics
        .lines()
        .find_map(|l| l.strip_prefix("orders_db_statements_total "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("orders_db_statements_total missing from\n{metrics}"));
    assert!(statements > 0, "{metrics}");
    assert!(
        metrics.contains(r#"orders_payment_events_total{outcome="already_applied"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_payment_for_a_cancelled_order_is_not_applied_and_asks_for_a_refund() {
    let app = spawn_app().await;
    let (_, bearer) = app.customer();
    let p = app.catalog.add("P", 700, "EUR");
    let id = app.place(&bearer, &[(p, 1)]).await;
    let payment = app.payment_for(id).await;
    let resp = app.cancel(&bearer, id).await;
    assert_eq!(
        resp["data"]["cancelOrder"]["order"]["status"], "CANCELLED",
        "{resp}"
    );

    app.publish_payment(&payment).await;
    app.consumer_settled().await;
    assert_eq!(app.status_of(id).await, "CANCELLED");
    app.outbox_drained().await;
    assert!(app.events("orders.paid").await.is_empty());
    let conflicts = app.events("orders.payment_conflict").await;
    assert_eq!(conflicts.len(), 1);
    let data = &conflicts[0]["data"];
    assert_eq!(data["order_id"], id.to_string());
    assert_eq!(data["payment_id"], payment.data.payment_id.to_string());
    assert_eq!(
        (data["amount_minor"].as_i64(), data["order_status"].as_str()),
        (Some(700), Some("CANCELLED"))
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_issues WHERE kind = 'ORDER_NOT_PAYABLE'")
            .await,
        1
    );

    // A second, different payment for an order already paid is refunded the same way.
    let other = app.place(&bearer, &[(p, 1)]).await;
    app.publish_payment(&app.payment_for(other).await).await;
    app.publish_payment(&app.payment_for(other).await).await;
    app.consumer_settled().await;
    assert_eq!(app.status_of(other).await, "PAID");
    app.outbox_drained().await;
    let conflicts = app.events("orders.payment_conflict").await;
    assert_eq!(conflicts.len(), 2);
    assert!(
        conflicts
            .iter()
            .any(|c| c["data"]["order_status"] == "PAID")
    );
}

#[tokio::test]
async fn a_payment_of_the_wrong_amount_or_currency_is_flagged_not_applied() {
    let app = spawn_app().await;
    let (_, bearer) = app.customer();
    let p = app.catalog.add("P", 1000, "EUR");
    let id = app.place(&bearer, &[(p, 1)]).await;

    let mut short = app.payment_for(id).await;
    short.data.amount_minor -= 1;
    app.publish_payment(&short).await;
    let mut dollars = app.payment_for(id).await;
    dollars.data.currency = "USD".into();
    app.publish_payment(&dollars).await;
    let mut unknown = app.payment_for(id).await;
    unknown.data.order_id = Uuid::now_v7();
    app.publish_payment(&unknown).await;

    app.consumer_settled().await;
    assert_eq!(app.status_of(id).await, "PENDING");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_issues WHERE kind = 'AMOUNT_MISMATCH'")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM payment_issues WHERE kind = 'UNKNOWN_ORDER'")
            .await,
        1
    );
    app.outbox_drained().await;
    assert!(app.events("orders.paid").await.is_empty());

    // The right payment still goes through afterwards.
    app.publish_payment(&app.payment_for(id).await).await;
    eventually("the order to be paid", || async {
        app.status_of(id).await == "PAID"
    })
    .await;
}

#[tokio::test]
async fn two_replicas_share_the_consumer_and_apply_each_payment_once() {
    let app = spawn_app().await;
    let replica = spawn_replica(&app).await;
    let (_, bearer) = app.customer();
    let p = app.catalog.add("P", 250, "EUR");
    let mut orders = Vec::new();
    for _ in 0..20 {
        orders.push(app.place(&bearer, &[(p, 1)]).await);
    }
    let mut payments = Vec::new();
    for id in &orders {
        payments.push(app.payment_for(*id).await);
    }
    for payment in &payments {
        app.publish_payment(payment).await;
        // Redelivered copies race the originals across the two replicas.
        app.republish(payment).await;
    }
    app.consumer_settled().await;
    for id in &orders {
        assert_eq!(app.status_of(*id).await, "PAID");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM inbox").await, 20);
    app.outbox_drained().await;
    let paid = app.events("orders.paid").await;
    assert_eq!(paid.len(), 20, "one orders.paid per order");
    let mut ids: Vec<String> = paid
        .iter()
        .map(|e| e["data"]["order_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20);
    assert_eq!(
        count(&replica.db, "SELECT COUNT(*) FROM payment_issues").await,
        0
    );
    replica.stop().await;
}

#[tokio::test]
async fn answers_payable_order_requests_from_the_stored_snapshot() {
    let app = spawn_app().await;
    let (user, bearer) = app.customer();
    let a = app.catalog.add("A", 300, "GBP");
    let b = app.catalog.add("B", 45, "GBP");
    let id = app.place(&bearer, &[(a, 2), (b, 4)]).await;
    app.catalog.set_price(a, 1);

    let reply: PayableOrderReply = request_json(
        app.bus.as_ref(),
        subjects::RPC_ORDERS_PAYABLE,
        &PayableOrderRequest { order_id: id },
        Duration::from_secs(5),
    )
    .await
    .expect("orders answers");
    let Reply::Ok { value } = reply else {
        panic!("expected an order: {reply:?}")
    };
    assert_eq!((value.order_id, value.user_id), (id, user));
    assert_eq!(
        (
            value.status.as_str(),
            value.currency.as_str(),
            value.total_minor
        ),
        ("PENDING", "GBP", 780)
    );
    assert_eq!(value.lines.len(), 2);
    assert_eq!(
        (
            value.lines[0].product_id,
            value.lines[0].unit_price_minor,
            value.lines[0].quantity
        ),
        (a, 300, 2)
    );

    let reply: PayableOrderReply = request_json(
        app.bus.as_ref(),
        subjects::RPC_ORDERS_PAYABLE,
        &PayableOrderRequest {
            order_id: Uuid::now_v7(),
        },
        Duration::from_secs(5),
    )
    .await
    .expect("orders answers");
    assert!(
        matches!(reply, Reply::Error { ref error } if error.code == "NOT_FOUND"),
        "{reply:?}"
    );
}
