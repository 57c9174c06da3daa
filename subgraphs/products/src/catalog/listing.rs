//! Listing products: filters, sort orders and keyset (cursor) pagination.
//!
//! A cursor is the position of a product in the requested order: its sort key plus its id,
//! the tie-breaker that makes every order total. The next page is "rows strictly after this
//! position", which is an index range scan, and stays correct when products are inserted or
//! edited between two requests: nothing is skipped or repeated the way an offset would.
//! A cursor remembers its sort order and is refused under another one.
//!
//! A page runs one statement ([`kit::keyset`]). `totalCount`, and `hasPreviousPage`
//! (`hasNextPage` when paging backwards) after a cursor, need counting; that second
//! statement runs only if a client asks for one of them, and at most once per page.

use kit::{
    Currency, connection::Connection, graphql::PageRequest, keyset::Keyset, money::MoneyInput,
};
use sea_orm::{ColumnTrait, Condition, EntityTrait, Order, QueryFilter, sea_query::LikeExpr};

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

/// A validated list request.
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub page: PageRequest,
    pub filter: Filter,
    pub sort: Sort,
    /// The client asked for `totalCount` ([`kit::connection::asks_for_total`]).
    pub counts_total: bool,
}

impl Sort {
    /// The list in this order; its cursors are refused under another order.
    fn keyset(self) -> Keyset<entity::Entity> {
        let order = if self.ascending() {
            Order::Asc
        } else {
            Order::Desc
        };
        Keyset::new(self.list(), [self.column(), entity::Column::Id], order)
    }

    /// The name of the list in this order, which its cursors carry.
    fn list(self) -> &'static str {
        match self {
            Sort::Newest => "products:NEWEST",
            Sort::Name => "products:NAME",
            Sort::Price => "products:PRICE",
        }
    }
}

impl Catalog {
    /// One page of products: one statement, plus one more if counts are asked for.
    pub async fn list(&self, request: ListRequest) -> Result<Connection<Product>, CatalogError> {
        let ListRequest {
            page,
            filter,
            sort,
            counts_total,
        } = request;
        let keyset = sort.keyset();
        let select = entity::Entity::find().filter(filter.condition());
        let db = self.db();
        let rows = match sort {
            Sort::Newest => {
                keyset
                    .page(db, select, &page, |p| (p.created_at, p.id), counts_total)
                    .await
            }
            Sort::Name => {
                keyset
                    .page(
                        db,
                        select,
                        &page,
                        |p| (p.name_key.clone(), p.id),
                        counts_total,
                    )
                    .await
            }
            Sort::Price => {
                keyset
                    .page(db, select, &page, |p| (p.price_minor, p.id), counts_total)
                    .await
            }
        }?;
        rows.try_map(Product::try_from)
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
    fn cursors_are_tied_to_their_sort() {
        use kit::connection::Window;
        let id = uuid::Uuid::now_v7();
        let request = |after: Option<String>| PageRequest::Forward { limit: 1, after };
        let cursor = Window::<(i64, uuid::Uuid)>::new(Sort::Price.list(), &request(None))
            .unwrap()
            .cursor_at(&(1999, id));
        let read = |sort: Sort| {
            Window::<(i64, uuid::Uuid)>::new(sort.list(), &request(Some(cursor.clone())))
        };
        assert_eq!(read(Sort::Price).unwrap().cursor, Some((1999, id)));
        for other in [Sort::Name, Sort::Newest] {
            assert_eq!(
                field_of(CatalogError::from(read(other).unwrap_err())),
                "after"
            );
        }
    }
}
