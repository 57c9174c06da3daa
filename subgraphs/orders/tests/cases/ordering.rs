//! Placing orders: pricing, snapshots, totals and every way the request can be refused.

use serde_json::json;
use uuid::Uuid;

use crate::support::{error_code, spawn_app};

const NOTHING_WRITTEN: &str = "SELECT (SELECT COUNT(*) FROM orders) + (SELECT COUNT(*) FROM order_items) + (SELECT COUNT(*) FROM outbox)";

#[tokio::test]
async fn places_an_order_with_a_price_snapshot_that_later_price_changes_do_not_touch() {
    let app = spawn_app().await;
    let (user, bearer) = app.customer();
    let mug = app.catalog.add("Mug", 1250, "EUR");
    let tea = app.catalog.add("Tea", 399, "EUR");

    // The same product twice is merged into one line, in the place it was first listed.
    let resp = app
        .create_order(&bearer, &[(mug, 2), (tea, 3), (mug, 1)])
        .await;
    let order = &resp["data"]["createOrder"]["order"];
    assert_eq!(order["status"], "PENDING", "{resp}");
    assert_eq!(order["userId"], user.to_string());
    assert_eq!(order["customer"]["id"], user.to_string());
    assert_eq!(order["itemCount"], 6);
    assert_eq!(
        order["total"],
        json!({ "amount": "49.47", "currencyCode": "EUR" })
    );
    assert_eq!(order["items"][0]["product"]["id"], mug.to_string());
    assert_eq!(order["items"][0]["quantity"], 3);
    assert_eq!(order["items"][0]["lineTotal"]["amount"], "37.50");
    assert_eq!(order["items"][1]["productName"], "Tea");
    assert_eq!(order["items"].as_array().unwrap().len(), 2);
    let id: Uuid = order["id"].as_str().unwrap().parse().unwrap();

    app.catalog.set_price(mug, 9999);
    app.catalog.set_name(mug, "Renamed mug");
    let again = app.order(&bearer, id).await;
    let order = &again["data"]["order"];
    assert_eq!(order["items"][0]["productName"], "Mug");
    assert_eq!(
        order["items"][0]["unitPrice"],
        json!({ "amount": "12.50", "currencyCode": "EUR" })
    );
    assert_eq!(order["total"]["amount"], "49.47");

    // A new order sees the new price.
    let resp = app.create_order(&bearer, &[(mug, 1)]).await;
    assert_eq!(
        resp["data"]["createOrder"]["order"]["total"]["amount"],
        "99.99"
    );
    assert_eq!(
        resp["data"]["createOrder"]["order"]["items"][0]["productName"],
        "Renamed mug"
    );

    // orders.created carries the lines and total payments needs.
    app.outbox_drained().await;
    let created = app.events("orders.created").await;
    assert_eq!(created.len(), 2);
    let first = created
        .iter()
        .find(|e| e["data"]["order_id"] == id.to_string())
        .expect("event of the first order");
    assert_eq!(first["data"]["total_minor"], 4947);
    assert_eq!(first["data"]["currency"], "EUR");
    assert_eq!(first["data"]["user_id"], user.to_string());
    assert_eq!(first["data"]["lines"][0]["unit_price_minor"], 1250);
    assert_eq!(first["data"]["lines"][0]["quantity"], 3);
}

#[tokio::test]
async fn totals_many_lines_in_integer_minor_units() {
    let app = spawn_app().await;
    let (_, bearer) = app.customer();
    // 100 lines (the maximum) with prices that would drift as binary floats.
    let items: Vec<(Uuid, i32)> = (0..100)
        .map(|i| {
            (
                app.catalog.add(&format!("Item {i}"), 10 + i, "EUR"),
                (i % 7 + 1) as i32,
            )
        })
        .collect();
    let expected: i64 = (0..100i64).map(|i| (10 + i) * (i % 7 + 1)).sum();
    let resp = app.create_order(&bearer, &items).await;
    let order = &resp["data"]["createOrder"]["order"];
    assert_eq!(order["items"].as_array().map(Vec::len), Some(100), "{resp}");
    let amount = order["total"]["amount"].as_str().unwrap();
    assert_eq!(amount, format!("{}.{:02}", expected / 100, expected % 100));
    let stored = app
        .count("SELECT SUM(line_total_minor)::BIGINT FROM order_items")
        .await;
    assert_eq!(stored, expected);

    // JPY has no minor unit: amounts are whole yen.
    let yen = app.catalog.add("Teapot", 4500, "JPY");
    let resp = app.create_order(&bearer, &[(yen, 3)]).await;
    assert_eq!(
        resp["data"]["createOrder"]["order"]["total"],
        json!({ "amount": "13500", "currencyCode": "JPY" })
    );
}

