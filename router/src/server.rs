//! Starting and stopping a router: [`spawn`] binds, loads the supergraph and serves until
//! [`RunningRouter::shutdown`] (or a cancelled token) stops it gracefully.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use async_trait::async_trait;
use axum::{
    Router,
    body::Body,
    extract::State,
    http::{HeaderMap, Method, Uri, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use http::{HeaderName, HeaderValue, StatusCode};
use platform::health::{ReadinessCheck, RunningServer};
use tokio_util::sync::CancellationToken;
use tower_http::{
    compression::{
        CompressionLayer,
        predicate::{NotForContentType, Predicate, SizeAbove},
    },
    cors::{AllowOrigin, CorsLayer},
    services::ServeDir,
};

use crate::{
    compose::{self, ComposeError},
    config::RouterConfig,
    graphiql::{ASSETS_ROUTE, AssetSource, GraphiqlPage},
    metrics::Metrics,
    pipeline::{
        self,
        headers::{self, HeaderRuleError, HeaderRules},
        persisted::{ManifestError, PersistedOperations},
    },
    reload::{self, LoadError},
    state::AppState,
};

/// Why the router did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Supergraph(#[from] LoadError),
    #[error(transparent)]
    Compose(#[from] ComposeError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("invalid header propagation rules: {0}")]
    Headers(#[from] HeaderRuleError),
}

/// A router serving on [`RunningRouter::addr`].
pub struct RunningRouter {
    /// The bound address (the real port when the config asked for port 0).
    pub addr: SocketAddr,
    /// Where `/metrics` is served, when `listen.metrics_addr` is set.
    pub metrics_addr: Option<SocketAddr>,
    state: Arc<AppState>,
    shutdown: CancellationToken,
    server: RunningServer,
    grace: Duration,
}

impl std::fmt::Debug for RunningRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningRouter")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningRouter {
    /// Shared state, for inspection (tests, embedding).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Cancelling this token starts a graceful shutdown.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting connections, lets in-flight requests finish within the grace
    /// period, then returns.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        self.wait().await;
    }

    /// Waits until the router stops (after its shutdown token is cancelled).
    pub async fn wait(self) {
        let RunningRouter {
            state,
            shutdown,
            server,
            grace,
            ..
        } = self;
        shutdown.cancelled().await;
        state.start_draining();
        let mut task = server.task;
        match tokio::time::timeout(grace, &mut task).await {
            Ok(Ok(Ok(()))) => tracing::info!("router stopped"),
            Ok(Ok(Err(e))) => tracing::error!(error = %e, "router stopped with an error"),
            Ok(Err(e)) => tracing::error!(error = %e, "router task failed"),
            Err(_) => {
                tracing::warn!(
                    grace_secs = grace.as_secs(),
                    "requests still running after the grace period; aborting them"
                );
                task.abort();
            }
        }
    }
}

/// Loads everything the config names, binds the listen address and serves.
pub async fn spawn(config: RouterConfig) -> Result<RunningRouter, StartError> {
    let mut registry = Metrics::registry();
    let metrics = Arc::new(Metrics::register(&mut registry));
    let header_rules = HeaderRules::from_config(&config.headers)?;
    let persisted = PersistedOperations::load(&config.persisted_operations, &config.apq)?;
    let graphiql = config
        .graphiql_enabled()
        .then(|| GraphiqlPage::new(&config.graphiql.assets_dir));
    match graphiql.as_ref().map(|p| &p.source) {
        Some(AssetSource::Local(dir)) => {
            tracing::info!(dir = %dir.display(), "GraphiQL assets served locally")
        }
        Some(AssetSource::Cdn) => tracing::info!(
            dir = %config.graphiql.assets_dir.display(),
            "GraphiQL assets not installed locally (run router/graphiql/install.sh); loading them from the CDN"
        ),
        None => tracing::info!("GraphiQL disabled"),
    }
    if !persisted.is_empty() {
        tracing::info!(operations = persisted.len(), mode = ?config.persisted_operations.mode, "persisted operations loaded");
    }

    let state = Arc::new(AppState::new(
        config,
        metrics,
        header_rules,
        persisted,
        graphiql,
    ));
    let config = &state.config;
    let shutdown = CancellationToken::new();

    let hot_reload = match &config.supergraph.compose_from {
        Some(manifest) => {
            let sdl = compose::compose_file(manifest).await?;
            let loaded = reload::build(&state, sdl, manifest.display().to_string()).await?;
            tracing::info!(from = %manifest.display(), sha256 = %loaded.sha256, "supergraph composed at start-up");
            state.install(loaded);
            false
        }
        None => {
            let loaded = reload::load(&state, &config.supergraph.path).await?;
            warn_unknown_subgraphs(config, &loaded.executor);
            tracing::info!(path = %config.supergraph.path.display(), sha256 = %loaded.sha256, "supergraph loaded");
            state.install(loaded);
            config.supergraph.poll_interval_secs > 0
        }
    };
    if hot_reload {
        tokio::spawn(reload::watch(
            state.clone(),
            config.supergraph.path.clone(),
            Duration::from_secs(config.supergraph.poll_interval_secs),
            shutdown.clone(),
        ));
    }

    let metrics_server = platform::health::serve_metrics(
        config.listen.metrics_addr,
        Arc::new(registry),
        shutdown.clone(),
    )
    .await
    .map_err(|source| StartError::Bind {
        addr: config.listen.metrics_addr.unwrap_or(config.listen.addr),
        source,
    })?;
    let app = app(state.clone());
    let addr = config.listen.addr;
    let server = platform::health::serve(addr, app, shutdown.clone())
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    tracing::info!(addr = %server.addr, introspection = state.introspection, "router listening");
    Ok(RunningRouter {
        addr: server.addr,
        metrics_addr: metrics_server.map(|m| m.addr),
        grace: Duration::from_secs(state.config.listen.shutdown_grace_secs),
        state,
        shutdown,
        server,
    })
}

/// A URL override for a name the supergraph does not have is almost always a typo.
fn warn_unknown_subgraphs(config: &RouterConfig, executor: &executor::Executor) {
    let known = executor.subgraph_urls();
    for name in config
        .subgraphs
        .urls
        .keys()
        .filter(|n| !known.contains_key(*n))
    {
        tracing::warn!(subgraph = %name, "subgraphs.urls names a subgraph the supergraph does not have");
    }
}

/// Readiness: a supergraph is loaded and the router is not draining.
struct SupergraphReady(Arc<AppState>);

#[async_trait]
impl ReadinessCheck for SupergraphReady {
    fn name(&self) -> &str {
        "supergraph"
    }

    async fn check(&self) -> Result<(), String> {
        if self.0.is_ready() {
            Ok(())
        } else if self.0.executor().is_some() {
            Err("shutting down".to_owned())
        } else {
            Err("no supergraph loaded".to_owned())
        }
    }
}

fn app(state: Arc<AppState>) -> Router {
    let graphql = headers::with_request_ids(
        Router::new()
            .route("/graphql", get(get_graphql).post(pipeline::graphql))
            .route(API_SCHEMA_ROUTE, get(api_schema))
            .with_state(state.clone()),
    );
    let mut public = match cors_layer(&state.config) {
        Some(cors) => graphql.layer(cors),
        None => graphql,
    };
    if let Some(page) = &state.graphiql {
        public = public.merge(
            Router::new()
                .route("/", get(graphiql_page))
                .route("/graphiql", get(graphiql_page))
                .with_state(state.clone()),
        );
        if let AssetSource::Local(dir) = &page.source {
            public = public.nest_service(ASSETS_ROUTE, ServeDir::new(dir));
        }
    }
    if let Some(compression) = compression_layer(&state.config) {
        public = public.layer(compression);
    }
    public.merge(platform::health::routes(vec![Arc::new(SupergraphReady(
        state.clone(),
    ))]))
}

/// Where the client API schema is published (when introspection is on).
pub const API_SCHEMA_ROUTE: &str = "/schema.graphql";

/// `GET /schema.graphql`: the API schema clients see, as SDL, for codegen tools. It is
/// what introspection would tell, so it is only served where introspection is enabled.
async fn api_schema(State(state): State<Arc<AppState>>) -> Response {
    let text_plain = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    )];
    if !state.introspection {
        return (
            StatusCode::NOT_FOUND,
            text_plain,
            "the API schema is not published here: introspection is disabled on this router\n",
        )
            .into_response();
    }
    match state.executor() {
        Some(executor) => (
            StatusCode::OK,
            text_plain,
            compose::api_schema_of(&executor),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            text_plain,
            "the router has no supergraph loaded yet\n",
        )
            .into_response(),
    }
}

