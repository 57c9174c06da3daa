//! The orders service's database schema, as sea-orm migrations that run unchanged on
//! PostgreSQL and SQLite (embedded mode).
//!
//! One migration per file: sea-orm names each migration after its file, and the names are
//! what the `seaql_migrations` table remembers, so files are never renamed once released.

use sea_orm_migration::prelude::*;

mod m20261128_000001_create_orders;
mod m20261128_000002_create_outbox;
mod m20261128_000003_create_payment_issues;
mod m20261128_000004_index_order_items_product_id;
mod m20261203_000001_create_parked_events;

/// Every migration of the orders database, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_orders::Migration),
            Box::new(m20261128_000002_create_outbox::Migration),
            Box::new(m20261128_000003_create_payment_issues::Migration),
            Box::new(m20261128_000004_index_order_items_product_id::Migration),
            Box::new(m20261203_000001_create_parked_events::Migration),
        ]
    }
}
