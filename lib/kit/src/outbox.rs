//! The transactional outbox and inbox that make events reliable.
//!
//! A service writes its state change and the event describing it in one database
//! transaction ([`enqueue`]); the [`OutboxRelay`] later publishes pending events in order,
//! with the event id as the bus message id, and marks them sent. If the bus is down the
//! events wait in the table; if the relay dies between publish and mark, the re-publish is
//! a duplicate the bus drops. On the consuming side, [`mark_processed`] records an event id
//! in the same transaction as the change it causes, so a redelivered event changes nothing.
//!
//! Every service database that uses them creates both tables with [`create_tables`].

use std::{sync::Arc, time::Duration};

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Schema, TransactionTrait,
    sea_query::OnConflict,
};
use serde::Serialize;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{bus::EventBus, contracts::Envelope};

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

/// Creates the `outbox` and `inbox` tables; called from each service's migrations.
pub async fn create_tables(manager: &sea_orm_migration::SchemaManager<'_>) -> Result<(), DbErr> {
    use sea_orm_migration::prelude::Index;
    let schema = Schema::new(manager.get_database_backend());
    manager
        .create_table(
            schema
                .create_table_from_entity(outbox_message::Entity)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .if_not_exists()
                .name("idx_outbox_pending")
                .table(outbox_message::Entity)
                .col(outbox_message::Column::PublishedAt)
                .col(outbox_message::Column::CreatedAt)
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            schema
                .create_table_from_entity(inbox_message::Entity)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
    Ok(())
}

/// Drops both tables (the down migration).
pub async fn drop_tables(manager: &sea_orm_migration::SchemaManager<'_>) -> Result<(), DbErr> {
    use sea_orm_migration::prelude::Table;
    manager
        .drop_table(
            Table::drop()
                .table(inbox_message::Entity)
                .if_exists()
                .to_owned(),
        )
        .await?;
    manager
        .drop_table(
            Table::drop()
                .table(outbox_message::Entity)
                .if_exists()
                .to_owned(),
        )
        .await?;
    Ok(())
}

/// Records `event` for publishing; call it inside the transaction that makes the change.
pub async fn enqueue<C, T>(conn: &C, event: &Envelope<T>) -> Result<(), DbErr>
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
    use crate::bus::{ConsumerSpec, EventHandler, InProcessBus};
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
                let env: Envelope<u32> = serde_json::from_slice(&d.payload).unwrap();
                sink.lock().unwrap().push(env.data);
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
        for i in 0..5u32 {
            enqueue(&txn, &Envelope::new("orders.created", i))
                .await
                .unwrap();
        }
        txn.commit().await.unwrap();
        let relay = OutboxRelay::new(db.clone(), Arc::new(bus));
        assert_eq!(relay.pending().await.unwrap(), 5);
        assert_eq!(relay.drain().await.unwrap(), 5);
        assert_eq!(relay.pending().await.unwrap(), 0);
        assert_eq!(relay.drain().await.unwrap(), 0);
        tokio::time::timeout(Duration::from_secs(5), async {
            while got.lock().unwrap().len() < 5 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap();
        assert_eq!(*got.lock().unwrap(), vec![0, 1, 2, 3, 4]);

        let id = Uuid::now_v7();
        assert!(mark_processed(&db, "c", id).await.unwrap());
        assert!(!mark_processed(&db, "c", id).await.unwrap());
        assert!(mark_processed(&db, "other", id).await.unwrap());
    }
}
