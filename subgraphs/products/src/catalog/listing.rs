//! Listing products: filters, sort orders and keyset (cursor) pagination.
//!
//! A cursor is the position of a product in the requested order: its sort key plus its id,
//! the tie-breaker that makes every order total. The next page is "rows strictly after this
//! position", which is an index range scan, and stays correct when products are inserted or
//! edited between two requests: nothing is skipped or repeated the way an offset would.
//! A cursor remembers its sort order and is refused under another one.
//!
//! A page runs one statement. `totalCount`, and `hasPreviousPage` (`hasNextPage` when paging
//! backwards) after a cursor, need counting; that second statement runs only if a client
//! asks for one of them, and at most once per page.

use chrono::{DateTime, Utc};
use kit::{
    Currency,
    graphql::{PageRequest, decode_cursor, encode_cursor},
    money::MoneyInput,
};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect, Value,
    sea_query::{Expr, Func, LikeExpr},
};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::{Catalog, CatalogError, Product, entity, name_key};

/// Longest accepted name search text, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// The orders a product list can be sorted in.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[graphql(name = "ProductSort")]
pub enum Sort {
    /// Most recently created first.
    #[default]
    Newest,
    /// By name, A to Z, ignoring case.
    Name,
    /// Cheapest first. Prices compare in minor units, so combine with a price filter (which
    /// fixes the currency) when the catalog has several currencies.
    Price,
}

impl Sort {
    fn ascending(self) -> bool {
        !matches!(self, Sort::Newest)
    }

    fn column(self) -> entity::Column {
        match self {
            Sort::Newest => entity::Column::CreatedAt,
            Sort::Name => entity::Column::NameKey,
            Sort::Price => entity::Column::PriceMinor,
        }
    }
}

/// Which products a list contains. The default contains them all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub available: Option<bool>,
    pub price: Option<PriceRange>,
    /// Folded like [`name_key`]; matched as a substring.
    pub name_contains: Option<String>,
}

/// Prices in one currency, both bounds inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceRange {
    pub currency: Currency,
    pub min_minor: Option<i64>,
    pub max_minor: Option<i64>,
}

impl Filter {
    /// Validates a client's filter; errors name `filter.<field>`.
    pub fn new(
        available: Option<bool>,
        min_price: Option<&MoneyInput>,
        max_price: Option<&MoneyInput>,
        name_contains: Option<&str>,
    ) -> Result<Self, CatalogError> {
        let min = min_price.map(|m| m.parse("filter.minPrice")).transpose()?;
        let max = max_price.map(|m| m.parse("filter.maxPrice")).transpose()?;
        let price = match (min, max) {
            (None, None) => None,
            (Some(min), Some(max)) => {
                if min.currency() != max.currency() {
                    return Err(CatalogError::invalid(
                        "filter.maxPrice.currencyCode",
                        "minPrice and maxPrice must be in the same currency",
                    ));
                }
                if min.minor_units() > max.minor_units() {
                    return Err(CatalogError::invalid(
                        "filter.maxPrice.amount",
                        "maxPrice must not be below minPrice",
                    ));
                }
                Some(PriceRange {
                    currency: min.currency(),
                    min_minor: Some(min.minor_units()),
                    max_minor: Some(max.minor_units()),
                })
            }
            (Some(min), None) => Some(PriceRange {
                currency: min.currency(),
                min_minor: Some(min.minor_units()),
                max_minor: None,
            }),
            (None, Some(max)) => Some(PriceRange {
                currency: max.currency(),
                min_minor: None,
                max_minor: Some(max.minor_units()),
            }),
        };
        let name_contains = match name_contains.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(text) if text.chars().count() > MAX_SEARCH_CHARS => {
                return Err(CatalogError::invalid(
                    "filter.nameContains",
                    format!("the search text must be at most {MAX_SEARCH_CHARS} characters"),
                ));
            }
            Some(text) => Some(name_key(kit::text::single_line(
                "filter.nameContains",
                text,
            )?)),
        };
        Ok(Self {
            available,
            price,
            name_contains,
        })
    }

    fn condition(&self) -> Condition {
        let mut cond = Condition::all();
        match self.available {
            Some(true) => cond = cond.add(entity::Column::DeletedAt.is_null()),
            Some(false) => cond = cond.add(entity::Column::DeletedAt.is_not_null()),
            None => {}
        }
        if let Some(range) = &self.price {
            cond = cond.add(entity::Column::Currency.eq(range.currency.code()));
            if let Some(min) = range.min_minor {
                cond = cond.add(entity::Column::PriceMinor.gte(min));
            }
            if let Some(max) = range.max_minor {
                cond = cond.add(entity::Column::PriceMinor.lte(max));
            }
        }
        if let Some(text) = &self.name_contains {
            let pattern = format!("%{}%", escape_like(text));
            cond = cond.add(entity::Column::NameKey.like(LikeExpr::new(pattern).escape('\\')));
        }
        cond
    }
}

