//! Relay connections: the one shape every list of the API has (`edges { cursor node }`,
//! `pageInfo`, `totalCount`), paged with `first`/`after` forwards or `last`/`before`
//! backwards ([`PageRequest`]).
//!
//! This part knows nothing of storage. A store turns the request into a [`Window`] (which
//! decodes and checks the cursor), reads up to [`Window::fetch`] rows from the cursor in the
//! direction of travel (one more than the page: that row says whether the list goes on), and
//! [`Window::finish`] makes the [`Connection`]. What the page query cannot tell, how many
//! items the list has and whether any lie behind the cursor the page started from, the store
//! answers through [`Counts`], asked only when a client selects `totalCount` or that side's
//! flag. [`crate::keyset`] is the store part for sea-orm; a store of another kind (users on
//! MongoDB) fills a [`Window`] itself.
//!
//! A cursor is opaque: the URL-safe base64 of the JSON of the list's name and the item's
//! position in it (its sort key). A cursor from another list, or from the same list in
//! another order, is refused as `BAD_USER_INPUT` on the argument it came in.
//!
//! Why not async-graphql's `connection` module: its `PageInfo` holds `hasPreviousPage` and
//! `hasNextPage` as booleans fixed before the response is built, so the statement that
//! answers the side behind a cursor would run for every page, asked or not; and its types
//! bring their own descriptions and a `nodes` field on every connection. Here the flags and
//! `totalCount` are resolvers over lazy [`Counts`], and each node type says how its
//! connection reads in the schema ([`Listed`]).
//!
//! `PageInfo` is declared here once; every subgraph that has a connection shows the same
//! type, so it is `@shareable`.

use std::borrow::Cow;

use async_graphql::{
    Context, Object, OutputType, ServerResult, TypeName, Value,
    registry::{MetaType, Registry},
};
use serde::{Serialize, de::DeserializeOwned};

use crate::{
    ApiError,
    graphql::{PageRequest, decode_cursor, encode_cursor},
};

/// How the connection over a node type reads in the schema: its types are named after the
/// node (`ProductConnection`, `ProductEdge`); this adds their descriptions and says which
/// fields they have, in which order.
pub trait Listed: OutputType {
    const SCHEMA: ListSchema = ListSchema::PLAIN;
}

/// The schema text of a connection type and of its edge type.
#[derive(Debug, Clone, Copy)]
pub struct ListSchema {
    /// `<Node>Connection`: fields among `edges`, `nodes`, `pageInfo`, `totalCount`.
    pub connection: TypeText,
    /// `<Node>Edge`: fields `cursor` and `node`.
    pub edge: TypeText,
}

impl ListSchema {
    /// No descriptions; `edges`, `pageInfo`, `totalCount`, and edges with `cursor`, `node`.
    pub const PLAIN: Self = Self {
        connection: TypeText {
            description: None,
            fields: &[("edges", None), ("pageInfo", None), ("totalCount", None)],
            shareable: false,
        },
        edge: TypeText {
            description: None,
            fields: &[("cursor", None), ("node", None)],
            shareable: false,
        },
    };
}

/// The description of a type, and its fields in order with their descriptions. A field of
/// the generic type that is not listed is not in the schema.
#[derive(Debug, Clone, Copy)]
pub struct TypeText {
    pub description: Option<&'static str>,
    pub fields: &'static [(&'static str, Option<&'static str>)],
    pub shareable: bool,
}

impl TypeText {
    fn apply(&self, registry: &mut Registry, type_name: &str) {
        let Some(MetaType::Object {
            description,
            fields,
            shareable,
            ..
        }) = registry.types.get_mut(type_name)
        else {
            return;
        };
        *description = self.description.map(str::to_owned);
        *shareable = self.shareable;
        let position = |name: &str| self.fields.iter().position(|(n, _)| *n == name);
        fields.retain(|name, _| position(name).is_some());
        for (name, text) in self.fields {
            if let Some(field) = fields.get_mut(*name) {
                field.description = text.map(str::to_owned);
            }
        }
        fields.sort_by(|a, _, b, _| position(a).cmp(&position(b)));
    }
}

