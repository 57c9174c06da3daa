//! The catalog over HTTP: queries, admin mutations, error codes, soft deletes, federation
//! entities and the exported schema.

mod support;

use kit::testing::{check_schema_file, first_error_code};
use serde_json::{Value, json};
use support::{error_field, spawn_app};
use uuid::Uuid;

const CREATE: &str = "mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id name description price { amount currencyCode } available } } }";
const UPDATE: &str = "mutation($input: UpdateProductInput!) { updateProduct(input: $input) { product { id name description price { amount currencyCode } available updatedAt } } }";
const DELETE: &str = "mutation($input: DeleteProductInput!) { deleteProduct(input: $input) { product { id available updatedAt } } }";
const RESTORE: &str = "mutation($input: RestoreProductInput!) { restoreProduct(input: $input) { product { id available } } }";

fn price(amount: &str, currency: &str) -> Value {
    json!({ "amount": amount, "currencyCode": currency })
}

#[tokio::test]
async fn admin_creates_reads_and_updates_a_product() {
    let app = spawn_app().await;
    let resp = app
        .as_admin(CREATE, json!({ "input": { "name": "  Green Tea  ", "description": "Loose leaf", "price": price("4.5", "eur") } }))
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    let created = &resp["data"]["createProduct"]["product"];
    assert_eq!(created["name"], "Green Tea", "the name is trimmed");
    assert_eq!(
        created["price"],
        price("4.50", "EUR"),
        "amounts are shown with the currency's decimals"
    );
    assert_eq!(created["available"], true);
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(Uuid::parse_str(&id).expect("a UUID").get_version_num(), 7);

    let read = app.product(&id).await;
    assert_eq!(read["name"], "Green Tea");
    assert_eq!(read["description"], "Loose leaf");
    assert_eq!(read["createdAt"], read["updatedAt"]);

    let resp = app
        .as_admin(
            UPDATE,
            json!({ "input": { "id": id, "name": "Matcha", "price": price("1500", "JPY") } }),
        )
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    let updated = &resp["data"]["updateProduct"]["product"];
    assert_eq!(updated["name"], "Matcha");
    assert_eq!(
        updated["description"], "Loose leaf",
        "fields left out stay as they are"
    );
    assert_eq!(updated["price"], price("1500", "JPY"));
    let read = app.product(&id).await;
    assert_ne!(read["updatedAt"], read["createdAt"]);
    assert_eq!(app.row_count().await, 1);
}

#[tokio::test]
async fn a_missing_product_is_not_found_and_a_malformed_id_is_bad_input() {
    let app = spawn_app().await;
    let query = "query($id: ID!) { product(id: $id) { id } }";
    let resp = app
        .anonymous(query, json!({ "id": Uuid::now_v7().to_string() }))
        .await;
    assert_eq!(first_error_code(&resp), Some("NOT_FOUND"), "{resp}");
    assert!(resp["data"]["product"].is_null());

    let resp = app.anonymous(query, json!({ "id": "42" })).await;
    assert_eq!(first_error_code(&resp), Some("BAD_USER_INPUT"), "{resp}");
    assert_eq!(error_field(&resp), Some("id"));
}

#[tokio::test]
async fn invalid_product_input_is_refused_with_its_field_and_writes_nothing() {
    let app = spawn_app().await;
    app.create_product("Existing", "1.00", "EUR").await;
    let long_name = "n".repeat(201);
    let long_description = "d".repeat(5001);
    let cases = [
        (
            json!({ "name": "   ", "price": price("1", "EUR") }),
            "input.name",
        ),
        (
            json!({ "name": long_name, "price": price("1", "EUR") }),
            "input.name",
        ),
        (
            json!({ "name": "Ok", "description": long_description, "price": price("1", "EUR") }),
            "input.description",
        ),
        (
            json!({ "name": "Ok", "price": price("-1.00", "EUR") }),
            "input.price.amount",
        ),
        (
            json!({ "name": "Ok", "price": price("1.999", "EUR") }),
            "input.price.amount",
        ),
        (
            json!({ "name": "Ok", "price": price("1.5", "JPY") }),
            "input.price.amount",
        ),
        (
            json!({ "name": "Ok", "price": price("1,00", "EUR") }),
            "input.price.amount",
        ),
        (
            json!({ "name": "Ok", "price": price("92233720368547758.08", "EUR") }),
            "input.price.amount",
        ),
        (
            json!({ "name": "Ok", "price": price("1.00", "EUX") }),
            "input.price.currencyCode",
        ),
    ];
    for (input, field) in cases {
        let resp = app.as_admin(CREATE, json!({ "input": input })).await;
        assert_eq!(
            first_error_code(&resp),
            Some("BAD_USER_INPUT"),
            "{input}: {resp}"
        );
        assert_eq!(error_field(&resp), Some(field), "{input}: {resp}");
    }
    assert_eq!(app.row_count().await, 1, "no invalid product was written");
}

