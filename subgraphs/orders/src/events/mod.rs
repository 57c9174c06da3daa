//! The orders service's side of the bus: it consumes `payments.succeeded`
//! ([`payment_events`]) and answers payments' payable-order requests ([`payable`]). The
//! events it publishes go through the outbox, written by the features that change orders.

pub mod payable;
pub mod payment_events;

use std::sync::Arc;

use kit::{
    bus::{BusError, EventBus, Worker},
    outbox::OutboxRelay,
    parking::ParkingLot,
};
use sea_orm::DatabaseConnection;

use crate::metrics::Metrics;

/// What the consumers and responders work with.
pub struct EventContext {
    pub db: DatabaseConnection,
    pub relay: OutboxRelay,
    pub parking: ParkingLot,
    pub metrics: Metrics,
}

/// Subscribes every consumer and starts every responder of the service.
pub async fn start(bus: &Arc<dyn EventBus>, cx: EventContext) -> Result<Vec<Worker>, BusError> {
    let consumer = payment_events::start(&cx.parking, &cx.relay, cx.metrics).await?;
    let responder = payable::serve(bus.as_ref(), cx.db).await?;
    Ok(vec![consumer, responder])
}
