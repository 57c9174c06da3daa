//! Answers orders' price requests on the bus (`rpc.products.price_basket`).
//!
//! Given a basket of product ids, the reply carries each product's current name and price,
//! or names the ids that prevent the order: unknown ones (`NOT_FOUND`, checked first) or
//! deleted ones (`CONFLICT`). The whole basket is read with one statement. Duplicate ids are
//! answered once, in the order of their first appearance.

use std::{collections::HashSet, sync::Arc};

use kit::{
    ErrorCode,
    bus::{BusError, EventBus, Worker, json_handler},
    contracts::{PriceBasketReply, PriceBasketRequest, PricedProduct, Reply, subjects},
};
use uuid::Uuid;

use crate::catalog::{Catalog, CatalogError};

/// The largest basket priced in one request; it bounds the statement's parameter list.
pub const MAX_BASKET_PRODUCTS: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    #[error("the basket has more than {MAX_BASKET_PRODUCTS} products")]
    TooLarge,
    #[error("unknown products")]
    Missing(Vec<Uuid>),
    #[error("products that are no longer available")]
    Unavailable(Vec<Uuid>),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

impl From<PricingError> for PriceBasketReply {
    fn from(err: PricingError) -> Self {
        match err {
            PricingError::TooLarge => {
                Reply::error(ErrorCode::BadUserInput, err.to_string(), vec![])
            }
            PricingError::Missing(ids) => {
                Reply::error(ErrorCode::NotFound, "some products do not exist", ids)
            }
            PricingError::Unavailable(ids) => Reply::error(
                ErrorCode::Conflict,
                "some products are no longer available",
                ids,
            ),
            PricingError::Catalog(err) => {
                tracing::error!(error = %err, "pricing a basket failed");
                Reply::error(ErrorCode::InternalServerError, "internal error", vec![])
            }
        }
    }
}

/// Current prices of every product in the basket, or why the basket cannot be priced.
pub async fn price_basket(
    catalog: &Catalog,
    product_ids: &[Uuid],
) -> Result<Vec<PricedProduct>, PricingError> {
    let mut seen = HashSet::with_capacity(product_ids.len());
    let ids: Vec<Uuid> = product_ids
        .iter()
        .copied()
        .filter(|id| seen.insert(*id))
        .collect();
    if ids.len() > MAX_BASKET_PRODUCTS {
        return Err(PricingError::TooLarge);
    }
    let found = catalog.get_many(&ids).await?;
    let missing: Vec<Uuid> = ids
        .iter()
        .copied()
        .filter(|id| !found.contains_key(id))
        .collect();
    if !missing.is_empty() {
        return Err(PricingError::Missing(missing));
    }
    let unavailable: Vec<Uuid> = ids
        .iter()
        .copied()
        .filter(|id| found.get(id).is_some_and(|p| !p.is_available()))
        .collect();
    if !unavailable.is_empty() {
        return Err(PricingError::Unavailable(unavailable));
    }
    Ok(ids
        .iter()
        .filter_map(|id| found.get(id))
        .map(|p| PricedProduct {
            id: p.id,
            name: p.name.clone(),
            price_minor: p.price.minor_units(),
            currency: p.price.currency().code().to_owned(),
        })
        .collect())
}

/// Starts answering price requests; the responder stops when the worker is dropped.
pub async fn serve(bus: &Arc<dyn EventBus>, catalog: Catalog) -> Result<Worker, BusError> {
    let handler = json_handler(
        move |req: PriceBasketRequest| {
            let catalog = catalog.clone();
            async move {
                match price_basket(&catalog, &req.product_ids).await {
                    Ok(priced) => Reply::ok(priced),
                    Err(err) => err.into(),
                }
            }
        },
        PriceBasketReply::bad_request,
    );
    bus.serve(subjects::RPC_PRODUCTS_PRICE_BASKET, handler)
        .await
}
