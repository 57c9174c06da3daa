//! The benchmark's four subgraphs, in memory: accounts, inventory, products and reviews, the
//! shape of the public federation benchmarks (users who review products, products with a
//! stock level and a shipping estimate that `@requires` the price and weight owned by another
//! subgraph, and review authors `@provides`-ed with their username).
//!
//! The data is a fixed, small catalogue: every user reviews every product, so a deep query
//! (users → reviews → product → reviews → author → reviews → product) fans out to a large
//! answer while each subgraph only ever looks things up in a few short vectors.

use std::net::SocketAddr;

use async_graphql::{
    ComplexObject, EmptyMutation, EmptySubscription, ID, Object, Schema, SimpleObject,
};
use async_graphql_axum::GraphQL;
use axum::routing::post_service;
use tokio::net::TcpListener;

/// Users in the catalogue.
pub const USERS: usize = 4;
/// Products in the catalogue (all of them are "top products" by default).
pub const PRODUCTS: usize = 5;

fn user_name(n: usize) -> String {
    format!("User {n}")
}

fn username(n: usize) -> String {
    format!("user{n}")
}

fn product_name(n: usize) -> String {
    format!("Product {n}")
}

/// Price in minor units and weight in grams of product `n` (1-based).
fn price_and_weight(n: usize) -> (i32, i32) {
    (100 * n as i32 + 99, 250 * n as i32)
}

fn index_of(id: &str, prefix: &str, count: usize) -> Option<usize> {
    let n: usize = id.strip_prefix(prefix)?.parse().ok()?;
    (1..=count).contains(&n).then_some(n)
}

/// Review ids encode who reviewed what: `r{user}-{product}`.
fn review_id(user: usize, product: usize) -> String {
    format!("r{user}-{product}")
}

fn review_body(user: usize, product: usize) -> String {
    format!(
        "{} on {}: worth it.",
        user_name(user),
        product_name(product)
    )
}

// ------------------------------------------------------------------------------ accounts

#[derive(SimpleObject, Clone)]
pub struct User {
    pub id: ID,
    pub name: String,
    pub username: String,
    pub birthday: i32,
}

fn user(n: usize) -> User {
    User {
        id: ID(format!("u{n}")),
        name: user_name(n),
        username: username(n),
        birthday: 1_000 + n as i32,
    }
}

pub struct AccountsQuery;

#[Object(name = "Query")]
impl AccountsQuery {
    async fn me(&self) -> User {
        user(1)
    }

    async fn user(&self, id: ID) -> Option<User> {
        index_of(&id, "u", USERS).map(user)
    }

    async fn users(&self) -> Vec<User> {
        (1..=USERS).map(user).collect()
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<User> {
        index_of(&id, "u", USERS).map(user)
    }
}

// ------------------------------------------------------------------------------ products

#[derive(SimpleObject, Clone)]
pub struct Product {
    pub upc: String,
    pub name: String,
    pub price: i32,
    pub weight: i32,
}

fn product(n: usize) -> Product {
    let (price, weight) = price_and_weight(n);
    Product {
        upc: n.to_string(),
        name: product_name(n),
        price,
        weight,
    }
}

pub struct ProductsQuery;

#[Object(name = "Query")]
impl ProductsQuery {
    async fn top_products(&self, #[graphql(default = 5)] first: i32) -> Vec<Product> {
        (1..=PRODUCTS)
            .take(first.max(0) as usize)
            .map(product)
            .collect()
    }

    #[graphql(entity)]
    async fn find_product_by_upc(&self, upc: String) -> Option<Product> {
        index_of(&upc, "", PRODUCTS).map(product)
    }
}

// ------------------------------------------------------------------------------ inventory

#[derive(SimpleObject, Clone)]
#[graphql(name = "Product", complex)]
pub struct StockedProduct {
    pub upc: String,
    #[graphql(external)]
    pub price: i32,
    #[graphql(external)]
    pub weight: i32,
    pub in_stock: bool,
}

#[ComplexObject]
impl StockedProduct {
    /// Free above 1000 in price, otherwise half the weight in grams over ten.
    #[graphql(requires = "price weight")]
    async fn shipping_estimate(&self) -> i32 {
        if self.price > 1000 {
            0
        } else {
            self.weight / 20
        }
    }
}

pub struct InventoryQuery;

#[Object(name = "Query")]
impl InventoryQuery {
    #[graphql(entity)]
    async fn find_product_by_upc(
        &self,
        #[graphql(key)] upc: String,
        price: Option<i32>,
        weight: Option<i32>,
    ) -> Option<StockedProduct> {
        let n = index_of(&upc, "", PRODUCTS)?;
        Some(StockedProduct {
            upc,
            price: price.unwrap_or_default(),
            weight: weight.unwrap_or_default(),
            in_stock: n % 2 == 1,
        })
    }
}

// ------------------------------------------------------------------------------ reviews

#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Review {
    pub id: ID,
    pub body: String,
    #[graphql(skip)]
    pub user: usize,
    #[graphql(skip)]
    pub product: usize,
}

