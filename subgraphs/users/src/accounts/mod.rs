//! Accounts: registration, password login with lockout, roles, and the first admin.
//!
//! Login is built so that its answer and its cost do not depend on whether the email
//! exists: an unknown email, a wrong password and a locked account all verify one argon2
//! hash (the account's or a dummy) and fail with the same error. A successful login also
//! re-hashes a password stored at an older, lower cost.

pub mod email;
pub mod lockout;

use std::sync::Arc;

use chrono::Utc;
use common::{ApiError, ErrorCode, auth::{Principal, Role}};
use uuid::Uuid;

use crate::{
    passwords::{self, PasswordError, PasswordHasher},
    store::{StoreError, UserRecord, UserStore},
};
pub use lockout::LockoutPolicy;

/// The one message for every failed login, whatever the reason.
pub const INVALID_CREDENTIALS: &str = "incorrect email or password, or too many attempts: try again later";

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    InvalidEmail(&'static str),
    #[error("{0}")]
    InvalidName(&'static str),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("user not found")]
    NotFound,
    #[error("an admin cannot change their own role")]
    OwnRole,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AccountError> for ApiError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::InvalidEmail(msg) => ApiError::bad_input("input.email", msg),
            AccountError::InvalidName(msg) => ApiError::bad_input("input.name", msg),
            AccountError::Password(e) => e.into(),
            AccountError::InvalidCredentials => ApiError::new(ErrorCode::Unauthenticated, INVALID_CREDENTIALS),
            AccountError::NotFound => ApiError::not_found("user"),
            AccountError::OwnRole => ApiError::bad_input("input.userId", "an admin cannot change their own role"),
            AccountError::Store(e) => e.into(),
        }
    }
}

/// What [`Accounts::ensure_admin`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminOutcome {
    Created,
    Promoted,
    AlreadyAdmin,
}

#[derive(Clone)]
pub struct Accounts {
    store: Arc<dyn UserStore>,
    hasher: PasswordHasher,
    lockout: LockoutPolicy,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").field("lockout", &self.lockout).finish_non_exhaustive()
    }
}

impl Accounts {
    pub fn new(store: Arc<dyn UserStore>, hasher: PasswordHasher, lockout: LockoutPolicy) -> Self {
        Self { store, hasher, lockout }
    }

    pub fn store(&self) -> &Arc<dyn UserStore> {
        &self.store
    }

    /// Creates an account. Everything is validated before anything is written; a taken
    /// email is reported by the store's unique index, so concurrent registrations with
    /// one email cannot both succeed.
    pub async fn register(&self, email: &str, name: &str, password: &str, role: Role) -> Result<UserRecord, AccountError> {
        let email = email::normalise(email);
        email::validate(&email).map_err(AccountError::InvalidEmail)?;
        let name = email::clean_name(name).map_err(AccountError::InvalidName)?;
        passwords::check_policy(password, &email, &name)?;
        let password_hash = self.hasher.hash(password).await?;
        let user = UserRecord {
            id: Uuid::now_v7(),
            email,
            name,
            role,
            password_hash,
            created_at: Utc::now(),
            failed_logins: 0,
            locked_until: None,
        };
        self.store.insert_user(&user).await?;
        Ok(user)
    }

    /// Checks an email and password; see the module doc for why every failure looks alike.
    pub async fn login(&self, email: &str, password: &str) -> Result<UserRecord, AccountError> {
        // Bounding the input keeps a huge password from being hashed; the limit is the
        // policy's, so it reveals nothing about the account.
        if password.chars().count() > passwords::MAX_LENGTH {
            return Err(PasswordError::TooLong.into());
        }
        let email = email::normalise(email);
        let user = if email::validate(&email).is_ok() { self.store.user_by_email(&email).await? } else { None };
        let Some(user) = user else {
            self.hasher.verify_dummy(password).await?;
            return Err(AccountError::InvalidCredentials);
        };
        let now = Utc::now();
        if user.locked_until.is_some_and(|until| until > now) {
            self.hasher.verify_dummy(password).await?;
            return Err(AccountError::InvalidCredentials);
        }
        if !self.hasher.verify(password, &user.password_hash).await? {
            let failures = self.store.record_failed_login(user.id).await?;
            if let Some(lock) = self.lockout.lock_for(failures) {
                let until = now + chrono::Duration::from_std(lock).unwrap_or(chrono::Duration::MAX);
                self.store.lock_user(user.id, until).await?;
                tracing::warn!(user_id = %user.id, failures, lock_secs = lock.as_secs(), "account locked after failed logins");
            }
            return Err(AccountError::InvalidCredentials);
        }
        if user.failed_logins > 0 || user.locked_until.is_some() {
            self.store.clear_failed_logins(user.id).await?;
        }
        let password_hash = self.upgrade_hash(&user, password).await;
        Ok(UserRecord { failed_logins: 0, locked_until: None, password_hash, ..user })
    }

    /// After the hash cost was raised, replaces an older hash while the password is at
    /// hand. Best effort: the login succeeds either way, and the next one retries.
    async fn upgrade_hash(&self, user: &UserRecord, password: &str) -> String {
        if !self.hasher.needs_rehash(&user.password_hash) {
            return user.password_hash.clone();
        }
        let upgraded = async {
            let hash = self.hasher.hash(password).await.map_err(AccountError::from)?;
            self.store.set_password_hash(user.id, &hash).await?;
            Ok::<_, AccountError>(hash)
        };
        match upgraded.await {
            Ok(hash) => {
                tracing::info!(user_id = %user.id, "password hash upgraded to the current cost");
                hash
            }
            Err(e) => {
                tracing::warn!(user_id = %user.id, error = %e, "password hash upgrade failed");
                user.password_hash.clone()
            }
        }
    }

    pub async fn user(&self, id: Uuid) -> Result<UserRecord, AccountError> {
        self.store.user(id).await?.ok_or(AccountError::NotFound)
    }

    /// Changes a user's role (the caller is an admin). Admins cannot change their own
    /// role, so the last admin cannot lock everyone out by accident.
    pub async fn set_role(&self, actor: Principal, user_id: Uuid, role: Role) -> Result<UserRecord, AccountError> {
        if actor.user_id == user_id {
            return Err(AccountError::OwnRole);
        }
        let user = self.store.set_role(user_id, role).await?.ok_or(AccountError::NotFound)?;
        tracing::info!(actor = %actor.user_id, user_id = %user.id, role = role.as_str(), "role changed");
        Ok(user)
    }

    /// Makes sure an admin with `email` exists: creates it (with `password`), or promotes
    /// an existing account (whose password is left unchanged).
    pub async fn ensure_admin(&self, email: &str, name: &str, password: &str) -> Result<AdminOutcome, AccountError> {
        let normalised = email::normalise(email);
        if let Some(existing) = self.store.user_by_email(&normalised).await? {
            return self.promote(existing).await;
        }
        match self.register(email, name, password, Role::Admin).await {
            Ok(_) => Ok(AdminOutcome::Created),
            // Another replica starting at the same time created it first.
            Err(AccountError::Store(StoreError::DuplicateEmail)) => {
                let existing = self.store.user_by_email(&normalised).await?.ok_or(AccountError::NotFound)?;
                self.promote(existing).await
            }
            Err(e) => Err(e),
        }
    }

    async fn promote(&self, user: UserRecord) -> Result<AdminOutcome, AccountError> {
        if user.role == Role::Admin {
            return Ok(AdminOutcome::AlreadyAdmin);
        }
        self.store.set_role(user.id, Role::Admin).await?.ok_or(AccountError::NotFound)?;
        Ok(AdminOutcome::Promoted)
    }
}
