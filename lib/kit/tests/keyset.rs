//! The keyset helper on real databases (PostgreSQL and SQLite): pages walk a list with ties
//! on the sort key without skipping or repeating a row, both ways; the flags and counts are
//! right; cursors of another list, `first` with `last`, and oversized pages are refused.

use kit::{
    ApiError, ErrorCode,
    connection::{Connection, ListSchema, Listed},
    graphql::{MAX_PAGE_SIZE, PageRequest},
    keyset::Keyset,
    testing::TestDatabase,
};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, EntityTrait, Order, QueryFilter, Schema,
    entity::prelude::*,
};

mod item {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "keyset_items")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub rank: i64,
        pub tag: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// An item as a test sees it (the helper needs nothing of GraphQL but the bound).
#[derive(Clone, Debug, PartialEq, Eq, async_graphql::SimpleObject)]
struct Shown {
    id: String,
}

impl Listed for Shown {
    const SCHEMA: ListSchema = ListSchema::PLAIN;
}

/// Ranks with ties: the id alone decides within a rank.
const RANKS: [i64; 9] = [3, 1, 2, 2, 3, 2, 1, 5, 2];

async fn with_items(db: &DatabaseConnection) -> Vec<item::Model> {
    let backend = db.get_database_backend();
    db.execute_raw(backend.build(&Schema::new(backend).create_table_from_entity(item::Entity)))
        .await
        .unwrap();
    let mut rows = Vec::new();
    for (i, rank) in RANKS.iter().enumerate() {
        let row = item::Model {
            // Random (v4) ids, so id order is not insertion order.
            id: Uuid::new_v4(),
            rank: *rank,
            tag: if i % 3 == 0 { "a" } else { "b" }.into(),
        };
        item::Entity::insert(item::ActiveModel::from(row.clone()))
            .exec_without_returning(db)
            .await
            .unwrap();
        rows.push(row);
    }
    rows
}

fn by_rank(order: Order) -> Keyset<item::Entity> {
    Keyset::new(
        format!("items:rank:{order:?}"),
        [item::Column::Rank, item::Column::Id],
        order,
    )
}

async fn page(
    db: &DatabaseConnection,
    keyset: &Keyset<item::Entity>,
    request: PageRequest,
    counts_total: bool,
) -> Result<Connection<item::Model>, ApiError> {
    keyset
        .page(
            db,
            item::Entity::find(),
            &request,
            |m| (m.rank, m.id),
            counts_total,
        )
        .await
}

fn ids(page: &Connection<item::Model>) -> Vec<Uuid> {
    page.nodes().map(|m| m.id).collect()
}

fn forward(limit: u64, after: Option<String>) -> PageRequest {
    PageRequest::Forward { limit, after }
}

fn backward(limit: u64, before: Option<String>) -> PageRequest {
    PageRequest::Backward { limit, before }
}

/// Walks the whole list forwards, then backwards, `size` at a time, and checks every page
/// against the order worked out here.
async fn walks_both_ways(db: &DatabaseConnection, rows: &[item::Model], order: Order) {
    let mut expected: Vec<&item::Model> = rows.iter().collect();
    expected.sort_by_key(|m| (m.rank, m.id));
    if matches!(order, Order::Desc) {
        expected.reverse();
    }
    let expected: Vec<Uuid> = expected.iter().map(|m| m.id).collect();
    let keyset = by_rank(order);
    for counts_total in [false, true] {
        let size = 2;
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let p = page(db, &keyset, forward(size, after.clone()), counts_total)
                .await
                .unwrap();
            let start = seen.len();
            seen.extend(ids(&p));
            assert_eq!(
                p.has_previous_page().await.unwrap(),
                start > 0,
                "forward page at {start}"
            );
            let more = seen.len() < expected.len();
            assert_eq!(p.has_next_page().await.unwrap(), more);
            assert_eq!(p.total_count().await.unwrap(), expected.len() as u64);
            if !more {
                break;
            }
            after = p.edges().last().map(|e| e.cursor.clone());
        }
        assert_eq!(seen, expected, "forward pages, ties broken by id");

        let mut seen_back: Vec<Uuid> = Vec::new();
        let mut before = None;
        loop {
            let p = page(db, &keyset, backward(size, before.clone()), counts_total)
                .await
                .unwrap();
            let mut this = ids(&p);
            this.extend(seen_back);
            seen_back = this;
            let more = seen_back.len() < expected.len();
            assert_eq!(p.has_previous_page().await.unwrap(), more);
            assert_eq!(
                p.has_next_page().await.unwrap(),
                seen_back.len() > size as usize,
                "backward page ending {} from the end",
                seen_back.len()
            );
            if !more {
                break;
            }
            before = p.edges().first().map(|e| e.cursor.clone());
        }
        assert_eq!(seen_back, expected, "backward pages, in list order");
    }
}

