//! Keyset pagination over sea-orm: one page of a list as a [`Connection`], in one statement.
//!
//! A list is ordered by one or more columns, the last of which is unique (the primary key),
//! so the order is total. A cursor holds an item's values of those columns, and the next
//! page is "the rows strictly beyond this position", an index range scan that stays correct
//! when rows are inserted or changed between two requests: nothing is skipped or repeated
//! the way an offset would.
//!
//! `totalCount` and the flag for the side behind the cursor need counting; that runs only if
//! a client asks, at most once per page: one statement that counts the list and the rows
//! beyond the cursor when `totalCount` is selected ([`crate::connection::asks_for_total`]),
//! otherwise a one-row look behind the cursor.

use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect, Select, Value,
    sea_query::{Expr, Func},
};
use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::OnceCell;

use crate::{
    ApiError,
    connection::{Connection, Counts, Window},
    graphql::PageRequest,
};

/// An item's values of the sort columns, as its cursor holds them: a tuple with one element
/// per column, in the order of the columns.
pub trait Key: Serialize + DeserializeOwned + Send + Sync + 'static {
    fn values(&self) -> Vec<Value>;
}

impl<A> Key for (A,)
where
    A: Into<Value> + Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn values(&self) -> Vec<Value> {
        vec![self.0.clone().into()]
    }
}

impl<A, B> Key for (A, B)
where
    A: Into<Value> + Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    B: Into<Value> + Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn values(&self) -> Vec<Value> {
        vec![self.0.clone().into(), self.1.clone().into()]
    }
}

/// How a list of `E` is ordered, and what its cursors are called.
#[derive(Debug, Clone)]
pub struct Keyset<E: EntityTrait> {
    list: String,
    columns: Vec<E::Column>,
    ascending: bool,
}

impl<E> Keyset<E>
where
    E: EntityTrait,
    E::Model: Send + Sync,
{
    /// The list named `list` (cursors of other lists are refused; include the sort order in
    /// the name when a list has several), ordered by `columns`, the last one unique, all in
    /// the direction `order`.
    pub fn new(
        list: impl Into<String>,
        columns: impl IntoIterator<Item = E::Column>,
        order: Order,
    ) -> Self {
        Self {
            list: list.into(),
            columns: columns.into_iter().collect(),
            ascending: !matches!(order, Order::Desc),
        }
    }

    /// One page of the rows `select` finds (a `select` without an order), in one statement.
    /// `key` gives a row's values of the sort columns; `counts_total` says whether the client
    /// asked for `totalCount`, so that the counts share one statement.
    pub async fn page<K: Key>(
        &self,
        db: &DatabaseConnection,
        select: Select<E>,
        request: &PageRequest,
        key: impl Fn(&E::Model) -> K,
        counts_total: bool,
    ) -> Result<Connection<E::Model>, ApiError> {
        let window = Window::<K>::new(self.list.clone(), request)?;
        // Walking backwards reads the order in reverse; the window flips the page back.
        let ascending = self.ascending == window.forward;
        let beyond = window
            .cursor
            .as_ref()
            .map(|position| self.beyond(&position.values(), ascending))
            .transpose()?;
        let mut query = select.clone();
        if let Some(beyond) = &beyond {
            query = query.filter(beyond.clone());
        }
        let order = if ascending { Order::Asc } else { Order::Desc };
        for column in &self.columns {
            query = query.order_by(*column, order.clone());
        }
        let rows = query.limit(window.fetch()).all(db).await?;
        Ok(window.finish(
            rows,
            key,
            SqlCounts {
                db: db.clone(),
                select,
                beyond,
                counts_total,
                counted: OnceCell::new(),
                behind: OnceCell::new(),
            },
        ))
    }

    /// Rows strictly beyond `values` when walking the columns `ascending`: for columns
    /// `a, b`, `a > x OR (a = x AND b > y)`.
    fn beyond(&self, values: &[Value], ascending: bool) -> Result<Condition, ApiError> {
        if values.len() != self.columns.len() {
            return Err(ApiError::internal(format!(
                "list `{}` has {} sort columns but a key of {}",
                self.list,
                self.columns.len(),
                values.len()
            )));
        }
        let mut any = Condition::any();
        for (i, (column, value)) in self.columns.iter().zip(values).enumerate() {
            let mut all = Condition::all();
            for (equal, v) in self.columns.iter().zip(values).take(i) {
                all = all.add(equal.eq(v.clone()));
            }
            let past = if ascending {
                column.gt(value.clone())
            } else {
                column.lt(value.clone())
            };
            any = any.add(all.add(past));
        }
        Ok(any)
    }
}

#[derive(Debug, Clone, Copy)]
struct Counted {
    total: u64,
    /// Rows beyond the cursor in the direction of travel (all rows without a cursor).
    beyond: u64,
}

/// The counts of one page, each computed on first use.
struct SqlCounts<E: EntityTrait> {
    db: DatabaseConnection,
    select: Select<E>,
    beyond: Option<Condition>,
    counts_total: bool,
    counted: OnceCell<Counted>,
    behind: OnceCell<bool>,
}

impl<E: EntityTrait> SqlCounts<E> {
    async fn counted(&self) -> Result<Counted, ApiError> {
        self.counted.get_or_try_init(|| self.count()).await.copied()
    }

    async fn count(&self) -> Result<Counted, ApiError> {
        let query = self
            .select
            .clone()
            .select_only()
            .column_as(Expr::cust("COUNT(*)"), "total");
        let (total, beyond) = match &self.beyond {
            None => {
                let total: Option<i64> = query.into_tuple().one(&self.db).await?;
                let total = total.unwrap_or(0);
                (total, total)
            }
            Some(beyond) => {
                // COUNT of a CASE without ELSE counts the rows matching the condition; it is
                // a BIGINT on PostgreSQL whatever the literal's type (a SUM would not be).
                let counted = query
                    .column_as(
                        Expr::from(Func::count(Expr::case(beyond.clone(), Expr::cust("1")))),
                        "beyond",
                    )
                    .into_tuple::<(i64, i64)>()
                    .one(&self.db)
                    .await?;
                counted.unwrap_or((0, 0))
            }
        };
        let non_negative = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(Counted {
            total: non_negative(total),
            beyond: non_negative(beyond),
        })
    }

    /// Whether a row matches and is not beyond the cursor: one row, read by the index.
    async fn any_behind(&self, beyond: &Condition) -> Result<bool, ApiError> {
        let found: Option<i32> = self
            .select
            .clone()
            .select_only()
            .column_as(Expr::cust("1"), "found")
            .filter(beyond.clone().not())
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(found.is_some())
    }
}

#[async_trait::async_trait]
impl<E: EntityTrait> Counts for SqlCounts<E>
where
    E::Model: Send + Sync,
{
    async fn total(&self) -> Result<u64, ApiError> {
        Ok(self.counted().await?.total)
    }

    async fn behind_cursor(&self) -> Result<bool, ApiError> {
        let Some(beyond) = &self.beyond else {
            return Ok(false);
        };
        if self.counts_total {
            let counted = self.counted().await?;
            return Ok(counted.total > counted.beyond);
        }
        self.behind
            .get_or_try_init(|| self.any_behind(beyond))
            .await
            .copied()
    }
}
