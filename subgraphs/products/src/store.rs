//! The products database: opening it and bringing its schema up to date. The `products`
//! table itself belongs to the catalog ([`crate::catalog`]).

use anyhow::Context as _;
use kit::{config::DatabaseConfig, db::StatementCounter};
use products_migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

/// Opens the database and applies pending migrations.
pub async fn connect_and_migrate(
    config: &DatabaseConfig,
) -> anyhow::Result<(DatabaseConnection, StatementCounter)> {
    let (db, statements) = kit::db::connect(config)
        .await
        .context("connecting to the database")?;
    Migrator::up(&db, None)
        .await
        .context("applying the database migrations")?;
    Ok((db, statements))
}
