//! Current prices and availability, asked of the products service over the bus.
//!
//! The question has a deadline: when products is down or silent the customer gets
//! `SERVICE_UNAVAILABLE` promptly instead of a hanging request, and no order is written.
//! A reply that breaks the contract (a missing price, a negative one, an unknown currency)
//! is an internal error: it is a bug to fix, not something the customer can change.

use std::{collections::HashMap, sync::Arc, time::Duration};

use kit::{
    ApiError, ErrorCode,
    bus::{BusError, EventBus, request_json},
    contracts::{PriceBasketReply, PriceBasketRequest, PricedProduct, Reply, subjects},
};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error("these products do not exist: {}", list(.0))]
    Missing(Vec<Uuid>),
    #[error("these products are no longer available: {}", list(.0))]
    Unavailable(Vec<Uuid>),
    #[error("the products service refused the request: {code}: {message}")]
    Refused { code: String, message: String },
    #[error("the products service answered without a valid price for {0}")]
    BadReply(Uuid),
}

fn list(ids: &[Uuid]) -> String {
    ids.iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<PricingError> for ApiError {
    fn from(err: PricingError) -> Self {
        match err {
            PricingError::Bus(e) => e.into(),
            // The customer chose these products, so it is their input to fix; the message
            // names the ids so a client can point at the lines.
            e @ (PricingError::Missing(_) | PricingError::Unavailable(_)) => {
                ApiError::bad_input("items", e.to_string())
            }
            e @ (PricingError::Refused { .. } | PricingError::BadReply(_)) => ApiError::internal(e),
        }
    }
}

/// Asks products for prices, with a deadline.
#[derive(Clone)]
pub struct PriceClient {
    bus: Arc<dyn EventBus>,
    timeout: Duration,
}

impl PriceClient {
    pub fn new(bus: Arc<dyn EventBus>, timeout: Duration) -> Self {
        Self { bus, timeout }
    }

    /// The current price of every product in `ids`, or why they cannot be ordered.
    pub async fn prices(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, PricedProduct>, PricingError> {
        let request = PriceBasketRequest {
            product_ids: ids.to_vec(),
        };
        let reply: PriceBasketReply = request_json(
            self.bus.as_ref(),
            subjects::RPC_PRODUCTS_PRICE_BASKET,
            &request,
            self.timeout,
        )
        .await?;
        let priced = match reply {
            Reply::Ok { value } => value,
            Reply::Error { error } if error.code == ErrorCode::NotFound.as_str() => {
                return Err(PricingError::Missing(error.ids));
            }
            Reply::Error { error } if error.code == ErrorCode::Conflict.as_str() => {
                return Err(PricingError::Unavailable(error.ids));
            }
            Reply::Error { error } => {
                return Err(PricingError::Refused {
                    code: error.code,
                    message: error.message,
                });
            }
        };
        let mut by_id: HashMap<Uuid, PricedProduct> =
            priced.into_iter().map(|p| (p.id, p)).collect();
        by_id.retain(|id, _| ids.contains(id));
        for id in ids {
            match by_id.get(id) {
                Some(p) if p.price_minor >= 0 && !p.name.is_empty() => {}
                _ => return Err(PricingError::BadReply(*id)),
            }
        }
        Ok(by_id)
    }
}
