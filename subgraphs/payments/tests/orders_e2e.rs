//! With the real orders service: a signed webhook makes the order PAID, and a payment for
//! an order cancelled meanwhile is refunded automatically.

mod support;

use std::sync::Arc;

use kit::{
    bus::{EventBus, Worker, json_handler},
    config::Env,
    contracts::{PriceBasketReply, PriceBasketRequest, PricedProduct, subjects},
    testing::{GraphqlClient, TestBus, TestDatabase},
};
use serde_json::{Value, json};
use support::*;
use uuid::Uuid;

/// A stand-in for the products service's price list: every product costs 19.99 EUR.
async fn serve_prices(bus: &dyn EventBus) -> Worker {
    bus.serve(
        subjects::RPC_PRODUCTS_PRICE_BASKET,
        json_handler(
            |req: PriceBasketRequest| async move {
                PriceBasketReply::ok(
                    req.product_ids
                        .into_iter()
                        .map(|id| PricedProduct {
                            id,
                            name: "Tea pot".into(),
                            price_minor: 1999,
                            currency: "EUR".into(),
                        })
                        .collect(),
                )
            },
            PriceBasketReply::bad_request,
        ),
    )
    .await
    .expect("serve prices")
}

struct World {
    payments: TestApp,
    orders: orders::RunningService,
    orders_gql: GraphqlClient,
    _prices: Worker,
    _orders_db: TestDatabase,
    _bus: TestBus,
}

async fn world() -> World {
    let test_bus = TestBus::nats().await;
    let bus: Arc<dyn EventBus> = test_bus.bus.clone();
    let payments = spawn_app_with(Options {
        orders_double: false,
        bus: Some(bus.clone()),
        ..Options::default()
    })
    .await;
    let orders_db = TestDatabase::postgres().await;
    let config = orders::Config::from_env(&Env::from_pairs([
        ("ORDERS_ADDR", "127.0.0.1:0".to_owned()),
        ("ORDERS_DATABASE_URL", orders_db.url.clone()),
    ]))
    .expect("orders config");
    let orders = orders::start(
        config,
        orders::Deps {
            bus: bus.clone(),
            verifier: payments.keys.verifier.clone(),
        },
    )
    .await
    .expect("orders starts");
    let orders_gql = GraphqlClient::new(format!("http://{}/graphql", orders.addr));
    let prices = serve_prices(bus.as_ref()).await;
    World {
        payments,
        orders,
        orders_gql,
        _prices: prices,
        _orders_db: orders_db,
        _bus: test_bus,
    }
}

impl World {
    async fn place_order(&self, bearer: &str) -> Uuid {
        let create = r#"mutation($items: [OrderItemInput!]!) { createOrder(input: { items: $items }) { order { id status } } }"#;
        let resp = self
            .orders_gql
            .post(
                create,
                json!({ "items": [{ "productId": Uuid::now_v7().to_string(), "quantity": 2 }] }),
                Some(bearer),
            )
            .await;
        let id = resp["data"]["createOrder"]["order"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("createOrder: {resp}"));
        id.parse().unwrap()
    }

    async fn order_status(&self, order_id: Uuid, bearer: &str) -> Value {
        let resp = self
            .orders_gql
            .post(
                r#"query($id: ID!) { order(id: $id) { status } }"#,
                json!({ "id": order_id.to_string() }),
                Some(bearer),
            )
            .await;
        resp["data"]["order"]["status"].clone()
    }

    async fn checkout(&self, order_id: Uuid, bearer: &str) -> (Uuid, String) {
        let resp = self.payments.start_checkout(order_id, Some(bearer)).await;
        let payment = &resp["data"]["startCheckout"]["payment"];
        let id = payment["id"]
            .as_str()
            .unwrap_or_else(|| panic!("startCheckout: {resp}"));
        (
            id.parse().unwrap(),
            payment["checkoutSessionId"].as_str().unwrap().to_owned(),
        )
    }
}

#[tokio::test]
async fn a_valid_webhook_makes_the_order_paid_through_the_orders_service() {
    let w = world().await;
    let user = Uuid::now_v7();
    let bearer = w.payments.customer(user);
    let order_id = w.place_order(&bearer).await;
    assert_eq!(w.order_status(order_id, &bearer).await, "PENDING");

    let (payment_id, session_id) = w.checkout(order_id, &bearer).await;
    let sent = w.payments.stripe.requests_to("/v1/checkout/sessions");
    assert_eq!(
        sent[0].field("line_items[0][price_data][unit_amount]"),
        Some("1999"),
        "the price comes from orders"
    );
    assert_eq!(sent[0].field("line_items[0][quantity]"), Some("2"));

    let event = session_event(
        "checkout.session.completed",
        &session_id,
        order_id,
        payment_id,
        3998,
        "eur",
    );
    let (status, body) = w.payments.deliver(&event).await;
    assert_eq!(status, 200, "{body}");

    eventually("the order is PAID", || async {
        w.order_status(order_id, &bearer).await == "PAID"
    })
    .await;
    assert_eq!(w.payments.payment_status(payment_id).await, "SUCCEEDED");
    let again = w.payments.start_checkout(order_id, Some(&bearer)).await;
    assert_eq!(
        kit::testing::first_error_code(&again),
        Some("CONFLICT"),
        "a paid order cannot be checked out again"
    );
    w.orders.stop().await;
}

#[tokio::test]
async fn a_payment_for_an_order_cancelled_meanwhile_is_refunded() {
    let w = world().await;
    let user = Uuid::now_v7();
    let bearer = w.payments.customer(user);
    let order_id = w.place_order(&bearer).await;
    let (payment_id, session_id) = w.checkout(order_id, &bearer).await;

    let cancel =
        r#"mutation($id: ID!) { cancelOrder(input: { orderId: $id }) { order { status } } }"#;
    let resp = w
        .orders_gql
        .post(cancel, json!({ "id": order_id.to_string() }), Some(&bearer))
        .await;
    assert_eq!(
        resp["data"]["cancelOrder"]["order"]["status"], "CANCELLED",
        "{resp}"
    );

    let event = session_event(
        "checkout.session.completed",
        &session_id,
        order_id,
        payment_id,
        3998,
        "eur",
    );
    assert_eq!(w.payments.deliver(&event).await.0, 200);

    eventually("the payment is refunded", || async {
        w.payments.payment_status(payment_id).await == "REFUNDED"
    })
    .await;
    assert_eq!(w.order_status(order_id, &bearer).await, "CANCELLED");
    let refunds = w.payments.stripe.requests_to("/v1/refunds");
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].field("amount"), Some("3998"));
    w.orders.stop().await;
}
