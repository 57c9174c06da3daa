//! Test harness: runs the four test subgraphs on 127.0.0.1 port 0, counts what each receives,
//! can make a subgraph slow or broken, and builds an executor over the checked-in supergraph
//! with its URLs pointed at the running subgraphs.
#![allow(dead_code)]

pub mod subgraphs;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use executor::{Executor, ExecutorConfig};
use serde_json::Value;

use subgraphs::Caller;

/// How a subgraph answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    Normal = 0,
    /// HTTP 500 with a body that is not GraphQL (and mentions internals that must not leak).
    ServerError = 1,
    /// HTTP 200 with a body that is not JSON.
    Garbage = 2,
}

/// What a subgraph has received.
#[derive(Default)]
pub struct Received {
    pub requests: AtomicUsize,
    pub entity_requests: AtomicUsize,
    pub bodies: Mutex<Vec<Value>>,
    pub authorizations: Mutex<Vec<Option<String>>>,
}

impl Received {
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn entity_requests(&self) -> usize {
        self.entity_requests.load(Ordering::SeqCst)
    }

    pub fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().expect("bodies lock").clone()
    }
}

/// Knobs to make a subgraph misbehave.
pub struct Controls {
    mode: AtomicU8,
    delay_ms: AtomicU64,
    /// `true` while requests may proceed; `hold` parks every request until `release`.
    gate: tokio::sync::watch::Sender<bool>,
}

impl Default for Controls {
    fn default() -> Self {
        Self {
            mode: AtomicU8::new(Mode::Normal as u8),
            delay_ms: AtomicU64::new(0),
            gate: tokio::sync::watch::channel(true).0,
        }
    }
}

impl Controls {
    /// Parks requests (after counting them) until [`Controls::release`].
    pub fn hold(&self) {
        self.gate.send_replace(false);
    }

    pub fn release(&self) {
        self.gate.send_replace(true);
    }

    pub fn set_mode(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }
}

pub struct RunningSubgraph {
    pub url: String,
    pub received: Arc<Received>,
    pub controls: Arc<Controls>,
}

struct ServerState<E> {
    schema: E,
    received: Arc<Received>,
    controls: Arc<Controls>,
}

async fn handle<E: async_graphql::Executor>(
    State(state): State<Arc<ServerState<E>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let received = &state.received;
    received.requests.fetch_add(1, Ordering::SeqCst);
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if parsed["query"]
        .as_str()
        .is_some_and(|q| q.contains("_entities"))
    {
        received.entity_requests.fetch_add(1, Ordering::SeqCst);
    }
    received.bodies.lock().expect("bodies lock").push(parsed);
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    received
        .authorizations
        .lock()
        .expect("authorizations lock")
        .push(authorization.clone());

    let mut gate = state.controls.gate.subscribe();
    let _ = gate.wait_for(|open| *open).await;
    let delay = state.controls.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    match state.controls.mode.load(Ordering::SeqCst) {
        1 => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "panic at /srv/subgraph/src/db.rs:42 connecting to postgres://10.0.0.7",
            )
                .into_response();
        }
        2 => return (StatusCode::OK, "<html>not json</html>").into_response(),
        _ => {}
    }

    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(_) => return (StatusCode::BAD_REQUEST, "bad request").into_response(),
    };
    let caller = authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Bearer "))
        .map(str::to_owned);
    let response = state.schema.execute(request.data(Caller(caller))).await;
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(&response).expect("response serialises"),
    )
        .into_response()
}

pub async fn spawn_subgraph<E: async_graphql::Executor>(schema: E) -> RunningSubgraph {
    let received = Arc::new(Received::default());
    let controls = Arc::new(Controls::default());
    let state = Arc::new(ServerState {
        schema,
        received: received.clone(),
        controls: controls.clone(),
    });
    let app = axum::Router::new()
        .route("/graphql", post(handle::<E>))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a local port");
    let address = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("subgraph server");
    });
    RunningSubgraph {
        url: format!("http://{address}/graphql"),
        received,
        controls,
    }
}

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

pub fn supergraph_sdl() -> String {
    std::fs::read_to_string(fixture_path("supergraph.graphql")).expect("supergraph fixture")
}

/// The four subgraphs running, and an executor over them.
pub struct TestGraph {
    pub executor: Executor,
    pub products: RunningSubgraph,
    pub reviews: RunningSubgraph,
    pub users: RunningSubgraph,
    pub inventory: RunningSubgraph,
}

impl TestGraph {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts the subgraphs; `configure` adjusts the executor configuration (URLs are set).
    pub async fn start_with(configure: impl FnOnce(&mut ExecutorConfig)) -> Self {
        let products = spawn_subgraph(subgraphs::products_schema()).await;
        let reviews = spawn_subgraph(subgraphs::reviews_schema()).await;
        let users = spawn_subgraph(subgraphs::users_schema()).await;
        let inventory = spawn_subgraph(subgraphs::inventory_schema()).await;
        let mut config = ExecutorConfig {
            subgraph_urls: HashMap::from([
                ("products".to_owned(), products.url.clone()),
                ("reviews".to_owned(), reviews.url.clone()),
                ("users".to_owned(), users.url.clone()),
                ("inventory".to_owned(), inventory.url.clone()),
            ]),
            ..ExecutorConfig::default()
        };
        configure(&mut config);
        let executor = Executor::new(&supergraph_sdl(), config).expect("executor builds");
        Self {
            executor,
            products,
            reviews,
            users,
            inventory,
        }
    }

    /// Prepares and executes `query` without forwarded headers.
    pub async fn run(&self, query: &str, variables: Value) -> executor::Response {
        self.run_with_headers(query, variables, HeaderMap::new())
            .await
    }

    pub async fn run_with_headers(
        &self,
        query: &str,
        variables: Value,
        headers: HeaderMap,
    ) -> executor::Response {
        let prepared = match self.executor.prepare(query, None) {
            Ok(prepared) => prepared,
            Err(error) => return error.into_response(),
        };
        let variables = match variables {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        self.executor.execute(&prepared, variables, headers).await
    }

    /// Runs `query` on its own task, as a separate client request would.
    pub fn spawn(
        &self,
        query: &'static str,
        variables: Value,
        headers: HeaderMap,
    ) -> tokio::task::JoinHandle<executor::Response> {
        let executor = self.executor.clone();
        tokio::spawn(async move {
            let prepared = match executor.prepare(query, None) {
                Ok(prepared) => prepared,
                Err(error) => return error.into_response(),
            };
            let variables = variables.as_object().cloned().unwrap_or_default();
            executor.execute(&prepared, variables, headers).await
        })
    }

    pub fn total_requests(&self) -> usize {
        [&self.products, &self.reviews, &self.users, &self.inventory]
            .iter()
            .map(|s| s.received.requests())
            .sum()
    }
}

/// The response as JSON, for whole-response comparisons.
pub fn body(response: &executor::Response) -> Value {
    serde_json::from_slice(&response.to_bytes()).expect("response body is JSON")
}

pub fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header value"),
    );
    headers
}

/// Waits until `condition` holds; fails the test after ten seconds instead of hanging.
pub async fn wait_until(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..2000 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("gave up waiting until {what}");
}

/// Awaits every task's response.
pub async fn responses(
    tasks: Vec<tokio::task::JoinHandle<executor::Response>>,
) -> Vec<executor::Response> {
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await.expect("execution task"));
    }
    out
}
