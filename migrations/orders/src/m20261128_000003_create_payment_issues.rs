//! Payments that arrived but could not be applied to their order (the order was cancelled
//! or already paid, the amount or currency differs, the order is unknown). Each row is
//! kept for the people who reconcile payments and issue refunds.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PaymentIssues {
    Table,
    Id,
    EventId,
    OrderId,
    PaymentId,
    Kind,
    AmountMinor,
    Currency,
    OrderStatus,
    RecordedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PaymentIssues::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(PaymentIssues::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(PaymentIssues::EventId)
                            .uuid()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(PaymentIssues::OrderId).uuid().not_null())
                    .col(ColumnDef::new(PaymentIssues::PaymentId).uuid().not_null())
                    .col(
                        ColumnDef::new(PaymentIssues::Kind)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PaymentIssues::AmountMinor)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PaymentIssues::Currency)
                            .string_len(3)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PaymentIssues::OrderStatus)
                            .string_len(16)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(PaymentIssues::RecordedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_payment_issues_order")
                    .table(PaymentIssues::Table)
                    .col(PaymentIssues::OrderId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(PaymentIssues::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
