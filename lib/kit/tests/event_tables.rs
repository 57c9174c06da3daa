//! The outbox, inbox and parked-event tables as the migrations create them (with DDL
//! written out, so that a migration never changes meaning) are the tables the entities
//! describe, on SQLite (the embedded mode) and PostgreSQL alike. An entity changed without
//! a migration fails here.

use kit::{
    outbox::{inbox_message, outbox_message},
    parking::parked_event,
    testing::TestDatabase,
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Schema, Statement};
use sea_orm_migration::SchemaManager;

async fn migrate(db: &DatabaseConnection) {
    let manager = SchemaManager::new(db);
    kit::outbox::create_tables(&manager)
        .await
        .expect("outbox tables");
    kit::parking::create_table(&manager)
        .await
        .expect("parked_events table");
}

/// What the entities describe, with the indexes the migrations add.
async fn from_entities(db: &DatabaseConnection) {
    let schema = Schema::new(db.get_database_backend());
    let backend = db.get_database_backend();
    for table in [
        schema.create_table_from_entity(outbox_message::Entity),
        schema.create_table_from_entity(inbox_message::Entity),
        schema.create_table_from_entity(parked_event::Entity),
    ] {
        db.execute_raw(backend.build(&table))
            .await
            .expect("entity table");
    }
    for index in [
        r#"CREATE INDEX "idx_outbox_pending" ON "outbox" ("published_at", "created_at")"#,
        r#"CREATE UNIQUE INDEX "idx_parked_events_consumer_fingerprint" ON "parked_events" ("consumer", "fingerprint")"#,
    ] {
        db.execute_unprepared(index).await.expect("index");
    }
}

async fn lines(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("catalog query")
        .iter()
        .map(|row| row.try_get::<String>("", "line").expect("a line"))
        .collect()
}

#[tokio::test]
async fn on_sqlite_the_migrations_create_what_the_entities_describe() {
    let migrated = Database::connect("sqlite::memory:").await.unwrap();
    migrate(&migrated).await;
    let derived = Database::connect("sqlite::memory:").await.unwrap();
    from_entities(&derived).await;
    // SQLite keeps each table's and index's definition as written.
    let catalog = "SELECT type || ' ' || name || ': ' || sql AS line FROM sqlite_master \
                   WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name";
    let expected = lines(&derived, catalog).await;
    assert_eq!(expected.len(), 5, "{expected:#?}");
    assert_eq!(lines(&migrated, catalog).await, expected);
}

#[tokio::test]
async fn on_postgres_the_migrations_create_what_the_entities_describe() {
    let (a, b) = (
        TestDatabase::postgres().await,
        TestDatabase::postgres().await,
    );
    let migrated = Database::connect(&a.url).await.unwrap();
    migrate(&migrated).await;
    let derived = Database::connect(&b.url).await.unwrap();
    from_entities(&derived).await;
    let catalog = [
        "SELECT table_name || '.' || column_name || ' #' || ordinal_position || ' ' || udt_name \
           || ' nullable=' || is_nullable || ' default=' || coalesce(column_default, '-') \
           || ' length=' || coalesce(character_maximum_length::text, '-') AS line \
         FROM information_schema.columns WHERE table_schema = 'public' \
         ORDER BY table_name, ordinal_position",
        "SELECT indexname || ': ' || indexdef AS line FROM pg_indexes \
         WHERE schemaname = 'public' ORDER BY indexname",
        "SELECT conrelid::regclass::text || '.' || conname || ': ' || pg_get_constraintdef(c.oid) AS line \
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
         WHERE n.nspname = 'public' ORDER BY 1",
    ];
    for query in catalog {
        let expected = lines(&derived, query).await;
        assert!(!expected.is_empty(), "{query}");
        assert_eq!(lines(&migrated, query).await, expected, "{query}");
    }
    assert_eq!(lines(&derived, catalog[0]).await.len(), 17);
    let _ = (migrated.close().await, derived.close().await);
}
