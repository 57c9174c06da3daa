//! Four small Federation v2 subgraphs used by the executor's tests: products, reviews, users,
//! inventory. Together they exercise multiple and compound keys, `@requires` with arguments,
//! `@provides`, `@override`, an interface and a union spanning subgraphs, and `@interfaceObject`.

use async_graphql::{
    ComplexObject, Context, EmptyMutation, EmptySubscription, ErrorExtensions, ID, Interface,
    Object, Schema, SimpleObject, Union,
};

/// The bearer token's subject, as the `me` resolver sees it.
#[derive(Clone, Default)]
pub struct Caller(pub Option<String>);

// ---------------------------------------------------------------- products

#[derive(SimpleObject, Clone)]
#[graphql(unresolvable = "region code")]
pub struct Warehouse {
    pub region: String,
    pub code: String,
}

#[derive(SimpleObject, Clone)]
pub struct Product {
    pub id: ID,
    pub sku: String,
    pub name: String,
    pub price: i32,
    pub weight: i32,
    /// Overridden by reviews; this subgraph's value must never reach a client.
    pub review_count: i32,
    pub warehouse: Warehouse,
}

#[derive(SimpleObject, Clone)]
pub struct Bundle {
    pub id: ID,
    pub name: String,
    pub products: Vec<Product>,
}

#[derive(Interface, Clone)]
#[graphql(field(name = "id", ty = "&ID"), field(name = "name", ty = "&String"))]
pub enum Item {
    Product(Product),
    Bundle(Bundle),
}

/// A user known to products only by id, for the search union.
#[derive(SimpleObject, Clone)]
#[graphql(name = "User", unresolvable = "id")]
pub struct UserRef {
    pub id: ID,
}

#[derive(Union, Clone)]
pub enum SearchResult {
    Product(Product),
    User(UserRef),
}

pub fn all_products() -> Vec<Product> {
    let product =
        |id: &str, sku: &str, name: &str, price, weight, region: &str, code: &str| Product {
            id: ID::from(id),
            sku: sku.to_owned(),
            name: name.to_owned(),
            price,
            weight,
            review_count: -1,
            warehouse: Warehouse {
                region: region.to_owned(),
                code: code.to_owned(),
            },
        };
    vec![
        product("p1", "sku-1", "Table", 100, 20, "eu", "w1"),
        product("p2", "sku-2", "Chair", 50, 5, "eu", "w2"),
        product("p3", "sku-3", "Lamp", 30, 2, "us", "w1"),
    ]
}

pub struct ProductsQuery;

#[Object(name = "Query")]
impl ProductsQuery {
    async fn products(&self) -> Vec<Product> {
        all_products()
    }

    async fn product(&self, id: ID) -> Option<Product> {
        all_products().into_iter().find(|p| p.id == id)
    }

    async fn items(&self) -> Vec<Item> {
        let products = all_products();
        vec![
            Item::Product(products[0].clone()),
            Item::Bundle(Bundle {
                id: ID::from("b1"),
                name: "Office set".to_owned(),
                products: products[..2].to_vec(),
            }),
            Item::Product(products[1].clone()),
        ]
    }

    /// Products whose name contains `text`, and always the user `u2`.
    async fn search(&self, text: String) -> Vec<SearchResult> {
        let needle = text.to_lowercase();
        let mut results: Vec<SearchResult> = all_products()
            .into_iter()
            .filter(|p| p.name.to_lowercase().contains(&needle))
            .map(SearchResult::Product)
            .collect();
        results.insert(
            1.min(results.len()),
            SearchResult::User(UserRef { id: ID::from("u2") }),
        );
        results
    }

    #[graphql(entity)]
    async fn find_product_by_id(&self, id: ID) -> Option<Product> {
        all_products().into_iter().find(|p| p.id == id)
    }

    #[graphql(entity)]
    async fn find_product_by_sku(&self, sku: String) -> Option<Product> {
        all_products().into_iter().find(|p| p.sku == sku)
    }

    #[graphql(entity)]
    async fn find_bundle_by_id(&self, id: ID) -> Option<Bundle> {
        (id.as_str() == "b1").then(|| Bundle {
            id,
            name: "Office set".to_owned(),
            products: all_products()[..2].to_vec(),
        })
    }
}

pub fn products_schema() -> Schema<ProductsQuery, EmptyMutation, EmptySubscription> {
    Schema::build(ProductsQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .register_output_type::<Item>()
        .finish()
}

// ---------------------------------------------------------------- reviews

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
        all_reviews()
            .into_iter()
            .filter(|r| r.author_id == self.id.as_str())
            .collect()
    }
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "Product", complex)]
pub struct ReviewedProduct {
    pub id: ID,
}

#[ComplexObject]
impl ReviewedProduct {
    async fn reviews(&self) -> Vec<Review> {
        all_reviews()
            .into_iter()
            .filter(|r| r.product_id == self.id.as_str())
            .collect()
    }

    #[graphql(override_from = "products")]
    async fn review_count(&self) -> i32 {
        all_reviews()
            .iter()
            .filter(|r| r.product_id == self.id.as_str())
            .count() as i32
    }
}

#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Review {
    pub id: ID,
    pub body: String,
    #[graphql(skip)]
    pub product_id: &'static str,
    #[graphql(skip)]
    pub author_id: &'static str,
}

#[ComplexObject]
impl Review {
    #[graphql(provides = "username")]
    async fn author(&self) -> ReviewAuthor {
        author(self.author_id)
    }

    async fn product(&self) -> ReviewedProduct {
        ReviewedProduct {
            id: ID::from(self.product_id),
        }
    }
}