fn review(user: usize, product: usize) -> Review {
    Review {
        id: ID(review_id(user, product)),
        body: review_body(user, product),
        user,
        product,
    }
}

#[ComplexObject]
impl Review {
    #[graphql(provides = "username")]
    async fn author(&self) -> ReviewAuthor {
        ReviewAuthor {
            id: ID(format!("u{}", self.user)),
            username: username(self.user),
        }
    }

    async fn product(&self) -> ReviewedProduct {
        ReviewedProduct {
            upc: self.product.to_string(),
        }
    }
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "User", complex)]
pub struct ReviewAuthor {
    pub id: ID,
    #[graphql(external)]
    pub username: String,
}

#[ComplexObject]
impl ReviewAuthor {
    async fn reviews(&self) -> Vec<Review> {
        let user = index_of(&self.id, "u", USERS);
        user.map(|u| (1..=PRODUCTS).map(|p| review(u, p)).collect())
            .unwrap_or_default()
    }
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "Product", complex)]
pub struct ReviewedProduct {
    pub upc: String,
}

#[ComplexObject]
impl ReviewedProduct {
    async fn reviews(&self) -> Vec<Review> {
        let product = index_of(&self.upc, "", PRODUCTS);
        product
            .map(|p| (1..=USERS).map(|u| review(u, p)).collect())
            .unwrap_or_default()
    }
}

pub struct ReviewsQuery;

#[Object(name = "Query")]
impl ReviewsQuery {
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<ReviewAuthor> {
        let n = index_of(&id, "u", USERS)?;
        Some(ReviewAuthor {
            id,
            username: username(n),
        })
    }

    #[graphql(entity)]
    async fn find_product_by_upc(&self, upc: String) -> Option<ReviewedProduct> {
        index_of(&upc, "", PRODUCTS).map(|_| ReviewedProduct { upc })
    }
}

// ------------------------------------------------------------------------------ serving

/// One subgraph's name and where it listens.
#[derive(Debug, Clone)]
pub struct Served {
    pub name: &'static str,
    pub addr: SocketAddr,
}

impl Served {
    pub fn url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }
}

/// The subgraphs' names, in the order [`serve_all`] returns them.
pub const NAMES: [&str; 4] = ["accounts", "inventory", "products", "reviews"];

fn app<Q: async_graphql::ObjectType + 'static>(query: Q) -> axum::Router {
    let schema = Schema::build(query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish();
    axum::Router::new().route("/graphql", post_service(GraphQL::new(schema)))
}

/// Binds the four subgraphs on free local ports of the current Tokio runtime.
pub async fn serve_all() -> std::io::Result<Vec<Served>> {
    let apps = [
        app(AccountsQuery),
        app(InventoryQuery),
        app(ProductsQuery),
        app(ReviewsQuery),
    ];
    let mut served = Vec::new();
    for (name, app) in NAMES.into_iter().zip(apps) {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("subgraph {name} stopped: {e}");
            }
        });
        served.push(Served { name, addr });
    }
    Ok(served)
}

/// The subgraphs' SDL (Federation v2), by name, as they publish it in `_service { sdl }`.
pub fn sdl() -> Vec<(&'static str, String)> {
    fn of<Q: async_graphql::ObjectType + 'static>(query: Q) -> String {
        let options = async_graphql::SDLExportOptions::new()
            .federation()
            .compose_directive();
        Schema::build(query, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish()
            .sdl_with_options(options)
    }
    vec![
        ("accounts", of(AccountsQuery)),
        ("inventory", of(InventoryQuery)),
        ("products", of(ProductsQuery)),
        ("reviews", of(ReviewsQuery)),
    ]
}
