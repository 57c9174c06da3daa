//! Events the payment consumer cannot process: parked (dead-letter stream, table, metric),
//! never blocking the events behind them, listed and replayed by an admin only.

use bytes::Bytes;
use kit::{
    bus::EventBus as _,
    contracts::{Event as _, PaymentSucceeded},
    testing::{first_error_code, quick_delivery},
};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{TestApp, eventually, spawn_app_with_delivery};

const PARKED: &str = "query($replayed: Boolean) {
  parkedOrderEvents(includeReplayed: $replayed) { id consumer subject payload reason attempts parkedAt replayedAt }
}";
const REPLAY: &str =
    "mutation($id: ID!) { replayParkedOrderEvent(id: $id) { id replayedAt attempts } }";

async fn parked(app: &TestApp, bearer: &str, replayed: bool) -> Value {
    app.client
        .post(PARKED, json!({ "replayed": replayed }), Some(bearer))
        .await
}

/// Messages in this test's dead-letter stream.
async fn dead_letters(app: &TestApp) -> u64 {
    let client = async_nats::connect(kit::testing::nats_url())
        .await
        .expect("NATS reachable");
    let js = async_nats::jetstream::new(client);
    let mut stream = js
        .get_stream(app.bus.dead_letter_stream())
        .await
        .expect("dead-letter stream exists");
    stream.info().await.expect("stream info").state.messages
}

#[tokio::test]
async fn a_poison_event_is_parked_without_blocking_the_payment_behind_it() {
    let app = spawn_app_with_delivery(quick_delivery(3)).await;
    let (_, bearer) = app.customer();
    let p = app.catalog.add("P", 1999, "EUR");
    let id = app.place(&bearer, &[(p, 1)]).await;

    // Two events no version of this code can apply, then a good one.
    app.bus
        .publish(
            PaymentSucceeded::SUBJECT,
            Uuid::now_v7(),
            Bytes::from_static(b"{not json"),
        )
        .await
        .unwrap();
    let mut unknown = app.payment_for(id).await;
    unknown.version = 2;
    app.publish_payment(&unknown).await;
    app.publish_payment(&app.payment_for(id).await).await;

    eventually("the order to be paid", || async {
        app.status_of(id).await == "PAID"
    })
    .await;
    app.consumer_settled().await;

    let admin = app.admin();
    let resp = parked(&app, &admin, false).await;
    let list = resp["data"]["parkedOrderEvents"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {resp}"))
        .clone();
    assert_eq!(list.len(), 2, "{resp}");
    assert_eq!(list[0]["consumer"], "orders-payments");
    assert_eq!(list[0]["subject"], "payments.succeeded");
    assert_eq!(list[0]["payload"], "{not json");
    assert!(
        list[0]["reason"]
            .as_str()
            .unwrap()
            .contains("cannot be read"),
        "{resp}"
    );
    assert_eq!(
        list[0]["attempts"], 1,
        "an unreadable event is parked at once"
    );
    assert!(list[0]["replayedAt"].is_null());
    assert!(
        list[1]["reason"].as_str().unwrap().contains("version 2"),
        "{resp}"
    );
    assert_eq!(
        dead_letters(&app).await,
        2,
        "both copied to the dead-letter stream"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"orders_events_parked_total{consumer="orders-payments"} 2"#),
        "{metrics}"
    );

    // Replaying what still cannot be read fails, says why, and leaves it parked.
    let replay = app
        .client
        .post(REPLAY, json!({ "id": list[0]["id"] }), Some(&admin))
        .await;
    assert_eq!(first_error_code(&replay), Some("CONFLICT"), "{replay}");
    let again = parked(&app, &admin, false).await;
    assert_eq!(
        again["data"]["parkedOrderEvents"].as_array().map(Vec::len),
        Some(2),
        "{again}"
    );
    assert_eq!(again["data"]["parkedOrderEvents"][0]["attempts"], 2);
}

#[tokio::test]
async fn only_admins_see_or_replay_parked_events() {
    let app = spawn_app_with_delivery(quick_delivery(3)).await;
    app.bus
        .publish(
            PaymentSucceeded::SUBJECT,
            Uuid::now_v7(),
            Bytes::from_static(b"[]"),
        )
        .await
        .unwrap();
    eventually("the event to be parked", || async {
        app.count("SELECT COUNT(*) FROM parked_events").await == 1
    })
    .await;
    let id = app.scalar_id("SELECT id FROM parked_events").await;

    let (_, customer) = app.customer();
    let listed = parked(&app, &customer, false).await;
    assert_eq!(first_error_code(&listed), Some("FORBIDDEN"), "{listed}");
    assert!(listed["data"].is_null(), "{listed}");
    let anonymous = app.client.post(PARKED, json!({}), None).await;
    assert_eq!(
        first_error_code(&anonymous),
        Some("UNAUTHENTICATED"),
        "{anonymous}"
    );
    let replay = app
        .client
        .post(REPLAY, json!({ "id": id }), Some(&customer))
        .await;
    assert_eq!(first_error_code(&replay), Some("FORBIDDEN"), "{replay}");
    // Nothing ran: the parked row is as it was.
    assert_eq!(app.count("SELECT attempts FROM parked_events").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM parked_events WHERE replayed_at IS NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn a_payment_that_keeps_failing_is_parked_after_its_budget_and_replays_once_fixed() {
    let app = spawn_app_with_delivery(quick_delivery(3)).await;
    let (_, bearer) = app.customer();
    let p = app.catalog.add("P", 500, "EUR");
    let id = app.place(&bearer, &[(p, 1)]).await;

    // Every attempt fails: the inbox the consumer records events in is gone.
    app.db()
        .execute_unprepared("ALTER TABLE inbox RENAME TO inbox_away")
        .await
        .expect("rename");
    app.publish_payment(&app.payment_for(id).await).await;
    eventually("the payment to be parked", || async {
        app.count("SELECT COUNT(*) FROM parked_events").await == 1
    })
    .await;
    assert_eq!(
        app.count("SELECT attempts FROM parked_events").await,
        3,
        "parked after the budget of three attempts"
    );
    let reason = crate::support::scalar_string(app.db(), "SELECT reason FROM parked_events").await;
    assert!(reason.contains("gave up after 3 attempts"), "{reason}");
    app.consumer_settled().await;
    assert_eq!(app.status_of(id).await, "PENDING");

    // Fixed: the replay applies it, once.
    app.db()
        .execute_unprepared("ALTER TABLE inbox_away RENAME TO inbox")
        .await
        .expect("rename back");
    let admin = app.admin();
    let parked_id = app.scalar_id("SELECT id FROM parked_events").await;
    let replay = app
        .client
        .post(REPLAY, json!({ "id": parked_id }), Some(&admin))
        .await;
    assert!(replay["errors"].is_null(), "{replay}");
    assert!(
        replay["data"]["replayParkedOrderEvent"]["replayedAt"].is_string(),
        "{replay}"
    );
    assert_eq!(app.status_of(id).await, "PAID");
    let twice = app
        .client
        .post(REPLAY, json!({ "id": parked_id }), Some(&admin))
        .await;
    assert_eq!(first_error_code(&twice), Some("CONFLICT"), "{twice}");
    assert_eq!(
        parked(&app, &admin, false).await["data"]["parkedOrderEvents"],
        json!([])
    );
    assert_eq!(
        parked(&app, &admin, true).await["data"]["parkedOrderEvents"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}
