//! Accounts: registration, password login with lockout, roles, and the first admin.
//!
//! Login is built so that its answer and its cost do not depend on whether the email
//! exists: an unknown email, a wrong password and a throttled attempt all verify one argon2
//! hash (the account's or a dummy) and fail with the same error. Attempts are reserved
//! against the throttles of [`lockout`] before the password is verified. A successful login
//! also re-hashes a password stored at an older, lower cost.
//!
//! The first admin ([`Accounts::create_admin`], `USERS_BOOTSTRAP_ADMIN_EMAIL`) is created
//! only when no account has its email: registration is open and emails are not verified,
//! so an existing account with that email may belong to anyone and is never promoted.

pub mod email;
pub mod lockout;

use std::sync::Arc;

use chrono::Utc;
use kit::{
    ApiError, ErrorCode,
    auth::{Principal, Role},
};
use uuid::Uuid;

use crate::{
    passwords::{self, PasswordError, PasswordHasher},
    store::{StoreError, UserRecord, UserStore},
};
pub use lockout::{ClientAddress, LockoutPolicy};

/// The one message for every failed login, whatever the reason.
pub const INVALID_CREDENTIALS: &str =
    "incorrect email or password, or too many attempts: try again later";

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
    #[error("an account with this email exists and is not an admin; it is never promoted")]
    NotPromoted,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AccountError> for ApiError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::InvalidEmail(msg) => ApiError::bad_input("input.email", msg),
            AccountError::InvalidName(msg) => ApiError::bad_input("input.name", msg),
            AccountError::Password(e) => e.into(),
            AccountError::InvalidCredentials => {
                ApiError::new(ErrorCode::Unauthenticated, INVALID_CREDENTIALS)
            }
            AccountError::NotFound => ApiError::not_found("user"),
            AccountError::OwnRole => {
                ApiError::bad_input("input.userId", "an admin cannot change their own role")
            }
            AccountError::NotPromoted => ApiError::conflict("an account with this email exists"),
            AccountError::Store(e) => e.into(),
        }
    }
}

/// What [`Accounts::create_admin`] or [`Accounts::ensure_admin`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminOutcome {
    Created,
    Promoted,
    AlreadyAdmin,
}

/// Passwords shipped in examples (`.env.example`, documentation); refused for an admin.
pub const EXAMPLE_PASSWORDS: &[&str] = &["change-me-admin-password"];

/// Whether `password` is, or is made from, a placeholder of the examples.
pub fn is_example_password(password: &str) -> bool {
    let lowered = password.trim().to_lowercase();
    EXAMPLE_PASSWORDS.iter().any(|p| lowered == *p)
        || lowered.contains("change-me")
        || lowered.contains("changeme")
}

#[derive(Clone)]
pub struct Accounts {
    store: Arc<dyn UserStore>,
    hasher: PasswordHasher,
    lockout: LockoutPolicy,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("lockout", &self.lockout)
            .finish_non_exhaustive()
    }
}

impl Accounts {
    pub fn new(store: Arc<dyn UserStore>, hasher: PasswordHasher, lockout: LockoutPolicy) -> Self {
        Self {
            store,
            hasher,
            lockout,
        }
    }

    pub fn store(&self) -> &Arc<dyn UserStore> {
        &self.store
    }

