//! Shared helpers of the router's integration tests: test subgraphs, a JWKS server, token
//! minting, and a harness that runs the router on a free port in front of them.
#![allow(dead_code)]

pub mod subgraphs;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use base64::Engine as _;
use http::{HeaderMap, StatusCode};
use platform::auth::{Role, SigningKey, TokenPolicy, jwks_of, new_claims};
use router::{RouterConfig, RunningRouter};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use self::subgraphs::TestSubgraph;

pub const ISSUER: &str = "https://users.test";
pub const AUDIENCE: &str = "commerce-test";
pub const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// The supergraph composed from `tests/fixtures/{orders,products,users}.graphql`.
pub fn fixture_supergraph() -> String {
    std::fs::read_to_string(fixture_path("supergraph.graphql")).unwrap()
}

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Serves a JWKS with one signing key.
pub struct Jwks {
    pub url: String,
    pub key: SigningKey,
    shutdown: CancellationToken,
}

impl Drop for Jwks {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Jwks {
    pub async fn start() -> Self {
        let key = SigningKey::generate();
        let jwks = serde_json::to_value(jwks_of([&key]).unwrap()).unwrap();
        let app = axum::Router::new().route(
            "/.well-known/jwks.json",
            axum::routing::get(move || {
                let jwks = jwks.clone();
                async move { axum::Json(jwks) }
            }),
        );
        let (addr, shutdown) = platform::testing::serve_on_loopback(app).await;
        Self {
            url: format!("http://{addr}/.well-known/jwks.json"),
            key,
            shutdown,
        }
    }

    pub fn policy() -> TokenPolicy {
        TokenPolicy {
            issuer: ISSUER.into(),
            audience: AUDIENCE.into(),
            leeway: Duration::from_secs(0),
        }
    }

    /// A valid token for a fresh user; returns the token and the user id.
    pub fn token(&self) -> (String, String) {
        let claims = new_claims(
            &Self::policy(),
            uuid::Uuid::now_v7(),
            Role::Customer,
            Duration::from_secs(300),
        );
        let sub = claims.sub.clone();
        (self.key.sign(&claims).unwrap(), sub)
    }

    pub fn token_with(
        &self,
        key: &SigningKey,
        edit: impl FnOnce(&mut platform::auth::Claims),
    ) -> String {
        let mut claims = new_claims(
            &Self::policy(),
            uuid::Uuid::now_v7(),
            Role::Customer,
            Duration::from_secs(300),
        );
        edit(&mut claims);
        key.sign(&claims).unwrap()
    }
}

/// An unsigned token (`alg: none`) with otherwise valid claims.
pub fn unsigned_token(kid: &str) -> String {
    let claims = new_claims(
        &Jwks::policy(),
        uuid::Uuid::now_v7(),
        Role::Admin,
        Duration::from_secs(300),
    );
    let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let header = b64(format!(r#"{{"alg":"none","typ":"JWT","kid":"{kid}"}}"#).as_bytes());
    let payload = b64(&serde_json::to_vec(&claims).unwrap());
    format!("{header}.{payload}.")
}

/// A reply from the router.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// The router on a free port in front of the three test subgraphs.
pub struct Harness {
    pub router: Option<RunningRouter>,
    pub base: String,
    pub products: TestSubgraph,
    pub users: TestSubgraph,
    pub orders: TestSubgraph,
    pub jwks: Jwks,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub async fn start() -> Self {
        Self::with(|_, _| {}).await
    }

    /// Starts everything; `edit` adjusts the router config before it starts.
    pub async fn with(edit: impl FnOnce(&mut RouterConfig, &Path)) -> Self {
        Self::try_with(edit)
            .await
            .unwrap_or_else(|e| panic!("router did not start: {e}"))
    }

    pub async fn try_with(
        edit: impl FnOnce(&mut RouterConfig, &Path),
    ) -> Result<Self, router::StartError> {
        let products = subgraphs::serve(subgraphs::products_schema()).await;
        let users = subgraphs::serve(subgraphs::users_schema()).await;
        let orders = subgraphs::serve(subgraphs::orders_schema()).await;
        let jwks = Jwks::start().await;
        let dir = tempfile::tempdir().unwrap();
        let supergraph = dir.path().join("supergraph.graphql");
        std::fs::write(&supergraph, fixture_supergraph()).unwrap();

        let mut config = RouterConfig::default();
        config.listen.addr = SocketAddr::from(([127, 0, 0, 1], 0));
        config.listen.shutdown_grace_secs = 2;
        config.listen.metrics_addr = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        config.supergraph.path = supergraph;
        config.supergraph.poll_interval_secs = 0;
        config.subgraphs.urls = [
            ("products".to_owned(), products.url.clone()),
            ("users".to_owned(), users.url.clone()),
            ("orders".to_owned(), orders.url.clone()),
        ]
        .into_iter()
        .collect();
        config.auth.jwks_url = jwks.url.clone();
        config.auth.issuer = ISSUER.into();
        config.auth.audience = AUDIENCE.into();
        config.auth.leeway_secs = 0;
        config.graphiql.assets_dir = dir.path().join("no-assets");
        edit(&mut config, dir.path());
        config.validate().expect("test config is valid");

        let router = router::spawn(config).await?;
        Ok(Self {
            base: format!("http://{}", router.addr),
            router: Some(router),
            products,
            users,
            orders,
            jwks,
            client: reqwest::Client::new(),
            dir,
        })
    }

    pub fn router(&self) -> &RunningRouter {
        self.router.as_ref().unwrap()
    }

    /// Requests received by all subgraphs together.
    pub fn subgraph_hits(&self) -> usize {
        self.products.hits() + self.users.hits() + self.orders.hits()
    }

    /// `POST /graphql` with a JSON body, accepting `application/graphql-response+json`.
    pub async fn post(&self, body: Value) -> Reply {
        self.post_with(body, &[("accept", GRAPHQL_RESPONSE)]).await
    }

    pub async fn post_with(&self, body: Value, headers: &[(&str, &str)]) -> Reply {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap());
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        Self::reply(request).await
    }

    /// A request with full control over method, path, headers and body.
    pub async fn raw(
        &self,
        method: http::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .body(body);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        Self::reply(request).await
    }

    async fn reply(request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        Reply {
            status,
            headers,
            text,
        }
    }

    /// `/metrics` from the router's internal metrics listener.
    pub async fn metrics(&self) -> String {
        let addr = self
            .router()
            .metrics_addr
            .expect("the test router serves metrics");
        let request = self.client.get(format!("http://{addr}/metrics"));
        Self::reply(request).await.text
    }
}

/// `{"errors":[{"message":..,"extensions":{"code":..}}]}`, the body of an edge rejection.
pub fn rejection(message: &str, code: &str) -> Value {
    serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

/// Percent-encodes a query-string value.
pub fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
