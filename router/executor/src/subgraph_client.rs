//! The HTTP client for subgraphs: one pooled hyper client (keep-alive, HTTP/1.1 or HTTP/2 with
//! prior knowledge), a per-subgraph timeout covering the whole exchange, and parsing of the
//! GraphQL response body.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde::Deserialize;
use serde_json::{Map, Value};
use tracing::Instrument as _;

use crate::ExecutorConfig;
use crate::metrics::{SubgraphEvent, SubgraphObserver, SubgraphOutcome};

/// Where and how patiently to call one subgraph.
#[derive(Debug, Clone)]
pub(crate) struct SubgraphEndpoint {
    pub(crate) name: Arc<str>,
    pub(crate) uri: Uri,
    pub(crate) timeout: Duration,
}

impl SubgraphEndpoint {
    /// `None` when `url` is not an absolute `http://` URI. The connector speaks plain TCP:
    /// subgraphs are reached inside the private network, so `https://` is refused up front
    /// rather than failing on every request.
    pub(crate) fn new(name: &str, url: &str, timeout: Duration) -> Option<Self> {
        let uri: Uri = url.parse().ok()?;
        match uri.scheme_str() {
            Some("http") if uri.host().is_some() => Some(Self {
                name: name.into(),
                uri,
                timeout,
            }),
            _ => None,
        }
    }
}

/// Why a subgraph fetch produced no GraphQL response. Details go to the log, not the client.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("no response within {0:?}")]
    Timeout(Duration),
    #[error("transport failure: {0}")]
    Transport(String),
    #[error("HTTP status {0}")]
    HttpStatus(u16),
    #[error("the response body is not a GraphQL response: {0}")]
    InvalidResponse(String),
}

/// One error of a subgraph's GraphQL response.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SubgraphError {
    #[serde(default)]
    pub(crate) message: String,
    #[serde(default)]
    pub(crate) path: Option<Vec<Value>>,
    #[serde(default)]
    pub(crate) extensions: Option<Map<String, Value>>,
}

/// A subgraph's GraphQL response.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SubgraphResponse {
    #[serde(default)]
    pub(crate) data: Option<Value>,
    #[serde(default)]
    pub(crate) errors: Vec<SubgraphError>,
}

/// What a (possibly shared) fetch yields.
pub(crate) type FetchResult = Result<Arc<SubgraphResponse>, FetchError>;

/// Carries subgraph requests instead of HTTP: a benchmark replaying recorded answers, or a
/// recorder in front of real subgraphs. Everything after the exchange (parsing the answer,
/// merging, shaping) runs as it does over HTTP.
pub trait SubgraphTransport: Send + Sync + 'static {
    /// Sends `body` (a GraphQL request) to `subgraph` and returns the answer's body;
    /// an `Err` is reported as a transport failure.
    fn post(&self, subgraph: &str, body: Bytes) -> BoxFuture<'static, Result<Bytes, String>>;
}

pub(crate) struct SubgraphClient {
    client: Client<HttpConnector, Full<Bytes>>,
    transport: Option<Arc<dyn SubgraphTransport>>,
}

impl SubgraphClient {
    pub(crate) fn new(config: &ExecutorConfig) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_keepalive(Some(Duration::from_secs(60)));
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(config.pool_idle_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .http2_only(config.http2)
            .build(connector);
        Self {
            client,
            transport: config.transport.clone(),
        }
    }

    /// Posts `body` to the subgraph and parses the answer, in a `subgraph.fetch` span; reports
    /// the outcome to `observer`.
    pub(crate) async fn fetch(
        &self,
        endpoint: &SubgraphEndpoint,
        body: Bytes,
        forward_headers: &HeaderMap,
        observer: Option<&dyn SubgraphObserver>,
    ) -> FetchResult {
        let span = tracing::info_span!(
            "subgraph.fetch",
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            subgraph = %endpoint.name,
        );
        let started = Instant::now();
        let result = match tokio::time::timeout(
            endpoint.timeout,
            self.exchange(endpoint, body, forward_headers, observer)
                .instrument(span.clone()),
        )
        .await
        {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout(endpoint.timeout)),
        };
        // The failure warning below belongs to this fetch (an event of its span when exported).
        let _entered = span.enter();
        let outcome = match &result {
            Ok(response) if response.errors.is_empty() => SubgraphOutcome::Success,
            Ok(_) => SubgraphOutcome::GraphQLErrors,
            Err(FetchError::Timeout(_)) => SubgraphOutcome::Timeout,
            Err(FetchError::HttpStatus(status)) => SubgraphOutcome::HttpStatus(*status),
            Err(FetchError::InvalidResponse(_)) => SubgraphOutcome::InvalidResponse,
            Err(FetchError::Transport(_)) => SubgraphOutcome::Transport,
        };
        if let Err(error) = &result {
            span.record("otel.status_code", "ERROR");
            tracing::warn!(subgraph = %endpoint.name, %error, "subgraph request failed");
        }
        if let Some(observer) = observer {
            observer.on_subgraph_request(&SubgraphEvent {
                subgraph: &endpoint.name,
                latency: started.elapsed(),
                outcome,
            });
        }
        result.map(Arc::new)
    }

    async fn exchange(
        &self,
        endpoint: &SubgraphEndpoint,
        body: Bytes,
        forward_headers: &HeaderMap,
        observer: Option<&dyn SubgraphObserver>,
    ) -> Result<SubgraphResponse, FetchError> {
        if let Some(transport) = &self.transport {
            let body = transport
                .post(&endpoint.name, body)
                .await
                .map_err(FetchError::Transport)?;
            return parse_answer(http::StatusCode::OK, &body);
        }
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(endpoint.uri.clone())
            .body(Full::new(body))
            .map_err(|e| FetchError::Transport(e.to_string()))?;
        let headers = request.headers_mut();
        for (name, value) in forward_headers {
            headers.append(name.clone(), value.clone());
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/graphql-response+json, application/json"),
        );
        if let Some(observer) = observer {
            observer.before_subgraph_request(&endpoint.name, headers);
        }

        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| FetchError::Transport(e.to_string()))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| FetchError::Transport(e.to_string()))?
            .to_bytes();
        parse_answer(status, &body)
    }
}

/// Parses a subgraph's answer body received with `status`.
fn parse_answer(status: http::StatusCode, body: &[u8]) -> Result<SubgraphResponse, FetchError> {
    match serde_json::from_slice::<SubgraphResponse>(body) {
        // GraphQL over HTTP allows 4xx/5xx with a GraphQL body; its errors are more useful
        // to the client than the bare status.
        Ok(parsed) if parsed.data.is_some() || !parsed.errors.is_empty() => Ok(parsed),
        _ if !status.is_success() => Err(FetchError::HttpStatus(status.as_u16())),
        Ok(_) => Err(FetchError::InvalidResponse(
            "neither data nor errors".to_owned(),
        )),
        Err(e) => Err(FetchError::InvalidResponse(e.to_string())),
    }
}
