//! The `products` table: the catalog.
//!
//! Prices are integer minor units next to their ISO 4217 code, never a float. A product is
//! never removed, only soft-deleted (`deleted_at` set), because orders keep referring to it.
//! `name_key` is the name folded to lower case by the service; it gives both backends the
//! same case-insensitive name order and substring search, whatever their collations.
//! Every listing order is backed by an index ending in `id`, the tie-breaker of the keyset
//! cursors.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    Name,
    NameKey,
    Description,
    PriceMinor,
    Currency,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

/// Trigram index for `name_key LIKE '%text%'`, when the server lets us use `pg_trgm`.
/// Creating an extension needs privileges a managed database may not grant; without it the
/// search still works, by scanning, so a refusal is not a reason to fail the migration.
const PG_TRIGRAM_INDEX: &str = r#"
DO $$
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
        RAISE NOTICE 'pg_trgm is not available; product name search will scan';
    END;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS idx_products_name_trgm ON products USING gin (name_key gin_trgm_ops);
    END IF;
END
$$;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Products::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Products::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Products::NameKey).text().not_null())
                    .col(ColumnDef::new(Products::Description).text().not_null())
                    .col(
                        ColumnDef::new(Products::PriceMinor)
                            .big_integer()
                            .not_null()
                            .check(Expr::col(Products::PriceMinor).gte(0)),
                    )
                    .col(ColumnDef::new(Products::Currency).char_len(3).not_null())
                    .col(
                        ColumnDef::new(Products::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Products::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Products::DeletedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;

        let sort_indexes = [
            ("idx_products_name_key_id", Products::NameKey),
            ("idx_products_price_minor_id", Products::PriceMinor),
            ("idx_products_created_at_id", Products::CreatedAt),
        ];
        for (name, column) in sort_indexes {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Products::Table)
                        .if_not_exists()
                        .col(column)
                        .col(Products::Id)
                        .to_owned(),
                )
                .await?;
        }

        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(PG_TRIGRAM_INDEX)
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Dropping the table drops its indexes; the extension may serve others, so it stays.
        manager
            .drop_table(Table::drop().table(Products::Table).if_exists().to_owned())
            .await
    }
}
