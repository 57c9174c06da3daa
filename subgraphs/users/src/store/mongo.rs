//! The production store: MongoDB through the official driver.
//!
//! Five collections: `users` (unique index on the normalised email, so a duplicate is
//! decided by the server, never by a read-then-insert), `sessions` (one document per
//! refresh-token family), `refresh_tokens` (keyed by the token's hash, expired ones
//! removed by a TTL index), `login_throttles` (one document per throttle, changed only by
//! compare-and-set on its previous state) and `known_clients` (client addresses accounts
//! logged in from; both forgotten by TTL indexes). Ids are UUID v7 stored as their hyphenated text, which sorts
//! like the UUIDs themselves, so `_id` order is creation order.
//!
//! Every command sent is counted by name ([`CommandCounter`]), so tests can check that
//! batched lookups really take one round trip.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::TryStreamExt as _;
use kit::{auth::Role, health::ReadinessCheck};
use mongodb::{
    Client, Collection, Database, IndexModel,
    bson::{self, Document, doc},
    error::{ErrorKind, WriteFailure},
    event::{EventHandler, command::CommandEvent},
    options::{ClientOptions, IndexOptions, ReturnDocument},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    RefreshTokenRecord, SessionRecord, StoreError, StoreResult, Throttle, ThrottleDecision,
    UserPage, UserRecord, UserStore,
};

/// The server's error code for a unique index violation.
const DUPLICATE_KEY: i32 = 11000;

/// Commands sent to the server, by command name.
#[derive(Debug, Clone, Default)]
pub struct CommandCounter(Arc<Mutex<HashMap<String, u64>>>);

impl CommandCounter {
    pub fn get(&self, command: &str) -> u64 {
        self.0
            .lock()
            .map(|m| m.get(command).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Every command sent, whatever its name (what `/metrics` reports).
    pub fn total(&self) -> u64 {
        self.0.lock().map(|m| m.values().sum()).unwrap_or(0)
    }

    fn record(&self, command: &str) {
        if let Ok(mut m) = self.0.lock() {
            *m.entry(command.to_owned()).or_default() += 1;
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct UserDoc {
    #[serde(rename = "_id")]
    id: String,
    email: String,
    name: String,
    role: Role,
    password_hash: String,
    created_at: bson::DateTime,
}

#[derive(Debug, Serialize, Deserialize)]
struct ThrottleDoc {
    #[serde(rename = "_id")]
    key: String,
    attempts: i64,
    next_allowed: bson::DateTime,
    expires_at: bson::DateTime,
}

#[derive(Debug, Serialize, Deserialize)]
struct KnownClientDoc {
    #[serde(rename = "_id")]
    key: String,
    expires_at: bson::DateTime,
}

/// How often a compare-and-set on a throttle is retried after losing to another request;
/// each round has a winner, so this only runs out under a pathological stampede (and then
/// the attempt is refused, which is the safe answer).
const THROTTLE_ROUNDS: usize = 64;

#[derive(Debug, Serialize, Deserialize)]
struct SessionDoc {
    #[serde(rename = "_id")]
    id: String,
    user_id: String,
    created_at: bson::DateTime,
    #[serde(default)]
    revoked_at: Option<bson::DateTime>,
}

#[derive(Debug, Serialize, Deserialize)]
struct TokenDoc {
    #[serde(rename = "_id")]
    hash: String,
    session_id: String,
    user_id: String,
    created_at: bson::DateTime,
    expires_at: bson::DateTime,
    #[serde(default)]
    used_at: Option<bson::DateTime>,
}

fn to_bson(t: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_millis(t.timestamp_millis())
}

fn from_bson(t: bson::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or_default()
}

fn parse_uuid(text: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(text)
        .map_err(|_| StoreError::Backend(format!("stored id `{text}` is not a UUID")))
}

impl UserDoc {
    fn from_record(u: &UserRecord) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role,
            password_hash: u.password_hash.clone(),
            created_at: to_bson(u.created_at),
        }
    }

    fn into_record(self) -> StoreResult<UserRecord> {
        Ok(UserRecord {
            id: parse_uuid(&self.id)?,
            email: self.email,
            name: self.name,
            role: self.role,
            password_hash: self.password_hash,
            created_at: from_bson(self.created_at),
        })
    }
}

impl SessionDoc {
    fn into_record(self) -> StoreResult<SessionRecord> {
        Ok(SessionRecord {
            id: parse_uuid(&self.id)?,
            user_id: parse_uuid(&self.user_id)?,
            created_at: from_bson(self.created_at),
            revoked_at: self.revoked_at.map(from_bson),
        })
    }
}

impl TokenDoc {
    fn into_record(self) -> StoreResult<RefreshTokenRecord> {
        Ok(RefreshTokenRecord {
            hash: self.hash,
            session_id: parse_uuid(&self.session_id)?,
            user_id: parse_uuid(&self.user_id)?,
            created_at: from_bson(self.created_at),
            expires_at: from_bson(self.expires_at),
            used_at: self.used_at.map(from_bson),
        })
    }
}

fn backend(err: mongodb::error::Error) -> StoreError {
    StoreError::Backend(err.to_string())
}

fn is_duplicate_key(err: &mongodb::error::Error) -> bool {
    match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(e)) => e.code == DUPLICATE_KEY,
        ErrorKind::Command(e) => e.code == DUPLICATE_KEY,
        _ => false,
    }
}

/// Accounts and sessions in one MongoDB database.
#[derive(Clone)]
pub struct MongoStore {
    db: Database,
    users: Collection<UserDoc>,
    sessions: Collection<SessionDoc>,
    tokens: Collection<TokenDoc>,
    throttles: Collection<ThrottleDoc>,
    known_clients: Collection<KnownClientDoc>,
    commands: CommandCounter,
}

impl std::fmt::Debug for MongoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoStore")
            .field("database", &self.db.name())
            .finish_non_exhaustive()
    }
}

