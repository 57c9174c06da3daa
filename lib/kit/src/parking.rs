//! Parking events a consumer cannot process, so they neither block the events behind them
//! nor disappear.
//!
//! Every typed consumer ([`crate::outbox::Consumer`]) wraps its handler with
//! [`ParkingLot::handler`] (a raw bus consumer may do so too). When the handler reports an
//! event as [`HandlerError::Unprocessable`] (it cannot be decoded, or is of a version this
//! code does not know), or fails on the last delivery its
//! [`crate::bus::DeliveryPolicy`] allows, the event is parked instead of being redelivered
//! forever or acknowledged and dropped:
//!
//! - copied to the bus's dead-letter stream ([`EventBus::dead_letter`]), with its subject
//!   and the reason in headers;
//! - recorded in the service's `parked_events` table (created by [`create_table`] from the
//!   service's migrations) with the consumer, subject, payload, reason and attempts; an
//!   event parked again (the same consumer and payload) updates its row;
//! - counted in `events_parked_total{consumer}`.
//!
//! Then it is acknowledged, and the consumer goes on with the next event. An admin lists
//! parked events ([`ParkingLot::list`]) and replays one ([`ParkingLot::replay`]) once its
//! cause is fixed: the consumer's own handler runs on the stored payload, and on success
//! the row is marked replayed. A typed consumer's replay goes through the same decoding,
//! version rule and inbox as a delivery, so a replay of an event that was in fact applied
//! changes nothing.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family},
    registry::Registry,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use crate::{
    ApiError,
    bus::{ConsumerSpec, Delivery, EventBus, EventHandler, HandlerError},
};

/// Events parked by this service's consumers.
pub mod parked_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "parked_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub consumer: String,
        pub subject: String,
        #[sea_orm(column_type = "Blob")]
        pub payload: Vec<u8>,
        /// Hex SHA-256 of the payload; with the consumer, what makes a parked event unique.
        pub fingerprint: String,
        #[sea_orm(column_type = "Text")]
        pub reason: String,
        /// Deliveries (and replays) that failed.
        pub attempts: i64,
        pub parked_at: DateTimeUtc,
        pub replayed_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The table as its first migration created it, written out rather than derived from
/// [`parked_event`] so that the migration never changes when the entity does (a change is
/// a new migration). It is what `Schema::create_table_from_entity` produced for the entity
/// on PostgreSQL and SQLite.
#[derive(sea_orm::DeriveIden)]
enum ParkedEvents {
    Table,
    Id,
    Consumer,
    Subject,
    Payload,
    Fingerprint,
    Reason,
    Attempts,
    ParkedAt,
    ReplayedAt,
}

