//! The Stripe provider: Checkout Sessions and refunds through async-stripe.
//!
//! Every request carries an idempotency key derived from the payment (see
//! [`crate::provider`]), so a request retried after a timeout or a crash returns what the
//! first one made instead of charging twice. The base URL is configurable, which is how
//! tests point the client at a local stand-in for the Stripe API.

use std::{collections::HashMap, time::Duration};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use stripe::{
    Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest as _,
};
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionLineItemsPriceData,
    CreateCheckoutSessionPaymentIntentData, ExpireCheckoutSession, ProductData,
};
use stripe_client_core::{RequestBuilder, StripeMethod};
use stripe_shared::CheckoutSessionMode;

use crate::{
    payment::PaymentProviderKind,
    provider::{
        CreatedRefund, CreatedSession, PaymentProvider, ProviderError, RefundRequest,
        SessionRequest,
    },
};

/// How long one call to Stripe may take before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

pub struct StripeProvider {
    client: Client,
}

impl StripeProvider {
    pub fn new(secret_key: &str, api_base: Option<&str>) -> Result<Self, ProviderError> {
        let mut builder = ClientBuilder::new(secret_key).timeout(REQUEST_TIMEOUT);
        if let Some(base) = api_base {
            builder = builder.url(base);
        }
        let client = builder
            .build()
            .map_err(|e| ProviderError::Rejected(format!("invalid Stripe client settings: {e}")))?;
        Ok(Self { client })
    }
}

fn ids_metadata(payment_id: uuid::Uuid, order_id: uuid::Uuid) -> HashMap<String, String> {
    HashMap::from([
        ("order_id".to_owned(), order_id.to_string()),
        ("payment_id".to_owned(), payment_id.to_string()),
    ])
}

fn strategy(key: &str) -> Result<RequestStrategy, ProviderError> {
    IdempotencyKey::new(key)
        .map(RequestStrategy::Idempotent)
        .map_err(|e| ProviderError::Rejected(format!("invalid idempotency key: {e}")))
}

fn classify(err: StripeError) -> ProviderError {
    match err {
        StripeError::Stripe(_, status) if status < 500 && status != 429 => {
            ProviderError::Rejected(err.to_string())
        }
        other => ProviderError::Unavailable(other.to_string()),
    }
}

#[async_trait]
impl PaymentProvider for StripeProvider {
    fn kind(&self) -> PaymentProviderKind {
        PaymentProviderKind::Stripe
    }

    async fn create_session(&self, req: &SessionRequest) -> Result<CreatedSession, ProviderError> {
        let currency: stripe_types::Currency = req
            .currency
            .code()
            .to_ascii_lowercase()
            .parse()
            .unwrap_or_else(|never| match never {});
        let line_items: Vec<CreateCheckoutSessionLineItems> = req
            .lines
            .iter()
            .map(|line| {
                let mut price = CreateCheckoutSessionLineItemsPriceData::new(currency.clone());
                price.unit_amount = Some(line.unit_price_minor);
                price.product_data = Some(ProductData {
                    description: None,
                    images: None,
                    metadata: Some(HashMap::from([(
                        "product_id".to_owned(),
                        line.product_id.to_string(),
                    )])),
                    name: line.name.clone(),
                    tax_code: None,
                    tax_details: None,
                    unit_label: None,
                });
                let mut item = CreateCheckoutSessionLineItems::new();
                item.price_data = Some(price);
                item.quantity = Some(u64::try_from(line.quantity).unwrap_or(0));
                item
            })
            .collect();
        let metadata = ids_metadata(req.payment_id, req.order_id);
        let mut intent = CreateCheckoutSessionPaymentIntentData::new();
        // The PaymentIntent carries the ids too, so refunds and disputes seen in Stripe's
        // dashboard can be traced back to the order.
        intent.metadata = Some(metadata.clone());
        let session = CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Payment)
            .line_items(line_items)
            .client_reference_id(req.order_id.to_string())
            .metadata(metadata)
            .payment_intent_data(intent)
            .success_url(req.success_url.clone())
            .cancel_url(req.cancel_url.clone())
            .customize()
            .request_strategy(strategy(&req.idempotency_key)?)
            .send(&self.client)
            .await
            .map_err(classify)?;
        let url = session.url.ok_or_else(|| {
            ProviderError::Unavailable("Stripe returned a session without a URL".into())
        })?;
        let expires_at =
            DateTime::<Utc>::from_timestamp(session.expires_at, 0).ok_or_else(|| {
                ProviderError::Unavailable("Stripe returned an invalid expiry".into())
            })?;
        Ok(CreatedSession {
            id: session.id.as_str().to_owned(),
            url,
            expires_at,
        })
    }

    async fn expire_session(&self, session_id: &str) -> Result<(), ProviderError> {
        ExpireCheckoutSession::new(session_id)
            .send(&self.client)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn refund(&self, req: &RefundRequest) -> Result<CreatedRefund, ProviderError> {
        #[derive(serde::Serialize)]
        struct CreateRefund<'a> {
            payment_intent: &'a str,
            amount: i64,
            metadata: HashMap<String, String>,
        }
        let form = CreateRefund {
            payment_intent: &req.payment_intent_id,
            amount: req.amount_minor,
            metadata: ids_metadata(req.payment_id, req.order_id),
        };
        // async-stripe's generated refund endpoint lives in a crate of its own; the request
        // is small enough to build with the client's own request machinery instead.
        let refund: stripe_shared::Refund = RequestBuilder::new(StripeMethod::Post, "/refunds")
            .form(&form)
            .customize()
            .request_strategy(strategy(&req.idempotency_key)?)
            .send(&self.client)
            .await
            .map_err(classify)?;
        Ok(CreatedRefund {
            id: refund.id.as_str().to_owned(),
        })
    }
}
