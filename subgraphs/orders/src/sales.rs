//! How many units of each product were sold: the `Product.unitsSold` field orders adds to
//! the products service's `Product`.
//!
//! A unit is sold when it is on a line of an order that was paid, i.e. whose status is
//! [`OrderStatus::is_paid`] (PAID or DELIVERED). PENDING orders were never paid and
//! CANCELLED ones can only be cancelled before payment, so neither counts.
//!
//! The router asks for many products at once (one `_entities` call for every product of a
//! response). The first representation resolved loads the counts of all of them with one
//! grouped statement, which the `order_items(product_id)` index keeps cheap, and the others
//! read that result ([`RequestSales`], one per request). A `DataLoader` alone is not enough
//! here: it batches the loads made within a short time window, and async-graphql resolves
//! the representations of a large `_entities` call in rounds (its join yields every 32
//! futures), so under load a window can close halfway and split the call into several
//! statements. [`UnitsSoldLoader`] still batches the products reached any other way (an
//! order line's `product`), where no list of them is known up front.
//!
//! A product nobody paid for has no row and counts 0, whether or not the catalog knows it:
//! orders cannot tell the two apart, and does not need to.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, PoisonError},
};

use async_graphql::dataloader::Loader;
use kit::ApiError;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr,
};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::{
    entities::{order, order_item},
    lifecycle::OrderStatus,
};

#[derive(Debug, thiserror::Error)]
pub enum SalesError {
    #[error("cannot count units sold: {0}")]
    Db(#[from] DbErr),
}

impl From<&SalesError> for ApiError {
    fn from(err: &SalesError) -> Self {
        match err {
            // The database's message stays in the log; the client gets the generic error.
            e @ SalesError::Db(_) => ApiError::internal(e),
        }
    }
}

/// The statuses whose orders' units count as sold, as stored.
fn paid_statuses() -> impl Iterator<Item = &'static str> {
    OrderStatus::ALL
        .into_iter()
        .filter(|s| s.is_paid())
        .map(OrderStatus::as_str)
}

/// The most product ids bound into one statement. SQLite accepts 32766 parameters and
/// PostgreSQL 65535; a bigger `_entities` call than this (far beyond what the router's
/// request limits let through) is answered in several statements instead of failing.
const MAX_IDS_PER_STATEMENT: usize = 10_000;

/// Units sold of each of `product_ids`, in one statement (for up to
/// [`MAX_IDS_PER_STATEMENT`] ids). Products without a paid order are absent from the map
/// (they sold 0).
pub async fn units_sold(
    db: &DatabaseConnection,
    product_ids: &[Uuid],
) -> Result<HashMap<Uuid, i64>, SalesError> {
    // Scoped here: its `max`/`min` would shadow the integers' own elsewhere in the module.
    use sea_orm::sea_query::ExprTrait as _;
    let mut sold = HashMap::new();
    for ids in product_ids.chunks(MAX_IDS_PER_STATEMENT) {
        // SUM of an INTEGER column is a BIGINT on PostgreSQL and an INTEGER (64-bit) on
        // SQLite: both decode as i64.
        let rows: Vec<(Uuid, i64)> = order_item::Entity::find()
            .select_only()
            .column(order_item::Column::ProductId)
            .column_as(
                Expr::col((order_item::Entity, order_item::Column::Quantity)).sum(),
                "units",
            )
            .inner_join(order::Entity)
            .filter(order_item::Column::ProductId.is_in(ids.iter().copied()))
            .filter(order::Column::Status.is_in(paid_statuses()))
            .group_by(order_item::Column::ProductId)
            .into_tuple()
            .all(db)
            .await?;
        sold.extend(rows);
    }
    Ok(sold)
}

/// The value GraphQL's 32-bit `Int` can carry: a count beyond it is shown as `i32::MAX`
/// rather than failing the field (no product comes near it; quantities are at most 1000 a line).
pub fn as_graphql_int(units: i64) -> i32 {
    i32::try_from(units.max(0)).unwrap_or(i32::MAX)
}

/// Batches the `unitsSold` of the products resolved while one request runs (and any
/// concurrent ones) into one statement. It keeps no cache: every batch reads current rows.
pub struct UnitsSoldLoader(pub DatabaseConnection);

