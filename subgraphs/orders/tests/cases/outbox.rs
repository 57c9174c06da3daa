//! The outbox relay across a NATS outage: orders keep being placed and cancelled while the
//! event side of NATS is down, and once it is back every event is published exactly once.

use std::sync::Arc;

use kit::{
    bus::{EventBus, NatsBus},
    testing::{NatsServer, TestBus, TestDatabase, TestKeys, unique_name},
};
use orders::Deps;

use crate::support::{Catalog, SplitBus, TestApp, config, stream_events};

#[tokio::test]
async fn events_written_during_a_nats_outage_are_published_once_when_it_returns() {
    // A nats-server of this test's own, so it can be stopped without disturbing anyone.
    let mut nats = NatsServer::start().await;
    let prefix = unique_name("outage");
    let events_bus = Arc::new(
        NatsBus::connect(&nats.url(), &prefix)
            .await
            .expect("own NATS reachable"),
    );

    // The catalog stays reachable on the shared server; only the event side goes down.
    let rpc = TestBus::nats().await;
    let catalog = Catalog::default();
    let _responder = catalog.serve(rpc.bus.as_ref()).await;
    let bus: Arc<dyn EventBus> = Arc::new(SplitBus {
        events: events_bus.clone(),
        requests: rpc.bus.clone(),
    });
    let db = TestDatabase::postgres().await;
    let keys = Arc::new(TestKeys::new());
    let service = orders::start(
        config(&db.url),
        Deps {
            bus,
            verifier: keys.verifier.clone(),
        },
    )
    .await
    .expect("starts");
    let app = TestApp::attach(service, keys, catalog, rpc.bus.clone(), &db.url);
    let (_, bearer) = app.customer();
    let p = app.catalog.add("P", 100, "EUR");

    let before = app.place(&bearer, &[(p, 1)]).await;
    app.outbox_drained().await;

    nats.stop().await;
    let mut during = Vec::new();
    for _ in 0..3 {
        during.push(app.place(&bearer, &[(p, 2)]).await);
    }
    for id in [before, during[0]] {
        let resp = app.cancel(&bearer, id).await;
        assert_eq!(
            resp["data"]["cancelOrder"]["order"]["status"], "CANCELLED",
            "{resp}"
        );
    }
    // Nothing can be published while the server is away: all five events wait in the outbox.
    assert_eq!(app.service().relay.pending().await.expect("pending"), 5);
    let ready = reqwest::get(format!("http://{}/ready", app.service().addr))
        .await
        .expect("ready answers");
    assert_eq!(
        ready.status(),
        503,
        "a replica without its bus is not ready"
    );

    nats.resume().await;
    app.outbox_drained().await;

    let stream = events_bus.stream_name().to_owned();
    let created = stream_events(&nats.url(), &stream, &format!("{prefix}.orders.created")).await;
    let cancelled =
        stream_events(&nats.url(), &stream, &format!("{prefix}.orders.cancelled")).await;
    assert_eq!(
        created.len(),
        4,
        "one orders.created per order, none lost, none doubled"
    );
    assert_eq!(cancelled.len(), 2);
    let mut created_ids: Vec<String> = created
        .iter()
        .map(|e| e["data"]["order_id"].as_str().unwrap().to_owned())
        .collect();
    created_ids.sort();
    let mut expected: Vec<String> = std::iter::once(before)
        .chain(during)
        .map(|id| id.to_string())
        .collect();
    expected.sort();
    assert_eq!(created_ids, expected);
    let mut event_ids: Vec<&str> = created
        .iter()
        .chain(&cancelled)
        .map(|e| e["event_id"].as_str().unwrap())
        .collect();
    event_ids.sort();
    event_ids.dedup();
    assert_eq!(event_ids.len(), 6);

    let mut app = app;
    app.stop().await;
    let _ = events_bus.delete_stream().await;
}