/// gzip, Brotli and zstd by `Accept-Encoding`, for bodies of at least
/// `compression.min_size_bytes` (never for event streams or images).
fn compression_layer(config: &RouterConfig) -> Option<CompressionLayer<impl Predicate + use<>>> {
    let settings = &config.compression;
    if !settings.enabled {
        return None;
    }
    let predicate = SizeAbove::new(settings.min_size_bytes.saturating_sub(1))
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE);
    Some(
        CompressionLayer::new()
            .gzip(true)
            .br(true)
            .zstd(true)
            .compress_when(predicate),
    )
}

/// `GET /graphql`: the IDE for a browser navigating there, otherwise a GraphQL query.
async fn get_graphql(
    state: State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    connect: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html
        && uri.query().is_none_or(str::is_empty)
        && let Some(page) = &state.graphiql
    {
        return Html(page.html.clone()).into_response();
    }
    pipeline::graphql(state, method, uri, connect, headers, body).await
}

async fn graphiql_page(State(state): State<Arc<AppState>>) -> Response {
    match &state.graphiql {
        Some(page) => Html(page.html.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn cors_layer(config: &RouterConfig) -> Option<CorsLayer> {
    let cors = &config.cors;
    if cors.allow_origins.is_empty() {
        return None;
    }
    let origin = if cors.allow_origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        // Validated at start-up, so nothing is dropped here.
        AllowOrigin::list(
            cors.allow_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        )
    };
    let mut headers: Vec<HeaderName> = vec![
        header::CONTENT_TYPE,
        header::AUTHORIZATION,
        HeaderName::from_static("apollo-require-preflight"),
        HeaderName::from_static("x-apollo-operation-name"),
        HeaderName::from_static("x-request-id"),
        HeaderName::from_static("traceparent"),
    ];
    headers.extend(
        cors.allow_headers
            .iter()
            .filter_map(|h| HeaderName::from_bytes(h.as_bytes()).ok()),
    );
    Some(
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers(headers)
            .expose_headers([HeaderName::from_static("x-request-id")])
            .allow_credentials(cors.allow_credentials)
            .max_age(Duration::from_secs(cors.max_age_secs)),
    )
}
