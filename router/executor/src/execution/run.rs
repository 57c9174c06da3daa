//! Walking the query plan: sequences in order, parallel branches concurrently, conditions by
//! their variable, and fetches (root, entity, and batched entity fetches) against subgraphs.
//!
//! The intermediate result lives in one `Mutex<Value>`; it is locked only for the synchronous
//! steps (collecting representations, merging a result) and never across an await.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use futures::FutureExt;
use futures::future::{BoxFuture, join_all};
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::SelectionSet;
use hive_router_query_planner::planner::plan_nodes::{
    BatchFetchNode, FetchNode, FetchRewrite, FlattenNodePath, PlanNode,
};
use http::HeaderMap;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::tree;
use crate::Inner;
use crate::error::{GraphQLError, PathSegment, codes};
use crate::prepare::OperationKind;
use crate::schema::SchemaIndex;
use crate::subgraph_client::{FetchError, FetchResult, SubgraphError, SubgraphResponse};

/// The state of one execution.
pub(crate) struct ExecutionContext<'a> {
    inner: &'a Arc<Inner>,
    variables: &'a Map<String, Value>,
    headers: &'a HeaderMap,
    /// Digest of every forwarded header, part of each fetch deduplication key.
    headers_digest: [u8; 32],
    kind: OperationKind,
    data: Mutex<Value>,
    errors: Mutex<Vec<GraphQLError>>,
    /// Locations whose data a failed fetch should have delivered; the nulls found there are
    /// explained by that fetch's error and get no error of their own.
    failed_paths: Mutex<Vec<Vec<PathSegment>>>,
    /// Keys that output rewrites could not rename (see [`tree::KeptKey`]).
    kept_keys: Mutex<Vec<tree::KeptKey>>,
    requests: AtomicU32,
    deduplicated: AtomicU32,
    representations: AtomicU32,
}

