//! The products service's side of the bus.

pub mod pricing;
