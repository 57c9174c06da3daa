//! The NATS JetStream bus and the outbox relay against the real servers.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use kit::{
    bus::{
        BusError, ConsumerSpec, EventBus, EventHandler, HandlerError, json_handler, request_json,
    },
    contracts::{Envelope, Event as _, OrderDelivered},
    outbox::{self, OutboxRelay},
    testing::{TestBus, TestDatabase, eventually},
};
use sea_orm::TransactionTrait;
use sea_orm_migration::SchemaManager;
use uuid::Uuid;

/// What a recording handler saw: (subject, payload) in arrival order.
type Seen = Arc<Mutex<Vec<(String, Bytes)>>>;

fn recorder() -> (EventHandler, Seen) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let handler: EventHandler = Arc::new(move |d| {
        let sink = sink.clone();
        Box::pin(async move {
            sink.lock().unwrap().push((d.subject, d.payload));
            Ok(())
        })
    });
    (handler, seen)
}

#[tokio::test]
async fn durable_consumer_gets_each_event_once_and_duplicates_are_dropped() {
    let t = TestBus::nats().await;
    let (handler, seen) = recorder();
    let spec = ConsumerSpec {
        durable: "orders-payments".into(),
        subjects: vec!["payments.succeeded".into()],
    };
    // Two replicas of one consumer share the durable: each event reaches one of them.
    let _a = t.bus.consume(spec.clone(), handler.clone()).await.unwrap();
    let _b = t.bus.consume(spec, handler).await.unwrap();

    let dup = Uuid::now_v7();
    t.bus
        .publish("payments.succeeded", dup, Bytes::from_static(b"one"))
        .await
        .unwrap();
    t.bus
        .publish("payments.succeeded", dup, Bytes::from_static(b"one again"))
        .await
        .unwrap();
    t.bus
        .publish(
            "payments.failed",
            Uuid::now_v7(),
            Bytes::from_static(b"other subject"),
        )
        .await
        .unwrap();
    for i in 0..20 {
        t.bus
            .publish(
                "payments.succeeded",
                Uuid::now_v7(),
                Bytes::from(format!("n{i}")),
            )
            .await
            .unwrap();
    }
    // Everything the stream holds for the consumer is handled and acknowledged: whatever
    // was going to arrive has arrived.
    t.settled("orders-payments").await;
    let seen = seen.lock().unwrap();
    let payloads: Vec<String> = seen
        .iter()
        .map(|(_, p)| String::from_utf8_lossy(p).into_owned())
        .collect();
    assert_eq!(
        seen.len(),
        21,
        "each event exactly once across both replicas: {payloads:?}"
    );
    assert!(
        seen.iter().all(|(s, _)| s == "payments.succeeded"),
        "prefix stripped, filter applied"
    );
    assert_eq!(seen.iter().filter(|(_, p)| p.as_ref() == b"one").count(), 1);
    assert!(!seen.iter().any(|(_, p)| p.as_ref() == b"one again"));
}