impl Loader<Uuid> for UnitsSoldLoader {
    type Value = i64;
    type Error = Arc<SalesError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, i64>, Self::Error> {
        units_sold(&self.0, keys).await.map_err(Arc::new)
    }
}

/// The units sold of the products one `_entities` call asked for, loaded together.
#[derive(Debug, Default)]
pub struct SalesBatch {
    requested: HashSet<Uuid>,
    sold: HashMap<Uuid, i64>,
}

impl SalesBatch {
    /// The units sold of `product`, or `None` when the batch was not loaded for it.
    pub fn get(&self, product: Uuid) -> Option<i64> {
        self.requested
            .contains(&product)
            .then(|| self.sold.get(&product).copied().unwrap_or(0))
    }
}

type BatchResult = Result<Arc<SalesBatch>, Arc<SalesError>>;

/// One request's sales batches, one per `_entities` field (by response key, so two aliased
/// calls in one request each get theirs). Put into every request's data by the schema.
#[derive(Debug, Default)]
pub struct RequestSales {
    calls: Mutex<HashMap<String, Arc<OnceCell<BatchResult>>>>,
}

impl RequestSales {
    /// The batch of the `_entities` field answered as `call`: loaded with the products
    /// `products` lists by whichever representation asks first, then shared. A failure is
    /// kept too, so one broken call runs one statement, not one per representation.
    pub async fn batch(
        &self,
        call: &str,
        db: &DatabaseConnection,
        products: impl FnOnce() -> Vec<Uuid>,
    ) -> BatchResult {
        let cell = {
            // The lock is held only to find the cell, never across the load; a panic while
            // holding it cannot leave the map inconsistent, so a poisoned lock is usable.
            let mut calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
            calls.entry(call.to_owned()).or_default().clone()
        };
        cell.get_or_init(|| async {
            let requested: HashSet<Uuid> = products().into_iter().collect();
            let ids: Vec<Uuid> = requested.iter().copied().collect();
            let sold = units_sold(db, &ids).await.map_err(Arc::new)?;
            Ok(Arc::new(SalesBatch { requested, sold }))
        })
        .await
        .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paid_statuses_count() {
        assert_eq!(paid_statuses().collect::<Vec<_>>(), ["PAID", "DELIVERED"]);
    }

    #[test]
    fn counts_fit_graphql_int() {
        assert_eq!(as_graphql_int(0), 0);
        assert_eq!(as_graphql_int(42), 42);
        assert_eq!(as_graphql_int(i64::from(i32::MAX) + 1), i32::MAX);
        assert_eq!(as_graphql_int(-1), 0);
    }

    #[test]
    fn a_batch_answers_only_for_the_products_it_was_loaded_for() {
        let (sold, unsold, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let batch = SalesBatch {
            requested: HashSet::from([sold, unsold]),
            sold: HashMap::from([(sold, 7)]),
        };
        assert_eq!(batch.get(sold), Some(7));
        assert_eq!(batch.get(unsold), Some(0));
        assert_eq!(batch.get(other), None);
    }

    #[tokio::test]
    async fn one_statement_per_entities_call_however_many_representations_ask() {
        use sea_orm_migration::MigratorTrait as _;
        let (db, statements) = kit::db::connect_url("sqlite::memory:", 1)
            .await
            .expect("in-memory SQLite");
        orders_migration::Migrator::up(&db, None)
            .await
            .expect("migrations run");
        let sales = RequestSales::default();
        let product = Uuid::now_v7();
        let before = statements.get();
        for _ in 0..5 {
            let batch = sales
                .batch("_entities", &db, || vec![product])
                .await
                .expect("counted");
            assert_eq!(batch.get(product), Some(0));
        }
        assert_eq!(statements.get() - before, 1);
        // Another `_entities` field of the same request has a batch of its own.
        sales
            .batch("more", &db, || vec![product])
            .await
            .expect("counted");
        assert_eq!(statements.get() - before, 2);
    }

    #[test]
    fn database_details_stay_out_of_client_errors() {
        let err = SalesError::Db(DbErr::Custom(
            "relation \"order_items\" does not exist".into(),
        ));
        let api = ApiError::from(&err);
        assert_eq!(api.code, kit::ErrorCode::InternalServerError);
        assert!(!api.message.contains("order_items"), "{}", api.message);
    }
}
