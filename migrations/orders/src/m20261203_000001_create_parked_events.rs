//! Events a consumer could not process, parked with the reason for an admin to list and
//! replay; the layout is the kit crate's, shared by every service that consumes events.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        kit::parking::create_table(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        kit::parking::drop_table(manager).await
    }
}
