//! Spawning the users service for integration tests: a real HTTP server on port 0, over a
//! fresh MongoDB database (dropped when the test ends) on the server `TEST_MONGODB_URL`
//! names. A missing MongoDB fails the test with a message saying what to start.

#![allow(dead_code)]

use std::{path::PathBuf, time::Duration};

use kit::{
    auth::{SigningKey, TokenPolicy},
    config::Secret,
    testing::{GraphqlClient, unique_name},
};
use serde_json::{Value, json};
use users::{
    Config, Deps, RunningService,
    accounts::LockoutPolicy,
    config::{KeySource, StoreConfig},
    passwords::{HashCost, HashLimits},
    sessions::TokenLifetimes,
};

pub const PASSWORD: &str = "correct horse battery staple";

pub fn mongo_url() -> String {
    std::env::var("TEST_MONGODB_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27018/?directConnection=true".into())
}

/// A fresh database, dropped with the guard.
pub struct TestMongo {
    pub url: String,
    pub name: String,
}

impl TestMongo {
    pub async fn new() -> Self {
        let url = mongo_url();
        let client = mongodb::Client::with_uri_str(&url)
            .await
            .unwrap_or_else(|e| panic!("bad TEST_MONGODB_URL {url}: {e}"));
        let ping = tokio::time::timeout(
            Duration::from_secs(10),
            client
                .database("admin")
                .run_command(mongodb::bson::doc! { "ping": 1 }),
        )
        .await;
        if !matches!(ping, Ok(Ok(_))) {
            panic!(
                "MongoDB is required for this test and is not reachable at {url}; start one, e.g. \
                 `python -m secantus --host 127.0.0.1 --port 27018 --storage-path :memory:`, or set TEST_MONGODB_URL"
            );
        }
        Self {
            url,
            name: unique_name("users"),
        }
    }

    pub async fn database(&self) -> mongodb::Database {
        mongodb::Client::with_uri_str(&self.url)
            .await
            .expect("client")
            .database(&self.name)
    }
}

impl Drop for TestMongo {
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(client) = mongodb::Client::with_uri_str(&url).await {
                    let _ = client.database(&name).drop().await;
                }
            });
        })
        .join();
    }
}

pub fn config(store: StoreConfig, keys: Vec<SigningKey>) -> Config {
    Config {
        addr: "127.0.0.1:0".parse().expect("addr"),
        store,
        keys: KeySource::Configured(keys),
        token_policy: TokenPolicy::default(),
        lifetimes: TokenLifetimes::default(),
        hash_cost: HashCost::OWASP_MINIMUM,
        hash_limits: HashLimits::default(),
        lockout: LockoutPolicy::default(),
        bootstrap_admin: None,
        internal: kit::internal::InternalConfig {
            metrics_addr: Some("127.0.0.1:0".parse().expect("addr")),
            ..Default::default()
        },
    }
}

pub struct TestApp {
    pub service: RunningService,
    pub client: GraphqlClient,
    pub base: String,
    /// Base URL of the internal metrics listener.
    pub metrics_base: String,
    /// Kept last so the database outlives the service.
    pub db: Option<TestMongo>,
}

/// The service on a fresh MongoDB database with one generated key.
pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestMongo::new().await;
    let mut app = start_on(&db, vec![SigningKey::generate()], configure).await;
    app.db = Some(db);
    app
}

fn mongo_config(db: &TestMongo) -> StoreConfig {
    StoreConfig::Mongo {
        url: Secret::new(db.url.clone()),
        database: db.name.clone(),
    }
}

/// Another service instance on an existing database (restarts, several replicas).
pub async fn start_on(
    db: &TestMongo,
    keys: Vec<SigningKey>,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    let mut cfg = config(mongo_config(db), keys);
    configure(&mut cfg);
    start_config(cfg).await
}

pub async fn start_config(cfg: Config) -> TestApp {
    let service = users::start(cfg, Deps::default())
        .await
        .expect("the service starts");
    let base = format!("http://{}", service.addr);
    let metrics_base = format!(
        "http://{}",
        service.metrics_addr.expect("metrics listener configured")
    );
    TestApp {
        client: GraphqlClient::new(format!("{base}/graphql")),
        base,
        metrics_base,
        service,
        db: None,
    }
}