#[tokio::test]
async fn failed_handling_is_redelivered() {
    let t = TestBus::nats().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let handler: EventHandler = Arc::new(move |d| {
        let c = c.clone();
        Box::pin(async move {
            let n = c.fetch_add(1, Ordering::SeqCst);
            assert_eq!(d.attempt, n as u64 + 1);
            if n == 0 {
                Err(HandlerError::Retry("database busy".into()))
            } else {
                Ok(())
            }
        })
    });
    let _w = t
        .bus
        .consume(
            ConsumerSpec {
                durable: "retry".into(),
                subjects: vec!["orders.>".into()],
            },
            handler,
        )
        .await
        .unwrap();
    t.bus
        .publish("orders.created", Uuid::now_v7(), Bytes::from_static(b"{}"))
        .await
        .unwrap();
    eventually("the redelivery", async || calls.load(Ordering::SeqCst) >= 2).await;
    // The second delivery was acknowledged: JetStream delivers the event no more.
    t.settled("retry").await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn request_reply_answers_times_out_and_reports_no_responders() {
    let t = TestBus::nats().await;
    let err = t
        .bus
        .request("rpc.nobody", Bytes::new(), Duration::from_secs(2))
        .await
        .unwrap_err();
    assert_eq!(err, BusError::NoResponders("rpc.nobody".into()));

    let _w = t
        .bus
        .serve(
            "rpc.double",
            json_handler(|n: i64| async move { n * 2 }, |_| -1i64),
        )
        .await
        .unwrap();
    let answer: i64 = request_json(t.bus.as_ref(), "rpc.double", &21i64, Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(answer, 42);
    let bad: i64 = request_json(
        t.bus.as_ref(),
        "rpc.double",
        "not a number",
        Duration::from_secs(2),
    )
    .await
    .unwrap();
    assert_eq!(bad, -1);

    let _slow = t
        .bus
        .serve(
            "rpc.slow",
            json_handler(
                |n: i64| async move {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    n
                },
                |_| 0i64,
            ),
        )
        .await
        .unwrap();
    let err = t
        .bus
        .request(
            "rpc.slow",
            Bytes::from_static(b"1"),
            Duration::from_millis(200),
        )
        .await
        .unwrap_err();
    assert_eq!(err, BusError::Timeout("rpc.slow".into()));
}

#[tokio::test]
async fn outbox_on_postgres_relays_in_order_and_marks_sent() {
    let db_guard = TestDatabase::postgres().await;
    let (db, _) = kit::db::connect_url(&db_guard.url, 4).await.unwrap();
    outbox::create_tables(&SchemaManager::new(&db))
        .await
        .unwrap();
    let t = TestBus::nats().await;
    let (handler, seen) = recorder();
    let _w = t
        .bus
        .consume(
            ConsumerSpec {
                durable: "reader".into(),
                subjects: vec!["orders.>".into()],
            },
            handler,
        )
        .await
        .unwrap();

    let txn = db.begin().await.unwrap();
    for i in 0..150u128 {
        let event = OrderDelivered {
            order_id: Uuid::from_u128(i),
        };
        outbox::publish(&txn, &event).await.unwrap();
    }
    // A rolled-back transaction leaves no event behind.
    let doomed = db.begin().await.unwrap();
    let event = OrderDelivered {
        order_id: Uuid::from_u128(999),
    };
    outbox::publish(&doomed, &event).await.unwrap();
    doomed.rollback().await.unwrap();
    txn.commit().await.unwrap();

    let relay = OutboxRelay::new(db.clone(), t.bus.clone());
    assert_eq!(relay.pending().await.unwrap(), 150);
    assert_eq!(relay.drain().await.unwrap(), 150);
    assert_eq!(relay.pending().await.unwrap(), 0);

    eventually("150 events relayed", async || {
        seen.lock().unwrap().len() >= 150
    })
    .await;
    let order: Vec<u128> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(subject, p)| {
            assert_eq!(subject, OrderDelivered::SUBJECT);
            let event = Envelope::<OrderDelivered>::decode(p).unwrap();
            event.data.order_id.as_u128()
        })
        .collect();
    assert_eq!(order, (0..150).collect::<Vec<_>>());

    let id = Uuid::now_v7();
    let txn = db.begin().await.unwrap();
    assert!(outbox::mark_processed(&txn, "reader", id).await.unwrap());
    assert!(
        !outbox::mark_processed(&txn, "reader", id).await.unwrap(),
        "second mark in one transaction"
    );
    txn.commit().await.unwrap();
    assert!(!outbox::mark_processed(&db, "reader", id).await.unwrap());
}

/// Consumers have a finite budget: a handler that always fails is called `max_attempts`
/// times (spaced by the retry delays), never again, and JetStream holds the same bound.
/// A consumer made by an older version (redelivering forever) takes the new settings.
#[tokio::test]
async fn a_failing_event_gets_a_finite_budget_even_on_an_old_consumer() {
    use async_nats::jetstream::consumer::pull;
    let t = TestBus::nats_with(kit::testing::quick_delivery(3)).await;
    let js =
        async_nats::jetstream::new(async_nats::connect(kit::testing::nats_url()).await.unwrap());
    let stream = js.get_stream(t.bus.stream_name()).await.unwrap();
    stream
        .create_consumer(pull::Config {
            durable_name: Some("budget".into()),
            filter_subject: format!("{}.orders.>", t.prefix),
            ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
            max_deliver: -1,
            ..Default::default()
        })
        .await
        .unwrap();

    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let handler: EventHandler = Arc::new(move |_| {
        let c = c.clone();
        Box::pin(async move {
            c.fetch_add(1, Ordering::SeqCst);
            Err(HandlerError::Retry("always failing".into()))
        })
    });
    let _w = t
        .bus
        .consume(
            ConsumerSpec {
                durable: "budget".into(),
                subjects: vec!["orders.>".into()],
            },
            handler,
        )
        .await
        .unwrap();
    t.bus
        .publish("orders.created", Uuid::now_v7(), Bytes::from_static(b"{}"))
        .await
        .unwrap();
    // Without parking, JetStream stops after max_deliver = 3 + 5 deliveries.
    eventually("eight deliveries", async || {
        calls.load(Ordering::SeqCst) >= 8
    })
    .await;
    let stream = js.get_stream(t.bus.stream_name()).await.unwrap();
    let info = stream.consumer_info("budget").await.unwrap();
    assert_eq!(info.config.max_deliver, 8, "the old consumer was updated");
    // The consumer is done with it: nothing pending, nothing waiting for an ack.
    t.settled("budget").await;
    assert_eq!(calls.load(Ordering::SeqCst), 8);
}
