//! The embedded store: all accounts and sessions in memory, saved to one JSON file in the
//! data folder after every change.
//!
//! Embedded mode runs a single process, so one async mutex gives the same guarantees the
//! MongoDB store gets from the server: a unique email, and a refresh token consumed at
//! most once. Each change writes a temporary file and renames it over the old one, so a
//! crash leaves either the old or the new state, never half of one. The file holds
//! password hashes and is created readable by its owner only.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use kit::auth::Role;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use uuid::Uuid;

use super::{
    RefreshTokenRecord, SessionRecord, StoreError, StoreResult, Throttle, ThrottleDecision,
    UserPage, UserRecord, UserStore,
};

pub const FILE_NAME: &str = "users.json";

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// Ordered by id, which is creation order for UUID v7.
    users: BTreeMap<Uuid, UserRecord>,
    sessions: HashMap<Uuid, SessionRecord>,
    refresh_tokens: HashMap<String, RefreshTokenRecord>,
    #[serde(default)]
    throttles: HashMap<String, (Throttle, DateTime<Utc>)>,
    /// Known client addresses by key, with when they are forgotten.
    #[serde(default)]
    known_clients: HashMap<String, DateTime<Utc>>,
}

#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    state: Mutex<State>,
}

fn io(path: &Path, err: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("{}: {err}", path.display()))
}

impl FileStore {
    /// Opens (or creates) the store file in `dir`.
    pub async fn open(dir: &Path) -> StoreResult<Self> {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| io(dir, e))?;
        let path = dir.join(FILE_NAME);
        let state = match tokio::fs::read(&path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| io(&path, e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(e) => return Err(io(&path, e)),
        };
        Ok(Self {
            path,
            state: Mutex::new(state),
        })
    }

    /// Writes the state; called with the lock held so saves land in order.
    async fn save(&self, state: &mut State) -> StoreResult<()> {
        let now = Utc::now();
        state.refresh_tokens.retain(|_, t| t.expires_at > now);
        state.throttles.retain(|_, (_, expires)| *expires > now);
        state.known_clients.retain(|_, expires| *expires > now);
        let bytes = serde_json::to_vec(state).map_err(|e| io(&self.path, e))?;
        let tmp = self.path.with_extension("json.tmp");
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        options.mode(0o600);
        {
            use tokio::io::AsyncWriteExt as _;
            let mut file = options.open(&tmp).await.map_err(|e| io(&tmp, e))?;
            file.write_all(&bytes).await.map_err(|e| io(&tmp, e))?;
            file.sync_all().await.map_err(|e| io(&tmp, e))?;
        }
        tokio::fs::rename(&tmp, &self.path)
            .await
            .map_err(|e| io(&self.path, e))
    }
}