/// What a page query cannot tell; a store answers it when a client asks, at most once per
/// page for each question.
#[async_trait::async_trait]
pub trait Counts: Send + Sync {
    /// How many items the list has, on all pages.
    async fn total(&self) -> Result<u64, ApiError>;
    /// Whether items lie at or behind the cursor the page started from, the side the page
    /// query did not look at. Asked only for pages that started from a cursor.
    async fn behind_cursor(&self) -> Result<bool, ApiError>;
}

/// An item of a page and the cursor to continue from it.
#[derive(Debug, Clone)]
pub struct Edge<N> {
    pub cursor: String,
    pub node: N,
}

#[Object(name_type)]
impl<N: Listed> Edge<N> {
    async fn cursor(&self) -> &str {
        &self.cursor
    }

    async fn node(&self) -> &N {
        &self.node
    }
}

impl<N: Listed> TypeName for Edge<N> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Edge", N::type_name()).into()
    }
}

/// One page of a list, in list order, as the GraphQL type `<Node>Connection`.
pub struct Connection<N> {
    page: Page<N>,
}

/// The content of a [`Connection`] and the resolvers of its type (which [`Connection`]
/// registers with the node's [`ListSchema`] applied).
struct Page<N> {
    edges: Vec<Edge<N>>,
    forward: bool,
    /// Items exist beyond the page in the direction of travel.
    more: bool,
    /// The page started from a cursor, whose other side the page query did not read.
    from_cursor: bool,
    counts: Box<dyn Counts>,
}

impl<N> Connection<N> {
    /// The page's items with their cursors, in list order.
    pub fn edges(&self) -> &[Edge<N>] {
        &self.page.edges
    }

    /// The page's items, in list order.
    pub fn nodes(&self) -> impl Iterator<Item = &N> {
        self.page.edges.iter().map(|e| &e.node)
    }

    /// The same page with each node converted.
    pub fn map<M>(self, mut f: impl FnMut(N) -> M) -> Connection<M> {
        self.try_map(|n| Ok::<_, std::convert::Infallible>(f(n)))
            .unwrap_or_else(|never| match never {})
    }

    /// The same page with each node converted, or the first conversion error.
    pub fn try_map<M, E>(self, mut f: impl FnMut(N) -> Result<M, E>) -> Result<Connection<M>, E> {
        let Page {
            edges,
            forward,
            more,
            from_cursor,
            counts,
        } = self.page;
        let edges = edges
            .into_iter()
            .map(|Edge { cursor, node }| {
                Ok(Edge {
                    cursor,
                    node: f(node)?,
                })
            })
            .collect::<Result<_, E>>()?;
        Ok(Connection {
            page: Page {
                edges,
                forward,
                more,
                from_cursor,
                counts,
            },
        })
    }

    pub async fn has_next_page(&self) -> Result<bool, ApiError> {
        self.page.info().has_next().await
    }

    pub async fn has_previous_page(&self) -> Result<bool, ApiError> {
        self.page.info().has_previous().await
    }

    pub async fn total_count(&self) -> Result<u64, ApiError> {
        self.page.counts.total().await
    }
}

impl<N> Page<N> {
    fn info(&self) -> PageInfo<'_> {
        PageInfo {
            start_cursor: self.edges.first().map(|e| e.cursor.as_str()),
            end_cursor: self.edges.last().map(|e| e.cursor.as_str()),
            forward: self.forward,
            more: self.more,
            from_cursor: self.from_cursor,
            counts: self.counts.as_ref(),
        }
    }
}

#[Object(name_type)]
impl<N: Listed> Page<N> {
    async fn edges(&self) -> &[Edge<N>] {
        &self.edges
    }

    async fn nodes(&self) -> Vec<&N> {
        self.edges.iter().map(|e| &e.node).collect()
    }