/// Makes `%`, `_` and the escape character itself match literally in a LIKE pattern.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Where a product stands in a sort order; the content of a cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Position {
    Newest { at: DateTime<Utc>, id: Uuid },
    Name { key: String, id: Uuid },
    Price { minor: i64, id: Uuid },
}

impl Position {
    fn of(sort: Sort, product: &Product) -> Self {
        match sort {
            Sort::Newest => Position::Newest {
                at: product.created_at,
                id: product.id,
            },
            Sort::Name => Position::Name {
                key: name_key(&product.name),
                id: product.id,
            },
            Sort::Price => Position::Price {
                minor: product.price.minor_units(),
                id: product.id,
            },
        }
    }

    fn decode(cursor: &str, sort: Sort, field: &str) -> Result<Self, CatalogError> {
        let position: Position = decode_cursor(cursor, field)?;
        let matches = matches!(
            (&position, sort),
            (Position::Newest { .. }, Sort::Newest)
                | (Position::Name { .. }, Sort::Name)
                | (Position::Price { .. }, Sort::Price)
        );
        if !matches {
            return Err(CatalogError::invalid(
                field,
                "the cursor belongs to another sort order",
            ));
        }
        Ok(position)
    }

    fn key_and_id(&self) -> (Value, Uuid) {
        match self {
            Position::Newest { at, id } => (Value::from(*at), *id),
            Position::Name { key, id } => (Value::from(key.clone()), *id),
            Position::Price { minor, id } => (Value::from(*minor), *id),
        }
    }

    /// Rows strictly beyond this position when walking the order `ascending`.
    fn beyond(&self, column: entity::Column, ascending: bool) -> Condition {
        let (key, id) = self.key_and_id();
        let (past_key, past_id) = if ascending {
            (column.gt(key.clone()), entity::Column::Id.gt(id))
        } else {
            (column.lt(key.clone()), entity::Column::Id.lt(id))
        };
        Condition::any()
            .add(past_key)
            .add(Condition::all().add(column.eq(key)).add(past_id))
    }
}

/// A validated list request.
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub page: PageRequest,
    pub filter: Filter,
    pub sort: Sort,
}

/// One page of products with their cursors, in the requested order.
pub struct Page {
    pub edges: Vec<(String, Product)>,
    /// More rows exist beyond the page in the walking direction.
    more: bool,
    forward: bool,
    counts: LazyCounts,
}

impl Page {
    pub fn start_cursor(&self) -> Option<&str> {
        self.edges.first().map(|(c, _)| c.as_str())
    }

    pub fn end_cursor(&self) -> Option<&str> {
        self.edges.last().map(|(c, _)| c.as_str())
    }

    pub async fn has_next_page(&self) -> Result<bool, CatalogError> {
        if self.forward {
            Ok(self.more)
        } else {
            self.counts.rows_behind_cursor().await
        }
    }

    pub async fn has_previous_page(&self) -> Result<bool, CatalogError> {
        if self.forward {
            self.counts.rows_behind_cursor().await
        } else {
            Ok(self.more)
        }
    }

    pub async fn total_count(&self) -> Result<i64, CatalogError> {
        Ok(self.counts.get().await?.total)
    }
}

#[derive(Debug, Clone, Copy)]
struct Counts {
    total: i64,
    /// Rows strictly beyond the cursor in the walking direction (all rows without a cursor).
    beyond: i64,
}

/// Counts computed on first use, by one statement.
struct LazyCounts {
    db: DatabaseConnection,
    filter: Condition,
    beyond: Option<Condition>,
    cell: OnceCell<Counts>,
}

impl LazyCounts {
    async fn get(&self) -> Result<Counts, CatalogError> {
        self.cell.get_or_try_init(|| self.count()).await.copied()
    }

    /// Whether rows exist at or behind the cursor, i.e. on the other side of the page.
    async fn rows_behind_cursor(&self) -> Result<bool, CatalogError> {
        if self.beyond.is_none() {
            return Ok(false);
        }
        let counts = self.get().await?;
        Ok(counts.total > counts.beyond)
    }

    async fn count(&self) -> Result<Counts, CatalogError> {
        let query = entity::Entity::find()
            .filter(self.filter.clone())
            .select_only()
            .column_as(Expr::cust("COUNT(*)"), "total");
        match &self.beyond {
            None => {
                let total: Option<i64> = query.into_tuple().one(&self.db).await?;
                let total = total.unwrap_or(0);
                Ok(Counts {
                    total,
                    beyond: total,
                })
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
                let (total, beyond) = counted.unwrap_or((0, 0));
                Ok(Counts { total, beyond })
            }
        }
    }
}

