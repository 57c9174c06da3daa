//! Schema migrations of the products service.
//!
//! The same migrations run on PostgreSQL (production) and SQLite (embedded mode); the
//! service applies them on start-up and `products migrate` applies them and exits. Each
//! migration lives in its own file, whose name is the migration's name in the
//! `seaql_migrations` table, so files are only ever added, never renamed or edited.

pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::*;

mod m20261128_000001_create_products;

/// The ordered list of the products service's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(m20261128_000001_create_products::Migration)]
    }
}

#[cfg(test)]
mod tests {
    use sea_orm_migration::sea_orm::Database;

    use super::*;

    #[tokio::test]
    async fn migrations_apply_revert_and_reapply_on_sqlite() {
        let db = Database::connect("sqlite::memory:")
            .await
            .expect("in-memory SQLite");
        let manager = SchemaManager::new(&db);

        Migrator::up(&db, None).await.expect("up");
        assert!(manager.has_table("products").await.unwrap());
        for index in [
            "idx_products_name_key_id",
            "idx_products_price_minor_id",
            "idx_products_created_at_id",
        ] {
            assert!(
                manager.has_index("products", index).await.unwrap(),
                "{index}"
            );
        }
        assert!(
            Migrator::get_pending_migrations(&db)
                .await
                .unwrap()
                .is_empty()
        );

        Migrator::down(&db, None).await.expect("down");
        assert!(!manager.has_table("products").await.unwrap());

        Migrator::up(&db, None).await.expect("up again");
        assert!(manager.has_table("products").await.unwrap());
    }
}