#[tokio::test]
async fn invalid_updates_are_refused_and_leave_the_product_unchanged() {
    let app = spawn_app().await;
    let product = app.create_product("Kettle", "30.00", "EUR").await;
    let id = product["id"].as_str().unwrap();
    let before = app.product(id).await;
    let cases = [
        (json!({ "id": "not-a-uuid", "name": "X" }), "input.id"),
        (json!({ "id": id, "name": "" }), "input.name"),
        (
            json!({ "id": id, "name": "Fine", "price": price("0.001", "EUR") }),
            "input.price.amount",
        ),
        (
            json!({ "id": id, "price": price("10", "ABC") }),
            "input.price.currencyCode",
        ),
    ];
    for (input, field) in cases {
        let resp = app.as_admin(UPDATE, json!({ "input": input })).await;
        assert_eq!(
            first_error_code(&resp),
            Some("BAD_USER_INPUT"),
            "{input}: {resp}"
        );
        assert_eq!(error_field(&resp), Some(field), "{input}: {resp}");
    }
    assert_eq!(app.product(id).await, before);
}

#[tokio::test]
async fn mutations_need_an_admin() {
    let app = spawn_app().await;
    let product = app.create_product("Teapot", "25.00", "EUR").await;
    let id = product["id"].as_str().unwrap();
    let before = app.product(id).await;

    let create = json!({ "input": { "name": "Sneaky", "price": price("1", "EUR") } });
    let resp = app.anonymous(CREATE, create.clone()).await;
    assert_eq!(first_error_code(&resp), Some("UNAUTHENTICATED"), "{resp}");
    let resp = app
        .client
        .post(CREATE, create.clone(), Some("Bearer not.a.token"))
        .await;
    assert_eq!(first_error_code(&resp), Some("UNAUTHENTICATED"), "{resp}");
    let resp = app.as_customer(CREATE, create.clone()).await;
    assert_eq!(first_error_code(&resp), Some("FORBIDDEN"), "{resp}");

    // Authorisation is checked before the input: even a malformed id is FORBIDDEN.
    for (mutation, input) in [
        (UPDATE, json!({ "id": id, "name": "Hacked" })),
        (DELETE, json!({ "id": id })),
        (RESTORE, json!({ "id": id })),
        (DELETE, json!({ "id": "junk" })),
    ] {
        let resp = app.as_customer(mutation, json!({ "input": input })).await;
        assert_eq!(first_error_code(&resp), Some("FORBIDDEN"), "{resp}");
        let resp = app.anonymous(mutation, json!({ "input": input })).await;
        assert_eq!(first_error_code(&resp), Some("UNAUTHENTICATED"), "{resp}");
    }
    assert_eq!(app.row_count().await, 1);
    assert_eq!(app.product(id).await, before, "nothing changed");
}

#[tokio::test]
async fn mutations_on_a_missing_product_are_not_found() {
    let app = spawn_app().await;
    app.create_product("Cup", "3.00", "EUR").await;
    let missing = Uuid::now_v7().to_string();
    for (mutation, input) in [
        (UPDATE, json!({ "id": missing, "name": "Ghost" })),
        (UPDATE, json!({ "id": missing })),
        (DELETE, json!({ "id": missing })),
        (RESTORE, json!({ "id": missing })),
    ] {
        let resp = app.as_admin(mutation, json!({ "input": input })).await;
        assert_eq!(first_error_code(&resp), Some("NOT_FOUND"), "{resp}");
    }
    assert_eq!(app.row_count().await, 1);
}

