//! The prepare stage on its own: parse and validation errors with spec messages and codes,
//! operation selection, operation kinds, caching, and variable coercion.

mod support;

use std::sync::Arc;

use executor::{Executor, ExecutorConfig, OperationKind, RequestError};
use serde_json::{Map, Value, json};

fn executor() -> Executor {
    executor_with(ExecutorConfig::default())
}

fn executor_with(config: ExecutorConfig) -> Executor {
    Executor::new(&support::supergraph_sdl(), config).expect("executor builds")
}

fn request_error(query: &str) -> Value {
    let error = executor()
        .prepare(query, None)
        .expect_err("the operation must be refused");
    serde_json::to_value(error.into_response()).expect("serialisable")
}

#[test]
fn syntax_errors_are_parse_failures_with_a_location() {
    let response = request_error("{ products { name }");
    let error = &response["errors"][0];
    assert_eq!(error["extensions"]["code"], "GRAPHQL_PARSE_FAILED");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Syntax Error:"))
    );
    assert_eq!(error["locations"], json!([{"line": 1, "column": 20}]));
    assert!(response.get("data").is_none());
}

#[test]
fn unknown_fields_are_validation_failures() {
    assert_eq!(
        request_error("{ products { name colour } }"),
        json!({"errors": [{
            "message": "Cannot query field \"colour\" on type \"Product\".",
            "locations": [{"line": 1, "column": 19}],
            "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
        }]})
    );
}

#[test]
fn unknown_arguments_and_types_are_validation_failures() {
    let response = request_error("query($x: Colour) { product(id: \"p1\", size: 3) { name } }");
    let messages: Vec<&str> = response["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            assert_eq!(e["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
            e["message"].as_str().expect("message")
        })
        .collect();
    assert!(
        messages.contains(&"Unknown type \"Colour\"."),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"Unknown argument \"size\" on field \"Query.product\"."),
        "{messages:?}"
    );
}

