//! Liveness, readiness and metrics: the platform's serving shell ([`platform::health`],
//! re-exported here) and the readiness checks of what only services have, a relational
//! store ([`DatabaseCheck`]) and the event bus ([`BusCheck`]).

use std::sync::Arc;

use async_trait::async_trait;
pub use platform::health::*;

/// The relational store answers a trivial query.
pub struct DatabaseCheck(pub sea_orm::DatabaseConnection);

#[async_trait]
impl ReadinessCheck for DatabaseCheck {
    fn name(&self) -> &str {
        "database"
    }
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|_| "unreachable".to_owned())
    }
}

/// The event bus is connected.
pub struct BusCheck(pub Arc<dyn crate::bus::EventBus>);

#[async_trait]
impl ReadinessCheck for BusCheck {
    fn name(&self) -> &str {
        "bus"
    }
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|_| "unreachable".to_owned())
    }
}
