//! The service runtime's shutdown order, observed from outside: once shutdown has started
//! (the listeners refuse connections) a request still inside its handler completes, and the
//! event it writes to the outbox at its very end is published by the relay's last drain
//! before shutdown returns. A relay stopped together with the listeners would have drained
//! the empty outbox already and left the event behind.

use std::{net::SocketAddr, sync::Arc};

use axum::{Router, extract::State, http::StatusCode, routing::post};
use kit::{
    bus::InProcessBus,
    contracts::Event,
    internal::InternalConfig,
    outbox::{self, OutboxRelay, outbox_message},
    service::ServiceBuilder,
    testing::eventually,
};
use sea_orm::{DatabaseConnection, EntityTrait};
use sea_orm_migration::SchemaManager;
use tokio::sync::Notify;

/// A handler that announces it is running, waits to be released, then commits an event.
#[derive(Clone)]
struct Slow {
    db: DatabaseConnection,
    entered: Arc<Notify>,
    release: Arc<Notify>,
}

async fn slow(State(slow): State<Slow>) -> StatusCode {
    slow.entered.notify_one();
    slow.release.notified().await;
    match outbox::publish(&slow.db, &Finished { late: true }).await {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The event the slow handler writes last.
#[derive(serde::Serialize, serde::Deserialize)]
struct Finished {
    late: bool,
}

impl Event for Finished {
    const SUBJECT: &'static str = "test.finished";
    const VERSION: u32 = 1;
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

#[tokio::test]
async fn in_flight_requests_finish_and_their_events_are_relayed_before_shutdown_ends() {
    // One connection: an in-memory SQLite database lives as long as its connection.
    let (db, _) = kit::db::connect_url("sqlite::memory:", 1)
        .await
        .expect("in-memory database");
    outbox::create_tables(&SchemaManager::new(&db))
        .await
        .expect("outbox tables");
    let relay = OutboxRelay::new(db.clone(), Arc::new(InProcessBus::new()));
    let slow = Slow {
        db: db.clone(),
        entered: Arc::new(Notify::new()),
        release: Arc::new(Notify::new()),
    };
    let public = Router::new()
        .route("/slow", post(self::slow))
        .with_state(slow.clone());
    let runtime = ServiceBuilder::new("shutdown-test", &InternalConfig::default(), loopback())
        .listener("public", loopback(), public)
        .relay(relay.clone())
        .start()
        .await
        .expect("service starts");
    let main = runtime.addr();
    let public = runtime
        .listener_addr("public")
        .expect("the public listener");
    let health = reqwest::get(format!("http://{main}/health"))
        .await
        .expect("health answers");
    assert_eq!(health.status(), StatusCode::OK);

    let request = tokio::spawn(
        reqwest::Client::new()
            .post(format!("http://{public}/slow"))
            .send(),
    );
    slow.entered.notified().await;

    // Shutdown starts while the request is inside its handler. Its first step shows from
    // outside: both listeners refuse new connections while the request is still running.
    let finishing = tokio::spawn(runtime.begin_shutdown().finish());
    for addr in [main, public] {
        eventually(&format!("{addr} to stop accepting"), || async move {
            tokio::net::TcpStream::connect(addr).await.is_err()
        })
        .await;
    }
    assert!(!finishing.is_finished(), "shutdown waits for the request");
    slow.release.notify_one();

    let response = request
        .await
        .expect("request task")
        .expect("the in-flight request gets its response");
    assert_eq!(response.status(), StatusCode::OK);
    finishing.await.expect("shutdown completes");

    // The relay's last drain ran after the handler committed: the event went out.
    assert_eq!(relay.pending().await.expect("pending count"), 0);
    let rows = outbox_message::Entity::find()
        .all(&db)
        .await
        .expect("outbox rows");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].subject, "test.finished");
    assert!(rows[0].published_at.is_some(), "{rows:?}");
}
