//! Subgraphs written with async-graphql, exported the way the services export theirs
//! (`sdl_with_options(SDLExportOptions::new().federation())`), compose and plan.

use async_graphql::{
    ComplexObject, EmptyMutation, EmptySubscription, ID, Object, SDLExportOptions, Schema,
    SchemaBuilder, SimpleObject,
};
use composition::{SubgraphSdl, compose};

/// A value type every subgraph declares identically.
#[derive(SimpleObject, Clone)]
#[graphql(shareable)]
struct Money {
    amount: String,
    currency_code: String,
}

mod catalog {
    use super::*;

    /// A product of the catalog.
    #[derive(SimpleObject)]
    pub struct Product {
        pub id: ID,
        pub name: String,
        pub price: Money,
        #[graphql(inaccessible)]
        pub internal_code: String,
    }

    fn sample(id: ID) -> Product {
        Product {
            id,
            name: "n".into(),
            price: Money {
                amount: "1.00".into(),
                currency_code: "EUR".into(),
            },
            internal_code: "x".into(),
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn product(&self, id: ID) -> Option<Product> {
            Some(sample(id))
        }

        #[graphql(entity)]
        async fn find_product(&self, #[graphql(key)] id: ID) -> Option<Product> {
            Some(sample(id))
        }
    }

    pub fn schema() -> SchemaBuilder<Query, EmptyMutation, EmptySubscription> {
        Schema::build(Query, EmptyMutation, EmptySubscription)
    }
}

mod orders {
    use super::*;

    /// A reference to a product of the catalog.
    #[derive(SimpleObject)]
    #[graphql(unresolvable)]
    pub struct Product {
        pub id: ID,
    }

    #[derive(SimpleObject)]
    #[graphql(complex)]
    pub struct Order {
        pub id: ID,
        pub total: Money,
        pub product: Product,
    }

    #[ComplexObject]
    impl Order {
        #[graphql(deprecation = "use `total`")]
        async fn amount(&self) -> String {
            self.total.amount.clone()
        }
    }

    fn sample(id: ID) -> Order {
        Order {
            id,
            total: Money {
                amount: "1.00".into(),
                currency_code: "EUR".into(),
            },
            product: Product { id: "p".into() },
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn order(&self, id: ID, #[graphql(default = 20)] first: i32) -> Option<Order> {
            let _ = first;
            Some(sample(id))
        }

        #[graphql(entity)]
        async fn find_order(&self, #[graphql(key)] id: ID) -> Option<Order> {
            Some(sample(id))
        }
    }

    pub fn schema() -> SchemaBuilder<Query, EmptyMutation, EmptySubscription> {
        Schema::build(Query, EmptyMutation, EmptySubscription)
    }
}

fn export<Q, M, S>(builder: SchemaBuilder<Q, M, S>) -> String
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
    S: async_graphql::SubscriptionType + 'static,
{
    builder
        .enable_federation()
        .finish()
        .sdl_with_options(SDLExportOptions::new().federation())
}

fn subgraphs() -> Vec<SubgraphSdl> {
    vec![
        SubgraphSdl::new(
            "catalog",
            "http://catalog/graphql",
            export(catalog::schema()),
        ),
        SubgraphSdl::new("orders", "http://orders/graphql", export(orders::schema())),
    ]
}

#[test]
fn async_graphql_subgraphs_compose() {
    let subgraphs = subgraphs();
    assert!(
        subgraphs[0].sdl.contains("extend schema @link"),
        "{}",
        subgraphs[0].sdl
    );
    let supergraph = compose(&subgraphs)
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", subgraphs[0].sdl, subgraphs[1].sdl));
    let sdl = &supergraph.sdl;
    assert!(
        sdl.contains("@join__type(graph: CATALOG, key: \"id\")"),
        "{sdl}"
    );
    assert!(
        sdl.contains("@join__type(graph: ORDERS, key: \"id\", resolvable: false)"),
        "{sdl}"
    );
    assert!(
        sdl.contains("internalCode: String! @join__field(graph: CATALOG) @inaccessible"),
        "{sdl}"
    );
    assert!(
        sdl.contains("amount: String! @deprecated(reason: \"use `total`\")"),
        "{sdl}"
    );
    assert!(
        sdl.contains("order(id: ID!, first: Int! = 20): Order @join__field(graph: ORDERS)"),
        "{sdl}"
    );
    assert!(
        !sdl.contains("_entities") && !sdl.contains("_Any") && !sdl.contains("_service"),
        "{sdl}"
    );
}

#[test]
fn async_graphql_supergraph_plans_across_subgraphs() {
    use hive_router_query_planner::ast::normalization::normalize_operation;
    use hive_router_query_planner::graph::PlannerOverrideContext;
    use hive_router_query_planner::planner::{Planner, QueryPlannerOptions};
    use hive_router_query_planner::utils::cancellation::CancellationToken;
    use hive_router_query_planner::utils::parsing::{parse_operation, safe_parse_schema};

    let supergraph = compose(&subgraphs()).unwrap_or_else(|e| panic!("{e}"));
    let schema = safe_parse_schema(&supergraph.sdl).expect("parses");
    let planner =
        Planner::new_from_supergraph(&schema, QueryPlannerOptions::default()).expect("planner");
    let doc = parse_operation(
        "{ order(id: \"1\") { total { amount } product { name price { currencyCode } } } }",
    );
    let normalized = normalize_operation(&planner.supergraph, &doc, None).expect("normalises");
    let plan = planner
        .plan_from_normalized_operation(
            normalized.executable_operation(),
            PlannerOverrideContext::default(),
            &CancellationToken::new(),
        )
        .expect("plans")
        .to_string();
    assert!(
        plan.contains("service: \"orders\"") && plan.contains("service: \"catalog\""),
        "{plan}"
    );
    assert!(plan.contains("Flatten(path: \"order.product\")"), "{plan}");
}
