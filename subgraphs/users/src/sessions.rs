//! Sessions: a short-lived access token (a signed JWT) plus a long-lived refresh token.
//!
//! A refresh token is 32 random bytes, URL-safe base64; only its SHA-256 hash is stored,
//! so a leaked database cannot be replayed. Tokens are rotated on every use: a refresh
//! consumes the token (an atomic "mark used if unused" in the store) and issues the next
//! one in the same session. Presenting a token that was already used means two parties
//! hold the chain (a theft, or a client bug), so the whole session is revoked and both
//! must log in again. Logout revokes the session the token belongs to. Of concurrent
//! refreshes with one token at most one succeeds, and the others count as reuse, so the
//! session ends either way.

use std::{sync::Arc, time::Duration};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use kit::{ApiError, ErrorCode, auth::new_claims};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use crate::{
    keys::{KeyRing, KeysError},
    store::{RefreshTokenRecord, SessionRecord, StoreError, UserRecord, UserStore},
};

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("the refresh token is not valid")]
    InvalidToken,
    #[error("the refresh token has expired")]
    Expired,
    #[error("the session has been revoked")]
    Revoked,
    #[error("the refresh token was already used; the session has been revoked")]
    Reused,
    #[error(transparent)]
    Keys(#[from] KeysError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SessionError> for ApiError {
    fn from(err: SessionError) -> Self {
        match err {
            SessionError::Keys(e) => e.into(),
            SessionError::Store(e) => e.into(),
            client => ApiError::new(ErrorCode::Unauthenticated, client.to_string()),
        }
    }
}

/// The tokens handed to a client.
#[derive(Debug, Clone)]
pub struct IssuedSession {
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_token_expires_at: DateTime<Utc>,
}

/// How long tokens live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLifetimes {
    pub access: Duration,
    pub refresh: Duration,
}

impl Default for TokenLifetimes {
    fn default() -> Self {
        Self {
            access: Duration::from_secs(15 * 60),
            refresh: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// The stored form of a refresh token.
pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_refresh_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[derive(Clone)]
pub struct Sessions {
    store: Arc<dyn UserStore>,
    keys: KeyRing,
    lifetimes: TokenLifetimes,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("keys", &self.keys)
            .field("lifetimes", &self.lifetimes)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    pub fn new(store: Arc<dyn UserStore>, keys: KeyRing, lifetimes: TokenLifetimes) -> Self {
        Self {
            store,
            keys,
            lifetimes,
        }
    }

    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// Starts a new session for `user` (register, login).
    pub async fn start(&self, user: &UserRecord) -> Result<IssuedSession, SessionError> {
        let session = SessionRecord {
            id: Uuid::now_v7(),
            user_id: user.id,
            created_at: Utc::now(),
            revoked_at: None,
        };
        self.store.insert_session(&session).await?;
        self.issue(user, session.id).await
    }

    async fn issue(
        &self,
        user: &UserRecord,
        session_id: Uuid,
    ) -> Result<IssuedSession, SessionError> {
        let claims = new_claims(
            self.keys.policy(),
            user.id,
            user.role,
            self.lifetimes.access,
        );
        let access_token = self.keys.sign(&claims)?;
        let access_token_expires_at = DateTime::from_timestamp(claims.exp, 0).unwrap_or_default();
        let refresh_token = new_refresh_token();
        let now = Utc::now();
        let record = RefreshTokenRecord {
            hash: hash_refresh_token(&refresh_token),
            session_id,
            user_id: user.id,
            created_at: now,
            expires_at: now + chrono_duration(self.lifetimes.refresh),
            used_at: None,
        };
        self.store.insert_refresh_token(&record).await?;
        Ok(IssuedSession {
            access_token,
            access_token_expires_at,
            refresh_token,
            refresh_token_expires_at: record.expires_at,
        })
    }

    /// Exchanges a refresh token for a new pair, reading the user's current role.
    pub async fn refresh(
        &self,
        refresh_token: &str,
    ) -> Result<(UserRecord, IssuedSession), SessionError> {
        let hash = hash_refresh_token(refresh_token);
        let now = Utc::now();
        let Some(token) = self.store.consume_refresh_token(&hash, now).await? else {
            return Err(self.diagnose_unusable(&hash, now).await?);
        };
        // The session may have been revoked (logout, or a reuse detected on another token
        // of the chain) while this token was still unused.
        let session = self
            .store
            .session(token.session_id)
            .await?
            .ok_or(SessionError::InvalidToken)?;
        if session.revoked_at.is_some() {
            return Err(SessionError::Revoked);
        }
        let Some(user) = self.store.user(token.user_id).await? else {
            self.store.revoke_session(session.id, now).await?;
            return Err(SessionError::InvalidToken);
        };
        let issued = self.issue(&user, session.id).await?;
        Ok((user, issued))
    }

    /// Why a token could not be consumed; revokes the session when it was reused.
    async fn diagnose_unusable(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<SessionError, SessionError> {
        let Some(token) = self.store.refresh_token(hash).await? else {
            return Ok(SessionError::InvalidToken);
        };
        // Consuming failed, so the token was used or expired. An unexpired token has been
        // used even when this read does not show it yet (a concurrent refresh won the race).
        if token.used_at.is_some() || token.expires_at > now {
            self.store.revoke_session(token.session_id, now).await?;
            tracing::warn!(user_id = %token.user_id, session_id = %token.session_id, "refresh token reused; session revoked");
            return Ok(SessionError::Reused);
        }
        Ok(SessionError::Expired)
    }

    /// Ends the session `refresh_token` belongs to. A token already rotated still names
    /// its session, so a client holding a stale token can log out too.
    pub async fn logout(&self, refresh_token: &str) -> Result<(), SessionError> {
        let token = self
            .store
            .refresh_token(&hash_refresh_token(refresh_token))
            .await?
            .ok_or(SessionError::InvalidToken)?;
        self.store
            .revoke_session(token.session_id, Utc::now())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_random_url_safe_and_hashed() {
        let (a, b) = (new_refresh_token(), new_refresh_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "32 bytes in unpadded base64");
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        let hash = hash_refresh_token(&a);
        assert_eq!(hash.len(), 64);
        assert_ne!(hash, a);
        assert_eq!(hash, hash_refresh_token(&a));
    }
}