#[tokio::test]
async fn soft_delete_makes_a_product_unavailable_and_read_only_until_restored() {
    let app = spawn_app().await;
    let product = app.create_product("Mug", "8.00", "EUR").await;
    let id = product["id"].as_str().unwrap();

    let deleted = app.delete_product(id).await;
    assert_eq!(deleted["available"], false);
    let stored = app.product(id).await;
    assert_eq!(
        stored["available"], false,
        "a deleted product stays readable"
    );
    assert_eq!(app.row_count().await, 1, "soft delete keeps the row");

    let resp = app
        .as_admin(UPDATE, json!({ "input": { "id": id, "name": "Renamed" } }))
        .await;
    assert_eq!(first_error_code(&resp), Some("CONFLICT"), "{resp}");
    let resp = app.as_admin(UPDATE, json!({ "input": { "id": id } })).await;
    assert_eq!(
        first_error_code(&resp),
        Some("CONFLICT"),
        "an empty edit of a deleted product: {resp}"
    );
    assert_eq!(
        app.product(id).await,
        stored,
        "the refused edit changed nothing"
    );

    let again = app.delete_product(id).await;
    assert_eq!(again["available"], false);
    assert_eq!(
        again["updatedAt"], deleted["updatedAt"],
        "deleting twice changes nothing"
    );

    let resp = app
        .as_admin(RESTORE, json!({ "input": { "id": id } }))
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    assert_eq!(resp["data"]["restoreProduct"]["product"]["available"], true);
    let resp = app
        .as_admin(UPDATE, json!({ "input": { "id": id, "name": "Big Mug" } }))
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    assert_eq!(app.product(id).await["name"], "Big Mug");
}

#[tokio::test]
async fn entities_resolve_in_one_statement_and_unknown_ids_are_null() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let p = app
            .create_product(&format!("Product {i:02}"), &format!("{i}.25"), "EUR")
            .await;
        ids.push(p["id"].as_str().unwrap().to_owned());
    }
    app.delete_product(&ids[3]).await;
    let unknown = Uuid::now_v7().to_string();
    let mut representations: Vec<Value> = ids
        .iter()
        .map(|id| json!({ "__typename": "Product", "id": id }))
        .collect();
    representations.insert(5, json!({ "__typename": "Product", "id": unknown }));
    representations.push(json!({ "__typename": "Product", "id": ids[0] }));

    let query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id name available price { amount } } } }";
    let before = app.statements();
    let resp = app.anonymous(query, json!({ "r": representations })).await;
    let statements = app.statements() - before;
    assert!(resp["errors"].is_null(), "{resp}");
    assert_eq!(
        statements, 1,
        "32 representations are loaded by one statement"
    );

    let entities = resp["data"]["_entities"].as_array().unwrap();
    assert_eq!(entities.len(), 32);
    assert!(entities[5].is_null(), "an unknown id resolves to null");
    let mut expected = ids.clone();
    expected.insert(5, String::new());
    expected.push(ids[0].clone());
    for (entity, id) in entities.iter().zip(&expected) {
        if !id.is_empty() {
            assert_eq!(
                entity["id"],
                id.as_str(),
                "entities come back in the order asked"
            );
        }
    }
    assert_eq!(
        entities[3]["available"], false,
        "deleted products still resolve"
    );
    assert_eq!(entities[0]["price"]["amount"], "0.25");
}

