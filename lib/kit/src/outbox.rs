//! The transactional outbox and inbox that make events reliable, and the typed way every
//! service publishes and consumes events through them.
//!
//! **Publishing.** A service writes its state change and the event describing it in one
//! database transaction ([`publish`]); the [`OutboxRelay`] later publishes pending events
//! in order, with the event id as the bus message id, and marks them sent. If the bus is
//! down the events wait in the table; if the relay dies between publish and mark, the
//! re-publish is a duplicate the bus drops.
//!
//! **Consuming.** [`consume`] (or [`Consumer`], for what more it offers) subscribes a
//! durable consumer to one event contract and runs the service's handler once per event:
//! it decodes the payload and applies the version rule of [`crate::contracts`] (what
//! cannot be read or is of another version is parked by [`crate::parking`]), then opens a
//! transaction, records the event id in the inbox ([`mark_processed`]) and runs the
//! handler in that same transaction. The handler's writes and the mark commit together or
//! not at all, so a redelivered event changes nothing, and a failed attempt leaves nothing
//! behind for the next one.
//!
//! Every service database that uses them creates both tables with [`create_tables`].

use std::{sync::Arc, time::Duration};

use futures::future::BoxFuture;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait, sea_query::OnConflict,
};
use serde::Serialize;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    bus::{BusError, ConsumerSpec, Delivery, EventBus, EventHandler, HandlerError, Worker},
    contracts::{Envelope, Event},
    parking::ParkingLot,
};

