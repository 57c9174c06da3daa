//! The `products` table as sea-orm sees it (created by the `products-migration` crate).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// `name` folded to lower case: the key of the name order and of name search.
    pub name_key: String,
    pub description: String,
    pub price_minor: i64,
    pub currency: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Set when the product was soft-deleted; it is then unavailable.
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
