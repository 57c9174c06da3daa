//! The sea-orm view of the orders database (see the `orders-migration` crate for the DDL).

use chrono::{DateTime, SubsecRound, Utc};

/// The current time at the precision the database keeps (microseconds), so a value returned
/// right after a write equals the one read back later.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// One order: who placed it, its status and its totals in integer minor units.
pub mod order {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "orders")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub user_id: Uuid,
        /// One of [`crate::lifecycle::OrderStatus`], as its upper-case name.
        pub status: String,
        pub currency: String,
        pub total_minor: i64,
        /// The sum of the lines' quantities.
        pub item_count: i32,
        /// The payment that paid the order, once paid.
        pub payment_id: Option<Uuid>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub paid_at: Option<DateTimeUtc>,
        pub cancelled_at: Option<DateTimeUtc>,
        pub delivered_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::order_item::Entity")]
        Items,
    }

    impl Related<super::order_item::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Items.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// One line of an order, with the product's name and price as they were at purchase.
pub mod order_item {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "order_items")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub order_id: Uuid,
        /// The line's place in the order, as the customer listed the products.
        #[sea_orm(primary_key, auto_increment = false)]
        pub position: i32,
        pub product_id: Uuid,
        pub product_name: String,
        pub unit_price_minor: i64,
        pub quantity: i32,
        pub line_total_minor: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::order::Entity",
            from = "Column::OrderId",
            to = "super::order::Column::Id"
        )]
        Order,
    }

    impl Related<super::order::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Order.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A payment that could not be applied to its order, kept for reconciliation and refunds.
pub mod payment_issue {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "payment_issues")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The `payments.succeeded` event that carried the payment.
        #[sea_orm(unique)]
        pub event_id: Uuid,
        pub order_id: Uuid,
        pub payment_id: Uuid,
        /// One of [`crate::events::payment_events::IssueKind`], as its upper-case name.
        pub kind: String,
        pub amount_minor: i64,
        pub currency: String,
        pub order_status: Option<String>,
        pub recorded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
