//! The price responder on NATS: what orders asks before it records an order.

mod support;

use std::time::Duration;

use bytes::Bytes;
use kit::{
    bus::request_json,
    contracts::{PriceBasketReply, PriceBasketRequest, PricedProduct, Reply, subjects},
};
use support::spawn_app;
use uuid::Uuid;

async fn ask(app: &support::TestApp, ids: Vec<Uuid>) -> PriceBasketReply {
    request_json(
        &*app.bus,
        subjects::RPC_PRODUCTS_PRICE_BASKET,
        &PriceBasketRequest { product_ids: ids },
        Duration::from_secs(5),
    )
    .await
    .expect("the products service answers")
}

fn uuid_of(product: &serde_json::Value) -> Uuid {
    Uuid::parse_str(product["id"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_basket_is_priced_in_one_statement() {
    let app = spawn_app().await;
    let tea = app.create_product("Tea", "4.20", "EUR").await;
    let pot = app.create_product("Pot", "3000", "JPY").await;
    let (tea, pot) = (uuid_of(&tea), uuid_of(&pot));

    let before = app.statements();
    let reply = ask(&app, vec![pot, tea, pot]).await;
    assert_eq!(app.statements() - before, 1);
    assert_eq!(
        reply,
        Reply::ok(vec![
            PricedProduct {
                id: pot,
                name: "Pot".into(),
                price_minor: 3000,
                currency: "JPY".into()
            },
            PricedProduct {
                id: tea,
                name: "Tea".into(),
                price_minor: 420,
                currency: "EUR".into()
            },
        ]),
        "in the order asked, each product once"
    );

    // Prices are read live: an edit shows in the next answer.
    let resp = app
        .as_admin(
            "mutation($id: ID!) { updateProduct(input: { id: $id, price: { amount: \"4.50\", currencyCode: \"EUR\" } }) { product { id } } }",
            serde_json::json!({ "id": tea.to_string() }),
        )
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    let Reply::Ok { value } = ask(&app, vec![tea]).await else {
        panic!("expected prices")
    };
    assert_eq!(value[0].price_minor, 450);
}

#[tokio::test]
async fn unknown_products_are_not_found_and_deleted_ones_a_conflict() {
    let app = spawn_app().await;
    let kept = uuid_of(&app.create_product("Kept", "1.00", "EUR").await);
    let gone = app.create_product("Gone", "2.00", "EUR").await;
    app.delete_product(gone["id"].as_str().unwrap()).await;
    let gone = uuid_of(&gone);
    let unknown = Uuid::now_v7();

    let Reply::Error { error } = ask(&app, vec![kept, gone]).await else {
        panic!("a deleted product cannot be priced")
    };
    assert_eq!(
        (error.code.as_str(), error.ids.as_slice()),
        ("CONFLICT", [gone].as_slice())
    );

    let Reply::Error { error } = ask(&app, vec![kept, unknown, gone]).await else {
        panic!("an unknown product cannot be priced")
    };
    assert_eq!(
        (error.code.as_str(), error.ids.as_slice()),
        ("NOT_FOUND", [unknown].as_slice()),
        "missing products are reported first"
    );
}

#[tokio::test]
async fn a_malformed_request_gets_a_bad_request_reply() {
    let app = spawn_app().await;
    let raw = app
        .bus
        .request(
            subjects::RPC_PRODUCTS_PRICE_BASKET,
            Bytes::from_static(b"{\"ids\": 1}"),
            Duration::from_secs(5),
        )
        .await
        .expect("the products service answers");
    let reply: PriceBasketReply = serde_json::from_slice(&raw).unwrap();
    let Reply::Error { error } = reply else {
        panic!("expected an error reply")
    };
    assert_eq!(error.code, "BAD_USER_INPUT");

    let too_many = (0..=products::events::pricing::MAX_BASKET_PRODUCTS)
        .map(|_| Uuid::now_v7())
        .collect();
    let before = app.statements();
    let Reply::Error { error } = ask(&app, too_many).await else {
        panic!("expected an error reply")
    };
    assert_eq!(error.code, "BAD_USER_INPUT");
    assert_eq!(
        app.statements(),
        before,
        "an oversized basket is refused before any query"
    );
}
