//! The shared transactional outbox (events waiting to be published) and inbox (events
//! already handled), whose layout the kit crate defines for every service.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        kit::outbox::create_tables(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        kit::outbox::drop_tables(manager).await
    }
}
