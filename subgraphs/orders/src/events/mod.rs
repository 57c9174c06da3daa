//! The orders service's side of the bus.

pub mod payable;
pub mod payment_events;
