//! Query planning and execution of client operations across federated subgraphs.
//!
//! The router's edge owns HTTP, auth and limits; this crate owns everything between a validated
//! request and its response body:
//!
//! ```text
//! Executor::new(supergraph_sdl, ExecutorConfig)          once, at start-up (or reload)
//!   ├─ Executor::parse(query, operation_name)             parse + validate (cached by text)
//!   │     -> Arc<ParsedOperation>                          .document() .kind() .uses_introspection()
//!   │        (the edge runs depth/alias/root-field/token limits on .document() here)
//!   ├─ Executor::plan(&Arc<ParsedOperation>)              normalise + plan (LRU plan cache)
//!   │     -> Arc<PreparedOperation>
//!   │   (Executor::prepare(query, operation_name) does both steps)
//!   └─ Executor::execute(&Arc<PreparedOperation>, variables, forward_headers).await
//!         -> Response                                      serde::Serialize; .to_bytes(); .stats
//! ```
//!
//! * Request errors (`GRAPHQL_PARSE_FAILED`, `GRAPHQL_VALIDATION_FAILED`, unknown operation name,
//!   subscriptions, disabled introspection) come back as [`RequestError`];
//!   [`RequestError::into_response`] renders them. Variable coercion happens in `execute` and
//!   yields a response without `data` and with `GRAPHQL_VALIDATION_FAILED` errors.
//! * `__schema`/`__type` are answered by the router from the public schema; with
//!   [`ExecutorConfig::introspection`] off, [`Executor::plan`] refuses them.
//! * Subgraph failures never lose the rest of the data: the response carries located errors
//!   (`SUBGRAPH_REQUEST_FAILED`, `SUBGRAPH_TIMEOUT`, `SUBGRAPH_INVALID_RESPONSE`, or the
//!   subgraph's own `extensions.code`), with subgraph internals kept out of the messages.
//! * Identical concurrent queries share one execution and identical concurrent subgraph fetches
//!   share one HTTP request ([`ExecutorConfig::deduplicate_operations`],
//!   [`ExecutorConfig::deduplicate_fetches`]); the key covers the operation, the variables and
//!   every forwarded header (minus [`ExecutorConfig::dedup_ignored_headers`], which can never
//!   drop credentials), and mutations are never shared. [`Executor::in_flight`] reports it.
//! * Subgraphs are called over plain HTTP (they live on the private network); an `https://`
//!   subgraph URL is refused by [`Executor::new`].
//! * [`SubgraphObserver`] receives one event per subgraph request (name, latency, outcome) for
//!   metrics; [`Response::stats`] has the per-request counts; [`Executor::cache_stats`] the
//!   cache sizes.

mod dedup;
pub mod error;
mod execution;
mod introspection;
mod metrics;
mod plan_cache;
mod prepare;
mod response;
mod schema;
mod subgraph_client;
mod typenames;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hive_router_query_planner::ast::normalization::normalize_operation;
use hive_router_query_planner::graph::PlannerOverrideContext;
use hive_router_query_planner::planner::plan_nodes::QueryPlan;
use hive_router_query_planner::planner::{Planner, QueryPlannerOptions};
use hive_router_query_planner::utils::cancellation::CancellationToken;
use hive_router_query_planner::utils::parsing::safe_parse_schema;
use serde_json::{Map, Value};

pub use error::{ExecutorError, GraphQLError, Location, PathSegment, RequestError};
pub use metrics::{SubgraphEvent, SubgraphObserver, SubgraphOutcome};
pub use prepare::{OperationKind, ParsedOperation, PreparedOperation};
pub use response::{ExecutionStats, Response};
pub use subgraph_client::SubgraphTransport;

/// The GraphQL AST types of [`ParsedOperation::document`], re-exported so the edge walks the same
/// types without depending on the parser crate itself.
pub use graphql_tools::static_graphql::query as ast;