async fn refuses_what_it_must(db: &DatabaseConnection) {
    let asc = by_rank(Order::Asc);
    let first = page(db, &asc, forward(1, None), false).await.unwrap();
    let cursor = first.edges()[0].cursor.clone();

    // The same position under another list (here: the other direction) is refused.
    let err = page(
        db,
        &by_rank(Order::Desc),
        forward(1, Some(cursor.clone())),
        false,
    )
    .await
    .err()
    .expect("a cursor of another list");
    assert_eq!(
        (err.code, err.field.as_deref()),
        (ErrorCode::BadUserInput, Some("after"))
    );
    let by_tag = Keyset::<item::Entity>::new(
        "items:tag",
        [item::Column::Tag, item::Column::Id],
        Order::Asc,
    );
    let err = by_tag
        .page(
            db,
            item::Entity::find(),
            &backward(1, Some(cursor)),
            |m| (m.tag.clone(), m.id),
            false,
        )
        .await
        .err()
        .expect("a cursor of another list");
    assert_eq!(
        (err.code, err.field.as_deref()),
        (ErrorCode::BadUserInput, Some("before"))
    );
    let err = page(db, &asc, forward(1, Some("not a cursor".into())), false)
        .await
        .err()
        .expect("garbage");
    assert_eq!(
        (err.code, err.field.as_deref()),
        (ErrorCode::BadUserInput, Some("after"))
    );

    // `first` with `last`, and pages beyond the maximum, never reach the helper.
    let err = PageRequest::new(Some(1), None, Some(1), None).unwrap_err();
    assert_eq!(
        (err.code, err.field.as_deref()),
        (ErrorCode::BadUserInput, Some("last"))
    );
    let max = i32::try_from(MAX_PAGE_SIZE).unwrap();
    for (first, last, field) in [
        (Some(max + 1), None, "first"),
        (None, Some(max + 1), "last"),
    ] {
        let err = PageRequest::new(first, None, last, None).unwrap_err();
        assert_eq!(
            (err.code, err.field.as_deref()),
            (ErrorCode::BadUserInput, Some(field))
        );
    }
}

/// A maximal page of a list longer than the maximum holds the maximum and says more follow.
async fn max_page(db: &DatabaseConnection) {
    let rows = MAX_PAGE_SIZE as usize + 5 - RANKS.len();
    for i in 0..rows {
        let row = item::Model {
            id: Uuid::new_v4(),
            rank: 100 + i as i64 % 4,
            tag: "c".into(),
        };
        item::Entity::insert(item::ActiveModel::from(row))
            .exec_without_returning(db)
            .await
            .unwrap();
    }
    let request = PageRequest::new(
        Some(i32::try_from(MAX_PAGE_SIZE).unwrap()),
        None,
        None,
        None,
    )
    .unwrap();
    let p = page(db, &by_rank(Order::Asc), request, true).await.unwrap();
    assert_eq!(p.edges().len() as u64, MAX_PAGE_SIZE);
    assert!(p.has_next_page().await.unwrap());
    assert_eq!(p.total_count().await.unwrap(), MAX_PAGE_SIZE + 5);

    // A filter narrows both the page and the counts.
    let only_c = item::Entity::find().filter(item::Column::Tag.eq("c"));
    let p = by_rank(Order::Asc)
        .page(db, only_c, &forward(10, None), |m| (m.rank, m.id), true)
        .await
        .unwrap();
    assert!(p.nodes().all(|m| m.tag == "c"));
    assert_eq!(p.total_count().await.unwrap(), rows as u64);
    let shown = p.map(|m| Shown {
        id: m.id.to_string(),
    });
    assert_eq!(shown.edges().len(), 10);
}

async fn all_checks(db: DatabaseConnection) {
    let rows = with_items(&db).await;
    walks_both_ways(&db, &rows, Order::Asc).await;
    walks_both_ways(&db, &rows, Order::Desc).await;
    refuses_what_it_must(&db).await;
    max_page(&db).await;
}

#[tokio::test]
async fn keyset_pages_on_postgres() {
    let database = TestDatabase::postgres().await;
    all_checks(Database::connect(&database.url).await.unwrap()).await;
}

#[tokio::test]
async fn keyset_pages_on_sqlite() {
    all_checks(Database::connect("sqlite::memory:").await.unwrap()).await;
}