#[tokio::test]
async fn missing_and_unavailable_products_are_refused_by_name_and_nothing_is_written() {
    let app = spawn_app().await;
    let (_, bearer) = app.customer();
    let known = app.catalog.add("Known", 100, "EUR");
    let ghost = Uuid::now_v7();
    let resp = app.create_order(&bearer, &[(known, 1), (ghost, 1)]).await;
    assert_eq!(error_code(&resp), "BAD_USER_INPUT");
    assert_eq!(resp["errors"][0]["extensions"]["field"], "items");
    let message = resp["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(&ghost.to_string()) && !message.contains(&known.to_string()),
        "{message}"
    );

    let gone = app.catalog.add("Discontinued", 100, "EUR");
    app.catalog.make_unavailable(gone);
    let resp = app.create_order(&bearer, &[(known, 1), (gone, 2)]).await;
    assert_eq!(error_code(&resp), "BAD_USER_INPUT");
    let message = resp["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("no longer available") && message.contains(&gone.to_string()),
        "{message}"
    );

    let dollars = app.catalog.add("Import", 100, "USD");
    let resp = app.create_order(&bearer, &[(known, 1), (dollars, 1)]).await;
    assert_eq!(error_code(&resp), "BAD_USER_INPUT");
    assert!(
        resp["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("one currency")
    );

    assert_eq!(app.count(NOTHING_WRITTEN).await, 0);
}

#[tokio::test]
async fn invalid_baskets_are_refused_before_anything_is_asked_or_written() {
    let app = spawn_app().await;
    let (_, bearer) = app.customer();
    let p = app.catalog.add("P", 100, "EUR");
    let cases = [
        (json!([]), "items"),
        (
            json!([{ "productId": p, "quantity": 0 }]),
            "items.0.quantity",
        ),
        (
            json!([{ "productId": p, "quantity": -3 }]),
            "items.0.quantity",
        ),
        (
            json!([{ "productId": p, "quantity": 1 }, { "productId": p, "quantity": 1001 }]),
            "items.1.quantity",
        ),
        (
            json!([{ "productId": p, "quantity": 600 }, { "productId": p, "quantity": 401 }]),
            "items.1.quantity",
        ),
        (
            json!([{ "productId": "not-a-uuid", "quantity": 1 }]),
            "items.0.productId",
        ),
        (
            json!(
                (0..101)
                    .map(|_| json!({ "productId": Uuid::now_v7(), "quantity": 1 }))
                    .collect::<Vec<_>>()
            ),
            "items",
        ),
    ];
    for (items, field) in cases {
        let resp = app.create_order_raw(&bearer, items.clone()).await;
        assert_eq!(error_code(&resp), "BAD_USER_INPUT", "{items}");
        assert_eq!(resp["errors"][0]["extensions"]["field"], field, "{items}");
    }
    let anonymous = app
        .client
        .post(
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }",
            json!({ "i": { "items": [{ "productId": p, "quantity": 1 }] } }),
            None,
        )
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    assert_eq!(app.count(NOTHING_WRITTEN).await, 0);
}

#[tokio::test]
async fn products_not_answering_is_service_unavailable_and_writes_nothing() {
    let mut app = spawn_app().await;
    let (_, bearer) = app.customer();
    let p = app.catalog.add("P", 100, "EUR");

    app.catalog.set_silent(true);
    let resp = app.create_order(&bearer, &[(p, 1)]).await;
    assert_eq!(error_code(&resp), "SERVICE_UNAVAILABLE", "{resp}");
    let message = resp["errors"][0]["message"].as_str().unwrap();
    assert!(
        !message.contains("rpc.") && !message.contains("nats"),
        "no internals leak: {message}"
    );

    // No responder at all (products down).
    app.catalog.set_silent(false);
    app.stop_responder();
    let resp = app.create_order(&bearer, &[(p, 1)]).await;
    assert_eq!(error_code(&resp), "SERVICE_UNAVAILABLE", "{resp}");
    assert_eq!(app.count(NOTHING_WRITTEN).await, 0);
    app.stop().await;
}
