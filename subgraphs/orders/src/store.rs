//! The orders database: opening it and bringing its schema up to date. Its tables, shared
//! by the features, are in [`crate::entities`].

use anyhow::Context as _;
use kit::{config::DatabaseConfig, db::StatementCounter};
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;

/// Opens the database and brings its schema up to date.
pub async fn connect_and_migrate(
    config: &DatabaseConfig,
) -> anyhow::Result<(DatabaseConnection, StatementCounter)> {
    let (db, statements) = kit::db::connect(config)
        .await
        .context("cannot open the orders database")?;
    orders_migration::Migrator::up(&db, None)
        .await
        .context("cannot migrate the orders database")?;
    Ok((db, statements))
}
