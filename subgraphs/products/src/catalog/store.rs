//! Reading and writing products.
//!
//! Every write is a single conditional statement (`UPDATE ... WHERE deleted_at IS NULL
//! RETURNING *`), so a concurrent delete cannot slip between a check and an edit; only when
//! nothing matched does a second read tell a missing product from a deleted one.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use kit::Money;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr,
};
use uuid::Uuid;

use super::{CatalogError, Product, entity, name_key};

/// Validated fields of a new product.
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub name: String,
    pub description: String,
    pub price: Money,
}

/// Validated changes to a product; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProductChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<Money>,
}

impl ProductChanges {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.description.is_none() && self.price.is_none()
    }
}

/// The products store.
#[derive(Debug, Clone)]
pub struct Catalog {
    db: DatabaseConnection,
}

/// Timestamps are kept to the microsecond, PostgreSQL's precision, so a value read back
/// equals the one written (cursors compare them exactly).
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

impl Catalog {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// One product, deleted or not.
    pub async fn get(&self, id: Uuid) -> Result<Product, CatalogError> {
        entity::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(CatalogError::NotFound(id))?
            .try_into()
    }

    /// The products among `ids` that exist, in one statement.
    pub async fn get_many(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Product>, CatalogError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = entity::Entity::find()
            .filter(entity::Column::Id.is_in(ids.iter().copied()))
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|row| Product::try_from(row).map(|p| (p.id, p)))
            .collect()
    }

    pub async fn create(&self, new: NewProduct) -> Result<Product, CatalogError> {
        let at = now();
        let row = entity::ActiveModel {
            id: Set(Uuid::now_v7()),
            name_key: Set(name_key(&new.name)),
            name: Set(new.name),
            description: Set(new.description),
            price_minor: Set(new.price.minor_units()),
            currency: Set(new.price.currency().code().to_owned()),
            created_at: Set(at),
            updated_at: Set(at),
            deleted_at: Set(None),
        };
        entity::Entity::insert(row)
            .exec_with_returning(&self.db)
            .await?
            .try_into()
    }

    /// Applies `changes` to a product that is not deleted. No changes at all is a no-op that
    /// still reports a missing or deleted product.
    pub async fn update(&self, id: Uuid, changes: ProductChanges) -> Result<Product, CatalogError> {
        if changes.is_empty() {
            let product = self.get(id).await?;
            return if product.is_available() {
                Ok(product)
            } else {
                Err(CatalogError::Deleted(id))
            };
        }
        let mut update = entity::Entity::update_many()
            .filter(entity::Column::Id.eq(id))
            .filter(entity::Column::DeletedAt.is_null())
            .col_expr(entity::Column::UpdatedAt, Expr::value(now()));
        if let Some(name) = changes.name {
            update = update
                .col_expr(entity::Column::NameKey, Expr::value(name_key(&name)))
                .col_expr(entity::Column::Name, Expr::value(name));
        }
        if let Some(description) = changes.description {
            update = update.col_expr(entity::Column::Description, Expr::value(description));
        }
        if let Some(price) = changes.price {
            update = update
                .col_expr(entity::Column::PriceMinor, Expr::value(price.minor_units()))
                .col_expr(
                    entity::Column::Currency,
                    Expr::value(price.currency().code()),
                );
        }
        match update
            .exec_with_returning(&self.db)
            .await?
            .into_iter()
            .next()
        {
            Some(row) => row.try_into(),
            None => Err(self.why_not_editable(id).await),
        }
    }

    /// Soft-deletes a product. Deleting a deleted product changes nothing and succeeds, so a
    /// retried request gets the same answer.
    pub async fn delete(&self, id: Uuid) -> Result<Product, CatalogError> {
        let at = now();
        let rows = entity::Entity::update_many()
            .filter(entity::Column::Id.eq(id))
            .filter(entity::Column::DeletedAt.is_null())
            .col_expr(entity::Column::DeletedAt, Expr::value(Some(at)))
            .col_expr(entity::Column::UpdatedAt, Expr::value(at))
            .exec_with_returning(&self.db)
            .await?;
        match rows.into_iter().next() {
            Some(row) => row.try_into(),
            None => self.get(id).await,
        }
    }

    /// Makes a deleted product available again; restoring an available product is a no-op.
    pub async fn restore(&self, id: Uuid) -> Result<Product, CatalogError> {
        let rows = entity::Entity::update_many()
            .filter(entity::Column::Id.eq(id))
            .filter(entity::Column::DeletedAt.is_not_null())
            .col_expr(
                entity::Column::DeletedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(entity::Column::UpdatedAt, Expr::value(now()))
            .exec_with_returning(&self.db)
            .await?;
        match rows.into_iter().next() {
            Some(row) => row.try_into(),
            None => self.get(id).await,
        }
    }

    /// Why a conditional edit matched no row: the product is missing or deleted.
    async fn why_not_editable(&self, id: Uuid) -> CatalogError {
        match self.get(id).await {
            Ok(_) => CatalogError::Deleted(id),
            Err(err) => err,
        }
    }
}
