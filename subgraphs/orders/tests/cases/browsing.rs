//! Reading orders: ownership, filters, Relay pages, federation entities, bounded SQL, and
//! the exported schema.

use std::{path::Path, sync::Arc, time::Duration};

use async_graphql::Request;
use kit::{
    auth::{Auth, Principal, Role},
    bus::EventBus,
    outbox::OutboxRelay,
};
use orders::{
    graphql::{self, ApiState},
    metrics::Metrics,
    ordering::PriceClient,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{error_code, spawn_app};

#[tokio::test]
async fn customers_see_only_their_own_orders_and_admins_see_all() {
    let app = spawn_app().await;
    let (alice_id, alice) = app.customer();
    let (bob_id, bob) = app.customer();
    let p = app.catalog.add("P", 100, "EUR");
    let alices = app.place(&alice, &[(p, 1)]).await;
    let bobs = app.place(&bob, &[(p, 2)]).await;
    app.cancel(&bob, bobs).await;

    assert_eq!(
        app.order(&alice, alices).await["data"]["order"]["id"],
        alices.to_string()
    );
    let resp = app.order(&alice, bobs).await;
    assert_eq!(
        error_code(&resp),
        "NOT_FOUND",
        "not FORBIDDEN: ids cannot be probed"
    );
    assert_eq!(
        app.order(&app.admin(), bobs).await["data"]["order"]["status"],
        "CANCELLED"
    );
    assert_eq!(
        error_code(&app.order(&alice, Uuid::now_v7()).await),
        "NOT_FOUND"
    );
    let bad_id = app
        .client
        .post("{ order(id: \"nope\") { id } }", json!({}), Some(&alice))
        .await;
    assert_eq!(error_code(&bad_id), "BAD_USER_INPUT");
    let anonymous = app
        .client
        .post("{ orders { totalCount } }", json!({}), None)
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");

    let list = "query($status: OrderStatus, $customer: ID) { orders(status: $status, customerId: $customer) { totalCount edges { node { id userId status } } } }";
    let mine = app.client.post(list, json!({}), Some(&alice)).await;
    assert_eq!(mine["data"]["orders"]["totalCount"], 1, "{mine}");
    assert_eq!(
        mine["data"]["orders"]["edges"][0]["node"]["id"],
        alices.to_string()
    );
    let snooping = app
        .client
        .post(list, json!({ "customer": bob_id }), Some(&alice))
        .await;
    assert_eq!(error_code(&snooping), "FORBIDDEN");

    let admin = app.admin();
    let all = app.client.post(list, json!({}), Some(&admin)).await;
    assert_eq!(all["data"]["orders"]["totalCount"], 2);
    let cancelled = app
        .client
        .post(list, json!({ "status": "CANCELLED" }), Some(&admin))
        .await;
    assert_eq!(
        cancelled["data"]["orders"]["edges"][0]["node"]["id"],
        bobs.to_string()
    );
    assert_eq!(cancelled["data"]["orders"]["totalCount"], 1);
    let alices_only = app
        .client
        .post(list, json!({ "customer": alice_id }), Some(&admin))
        .await;
    assert_eq!(alices_only["data"]["orders"]["totalCount"], 1);
    let none = app
        .client
        .post(
            list,
            json!({ "customer": alice_id, "status": "PAID" }),
            Some(&admin),
        )
        .await;
    assert_eq!(none["data"]["orders"]["totalCount"], 0);

    // User.orders belongs to that user (or an admin).
    let user_orders = "query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { orders { totalCount } } } }";
    let reps = json!({ "reps": [{ "__typename": "User", "id": bob_id }] });
    assert_eq!(
        error_code(
            &app.client
                .post(user_orders, reps.clone(), Some(&alice))
                .await
        ),
        "FORBIDDEN"
    );
    let resp = app.client.post(user_orders, reps.clone(), Some(&bob)).await;
    assert_eq!(
        resp["data"]["_entities"][0]["orders"]["totalCount"], 1,
        "{resp}"
    );
    let resp = app.client.post(user_orders, reps, Some(&admin)).await;
    assert_eq!(
        resp["data"]["_entities"][0]["orders"]["totalCount"], 1,
        "{resp}"
    );
}

fn ids_of(resp: &Value, path: &str) -> Vec<String> {
    resp["data"][path]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn pages_forward_and_backward_newest_first() {
    let app = spawn_app().await;
    let (_, bearer) = app.customer();
    let p = app.catalog.add("P", 100, "EUR");
    let mut placed = Vec::new();
    for _ in 0..7 {
        placed.push(app.place(&bearer, &[(p, 1)]).await.to_string());
    }
    let newest_first: Vec<String> = placed.iter().rev().cloned().collect();
    let query = "query($first: Int, $after: String, $last: Int, $before: String) {
        orders(first: $first, after: $after, last: $last, before: $before) {
            edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";

    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let resp = app
            .client
            .post(query, json!({ "first": 3, "after": after }), Some(&bearer))
            .await;
        seen.extend(ids_of(&resp, "orders"));
        let info = &resp["data"]["orders"]["pageInfo"];
        assert_eq!(info["hasPreviousPage"], !after.is_null(), "{resp}");
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(seen, newest_first);
    let first_page = app
        .client
        .post(query, json!({ "first": 7 }), Some(&bearer))
        .await;
    assert_eq!(
        first_page["data"]["orders"]["pageInfo"]["hasNextPage"],
        false
    );
    let empty = app
        .client
        .post(query, json!({ "first": 0 }), Some(&bearer))
        .await;
    assert_eq!(empty["data"]["orders"]["edges"], json!([]));
    assert_eq!(empty["data"]["orders"]["pageInfo"]["hasNextPage"], true);

    let resp = app
        .client
        .post(query, json!({ "last": 3 }), Some(&bearer))
        .await;
    assert_eq!(ids_of(&resp, "orders"), newest_first[4..].to_vec());
    assert_eq!(resp["data"]["orders"]["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(resp["data"]["orders"]["pageInfo"]["hasNextPage"], false);
    let before = resp["data"]["orders"]["pageInfo"]["startCursor"].clone();
    let resp = app
        .client
        .post(query, json!({ "last": 3, "before": before }), Some(&bearer))
        .await;
    assert_eq!(ids_of(&resp, "orders"), newest_first[1..4].to_vec());
    assert_eq!(resp["data"]["orders"]["pageInfo"]["hasNextPage"], true);
    let before = resp["data"]["orders"]["pageInfo"]["startCursor"].clone();
    let resp = app
        .client
        .post(query, json!({ "last": 3, "before": before }), Some(&bearer))
        .await;
    assert_eq!(ids_of(&resp, "orders"), newest_first[..1].to_vec());
    assert_eq!(resp["data"]["orders"]["pageInfo"]["hasPreviousPage"], false);

    for (vars, field) in [
        (json!({ "first": 101 }), "first"),
        (json!({ "first": 1, "last": 1 }), "last"),
        (json!({ "after": "garbage!" }), "after"),
    ] {
        let resp = app.client.post(query, vars, Some(&bearer)).await;
        assert_eq!(error_code(&resp), "BAD_USER_INPUT");
        assert_eq!(resp["errors"][0]["extensions"]["field"], field);
    }
}

#[tokio::test]
async fn user_orders_resolve_with_a_bounded_number_of_statements() {
    let app = spawn_app().await;
    let (user, bearer) = app.customer();
    let products: Vec<Uuid> = (0..3)
        .map(|i| app.catalog.add(&format!("P{i}"), 100 + i, "EUR"))
        .collect();
    let lines: Vec<(Uuid, i32)> = products.iter().map(|p| (*p, 2)).collect();

    // A schema of its own on a connection of its own, so the count holds only this query's
    // statements and not the background relay's.
    let (db, statements) = kit::db::connect_url(&app.db_url, 2)
        .await
        .expect("connects");
    let bus: Arc<dyn EventBus> = app.bus.clone();
    let schema = graphql::schema(ApiState {
        db: db.clone(),
        relay: OutboxRelay::new(db.clone(), bus.clone()),
        prices: PriceClient::new(bus.clone(), Duration::from_secs(1)),
        metrics: Metrics::default(),
        parking: kit::parking::ParkingLot::new(db.clone(), bus),
    });
    let query = r#"query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User {
        orders(first: 100) { edges { node { id status total { amount } items { product { id } productName quantity lineTotal { amount } } } } }
    } } }"#;
    let caller = Auth::User(Principal {
        user_id: user,
        role: Role::Customer,
    });
    let mut counts = Vec::new();
    for batch in [2, 40] {
        for _ in 0..batch {
            app.place(&bearer, &lines).await;
        }
        let before = statements.get();
        let request = Request::new(query)
            .variables(async_graphql::Variables::from_json(
                json!({ "reps": [{ "__typename": "User", "id": user }] }),
            ))
            .data(caller.clone());
        let resp = schema.execute(request).await;
        assert!(resp.errors.is_empty(), "{:?}", resp.errors);
        counts.push(statements.get() - before);
        let data = resp.data.into_json().unwrap();
        let edges = data["_entities"][0]["orders"]["edges"].as_array().unwrap();
        assert!(
            edges
                .iter()
                .all(|e| e["node"]["items"].as_array().unwrap().len() == 3)
        );
        assert_eq!(
            edges[0]["node"]["items"][2]["product"]["id"],
            products[2].to_string()
        );
        if batch == 40 {
            assert_eq!(edges.len(), 42);
        }
    }
    // One statement for the page of orders, one for all their lines, however many orders.
    assert_eq!(counts, vec![2, 2]);

    // Order entities (as the router asks for them) are loaded in one statement too.
    let ids: Vec<Value> = {
        let resp = app
            .client
            .post(
                "{ orders(first: 20) { edges { node { id } } } }",
                json!({}),
                Some(&bearer),
            )
            .await;
        resp["data"]["orders"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| json!({ "__typename": "Order", "id": e["node"]["id"] }))
            .collect()
    };
    let before = statements.get();
    let request = Request::new("query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Order { id status } } }")
        .variables(async_graphql::Variables::from_json(json!({ "reps": ids })))
        .data(caller);
    let resp = schema.execute(request).await;
    assert!(resp.errors.is_empty(), "{:?}", resp.errors);
    assert_eq!(
        resp.data.into_json().unwrap()["_entities"]
            .as_array()
            .unwrap()
            .len(),
        20
    );
    assert_eq!(statements.get() - before, 1);
}

#[test]
fn the_exported_schema_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/orders.graphql");
    kit::testing::check_schema_file(&path, &graphql::sdl());
}

#[test]
fn the_command_line_has_help_a_version_and_refuses_unknown_flags() {
    kit::testing::check_command_line(kit::testing::CommandLine {
        binary: env!("CARGO_BIN_EXE_orders"),
        version: concat!("orders ", env!("CARGO_PKG_VERSION")),
        help_mentions: &["serve", "migrate", "print-schema"],
        bogus: &["serve", "--bogus"],
    });
}