/// What an execution produced, before shaping.
pub(crate) struct ExecutionOutput {
    pub(crate) data: Value,
    pub(crate) errors: Vec<GraphQLError>,
    pub(crate) failed_paths: Vec<Vec<PathSegment>>,
    pub(crate) requests: u32,
    pub(crate) deduplicated: u32,
    pub(crate) representations: u32,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Digest of the forwarded headers that identify a request, independent of their order.
pub(crate) fn headers_digest(headers: &HeaderMap, ignored: &[http::HeaderName]) -> [u8; 32] {
    let mut pairs: Vec<(&str, &[u8])> = headers
        .iter()
        .filter(|(name, _)| is_credential(name) || !ignored.contains(name))
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    pairs.sort_unstable();
    let mut hasher = Sha256::new();
    for (name, value) in pairs {
        hasher.update((name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update((value.len() as u64).to_le_bytes());
        hasher.update(value);
    }
    hasher.finalize().into()
}

fn is_credential(name: &http::HeaderName) -> bool {
    name == http::header::AUTHORIZATION
        || name == http::header::COOKIE
        || name == http::header::PROXY_AUTHORIZATION
}

/// One `_entities` selection of a fetch: which objects it resolves and where results go.
struct EntityJob<'p> {
    /// Response key of the `_entities` field (`_entities` or a batch alias).
    response_key: &'p str,
    /// Variable carrying this job's representations.
    variable: &'p str,
    /// Distinct representations, serialised.
    representations: Vec<Vec<u8>>,
    /// For each representation, every location of the result tree it resolves.
    targets: Vec<Vec<Vec<tree::Step<'p>>>>,
    output_rewrites: Option<&'p [FetchRewrite]>,
}

impl<'a> ExecutionContext<'a> {
    pub(crate) fn new(
        inner: &'a Arc<Inner>,
        variables: &'a Map<String, Value>,
        headers: &'a HeaderMap,
        kind: OperationKind,
    ) -> Self {
        Self {
            inner,
            variables,
            headers,
            headers_digest: headers_digest(headers, &inner.config.dedup_ignored_headers),
            kind,
            data: Mutex::new(Value::Object(Map::new())),
            errors: Mutex::new(Vec::new()),
            failed_paths: Mutex::new(Vec::new()),
            kept_keys: Mutex::new(Vec::new()),
            requests: AtomicU32::new(0),
            deduplicated: AtomicU32::new(0),
            representations: AtomicU32::new(0),
        }
    }

    pub(crate) fn finish(self) -> ExecutionOutput {
        ExecutionOutput {
            data: self.data.into_inner().unwrap_or_else(|p| p.into_inner()),
            errors: self.errors.into_inner().unwrap_or_else(|p| p.into_inner()),
            failed_paths: self
                .failed_paths
                .into_inner()
                .unwrap_or_else(|p| p.into_inner()),
            requests: self.requests.into_inner(),
            deduplicated: self.deduplicated.into_inner(),
            representations: self.representations.into_inner(),
        }
    }

    fn schema(&self) -> &SchemaIndex {
        &self.inner.schema
    }

    pub(crate) fn run_node<'n>(&'n self, node: &'n PlanNode) -> BoxFuture<'n, ()> {
        async move {
            match node {
                PlanNode::Sequence(sequence) => {
                    for child in &sequence.nodes {
                        self.run_node(child).await;
                    }
                }
                PlanNode::Parallel(parallel) => {
                    join_all(parallel.nodes.iter().map(|child| self.run_node(child))).await;
                }
                PlanNode::Fetch(fetch) => self.root_fetch(fetch).await,
                PlanNode::Flatten(flatten) => match flatten.node.as_ref() {
                    PlanNode::Fetch(fetch) => self.entity_fetch(&flatten.path, fetch).await,
                    other => self.run_node(other).await,
                },
                PlanNode::BatchFetch(batch) => self.batch_fetch(batch).await,
                PlanNode::Condition(condition) => {
                    let enabled = self
                        .variables
                        .get(&condition.condition)
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    let branch = if enabled {
                        condition.if_clause.as_deref()
                    } else {
                        condition.else_clause.as_deref()
                    };
                    if let Some(branch) = branch {
                        self.run_node(branch).await;
                    }
                }
                PlanNode::Subscription(_) | PlanNode::Defer(_) => {
                    // Subscriptions are refused while planning and `@defer` is not planned.
                    lock(&self.errors).push(GraphQLError::with_code(
                        "This operation needs a capability the router does not offer.",
                        codes::PLANNING_FAILED,
                    ));
                }
            }
        }
        .boxed()
    }

    /// A fetch from the root of an operation: its data merges at the top of the tree.
    async fn root_fetch(&self, fetch: &FetchNode) {
        let body = self.request_body(
            &fetch.operation.document_str,
            fetch.variable_usages.as_ref(),
            &[],
        );
        let result = self.send(&fetch.service_name, body).await;
        let top_level_keys = || -> Vec<Vec<PathSegment>> {
            fetch
                .operation
                .document
                .operation
                .selection_set
                .items
                .iter()
                .filter_map(|item| match item {
                    SelectionItem::Field(field) => Some(vec![PathSegment::Key(
                        field.selection_identifier().to_owned(),
                    )]),
                    _ => None,
                })
                .collect()
        };
        match result {
            Ok(response) => {
                let SubgraphResponse { data, errors } = take_response(response);
                let mut new_errors: Vec<GraphQLError> = errors
                    .into_iter()
                    .map(|error| {
                        let path = error.path.as_ref().map(|p| json_path(p));
                        subgraph_error(error, path)
                    })
                    .collect();
                match data {
                    Some(mut data) => {
                        if let Some(rewrites) = &fetch.output_rewrites {
                            let mut kept = lock(&self.kept_keys);
                            tree::apply_rewrites(
                                self.schema(),
                                &mut data,
                                rewrites,
                                Some(&mut kept),
                            );
                        }
                        tree::deep_merge(self.schema(), &mut lock(&self.data), data);
                    }
                    None => lock(&self.failed_paths).extend(top_level_keys()),
                }
                // Errors without a path still belong to the fields this fetch was asked for.
                for error in &mut new_errors {
                    if error.path.is_none() {
                        error.path = top_level_keys().into_iter().next();
                    }
                }
                lock(&self.errors).extend(new_errors);
            }
            Err(error) => {
                let paths = top_level_keys();
                let mut errors = lock(&self.errors);
                for path in &paths {
                    errors.push(fetch_error(&fetch.service_name, &error).at(path.clone()));
                }
                drop(errors);
                lock(&self.failed_paths).extend(paths);
            }
        }
    }

    /// An entity fetch below `path`: representations of the objects there, one `_entities` call.
    async fn entity_fetch(&self, path: &FlattenNodePath, fetch: &FetchNode) {
        let Some(requires) = &fetch.requires else {
            // A non-entity fetch under a path: the planner does not produce this; treat it as a
            // root fetch rather than dropping it.
            return self.root_fetch(fetch).await;
        };
        let job = self.collect_job(
            "_entities",
            "representations",
            std::slice::from_ref(path),
            requires,
            fetch.input_rewrites.as_deref(),
            fetch.output_rewrites.as_deref(),
        );
        if job.representations.is_empty() {
            return;
        }
        let mut jobs = [job];
        let body = self.request_body(
            &fetch.operation.document_str,
            fetch.variable_usages.as_ref(),
            &jobs,
        );
        let result = self.send(&fetch.service_name, body).await;
        self.apply_entity_result(&fetch.service_name, result, &mut jobs);
    }

    /// Several entity selections of one subgraph sent as one request with aliased `_entities`.
    async fn batch_fetch(&self, batch: &BatchFetchNode) {
        let mut jobs: Vec<EntityJob<'_>> = Vec::with_capacity(batch.entity_batch.aliases.len());
        // Aliases that share a representations variable resolve the same objects.
        let mut by_variable: HashMap<&str, usize> = HashMap::new();
        for alias in &batch.entity_batch.aliases {
            let job = self.collect_job(
                &alias.alias,
                &alias.representations_variable_name,
                &alias.merge_paths,
                &alias.requires,
                alias.input_rewrites.as_deref(),
                alias.output_rewrites.as_deref(),
            );
            by_variable
                .entry(alias.representations_variable_name.as_str())
                .or_insert(jobs.len());
            jobs.push(job);
        }
        if jobs.iter().all(|job| job.representations.is_empty()) {
            return;
        }
        // Variables may appear once in the body even when several aliases use them.
        let mut sent_variables: Vec<usize> = by_variable.into_values().collect();
        sent_variables.sort_unstable();
        let body = {
            let selected: Vec<&EntityJob<'_>> = sent_variables.iter().map(|&i| &jobs[i]).collect();
            self.request_body_refs(
                &batch.operation.document_str,
                batch.variable_usages.as_ref(),
                &selected,
            )
        };
        let result = self.send(&batch.service_name, body).await;
        self.apply_entity_result(&batch.service_name, result, &mut jobs);
    }

    /// Collects the distinct representations of the objects at `paths`.
    ///
    /// Each representation is written into one reused buffer and looked up by its bytes; only
    /// a new distinct one is copied (most objects of a deep query repeat a few entities).
    fn collect_job<'p>(
        &self,
        response_key: &'p str,
        variable: &'p str,
        paths: &'p [FlattenNodePath],
        requires: &SelectionSet,
        input_rewrites: Option<&[FetchRewrite]>,
        output_rewrites: Option<&'p [FetchRewrite]>,
    ) -> EntityJob<'p> {
        let schema = self.schema();
        let mut representations: Vec<Vec<u8>> = Vec::new();
        let mut targets: Vec<Vec<Vec<tree::Step<'p>>>> = Vec::new();
        let mut index_of: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut bytes = Vec::new();
        let data = lock(&self.data);
        let kept = lock(&self.kept_keys);
        let mut current = Vec::new();
        for path in paths {
            tree::for_each_object(
                schema,
                &data,
                path.as_slice(),
                &mut current,
                &mut |location, object| {
                    bytes.clear();
                    let written = match input_rewrites {
                        None => direct::write_representation(
                            schema, object, requires, &kept, &mut bytes,
                        ),
                        Some(_) => None,
                    };
                    match written {
                        Some(true) => {}
                        Some(false) => return,
                        None => {
                            let Some(mut representation) =
                                representation(schema, object, requires, &kept)
                            else {
                                return;
                            };
                            if let Some(rewrites) = input_rewrites {
                                tree::apply_rewrites(schema, &mut representation, rewrites, None);
                            }
                            bytes.clear();
                            write_json(&mut bytes, &representation);
                        }
                    }
                    let index = match index_of.get(bytes.as_slice()) {
                        Some(&index) => index,
                        None => {
                            let index = representations.len();
                            index_of.insert(bytes.clone(), index);
                            representations.push(bytes.clone());
                            targets.push(Vec::new());
                            index
                        }
                    };
                    targets[index].push(location.to_vec());
                },
            );
        }
        drop(kept);
        drop(data);
        self.representations
            .fetch_add(representations.len() as u32, Ordering::Relaxed);
        EntityJob {
            response_key,
            variable,
            representations,
            targets,
            output_rewrites,
        }
    }

