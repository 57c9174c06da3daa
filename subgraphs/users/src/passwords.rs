//! Password policy and argon2id hashing.
//!
//! The policy follows NIST SP 800-63B: length is what counts (12 to 128 characters), there
//! are no composition rules, and a password must not contain the account's own email local
//! part or name. Hashing uses argon2id at or above OWASP's minimum (19 MiB, 2 passes,
//! 1 lane). Each hash costs tens of milliseconds of CPU and 19 MiB of memory, so it runs on
//! the blocking pool under two bounds ([`HashLimits`]):
//!
//! - at most `concurrency` hashes run at once. The permit moves into the blocking task and
//!   is released when the hash ends, not when the request that asked for it goes away: a
//!   client that gives up (or a flood of them timing out) cannot start more hashes while
//!   the abandoned ones still hold their memory;
//! - at most `queue` hashes wait or run. Beyond that a request is refused at once with
//!   [`PasswordError::Busy`] (`SERVICE_UNAVAILABLE`, HTTP 503 with `Retry-After`), so a
//!   flood sheds load instead of building a queue that only grows.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use argon2::{
    Algorithm, Argon2, Params, Version, password_hash::PasswordHasher as _,
    password_hash::PasswordVerifier as _,
};
use kit::ApiError;
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
    #[error("too many password checks are waiting; try again shortly")]
    Busy,
    #[error("the password is an example's placeholder; choose your own")]
    Example,
}

impl From<PasswordError> for ApiError {
    fn from(err: PasswordError) -> Self {
        match err {
            PasswordError::Hashing(_) => ApiError::internal(err),
            PasswordError::Busy => ApiError::unavailable(err.to_string()),
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
    pub const OWASP_MINIMUM: Self = Self {
        memory_kib: 19 * 1024,
        iterations: 2,
    };

    pub fn new(memory_kib: u32, iterations: u32) -> Result<Self, String> {
        if memory_kib < Self::OWASP_MINIMUM.memory_kib {
            return Err(format!(
                "at least {} KiB of memory",
                Self::OWASP_MINIMUM.memory_kib
            ));
        }
        if iterations < Self::OWASP_MINIMUM.iterations {
            return Err(format!(
                "at least {} iterations",
                Self::OWASP_MINIMUM.iterations
            ));
        }
        Ok(Self {
            memory_kib,
            iterations,
        })
    }
}

impl Default for HashCost {
    fn default() -> Self {
        Self::OWASP_MINIMUM
    }
}

/// How many hashes may run at once, and how many may be running or waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    pub concurrency: usize,
    pub queue: usize,
}

impl HashLimits {
    pub fn new(concurrency: usize, queue: usize) -> Result<Self, String> {
        if concurrency == 0 {
            return Err("at least one concurrent hash".into());
        }
        if queue < concurrency {
            return Err("a queue at least as long as the concurrency".into());
        }
        Ok(Self { concurrency, queue })
    }
}

impl Default for HashLimits {
    /// Twice the cores run (each hash holds its memory for its whole duration, so this keeps
    /// the cores busy without letting memory grow with the requests), and up to 16 per core
    /// wait: a few seconds of logins at most.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            concurrency: cores * 2,
            queue: cores * 16,
        }
    }
}