    async fn page_info(&self) -> PageInfo<'_> {
        self.info()
    }

    async fn total_count(&self) -> Result<u64, ApiError> {
        self.counts.total().await
    }
}

impl<N: Listed> TypeName for Page<N> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Connection", N::type_name()).into()
    }
}

impl<N: Listed> OutputType for Connection<N> {
    fn type_name() -> Cow<'static, str> {
        <Page<N> as OutputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        let name = <Page<N> as OutputType>::create_type_info(registry);
        N::SCHEMA
            .connection
            .apply(registry, &<Page<N> as OutputType>::type_name());
        N::SCHEMA
            .edge
            .apply(registry, &<Edge<N> as OutputType>::type_name());
        name
    }

    async fn resolve(
        &self,
        ctx: &async_graphql::ContextSelectionSet<'_>,
        field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
    ) -> ServerResult<Value> {
        OutputType::resolve(&self.page, ctx, field).await
    }
}

/// Where a page sits in its list (Relay).
pub struct PageInfo<'a> {
    start_cursor: Option<&'a str>,
    end_cursor: Option<&'a str>,
    forward: bool,
    more: bool,
    from_cursor: bool,
    counts: &'a dyn Counts,
}

impl PageInfo<'_> {
    async fn has_next(&self) -> Result<bool, ApiError> {
        if self.forward {
            Ok(self.more)
        } else {
            self.behind_cursor().await
        }
    }

    async fn has_previous(&self) -> Result<bool, ApiError> {
        if self.forward {
            self.behind_cursor().await
        } else {
            Ok(self.more)
        }
    }

    async fn behind_cursor(&self) -> Result<bool, ApiError> {
        if self.from_cursor {
            self.counts.behind_cursor().await
        } else {
            Ok(false)
        }
    }
}

/// Where a page sits in its list (Relay).
#[Object(shareable)]
impl PageInfo<'_> {
    /// When paginating forwards, are there more items?
    async fn has_next_page(&self) -> Result<bool, ApiError> {
        self.has_next().await
    }

    /// When paginating backwards, are there more items?
    async fn has_previous_page(&self) -> Result<bool, ApiError> {
        self.has_previous().await
    }

    /// When paginating backwards, the cursor to continue.
    async fn start_cursor(&self) -> Option<&str> {
        self.start_cursor
    }

    /// When paginating forwards, the cursor to continue.
    async fn end_cursor(&self) -> Option<&str> {
        self.end_cursor
    }
}

/// Whether the client selected `totalCount` on the connection the current field returns; a
/// store can then answer both counts with one statement.
pub fn asks_for_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// A validated page request with its cursor decoded: what a store reads. `P` is a position
/// in the list (the sort key of an item, ending with something unique to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window<P> {
    list: String,
    /// Walking the list in its order (`first`/`after`), or against it (`last`/`before`).
    pub forward: bool,
    /// The page size.
    pub limit: u64,
    /// Read only items strictly beyond this position in the direction of travel.
    pub cursor: Option<P>,
}

impl<P: Serialize + DeserializeOwned> Window<P> {
    /// Decodes the request's cursor, which must come from `list` (a name unique among the
    /// lists of the service, including the sort order when a list has several).
    pub fn new(list: impl Into<String>, request: &PageRequest) -> Result<Self, ApiError> {
        let list = list.into();
        let (forward, limit, cursor, field) = match request {
            PageRequest::Forward { limit, after } => (true, *limit, after, "after"),
            PageRequest::Backward { limit, before } => (false, *limit, before, "before"),
        };
        let cursor = match cursor {
            None => None,
            Some(cursor) => {
                let (from, position): (String, P) = decode_cursor(cursor, field)?;
                if from != list {
                    return Err(ApiError::bad_input(
                        field,
                        "the cursor belongs to another list or order",
                    ));
                }
                Some(position)
            }
        };
        Ok(Self {
            list,
            forward,
            limit,
            cursor,
        })
    }

