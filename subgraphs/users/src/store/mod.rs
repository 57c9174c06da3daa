//! Persistence of accounts and sessions behind one trait, with two implementations:
//! [`mongo::MongoStore`] (production, shared by all replicas) and [`file::FileStore`]
//! (embedded mode, one process, a JSON file in the data folder).
//!
//! The trait is shaped around the operations that must be atomic in the store itself
//! rather than in the service: inserting a user (the unique email decides duplicates),
//! reserving a login attempt against a throttle, and consuming a refresh token exactly once.

pub mod file;
pub mod mongo;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kit::{ApiError, auth::Role};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: Uuid,
    /// Normalised: trimmed and lower-cased.
    pub email: String,
    pub name: String,
    pub role: Role,
    /// An argon2id PHC string.
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

/// One login throttle (see [`crate::accounts::lockout`]): attempts counted since the last
/// success, and the earliest time the next one may be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttle {
    pub attempts: u32,
    pub next_allowed: DateTime<Utc>,
}

/// Decides what a throttle becomes when one more attempt is asked for: `None` refuses it.
pub type ThrottleDecision<'a> = &'a (dyn Fn(Option<&Throttle>) -> Option<Throttle> + Send + Sync);

/// One login's chain of refresh tokens; revoking it ends every token of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A refresh token as stored: only its SHA-256 hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshTokenRecord {
    /// Hex SHA-256 of the token.
    pub hash: String,
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Set when the token was exchanged for a new one.
    pub used_at: Option<DateTime<Utc>>,
}

/// A page of users in id order (ids are UUID v7, so this is creation order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserPage {
    /// Up to `limit` users with ids greater than `after`, ascending.
    Forward { after: Option<Uuid>, limit: u64 },
    /// Up to `limit` users with ids less than `before`, descending.
    Backward { before: Option<Uuid>, limit: u64 },
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("an account with this email already exists")]
    DuplicateEmail,
    #[error("store failure: {0}")]
    Backend(String),
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::DuplicateEmail => {
                ApiError::conflict("an account with this email already exists")
            }
            StoreError::Backend(_) => ApiError::internal(err),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Checks the store answers (readiness).
    async fn ping(&self) -> StoreResult<()>;

    /// Inserts a new account; [`StoreError::DuplicateEmail`] when the email is taken.
    async fn insert_user(&self, user: &UserRecord) -> StoreResult<()>;
    async fn user(&self, id: Uuid) -> StoreResult<Option<UserRecord>>;
    /// The users among `ids` that exist, in one round trip.
    async fn users(&self, ids: &[Uuid]) -> StoreResult<Vec<UserRecord>>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>>;
    async fn set_role(&self, id: Uuid, role: Role) -> StoreResult<Option<UserRecord>>;
    async fn set_password_hash(&self, id: Uuid, password_hash: &str) -> StoreResult<()>;
    async fn list_users(&self, page: &UserPage) -> StoreResult<Vec<UserRecord>>;
    async fn count_users(&self) -> StoreResult<u64>;

    /// Applies `decide` to the throttle `key` as one compare-and-set: of concurrent calls,
    /// each sees the state the previous one left, so a bound on attempts holds however many
    /// arrive at once. Returns whether the attempt may go ahead. The throttle is forgotten
    /// after `expires_at`.
    async fn reserve_attempt(
        &self,
        key: &str,
        expires_at: DateTime<Utc>,
        decide: ThrottleDecision<'_>,
    ) -> StoreResult<bool>;
    /// Forgets the throttle `key` (a successful login).
    async fn clear_throttle(&self, key: &str) -> StoreResult<()>;
    /// Remembers a client address an account logged in from, until `expires_at`.
    async fn remember_client(&self, key: &str, expires_at: DateTime<Utc>) -> StoreResult<()>;
    /// Whether the account logged in from this client address before (and it is remembered).
    async fn is_known_client(&self, key: &str, now: DateTime<Utc>) -> StoreResult<bool>;

    async fn insert_session(&self, session: &SessionRecord) -> StoreResult<()>;
    async fn session(&self, id: Uuid) -> StoreResult<Option<SessionRecord>>;
    async fn revoke_session(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()>;

    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> StoreResult<()>;
    /// Marks the unexpired, unused token with `hash` as used and returns it, atomically:
    /// of two concurrent calls with one hash, at most one gets `Some`.
    async fn consume_refresh_token(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<RefreshTokenRecord>>;
    async fn refresh_token(&self, hash: &str) -> StoreResult<Option<RefreshTokenRecord>>;
}
