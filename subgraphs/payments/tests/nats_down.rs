//! NATS down while Stripe calls: the webhook still commits and answers 2xx, and the event
//! goes out once NATS is back. Uses a nats-server of its own, never the shared one.

mod support;

use std::{sync::Arc, time::Duration};

use kit::{
    bus::{EventBus, NatsBus},
    testing::NatsServer,
};
use support::*;
use uuid::Uuid;

#[tokio::test]
async fn the_webhook_commits_while_nats_is_down_and_the_event_goes_out_when_it_returns() {
    let mut nats = NatsServer::start().await;
    let bus: Arc<dyn EventBus> = Arc::new(
        NatsBus::connect(&nats.url(), "down")
            .await
            .expect("own NATS reachable"),
    );
    let app = spawn_app_with(Options {
        bus: Some(bus.clone()),
        ..Options::default()
    })
    .await;
    let user = Uuid::now_v7();
    let order = app.orders.add_order(user);
    let (payment_id, session_id) = app.checkout_ok(&order).await;

    nats.stop().await;
    eventually("the bus notices NATS is gone", || async {
        bus.ping().await.is_err()
    })
    .await;

    let event = session_event(
        "checkout.session.completed",
        &session_id,
        order.order_id,
        payment_id,
        4498,
        "eur",
    );
    let (status, body) = app.deliver(&event).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.payment_status(payment_id).await, "SUCCEEDED");
    assert_eq!(
        app.outbox_pending().await,
        1,
        "the event waits in the outbox"
    );

    nats.resume().await;
    let observed = Observed::start(bus.as_ref(), &["payments.succeeded"]).await;
    eventually(
        "payments.succeeded delivered after NATS returned",
        || async { !observed.on("payments.succeeded").is_empty() },
    )
    .await;
    assert_eq!(
        observed.on("payments.succeeded")[0]["data"]["payment_id"],
        payment_id.to_string()
    );
    eventually("outbox drained", || async {
        app.outbox_pending().await == 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(observed.on("payments.succeeded").len(), 1);
}
