//! Small federation v2 subgraphs for the router's integration tests.
//!
//! - `products`: `Query.products`, `Query.product(id)`, `Product @key(id)`, and
//!   `Query.requestHeader(name)` which echoes a request header back (to check propagation);
//! - `users`: `Query.me` (the caller, read from the forwarded bearer token's `sub`),
//!   `Query.user(id)`, `User @key(id)`;
//! - `orders`: adds `User.orders`, whose items point at `Product` stubs.
//!
//! Each server counts the requests it receives, so tests can assert that a refused
//! request reached no subgraph. A server can also hold its answers until the test releases
//! them (a subgraph as slow as the test needs), so concurrent requests overlap without
//! depending on timing.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_graphql::{
    Context, EmptyMutation, EmptySubscription, ID, Object, SDLExportOptions, Schema, SimpleObject,
};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{Router, extract::State, routing::post};
use base64::Engine as _;
use http::HeaderMap;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The request headers of one subgraph request, in the GraphQL context.
struct RequestHeaders(HeaderMap);

fn header(ctx: &Context<'_>, name: &str) -> Option<String> {
    ctx.data_opt::<RequestHeaders>()
        .and_then(|h| h.0.get(name))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The `sub` claim of the forwarded bearer token (the router has verified it).
fn caller(ctx: &Context<'_>) -> Option<String> {
    let auth = header(ctx, "authorization")?;
    let token = auth.strip_prefix("Bearer ")?;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("sub")?.as_str().map(str::to_owned)
}

// ---------- products ----------

#[derive(SimpleObject, Clone)]
pub struct Product {
    pub id: ID,
    pub name: String,
    pub price: i32,
}

fn catalog() -> Vec<Product> {
    vec![
        Product {
            id: ID::from("p1"),
            name: "Teapot".into(),
            price: 1999,
        },
        Product {
            id: ID::from("p2"),
            name: "Kettle".into(),
            price: 4550,
        },
    ]
}

pub struct ProductsQuery;

#[Object(name = "Query")]
impl ProductsQuery {
    async fn products(&self) -> Vec<Product> {
        catalog()
    }

    async fn product(&self, id: ID) -> Option<Product> {
        catalog().into_iter().find(|p| p.id == id)
    }

    /// Echoes a header of the request this subgraph received.
    async fn request_header(&self, ctx: &Context<'_>, name: String) -> Option<String> {
        header(ctx, &name)
    }

    #[graphql(entity)]
    async fn find_product_by_id(&self, id: ID) -> Option<Product> {
        catalog().into_iter().find(|p| p.id == id)
    }
}

pub struct ProductsMutation;

#[Object(name = "Mutation")]
impl ProductsMutation {
    /// Returns the product with a new name (nothing is stored).
    async fn rename_product(&self, id: ID, name: String) -> Option<Product> {
        catalog()
            .into_iter()
            .find(|p| p.id == id)
            .map(|p| Product { name, ..p })
    }
}

pub type ProductsSchema = Schema<ProductsQuery, ProductsMutation, EmptySubscription>;

pub fn products_schema() -> ProductsSchema {
    Schema::build(ProductsQuery, ProductsMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

// ---------- users ----------

#[derive(SimpleObject, Clone)]
pub struct User {
    pub id: ID,
    pub name: String,
}

pub struct UsersQuery;

#[Object(name = "Query")]
impl UsersQuery {
    /// The caller, or null when anonymous.
    async fn me(&self, ctx: &Context<'_>) -> Option<User> {
        let sub = caller(ctx)?;
        // Concurrent identical queries overlap here, which is what deduplication acts on.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        Some(User {
            name: format!("user {sub}"),
            id: ID::from(sub),
        })
    }

    /// Any user by id (the load benchmark's entry point into three subgraphs).
    async fn user(&self, id: ID) -> User {
        User {
            name: format!("user {}", id.as_str()),
            id,
        }
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> User {
        User {
            name: format!("user {}", id.as_str()),
            id,
        }
    }
}

pub type UsersSchema = Schema<UsersQuery, EmptyMutation, EmptySubscription>;

pub fn users_schema() -> UsersSchema {
    Schema::build(UsersQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

// ---------- orders ----------

#[derive(SimpleObject, Clone)]
#[graphql(name = "Product", unresolvable)]
pub struct ProductRef {
    pub id: ID,
}

#[derive(SimpleObject, Clone)]
pub struct Order {
    pub id: ID,
    pub product: ProductRef,
}

#[derive(SimpleObject, Clone)]
#[graphql(name = "User", complex)]
pub struct UserOrders {
    pub id: ID,
}

#[async_graphql::ComplexObject]
impl UserOrders {
    async fn orders(&self) -> Vec<Order> {
        let user = self.id.as_str();
        vec![
            Order {
                id: ID::from(format!("{user}-o1")),
                product: ProductRef { id: ID::from("p1") },
            },
            Order {
                id: ID::from(format!("{user}-o2")),
                product: ProductRef { id: ID::from("p2") },
            },
        ]
    }
}

pub struct OrdersQuery;

#[Object(name = "Query")]
impl OrdersQuery {
    #[graphql(entity)]
    async fn find_user_by_id(&self, id: ID) -> UserOrders {
        UserOrders { id }
    }
}

pub type OrdersSchema = Schema<OrdersQuery, EmptyMutation, EmptySubscription>;

pub fn orders_schema() -> OrdersSchema {
    Schema::build(OrdersQuery, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
}

/// Federation SDL of each test subgraph, by name.
pub fn sdls() -> Vec<(&'static str, String)> {
    let options = || SDLExportOptions::new().federation();
    vec![
        ("orders", orders_schema().sdl_with_options(options())),
        ("products", products_schema().sdl_with_options(options())),
        ("users", users_schema().sdl_with_options(options())),
    ]
}

// ---------- serving ----------

/// The longest a held request waits for [`TestSubgraph::release`]. A test that never
/// releases then fails on its assertions instead of hanging.
const MAX_HOLD: Duration = Duration::from_secs(20);

/// A running test subgraph.
pub struct TestSubgraph {
    pub url: String,
    hits: Arc<AtomicUsize>,
    seen_headers: Arc<Mutex<Vec<HeaderMap>>>,
    held: watch::Sender<bool>,
    shutdown: CancellationToken,
}

impl TestSubgraph {
    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Starts counting from zero again (after warm-up requests, for instance).
    pub fn reset_hits(&self) {
        self.hits.store(0, Ordering::SeqCst);
    }

    /// From now on, requests are counted on arrival but not answered until [`Self::release`].
    pub fn hold(&self) {
        self.held.send_replace(true);
    }

    /// Answers every held request and stops holding new ones.
    pub fn release(&self) {
        self.held.send_replace(false);
    }

    /// Headers of every request received so far.
    pub fn seen_headers(&self) -> Vec<HeaderMap> {
        self.seen_headers.lock().unwrap().clone()
    }
}

impl Drop for TestSubgraph {
    fn drop(&mut self) {
        // Held connections would otherwise keep the graceful shutdown waiting.
        self.release();
        self.shutdown.cancel();
    }
}

#[derive(Clone)]
struct Served<E: async_graphql::Executor> {
    schema: E,
    hits: Arc<AtomicUsize>,
    seen_headers: Arc<Mutex<Vec<HeaderMap>>>,
    held: watch::Receiver<bool>,
}

async fn handle<E: async_graphql::Executor>(
    State(served): State<Served<E>>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    served.hits.fetch_add(1, Ordering::SeqCst);
    {
        // Bounded, so long benchmark runs do not grow without limit.
        let mut seen = served.seen_headers.lock().unwrap();
        if seen.len() < 1_000 {
            seen.push(headers.clone());
        }
    }
    // Counted before holding, so a test can see how many requests are waiting here.
    let mut held = served.held.clone();
    let _ = tokio::time::timeout(MAX_HOLD, held.wait_for(|held| !*held)).await;
    served
        .schema
        .execute(request.into_inner().data(RequestHeaders(headers)))
        .await
        .into()
}

/// Serves `schema` on a free loopback port.
pub async fn serve<E: async_graphql::Executor + Clone>(schema: E) -> TestSubgraph {
    let hits = Arc::new(AtomicUsize::new(0));
    let seen_headers = Arc::new(Mutex::new(Vec::new()));
    let (held, held_receiver) = watch::channel(false);
    let app = Router::new()
        .route("/graphql", post(handle::<E>))
        .with_state(Served {
            schema,
            hits: hits.clone(),
            seen_headers: seen_headers.clone(),
            held: held_receiver,
        });
    let (addr, shutdown) = platform::testing::serve_on_loopback(app).await;
    TestSubgraph {
        url: format!("http://{addr}/graphql"),
        hits,
        seen_headers,
        held,
        shutdown,
    }
}
