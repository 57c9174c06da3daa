//! Slowing down password guessing without handing anyone a way to lock an owner out.
//!
//! # Policy
//!
//! Attempts are throttled per account **and** client address (the address the router saw
//! the request come from, see [`ClientAddress`]), never per account alone:
//!
//! - Each (account, address) pair gets `threshold` attempts in a row; after that each
//!   further attempt must wait, `base` after the threshold-th, doubling with every attempt
//!   up to `max`. Nothing is locked for good: a client always gets another try once its
//!   delay has passed, and a successful login clears its count.
//! - An address the account logged in from successfully in the last
//!   [`KNOWN_CLIENT_DAYS`] days (the owner's usual client) is throttled only by its own
//!   pair. Someone guessing from elsewhere, however often, never delays it.
//! - Every other address also draws on one budget shared per account,
//!   `threshold * SHARED_FACTOR` attempts before the same growing delays. Guessing from
//!   many addresses at once is slowed down as a whole, while the owner's usual client is
//!   not affected.
//!
//! An attempt is reserved **before** its password is verified, by one compare-and-set on
//! the throttle in the store, so parallel guesses cannot all pass the check before any
//! failure is counted: of N concurrent wrong passwords exactly `threshold` are verified.
//! A refused attempt answers exactly like a wrong password (and costs the same hash), so
//! the throttle reveals nothing about which accounts exist. Throttles are forgotten a day
//! after their last attempt.

use std::{net::IpAddr, time::Duration};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::store::Throttle;

/// How long an address an account logged in from counts as its usual client.
pub const KNOWN_CLIENT_DAYS: i64 = 90;

/// The shared budget of unknown addresses, in multiples of the per-address threshold.
pub const SHARED_FACTOR: u32 = 4;

/// How long a throttle is kept after its last attempt.
pub const THROTTLE_MEMORY: Duration = Duration::from_secs(24 * 3600);

/// Where a request came from, as the router reports it (`None` when unknown, e.g. a direct
/// call in embedded mode: such requests share one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    fn key(self) -> String {
        self.0
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    }
}

/// The throttles one login attempt draws on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buckets {
    /// The (account, address) pair's.
    pub client: String,
    /// The account's shared budget, for addresses that are not a usual client.
    pub shared: Option<String>,
}

/// The store key marking `client` as a usual client of `user`.
pub fn known_client_key(user: Uuid, client: ClientAddress) -> String {
    format!("{user}/{}", client.key())
}

/// The throttles an attempt on `user` from `client` draws on.
pub fn buckets(user: Uuid, client: ClientAddress, known: bool) -> Buckets {
    Buckets {
        client: format!("client/{user}/{}", client.key()),
        shared: (!known).then(|| format!("account/{user}")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Attempts in a row an (account, address) pair makes before delays start.
    pub threshold: u32,
    /// The first delay.
    pub base: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            threshold: 5,
            base: Duration::from_secs(30),
            max: Duration::from_secs(15 * 60),
        }
    }
}

impl LockoutPolicy {
    /// The wait before the next attempt after the `attempts`-th in a row, given `threshold`
    /// free attempts; `None` below the threshold.
    pub fn delay_after(&self, attempts: u32, threshold: u32) -> Option<Duration> {
        let beyond = attempts.checked_sub(threshold)?;
        let factor = 1u32.checked_shl(beyond).unwrap_or(u32::MAX);
        Some(
            self.base
                .checked_mul(factor)
                .unwrap_or(self.max)
                .min(self.max),
        )
    }

    /// The per-address threshold.
    pub fn client_threshold(&self) -> u32 {
        self.threshold
    }

    /// The shared threshold of an account's unknown addresses.
    pub fn shared_threshold(&self) -> u32 {
        self.threshold.saturating_mul(SHARED_FACTOR)
    }

    /// What a throttle becomes when an attempt is asked for at `now`; `None` refuses it.
    pub fn reserve(
        &self,
        threshold: u32,
        current: Option<&Throttle>,
        now: DateTime<Utc>,
    ) -> Option<Throttle> {
        let attempts = current.map_or(0, |t| t.attempts);
        if current.is_some_and(|t| t.next_allowed > now) {
            return None;
        }
        let attempts = attempts.saturating_add(1);
        let next_allowed = match self.delay_after(attempts, threshold) {
            Some(delay) => now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX),
            None => now,
        };
        Some(Throttle {
            attempts,
            next_allowed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_at_the_threshold_and_grow_to_the_cap() {
        let p = LockoutPolicy::default();
        assert_eq!(p.delay_after(0, 5), None);
        assert_eq!(p.delay_after(4, 5), None);
        assert_eq!(p.delay_after(5, 5), Some(Duration::from_secs(30)));
        assert_eq!(p.delay_after(6, 5), Some(Duration::from_secs(60)));
        assert_eq!(p.delay_after(7, 5), Some(Duration::from_secs(120)));
        assert_eq!(p.delay_after(10, 5), Some(Duration::from_secs(15 * 60)));
        assert_eq!(
            p.delay_after(u32::MAX, 5),
            Some(Duration::from_secs(15 * 60))
        );
        assert_eq!(p.shared_threshold(), 20);
    }

    #[test]
    fn reservations_count_and_then_wait() {
        let p = LockoutPolicy::default();
        let now = Utc::now();
        let mut state: Option<Throttle> = None;
        for n in 1..=5 {
            state = Some(
                p.reserve(5, state.as_ref(), now)
                    .expect("within the threshold"),
            );
            assert_eq!(state.map(|t| t.attempts), Some(n));
        }
        // The fifth attempt set a 30 s wait: a sixth now is refused, later it is allowed.
        assert_eq!(
            state.map(|t| t.next_allowed),
            Some(now + chrono::Duration::seconds(30))
        );
        assert_eq!(p.reserve(5, state.as_ref(), now), None);
        let later = now + chrono::Duration::seconds(30);
        let sixth = p.reserve(5, state.as_ref(), later).expect("after the wait");
        assert_eq!(
            sixth,
            Throttle {
                attempts: 6,
                next_allowed: later + chrono::Duration::seconds(60)
            }
        );
    }

    #[test]
    fn usual_clients_skip_the_shared_budget() {
        let user = Uuid::nil();
        let ip = ClientAddress(Some("203.0.113.7".parse().expect("ip")));
        assert_eq!(buckets(user, ip, true).shared, None);
        assert_eq!(
            buckets(user, ip, false).shared.as_deref(),
            Some("account/00000000-0000-0000-0000-000000000000")
        );
        assert_ne!(
            buckets(user, ip, false).client,
            buckets(user, ClientAddress(None), false).client
        );
    }
}