    /// How many items to read: the page and one more, which tells whether the list goes on.
    pub fn fetch(&self) -> u64 {
        self.limit.saturating_add(1)
    }

    /// The cursor of the item at `position`.
    pub fn cursor_at(&self, position: &P) -> String {
        encode_cursor(&(&self.list, position))
    }

    /// The page from the items read in the direction of travel (at most [`Self::fetch`]).
    pub fn finish<N>(
        self,
        mut rows: Vec<N>,
        position: impl Fn(&N) -> P,
        counts: impl Counts + 'static,
    ) -> Connection<N> {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        if !self.forward {
            rows.reverse();
        }
        let edges = rows
            .into_iter()
            .map(|node| Edge {
                cursor: self.cursor_at(&position(&node)),
                node,
            })
            .collect();
        Connection {
            page: Page {
                edges,
                forward: self.forward,
                more,
                from_cursor: self.cursor.is_some(),
                counts: Box::new(counts),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    struct Fixed {
        total: u64,
        behind: bool,
    }

    #[async_trait::async_trait]
    impl Counts for Fixed {
        async fn total(&self) -> Result<u64, ApiError> {
            Ok(self.total)
        }
        async fn behind_cursor(&self) -> Result<bool, ApiError> {
            Ok(self.behind)
        }
    }

    fn forward(limit: u64, after: Option<String>) -> PageRequest {
        PageRequest::Forward { limit, after }
    }

    #[tokio::test]
    async fn a_window_pages_both_ways_and_reads_flags_from_the_right_side() {
        let first = Window::<(u32,)>::new("numbers", &forward(2, None)).unwrap();
        assert_eq!(first.fetch(), 3);
        let page = first.finish(
            vec![1, 2, 3],
            |n| (*n,),
            Fixed {
                total: 9,
                behind: true,
            },
        );
        assert_eq!(page.nodes().copied().collect::<Vec<_>>(), [1, 2]);
        assert!(page.has_next_page().await.unwrap());
        // No cursor: nothing can lie behind it, whatever the store would say.
        assert!(!page.has_previous_page().await.unwrap());
        assert_eq!(page.total_count().await.unwrap(), 9);

        // Backwards from the cursor of 3: the store reads 2, 1 (against the list order).
        let cursor = Window::<(u32,)>::new("numbers", &forward(1, None))
            .unwrap()
            .cursor_at(&(3,));
        let back = Window::<(u32,)>::new(
            "numbers",
            &PageRequest::Backward {
                limit: 5,
                before: Some(cursor),
            },
        )
        .unwrap();
        assert_eq!(back.cursor, Some((3,)));
        let page = back.finish(
            vec![2, 1],
            |n| (*n,),
            Fixed {
                total: 9,
                behind: true,
            },
        );
        assert_eq!(page.nodes().copied().collect::<Vec<_>>(), [1, 2]);
        assert!(!page.has_previous_page().await.unwrap());
        assert!(page.has_next_page().await.unwrap());
    }

    #[test]
    fn cursors_of_another_list_are_refused() {
        let cursor = Window::<(u32,)>::new("numbers:asc", &forward(1, None))
            .unwrap()
            .cursor_at(&(7,));
        let ok = Window::<(u32,)>::new("numbers:asc", &forward(1, Some(cursor.clone()))).unwrap();
        assert_eq!(ok.cursor, Some((7,)));
        for err in [
            Window::<(u32,)>::new("numbers:desc", &forward(1, Some(cursor.clone()))).unwrap_err(),
            Window::<(String,)>::new("numbers:asc", &forward(1, Some(cursor))).unwrap_err(),
            Window::<(u32,)>::new("numbers:asc", &forward(1, Some("garbage".into()))).unwrap_err(),
        ] {
            assert_eq!(
                (err.code, err.field.as_deref()),
                (ErrorCode::BadUserInput, Some("after"))
            );
        }
    }
}