impl MongoStore {
    /// Connects, checks the server answers, and creates the indexes (idempotent).
    pub async fn connect(url: &str, database: &str) -> StoreResult<Self> {
        let mut options = ClientOptions::parse(url).await.map_err(backend)?;
        options.app_name.get_or_insert_with(|| "users".to_owned());
        options
            .server_selection_timeout
            .get_or_insert(Duration::from_secs(5));
        options
            .connect_timeout
            .get_or_insert(Duration::from_secs(5));
        let commands = CommandCounter::default();
        let counter = commands.clone();
        options.command_event_handler = Some(EventHandler::callback(move |event: CommandEvent| {
            if let CommandEvent::Started(started) = event {
                counter.record(&started.command_name);
            }
        }));
        let client = Client::with_options(options).map_err(backend)?;
        let db = client.database(database);
        let store = Self {
            users: db.collection("users"),
            sessions: db.collection("sessions"),
            tokens: db.collection("refresh_tokens"),
            throttles: db.collection("login_throttles"),
            known_clients: db.collection("known_clients"),
            db,
            commands,
        };
        store.ping().await?;
        store.create_indexes().await?;
        Ok(store)
    }

    async fn create_indexes(&self) -> StoreResult<()> {
        let unique = IndexOptions::builder()
            .unique(true)
            .name("email_unique".to_owned())
            .build();
        self.users
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "email": 1 })
                    .options(unique)
                    .build(),
            )
            .await
            .map_err(backend)?;
        self.tokens
            .create_index(IndexModel::builder().keys(doc! { "session_id": 1 }).build())
            .await
            .map_err(backend)?;
        // Expired refresh tokens are useless, and their hashes need not be kept.
        let ttl = IndexOptions::builder()
            .expire_after(Duration::ZERO)
            .name("expires_ttl".to_owned())
            .build();
        self.tokens
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "expires_at": 1 })
                    .options(ttl.clone())
                    .build(),
            )
            .await
            .map_err(backend)?;
        self.throttles
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "expires_at": 1 })
                    .options(ttl.clone())
                    .build(),
            )
            .await
            .map_err(backend)?;
        self.known_clients
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "expires_at": 1 })
                    .options(ttl)
                    .build(),
            )
            .await
            .map_err(backend)?;
        Ok(())
    }

    pub fn commands(&self) -> &CommandCounter {
        &self.commands
    }

    pub fn database(&self) -> &Database {
        &self.db
    }
}