#[tokio::test]
async fn products_are_filtered_by_availability_price_and_name() {
    let app = spawn_app().await;
    let black = app.create_product("Black Tea", "3.00", "EUR").await;
    app.create_product("Green tea", "5.00", "EUR").await;
    app.create_product("Coffee", "4.00", "EUR").await;
    app.create_product("Yerba", "700", "JPY").await;
    app.create_product("100% Cocoa", "6.00", "EUR").await;
    app.create_product("100 Percent Juice", "2.00", "EUR").await;
    app.create_product("A_B Blend", "2.50", "EUR").await;
    app.create_product("AxB Blend", "2.50", "EUR").await;
    app.delete_product(black["id"].as_str().unwrap()).await;

    let query = "query($f: ProductFilter) { products(filter: $f, sort: NAME) { totalCount edges { node { name } } } }";
    let names = |resp: &Value| -> Vec<String> {
        assert!(resp["errors"].is_null(), "{resp}");
        resp["data"]["products"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let cases: [(Value, &[&str]); 8] = [
        (
            json!({ "nameContains": "TEA" }),
            &["Black Tea", "Green tea"],
        ),
        (
            json!({ "nameContains": "tea", "available": true }),
            &["Green tea"],
        ),
        (json!({ "available": false }), &["Black Tea"]),
        (json!({ "nameContains": "100%" }), &["100% Cocoa"]),
        (json!({ "nameContains": "a_b" }), &["A_B Blend"]),
        (
            json!({ "minPrice": price("4", "EUR"), "maxPrice": price("5.00", "EUR") }),
            &["Coffee", "Green tea"],
        ),
        (json!({ "maxPrice": price("1000", "JPY") }), &["Yerba"]),
        (
            json!({ "minPrice": price("5.5", "EUR"), "nameContains": "o" }),
            &["100% Cocoa"],
        ),
    ];
    for (filter, expected) in cases {
        let resp = app.anonymous(query, json!({ "f": filter })).await;
        assert_eq!(names(&resp), expected, "{filter}");
        assert_eq!(
            resp["data"]["products"]["totalCount"],
            expected.len(),
            "{filter}"
        );
    }

    for (filter, field) in [
        (
            json!({ "minPrice": price("1.001", "EUR") }),
            "filter.minPrice.amount",
        ),
        (
            json!({ "minPrice": price("1", "EUR"), "maxPrice": price("2", "USD") }),
            "filter.maxPrice.currencyCode",
        ),
        (
            json!({ "minPrice": price("3", "EUR"), "maxPrice": price("2", "EUR") }),
            "filter.maxPrice.amount",
        ),
        (
            json!({ "nameContains": "x".repeat(201) }),
            "filter.nameContains",
        ),
        // A NUL must not cut the search text short ("Mug\0zzz" is not "Mug").
        (
            json!({ "nameContains": "Tea\u{0}zzz" }),
            "filter.nameContains",
        ),
        (
            json!({ "nameContains": "Tea\u{1b}[0m" }),
            "filter.nameContains",
        ),
    ] {
        let resp = app.anonymous(query, json!({ "f": filter })).await;
        assert_eq!(first_error_code(&resp), Some("BAD_USER_INPUT"), "{resp}");
        assert_eq!(error_field(&resp), Some(field), "{resp}");
    }
}

#[tokio::test]
async fn an_empty_catalog_is_an_empty_connection() {
    let app = spawn_app().await;
    for args in ["first: 10", "last: 10", "sort: NAME"] {
        let query = format!(
            "{{ products({args}) {{ totalCount edges {{ cursor }} pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }}"
        );
        let resp = app.anonymous(&query, json!({})).await;
        assert!(resp["errors"].is_null(), "{resp}");
        assert_eq!(
            resp["data"]["products"],
            json!({ "totalCount": 0, "edges": [], "pageInfo": { "hasNextPage": false, "hasPreviousPage": false, "startCursor": null, "endCursor": null } })
        );
    }
}

const PAGE: &str =
    "query($first: Int, $after: String, $last: Int, $before: String, $sort: ProductSort!) {
  products(first: $first, after: $after, last: $last, before: $before, sort: $sort) {
    totalCount
    edges { cursor node { id name price { amount } createdAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

fn ids_of(conn: &Value) -> Vec<String> {
    conn["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn page(app: &support::TestApp, vars: Value) -> Value {
    let resp = app.anonymous(PAGE, vars).await;
    assert!(resp["errors"].is_null(), "{resp}");
    resp["data"]["products"].clone()
}

/// Walks the whole list forward two at a time, then backward, checking the page flags.
async fn walk(app: &support::TestApp, sort: &str, expected: &[String]) {
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let conn = page(app, json!({ "first": 2, "after": after, "sort": sort })).await;
        assert_eq!(conn["totalCount"], expected.len());
        assert_eq!(
            conn["pageInfo"]["hasPreviousPage"],
            !seen.is_empty(),
            "{sort} forward"
        );
        seen.extend(ids_of(&conn));
        assert_eq!(
            conn["pageInfo"]["hasNextPage"],
            seen.len() < expected.len(),
            "{sort} forward"
        );
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        assert_eq!(conn["pageInfo"]["endCursor"], conn["edges"][1]["cursor"]);
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, expected, "{sort} forward order");

    let mut seen_backward: Vec<String> = Vec::new();
    let mut before = Value::Null;
    loop {
        let conn = page(app, json!({ "last": 2, "before": before, "sort": sort })).await;
        assert_eq!(
            conn["pageInfo"]["hasNextPage"],
            !seen_backward.is_empty(),
            "{sort} backward"
        );
        let mut ids = ids_of(&conn);
        ids.extend(seen_backward);
        seen_backward = ids;
        assert_eq!(
            conn["pageInfo"]["hasPreviousPage"],
            seen_backward.len() < expected.len(),
            "{sort} backward"
        );
        if conn["pageInfo"]["hasPreviousPage"] == false {
            break;
        }
        before = conn["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(seen_backward, expected, "{sort} backward order");
}

#[tokio::test]
async fn every_sort_pages_forward_and_backward() {
    let app = spawn_app().await;
    // Equal names and equal prices make the id tie-breaker matter.
    let specs = [
        ("pear", "2.00"),
        ("Apple", "3.00"),
        ("banana", "1.00"),
        ("apple", "3.00"),
        ("Cherry", "0.50"),
        ("date", "2.00"),
        ("Elder", "9.99"),
    ];
    let mut created = Vec::new();
    for (name, amount) in specs {
        created.push(app.create_product(name, amount, "EUR").await);
    }
    let id = |p: &Value| p["id"].as_str().unwrap().to_owned();
    let minor = |p: &Value| {
        p["price"]["amount"]
            .as_str()
            .unwrap()
            .replace('.', "")
            .parse::<i64>()
            .unwrap()
    };

    let mut by_name = created.clone();
    by_name.sort_by_key(|p| (p["name"].as_str().unwrap().to_lowercase(), id(p)));
    let mut by_price = created.clone();
    by_price.sort_by_key(|p| (minor(p), id(p)));
    let mut newest = created.clone();
    newest.sort_by_key(|p| {
        (
            p["createdAt"]
                .as_str()
                .unwrap()
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap(),
            id(p),
        )
    });
    newest.reverse();

    walk(&app, "NAME", &by_name.iter().map(id).collect::<Vec<_>>()).await;
    walk(&app, "PRICE", &by_price.iter().map(id).collect::<Vec<_>>()).await;
    walk(&app, "NEWEST", &newest.iter().map(id).collect::<Vec<_>>()).await;

    let default = app
        .anonymous("{ products { edges { node { id } } } }", json!({}))
        .await;
    assert_eq!(
        ids_of(&default["data"]["products"]),
        newest.iter().map(id).collect::<Vec<_>>(),
        "NEWEST is the default"
    );
}

#[tokio::test]
async fn cursors_stay_valid_when_products_are_inserted() {
    let app = spawn_app().await;
    for name in ["b", "d", "f", "h"] {
        app.create_product(name, "1.00", "EUR").await;
    }
    let first = page(&app, json!({ "first": 2, "sort": "NAME" })).await;
    let names = |conn: &Value| -> Vec<String> {
        conn["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&first), ["b", "d"]);

    // One insert before the cursor, one after it.
    app.create_product("a", "1.00", "EUR").await;
    app.create_product("e", "1.00", "EUR").await;
    let second = page(
        &app,
        json!({ "first": 2, "after": first["pageInfo"]["endCursor"], "sort": "NAME" }),
    )
    .await;
    assert_eq!(
        names(&second),
        ["e", "f"],
        "nothing repeated, nothing skipped"
    );
    assert_eq!(second["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(second["pageInfo"]["hasNextPage"], true);
    let third = page(
        &app,
        json!({ "first": 2, "after": second["pageInfo"]["endCursor"], "sort": "NAME" }),
    )
    .await;
    assert_eq!(names(&third), ["h"]);
    assert_eq!(third["pageInfo"]["hasNextPage"], false, "the last page");

    // Paging backward from a cursor sees the same neighbours.
    let before_cursor = page(
        &app,
        json!({ "last": 1, "before": third["edges"][0]["cursor"], "sort": "NAME" }),
    )
    .await;
    assert_eq!(names(&before_cursor), ["f"]);
    assert_eq!(before_cursor["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn pagination_arguments_are_validated() {
    let app = spawn_app().await;
    app.create_product("Only", "1.00", "EUR").await;
    let name_cursor =
        page(&app, json!({ "first": 1, "sort": "NAME" })).await["pageInfo"]["endCursor"].clone();
    let cases = [
        (json!({ "first": 1000, "sort": "NAME" }), "first"),
        (json!({ "first": -1, "sort": "NAME" }), "first"),
        (json!({ "last": 101, "sort": "NAME" }), "last"),
        (json!({ "first": 1, "last": 1, "sort": "NAME" }), "last"),
        (
            json!({ "first": 1, "after": "garbage!", "sort": "NAME" }),
            "after",
        ),
        (
            json!({ "last": 1, "before": "eyJ4IjoxfQ", "sort": "NAME" }),
            "before",
        ),
        (
            json!({ "first": 1, "after": name_cursor, "sort": "PRICE" }),
            "after",
        ),
    ];
    for (vars, field) in cases {
        let resp = app.anonymous(PAGE, vars.clone()).await;
        assert_eq!(
            first_error_code(&resp),
            Some("BAD_USER_INPUT"),
            "{vars}: {resp}"
        );
        assert_eq!(error_field(&resp), Some(field), "{vars}: {resp}");
    }
    let full = page(&app, json!({ "first": 100, "sort": "NAME" })).await;
    assert_eq!(ids_of(&full).len(), 1, "100 is allowed");
}

#[tokio::test]
async fn a_page_costs_one_statement_and_counting_at_most_one_more() {
    let app = spawn_app().await;
    for i in 0..25 {
        app.create_product(&format!("Item {i}"), "1.00", "EUR")
            .await;
    }
    let before = app.statements();
    let resp = app
        .anonymous(
            "{ products(first: 20) { edges { cursor node { id name price { amount } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        resp["data"]["products"]["edges"].as_array().unwrap().len(),
        20
    );
    assert_eq!(
        app.statements() - before,
        1,
        "a page without counts is one statement"
    );

    let after = resp["data"]["products"]["edges"][4]["cursor"].clone();
    assert!(after.is_string());
    let query = "query($after: String) { products(first: 5, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage hasPreviousPage } } }";
    let before = app.statements();
    let resp = app.anonymous(query, json!({ "after": after })).await;
    assert_eq!(
        app.statements() - before,
        2,
        "counts for totalCount and hasPreviousPage share one statement"
    );
    assert_eq!(resp["data"]["products"]["totalCount"], 25);
    assert_eq!(
        resp["data"]["products"]["pageInfo"],
        json!({ "hasNextPage": true, "hasPreviousPage": true })
    );
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let base = format!("http://{}", app.service.addr);
    let health = app
        .client
        .http
        .get(format!("{base}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = app
        .client
        .http
        .get(format!("{base}/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["checks"], json!({ "database": "ok", "bus": "ok" }));
    let on_service_port = app
        .client
        .http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        on_service_port.status(),
        404,
        "metrics stay off the service port"
    );
    let internal = format!(
        "http://{}",
        app.service
            .metrics_addr
            .expect("metrics listener configured")
    );
    let metrics = app
        .client
        .http
        .get(format!("{internal}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("products_db_statements_total"),
        "{metrics}"
    );
}

#[tokio::test]
async fn migrations_create_the_sort_and_search_indexes() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = spawn_app().await;
    let db = &app.service.db;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT indexname FROM pg_indexes WHERE tablename = 'products' ORDER BY indexname",
        ))
        .await
        .unwrap();
    let names: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<String>("", "indexname").unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "idx_products_created_at_id",
            "idx_products_name_key_id",
            "idx_products_name_trgm",
            "idx_products_price_minor_id",
            "products_pkey",
        ]
    );
}

#[test]
fn the_committed_schema_matches_the_code() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/products.graphql");
    let sdl = products::sdl();
    assert!(sdl.contains("type Product @key(fields: \"id\")"), "{sdl}");
    check_schema_file(&path, &sdl);
}

#[test]
fn the_command_line_has_help_a_version_and_refuses_unknown_flags() {
    kit::testing::check_command_line(kit::testing::CommandLine {
        binary: env!("CARGO_BIN_EXE_products"),
        version: concat!("products ", env!("CARGO_PKG_VERSION")),
        help_mentions: &["serve", "migrate", "print-schema"],
        bogus: &["serve", "--bogus"],
    });
}
