//! Every status move, allowed and refused, through the API and the payment events.

use uuid::Uuid;

use crate::support::{TestApp, error_code, eventually, spawn_app};

async fn paid_order(app: &TestApp, bearer: &str) -> Uuid {
    let p = app.catalog.add("P", 500, "EUR");
    let id = app.place(bearer, &[(p, 2)]).await;
    app.publish_payment(&app.payment_for(id).await).await;
    eventually("the order to be paid", || async {
        app.status_of(id).await == "PAID"
    })
    .await;
    id
}

#[tokio::test]
async fn owner_and_admin_cancel_pending_orders_and_others_cannot_see_them() {
    let app = spawn_app().await;
    let (_, owner) = app.customer();
    let (_, stranger) = app.customer();
    let p = app.catalog.add("P", 500, "EUR");

    let mine = app.place(&owner, &[(p, 1)]).await;
    let resp = app.cancel(&stranger, mine).await;
    assert_eq!(
        error_code(&resp),
        "NOT_FOUND",
        "another customer's order does not exist for them"
    );
    assert_eq!(app.status_of(mine).await, "PENDING");

    let resp = app.cancel(&owner, mine).await;
    assert_eq!(
        resp["data"]["cancelOrder"]["order"]["status"], "CANCELLED",
        "{resp}"
    );
    assert!(resp["data"]["cancelOrder"]["order"]["cancelledAt"].is_string());

    let other = app.place(&owner, &[(p, 1)]).await;
    let resp = app.cancel(&app.admin(), other).await;
    assert_eq!(
        resp["data"]["cancelOrder"]["order"]["status"], "CANCELLED",
        "{resp}"
    );

    // Cancelling twice is a conflict naming the current status.
    let resp = app.cancel(&owner, mine).await;
    assert_eq!(error_code(&resp), "CONFLICT");
    assert!(
        resp["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("CANCELLED")
    );

    // A cancelled order cannot be delivered either.
    let resp = app.deliver(&app.admin(), mine).await;
    assert_eq!(error_code(&resp), "CONFLICT");

    app.outbox_drained().await;
    let cancelled = app.events("orders.cancelled").await;
    assert_eq!(cancelled.len(), 2);
    assert!(
        cancelled
            .iter()
            .any(|e| e["data"]["order_id"] == mine.to_string())
    );

    let unknown = app.cancel(&app.admin(), Uuid::now_v7()).await;
    assert_eq!(error_code(&unknown), "NOT_FOUND");
    let anonymous = app
        .client
        .post(
            "mutation { cancelOrder(input: { orderId: \"x\" }) { order { id } } }",
            serde_json::json!({}),
            None,
        )
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
}

#[tokio::test]
async fn delivery_needs_an_admin_and_a_paid_order() {
    let app = spawn_app().await;
    let (_, owner) = app.customer();
    let p = app.catalog.add("P", 500, "EUR");

    let pending = app.place(&owner, &[(p, 1)]).await;
    let resp = app.deliver(&app.admin(), pending).await;
    assert_eq!(error_code(&resp), "CONFLICT");
    assert_eq!(
        resp["errors"][0]["message"],
        "the order is PENDING and cannot become DELIVERED"
    );

    let paid = paid_order(&app, &owner).await;
    let resp = app.deliver(&owner, paid).await;
    assert_eq!(
        error_code(&resp),
        "FORBIDDEN",
        "customers cannot mark delivery"
    );
    assert_eq!(app.status_of(paid).await, "PAID");

    // A paid order can no longer be cancelled, by anyone.
    for bearer in [&owner, &app.admin()] {
        let resp = app.cancel(bearer, paid).await;
        assert_eq!(error_code(&resp), "CONFLICT");
        assert_eq!(
            resp["errors"][0]["message"],
            "the order is PAID and cannot become CANCELLED"
        );
    }

    let resp = app.deliver(&app.admin(), paid).await;
    assert_eq!(
        resp["data"]["markOrderDelivered"]["order"]["status"], "DELIVERED",
        "{resp}"
    );
    let resp = app.deliver(&app.admin(), paid).await;
    assert_eq!(error_code(&resp), "CONFLICT");
    let resp = app.cancel(&owner, paid).await;
    assert_eq!(error_code(&resp), "CONFLICT");

    let order = app.order(&owner, paid).await;
    let order = &order["data"]["order"];
    assert_eq!(order["status"], "DELIVERED");
    assert!(
        order["paidAt"].is_string()
            && order["deliveredAt"].is_string()
            && order["cancelledAt"].is_null()
    );

    app.outbox_drained().await;
    assert_eq!(app.events("orders.paid").await.len(), 1);
    let delivered = app.events("orders.delivered").await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0]["data"]["order_id"], paid.to_string());
}

#[tokio::test]
async fn concurrent_cancellations_let_exactly_one_win() {
    let app = spawn_app().await;
    let (_, owner) = app.customer();
    let p = app.catalog.add("P", 500, "EUR");
    let id = app.place(&owner, &[(p, 1)]).await;
    let admin = app.admin();
    let attempts = (0..8).map(|i| {
        let bearer = if i % 2 == 0 {
            owner.clone()
        } else {
            admin.clone()
        };
        let app = &app;
        async move { app.cancel(&bearer, id).await }
    });
    let results = futures::future::join_all(attempts).await;
    let wins = results
        .iter()
        .filter(|r| r["data"]["cancelOrder"]["order"]["status"] == "CANCELLED")
        .count();
    let conflicts = results
        .iter()
        .filter(|r| kit::testing::first_error_code(r) == Some("CONFLICT"))
        .count();
    assert_eq!((wins, conflicts), (1, 7), "{results:?}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE subject = 'orders.cancelled'")
            .await,
        1
    );
}
