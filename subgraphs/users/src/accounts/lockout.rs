//! Slowing down password guessing against one account.
//!
//! After `threshold` failed logins in a row the account is locked for `base`; every
//! further failure after the lock has passed doubles the lock, up to `max`. The count and
//! the lock live in the account's document, so every replica sees the same state, and a
//! successful login resets both. A locked account answers exactly like a wrong password,
//! so the lock reveals nothing about which accounts exist.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub threshold: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self { threshold: 5, base: Duration::from_secs(30), max: Duration::from_secs(15 * 60) }
    }
}

impl LockoutPolicy {
    /// How long to lock after the `failures`-th failure in a row; `None` below the threshold.
    pub fn lock_for(&self, failures: u32) -> Option<Duration> {
        let beyond = failures.checked_sub(self.threshold)?;
        let factor = 1u32.checked_shl(beyond).unwrap_or(u32::MAX);
        Some(self.base.checked_mul(factor).unwrap_or(self.max).min(self.max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_starts_at_the_threshold_and_grows_to_the_cap() {
        let p = LockoutPolicy::default();
        assert_eq!(p.lock_for(0), None);
        assert_eq!(p.lock_for(4), None);
        assert_eq!(p.lock_for(5), Some(Duration::from_secs(30)));
        assert_eq!(p.lock_for(6), Some(Duration::from_secs(60)));
        assert_eq!(p.lock_for(7), Some(Duration::from_secs(120)));
        assert_eq!(p.lock_for(10), Some(Duration::from_secs(15 * 60)));
        assert_eq!(p.lock_for(u32::MAX), Some(Duration::from_secs(15 * 60)));
    }
}
