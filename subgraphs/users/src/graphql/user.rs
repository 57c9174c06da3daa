//! The `User` entity: its fields, who may read them, the batched loader federation's
//! `_entities` goes through, and the queries about users (`me`, admin-only `users`).
//!
//! `email` and `name` are personal data: only the user themselves and admins read them.
//! Other subgraphs may still reference any `User` by id; asking for these fields of
//! someone else is `FORBIDDEN` on that field alone.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context, ID, Object, SimpleObject,
    dataloader::{DataLoader, Loader},
};
use chrono::{DateTime, Utc};
use kit::{
    ApiError,
    auth::{GraphqlRole, auth_from_ctx},
    graphql::{PageRequest, decode_cursor, encode_cursor, parse_id},
};
use uuid::Uuid;

use super::accounts;
use crate::store::{StoreError, UserPage, UserRecord, UserStore};

/// A user as the schema shows it.
#[derive(Debug, Clone)]
pub struct User {
    record: UserRecord,
    /// Set when the caller just proved to be this user (register, login, refresh) and so
    /// may read its personal fields before holding an access token.
    owner_view: bool,
}

impl User {
    pub fn new(record: UserRecord) -> Self {
        Self {
            record,
            owner_view: false,
        }
    }

    pub fn for_owner(record: UserRecord) -> Self {
        Self {
            record,
            owner_view: true,
        }
    }

    fn check_private(&self, ctx: &Context<'_>) -> Result<(), ApiError> {
        if self.owner_view {
            return Ok(());
        }
        let viewer = auth_from_ctx(ctx).require_user()?;
        if viewer.user_id == self.record.id || viewer.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

/// An account.
#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.record.id.to_string())
    }

    /// The normalised (trimmed, lower-case) email; visible to the user and to admins.
    async fn email(&self, ctx: &Context<'_>) -> Result<&str, ApiError> {
        self.check_private(ctx)?;
        Ok(&self.record.email)
    }

    /// The display name; visible to the user and to admins.
    async fn name(&self, ctx: &Context<'_>) -> Result<&str, ApiError> {
        self.check_private(ctx)?;
        Ok(&self.record.name)
    }

    async fn role(&self) -> GraphqlRole {
        self.record.role.into()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.record.created_at
    }
}

/// Batched user look-ups for `_entities`. No cache: it is shared by all requests, so none
/// sees another's stale data.
pub struct UserLoader {
    store: Arc<dyn UserStore>,
}

impl UserLoader {
    pub fn data_loader(store: Arc<dyn UserStore>) -> DataLoader<UserLoader> {
        DataLoader::new(UserLoader { store }, tokio::spawn)
    }
}

impl Loader<Uuid> for UserLoader {
    type Value = UserRecord;
    type Error = Arc<StoreError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, UserRecord>, Self::Error> {
        let users = self.store.users(keys).await.map_err(Arc::new)?;
        Ok(users.into_iter().map(|u| (u.id, u)).collect())
    }
}

/// A page of users, oldest first.
pub struct UserConnection {
    edges: Vec<UserEdge>,
    has_next_page: bool,
    has_previous_page: bool,
}

/// A user and its position in the list.
#[derive(SimpleObject)]
pub struct UserEdge {
    /// Opaque; pass it as `after` or `before` to continue from this user.
    pub cursor: String,
    pub node: User,
}

/// Where a page sits in its list (Relay).
pub struct PageInfo<'a> {
    connection: &'a UserConnection,
}

#[Object(shareable)]
impl PageInfo<'_> {
    async fn has_next_page(&self) -> bool {
        self.connection.has_next_page
    }

    async fn has_previous_page(&self) -> bool {
        self.connection.has_previous_page
    }

    async fn start_cursor(&self) -> Option<&str> {
        self.connection.edges.first().map(|e| e.cursor.as_str())
    }

    async fn end_cursor(&self) -> Option<&str> {
        self.connection.edges.last().map(|e| e.cursor.as_str())
    }
}

#[Object]
impl UserConnection {
    async fn edges(&self) -> &[UserEdge] {
        &self.edges
    }

    async fn page_info(&self) -> PageInfo<'_> {
        PageInfo { connection: self }
    }

    /// How many users there are, on all pages; counted only when asked for.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64, ApiError> {
        let count = accounts(ctx)?.store().count_users().await?;
        Ok(i64::try_from(count).unwrap_or(i64::MAX))
    }
}

/// Reads one page; a page of `limit` asks the store for one more to learn whether the
/// list goes on. Ids are UUID v7, so id order is creation order and a cursor is the id.
async fn list_users(
    store: &dyn UserStore,
    request: PageRequest,
) -> Result<UserConnection, ApiError> {
    let limit = request.limit();
    let (page, backward, had_cursor) = match request {
        PageRequest::Forward { after, .. } => {
            let after = after
                .as_deref()
                .map(|c| decode_cursor::<Uuid>(c, "after"))
                .transpose()?;
            (
                UserPage::Forward {
                    after,
                    limit: limit + 1,
                },
                false,
                after.is_some(),
            )
        }
        PageRequest::Backward { before, .. } => {
            let before = before
                .as_deref()
                .map(|c| decode_cursor::<Uuid>(c, "before"))
                .transpose()?;
            (
                UserPage::Backward {
                    before,
                    limit: limit + 1,
                },
                true,
                before.is_some(),
            )
        }
    };
    let mut users = store.list_users(&page).await?;
    let more = users.len() as u64 > limit;
    users.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    if backward {
        users.reverse();
    }
    let edges = users
        .into_iter()
        .map(|u| UserEdge {
            cursor: encode_cursor(&u.id),
            node: User::new(u),
        })
        .collect();
    // Users are never deleted, so a cursor's own user always lies before (or after) the page.
    let (has_next_page, has_previous_page) = if backward {
        (had_cursor, more)
    } else {
        (more, had_cursor)
    };
    Ok(UserConnection {
        edges,
        has_next_page,
        has_previous_page,
    })
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The caller's own account.
    async fn me(&self, ctx: &Context<'_>) -> Result<User, ApiError> {
        let caller = auth_from_ctx(ctx).require_user()?;
        Ok(User::new(accounts(ctx)?.user(caller.user_id).await?))
    }

    /// Every account, oldest first (admins only): `first` (default 20, at most 100) after
    /// the `after` cursor, or `last` before the `before` cursor.
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<UserConnection, ApiError> {
        auth_from_ctx(ctx).require_admin()?;
        let request = PageRequest::new(first, after, last, before)?;
        list_users(accounts(ctx)?.store().as_ref(), request).await
    }

    /// Federation: resolves `User` references from other subgraphs, one store query per
    /// `_entities` call. An unknown id resolves to `null`.
    #[graphql(entity)]
    async fn find_user_by_id(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] id: ID,
    ) -> Result<Option<User>, ApiError> {
        let id = parse_id(&id, "id")?;
        let loader = ctx.data::<DataLoader<UserLoader>>().map_err(|e| {
            ApiError::internal(format!("schema built without a user loader: {}", e.message))
        })?;
        let user = loader
            .load_one(id)
            .await
            .map_err(|e: Arc<StoreError>| ApiError::internal(e))?;
        Ok(user.map(User::new))
    }
}
