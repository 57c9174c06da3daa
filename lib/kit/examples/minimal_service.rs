//! The smallest complete subgraph, with every module a service has. A new service starts as
//! a copy of it: each `mod` below becomes a file of its own (`src/config.rs`, `src/store.rs`,
//! `src/graphql.rs`, `src/events.rs`, `src/service.rs`, and `main` in `src/main.rs`).
//!
//! It keeps notes. `addNote(text)` stores a note and writes `notes.added` to the outbox in
//! the same transaction; the relay publishes it; the consumer in `events` counts it in a
//! metric. `notes` lists them. `cargo run -p kit --example minimal_service` runs it in
//! the embedded mode (SQLite under `DATA_DIR`, the in-process bus); Ctrl-C shuts it down in
//! the order `kit::service` documents.

mod config {
    //! The settings, read from the environment before anything starts.

    use std::net::{Ipv4Addr, SocketAddr};

    use kit::{
        auth::TokenPolicy,
        config::{BusConfig, ConfigError, DatabaseConfig, Env},
        internal::InternalConfig,
    };

    #[derive(Debug, Clone)]
    pub struct Config {
        /// `NOTES_ADDR`.
        pub addr: SocketAddr,
        /// `JWKS_URL`: the users service's public keys.
        pub jwks_url: String,
        pub token_policy: TokenPolicy,
        /// `NOTES_DATABASE_URL` or `DATABASE_URL`, else SQLite under `DATA_DIR`.
        pub database: DatabaseConfig,
        /// `NATS_URL` (unset: the in-process bus).
        pub bus: BusConfig,
        /// `COMMERCE_PROFILE`, `SUBGRAPH_SHARED_SECRET`, `NOTES_METRICS_ADDR`.
        pub internal: InternalConfig,
    }

    impl Config {
        pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
            Ok(Self {
                addr: env.parse_or("NOTES_ADDR", SocketAddr::from((Ipv4Addr::LOCALHOST, 4100)))?,
                jwks_url: env.string_or("JWKS_URL", "http://127.0.0.1:4004/.well-known/jwks.json"),
                token_policy: TokenPolicy::from_env(env)?,
                database: DatabaseConfig::from_env(env, "notes")?,
                bus: BusConfig::from_env(env)?,
                internal: InternalConfig::from_env(env, "notes")?,
            })
        }
    }
}

mod store {
    //! The database: opening it, bringing its schema up to date, and the shared tables.

    use anyhow::Context as _;
    use kit::config::DatabaseConfig;
    use sea_orm::{ConnectionTrait as _, DatabaseConnection};

    pub mod note {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "notes")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub text: String,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    pub async fn connect_and_migrate(
        config: &DatabaseConfig,
    ) -> anyhow::Result<DatabaseConnection> {
        let (db, _statements) = kit::db::connect(config)
            .await
            .context("opening the database")?;
        // A real service applies its migration crate here (`Migrator::up(&db, None)`), whose
        // migrations create the outbox and inbox with `kit::outbox::create_tables`.
        db.execute_unprepared(
            "CREATE TABLE IF NOT EXISTS notes (id uuid PRIMARY KEY, text text NOT NULL)",
        )
        .await?;
        let manager = sea_orm_migration::SchemaManager::new(&db);
        kit::outbox::create_tables(&manager).await?;
        kit::parking::create_table(&manager).await?;
        Ok(db)
    }
}

mod graphql {
    //! The schema: roots, objects, and `schema()` / `sdl()`.

    use async_graphql::{
        Context, EmptySubscription, ID, Object, Schema, SchemaBuilder, SimpleObject,
    };
    use kit::{ApiError, auth::auth_from_ctx, outbox::OutboxRelay};
    use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait, TransactionTrait};
    use uuid::Uuid;

    use crate::{events, store::note};

    /// What resolvers share.
    pub struct State {
        pub db: DatabaseConnection,
        pub relay: OutboxRelay,
    }

    #[derive(SimpleObject)]
    pub struct Note {
        id: ID,
        text: String,
    }

    impl From<note::Model> for Note {
        fn from(n: note::Model) -> Self {
            Self {
                id: ID(n.id.to_string()),
                text: n.text,
            }
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn notes(&self, ctx: &Context<'_>) -> Result<Vec<Note>, ApiError> {
            let state = ctx.data_unchecked::<State>();
            let rows = note::Entity::find()
                .all(&state.db)
                .await
                .map_err(ApiError::internal)?;
            Ok(rows.into_iter().map(Note::from).collect())
        }
    }

    pub struct Mutation;

    #[Object]
    impl Mutation {
        /// Stores a note and its `notes.added` event in one transaction.
        async fn add_note(&self, ctx: &Context<'_>, text: String) -> Result<Note, ApiError> {
            auth_from_ctx(ctx).require_user()?;
            let state = ctx.data_unchecked::<State>();
            let id = Uuid::now_v7();
            let txn = state.db.begin().await.map_err(ApiError::internal)?;
            note::Entity::insert(note::ActiveModel {
                id: Set(id),
                text: Set(text.clone()),
            })
            .exec_without_returning(&txn)
            .await
            .map_err(ApiError::internal)?;
            kit::outbox::publish(&txn, &events::NoteAdded { id })
                .await
                .map_err(ApiError::internal)?;
            txn.commit().await.map_err(ApiError::internal)?;
            state.relay.notify();
            Ok(note::Model { id, text }.into())
        }
    }

    pub type NotesSchema = Schema<Query, Mutation, EmptySubscription>;

    fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
        kit::graphql::harden(Schema::build(Query, Mutation, EmptySubscription)).enable_federation()
    }

    pub fn schema(state: State) -> NotesSchema {
        builder().data(state).finish()
    }

    /// The Federation SDL (a real service commits it under `schema/` and tests it).
    #[allow(dead_code)]
    pub fn sdl() -> String {
        kit::graphql::federation_sdl(&builder().finish())
    }
}

