//! The payments database: opening and migrating it, and row locking that works on both
//! stores the service runs on. Its tables belong to the features ([`crate::payment`],
//! [`crate::webhook`]).
//!
//! PostgreSQL takes a row lock with `SELECT ... FOR UPDATE`, so concurrent webhooks and
//! checkouts for one payment queue up behind each other. SQLite has no such clause; there
//! (embedded mode, one connection) the single writer already serialises transactions.

use anyhow::Context as _;
use kit::{config::DatabaseConfig, db::StatementCounter};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QuerySelect, Select,
};
use sea_orm_migration::MigratorTrait as _;

/// Opens the database and applies pending migrations.
pub async fn connect_and_migrate(
    config: &DatabaseConfig,
) -> anyhow::Result<(DatabaseConnection, StatementCounter)> {
    let (db, statements) = kit::db::connect(config)
        .await
        .context("connecting to the payments database")?;
    payments_migration::Migrator::up(&db, None)
        .await
        .context("migrating the payments database")?;
    Ok((db, statements))
}

/// `query` locking the rows it reads until the transaction ends, where the store can.
pub fn lock_for_update<E: EntityTrait>(query: Select<E>, conn: &impl ConnectionTrait) -> Select<E> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        query.lock_exclusive()
    } else {
        query
    }
}