use crate::dedup::InFlight;
use crate::plan_cache::BoundedCache;
use crate::prepare::ParsedDocument;
use crate::schema::SchemaIndex;
use crate::subgraph_client::{FetchResult, SubgraphClient, SubgraphEndpoint};

/// Settings of an [`Executor`].
#[derive(Clone)]
pub struct ExecutorConfig {
    /// Subgraph URLs that replace the `@join__graph(url:)` of the supergraph, by subgraph name.
    pub subgraph_urls: HashMap<String, String>,
    /// Per-subgraph request timeouts, by subgraph name.
    pub subgraph_timeouts: HashMap<String, Duration>,
    /// Timeout of subgraphs without their own entry.
    pub default_timeout: Duration,
    /// Talk HTTP/2 (prior knowledge, h2c for `http://`) to the subgraphs instead of HTTP/1.1.
    pub http2: bool,
    /// Idle keep-alive connections kept per subgraph host.
    pub pool_max_idle_per_host: usize,
    /// How long an idle pooled connection is kept.
    pub pool_idle_timeout: Duration,
    /// Identical concurrent queries share one execution.
    pub deduplicate_operations: bool,
    /// Identical concurrent subgraph query fetches share one HTTP request.
    pub deduplicate_fetches: bool,
    /// Forwarded headers left out of deduplication keys: only headers that cannot change a
    /// subgraph's answer, such as a request id or trace context (which are unique per request
    /// and would otherwise make every key distinct). Credentials (`authorization`, `cookie`,
    /// `proxy-authorization`) always stay in the key, whatever this list says. The shared
    /// subgraph request carries the first caller's values of these headers.
    pub dedup_ignored_headers: Vec<http::HeaderName>,
    /// Answer `__schema`/`__type`; when off such operations are refused.
    pub introspection: bool,
    /// Parsed documents kept in memory.
    pub document_cache_size: usize,
    /// Query plans kept in memory.
    pub plan_cache_size: usize,
    /// Receives one event per subgraph request.
    pub observer: Option<Arc<dyn SubgraphObserver>>,
    /// Carries subgraph requests instead of HTTP (benchmarks and recorders); `None` in
    /// production.
    pub transport: Option<Arc<dyn SubgraphTransport>>,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        Self {
            subgraph_urls: HashMap::new(),
            subgraph_timeouts: HashMap::new(),
            default_timeout: Duration::from_secs(30),
            http2: false,
            pool_max_idle_per_host: 64,
            pool_idle_timeout: Duration::from_secs(90),
            deduplicate_operations: true,
            deduplicate_fetches: true,
            dedup_ignored_headers: Vec::new(),
            introspection: true,
            document_cache_size: 1024,
            plan_cache_size: 1024,
            observer: None,
            transport: None,
        }
    }
}

impl std::fmt::Debug for ExecutorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutorConfig")
            .field("subgraph_urls", &self.subgraph_urls)
            .field("subgraph_timeouts", &self.subgraph_timeouts)
            .field("default_timeout", &self.default_timeout)
            .field("http2", &self.http2)
            .field("deduplicate_operations", &self.deduplicate_operations)
            .field("deduplicate_fetches", &self.deduplicate_fetches)
            .field("dedup_ignored_headers", &self.dedup_ignored_headers)
            .field("introspection", &self.introspection)
            .field("document_cache_size", &self.document_cache_size)
            .field("plan_cache_size", &self.plan_cache_size)
            .field("observer", &self.observer.is_some())
            .field("transport", &self.transport.is_some())
            .finish_non_exhaustive()
    }
}

/// Sizes of the executor's caches, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Parsed and validated documents.
    pub documents: usize,
    /// Query plans by operation text and name.
    pub plans: usize,
}

/// Deduplicated executions and fetches in flight.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InFlightStats {
    /// Distinct client operations executing.
    pub operations: usize,
    /// Callers waiting on them (each distinct operation counts its first caller too).
    pub operation_waiters: usize,
    /// Distinct subgraph requests in flight (deduplicated query fetches only).
    pub fetches: usize,
    /// Executions waiting on them.
    pub fetch_waiters: usize,
}