pub async fn start_embedded(dir: PathBuf) -> TestApp {
    start_config(config(
        StoreConfig::Embedded { dir },
        vec![SigningKey::generate()],
    ))
    .await
}

pub const REGISTER: &str = r#"mutation($input: RegisterInput!) {
  register(input: $input) {
    user { id email name role createdAt }
    accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt
  }
}"#;

pub const LOGIN: &str = r#"mutation($input: LoginInput!) {
  login(input: $input) {
    user { id email name role }
    accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt
  }
}"#;

pub const REFRESH: &str = r#"mutation($input: RefreshSessionInput!) {
  refreshSession(input: $input) { user { id role } accessToken refreshToken }
}"#;

pub const LOGOUT: &str = r#"mutation($input: LogoutInput!) { logout(input: $input) { success } }"#;

pub const ME: &str = "{ me { id email name role createdAt } }";

impl TestApp {
    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let bearer = token.map(|t| format!("Bearer {t}"));
        self.client.post(query, variables, bearer.as_deref()).await
    }

    pub async fn register(&self, email: &str, name: &str, password: &str) -> Value {
        self.gql(
            REGISTER,
            json!({ "input": { "email": email, "name": name, "password": password } }),
            None,
        )
        .await
    }

    /// Registers and returns `register`'s payload, failing the test on any error.
    pub async fn register_ok(&self, email: &str) -> Value {
        let resp = self.register(email, "Test User", PASSWORD).await;
        assert!(resp["errors"].is_null(), "register failed: {resp}");
        resp["data"]["register"].clone()
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        self.gql(
            LOGIN,
            json!({ "input": { "email": email, "password": password } }),
            None,
        )
        .await
    }

    /// Logs in as the router would forward it for a client at `ip`; returns the HTTP status
    /// and `Retry-After` with the body.
    pub async fn login_from(
        &self,
        email: &str,
        password: &str,
        ip: &str,
    ) -> (u16, Option<String>, Value) {
        let resp = self
            .client
            .http
            .post(&self.client.url)
            .header(kit::graphql::CLIENT_IP_HEADER, ip)
            .json(&json!({ "query": LOGIN, "variables": { "input": { "email": email, "password": password } } }))
            .send()
            .await
            .expect("the service answers");
        let status = resp.status().as_u16();
        let retry = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (status, retry, resp.json().await.expect("JSON"))
    }

    pub async fn refresh(&self, refresh_token: &str) -> Value {
        self.gql(
            REFRESH,
            json!({ "input": { "refreshToken": refresh_token } }),
            None,
        )
        .await
    }

    pub async fn me(&self, token: &str) -> Value {
        self.gql(ME, json!({}), Some(token)).await
    }

    /// An admin's access token: registers a user, promotes it in the database, and logs in.
    pub async fn admin_token(&self, email: &str) -> String {
        self.register_ok(email).await;
        let db = self.db.as_ref().expect("a MongoDB-backed app");
        db.database()
            .await
            .collection::<mongodb::bson::Document>("users")
            .update_one(
                mongodb::bson::doc! { "email": email },
                mongodb::bson::doc! { "$set": { "role": "ADMIN" } },
            )
            .await
            .expect("promote");
        let resp = self.login(email, PASSWORD).await;
        resp["data"]["login"]["accessToken"]
            .as_str()
            .expect("admin token")
            .to_owned()
    }

    pub async fn users_collection(&self) -> mongodb::Collection<mongodb::bson::Document> {
        self.db
            .as_ref()
            .expect("a MongoDB-backed app")
            .database()
            .await
            .collection("users")
    }
}

pub fn error_code(resp: &Value) -> Option<&str> {
    kit::testing::first_error_code(resp)
}

pub fn error_field(resp: &Value) -> Option<&str> {
    resp["errors"][0]["extensions"]["field"].as_str()
}
