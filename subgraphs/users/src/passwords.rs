//! Password policy and argon2id hashing.
//!
//! The policy follows NIST SP 800-63B: length is what counts (12 to 128 characters), there
//! are no composition rules, and a password must not contain the account's own email local
//! part or name. Hashing uses argon2id at or above OWASP's minimum (19 MiB, 2 passes,
//! 1 lane). Each hash costs tens of milliseconds of CPU and 19 MiB of memory, so it runs on
//! the blocking pool, and a semaphore bounds how many run at once: a burst of logins then
//! queues instead of exhausting memory.

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, Version, password_hash::PasswordHasher as _, password_hash::PasswordVerifier as _};
use common::ApiError;
use tokio::sync::Semaphore;

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 128;

/// Name and email fragments shorter than this are not searched for in passwords: a one-
/// or two-letter name would otherwise forbid most passwords.
const MIN_FRAGMENT: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must be at least {MIN_LENGTH} characters long")]
    TooShort,
    #[error("the password must be at most {MAX_LENGTH} characters long")]
    TooLong,
    #[error("the password must not contain your email address")]
    ContainsEmail,
    #[error("the password must not contain your name")]
    ContainsName,
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

impl From<PasswordError> for ApiError {
    fn from(err: PasswordError) -> Self {
        match err {
            PasswordError::Hashing(_) => ApiError::internal(err),
            policy => ApiError::bad_input("input.password", policy.to_string()),
        }
    }
}

/// Checks only the length; used where the account is not known yet (login).
pub fn check_length(password: &str) -> Result<(), PasswordError> {
    let len = password.chars().count();
    if len < MIN_LENGTH {
        Err(PasswordError::TooShort)
    } else if len > MAX_LENGTH {
        Err(PasswordError::TooLong)
    } else {
        Ok(())
    }
}

/// The full policy for a new password of the account with `email` (normalised) and `name`.
pub fn check_policy(password: &str, email: &str, name: &str) -> Result<(), PasswordError> {
    check_length(password)?;
    let lowered = password.to_lowercase();
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    if local.chars().count() >= MIN_FRAGMENT && lowered.contains(&local) {
        return Err(PasswordError::ContainsEmail);
    }
    let name = name.trim().to_lowercase();
    let fragments = std::iter::once(name.as_str()).chain(name.split_whitespace());
    for fragment in fragments {
        if fragment.chars().count() >= MIN_FRAGMENT && lowered.contains(fragment) {
            return Err(PasswordError::ContainsName);
        }
    }
    Ok(())
}

/// The argon2id cost; the constructor refuses anything below OWASP's minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
}

impl HashCost {
    /// OWASP's minimum recommendation for argon2id.
    pub const OWASP_MINIMUM: Self = Self { memory_kib: 19 * 1024, iterations: 2 };

    pub fn new(memory_kib: u32, iterations: u32) -> Result<Self, String> {
        if memory_kib < Self::OWASP_MINIMUM.memory_kib {
            return Err(format!("at least {} KiB of memory", Self::OWASP_MINIMUM.memory_kib));
        }
        if iterations < Self::OWASP_MINIMUM.iterations {
            return Err(format!("at least {} iterations", Self::OWASP_MINIMUM.iterations));
        }
        Ok(Self { memory_kib, iterations })
    }
}

impl Default for HashCost {
    fn default() -> Self {
        Self::OWASP_MINIMUM
    }
}