    fn apply_entity_result(&self, service: &str, result: FetchResult, jobs: &mut [EntityJob<'_>]) {
        match result {
            Ok(response) => {
                let SubgraphResponse { data, errors } = take_response(response);
                let mut data = data.unwrap_or(Value::Null);
                let mut new_errors = Vec::with_capacity(errors.len());
                // Entities an error points at, and whether an error concerns the whole call.
                let mut errored: Vec<(&str, usize)> = Vec::new();
                let mut blanket = false;
                for error in errors {
                    match error.path.as_deref() {
                        Some([Value::String(key), Value::Number(index), ..]) => {
                            match jobs.iter().find(|job| job.response_key == key.as_str()) {
                                Some(job) => errored.push((
                                    job.response_key,
                                    index.as_u64().unwrap_or(u64::MAX) as usize,
                                )),
                                None => blanket = true,
                            }
                        }
                        _ => blanket = true,
                    }
                    let path = error
                        .path
                        .as_deref()
                        .and_then(|p| entity_error_path(p, jobs))
                        .or_else(|| first_target(jobs));
                    new_errors.push(subgraph_error(error, path));
                }
                let mut tree_data = lock(&self.data);
                let mut kept = lock(&self.kept_keys);
                let mut explained = Vec::new();
                for job in jobs.iter_mut() {
                    let results = match data.get_mut(job.response_key) {
                        Some(Value::Array(items)) => std::mem::take(items),
                        _ => Vec::new(),
                    };
                    let mut failed = Vec::new();
                    tree::merge_entities(
                        self.schema(),
                        &mut tree_data,
                        results,
                        std::mem::take(&mut job.targets),
                        job.output_rewrites,
                        &mut failed,
                        &mut kept,
                    );
                    // An entity answered `null` is explained by an error about it (or about
                    // the whole call); a `null` without one is "not found", and a non-null
                    // field of it gets its own error when the response is shaped.
                    explained.extend(failed.into_iter().filter_map(|(index, location)| {
                        (blanket || errored.contains(&(job.response_key, index)))
                            .then(|| tree::owned_path(&location))
                    }));
                }
                drop(kept);
                drop(tree_data);
                lock(&self.failed_paths).extend(explained);
                lock(&self.errors).extend(new_errors);
            }
            Err(error) => {
                if let Some(path) = first_target(jobs) {
                    lock(&self.errors).push(fetch_error(service, &error).at(path));
                }
                let mut failed = lock(&self.failed_paths);
                for job in jobs.iter_mut() {
                    for targets in std::mem::take(&mut job.targets) {
                        failed.extend(targets.iter().map(|location| tree::owned_path(location)));
                    }
                }
            }
        }
    }

    fn request_body(
        &self,
        query: &str,
        variable_usages: Option<&std::collections::BTreeSet<String>>,
        jobs: &[EntityJob<'_>],
    ) -> Bytes {
        let refs: Vec<&EntityJob<'_>> = jobs.iter().collect();
        self.request_body_refs(query, variable_usages, &refs)
    }

    /// Writes `{"query":..,"variables":{..}}` with only the variables the fetch uses.
    fn request_body_refs(
        &self,
        query: &str,
        variable_usages: Option<&std::collections::BTreeSet<String>>,
        jobs: &[&EntityJob<'_>],
    ) -> Bytes {
        let representation_bytes: usize = jobs
            .iter()
            .flat_map(|job| job.representations.iter().map(|r| r.len() + 1))
            .sum();
        let mut body = Vec::with_capacity(query.len() + representation_bytes + 64);
        body.extend_from_slice(b"{\"query\":");
        write_json(&mut body, query);
        body.extend_from_slice(b",\"variables\":{");
        let mut first = true;
        for job in jobs {
            if !first {
                body.push(b',');
            }
            first = false;
            write_json(&mut body, job.variable);
            body.extend_from_slice(b":[");
            for (i, representation) in job.representations.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(representation);
            }
            body.push(b']');
        }
        for name in variable_usages.into_iter().flatten() {
            if let Some(value) = self.variables.get(name) {
                if !first {
                    body.push(b',');
                }
                first = false;
                write_json(&mut body, name);
                body.push(b':');
                write_json(&mut body, value);
            }
        }
        body.extend_from_slice(b"}}");
        Bytes::from(body)
    }

    /// Sends one request, sharing it with identical concurrent query fetches when allowed.
    async fn send(&self, service: &str, body: Bytes) -> FetchResult {
        let inner = self.inner;
        let Some(endpoint) = inner.subgraphs.get(service) else {
            return Err(FetchError::Transport(format!(
                "unknown subgraph `{service}`"
            )));
        };
        let observer = inner.config.observer.clone();
        if inner.config.deduplicate_fetches && self.kind == OperationKind::Query {
            let mut hasher = Sha256::new();
            hasher.update(service.as_bytes());
            hasher.update([0]);
            hasher.update(self.headers_digest);
            hasher.update(&body);
            let key: [u8; 32] = hasher.finalize().into();
            let owner = inner.clone();
            let endpoint = endpoint.clone();
            let headers = self.headers.clone();
            let (result, joined) = inner
                .fetches_in_flight
                .run(key, move || {
                    async move {
                        owner
                            .client
                            .fetch(&endpoint, body, &headers, observer.as_deref())
                            .await
                    }
                    .boxed()
                })
                .await;
            if joined {
                self.deduplicated.fetch_add(1, Ordering::Relaxed);
            } else {
                self.requests.fetch_add(1, Ordering::Relaxed);
            }
            result
        } else {
            self.requests.fetch_add(1, Ordering::Relaxed);
            inner
                .client
                .fetch(endpoint, body, self.headers, observer.as_deref())
                .await
        }
    }
}

/// Takes the response out of its `Arc` when this execution is the only holder.
fn take_response(response: Arc<SubgraphResponse>) -> SubgraphResponse {
    Arc::try_unwrap(response).unwrap_or_else(|shared| (*shared).clone())
}

fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Serialising strings and JSON values into a Vec cannot fail.
    let _ = serde_json::to_writer(out, value);
}

/// Builds an entity representation from `object` with the fields `requires` asks for.
///
/// `requires` holds one inline fragment per entity type; an object matching none of them is not
/// an entity of this fetch and yields `None`. So does an object the representation cannot be
/// built from (a required field absent, or a key field `null`: an earlier fetch failed there):
/// the subgraph could not resolve it, and would refuse the whole batch for it.
fn representation(
    schema: &SchemaIndex,
    object: &Map<String, Value>,
    requires: &SelectionSet,
    kept: &[tree::KeptKey],
) -> Option<Value> {
    let typename = object.get("__typename").and_then(Value::as_str)?;
    let mut out = Map::new();
    let mut matched = false;
    for item in &requires.items {
        match item {
            SelectionItem::InlineFragment(fragment) => {
                if schema.type_applies(&fragment.type_condition, typename) {
                    matched = true;
                    let keys = schema.key_fields(&fragment.type_condition);
                    if !project_into(schema, object, &fragment.selections, keys, kept, &mut out) {
                        return None;
                    }
                }
            }
            SelectionItem::Field(_) => {
                matched = true;
                let selection = SelectionSet {
                    items: vec![item.clone()],
                };
                let keys = schema.key_fields(typename);
                if !project_into(schema, object, &selection, keys, kept, &mut out) {
                    return None;
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
    matched.then_some(Value::Object(out))
}

/// Copies the `selections` of `object` into `out`; `false` when a selected field is absent
/// or one of `keys` (the key fields of the object's type, at the top of a representation)
/// is `null`.
///
/// A field is read from the key named by the field's name and written under its response key:
/// the planner writes `price: _internal_qp_alias_0` for "the value fetched under the internal
/// alias is the `price` the subgraph requires". A key that an output rewrite could not rename
/// (`kept`) is read in place of the one it should have been renamed to.
fn project_into(
    schema: &SchemaIndex,
    object: &Map<String, Value>,
    selections: &SelectionSet,
    keys: Option<&HashSet<String>>,
    kept: &[tree::KeptKey],
    out: &mut Map<String, Value>,
) -> bool {
    for item in &selections.items {
        match item {
            SelectionItem::Field(field) => {
                let source = kept
                    .iter()
                    .find(|(target, source)| *target == field.name && object.contains_key(source))
                    .map_or(field.name.as_str(), |(_, source)| source.as_str());
                // An internal alias an output rewrite already renamed is found under the
                // response key.
                let Some(value) = object
                    .get(source)
                    .or_else(|| object.get(field.selection_identifier()))
                else {
                    return false;
                };
                let projected = if value.is_null() {
                    if keys.is_some_and(|keys| keys.contains(&field.name)) {
                        return false;
                    }
                    Value::Null
                } else if field.selections.is_empty() {
                    value.clone()
                } else {
                    match project_value(schema, value, &field.selections, kept) {
                        Some(projected) => projected,
                        None => return false,
                    }
                };
                let key = field.selection_identifier();
                match out.get_mut(key) {
                    Some(existing) => tree::deep_merge(schema, existing, projected),
                    None => {
                        out.insert(key.to_owned(), projected);
                    }
                }
            }
            SelectionItem::InlineFragment(fragment) => {
                let applies = object
                    .get("__typename")
                    .and_then(Value::as_str)
                    .is_some_and(|t| schema.type_applies(&fragment.type_condition, t));
                if applies && !project_into(schema, object, &fragment.selections, keys, kept, out) {
                    return false;
                }
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
    true
}

fn project_value(
    schema: &SchemaIndex,
    value: &Value,
    selections: &SelectionSet,
    kept: &[tree::KeptKey],
) -> Option<Value> {
    match value {
        Value::Object(object) => {
            let mut out = Map::new();
            project_into(schema, object, selections, None, kept, &mut out)
                .then_some(Value::Object(out))
        }
        Value::Array(items) => items
            .iter()
            .map(|item| project_value(schema, item, selections, kept))
            .collect::<Option<Vec<Value>>>()
            .map(Value::Array),
        other => Some(other.clone()),
    }
}

/// Representations written straight from the result tree as JSON text.
///
/// What it buys: an entity fetch builds a representation for every object at its path (about
/// 3,700 per deep benchmark query, most of them repeats of a few entities), and building each as
/// a map and then serialising it was a third of the executor's instructions. Writing the same
/// text directly skips the map, its hashing and allocations. It yields exactly the text
/// [`representation`] and serialisation produce; where it cannot be sure to (a response key
/// selected twice in one object, whose values the tree path merges), it returns `None` and
/// the caller takes the tree path. Input rewrites always take the tree path.
mod direct {
    use super::*;

    /// `Some(true)` when the representation of `object` was appended to `out`, `Some(false)`
    /// when `object` has none (see [`representation`]), `None` when the tree path must decide.
    pub(super) fn write_representation(
        schema: &SchemaIndex,
        object: &Map<String, Value>,
        requires: &SelectionSet,
        kept: &[tree::KeptKey],
        out: &mut Vec<u8>,
    ) -> Option<bool> {
        let Some(typename) = object.get("__typename").and_then(Value::as_str) else {
            return Some(false);
        };
        let mut written: Vec<&str> = Vec::new();
        let mut matched = false;
        out.push(b'{');
        for item in &requires.items {
            let (selections, keys) = match item {
                SelectionItem::InlineFragment(fragment) => {
                    if !schema.type_applies(&fragment.type_condition, typename) {
                        continue;
                    }
                    (
                        Fields::Set(&fragment.selections),
                        schema.key_fields(&fragment.type_condition),
                    )
                }
                SelectionItem::Field(_) => (Fields::One(item), schema.key_fields(typename)),
                SelectionItem::FragmentSpread(_) => continue,
            };
            matched = true;
            match selections {
                Fields::Set(selections) => {
                    if !fields(schema, object, selections, keys, kept, &mut written, out)? {
                        return Some(false);
                    }
                }
                Fields::One(item) => {
                    if !field_items(
                        schema,
                        object,
                        std::slice::from_ref(item),
                        keys,
                        kept,
                        &mut written,
                        out,
                    )? {
                        return Some(false);
                    }
                }
            }
        }
        out.push(b'}');
        Some(matched)
    }

    enum Fields<'s> {
        Set(&'s SelectionSet),
        One(&'s SelectionItem),
    }

    fn fields<'s>(
        schema: &SchemaIndex,
        object: &Map<String, Value>,
        selections: &'s SelectionSet,
        keys: Option<&HashSet<String>>,
        kept: &[tree::KeptKey],
        written: &mut Vec<&'s str>,
        out: &mut Vec<u8>,
    ) -> Option<bool> {
        field_items(schema, object, &selections.items, keys, kept, written, out)
    }

    /// [`project_into`] writing text: `Some(false)` where it returns `false`.
    fn field_items<'s>(
        schema: &SchemaIndex,
        object: &Map<String, Value>,
        items: &'s [SelectionItem],
        keys: Option<&HashSet<String>>,
        kept: &[tree::KeptKey],
        written: &mut Vec<&'s str>,
        out: &mut Vec<u8>,
    ) -> Option<bool> {
        for item in items {
            match item {
                SelectionItem::Field(field) => {
                    let source = kept
                        .iter()
                        .find(|(target, source)| {
                            *target == field.name && object.contains_key(source)
                        })
                        .map_or(field.name.as_str(), |(_, source)| source.as_str());
                    let Some(value) = object
                        .get(source)
                        .or_else(|| object.get(field.selection_identifier()))
                    else {
                        return Some(false);
                    };
                    let key = field.selection_identifier();
                    if written.contains(&key) {
                        // Two values under one key are merged by the tree path.
                        return None;
                    }
                    if !written.is_empty() {
                        out.push(b',');
                    }
                    written.push(key);
                    write_json(out, key);
                    out.push(b':');
                    if value.is_null() {
                        if keys.is_some_and(|keys| keys.contains(&field.name)) {
                            return Some(false);
                        }
                        out.extend_from_slice(b"null");
                    } else if field.selections.is_empty() {
                        write_json(out, value);
                    } else if !nested(schema, value, &field.selections, kept, out)? {
                        return Some(false);
                    }
                }
                SelectionItem::InlineFragment(fragment) => {
                    let applies = object
                        .get("__typename")
                        .and_then(Value::as_str)
                        .is_some_and(|t| schema.type_applies(&fragment.type_condition, t));
                    if applies
                        && !fields(
                            schema,
                            object,
                            &fragment.selections,
                            keys,
                            kept,
                            written,
                            out,
                        )?
                    {
                        return Some(false);
                    }
                }
                SelectionItem::FragmentSpread(_) => {}
            }
        }
        Some(true)
    }

    /// [`project_value`] writing text.
    fn nested(
        schema: &SchemaIndex,
        value: &Value,
        selections: &SelectionSet,
        kept: &[tree::KeptKey],
        out: &mut Vec<u8>,
    ) -> Option<bool> {
        match value {
            Value::Object(object) => {
                out.push(b'{');
                let mut written = Vec::new();
                if !fields(schema, object, selections, None, kept, &mut written, out)? {
                    return Some(false);
                }
                out.push(b'}');
            }
            Value::Array(items) => {
                out.push(b'[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(b',');
                    }
                    if !nested(schema, item, selections, kept, out)? {
                        return Some(false);
                    }
                }
                out.push(b']');
            }
            other => write_json(out, other),
        }
        Some(true)
    }
}

fn json_path(path: &[Value]) -> Vec<PathSegment> {
    path.iter()
        .filter_map(|segment| match segment {
            Value::String(key) => Some(PathSegment::Key(key.clone())),
            Value::Number(n) => n.as_u64().map(|i| PathSegment::Index(i as usize)),
            _ => None,
        })
        .collect()
}

/// Maps `["_entities", i, ...rest]` (or a batch alias) to the client path of entity `i`.
fn entity_error_path(path: &[Value], jobs: &[EntityJob<'_>]) -> Option<Vec<PathSegment>> {
    let key = path.first()?.as_str()?;
    let index = path.get(1)?.as_u64()? as usize;
    let job = jobs.iter().find(|job| job.response_key == key)?;
    let mut mapped = tree::owned_path(job.targets.get(index)?.first()?);
    mapped.extend(json_path(&path[2..]));
    Some(mapped)
}

fn first_target(jobs: &[EntityJob<'_>]) -> Option<Vec<PathSegment>> {
    jobs.iter()
        .find_map(|job| job.targets.first().and_then(|t| t.first()))
        .map(|location| tree::owned_path(location))
}

/// Extensions a subgraph error may pass on to clients; anything else (stack traces, internal
/// exception details) stays behind.
const FORWARDED_EXTENSIONS: &[&str] = &["code", "field"];

fn subgraph_error(error: SubgraphError, path: Option<Vec<PathSegment>>) -> GraphQLError {
    let mut extensions = Map::new();
    if let Some(mut original) = error.extensions {
        for key in FORWARDED_EXTENSIONS {
            if let Some(value) = original.remove(*key) {
                extensions.insert((*key).to_owned(), value);
            }
        }
    }
    extensions
        .entry("code")
        .or_insert_with(|| Value::String(codes::SUBGRAPH_ERROR.to_owned()));
    GraphQLError {
        message: error.message,
        locations: Vec::new(),
        path,
        extensions,
    }
}

fn fetch_error(service: &str, error: &FetchError) -> GraphQLError {
    let (message, code) = match error {
        FetchError::Timeout(_) => (
            format!("The subgraph `{service}` did not answer in time."),
            codes::SUBGRAPH_TIMEOUT,
        ),
        FetchError::InvalidResponse(_) => (
            format!("The subgraph `{service}` sent an invalid response."),
            codes::SUBGRAPH_INVALID_RESPONSE,
        ),
        FetchError::HttpStatus(status) => (
            format!("The subgraph `{service}` failed with HTTP status {status}."),
            codes::SUBGRAPH_REQUEST_FAILED,
        ),
        FetchError::Transport(_) => (
            format!("The subgraph `{service}` could not be reached."),
            codes::SUBGRAPH_REQUEST_FAILED,
        ),
    };
    let mut error = GraphQLError::with_code(message, code);
    error
        .extensions
        .insert("service".to_owned(), Value::String(service.to_owned()));
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn header_digest_ignores_order_but_not_values() {
        let a = headers(&[("authorization", "Bearer a"), ("x-request-id", "1")]);
        let b = headers(&[("x-request-id", "1"), ("authorization", "Bearer a")]);
        let c = headers(&[("x-request-id", "1"), ("authorization", "Bearer b")]);
        assert_eq!(headers_digest(&a, &[]), headers_digest(&b, &[]));
        assert_ne!(headers_digest(&a, &[]), headers_digest(&c, &[]));
    }

    #[test]
    fn ignored_headers_never_include_credentials() {
        let ignored = [
            http::HeaderName::from_static("x-request-id"),
            http::header::AUTHORIZATION,
        ];
        let a = headers(&[("authorization", "Bearer a"), ("x-request-id", "1")]);
        let b = headers(&[("authorization", "Bearer a"), ("x-request-id", "2")]);
        let c = headers(&[("authorization", "Bearer c"), ("x-request-id", "1")]);
        assert_eq!(headers_digest(&a, &ignored), headers_digest(&b, &ignored));
        assert_ne!(headers_digest(&a, &ignored), headers_digest(&c, &ignored));
    }
}