/// Pending and sent events.
pub mod outbox_message {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub subject: String,
        #[sea_orm(column_type = "Text")]
        pub payload: String,
        pub created_at: DateTimeUtc,
        pub published_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Events already handled, per consumer.
pub mod inbox_message {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "inbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub consumer: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: Uuid,
        pub processed_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The tables as the first migration created them. The DDL is written out rather than
/// derived from the entities, so that what a migration creates never changes when an
/// entity does (a change is a new migration). It is what `Schema::create_table_from_entity`
/// produced for the entities above on PostgreSQL and SQLite.
#[derive(sea_orm::DeriveIden)]
enum Outbox {
    Table,
    Id,
    Subject,
    Payload,
    CreatedAt,
    PublishedAt,
}

#[derive(sea_orm::DeriveIden)]
enum Inbox {
    Table,
    Consumer,
    EventId,
    ProcessedAt,
}

/// Creates the `outbox` and `inbox` tables; called from each service's migrations.
pub async fn create_tables(manager: &sea_orm_migration::SchemaManager<'_>) -> Result<(), DbErr> {
    use sea_orm_migration::prelude::{ColumnDef, Index, Table};
    manager
        .create_table(
            Table::create()
                .table(Outbox::Table)
                .if_not_exists()
                .col(ColumnDef::new(Outbox::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Outbox::Subject).string().not_null())
                .col(ColumnDef::new(Outbox::Payload).text().not_null())
                .col(
                    ColumnDef::new(Outbox::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(Outbox::PublishedAt).timestamp_with_time_zone())
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .if_not_exists()
                .name("idx_outbox_pending")
                .table(Outbox::Table)
                .col(Outbox::PublishedAt)
                .col(Outbox::CreatedAt)
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table(Inbox::Table)
                .if_not_exists()
                .col(ColumnDef::new(Inbox::Consumer).string().not_null())
                .col(ColumnDef::new(Inbox::EventId).uuid().not_null())
                .col(
                    ColumnDef::new(Inbox::ProcessedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .name("pk-inbox")
                        .col(Inbox::Consumer)
                        .col(Inbox::EventId),
                )
                .to_owned(),
        )
        .await?;
    Ok(())
}

/// Drops both tables (the down migration).
pub async fn drop_tables(manager: &sea_orm_migration::SchemaManager<'_>) -> Result<(), DbErr> {
    use sea_orm_migration::prelude::Table;
    manager
        .drop_table(Table::drop().table(Inbox::Table).if_exists().to_owned())
        .await?;
    manager
        .drop_table(Table::drop().table(Outbox::Table).if_exists().to_owned())
        .await?;
    Ok(())
}

/// Records `event` for publishing on its contract's subject; call it inside the
/// transaction that makes the change it describes. Returns the new event's id.
pub async fn publish<E, C>(conn: &C, event: &E) -> Result<Uuid, DbErr>
where
    E: Event,
    C: ConnectionTrait,
{
    let envelope = Envelope {
        event_id: Uuid::now_v7(),
        event_type: E::SUBJECT.to_owned(),
        version: E::VERSION,
        occurred_at: chrono::Utc::now(),
        data: event,
    };
    enqueue(conn, &envelope).await?;
    Ok(envelope.event_id)
}

/// Writes one envelope to the outbox.
async fn enqueue<C, T>(conn: &C, event: &Envelope<T>) -> Result<(), DbErr>
where
    C: ConnectionTrait,
    T: Serialize,
{
    let payload =
        serde_json::to_string(event).map_err(|e| DbErr::Custom(format!("event encoding: {e}")))?;
    outbox_message::Entity::insert(outbox_message::ActiveModel {
        id: Set(event.event_id),
        subject: Set(event.event_type.clone()),
        payload: Set(payload),
        created_at: Set(event.occurred_at),
        published_at: Set(None),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Records that `consumer` handled `event_id`. Returns `false` when it already had, in
/// which case the caller must not apply the event again. Call it inside the transaction
/// that applies the event: a concurrent replica handling the same event waits on the
/// primary key and then sees `false`.
pub async fn mark_processed<C: ConnectionTrait>(
    conn: &C,
    consumer: &str,
    event_id: Uuid,
) -> Result<bool, DbErr> {
    let inserted = inbox_message::Entity::insert(inbox_message::ActiveModel {
        consumer: Set(consumer.to_owned()),
        event_id: Set(event_id),
        processed_at: Set(chrono::Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            inbox_message::Column::Consumer,
            inbox_message::Column::EventId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(inserted == 1)
}

/// A database failure while handling an event may pass: the event is delivered again.
impl From<DbErr> for HandlerError {
    fn from(err: DbErr) -> Self {
        HandlerError::Retry(err.to_string())
    }
}

/// What a consumer did with one delivery of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled<T> {
    /// The handler ran; its writes and the inbox mark are committed. Holds what it returned.
    Applied(T),
    /// The consumer had handled this event before: nothing ran.
    Duplicate,
}

/// What a consumer runs for each event that decoded: the inbox check and the handler.
type Pipeline<E, T> =
    dyn Fn(Envelope<E>) -> BoxFuture<'static, Result<Handled<T>, HandlerError>> + Send + Sync;

type Observer<T> = dyn Fn(&Handled<T>) + Send + Sync;

/// A durable consumer of the events of contract `E` (see the module doc), shared by every
/// replica of the service under its name, which is also its inbox key.
pub struct Consumer<E, T = ()> {
    name: String,
    lot: ParkingLot,
    pipeline: Arc<Pipeline<E, T>>,
    relay: Option<OutboxRelay>,
    observer: Option<Arc<Observer<T>>>,
}

impl<E: Event, T: Send + 'static> Consumer<E, T> {
    /// A consumer named `name` of the service whose database and bus `lot` parks events
    /// in. `handler` runs inside the transaction that records the event in the inbox;
    /// what it returns is reported to [`Consumer::observe`].
    pub fn new<F>(lot: &ParkingLot, name: &str, handler: F) -> Self
    where
        F: for<'t> Fn(
                &'t DatabaseTransaction,
                Envelope<E>,
            ) -> BoxFuture<'t, Result<T, HandlerError>>
            + Send
            + Sync
            + 'static,
    {
        let (db, inbox, handler) = (lot.database().clone(), name.to_owned(), Arc::new(handler));
        let pipeline: Arc<Pipeline<E, T>> = Arc::new(move |event| {
            let (db, inbox, handler) = (db.clone(), inbox.clone(), handler.clone());
            Box::pin(
                async move { once(&db, &inbox, event, |txn, event| handler(txn, event)).await },
            )
        });
        Self::with_pipeline(lot, name, pipeline)
    }

    /// Like [`Consumer::new`], for handlers that must call another system (a payment
    /// provider) before writing: `prepare` runs first, outside any transaction (so no
    /// connection or lock is held while waiting on the other system), and must be
    /// idempotent, since a failure after it means the event is delivered again. Its result
    /// goes to `handler`, which runs as in [`Consumer::new`]. An event the inbox already
    /// holds skips both.
    pub fn prepared<P, Prep, F>(lot: &ParkingLot, name: &str, prepare: Prep, handler: F) -> Self
    where
        P: Send + 'static,
        Prep: for<'e> Fn(&'e Envelope<E>) -> BoxFuture<'e, Result<P, HandlerError>>
            + Send
            + Sync
            + 'static,
        F: for<'t> Fn(
                &'t DatabaseTransaction,
                Envelope<E>,
                P,
            ) -> BoxFuture<'t, Result<T, HandlerError>>
            + Send
            + Sync
            + 'static,
    {
        let (db, inbox) = (lot.database().clone(), name.to_owned());
        let (prepare, handler) = (Arc::new(prepare), Arc::new(handler));
        let pipeline: Arc<Pipeline<E, T>> = Arc::new(move |event| {
            let (db, inbox) = (db.clone(), inbox.clone());
            let (prepare, handler) = (prepare.clone(), handler.clone());
            Box::pin(async move {
                if already_processed(&db, &inbox, event.event_id).await? {
                    return Ok(Handled::Duplicate);
                }
                let prepared = prepare(&event).await?;
                once(&db, &inbox, event, move |txn, event| {
                    handler(txn, event, prepared)
                })
                .await
            })
        });
        Self::with_pipeline(lot, name, pipeline)
    }

    fn with_pipeline(lot: &ParkingLot, name: &str, pipeline: Arc<Pipeline<E, T>>) -> Self {
        Self {
            name: name.to_owned(),
            lot: lot.clone(),
            pipeline,
            relay: None,
            observer: None,
        }
    }

    /// Wakes `relay` after each applied event, for handlers that publish events, so these go
    /// out at once rather than at the relay's next poll.
    pub fn notifying(mut self, relay: &OutboxRelay) -> Self {
        self.relay = Some(relay.clone());
        self
    }

    /// Calls `observer` after each delivery that was applied or found a duplicate (metrics).
    pub fn observe(mut self, observer: impl Fn(&Handled<T>) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// The bus subscription: the consumer's name on `E`'s subject.
    pub fn spec(&self) -> ConsumerSpec {
        ConsumerSpec {
            durable: self.name.clone(),
            subjects: vec![E::SUBJECT.to_owned()],
        }
    }

    /// Handles one delivery: decodes it under the version rule, then records it in the
    /// inbox and runs the handler in one transaction, unless it was handled before.
    pub async fn handle(&self, delivery: &Delivery) -> Result<Handled<T>, HandlerError> {
        let event = Envelope::<E>::decode(&delivery.payload)?;
        (self.pipeline)(event).await
    }

    async fn run(&self, delivery: &Delivery) -> Result<(), HandlerError> {
        let handled = self.handle(delivery).await?;
        if let (Handled::Applied(_), Some(relay)) = (&handled, &self.relay) {
            relay.notify();
        }
        if let Some(observer) = &self.observer {
            observer(&handled);
        }
        Ok(())
    }

    /// Subscribes on the service's bus; what cannot be handled is parked by its lot, which
    /// also replays it on an admin's request.
    pub async fn start(self) -> Result<Worker, BusError> {
        let spec = self.spec();
        let lot = self.lot.clone();
        let consumer = Arc::new(self);
        let handler: EventHandler = Arc::new(move |delivery: Delivery| {
            let consumer = consumer.clone();
            Box::pin(async move { consumer.run(&delivery).await })
        });
        lot.bus()
            .consume(spec.clone(), lot.handler(&spec, handler))
            .await
    }
}

/// Runs `apply` in a transaction that first records `event` in `inbox`, unless it is there.
async fn once<E, T, F>(
    db: &DatabaseConnection,
    inbox: &str,
    event: Envelope<E>,
    apply: F,
) -> Result<Handled<T>, HandlerError>
where
    F: for<'t> FnOnce(
        &'t DatabaseTransaction,
        Envelope<E>,
    ) -> BoxFuture<'t, Result<T, HandlerError>>,
{
    let txn = db.begin().await?;
    // The mark comes first: a replica handling the same event at the same time waits on the
    // inbox's primary key, then finds it taken and applies nothing.
    if !mark_processed(&txn, inbox, event.event_id).await? {
        txn.rollback().await?;
        return Ok(Handled::Duplicate);
    }
    let value = match apply(&txn, event).await {
        Ok(value) => value,
        Err(e) => {
            if let Err(rollback) = txn.rollback().await {
                tracing::warn!(consumer = inbox, error = %rollback, "rollback after a failed event handler failed");
            }
            return Err(e);
        }
    };
    txn.commit().await?;
    Ok(Handled::Applied(value))
}

/// Whether `consumer` has handled `event_id` (a read outside any transaction, to skip work
/// for an event known to be done; [`mark_processed`] is what decides).
pub async fn already_processed<C: ConnectionTrait>(
    conn: &C,
    consumer: &str,
    event_id: Uuid,
) -> Result<bool, DbErr> {
    Ok(
        inbox_message::Entity::find_by_id((consumer.to_owned(), event_id))
            .one(conn)
            .await?
            .is_some(),
    )
}

/// Subscribes the durable consumer `name` to the events of contract `E` and runs `handler`
/// once per event, inside the transaction that records it in the inbox (see the module
/// doc). `lot` is the service's parking lot, which knows its database and bus.
///
/// ```ignore
/// outbox::consume::<OrderCancelled>(&lot, "payments-expire-on-cancel", move |txn, event| {
///     Box::pin(async move { expire(txn, &event.data).await.map_err(Into::into) })
/// })
/// .await?;
/// ```
pub async fn consume<E, F>(lot: &ParkingLot, name: &str, handler: F) -> Result<Worker, BusError>
where
    E: Event,
    F: for<'t> Fn(&'t DatabaseTransaction, Envelope<E>) -> BoxFuture<'t, Result<(), HandlerError>>
        + Send
        + Sync
        + 'static,
{
    Consumer::new(lot, name, handler).start().await
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error(transparent)]
    Bus(#[from] crate::bus::BusError),
}

/// Publishes the outbox to the bus.
#[derive(Clone)]
pub struct OutboxRelay {
    db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
    wake: Arc<Notify>,
}

impl OutboxRelay {
    const BATCH: u64 = 100;
    const POLL: Duration = Duration::from_secs(1);
    const MAX_BACKOFF: Duration = Duration::from_secs(5);

    pub fn new(db: DatabaseConnection, bus: Arc<dyn EventBus>) -> Self {
        Self {
            db,
            bus,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Call after committing a transaction that enqueued events, so they go out now rather
    /// than at the next poll.
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// Publishes up to one batch of pending events in order; stops at the first failure so
    /// that order is kept. Returns how many were published.
    pub async fn relay_once(&self) -> Result<usize, RelayError> {
        let txn = self.db.begin().await?;
        let mut query = outbox_message::Entity::find()
            .filter(outbox_message::Column::PublishedAt.is_null())
            .order_by_asc(outbox_message::Column::CreatedAt)
            .order_by_asc(outbox_message::Column::Id)
            .limit(Self::BATCH);
        if txn.get_database_backend() == DatabaseBackend::Postgres {
            // Replicas relay disjoint batches instead of publishing the same rows twice.
            query = query.lock_with_behavior(
                sea_orm::sea_query::LockType::Update,
                sea_orm::sea_query::LockBehavior::SkipLocked,
            );
        }
        let pending = query.all(&txn).await?;
        let mut sent = Vec::with_capacity(pending.len());
        let mut failure = None;
        for row in &pending {
            match self
                .bus
                .publish(&row.subject, row.id, row.payload.clone().into())
                .await
            {
                Ok(()) => sent.push(row.id),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if !sent.is_empty() {
            outbox_message::Entity::update_many()
                .col_expr(
                    outbox_message::Column::PublishedAt,
                    sea_orm::sea_query::Expr::value(chrono::Utc::now()),
                )
                .filter(outbox_message::Column::Id.is_in(sent.clone()))
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(sent.len()),
        }
    }

    /// Publishes until nothing is pending or publishing fails; returns how many went out.
    pub async fn drain(&self) -> Result<usize, RelayError> {
        let mut total = 0;
        loop {
            let n = self.relay_once().await?;
            total += n;
            if n < Self::BATCH as usize {
                return Ok(total);
            }
        }
    }

    /// Relays in the background until `shutdown`, then makes one last attempt to drain.
    pub fn spawn(self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut backoff = Self::POLL;
            loop {
                match self.drain().await {
                    Ok(_) => backoff = Self::POLL,
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox relay paused; events stay queued");
                        backoff = (backoff * 2).min(Self::MAX_BACKOFF);
                    }
                }
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(backoff) => {}
                }
            }
            if let Err(e) = self.drain().await {
                tracing::warn!(error = %e, "outbox not fully drained at shutdown; it resumes on next start");
            }
        })
    }

    /// Number of events not yet published (readiness detail and tests).
    pub async fn pending(&self) -> Result<u64, DbErr> {
        use sea_orm::PaginatorTrait;
        outbox_message::Entity::find()
            .filter(outbox_message::Column::PublishedAt.is_null())
            .count(&self.db)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        bus::{ConsumerSpec, EventHandler, InProcessBus},
        contracts::OrderDelivered,
    };
    use sea_orm::Database;
    use sea_orm_migration::SchemaManager;

    #[tokio::test]
    async fn relays_in_order_and_inbox_dedups() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        create_tables(&SchemaManager::new(&db)).await.unwrap();
        let bus = InProcessBus::new();
        let got = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = got.clone();
        let handler: EventHandler = Arc::new(move |d| {
            let sink = sink.clone();
            Box::pin(async move {
                let env = Envelope::<OrderDelivered>::decode(&d.payload).unwrap();
                sink.lock().unwrap().push(env.data.order_id.as_u128());
                Ok(())
            })
        });
        let _w = bus
            .consume(
                ConsumerSpec {
                    durable: "t".into(),
                    subjects: vec!["orders.>".into()],
                },
                handler,
            )
            .await
            .unwrap();
        let txn = db.begin().await.unwrap();
        for i in 0..5 {
            let event = OrderDelivered {
                order_id: Uuid::from_u128(i),
            };
            publish(&txn, &event).await.unwrap();
        }
        txn.commit().await.unwrap();
        let relay = OutboxRelay::new(db.clone(), Arc::new(bus));
        assert_eq!(relay.pending().await.unwrap(), 5);
        assert_eq!(relay.drain().await.unwrap(), 5);
        assert_eq!(relay.pending().await.unwrap(), 0);
        assert_eq!(relay.drain().await.unwrap(), 0);
        crate::testing::eventually("five events relayed", async || {
            got.lock().unwrap().len() >= 5
        })
        .await;
        assert_eq!(*got.lock().unwrap(), vec![0, 1, 2, 3, 4]);

        let id = Uuid::now_v7();
        assert!(mark_processed(&db, "c", id).await.unwrap());
        assert!(!mark_processed(&db, "c", id).await.unwrap());
        assert!(mark_processed(&db, "other", id).await.unwrap());
    }
}
