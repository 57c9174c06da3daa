//! Reading orders: who may see which, finding one, paging through many, and the batch
//! loaders that keep a page of orders with their lines at two SQL statements.
//!
//! A customer sees only their own orders; asking for someone else's order by id answers
//! `NOT_FOUND` (not `FORBIDDEN`), so order ids cannot be probed. Asking to list another
//! customer's orders is `FORBIDDEN`: the customer id is not secret to the caller who names it.
//!
//! Pages are keyset pages over the order id, newest first (ids are UUID v7, so they sort by
//! creation), through [`kit::keyset`].

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use kit::{
    ApiError, auth::Principal, connection::Connection, graphql::PageRequest, keyset::Keyset,
};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, Order, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::{
    entities::{order, order_item},
    lifecycle::OrderStatus,
};

#[derive(Debug, thiserror::Error)]
pub enum BrowseError {
    #[error("order not found")]
    NotFound,
    #[error("customers can only list their own orders")]
    Forbidden,
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<BrowseError> for ApiError {
    fn from(err: BrowseError) -> Self {
        match err {
            BrowseError::NotFound => ApiError::not_found("order"),
            BrowseError::Forbidden => ApiError::forbidden(),
            BrowseError::Db(e) => ApiError::internal(e),
        }
    }
}

/// Whether `viewer` may see `order`.
pub fn can_see(viewer: &Principal, order: &order::Model) -> bool {
    viewer.is_admin() || viewer.user_id == order.user_id
}

/// Which orders a list shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderFilter {
    pub user_id: Option<Uuid>,
    pub status: Option<OrderStatus>,
}

impl OrderFilter {
    /// The filter `viewer` may use: an admin any, a customer only their own orders.
    pub fn for_viewer(
        viewer: &Principal,
        customer_id: Option<Uuid>,
        status: Option<OrderStatus>,
    ) -> Result<Self, BrowseError> {
        let user_id = match customer_id {
            _ if viewer.is_admin() => customer_id,
            None => Some(viewer.user_id),
            Some(id) if id == viewer.user_id => Some(id),
            Some(_) => return Err(BrowseError::Forbidden),
        };
        Ok(Self { user_id, status })
    }

    fn condition(&self) -> Condition {
        let mut cond = Condition::all();
        if let Some(user_id) = self.user_id {
            cond = cond.add(order::Column::UserId.eq(user_id));
        }
        if let Some(status) = self.status {
            cond = cond.add(order::Column::Status.eq(status.as_str()));
        }
        cond
    }
}

/// The order with `id`, if `viewer` may see it.
pub async fn find_visible(
    db: &DatabaseConnection,
    viewer: &Principal,
    id: Uuid,
) -> Result<order::Model, BrowseError> {
    let order = order::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(BrowseError::NotFound)?;
    if can_see(viewer, &order) {
        Ok(order)
    } else {
        Err(BrowseError::NotFound)
    }
}

/// The list of orders, newest first: ids are UUID v7, so they sort by creation.
fn keyset() -> Keyset<order::Entity> {
    Keyset::new("orders", [order::Column::Id], Order::Desc)
}

/// One page of the orders matching `filter`, in one statement; `counts_total` when the
/// client asked for `totalCount`.
pub async fn page(
    db: &DatabaseConnection,
    filter: &OrderFilter,
    request: &PageRequest,
    counts_total: bool,
) -> Result<Connection<order::Model>, ApiError> {
    let select = order::Entity::find().filter(filter.condition());
    keyset()
        .page(db, select, request, |o| (o.id,), counts_total)
        .await
}

/// Loads the lines of many orders in one statement.
pub struct ItemsLoader(pub DatabaseConnection);

impl Loader<Uuid> for ItemsLoader {
    type Value = Arc<Vec<order_item::Model>>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = order_item::Entity::find()
            .filter(order_item::Column::OrderId.is_in(keys.iter().copied()))
            .order_by_asc(order_item::Column::OrderId)
            .order_by_asc(order_item::Column::Position)
            .all(&self.0)
            .await
            .map_err(Arc::new)?;
        let mut grouped: HashMap<Uuid, Vec<order_item::Model>> = HashMap::with_capacity(keys.len());
        for row in rows {
            grouped.entry(row.order_id).or_default().push(row);
        }
        Ok(grouped.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}

/// Loads many orders by id in one statement (federation `_entities` lookups).
pub struct OrderLoader(pub DatabaseConnection);

impl Loader<Uuid> for OrderLoader {
    type Value = order::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = order::Entity::find()
            .filter(order::Column::Id.is_in(keys.iter().copied()))
            .all(&self.0)
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|o| (o.id, o)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kit::auth::Role;

    #[test]
    fn customers_are_scoped_to_themselves() {
        let me = Principal {
            user_id: Uuid::now_v7(),
            role: Role::Customer,
        };
        let admin = Principal {
            user_id: Uuid::now_v7(),
            role: Role::Admin,
        };
        let other = Uuid::now_v7();
        assert_eq!(
            OrderFilter::for_viewer(&me, None, None).unwrap().user_id,
            Some(me.user_id)
        );
        assert_eq!(
            OrderFilter::for_viewer(&me, Some(me.user_id), None)
                .unwrap()
                .user_id,
            Some(me.user_id)
        );
        assert!(matches!(
            OrderFilter::for_viewer(&me, Some(other), None),
            Err(BrowseError::Forbidden)
        ));
        assert_eq!(
            OrderFilter::for_viewer(&admin, None, None).unwrap().user_id,
            None
        );
        let f = OrderFilter::for_viewer(&admin, Some(other), Some(OrderStatus::Paid)).unwrap();
        assert_eq!(
            (f.user_id, f.status),
            (Some(other), Some(OrderStatus::Paid))
        );
    }
}
