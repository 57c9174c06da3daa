//! Typed events end to end: a contract's events are published into the outbox inside the
//! caller's transaction, and a typed consumer decodes them, applies the version rule and
//! runs its handler in the transaction that records the event in the inbox, once.
//!
//! The handlers here write what a real one writes: an event of their own, into the outbox.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use kit::{
    bus::{Delivery, EventBus, HandlerError, InProcessBus},
    contracts::{Envelope, Event, OrderDelivered, PaymentRefunded},
    outbox::{self, Consumer, Handled},
    parking::ParkingLot,
    testing::{TestBus, TestDatabase, eventually, quick_delivery},
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement, TransactionTrait as _};
use sea_orm_migration::SchemaManager;
use uuid::Uuid;

const CONSUMER: &str = "typed-events-test";

async fn migrated(db: &DatabaseConnection) {
    let manager = SchemaManager::new(db);
    outbox::create_tables(&manager).await.unwrap();
    kit::parking::create_table(&manager).await.unwrap();
}

async fn sqlite() -> DatabaseConnection {
    let db = Database::connect("sqlite::memory:").await.unwrap();
    migrated(&db).await;
    db
}

async fn count(db: &DatabaseConnection, table_and_filter: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table_and_filter}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

fn delivery_of<E: Event>(event: &Envelope<E>) -> Delivery {
    Delivery {
        subject: E::SUBJECT.to_owned(),
        payload: serde_json::to_vec(event).unwrap().into(),
        attempt: 1,
    }
}

fn delivered(order: u128) -> Envelope<OrderDelivered> {
    Envelope::new(OrderDelivered {
        order_id: Uuid::from_u128(order),
    })
}

/// A consumer of `orders.delivered` that publishes a refund event for each order and
/// then fails while `failing` is set; counts its calls.
fn refunding_consumer(
    lot: &ParkingLot,
    calls: Arc<AtomicUsize>,
    failing: Arc<Mutex<bool>>,
) -> Consumer<OrderDelivered, Uuid> {
    Consumer::<OrderDelivered, Uuid>::new(lot, CONSUMER, move |txn, event| {
        let (calls, failing) = (calls.clone(), failing.clone());
        Box::pin(async move {
            calls.fetch_add(1, Ordering::SeqCst);
            let refund = PaymentRefunded {
                payment_id: Uuid::now_v7(),
                order_id: event.data.order_id,
                amount_minor: 100,
                currency: "EUR".into(),
            };
            outbox::publish(txn, &refund).await?;
            if *failing.lock().unwrap() {
                return Err(HandlerError::Retry("the provider is down".into()));
            }
            Ok(event.data.order_id)
        })
    })
}