#[test]
fn missing_required_arguments_are_validation_failures() {
    let response = request_error("{ product { name } }");
    assert_eq!(
        response["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    assert_eq!(
        response["errors"][0]["message"],
        "Field \"product\" argument \"id\" of type \"ID!\" is required, but it was not provided."
    );
}

#[test]
fn fragments_on_impossible_types_are_validation_failures() {
    let response = request_error("{ products { ...OnUser } } fragment OnUser on User { name }");
    assert_eq!(
        response["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    assert_eq!(
        response["errors"][0]["message"],
        "Fragment \"OnUser\" cannot be spread here as objects of type \"Product\" can never be of type \"User\"."
    );
}

#[test]
fn variables_must_be_used_in_allowed_positions() {
    let response = request_error("query($id: String) { product(id: $id) { name } }");
    assert_eq!(
        response["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    assert_eq!(
        response["errors"][0]["message"],
        "Variable \"$id\" of type \"String\" used in position expecting type \"ID!\"."
    );
}

#[test]
fn operation_names_select_the_operation() {
    let executor = executor();
    let document =
        "query A { products { id } } mutation B { renameUser(id: \"u1\", name: \"x\") { id } }";
    let a = executor.parse(document, Some("A")).expect("A parses");
    assert_eq!(
        (a.kind(), a.operation_name()),
        (OperationKind::Query, Some("A"))
    );
    let b = executor.parse(document, Some("B")).expect("B parses");
    assert_eq!(
        (b.kind(), b.operation_name()),
        (OperationKind::Mutation, Some("B"))
    );

    let missing = executor.parse(document, None).expect_err("ambiguous");
    assert_eq!(
        missing.to_graphql_errors()[0].message,
        "Must provide operation name if query contains multiple operations."
    );
    let unknown = executor.parse(document, Some("C")).expect_err("unknown");
    assert_eq!(
        unknown.to_graphql_errors()[0].message,
        "Unknown operation named \"C\"."
    );
    assert_eq!(unknown.code(), "GRAPHQL_UNKNOWN_OPERATION_NAME");
}

#[test]
fn subscriptions_are_refused_clearly() {
    let response = request_error("subscription { products { id } }");
    // The schema has no subscription type, so validation or planning refuses it.
    let code = response["errors"][0]["extensions"]["code"]
        .as_str()
        .expect("code");
    assert!(
        code == "SUBSCRIPTION_NOT_SUPPORTED" || code == "GRAPHQL_VALIDATION_FAILED",
        "{code}"
    );
}

#[test]
fn the_parsed_document_is_available_before_planning() {
    let executor = executor();
    let parsed = executor
        .parse(
            "query Deep { products { reviews { author { reviews { body } } } } }",
            None,
        )
        .expect("parses");
    assert_eq!(parsed.document().definitions.len(), 1);
    assert_eq!(
        executor.cache_stats().plans,
        0,
        "parsing alone plans nothing"
    );
    let prepared = executor.plan(&parsed).expect("plans");
    assert!(prepared.query_plan().is_some());
    assert_eq!(executor.cache_stats().plans, 1);
}

#[test]
fn documents_and_plans_are_cached() {
    let executor = executor();
    let query = "{ products { name reviews { body } } }";
    let first = executor.prepare(query, None).expect("prepares");
    let second = executor.prepare(query, None).expect("prepares");
    let plan = |p: &Arc<executor::PreparedOperation>| {
        p.query_plan().map(|plan| plan as *const _).expect("plan")
    };
    assert_eq!(
        plan(&first),
        plan(&second),
        "the second prepare reuses the plan"
    );
    assert_eq!(executor.cache_stats().documents, 1);

    // A different text that normalises to the same operation shares the plan too.
    let third = executor
        .prepare("{\n  products { name reviews { body } }\n}", None)
        .expect("prepares");
    assert_eq!(plan(&first), plan(&third));
}

#[test]
fn the_plan_cache_is_bounded() {
    let executor = executor_with(ExecutorConfig {
        plan_cache_size: 2,
        document_cache_size: 2,
        ..ExecutorConfig::default()
    });
    for field in ["id", "name", "sku", "price"] {
        executor
            .prepare(&format!("{{ products {{ {field} }} }}"), None)
            .expect("prepares");
    }
    assert_eq!(executor.cache_stats().plans, 2);
    assert_eq!(executor.cache_stats().documents, 2);
}

#[test]
fn introspection_can_be_refused() {
    let executor = executor_with(ExecutorConfig {
        introspection: false,
        ..ExecutorConfig::default()
    });
    let parsed = executor
        .parse("{ __schema { queryType { name } } }", None)
        .expect("parses");
    assert!(parsed.uses_introspection());
    let error = executor.plan(&parsed).expect_err("refused");
    assert!(matches!(error, RequestError::IntrospectionDisabled));
    assert_eq!(error.code(), "INTROSPECTION_DISABLED");
    // `__typename` alone is not introspection.
    assert!(executor.prepare("{ __typename }", None).is_ok());
}

async fn coerce(query: &str, variables: Value) -> Value {
    let executor = executor();
    let prepared = executor.prepare(query, None).expect("prepares");
    let variables: Map<String, Value> = variables.as_object().cloned().unwrap_or_default();
    let response = executor
        .execute(&prepared, variables, http::HeaderMap::new())
        .await;
    assert!(
        response.is_request_error(),
        "variables must be refused before execution"
    );
    serde_json::to_value(&response).expect("serialisable")
}

#[tokio::test]
async fn missing_required_variables_are_refused() {
    assert_eq!(
        coerce("query($id: ID!) { product(id: $id) { name } }", json!({})).await,
        json!({"errors": [{
            "message": "Variable \"$id\" of required type \"ID!\" was not provided.",
            "locations": [{"line": 1, "column": 7}],
            "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
        }]})
    );
}

#[tokio::test]
async fn wrongly_typed_variables_are_refused() {
    let response = coerce(
        "query($text: String!, $id: ID!) { search(text: $text) { __typename } product(id: $id) { id } }",
        json!({"text": 42, "id": true}),
    )
    .await;
    let messages: Vec<&str> = response["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["message"].as_str().expect("message"))
        .collect();
    assert_eq!(
        messages,
        [
            "Variable \"$text\" got invalid value 42; Expected type \"String\".",
            "Variable \"$id\" got invalid value true; Expected type \"ID\".",
        ]
    );
}

#[tokio::test]
async fn null_for_a_non_null_variable_is_refused() {
    let response = coerce(
        "query($id: ID!) { product(id: $id) { name } }",
        json!({"id": null}),
    )
    .await;
    assert_eq!(
        response["errors"][0]["message"],
        "Variable \"$id\" of non-null type \"ID!\" must not be null."
    );
}

#[test]
fn construction_rejects_bad_supergraphs_and_urls() {
    let error = Executor::new("type Query {", ExecutorConfig::default()).expect_err("bad SDL");
    assert!(
        matches!(error, executor::ExecutorError::SupergraphParse(_)),
        "{error}"
    );

    let mut config = ExecutorConfig::default();
    config.subgraph_urls.insert(
        "users".to_owned(),
        "https://users.internal/graphql".to_owned(),
    );
    let error = Executor::new(&support::supergraph_sdl(), config).expect_err("https refused");
    assert!(
        matches!(&error, executor::ExecutorError::InvalidSubgraphUrl { name, .. } if name == "users"),
        "{error}"
    );
}

#[test]
fn subgraph_urls_come_from_the_supergraph_unless_overridden() {
    let mut config = ExecutorConfig::default();
    config
        .subgraph_urls
        .insert("users".to_owned(), "http://127.0.0.1:9/graphql".to_owned());
    let urls = executor_with(config).subgraph_urls();
    assert_eq!(urls["users"], "http://127.0.0.1:9/graphql");
    assert_eq!(urls["products"], "http://products.internal:4000/graphql");
    assert_eq!(urls.len(), 4);
}