/// Hashes and verifies passwords off the async runtime.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    /// One per running hash.
    permits: Arc<Semaphore>,
    /// One per running or waiting hash.
    queue: Arc<Semaphore>,
    /// Hashes running now, and the most that ever ran at once (for tests and operators).
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    /// Verifications against a real account's hash (not the dummy's).
    verifications: Arc<AtomicUsize>,
    /// A hash of a random password, verified against when an account does not exist so
    /// that an unknown email costs the same work as a wrong password.
    dummy: Arc<str>,
    /// How every hash made at the current cost begins.
    prefix: Arc<str>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// Builds the hasher with the default [`HashLimits`] and computes its dummy hash.
    pub async fn new(cost: HashCost) -> Result<Self, PasswordError> {
        Self::with_limits(cost, HashLimits::default()).await
    }

    /// Builds the hasher and computes its dummy hash (one hash of work, done once).
    pub async fn with_limits(cost: HashCost, limits: HashLimits) -> Result<Self, PasswordError> {
        let params = Params::new(cost.memory_kib, cost.iterations, 1, None)
            .map_err(|e| PasswordError::Hashing(e.to_string()))?;
        let prefix = format!(
            "$argon2id$v=19$m={},t={},p=1$",
            cost.memory_kib, cost.iterations
        );
        let mut hasher = Self {
            params,
            permits: Arc::new(Semaphore::new(limits.concurrency)),
            queue: Arc::new(Semaphore::new(limits.queue)),
            in_flight: Arc::new(AtomicUsize::new(0)),
            peak: Arc::new(AtomicUsize::new(0)),
            verifications: Arc::new(AtomicUsize::new(0)),
            dummy: Arc::from(""),
            prefix: Arc::from(prefix),
        };
        let random: [u8; 32] = rand::random();
        hasher.dummy = Arc::from(hasher.hash(&hex::encode(random)).await?);
        Ok(hasher)
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// Hashes running now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Passwords verified against an account's own hash so far (dummy work excluded).
    pub fn verifications(&self) -> usize {
        self.verifications.load(Ordering::SeqCst)
    }

    /// The most hashes that ran at once since the hasher was built.
    pub fn peak_in_flight(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        // A place in the queue, or an immediate refusal: waiting is bounded too.
        let place = self
            .queue
            .clone()
            .try_acquire_owned()
            .map_err(|_| PasswordError::Busy)?;
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| PasswordError::Hashing(e.to_string()))?;
        let (in_flight, peak) = (self.in_flight.clone(), self.peak.clone());
        // Both permits move into the blocking task: if this future is dropped (the client
        // went away), the hash still runs to its end and its permit is held until then.
        tokio::task::spawn_blocking(move || {
            let _held = (place, permit);
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let result = job();
            in_flight.fetch_sub(1, Ordering::SeqCst);
            result
        })
        .await
        .map_err(|e| PasswordError::Hashing(e.to_string()))
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
        let verified = self.check(password, phc).await;
        if verified.is_ok() {
            self.verifications.fetch_add(1, Ordering::SeqCst);
        }
        verified
    }

    async fn check(&self, password: &str, phc: &str) -> Result<bool, PasswordError> {
        let params = self.params.clone();
        let password = password.to_owned();
        let phc = phc.to_owned();
        self.blocking(move || {
            match Self::argon2(params).verify_password(password.as_bytes(), phc.as_str()) {
                Ok(()) => Ok(true),
                Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
                Err(e) => Err(PasswordError::Hashing(e.to_string())),
            }
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
        self.check(password, &dummy).await.map(|_| false)
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
        assert_eq!(
            check_policy("my Grace.Hopper pass", email, "Someone"),
            Err(PasswordError::ContainsEmail)
        );
        assert_eq!(
            check_policy("i love hopper so much", email, "Grace Hopper"),
            Err(PasswordError::ContainsName)
        );
        assert_eq!(
            check_policy("correct horse battery", email, "Grace Hopper"),
            Ok(())
        );
        // Very short names are not searched for, or they would forbid most passwords.
        assert_eq!(
            check_policy("correct horse battery", "al@example.com", "Al"),
            Ok(())
        );
    }

    #[test]
    fn cost_below_owasp_minimum_is_refused() {
        assert!(HashCost::new(19 * 1024, 2).is_ok());
        assert!(HashCost::new(8 * 1024, 2).is_err());
        assert!(HashCost::new(19 * 1024, 1).is_err());
    }

    #[test]
    fn limits_must_make_sense() {
        assert!(HashLimits::new(0, 4).is_err());
        assert!(HashLimits::new(4, 2).is_err());
        assert_eq!(
            HashLimits::new(2, 8),
            Ok(HashLimits {
                concurrency: 2,
                queue: 8
            })
        );
    }

    /// Requests that go away mid-hash (a client timing out) must not free room for more
    /// hashes while theirs still run.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn abandoned_hashes_keep_their_permit_until_they_end() {
        let hasher = PasswordHasher::with_limits(
            HashCost::default(),
            HashLimits::new(2, 64).expect("limits"),
        )
        .await
        .expect("hasher");
        let phc = hasher.hash("correct horse battery").await.expect("hash");
        for _round in 0..3 {
            let abandoned: Vec<_> = (0..6)
                .map(|_| {
                    let (hasher, phc) = (hasher.clone(), phc.clone());
                    tokio::spawn(async move { hasher.verify("wrong horse battery", &phc).await })
                })
                .collect();
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
            while hasher.in_flight() < 2 {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "hashes never started"
                );
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            // The clients give up while their hashes run.
            for task in &abandoned {
                task.abort();
            }
            let next: Vec<_> = (0..6)
                .map(|_| {
                    let (hasher, phc) = (hasher.clone(), phc.clone());
                    tokio::spawn(async move { hasher.verify("correct horse battery", &phc).await })
                })
                .collect();
            for task in next {
                assert!(task.await.expect("task").expect("verify"));
            }
        }
        assert!(
            hasher.peak_in_flight() <= 2,
            "{} hashes ran at once with a bound of 2",
            hasher.peak_in_flight()
        );
        assert_eq!(hasher.peak_in_flight(), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_sheds_load_at_once() {
        let hasher = PasswordHasher::with_limits(
            HashCost::default(),
            HashLimits::new(1, 2).expect("limits"),
        )
        .await
        .expect("hasher");
        let phc = hasher.hash("correct horse battery").await.expect("hash");
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (hasher, phc) = (hasher.clone(), phc.clone());
                tokio::spawn(async move { hasher.verify("correct horse battery", &phc).await })
            })
            .collect();
        let mut verified = 0;
        let mut busy = 0;
        for task in tasks {
            match task.await.expect("task") {
                Ok(true) => verified += 1,
                Err(PasswordError::Busy) => busy += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(verified + busy, 12);
        assert!(verified >= 2, "the queue's two places are served");
        assert!(busy >= 1, "beyond the queue, requests are refused");
        assert_eq!(hasher.peak_in_flight(), 1);
        assert_eq!(
            ApiError::from(PasswordError::Busy).code,
            kit::ErrorCode::ServiceUnavailable
        );
    }

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id_at_the_configured_cost() {
        let hasher = PasswordHasher::new(HashCost::default())
            .await
            .expect("hasher");
        let phc = hasher.hash("correct horse battery").await.expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(
            hasher
                .verify("correct horse battery", &phc)
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify("wrong horse battery", &phc)
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify_dummy("correct horse battery")
                .await
                .expect("dummy")
        );
        let again = hasher.hash("correct horse battery").await.expect("hash");
        assert_ne!(phc, again, "every hash has its own salt");
        assert!(!hasher.needs_rehash(&phc));

        let stronger = PasswordHasher::new(HashCost::new(19 * 1024, 3).expect("cost"))
            .await
            .expect("hasher");
        assert!(stronger.needs_rehash(&phc));
        assert!(
            stronger
                .verify("correct horse battery", &phc)
                .await
                .expect("verify"),
            "old hashes keep verifying"
        );
    }
}