#[async_trait]
impl UserStore for FileStore {
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }

    async fn insert_user(&self, user: &UserRecord) -> StoreResult<()> {
        let mut state = self.state.lock().await;
        if state.users.values().any(|u| u.email == user.email) {
            return Err(StoreError::DuplicateEmail);
        }
        state.users.insert(user.id, user.clone());
        self.save(&mut state).await
    }

    async fn user(&self, id: Uuid) -> StoreResult<Option<UserRecord>> {
        Ok(self.state.lock().await.users.get(&id).cloned())
    }

    async fn users(&self, ids: &[Uuid]) -> StoreResult<Vec<UserRecord>> {
        let state = self.state.lock().await;
        Ok(ids
            .iter()
            .filter_map(|id| state.users.get(id).cloned())
            .collect())
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>> {
        Ok(self
            .state
            .lock()
            .await
            .users
            .values()
            .find(|u| u.email == email)
            .cloned())
    }

    async fn set_role(&self, id: Uuid, role: Role) -> StoreResult<Option<UserRecord>> {
        let mut state = self.state.lock().await;
        let Some(user) = state.users.get_mut(&id) else {
            return Ok(None);
        };
        user.role = role;
        let user = user.clone();
        self.save(&mut state).await?;
        Ok(Some(user))
    }

    async fn set_password_hash(&self, id: Uuid, password_hash: &str) -> StoreResult<()> {
        let mut state = self.state.lock().await;
        if let Some(user) = state.users.get_mut(&id) {
            user.password_hash = password_hash.to_owned();
            self.save(&mut state).await?;
        }
        Ok(())
    }

    async fn list_users(&self, page: &UserPage) -> StoreResult<Vec<UserRecord>> {
        use std::ops::Bound::{Excluded, Unbounded};
        let state = self.state.lock().await;
        let take = |limit: u64| usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(match page {
            UserPage::Forward { after, limit } => {
                let lower = after.map_or(Unbounded, Excluded);
                state
                    .users
                    .range((lower, Unbounded))
                    .take(take(*limit))
                    .map(|(_, u)| u.clone())
                    .collect()
            }
            UserPage::Backward { before, limit } => {
                let upper = before.map_or(Unbounded, Excluded);
                state
                    .users
                    .range((Unbounded, upper))
                    .rev()
                    .take(take(*limit))
                    .map(|(_, u)| u.clone())
                    .collect()
            }
        })
    }

    async fn count_users(&self) -> StoreResult<u64> {
        Ok(self.state.lock().await.users.len() as u64)
    }

    async fn reserve_attempt(
        &self,
        key: &str,
        expires_at: DateTime<Utc>,
        decide: ThrottleDecision<'_>,
    ) -> StoreResult<bool> {
        let mut state = self.state.lock().await;
        let current = state
            .throttles
            .get(key)
            .filter(|(_, expires)| *expires > Utc::now())
            .map(|(t, _)| *t);
        let Some(next) = decide(current.as_ref()) else {
            return Ok(false);
        };
        state.throttles.insert(key.to_owned(), (next, expires_at));
        self.save(&mut state).await?;
        Ok(true)
    }

    async fn clear_throttle(&self, key: &str) -> StoreResult<()> {
        let mut state = self.state.lock().await;
        if state.throttles.remove(key).is_some() {
            self.save(&mut state).await?;
        }
        Ok(())
    }

    async fn remember_client(&self, key: &str, expires_at: DateTime<Utc>) -> StoreResult<()> {
        let mut state = self.state.lock().await;
        state.known_clients.insert(key.to_owned(), expires_at);
        self.save(&mut state).await
    }

    async fn is_known_client(&self, key: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        Ok(self
            .state
            .lock()
            .await
            .known_clients
            .get(key)
            .is_some_and(|expires| *expires > now))
    }

    async fn insert_session(&self, session: &SessionRecord) -> StoreResult<()> {
        let mut state = self.state.lock().await;
        state.sessions.insert(session.id, session.clone());
        self.save(&mut state).await
    }

    async fn session(&self, id: Uuid) -> StoreResult<Option<SessionRecord>> {
        Ok(self.state.lock().await.sessions.get(&id).cloned())
    }

    async fn revoke_session(&self, id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
        let mut state = self.state.lock().await;
        if let Some(session) = state
            .sessions
            .get_mut(&id)
            .filter(|s| s.revoked_at.is_none())
        {
            session.revoked_at = Some(at);
            self.save(&mut state).await?;
        }
        Ok(())
    }

    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> StoreResult<()> {
        let mut state = self.state.lock().await;
        state
            .refresh_tokens
            .insert(token.hash.clone(), token.clone());
        self.save(&mut state).await
    }

    async fn consume_refresh_token(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<RefreshTokenRecord>> {
        let mut state = self.state.lock().await;
        let Some(token) = state
            .refresh_tokens
            .get_mut(hash)
            .filter(|t| t.used_at.is_none() && t.expires_at > now)
        else {
            return Ok(None);
        };
        token.used_at = Some(now);
        let token = token.clone();
        self.save(&mut state).await?;
        Ok(Some(token))
    }

    async fn refresh_token(&self, hash: &str) -> StoreResult<Option<RefreshTokenRecord>> {
        Ok(self.state.lock().await.refresh_tokens.get(hash).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(email: &str) -> UserRecord {
        UserRecord {
            id: Uuid::now_v7(),
            email: email.into(),
            name: "Test".into(),
            role: Role::Customer,
            password_hash: "$argon2id$stub".into(),
            created_at: Utc::now(),
        }
    }

    #[tokio::test]
    async fn survives_a_restart_and_keeps_emails_unique() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileStore::open(dir.path()).await.expect("open");
        let ada = user("ada@example.com");
        store.insert_user(&ada).await.expect("insert");
        assert!(matches!(
            store.insert_user(&user("ada@example.com")).await,
            Err(StoreError::DuplicateEmail)
        ));
        drop(store);
        let reopened = FileStore::open(dir.path()).await.expect("reopen");
        assert_eq!(
            reopened
                .user_by_email("ada@example.com")
                .await
                .expect("read"),
            Some(ada)
        );
        assert_eq!(reopened.count_users().await.expect("count"), 1);
    }

    #[tokio::test]
    async fn a_refresh_token_is_consumed_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileStore::open(dir.path()).await.expect("open");
        let now = Utc::now();
        let token = RefreshTokenRecord {
            hash: "h".into(),
            session_id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            created_at: now,
            expires_at: now + chrono::Duration::days(1),
            used_at: None,
        };
        store.insert_refresh_token(&token).await.expect("insert");
        assert!(
            store
                .consume_refresh_token("h", now)
                .await
                .expect("first")
                .is_some()
        );
        assert!(
            store
                .consume_refresh_token("h", now)
                .await
                .expect("second")
                .is_none()
        );
        assert!(
            store
                .consume_refresh_token("unknown", now)
                .await
                .expect("unknown")
                .is_none()
        );
    }
}
