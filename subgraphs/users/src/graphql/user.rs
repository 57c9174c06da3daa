//! The `User` entity: its fields, who may read them, the batched loader federation's
//! `_entities` goes through, and the queries about users (`me`, admin-only `users`).
//!
//! `email` and `name` are personal data: only the user themselves and admins read them.
//! Other subgraphs may still reference any `User` by id; asking for these fields of
//! someone else is `FORBIDDEN` on that field alone.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Context, ID, Object,
    dataloader::{DataLoader, Loader},
};
use chrono::{DateTime, Utc};
use kit::{
    ApiError,
    auth::{GraphqlRole, auth_from_ctx},
    connection::{Connection, Counts, ListSchema, Listed, TypeText, Window},
    graphql::{PageRequest, parse_id},
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

/// `UserConnection` and `UserEdge`.
impl Listed for User {
    const SCHEMA: ListSchema = ListSchema {
        connection: TypeText {
            description: None,
            fields: &[
                ("edges", None),
                ("pageInfo", None),
                (
                    "totalCount",
                    Some("How many users there are, on all pages; counted only when asked for."),
                ),
            ],
            shareable: false,
        },
        edge: TypeText {
            description: Some("A user and its position in the list."),
            fields: &[
                (
                    "cursor",
                    Some("Opaque; pass it as `after` or `before` to continue from this user."),
                ),
                ("node", None),
            ],
            shareable: false,
        },
    };
}

/// What a page of users cannot tell by itself, from the store.
struct UserCounts(Arc<dyn UserStore>);

#[async_trait::async_trait]
impl Counts for UserCounts {
    async fn total(&self) -> Result<u64, ApiError> {
        Ok(self.0.count_users().await?)
    }

    /// Users are never deleted, so a cursor's own user always lies behind the page.
    async fn behind_cursor(&self) -> Result<bool, ApiError> {
        Ok(true)
    }
}

/// Reads one page, oldest first, through a [`Window`]: ids are UUID v7, so id order is
/// creation order, and a cursor holds the id.
async fn list_users(
    store: Arc<dyn UserStore>,
    request: PageRequest,
) -> Result<Connection<User>, ApiError> {
    let window = Window::<(Uuid,)>::new("users", &request)?;
    let cursor = window.cursor.map(|(id,)| id);
    let page = if window.forward {
        UserPage::Forward {
            after: cursor,
            limit: window.fetch(),
        }
    } else {
        UserPage::Backward {
            before: cursor,
            limit: window.fetch(),
        }
    };
    let users = store.list_users(&page).await?;
    Ok(window
        .finish(users, |u| (u.id,), UserCounts(store))
        .map(User::new))
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
    ) -> Result<Connection<User>, ApiError> {
        auth_from_ctx(ctx).require_admin()?;
        let request = PageRequest::new(first, after, last, before)?;
        list_users(accounts(ctx)?.store().clone(), request).await
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
