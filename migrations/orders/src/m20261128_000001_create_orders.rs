//! Orders and their lines. A line keeps the product's name and unit price as they were at
//! purchase time, so later catalog changes never alter an order.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    UserId,
    Status,
    Currency,
    TotalMinor,
    ItemCount,
    PaymentId,
    CreatedAt,
    UpdatedAt,
    PaidAt,
    CancelledAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum OrderItems {
    Table,
    OrderId,
    Position,
    ProductId,
    ProductName,
    UnitPriceMinor,
    Quantity,
    LineTotalMinor,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Orders::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Orders::UserId).uuid().not_null())
                    .col(ColumnDef::new(Orders::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Orders::Currency).string_len(3).not_null())
                    .col(ColumnDef::new(Orders::TotalMinor).big_integer().not_null())
                    .col(ColumnDef::new(Orders::ItemCount).integer().not_null())
                    .col(ColumnDef::new(Orders::PaymentId).uuid().null())
                    .col(
                        ColumnDef::new(Orders::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Orders::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Orders::PaidAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Orders::CancelledAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(Orders::DeliveredAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .check(Expr::col(Orders::TotalMinor).gte(0))
                    .to_owned(),
            )
            .await?;
        // A customer's order history and the admin's status filter both page by id.
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_orders_user_id")
                    .table(Orders::Table)
                    .col(Orders::UserId)
                    .col(Orders::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_orders_status_id")
                    .table(Orders::Table)
                    .col(Orders::Status)
                    .col(Orders::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderItems::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(OrderItems::OrderId).uuid().not_null())
                    .col(ColumnDef::new(OrderItems::Position).integer().not_null())
                    .col(ColumnDef::new(OrderItems::ProductId).uuid().not_null())
                    .col(ColumnDef::new(OrderItems::ProductName).string().not_null())
                    .col(
                        ColumnDef::new(OrderItems::UnitPriceMinor)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(OrderItems::Quantity).integer().not_null())
                    .col(
                        ColumnDef::new(OrderItems::LineTotalMinor)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(OrderItems::OrderId)
                            .col(OrderItems::Position),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_items_order")
                            .from(OrderItems::Table, OrderItems::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(OrderItems::Quantity).gt(0))
                    .check(Expr::col(OrderItems::UnitPriceMinor).gte(0))
                    .to_owned(),
            )
            .await?;
        // Duplicate products are merged before insert; the database enforces it as well.
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_order_items_product")
                    .table(OrderItems::Table)
                    .col(OrderItems::OrderId)
                    .col(OrderItems::ProductId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(OrderItems::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Orders::Table).if_exists().to_owned())
            .await?;
        Ok(())
    }
}
