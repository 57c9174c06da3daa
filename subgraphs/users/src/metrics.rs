//! Counters operators alert on: a rise in failed logins is password guessing, a rise in
//! reused refresh tokens is token theft (or a client that does not store the rotated
//! token). Exposed on `/metrics` as `users_logins_total{outcome}`,
//! `users_session_refreshes_total{outcome}` and `users_registrations_total`.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family},
    registry::Registry,
};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

#[derive(Debug, Clone, Default)]
pub struct AuthMetrics {
    logins: Family<Outcome, Counter>,
    refreshes: Family<Outcome, Counter>,
    registrations: Counter,
}

impl AuthMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.register(
            "users_logins",
            "Login attempts by outcome",
            metrics.logins.clone(),
        );
        registry.register(
            "users_session_refreshes",
            "Refresh-token exchanges by outcome",
            metrics.refreshes.clone(),
        );
        registry.register(
            "users_registrations",
            "Accounts registered",
            metrics.registrations.clone(),
        );
        metrics
    }

    /// `outcome` is `success` or `failure` (every failure looks alike to clients; a
    /// breakdown would live in the logs).
    pub fn login(&self, success: bool) {
        let outcome = if success { "success" } else { "failure" };
        self.logins.get_or_create(&Outcome { outcome }).inc();
    }

    pub fn refresh(&self, outcome: &'static str) {
        self.refreshes.get_or_create(&Outcome { outcome }).inc();
    }

    pub fn registered(&self) {
        self.registrations.inc();
    }
}
