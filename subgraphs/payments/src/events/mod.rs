//! The payments service's side of the bus: it consumes `orders.cancelled`
//! ([`cancellations`]) and `orders.payment_conflict` ([`crate::refunds`], where the refund
//! it triggers lives). The events it publishes go through the outbox, written by the
//! webhook and refunds.

pub mod cancellations;

use std::sync::Arc;

use anyhow::Context as _;
use kit::bus::Worker;

use crate::{AppState, refunds};

/// Subscribes every consumer of the service.
pub async fn start(state: &Arc<AppState>) -> anyhow::Result<Vec<Worker>> {
    let conflicts = refunds::spawn_conflict_consumer(state.clone())
        .await
        .context("subscribing to payment conflicts")?;
    let cancellations = cancellations::spawn_consumer(state.clone())
        .await
        .context("subscribing to order cancellations")?;
    Ok(vec![conflicts, cancellations])
}
