//! An index on the lines' product, for `Product.unitsSold`: the count for a batch of products
//! looks their lines up by `product_id`, which the existing `(order_id, product_id)` index
//! cannot serve because it leads with the order.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OrderItems {
    Table,
    ProductId,
}

const INDEX: &str = "idx_order_items_product_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name(INDEX)
                    .table(OrderItems::Table)
                    .col(OrderItems::ProductId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .if_exists()
                    .name(INDEX)
                    .table(OrderItems::Table)
                    .to_owned(),
            )
            .await
    }
}
