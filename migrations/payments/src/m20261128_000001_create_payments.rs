//! Payments, the Stripe events already handled, and the outbox/inbox tables.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Payments {
    Table,
    Id,
    OrderId,
    UserId,
    Status,
    AmountMinor,
    Currency,
    Provider,
    Attempt,
    CheckoutSessionId,
    CheckoutUrl,
    SessionExpiresAt,
    PaymentIntentId,
    ReceiptUrl,
    FailureReason,
    Flag,
    FlagDetail,
    RefundId,
    CreatedAt,
    UpdatedAt,
    SucceededAt,
    FailedAt,
    ExpiredAt,
    RefundedAt,
}

#[derive(DeriveIden)]
enum StripeEvents {
    Table,
    EventId,
    EventType,
    PaymentId,
    Outcome,
    ReceivedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .if_not_exists()
                    .col(uuid(Payments::Id).primary_key())
                    // One payment per order: retries and replaced sessions are attempts of it.
                    .col(uuid_uniq(Payments::OrderId))
                    .col(uuid(Payments::UserId))
                    .col(string_len(Payments::Status, 16))
                    .col(big_integer(Payments::AmountMinor))
                    .col(string_len(Payments::Currency, 3))
                    .col(string_len(Payments::Provider, 16))
                    .col(integer(Payments::Attempt))
                    .col(string_len_null(Payments::CheckoutSessionId, 255).unique_key())
                    .col(text_null(Payments::CheckoutUrl))
                    .col(timestamp_with_time_zone_null(Payments::SessionExpiresAt))
                    .col(string_len_null(Payments::PaymentIntentId, 255))
                    .col(text_null(Payments::ReceiptUrl))
                    .col(text_null(Payments::FailureReason))
                    .col(string_len_null(Payments::Flag, 32))
                    .col(text_null(Payments::FlagDetail))
                    .col(string_len_null(Payments::RefundId, 255))
                    .col(timestamp_with_time_zone(Payments::CreatedAt))
                    .col(timestamp_with_time_zone(Payments::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Payments::SucceededAt))
                    .col(timestamp_with_time_zone_null(Payments::FailedAt))
                    .col(timestamp_with_time_zone_null(Payments::ExpiredAt))
                    .col(timestamp_with_time_zone_null(Payments::RefundedAt))
                    .to_owned(),
            )
            .await?;
        // Operators look for payments needing attention (amount mismatches, ...).
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_payments_flag")
                    .table(Payments::Table)
                    .col(Payments::Flag)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StripeEvents::Table)
                    .if_not_exists()
                    // Stripe's event id: the primary key is what makes a redelivery a no-op.
                    .col(string_len(StripeEvents::EventId, 255).primary_key())
                    .col(string_len(StripeEvents::EventType, 128))
                    .col(uuid_null(StripeEvents::PaymentId))
                    .col(string_len(StripeEvents::Outcome, 32))
                    .col(timestamp_with_time_zone(StripeEvents::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        kit::outbox::create_tables(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        kit::outbox::drop_tables(manager).await?;
        manager
            .drop_table(
                Table::drop()
                    .table(StripeEvents::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Payments::Table).if_exists().to_owned())
            .await
    }
}
