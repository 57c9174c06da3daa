//! The products service's side of the bus: it answers orders' price requests
//! ([`pricing`]) and consumes no events.

pub mod pricing;

use std::sync::Arc;

use kit::bus::{BusError, EventBus, Worker};

use crate::catalog::Catalog;

/// Starts every responder and consumer of the service.
pub async fn start(bus: &Arc<dyn EventBus>, catalog: Catalog) -> Result<Vec<Worker>, BusError> {
    Ok(vec![pricing::serve(bus, catalog).await?])
}