#[async_trait]
impl UserStore for MongoStore {
    async fn ping(&self) -> StoreResult<()> {
        self.db
            .run_command(doc! { "ping": 1 })
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn insert_user(&self, user: &UserRecord) -> StoreResult<()> {
        match self.users.insert_one(UserDoc::from_record(user)).await {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate_key(&e) => Err(StoreError::DuplicateEmail),
            Err(e) => Err(backend(e)),
        }
    }

    async fn user(&self, id: Uuid) -> StoreResult<Option<UserRecord>> {
        self.users
            .find_one(doc! { "_id": id.to_string() })
            .await
            .map_err(backend)?
            .map(UserDoc::into_record)
            .transpose()
    }

    async fn users(&self, ids: &[Uuid]) -> StoreResult<Vec<UserRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let docs: Vec<UserDoc> = self
            .users
            .find(doc! { "_id": { "$in": ids } })
            .await
            .map_err(backend)?
            .try_collect()
            .await
            .map_err(backend)?;
        docs.into_iter().map(UserDoc::into_record).collect()
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        self.users
            .find_one(doc! { "email": email })
            .await
            .map_err(backend)?
            .map(UserDoc::into_record)
            .transpose()
    }

    async fn set_role(&self, id: Uuid, role: Role) -> StoreResult<Option<UserRecord>> {
        self.users
            .find_one_and_update(
                doc! { "_id": id.to_string() },
                doc! { "$set": { "role": role.as_str() } },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(backend)?
            .map(UserDoc::into_record)
            .transpose()
    }

    async fn set_password_hash(&self, id: Uuid, password_hash: &str) -> StoreResult<()> {
        self.users
            .update_one(
                doc! { "_id": id.to_string() },
                doc! { "$set": { "password_hash": password_hash } },
            )
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn list_users(&self, page: &UserPage) -> StoreResult<Vec<UserRecord>> {
        let (filter, sort, limit) = match page {
            UserPage::Forward { after, limit } => {
                let filter =
                    after.map_or_else(Document::new, |a| doc! { "_id": { "$gt": a.to_string() } });
                (filter, doc! { "_id": 1 }, *limit)
            }
            UserPage::Backward { before, limit } => {
                let filter =
                    before.map_or_else(Document::new, |b| doc! { "_id": { "$lt": b.to_string() } });
                (filter, doc! { "_id": -1 }, *limit)
            }
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let docs: Vec<UserDoc> = self
            .users
            .find(filter)
            .sort(sort)
            .limit(limit)
            .await
            .map_err(backend)?
            .try_collect()
            .await
            .map_err(backend)?;
        docs.into_iter().map(UserDoc::into_record).collect()
    }

    async fn count_users(&self) -> StoreResult<u64> {
        self.users.count_documents(doc! {}).await.map_err(backend)
    }

    async fn reserve_attempt(
        &self,
        key: &str,
        expires_at: DateTime<Utc>,
        decide: ThrottleDecision<'_>,
    ) -> StoreResult<bool> {
        for _ in 0..THROTTLE_ROUNDS {
            let now = to_bson(Utc::now());
            // An expired document the TTL monitor has not removed yet counts as absent.
            let current = self
                .throttles
                .find_one(doc! { "_id": key })
                .await
                .map_err(backend)?;
            let live = current
                .as_ref()
                .filter(|d| d.expires_at > now)
                .map(|d| Throttle {
                    attempts: u32::try_from(d.attempts.max(0)).unwrap_or(u32::MAX),
                    next_allowed: from_bson(d.next_allowed),
                });
            let Some(next) = decide(live.as_ref()) else {
                return Ok(false);
            };
            let fields = doc! {
                "attempts": i64::from(next.attempts),
                "next_allowed": to_bson(next.next_allowed),
                "expires_at": to_bson(expires_at),
            };
            let won = match &current {
                None => match self
                    .throttles
                    .insert_one(ThrottleDoc {
                        key: key.to_owned(),
                        attempts: i64::from(next.attempts),
                        next_allowed: to_bson(next.next_allowed),
                        expires_at: to_bson(expires_at),
                    })
                    .await
                {
                    Ok(_) => true,
                    Err(e) if is_duplicate_key(&e) => false,
                    Err(e) => return Err(backend(e)),
                },
                // The filter is the previous state: another request that changed it first
                // makes this update match nothing, and this one decides again.
                Some(old) => {
                    let filter = doc! {
                        "_id": key,
                        "attempts": old.attempts,
                        "next_allowed": old.next_allowed,
                        "expires_at": old.expires_at,
                    };
                    self.throttles
                        .update_one(filter, doc! { "$set": fields })
                        .await
                        .map_err(backend)?
                        .matched_count
                        == 1
                }
            };
            if won {
                return Ok(true);
            }
        }
        tracing::warn!(
            key,
            "login throttle contended beyond its retries; attempt refused"
        );
        Ok(false)
    }

    async fn clear_throttle(&self, key: &str) -> StoreResult<()> {
        self.throttles
            .delete_one(doc! { "_id": key })
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn remember_client(&self, key: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        self.known_clients
            .update_one(
                doc! { "_id": key },
                doc! { "$set": { "expires_at": to_bson(expires_at) } },
            )
            .upsert(true)
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn is_known_client(&self, key: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let found = self
            .known_clients
            .find_one(doc! { "_id": key, "expires_at": { "$gt": to_bson(now) } })
            .await
            .map_err(backend)?;
        Ok(found.is_some())
    }

    async fn insert_session(&self, session: &SessionRecord) -> StoreResult<()> {
        let doc = SessionDoc {
            id: session.id.to_string(),
            user_id: session.user_id.to_string(),
            created_at: to_bson(session.created_at),
            revoked_at: session.revoked_at.map(to_bson),
        };
        self.sessions
            .insert_one(doc)
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn session(&self, id: Uuid) -> StoreResult<Option<SessionRecord>> {
        self.sessions
            .find_one(doc! { "_id": id.to_string() })
            .await
            .map_err(backend)?
            .map(SessionDoc::into_record)
            .transpose()
    }

    async fn revoke_session(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
        // Only the first revocation's time is kept.
        self.sessions
            .update_one(
                doc! { "_id": id.to_string(), "revoked_at": bson::Bson::Null },
                doc! { "$set": { "revoked_at": to_bson(at) } },
            )
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> StoreResult<()> {
        let doc = TokenDoc {
            hash: token.hash.clone(),
            session_id: token.session_id.to_string(),
            user_id: token.user_id.to_string(),
            created_at: to_bson(token.created_at),
            expires_at: to_bson(token.expires_at),
            used_at: token.used_at.map(to_bson),
        };
        self.tokens
            .insert_one(doc)
            .await
            .map(|_| ())
            .map_err(backend)
    }

    async fn consume_refresh_token(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<RefreshTokenRecord>> {
        // The filter is the guard: the server applies the update to a document that is
        // still unused, so of two concurrent calls only one matches.
        self.tokens
            .find_one_and_update(
                doc! { "_id": hash, "used_at": bson::Bson::Null, "expires_at": { "$gt": to_bson(now) } },
                doc! { "$set": { "used_at": to_bson(now) } },
            )
            .return_document(ReturnDocument::After)
            .await
            .map_err(backend)?
            .map(TokenDoc::into_record)
            .transpose()
    }

    async fn refresh_token(&self, hash: &str) -> StoreResult<Option<RefreshTokenRecord>> {
        self.tokens
            .find_one(doc! { "_id": hash })
            .await
            .map_err(backend)?
            .map(TokenDoc::into_record)
            .transpose()
    }
}

/// Readiness: MongoDB answers a ping.
pub struct MongoCheck(pub MongoStore);

#[async_trait]
impl ReadinessCheck for MongoCheck {
    fn name(&self) -> &str {
        "mongodb"
    }

    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|_| "unreachable".to_owned())
    }
}
