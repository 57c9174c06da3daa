//! End-to-end execution against four in-process subgraphs: joins, keys, directives, abstract
//! types, aliases, fragments and variables, with whole responses compared.

mod support;

use serde_json::json;
use support::{TestGraph, body};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_entities_across_two_subgraphs() {
    let graph = TestGraph::start().await;
    let response = graph
        .run("{ products { name reviews { body } } }", json!({}))
        .await;
    assert_eq!(
        body(&response),
        json!({"data": {"products": [
            {"name": "Table", "reviews": [{"body": "Sturdy"}, {"body": "Wobbly"}]},
            {"name": "Chair", "reviews": [{"body": "Comfy"}]},
            {"name": "Lamp", "reviews": []},
        ]}})
    );
    assert_eq!(graph.products.received.requests(), 1);
    assert_eq!(graph.reviews.received.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_entities_across_three_subgraphs() {
    let graph = TestGraph::start().await;
    let response = graph
        .run(
            "{ products { name reviews { body author { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body(&response),
        json!({"data": {"products": [
            {"name": "Table", "reviews": [
                {"body": "Sturdy", "author": {"name": "Ada Lovelace"}},
                {"body": "Wobbly", "author": {"name": "Alan Turing"}},
            ]},
            {"name": "Chair", "reviews": [{"body": "Comfy", "author": {"name": "Ada Lovelace"}}]},
            {"name": "Lamp", "reviews": []},
        ]}})
    );
    assert_eq!(graph.users.received.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolves_entities_through_a_second_key() {
    // reviews knows products by `id`, inventory only by `sku`: products bridges the two keys.
    let graph = TestGraph::start().await;
    let response = graph
        .run("{ reviews { id product { sku name inStock } } }", json!({}))
        .await;
    assert_eq!(
        body(&response),
        json!({"data": {"reviews": [
            {"id": "r1", "product": {"sku": "sku-1", "name": "Table", "inStock": true}},
            {"id": "r2", "product": {"sku": "sku-1", "name": "Table", "inStock": true}},
            {"id": "r3", "product": {"sku": "sku-2", "name": "Chair", "inStock": false}},
        ]}})
    );
    assert_eq!(graph.inventory.received.entity_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolves_entities_with_a_compound_key() {
    let graph = TestGraph::start().await;
    let response = graph
        .run(
            "{ products { id warehouse { region code capacity } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body(&response),
        json!({"data": {"products": [
            {"id": "p1", "warehouse": {"region": "eu", "code": "w1", "capacity": 100}},
            {"id": "p2", "warehouse": {"region": "eu", "code": "w2", "capacity": 200}},
            {"id": "p3", "warehouse": {"region": "us", "code": "w1", "capacity": 300}},
        ]}})
    );
    let bodies = graph.inventory.received.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(
        bodies[0]["variables"]["representations"],
        json!([
            {"__typename": "Warehouse", "region": "eu", "code": "w1"},
            {"__typename": "Warehouse", "region": "eu", "code": "w2"},
            {"__typename": "Warehouse", "region": "us", "code": "w1"},
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_requires_fields_and_field_arguments() {
    let graph = TestGraph::start().await;
    let response = graph
        .run(
            "query($zone: String!, $id: ID!) { product(id: $id) { name shippingEstimate(zone: $zone) } }",
            json!({"zone": "us", "id": "p1"}),
        )
        .await;
    // 100 * 20 / 100 + 5 for the "us" zone: only right when price and weight were sent.
    assert_eq!(
        body(&response),
        json!({"data": {"product": {"name": "Table", "shippingEstimate": 25}}})
    );
    let bodies = graph.inventory.received.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(
        bodies[0]["variables"],
        json!({
            "representations": [{"__typename": "Product", "sku": "sku-1", "price": 100, "weight": 20}],
            "zone": "us",
        }),
        "inventory gets only the variables it uses"
    );
    let products_variables = &graph.products.received.bodies()[0]["variables"];
    assert_eq!(products_variables, &json!({"id": "p1"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provided_fields_need_no_extra_fetch() {
    let graph = TestGraph::start().await;
    let response = graph
        .run("{ reviews { author { username } } }", json!({}))
        .await;
    assert_eq!(
        body(&response),
        json!({"data": {"reviews": [
            {"author": {"username": "ada"}},
            {"author": {"username": "alan"}},
            {"author": {"username": "ada"}},
        ]}})
    );
    assert_eq!(graph.users.received.requests(), 0);

    let response = graph
        .run("{ reviews { author { username name } } }", json!({}))
        .await;
    assert_eq!(
        body(&response)["data"]["reviews"][1],
        json!({"author": {"username": "alan", "name": "Alan Turing"}})
    );
    assert_eq!(graph.users.received.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overridden_fields_come_from_the_new_owner() {
    let graph = TestGraph::start().await;
    let response = graph
        .run("{ products { id reviewCount } }", json!({}))
        .await;
    assert_eq!(
        body(&response),
        json!({"data": {"products": [
            {"id": "p1", "reviewCount": 2},
            {"id": "p2", "reviewCount": 1},
            {"id": "p3", "reviewCount": 0},
        ]}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interface_fields_and_fragments_across_subgraphs() {
    let graph = TestGraph::start().await;
    let response = graph
        .run(
            "{ items { __typename id name
                 ... on Product { reviews { body } }
                 ... on Bundle { products { sku inStock } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body(&response),
        json!({"data": {"items": [
            {"__typename": "Product", "id": "p1", "name": "Table",
             "reviews": [{"body": "Sturdy"}, {"body": "Wobbly"}]},
            {"__typename": "Bundle", "id": "b1", "name": "Office set",
             "products": [{"sku": "sku-1", "inStock": true}, {"sku": "sku-2", "inStock": false}]},
            {"__typename": "Product", "id": "p2", "name": "Chair", "reviews": [{"body": "Comfy"}]},
        ]}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interface_object_fields_resolve_for_every_implementation() {
    let graph = TestGraph::start().await;
    let response = graph.run("{ items { id rating } }", json!({})).await;
    assert_eq!(
        body(&response),
        json!({"data": {"items": [
            {"id": "p1", "rating": 5},
            {"id": "b1", "rating": 4},
            {"id": "p2", "rating": 3},
        ]}})
    );
    let bodies = graph.reviews.received.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(
        bodies[0]["variables"]["representations"],
        json!([
            {"__typename": "Item", "id": "p1"},
            {"__typename": "Item", "id": "b1"},
            {"__typename": "Item", "id": "p2"},
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interface_values_complete_when_the_client_asks_no_typename() {
    let graph = TestGraph::start().await;
    let response = graph.run("{ items { name } }", json!({})).await;
    assert_eq!(
        body(&response),
        json!({"data": {"items": [{"name": "Table"}, {"name": "Office set"}, {"name": "Chair"}]}})
    );
    // The router asks for the runtime type itself, whatever the planner needed.
    let bodies = graph.products.received.bodies();
    assert_eq!(bodies.len(), 1);
    let query = bodies[0]["query"].as_str().expect("a query string");
    assert!(query.contains("items{__typename"), "{query}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn union_members_resolve_in_their_own_subgraphs() {
    let graph = TestGraph::start().await;
    let response = graph
        .run(
            r#"query($text: String!) { search(text: $text) {
                __typename
                ... on Product { name reviewCount }
                ... on User { username name }
            } }"#,
            json!({"text": "a"}),
        )
        .await;
    assert_eq!(
        body(&response),
        json!({"data": {"search": [
            {"__typename": "Product", "name": "Table", "reviewCount": 2},
            {"__typename": "User", "username": "alan", "name": "Alan Turing"},
            {"__typename": "Product", "name": "Chair", "reviewCount": 1},
            {"__typename": "Product", "name": "Lamp", "reviewCount": 0},
        ]}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliases_and_fragments_shape_the_response_in_operation_order() {
    let graph = TestGraph::start().await;
    let response = graph
        .run(
            r#"query Pair {
                second: product(id: "p2") { ...Basics title: name }
                first: product(id: "p1") { title: name ...Basics
                    reviews { ... on Review { text: body } } }
            }
            fragment Basics on Product { price id }"#,
            json!({}),
        )
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    assert_eq!(
        response.data_json().expect("data"),
        concat!(
            r#"{"second":{"price":50,"id":"p2","title":"Chair"},"#,
            r#""first":{"title":"Table","price":100,"id":"p1","#,
            r#""reviews":[{"text":"Sturdy"},{"text":"Wobbly"}]}}"#
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_and_include_follow_variables() {
    let graph = TestGraph::start().await;
    let query = r#"query($id: ID!, $withReviews: Boolean!, $noSku: Boolean = true) {
        product(id: $id) { name sku @skip(if: $noSku) reviews @include(if: $withReviews) { body } }
    }"#;
    let response = graph
        .run(query, json!({"id": "p2", "withReviews": false}))
        .await;
    assert_eq!(
        body(&response),
        json!({"data": {"product": {"name": "Chair"}}})
    );
    assert_eq!(graph.reviews.received.requests(), 0);

    let response = graph
        .run(
            query,
            json!({"id": "p2", "withReviews": true, "noSku": false}),
        )
        .await;
    assert_eq!(
        body(&response),
        json!({"data": {"product": {"name": "Chair", "sku": "sku-2", "reviews": [{"body": "Comfy"}]}}})
    );
    assert_eq!(graph.reviews.received.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typename_at_the_root_and_in_entities() {
    let graph = TestGraph::start().await;
    let response = graph
        .run(
            "{ __typename product(id: \"p3\") { __typename id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body(&response),
        json!({"data": {"__typename": "Query", "product": {"__typename": "Product", "id": "p3"}}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_run_against_their_subgraph() {
    let graph = TestGraph::start().await;
    let response = graph
        .run(
            r#"mutation($name: String!) { renameUser(id: "u3", name: $name) { id name username } }"#,
            json!({"name": "Rear Admiral Hopper"}),
        )
        .await;
    assert_eq!(
        body(&response),
        json!({"data": {"renameUser": {"id": "u3", "name": "Rear Admiral Hopper", "username": "grace"}}})
    );
}

/// `@oneOf` is introspected where the GraphQL specification defines it: on input objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_one_of_directive_is_introspected_on_input_objects() {
    let graph = TestGraph::start().await;
    let response = graph
        .run("{ __schema { directives { name locations } } }", json!({}))
        .await;
    let value = body(&response);
    let one_of: Vec<&serde_json::Value> = value["data"]["__schema"]["directives"]
        .as_array()
        .expect("directives")
        .iter()
        .filter(|d| d["name"] == "oneOf")
        .collect();
    assert_eq!(
        one_of,
        vec![&json!({"name": "oneOf", "locations": ["INPUT_OBJECT"]})],
        "{value}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_is_answered_by_the_router() {
    let graph = TestGraph::start().await;
    let response = graph
        .run(
            r#"{ __schema { queryType { name } mutationType { name } subscriptionType { name } }
                 product: __type(name: "Product") { kind name
                     fields { name type { kind ofType { kind name } } } }
                 missing: __type(name: "Nope") { name } }"#,
            json!({}),
        )
        .await;
    assert_eq!(graph.total_requests(), 0);
    let value = body(&response);
    assert_eq!(
        value["data"]["__schema"],
        json!({"queryType": {"name": "Query"}, "mutationType": {"name": "Mutation"}, "subscriptionType": null})
    );
    assert_eq!(value["data"]["missing"], json!(null));
    assert_eq!(value["data"]["product"]["kind"], json!("OBJECT"));
    let fields = value["data"]["product"]["fields"]
        .as_array()
        .expect("fields");
    let names: Vec<&str> = fields.iter().filter_map(|f| f["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "sku",
            "price",
            "weight",
            "inStock",
            "shippingEstimate",
            "id",
            "name",
            "reviewCount",
            "warehouse",
            "reviews",
            "rating"
        ]
    );
    assert_eq!(
        fields[0]["type"],
        json!({"kind": "NON_NULL", "ofType": {"kind": "SCALAR", "name": "String"}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_mixed_with_data() {
    let graph = TestGraph::start().await;
    let response = graph
        .run(
            r#"{ product(id: "p1") { name } __type(name: "SearchResult") { kind possibleTypes { name } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        body(&response),
        json!({"data": {
            "product": {"name": "Table"},
            "__type": {"kind": "UNION", "possibleTypes": [{"name": "Product"}, {"name": "User"}]},
        }})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subgraphs_can_be_called_over_http2() {
    let graph = TestGraph::start_with(|config| config.http2 = true).await;
    let response = graph
        .run("{ products { name reviews { body } } }", json!({}))
        .await;
    assert_eq!(
        body(&response)["data"]["products"][0],
        json!({"name": "Table", "reviews": [{"body": "Sturdy"}, {"body": "Wobbly"}]})
    );
}