mod events {
    //! The bus: the events this service defines, and its consumers, one per submodule in a
    //! real service, all subscribed by `start`. A real service declares its events in
    //! `kit::contracts`, where every service sees them, on a subject whose first token is one
    //! of `kit::bus::EVENT_DOMAINS` (the NATS stream holds those); this one runs on the
    //! in-process bus.

    use kit::{
        bus::{BusError, Worker},
        contracts::Event,
        parking::ParkingLot,
    };
    use prometheus_client::metrics::counter::Counter;
    use serde::{Deserialize, Serialize};
    use uuid::Uuid;

    /// A note was stored.
    #[derive(Debug, Serialize, Deserialize)]
    pub struct NoteAdded {
        pub id: Uuid,
    }

    impl Event for NoteAdded {
        const SUBJECT: &'static str = "notes.added";
        const VERSION: u32 = 1;
    }

    /// Subscribes every consumer; the workers stop when the service does. Decoding, the
    /// version rule, the inbox mark (in the handler's transaction) and parking of what
    /// cannot be handled are the kit's.
    pub async fn start(lot: &ParkingLot, added: Counter) -> Result<Vec<Worker>, BusError> {
        let consumer =
            kit::outbox::consume::<NoteAdded, _>(lot, "notes-count-added", move |_txn, event| {
                let added = added.clone();
                Box::pin(async move {
                    tracing::info!(id = %event.data.id, "note added");
                    added.inc();
                    Ok(())
                })
            })
            .await?;
        Ok(vec![consumer])
    }
}

mod service {
    //! `Deps`, `start` and `RunningService`: the pieces above handed to the builder.

    use std::{net::SocketAddr, sync::Arc};

    use kit::{
        outbox::OutboxRelay,
        service::{Runtime, ServiceBuilder},
    };
    use prometheus_client::{metrics::counter::Counter, registry::Registry};

    use crate::{config::Config, events, graphql, store};

    /// What the caller provides: the kit's bus and token verifier, built from the
    /// configuration in production, injected by tests and the all-in-one launcher.
    pub use kit::service::Deps;

    pub struct RunningService {
        pub addr: SocketAddr,
        runtime: Runtime,
    }

    impl RunningService {
        pub async fn stop(self) {
            self.runtime.stop().await;
        }
    }

    pub async fn start(config: Config, deps: Deps) -> anyhow::Result<RunningService> {
        let db = store::connect_and_migrate(&config.database).await?;
        let relay = OutboxRelay::new(db.clone(), deps.bus.clone());
        let added = Counter::default();
        let mut registry = Registry::with_prefix("notes");
        registry.register("added", "notes.added events consumed", added.clone());
        let parking = kit::parking::ParkingLot::new(db.clone(), deps.bus.clone());
        let workers = events::start(&parking, added).await?;
        let schema = graphql::schema(graphql::State {
            db: db.clone(),
            relay: relay.clone(),
        });
        let runtime = ServiceBuilder::new("notes", &config.internal, config.addr)
            .graphql(schema, deps.verifier)
            .database(db)
            .bus(deps.bus)
            .metrics(Arc::new(registry))
            .workers(workers)
            .relay(relay)
            .start()
            .await?;
        Ok(RunningService {
            addr: runtime.addr(),
            runtime,
        })
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    use anyhow::Context as _;
    let _telemetry = kit::telemetry::init("notes")?;
    let config = config::Config::from_env(&kit::config::Env::process())?;
    let deps = service::Deps::connect(&config.bus, &config.jwks_url, &config.token_policy)
        .await
        .context("connecting to the event bus")?;
    let service = service::start(config, deps).await?;
    tracing::info!(addr = %service.addr, "notes listening");
    kit::health::shutdown_signal().await;
    service.stop().await;
    Ok(())
}