impl Catalog {
    /// One page of products: one statement, plus one more if counts are asked for.
    pub async fn list(&self, request: ListRequest) -> Result<Page, CatalogError> {
        let ListRequest { page, filter, sort } = request;
        let (limit, cursor, forward, cursor_field) = match page {
            PageRequest::Forward { limit, after } => (limit, after, true, "after"),
            PageRequest::Backward { limit, before } => (limit, before, false, "before"),
        };
        let position = cursor
            .as_deref()
            .map(|c| Position::decode(c, sort, cursor_field))
            .transpose()?;
        // Walking backwards reads the order in reverse, then flips the page back.
        let ascending = sort.ascending() == forward;
        let column = sort.column();
        let beyond = position.as_ref().map(|p| p.beyond(column, ascending));
        let filter = filter.condition();

        let mut query = entity::Entity::find().filter(filter.clone());
        if let Some(beyond) = &beyond {
            query = query.filter(beyond.clone());
        }
        let order = if ascending { Order::Asc } else { Order::Desc };
        let rows = query
            .order_by(column, order.clone())
            .order_by(entity::Column::Id, order)
            .limit(limit.saturating_add(1))
            .all(self.db())
            .await?;

        let more = rows.len() as u64 > limit;
        let mut products = rows
            .into_iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(Product::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        if !forward {
            products.reverse();
        }
        let edges = products
            .into_iter()
            .map(|p| (encode_cursor(&Position::of(sort, &p)), p))
            .collect();
        Ok(Page {
            edges,
            more,
            forward,
            counts: LazyCounts {
                db: self.db().clone(),
                filter,
                beyond,
                cell: OnceCell::new(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(amount: &str, currency: &str) -> MoneyInput {
        MoneyInput {
            amount: amount.into(),
            currency_code: currency.into(),
        }
    }

    fn field_of(err: CatalogError) -> String {
        match err {
            CatalogError::InvalidInput { field, .. } => field,
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like("100%_off\\"), "100\\%\\_off\\\\");
        assert_eq!(escape_like("plain"), "plain");
    }

    #[test]
    fn filters_are_validated_with_field_names() {
        let f = Filter::new(
            Some(true),
            Some(&money("1.50", "EUR")),
            Some(&money("2", "eur")),
            Some("  TeA "),
        )
        .unwrap();
        assert_eq!(f.available, Some(true));
        assert_eq!(f.name_contains.as_deref(), Some("tea"));
        assert_eq!(
            f.price,
            Some(PriceRange {
                currency: Currency::parse("EUR").unwrap(),
                min_minor: Some(150),
                max_minor: Some(200)
            })
        );
        assert_eq!(
            Filter::new(None, None, None, Some("   ")).unwrap(),
            Filter::default()
        );

        let cases = [
            (
                Filter::new(None, Some(&money("1.001", "EUR")), None, None),
                "filter.minPrice.amount",
            ),
            (
                Filter::new(None, None, Some(&money("-1", "EUR")), None),
                "filter.maxPrice.amount",
            ),
            (
                Filter::new(None, Some(&money("1", "XXX")), None, None),
                "filter.minPrice.currencyCode",
            ),
            (
                Filter::new(
                    None,
                    Some(&money("1", "EUR")),
                    Some(&money("2", "USD")),
                    None,
                ),
                "filter.maxPrice.currencyCode",
            ),
            (
                Filter::new(
                    None,
                    Some(&money("3", "EUR")),
                    Some(&money("2", "EUR")),
                    None,
                ),
                "filter.maxPrice.amount",
            ),
            (
                Filter::new(None, None, None, Some(&"x".repeat(MAX_SEARCH_CHARS + 1))),
                "filter.nameContains",
            ),
            (
                Filter::new(None, None, None, Some("Mug\u{0}zzz")),
                "filter.nameContains",
            ),
            (
                Filter::new(None, None, None, Some("Mug\u{1b}")),
                "filter.nameContains",
            ),
        ];
        for (result, field) in cases {
            assert_eq!(field_of(result.unwrap_err()), field);
        }
    }

    #[test]
    fn cursors_round_trip_and_are_tied_to_their_sort() {
        let id = Uuid::now_v7();
        let cursor = encode_cursor(&Position::Price { minor: 1999, id });
        assert_eq!(
            Position::decode(&cursor, Sort::Price, "after").unwrap(),
            Position::Price { minor: 1999, id }
        );
        assert_eq!(
            field_of(Position::decode(&cursor, Sort::Name, "after").unwrap_err()),
            "after"
        );
        assert_eq!(
            field_of(Position::decode("not-a-cursor", Sort::Price, "before").unwrap_err()),
            "before"
        );
    }
}