    /// Creates an account. Everything is validated before anything is written; a taken
    /// email is reported by the store's unique index, so concurrent registrations with
    /// one email cannot both succeed.
    pub async fn register(
        &self,
        email: &str,
        name: &str,
        password: &str,
        role: Role,
    ) -> Result<UserRecord, AccountError> {
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
        };
        self.store.insert_user(&user).await?;
        Ok(user)
    }

    /// Checks an email and password from `client`; see the module doc for why every
    /// failure looks alike, and [`lockout`] for the throttles.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: ClientAddress,
    ) -> Result<UserRecord, AccountError> {
        // Bounding the input keeps a huge password from being hashed; the limit is the
        // policy's, so it reveals nothing about the account.
        if password.chars().count() > passwords::MAX_LENGTH {
            return Err(PasswordError::TooLong.into());
        }
        let email = email::normalise(email);
        let user = if email::validate(&email).is_ok() {
            self.store.user_by_email(&email).await?
        } else {
            None
        };
        let Some(user) = user else {
            self.hasher.verify_dummy(password).await?;
            return Err(AccountError::InvalidCredentials);
        };
        let now = Utc::now();
        let known = self
            .store
            .is_known_client(&lockout::known_client_key(user.id, client), now)
            .await?;
        let buckets = lockout::buckets(user.id, client, known);
        if !self.reserve(&buckets, now).await? {
            tracing::info!(user_id = %user.id, known_client = known, "login attempt throttled");
            self.hasher.verify_dummy(password).await?;
            return Err(AccountError::InvalidCredentials);
        }
        if !self.hasher.verify(password, &user.password_hash).await? {
            return Err(AccountError::InvalidCredentials);
        }
        // The attempt was counted when it was reserved; a success clears the count and
        // makes this address a usual client of the account.
        self.store.clear_throttle(&buckets.client).await?;
        if let Some(shared) = &buckets.shared {
            self.store.clear_throttle(shared).await?;
        }
        let remember_until = now + chrono::Duration::days(lockout::KNOWN_CLIENT_DAYS);
        self.store
            .remember_client(&lockout::known_client_key(user.id, client), remember_until)
            .await?;
        let password_hash = self.upgrade_hash(&user, password).await;
        Ok(UserRecord {
            password_hash,
            ..user
        })
    }

    /// Reserves one attempt on each throttle `buckets` names; `false` when one refuses.
    async fn reserve(
        &self,
        buckets: &lockout::Buckets,
        now: chrono::DateTime<Utc>,
    ) -> Result<bool, AccountError> {
        let expires_at = now
            + chrono::Duration::from_std(lockout::THROTTLE_MEMORY).unwrap_or(chrono::Duration::MAX);
        let policy = self.lockout;
        // The address's own throttle first: an address that is already waiting does not
        // use up the account's shared budget.
        let threshold = policy.client_threshold();
        let decide = move |current: Option<&crate::store::Throttle>| {
            policy.reserve(threshold, current, Utc::now())
        };
        if !self
            .store
            .reserve_attempt(&buckets.client, expires_at, &decide)
            .await?
        {
            return Ok(false);
        }
        let Some(shared) = &buckets.shared else {
            return Ok(true);
        };
        let threshold = policy.shared_threshold();
        let decide = move |current: Option<&crate::store::Throttle>| {
            policy.reserve(threshold, current, Utc::now())
        };
        Ok(self
            .store
            .reserve_attempt(shared, expires_at, &decide)
            .await?)
    }

    /// The hasher (its counters are what tests and operators watch).
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// After the hash cost was raised, replaces an older hash while the password is at
    /// hand. Best effort: the login succeeds either way, and the next one retries.
    async fn upgrade_hash(&self, user: &UserRecord, password: &str) -> String {
        if !self.hasher.needs_rehash(&user.password_hash) {
            return user.password_hash.clone();
        }
        let upgraded = async {
            let hash = self
                .hasher
                .hash(password)
                .await
                .map_err(AccountError::from)?;
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
    pub async fn set_role(
        &self,
        actor: Principal,
        user_id: Uuid,
        role: Role,
    ) -> Result<UserRecord, AccountError> {
        if actor.user_id == user_id {
            return Err(AccountError::OwnRole);
        }
        let user = self
            .store
            .set_role(user_id, role)
            .await?
            .ok_or(AccountError::NotFound)?;
        tracing::info!(actor = %actor.user_id, user_id = %user.id, role = role.as_str(), "role changed");
        Ok(user)
    }

    /// Creates the first admin at start-up (`USERS_BOOTSTRAP_ADMIN_EMAIL`), only when no
    /// account has the email. An existing admin is left as it is (a restart); an existing
    /// account that is not an admin is refused ([`AccountError::NotPromoted`]): anyone may
    /// have registered it. The password must pass the policy and must not be an example's.
    pub async fn create_admin(
        &self,
        email: &str,
        name: &str,
        password: &str,
    ) -> Result<AdminOutcome, AccountError> {
        let normalised = email::normalise(email);
        if is_example_password(password) {
            return Err(PasswordError::Example.into());
        }
        // Checked even when the admin exists: a weak configured password is refused at
        // every start, not only the first.
        let cleaned = email::clean_name(name).map_err(AccountError::InvalidName)?;
        passwords::check_policy(password, &normalised, &cleaned)?;
        let existing = match self.store.user_by_email(&normalised).await? {
            Some(existing) => Some(existing),
            None => match self.register(email, name, password, Role::Admin).await {
                Ok(_) => return Ok(AdminOutcome::Created),
                // Another replica starting at the same time created it first.
                Err(AccountError::Store(StoreError::DuplicateEmail)) => {
                    self.store.user_by_email(&normalised).await?
                }
                Err(e) => return Err(e),
            },
        };
        match existing {
            Some(user) if user.role == Role::Admin => Ok(AdminOutcome::AlreadyAdmin),
            Some(_) => Err(AccountError::NotPromoted),
            None => Err(AccountError::NotFound),
        }
    }

    /// Makes sure an admin with `email` exists, promoting an existing account (whose
    /// password is left unchanged). Only for `users create-admin`, run by an operator who
    /// knows whose account it is; start-up uses [`Accounts::create_admin`].
    pub async fn ensure_admin(
        &self,
        email: &str,
        name: &str,
        password: &str,
    ) -> Result<AdminOutcome, AccountError> {
        let normalised = email::normalise(email);
        if let Some(existing) = self.store.user_by_email(&normalised).await? {
            return self.promote(existing).await;
        }
        if is_example_password(password) {
            return Err(PasswordError::Example.into());
        }
        match self.register(email, name, password, Role::Admin).await {
            Ok(_) => Ok(AdminOutcome::Created),
            Err(AccountError::Store(StoreError::DuplicateEmail)) => {
                let existing = self
                    .store
                    .user_by_email(&normalised)
                    .await?
                    .ok_or(AccountError::NotFound)?;
                self.promote(existing).await
            }
            Err(e) => Err(e),
        }
    }

    async fn promote(&self, user: UserRecord) -> Result<AdminOutcome, AccountError> {
        if user.role == Role::Admin {
            return Ok(AdminOutcome::AlreadyAdmin);
        }
        self.store
            .set_role(user.id, Role::Admin)
            .await?
            .ok_or(AccountError::NotFound)?;
        Ok(AdminOutcome::Promoted)
    }
}