/// `Item` as seen by reviews: an `@interfaceObject` adding a rating to every item.
#[derive(SimpleObject, Clone)]
#[graphql(name = "Item", interface_object)]
pub struct RatedItem {
    pub id: ID,
    pub rating: Option<i32>,
}

fn author(id: &str) -> ReviewAuthor {
    let username = match id {
        "u1" => "ada",
        "u2" => "alan",
        _ => "grace",
    };
    ReviewAuthor {
        id: ID::from(id),
        username: username.to_owned(),
    }
}

pub fn all_reviews() -> Vec<Review> {
    let review = |id: &str, body: &str, product_id, author_id| Review {
        id: ID::from(id),
        body: body.to_owned(),
        product_id,
        author_id,
    };
    vec![
        review("r1", "Sturdy", "p1", "u1"),
        review("r2", "Wobbly", "p1", "u2"),
        review("r3", "Comfy", "p2", "u1"),
    ]
}

pub struct ReviewsQuery;

#[Object(name = "Query")]
impl ReviewsQuery {
    async fn reviews(&self) -> Vec<Review> {
        all_reviews()
    }

    #[graphql(entity)]
    async fn find_product_by_id(&self, id: ID) -> ReviewedProduct {
        ReviewedProduct { id }
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> ReviewAuthor {
        author(id.as_str())
    }

    #[graphql(entity)]
    async fn find_item_by_id(&self, id: ID) -> RatedItem {
        let rating = match id.as_str() {
            "p1" => Some(5),
            "b1" => Some(4),
            "p2" => Some(3),
            _ => None,
        };
        RatedItem { id, rating }
    }
}

pub fn reviews_schema() -> Schema<ReviewsQuery, EmptyMutation, EmptySubscription> {
    Schema::build(ReviewsQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

// ---------------------------------------------------------------- users

#[derive(SimpleObject, Clone)]
pub struct User {
    pub id: ID,
    pub username: String,
    pub name: String,
}

pub fn all_users() -> Vec<User> {
    let user = |id: &str, username: &str, name: &str| User {
        id: ID::from(id),
        username: username.to_owned(),
        name: name.to_owned(),
    };
    vec![
        user("u1", "ada", "Ada Lovelace"),
        user("u2", "alan", "Alan Turing"),
        user("u3", "grace", "Grace Hopper"),
    ]
}

pub struct UsersQuery;

#[Object(name = "Query")]
impl UsersQuery {
    /// The user named by the bearer token (`Bearer <id>`).
    async fn me(&self, ctx: &Context<'_>) -> Option<User> {
        let caller = ctx.data_opt::<Caller>()?.0.clone()?;
        all_users().into_iter().find(|u| u.id.as_str() == caller)
    }

    async fn users(&self) -> Vec<User> {
        all_users()
    }

    /// A user by id; an unknown id is a `NOT_FOUND` error (with an internal detail attached
    /// that a router must not pass on).
    async fn user(&self, id: ID) -> async_graphql::Result<Option<User>> {
        all_users()
            .into_iter()
            .find(|u| u.id == id)
            .map(Some)
            .ok_or_else(|| {
                async_graphql::Error::new("No user with this id.").extend_with(|_, e| {
                    e.set("code", "NOT_FOUND");
                    e.set(
                        "stacktrace",
                        "users::resolvers::user at src/resolvers.rs:17",
                    );
                })
            })
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> Option<User> {
        all_users().into_iter().find(|u| u.id == id)
    }
}

pub struct UsersMutation;

#[Object(name = "Mutation")]
impl UsersMutation {
    /// Returns the user with a new display name (nothing is stored).
    async fn rename_user(&self, id: ID, name: String) -> Option<User> {
        all_users()
            .into_iter()
            .find(|u| u.id == id)
            .map(|u| User { name, ..u })
    }
}

pub fn users_schema() -> Schema<UsersQuery, UsersMutation, EmptySubscription> {
    Schema::build(UsersQuery, UsersMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

// ---------------------------------------------------------------- inventory

#[derive(SimpleObject, Clone)]
#[graphql(name = "Product", complex)]
pub struct StockedProduct {
    pub sku: String,
    #[graphql(external)]
    pub price: i32,
    #[graphql(external)]
    pub weight: i32,
    pub in_stock: bool,
}

#[ComplexObject]
impl StockedProduct {
    /// Days to deliver to `zone`: heavier and pricier goods ship slower.
    #[graphql(requires = "price weight")]
    async fn shipping_estimate(&self, zone: String) -> i32 {
        let base = self.price * self.weight / 100;
        base + if zone == "eu" { 1 } else { 5 }
    }
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "Warehouse")]
pub struct StockWarehouse {
    pub region: String,
    pub code: String,
    pub capacity: i32,
}

pub struct InventoryQuery;

#[Object(name = "Query")]
impl InventoryQuery {
    #[graphql(entity)]
    async fn find_product_by_sku(
        &self,
        #[graphql(key)] sku: String,
        price: Option<i32>,
        weight: Option<i32>,
    ) -> StockedProduct {
        // Without the required fields the estimate would silently be wrong; make it obvious.
        StockedProduct {
            in_stock: sku != "sku-2",
            sku,
            price: price.unwrap_or(-1_000),
            weight: weight.unwrap_or(1),
        }
    }

    #[graphql(entity)]
    async fn find_warehouse_by_region_and_code(
        &self,
        region: String,
        code: String,
    ) -> StockWarehouse {
        let capacity = match (region.as_str(), code.as_str()) {
            ("eu", "w1") => 100,
            ("eu", "w2") => 200,
            _ => 300,
        };
        StockWarehouse {
            region,
            code,
            capacity,
        }
    }
}

pub fn inventory_schema() -> Schema<InventoryQuery, EmptyMutation, EmptySubscription> {
    Schema::build(InventoryQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}
