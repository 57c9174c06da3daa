//! Schema migrations of the payments database, for PostgreSQL and SQLite alike.
//!
//! The payments service runs them at start-up (and with its `migrate` subcommand); each
//! migration lives in its own file because sea-orm names a migration after its file.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_payments;
mod m20261203_000001_create_parked_events;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_payments::Migration),
            Box::new(m20261203_000001_create_parked_events::Migration),
        ]
    }
}
