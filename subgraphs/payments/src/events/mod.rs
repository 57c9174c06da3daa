//! The payments service's side of the bus.

pub mod cancellations;