/// Plans and executes client operations against one supergraph. Cheap to clone.
#[derive(Clone)]
pub struct Executor {
    inner: Arc<Inner>,
}

/// Plan cache key: the query text's digest and the selected operation's name.
type TextPlanKey = ([u8; 32], Option<String>);

pub(crate) struct Inner {
    pub(crate) planner: Planner,
    pub(crate) schema: SchemaIndex,
    validation: graphql_tools::validation::validate::ValidationPlan,
    documents: BoundedCache<[u8; 32], Result<Arc<ParsedDocument>, RequestError>>,
    plans_by_text: BoundedCache<TextPlanKey, Option<Arc<QueryPlan>>>,
    plans_by_normalized: BoundedCache<[u8; 32], Arc<QueryPlan>>,
    pub(crate) client: SubgraphClient,
    pub(crate) subgraphs: HashMap<String, SubgraphEndpoint>,
    pub(crate) config: ExecutorConfig,
    pub(crate) operations_in_flight: InFlight<Response>,
    pub(crate) fetches_in_flight: InFlight<FetchResult>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field(
                "subgraphs",
                &self.inner.subgraphs.keys().collect::<Vec<_>>(),
            )
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Executor {
    /// Parses the supergraph once and builds the planner, the public schema and the subgraph
    /// endpoints (`@join__graph(url:)`, replaced by [`ExecutorConfig::subgraph_urls`]).
    pub fn new(supergraph_sdl: &str, config: ExecutorConfig) -> Result<Self, ExecutorError> {
        let supergraph = safe_parse_schema(supergraph_sdl)
            .map_err(|e| ExecutorError::SupergraphParse(e.to_string()))?;
        let planner = Planner::new_from_supergraph(&supergraph, QueryPlannerOptions::default())
            .map_err(|e| ExecutorError::Planner(e.to_string()))?;
        let schema = SchemaIndex::new(planner.consumer_schema.document.clone())
            .with_keys(entity_keys(&planner.supergraph));

        let mut subgraphs = HashMap::new();
        for (name, url) in &planner.supergraph.subgraph_endpoint_map {
            let url = config.subgraph_urls.get(name).unwrap_or(url);
            if url.is_empty() {
                return Err(ExecutorError::MissingSubgraphUrl(name.clone()));
            }
            let timeout = config
                .subgraph_timeouts
                .get(name)
                .copied()
                .unwrap_or(config.default_timeout);
            let endpoint = SubgraphEndpoint::new(name, url, timeout).ok_or_else(|| {
                ExecutorError::InvalidSubgraphUrl {
                    name: name.clone(),
                    url: url.clone(),
                }
            })?;
            subgraphs.insert(name.clone(), endpoint);
        }

        let client = SubgraphClient::new(&config);
        Ok(Self {
            inner: Arc::new(Inner {
                planner,
                schema,
                validation: prepare::validation_plan(),
                documents: BoundedCache::new(config.document_cache_size),
                plans_by_text: BoundedCache::new(config.plan_cache_size),
                plans_by_normalized: BoundedCache::new(config.plan_cache_size),
                client,
                subgraphs,
                operations_in_flight: InFlight::default(),
                fetches_in_flight: InFlight::default(),
                config,
            }),
        })
    }

    /// The names of the subgraphs and the URLs they are called at.
    pub fn subgraph_urls(&self) -> HashMap<String, String> {
        self.inner
            .subgraphs
            .iter()
            .map(|(name, endpoint)| (name.clone(), endpoint.uri.to_string()))
            .collect()
    }

    /// Entries currently held by the document and plan caches.
    pub fn cache_stats(&self) -> CacheStats {
        CacheStats {
            documents: self.inner.documents.len(),
            plans: self.inner.plans_by_text.len(),
        }
    }

    /// Deduplicated work currently in flight, for metrics (and for tests that need to know
    /// when concurrent callers have joined).
    pub fn in_flight(&self) -> InFlightStats {
        let (operations, operation_waiters) = self.inner.operations_in_flight.stats();
        let (fetches, fetch_waiters) = self.inner.fetches_in_flight.stats();
        InFlightStats {
            operations,
            operation_waiters,
            fetches,
            fetch_waiters,
        }
    }

    /// The public schema (what clients see), as SDL.
    pub fn public_schema_sdl(&self) -> String {
        self.inner.schema.document.to_string()
    }

    /// Parses and validates an operation and selects the one to run (cached by query text).
    pub fn parse(
        &self,
        query: &str,
        operation_name: Option<&str>,
    ) -> Result<Arc<ParsedOperation>, RequestError> {
        let inner = &self.inner;
        let text_hash = prepare::hash_text(query);
        let parsed = match inner.documents.get(&text_hash) {
            Some(cached) => cached,
            None => {
                let result = prepare::parse_and_validate(
                    query,
                    &inner.schema.document,
                    &inner.validation,
                    text_hash,
                );
                inner.documents.insert(text_hash, result.clone());
                result
            }
        }?;
        // A blank operation name is what many clients send for "none".
        let operation_name = operation_name.filter(|name| !name.is_empty());
        prepare::select_operation(
            parsed,
            operation_name,
            inner.schema.mutation_type.is_some(),
            inner.schema.subscription_type.is_some(),
        )
        .map(Arc::new)
    }

    /// Normalises and plans a parsed operation (cached).
    pub fn plan(
        &self,
        parsed: &Arc<ParsedOperation>,
    ) -> Result<Arc<PreparedOperation>, RequestError> {
        let inner = &self.inner;
        if parsed.kind() == OperationKind::Subscription {
            return Err(RequestError::SubscriptionNotSupported);
        }
        if parsed.uses_introspection() && !inner.config.introspection {
            return Err(RequestError::IntrospectionDisabled);
        }
        let text_key = (
            *parsed.text_hash(),
            parsed.operation_name().map(str::to_owned),
        );
        let plan = match inner.plans_by_text.get(&text_key) {
            Some(plan) => plan,
            None => {
                let plan = self.build_plan(parsed)?;
                inner.plans_by_text.insert(text_key, plan.clone());
                plan
            }
        };
        Ok(Arc::new(PreparedOperation {
            parsed: parsed.clone(),
            plan,
        }))
    }

    /// [`Executor::parse`] followed by [`Executor::plan`].
    pub fn prepare(
        &self,
        query: &str,
        operation_name: Option<&str>,
    ) -> Result<Arc<PreparedOperation>, RequestError> {
        let parsed = self.parse(query, operation_name)?;
        self.plan(&parsed)
    }

    fn build_plan(&self, parsed: &ParsedOperation) -> Result<Option<Arc<QueryPlan>>, RequestError> {
        let inner = &self.inner;
        let document = parsed.parsed_document();
        let operation_index = parsed.operation_index();
        let stripped;
        let to_plan = if parsed.uses_introspection() {
            match prepare::strip_root_introspection(&document.document, operation_index) {
                Some(doc) => {
                    stripped = doc;
                    &stripped
                }
                None => return Ok(None),
            }
        } else {
            &document.document
        };
        let normalized =
            normalize_operation(&inner.planner.supergraph, to_plan, parsed.operation_name())
                .map_err(|e| RequestError::Planning(e.to_string()))?;
        let operation = normalized.executable_operation();
        if !selects_subgraph_fields(&operation.selection_set) {
            return Ok(None);
        }
        let normalized_key = prepare::hash_text(&operation.to_string());
        if let Some(plan) = inner.plans_by_normalized.get(&normalized_key) {
            return Ok(Some(plan));
        }
        let plan = inner
            .planner
            .plan_from_normalized_operation(
                operation,
                PlannerOverrideContext::default(),
                &CancellationToken::new(),
            )
            .map_err(|e| {
                tracing::error!(error = %e, "query planning failed");
                RequestError::Planning(e.to_string())
            })?;
        let mut plan = plan;
        typenames::complete_plan(&inner.planner.supergraph, &mut plan);
        let plan = Arc::new(plan);
        inner
            .plans_by_normalized
            .insert(normalized_key, plan.clone());
        Ok(Some(plan))
    }

    /// Shapes an already merged result tree into response JSON, as `execute` does after the
    /// fetches. Exposed for benchmarks only.
    #[doc(hidden)]
    pub fn shape_response(
        &self,
        prepared: &PreparedOperation,
        data: &Value,
        variables: &Map<String, Value>,
    ) -> String {
        let parsed = &prepared.parsed;
        execution::project::Projector::new(&self.inner.schema, parsed.document(), variables, &[])
            .project(data, &self.inner.schema.query_type, parsed.selection_set())
            .0
    }

    /// Merges the `_entities` answer of one entity fetch into a result tree, as `execute` does
    /// when the answer arrives: `entities[i]` is deep-merged at every location in `targets[i]`
    /// (the locations of the objects representation `i` was collected from). Returns the
    /// locations left unresolved because their entity was missing or `null`. Exposed for
    /// benchmarks only, so merging can be measured without HTTP or planning around it.
    #[doc(hidden)]
    pub fn merge_entities(
        &self,
        data: &mut Value,
        entities: Vec<Value>,
        targets: Vec<Vec<Vec<PathSegment>>>,
    ) -> Vec<Vec<PathSegment>> {
        use execution::tree::Step;
        let targets = targets
            .iter()
            .map(|locations| {
                locations
                    .iter()
                    .map(|location| location.iter().map(Step::of).collect())
                    .collect()
            })
            .collect();
        let mut failed = Vec::new();
        execution::tree::merge_entities(
            &self.inner.schema,
            data,
            entities,
            targets,
            None,
            &mut failed,
            &mut Vec::new(),
        );
        failed
            .into_iter()
            .map(|(_, location)| execution::tree::owned_path(&location))
            .collect()
    }

    /// Executes a prepared operation.
    ///
    /// `variables` are coerced against the operation's definitions first; `forward_headers` are
    /// sent to every subgraph as given (the edge picks them: `Authorization`, request id, trace
    /// context) and are part of every deduplication key.
    pub async fn execute(
        &self,
        prepared: &Arc<PreparedOperation>,
        variables: Map<String, Value>,
        forward_headers: http::HeaderMap,
    ) -> Response {
        execution::execute(&self.inner, prepared, variables, forward_headers).await
    }
}

/// Every `@key` of the supergraph as `(type, field set)`.
fn entity_keys(
    supergraph: &hive_router_query_planner::state::supergraph_state::SupergraphState,
) -> Vec<(&str, &str)> {
    use hive_router_query_planner::state::supergraph_state::SupergraphDefinition;
    supergraph
        .definitions
        .iter()
        .flat_map(|(name, definition)| {
            let join_types = match definition {
                SupergraphDefinition::Object(t) => t.join_type.as_slice(),
                SupergraphDefinition::Interface(t) => t.join_type.as_slice(),
                _ => &[],
            };
            join_types
                .iter()
                .filter_map(move |join| join.key.as_deref().map(|key| (name.as_str(), key)))
        })
        .collect()
}

/// Whether a normalised root selection asks anything of a subgraph.
fn selects_subgraph_fields(
    selection_set: &hive_router_query_planner::ast::selection_set::SelectionSet,
) -> bool {
    use hive_router_query_planner::ast::selection_item::SelectionItem;
    selection_set.items.iter().any(|item| match item {
        SelectionItem::Field(field) => field.name != "__typename",
        SelectionItem::InlineFragment(fragment) => selects_subgraph_fields(&fragment.selections),
        SelectionItem::FragmentSpread(_) => true,
    })
}