/// Creates the `parked_events` table; called from each service's migrations.
pub async fn create_table(manager: &sea_orm_migration::SchemaManager<'_>) -> Result<(), DbErr> {
    use sea_orm_migration::prelude::{ColumnDef, Index, Table};
    manager
        .create_table(
            Table::create()
                .table(ParkedEvents::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(ParkedEvents::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(ParkedEvents::Consumer).string().not_null())
                .col(ColumnDef::new(ParkedEvents::Subject).string().not_null())
                .col(ColumnDef::new(ParkedEvents::Payload).blob().not_null())
                .col(
                    ColumnDef::new(ParkedEvents::Fingerprint)
                        .string()
                        .not_null(),
                )
                .col(ColumnDef::new(ParkedEvents::Reason).text().not_null())
                .col(
                    ColumnDef::new(ParkedEvents::Attempts)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ParkedEvents::ParkedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(ParkedEvents::ReplayedAt).timestamp_with_time_zone())
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .if_not_exists()
                .unique()
                .name("idx_parked_events_consumer_fingerprint")
                .table(ParkedEvents::Table)
                .col(ParkedEvents::Consumer)
                .col(ParkedEvents::Fingerprint)
                .to_owned(),
        )
        .await
}

/// Drops the `parked_events` table (the migration's `down`).
pub async fn drop_table(manager: &sea_orm_migration::SchemaManager<'_>) -> Result<(), DbErr> {
    use sea_orm_migration::prelude::Table;
    manager
        .drop_table(
            Table::drop()
                .table(ParkedEvents::Table)
                .if_exists()
                .to_owned(),
        )
        .await
}

#[derive(Debug, thiserror::Error)]
pub enum ParkingError {
    #[error("parked event not found")]
    NotFound,
    #[error("this parked event was replayed already")]
    AlreadyReplayed,
    #[error("no consumer `{0}` runs in this service")]
    UnknownConsumer(String),
    #[error("the event still cannot be processed: {0}")]
    StillFailing(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<ParkingError> for ApiError {
    fn from(err: ParkingError) -> Self {
        match err {
            ParkingError::NotFound => ApiError::not_found("parked event"),
            ParkingError::AlreadyReplayed | ParkingError::StillFailing(_) => {
                ApiError::conflict(err.to_string())
            }
            other => ApiError::internal(other),
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConsumerLabel {
    consumer: String,
}

/// Parks, lists and replays the events of one service's consumers.
#[derive(Clone)]
pub struct ParkingLot {
    db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
    /// The handlers as the service wrote them, by consumer, for replays.
    handlers: Arc<RwLock<HashMap<String, EventHandler>>>,
    parked: Family<ConsumerLabel, Counter>,
}

impl std::fmt::Debug for ParkingLot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParkingLot").finish_non_exhaustive()
    }
}

/// The largest page [`ParkingLot::list`] returns.
pub const MAX_PAGE: u64 = 100;

impl ParkingLot {
    pub fn new(db: DatabaseConnection, bus: Arc<dyn EventBus>) -> Self {
        Self {
            db,
            bus,
            handlers: Arc::default(),
            parked: Family::default(),
        }
    }

    /// The service database the lot (and the service's consumers) write to.
    pub fn database(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The bus the service's consumers read from.
    pub fn bus(&self) -> &Arc<dyn EventBus> {
        &self.bus
    }

    /// Adds `events_parked_total{consumer}` to `registry`.
    pub fn register_metrics(&self, registry: &mut Registry) {
        registry.register(
            "events_parked",
            "Events parked after they could not be processed",
            self.parked.clone(),
        );
    }

    /// Events parked so far by `consumer` (what the metric reports).
    pub fn parked_count(&self, consumer: &str) -> u64 {
        self.parked
            .get_or_create(&ConsumerLabel {
                consumer: consumer.to_owned(),
            })
            .get()
    }

    /// Wraps `handler` of the consumer `spec` so that what it cannot process is parked
    /// (see the module doc), and remembers it for replays.
    pub fn handler(&self, spec: &ConsumerSpec, handler: EventHandler) -> EventHandler {
        if let Ok(mut handlers) = self.handlers.write() {
            handlers.insert(spec.durable.clone(), handler.clone());
        }
        let lot = self.clone();
        let consumer = spec.durable.clone();
        let max_attempts = u64::from(self.bus.delivery_policy().max_attempts);
        Arc::new(move |delivery: Delivery| {
            let (lot, consumer, handler) = (lot.clone(), consumer.clone(), handler.clone());
            Box::pin(async move {
                let reason = match handler(delivery.clone()).await {
                    Ok(()) => return Ok(()),
                    Err(HandlerError::Unprocessable(reason)) => reason,
                    Err(HandlerError::Retry(reason)) if delivery.attempt >= max_attempts => {
                        format!("gave up after {} attempts: {reason}", delivery.attempt)
                    }
                    Err(retry) => return Err(retry),
                };
                // Parking failed: let the bus deliver it again (it has a few deliveries
                // beyond the budget for this).
                lot.park(&consumer, &delivery, &reason)
                    .await
                    .map_err(|e| HandlerError::Retry(format!("parking failed: {e}")))?;
                Ok(())
            })
        })
    }

    /// Parks one delivery of `consumer` with `reason`.
    pub async fn park(
        &self,
        consumer: &str,
        delivery: &Delivery,
        reason: &str,
    ) -> Result<(), ParkingError> {
        use sha2::Digest as _;
        self.bus
            .dead_letter(consumer, delivery, reason)
            .await
            .map_err(|e| ParkingError::Db(DbErr::Custom(e.to_string())))?;
        let fingerprint = crate::bus::hex_digest(&sha2::Sha256::digest(&delivery.payload));
        let row = parked_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            consumer: Set(consumer.to_owned()),
            subject: Set(delivery.subject.clone()),
            payload: Set(delivery.payload.to_vec()),
            fingerprint: Set(fingerprint),
            reason: Set(reason.to_owned()),
            attempts: Set(i64::try_from(delivery.attempt).unwrap_or(i64::MAX)),
            parked_at: Set(chrono::Utc::now()),
            replayed_at: Set(None),
        };
        // Parked again (a replayed event that failed later, or a redelivery after a park
        // whose acknowledgement was lost): the row is brought up to date.
        parked_event::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    parked_event::Column::Consumer,
                    parked_event::Column::Fingerprint,
                ])
                .update_columns([
                    parked_event::Column::Reason,
                    parked_event::Column::Attempts,
                    parked_event::Column::ParkedAt,
                    parked_event::Column::ReplayedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        self.parked
            .get_or_create(&ConsumerLabel {
                consumer: consumer.to_owned(),
            })
            .inc();
        tracing::error!(consumer, subject = %delivery.subject, attempt = delivery.attempt, reason, "event parked");
        Ok(())
    }

    /// Up to `limit` (at most [`MAX_PAGE`]) parked events after `after`, oldest first;
    /// replayed ones only when `include_replayed`.
    pub async fn list(
        &self,
        after: Option<Uuid>,
        limit: u64,
        include_replayed: bool,
    ) -> Result<Vec<parked_event::Model>, ParkingError> {
        let mut query = parked_event::Entity::find()
            .order_by_asc(parked_event::Column::Id)
            .limit(limit.min(MAX_PAGE));
        if let Some(after) = after {
            query = query.filter(parked_event::Column::Id.gt(after));
        }
        if !include_replayed {
            query = query.filter(parked_event::Column::ReplayedAt.is_null());
        }
        Ok(query.all(&self.db).await?)
    }

    /// Runs the consumer's handler on parked event `id` again; on success the event is
    /// marked replayed, otherwise its reason and attempts are updated and the error says why.
    pub async fn replay(&self, id: Uuid) -> Result<parked_event::Model, ParkingError> {
        let row = parked_event::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(ParkingError::NotFound)?;
        if row.replayed_at.is_some() {
            return Err(ParkingError::AlreadyReplayed);
        }
        let handler = self
            .handlers
            .read()
            .ok()
            .and_then(|h| h.get(&row.consumer).cloned())
            .ok_or_else(|| ParkingError::UnknownConsumer(row.consumer.clone()))?;
        let delivery = Delivery {
            subject: row.subject.clone(),
            payload: row.payload.clone().into(),
            attempt: 1,
        };
        match handler(delivery).await {
            Ok(()) => {
                let now = chrono::Utc::now();
                parked_event::Entity::update_many()
                    .col_expr(parked_event::Column::ReplayedAt, Expr::value(now))
                    .filter(parked_event::Column::Id.eq(id))
                    .exec(&self.db)
                    .await?;
                tracing::info!(consumer = %row.consumer, %id, "parked event replayed");
                Ok(parked_event::Model {
                    replayed_at: Some(now),
                    ..row
                })
            }
            Err(e) => {
                let reason = e.to_string();
                parked_event::Entity::update_many()
                    .col_expr(parked_event::Column::Reason, Expr::value(reason.clone()))
                    .col_expr(
                        parked_event::Column::Attempts,
                        sea_orm::sea_query::ExprTrait::add(
                            Expr::col(parked_event::Column::Attempts),
                            1,
                        ),
                    )
                    .filter(parked_event::Column::Id.eq(id))
                    .exec(&self.db)
                    .await?;
                Err(ParkingError::StillFailing(reason))
            }
        }
    }
}

/// A parked event as admins see it through the API (the same type in every subgraph that
/// parks events, hence shareable).
#[derive(Debug, Clone, async_graphql::SimpleObject)]
#[graphql(shareable)]
pub struct ParkedEvent {
    pub id: async_graphql::ID,
    /// The durable consumer that gave up on it.
    pub consumer: String,
    /// The event's subject, e.g. `payments.succeeded`.
    pub subject: String,
    /// The payload as received (invalid UTF-8 replaced).
    pub payload: String,
    /// Why it was parked (or why its last replay failed).
    pub reason: String,
    /// Deliveries and replays that failed.
    pub attempts: i64,
    pub parked_at: chrono::DateTime<chrono::Utc>,
    /// When a replay succeeded; null while parked.
    pub replayed_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<parked_event::Model> for ParkedEvent {
    fn from(row: parked_event::Model) -> Self {
        Self {
            id: async_graphql::ID(row.id.to_string()),
            consumer: row.consumer,
            subject: row.subject,
            payload: String::from_utf8_lossy(&row.payload).into_owned(),
            reason: row.reason,
            attempts: row.attempts,
            parked_at: row.parked_at,
            replayed_at: row.replayed_at,
        }
    }
}

/// `parked...Events(first, after, includeReplayed)` for a subgraph's admin query: checks
/// the caller is an admin, validates the page and lists.
pub async fn list_for_admin(
    ctx: &async_graphql::Context<'_>,
    first: Option<i32>,
    after: Option<async_graphql::ID>,
    include_replayed: Option<bool>,
) -> Result<Vec<ParkedEvent>, ApiError> {
    crate::auth::auth_from_ctx(ctx).require_admin()?;
    let lot = lot_from_ctx(ctx)?;
    let limit = match first {
        None => crate::graphql::DEFAULT_PAGE_SIZE,
        Some(n) => u64::try_from(n)
            .ok()
            .filter(|n| *n <= MAX_PAGE)
            .ok_or_else(|| {
                ApiError::bad_input("first", format!("`first` must be between 0 and {MAX_PAGE}"))
            })?,
    };
    let after = after
        .map(|id| crate::graphql::parse_id(&id, "after"))
        .transpose()?;
    let rows = lot
        .list(after, limit, include_replayed.unwrap_or(false))
        .await?;
    Ok(rows.into_iter().map(ParkedEvent::from).collect())
}

/// `replayParked...Event(id)` for a subgraph's admin mutation.
pub async fn replay_for_admin(
    ctx: &async_graphql::Context<'_>,
    id: async_graphql::ID,
) -> Result<ParkedEvent, ApiError> {
    let admin = crate::auth::auth_from_ctx(ctx).require_admin()?;
    let lot = lot_from_ctx(ctx)?;
    let id = crate::graphql::parse_id(&id, "id")?;
    tracing::info!(admin = %admin.user_id, %id, "replaying a parked event");
    Ok(lot.replay(id).await?.into())
}

fn lot_from_ctx<'a>(ctx: &async_graphql::Context<'a>) -> Result<&'a ParkingLot, ApiError> {
    ctx.data::<ParkingLot>().map_err(|e| {
        ApiError::internal(format!("schema built without a parking lot: {}", e.message))
    })
}