/// Hashes and verifies passwords off the async runtime.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when an account does not exist so
    /// that an unknown email costs the same work as a wrong password.
    dummy: Arc<str>,
    /// How every hash made at the current cost begins.
    prefix: Arc<str>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").field("params", &self.params).finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// Builds the hasher and computes its dummy hash (one hash of work, done once).
    pub async fn new(cost: HashCost) -> Result<Self, PasswordError> {
        let params = Params::new(cost.memory_kib, cost.iterations, 1, None).map_err(|e| PasswordError::Hashing(e.to_string()))?;
        // Each hash holds its memory for its whole duration; twice the cores keeps the
        // cores busy without letting memory grow with the number of requests.
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get() * 2);
        let prefix = format!("$argon2id$v=19$m={},t={},p=1$", cost.memory_kib, cost.iterations);
        let mut hasher =
            Self { params, permits: Arc::new(Semaphore::new(parallel)), dummy: Arc::from(""), prefix: Arc::from(prefix) };
        let random: [u8; 32] = rand::random();
        hasher.dummy = Arc::from(hasher.hash(&hex::encode(random)).await?);
        Ok(hasher)
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    async fn blocking<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T, PasswordError> {
        let _permit = self.permits.acquire().await.map_err(|e| PasswordError::Hashing(e.to_string()))?;
        tokio::task::spawn_blocking(job).await.map_err(|e| PasswordError::Hashing(e.to_string()))
    }

    /// The PHC string (`$argon2id$v=19$m=...`) of `password` with a fresh random salt.
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let params = self.params.clone();
        let password = password.to_owned();
        self.blocking(move || {
            Self::argon2(params)
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| PasswordError::Hashing(e.to_string()))
        })
        .await?
    }

    /// Whether `password` matches `phc`. The cost stored in the hash is used, so hashes
    /// made before a cost increase keep verifying.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool, PasswordError> {
        let params = self.params.clone();
        let password = password.to_owned();
        let phc = phc.to_owned();
        self.blocking(move || match Self::argon2(params).verify_password(password.as_bytes(), phc.as_str()) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(e) => Err(PasswordError::Hashing(e.to_string())),
        })
        .await?
    }

    /// Whether `phc` was made with another algorithm or cost than the current one, so it
    /// should be replaced the next time the password is known (a successful login).
    pub fn needs_rehash(&self, phc: &str) -> bool {
        !phc.starts_with(&*self.prefix)
    }

    /// Verifies against the dummy hash and always answers `false`: the same work as a
    /// real verification, for accounts that do not exist or are locked.
    pub async fn verify_dummy(&self, password: &str) -> Result<bool, PasswordError> {
        let dummy = self.dummy.clone();
        self.verify(password, &dummy).await.map(|_| false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters() {
        assert_eq!(check_length("short"), Err(PasswordError::TooShort));
        assert_eq!(check_length(&"é".repeat(12)), Ok(()));
        assert_eq!(check_length(&"x".repeat(128)), Ok(()));
        assert_eq!(check_length(&"x".repeat(129)), Err(PasswordError::TooLong));
    }

    #[test]
    fn refuses_email_and_name_fragments() {
        let email = "grace.hopper@example.com";
        assert_eq!(check_policy("my Grace.Hopper pass", email, "Someone"), Err(PasswordError::ContainsEmail));
        assert_eq!(check_policy("i love hopper so much", email, "Grace Hopper"), Err(PasswordError::ContainsName));
        assert_eq!(check_policy("correct horse battery", email, "Grace Hopper"), Ok(()));
        // Very short names are not searched for, or they would forbid most passwords.
        assert_eq!(check_policy("correct horse battery", "al@example.com", "Al"), Ok(()));
    }

    #[test]
    fn cost_below_owasp_minimum_is_refused() {
        assert!(HashCost::new(19 * 1024, 2).is_ok());
        assert!(HashCost::new(8 * 1024, 2).is_err());
        assert!(HashCost::new(19 * 1024, 1).is_err());
    }

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id_at_the_configured_cost() {
        let hasher = PasswordHasher::new(HashCost::default()).await.expect("hasher");
        let phc = hasher.hash("correct horse battery").await.expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher.verify("correct horse battery", &phc).await.expect("verify"));
        assert!(!hasher.verify("wrong horse battery", &phc).await.expect("verify"));
        assert!(!hasher.verify_dummy("correct horse battery").await.expect("dummy"));
        let again = hasher.hash("correct horse battery").await.expect("hash");
        assert_ne!(phc, again, "every hash has its own salt");
        assert!(!hasher.needs_rehash(&phc));

        let stronger = PasswordHasher::new(HashCost::new(19 * 1024, 3).expect("cost")).await.expect("hasher");
        assert!(stronger.needs_rehash(&phc));
        assert!(stronger.verify("correct horse battery", &phc).await.expect("verify"), "old hashes keep verifying");
    }
}