/// A handler that fails leaves neither its writes nor the inbox mark; once it succeeds,
/// both are there, and the same event again is a duplicate that runs nothing.
async fn the_inbox_mark_shares_the_handlers_transaction(
    db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
) {
    let lot = ParkingLot::new(db.clone(), bus);
    let calls = Arc::new(AtomicUsize::new(0));
    let failing = Arc::new(Mutex::new(true));
    let consumer = refunding_consumer(&lot, calls.clone(), failing.clone());
    let event = delivered(7);
    let delivery = delivery_of(&event);

    let err = consumer.handle(&delivery).await.unwrap_err();
    assert!(matches!(err, HandlerError::Retry(_)), "{err}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        count(&db, "outbox").await,
        0,
        "the handler's write is rolled back"
    );
    assert_eq!(count(&db, "inbox").await, 0, "and so is the inbox mark");

    *failing.lock().unwrap() = false;
    let handled = consumer.handle(&delivery).await.unwrap();
    assert_eq!(handled, Handled::Applied(Uuid::from_u128(7)));
    assert_eq!(
        count(&db, "outbox WHERE subject = 'payments.refunded'").await,
        1
    );
    let inbox = format!("inbox WHERE consumer = '{CONSUMER}'");
    assert_eq!(count(&db, &inbox).await, 1);

    // Delivered again (a redelivery after a lost ack): nothing runs, nothing is written.
    assert_eq!(
        consumer.handle(&delivery).await.unwrap(),
        Handled::Duplicate
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(count(&db, "outbox").await, 1);
    assert_eq!(count(&db, "inbox").await, 1);

    // Another event is not a duplicate.
    let other = consumer.handle(&delivery_of(&delivered(8))).await.unwrap();
    assert_eq!(other, Handled::Applied(Uuid::from_u128(8)));
}

#[tokio::test]
async fn on_sqlite_the_inbox_mark_shares_the_handlers_transaction() {
    the_inbox_mark_shares_the_handlers_transaction(sqlite().await, Arc::new(InProcessBus::new()))
        .await;
}

#[tokio::test]
async fn on_postgres_the_inbox_mark_shares_the_handlers_transaction() {
    let guard = TestDatabase::postgres().await;
    let (db, _) = kit::db::connect_url(&guard.url, 4).await.unwrap();
    migrated(&db).await;
    let bus = TestBus::nats().await;
    the_inbox_mark_shares_the_handlers_transaction(db.clone(), bus.bus.clone()).await;
    let _ = db.close().await;
}

/// Two replicas handling the same event at once: one applies it, the other finds it done.
#[tokio::test]
async fn on_postgres_concurrent_deliveries_of_one_event_apply_it_once() {
    let guard = TestDatabase::postgres().await;
    let (db, _) = kit::db::connect_url(&guard.url, 4).await.unwrap();
    migrated(&db).await;
    let lot = ParkingLot::new(db.clone(), Arc::new(InProcessBus::new()));
    let calls = Arc::new(AtomicUsize::new(0));
    let consumer = Arc::new(refunding_consumer(
        &lot,
        calls.clone(),
        Arc::new(Mutex::new(false)),
    ));
    let delivery = delivery_of(&delivered(1));
    let (a, b) = tokio::join!(consumer.handle(&delivery), consumer.handle(&delivery));
    let mut outcomes = vec![a.unwrap(), b.unwrap()];
    outcomes.sort_by_key(|h| matches!(h, Handled::Duplicate));
    assert_eq!(
        outcomes,
        vec![Handled::Applied(Uuid::from_u128(1)), Handled::Duplicate]
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(count(&db, "outbox").await, 1);
    let _ = db.close().await;
}

/// Over the bus: an event of a version this code does not read is parked (table, dead
/// letter, metric) without running the handler, an unreadable one too, and a duplicate
/// delivery is applied once; the events behind them go on.
#[tokio::test]
async fn over_nats_the_version_rule_parks_and_duplicates_are_applied_once() {
    let guard = TestDatabase::postgres().await;
    let (db, _) = kit::db::connect_url(&guard.url, 4).await.unwrap();
    migrated(&db).await;
    let t = TestBus::nats_with(quick_delivery(3)).await;
    let bus: Arc<dyn EventBus> = t.bus.clone();
    let lot = ParkingLot::new(db.clone(), bus.clone());
    let calls = Arc::new(AtomicUsize::new(0));
    let observed = Arc::new(Mutex::new(Vec::new()));
    let seen = observed.clone();
    let _worker = refunding_consumer(&lot, calls.clone(), Arc::new(Mutex::new(false)))
        .observe(move |handled| seen.lock().unwrap().push(*handled))
        .start()
        .await
        .unwrap();

    let raw = |payload: Vec<u8>| {
        let bus = bus.clone();
        async move {
            // A fresh message id each time, so JetStream keeps every copy.
            bus.publish(OrderDelivered::SUBJECT, Uuid::now_v7(), payload.into())
                .await
                .unwrap();
        }
    };
    let mut future = delivered(1);
    future.version = 2;
    raw(serde_json::to_vec(&future).unwrap()).await;
    raw(b"{\"truncated".to_vec()).await;
    let twice = delivered(2);
    raw(serde_json::to_vec(&twice).unwrap()).await;
    raw(serde_json::to_vec(&twice).unwrap()).await;
    // The marker: once it is applied, everything before it was handled (one consumer
    // handles its events in order).
    raw(serde_json::to_vec(&delivered(3)).unwrap()).await;
    eventually("the marker event applied", || async {
        observed
            .lock()
            .unwrap()
            .contains(&Handled::Applied(Uuid::from_u128(3)))
    })
    .await;

    assert_eq!(
        *observed.lock().unwrap(),
        vec![
            Handled::Applied(Uuid::from_u128(2)),
            Handled::Duplicate,
            Handled::Applied(Uuid::from_u128(3)),
        ]
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "the handler ran for 2 and 3 only"
    );
    assert_eq!(count(&db, "inbox").await, 2);
    assert_eq!(count(&db, "outbox").await, 2);

    let parked = lot.list(None, 10, false).await.unwrap();
    assert_eq!(parked.len(), 2);
    assert!(
        parked
            .iter()
            .all(|p| p.consumer == CONSUMER && p.subject == "orders.delivered")
    );
    assert!(
        parked[0].reason.contains("version 2") && parked[0].reason.contains("reads version 1"),
        "{}",
        parked[0].reason
    );
    assert_eq!(parked[0].attempts, 1, "parked at once, not retried");
    assert!(
        parked[1].reason.contains("cannot be read"),
        "{}",
        parked[1].reason
    );
    assert_eq!(lot.parked_count(CONSUMER), 2);
    let js =
        async_nats::jetstream::new(async_nats::connect(kit::testing::nats_url()).await.unwrap());
    let mut dead = js.get_stream(t.bus.dead_letter_stream()).await.unwrap();
    assert_eq!(dead.info().await.unwrap().state.messages, 2);

    // A replay runs the same rule: the future version still cannot be applied.
    let err = lot.replay(parked[0].id).await.unwrap_err();
    assert!(err.to_string().contains("version 2"), "{err}");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let _ = db.close().await;
}

/// Published events carry their contract's subject and version and commit (or not) with
/// the caller's transaction.
#[tokio::test]
async fn publishing_writes_the_contracts_envelope_inside_the_callers_transaction() {
    let db = sqlite().await;
    let txn = db.begin().await.unwrap();
    let order_id = Uuid::now_v7();
    let id = outbox::publish(&txn, &OrderDelivered { order_id })
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    assert_eq!(count(&db, "outbox").await, 0);

    let txn = db.begin().await.unwrap();
    let id2 = outbox::publish(&txn, &OrderDelivered { order_id })
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert_ne!(id, id2);
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT subject, payload FROM outbox",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.try_get::<String>("", "subject").unwrap(),
        "orders.delivered"
    );
    let payload: String = row.try_get("", "payload").unwrap();
    let envelope = Envelope::<OrderDelivered>::decode(payload.as_bytes()).unwrap();
    assert_eq!(envelope.event_id, id2);
    assert_eq!(envelope.event_type, "orders.delivered");
    assert_eq!(envelope.version, 1);
    assert_eq!(envelope.data, OrderDelivered { order_id });
}
