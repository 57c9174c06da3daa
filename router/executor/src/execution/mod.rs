//! The execute stage: coerce variables, share identical in-flight queries, run the plan,
//! answer introspection, and shape the response.

pub(crate) mod project;
mod run;
pub(crate) mod tree;

use std::sync::Arc;

use futures::FutureExt;
use http::HeaderMap;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::prepare::variables::coerce_variables;
use crate::prepare::{OperationKind, PreparedOperation};
use crate::response::{ExecutionStats, Response};
use crate::{Inner, introspection};

pub(crate) async fn execute(
    inner: &Arc<Inner>,
    prepared: &Arc<PreparedOperation>,
    variables: Map<String, Value>,
    headers: HeaderMap,
) -> Response {
    let parsed = &prepared.parsed;
    let variables = match coerce_variables(&inner.schema, parsed.variable_definitions(), variables)
    {
        Ok(variables) => variables,
        Err(errors) => return Response::from_errors(errors),
    };
    if !(inner.config.deduplicate_operations && parsed.kind() == OperationKind::Query) {
        return run(inner, prepared, &variables, &headers).await;
    }

    let key = operation_key(
        prepared,
        &variables,
        &headers,
        &inner.config.dedup_ignored_headers,
    );
    let owner = inner.clone();
    let prepared_owned = prepared.clone();
    let (mut response, joined) = inner
        .operations_in_flight
        .run(key, move || {
            async move { run(&owner, &prepared_owned, &variables, &headers).await }.boxed()
        })
        .await;
    if joined {
        // The requests were made (and counted) by the execution this one joined.
        response.stats = ExecutionStats {
            shared_execution: true,
            ..ExecutionStats::default()
        };
    }
    response
}

/// Everything that makes two executions distinguishable: the document text, the operation,
/// the coerced variables and every forwarded header (above all `Authorization`).
fn operation_key(
    prepared: &PreparedOperation,
    variables: &Map<String, Value>,
    headers: &HeaderMap,
    ignored_headers: &[http::HeaderName],
) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prepared.parsed.text_hash());
    let name = prepared.parsed.operation_name().unwrap_or("");
    hasher.update((name.len() as u64).to_le_bytes());
    hasher.update(name.as_bytes());
    let variables = serde_json::to_vec(variables).unwrap_or_default();
    hasher.update((variables.len() as u64).to_le_bytes());
    hasher.update(&variables);
    hasher.update(run::headers_digest(headers, ignored_headers));
    hasher.finalize().into()
}

async fn run(
    inner: &Arc<Inner>,
    prepared: &PreparedOperation,
    variables: &Map<String, Value>,
    headers: &HeaderMap,
) -> Response {
    let parsed = &prepared.parsed;
    let context = run::ExecutionContext::new(inner, variables, headers, parsed.kind());
    if let Some(node) = prepared.plan.as_ref().and_then(|plan| plan.node.as_ref()) {
        context.run_node(node).await;
    }
    let mut output = context.finish();

    if parsed.uses_introspection() {
        introspection::resolve_root(
            &inner.schema,
            parsed.document(),
            parsed.selection_set(),
            variables,
            &mut output.data,
        );
    }

    let root_type = match parsed.kind() {
        OperationKind::Query => inner.schema.query_type.as_str(),
        OperationKind::Mutation => inner.schema.mutation_type.as_deref().unwrap_or("Mutation"),
        OperationKind::Subscription => inner
            .schema
            .subscription_type
            .as_deref()
            .unwrap_or("Subscription"),
    };
    let mut explained = output.failed_paths;
    explained.extend(output.errors.iter().filter_map(|e| e.path.clone()));
    let (data, projection_errors) =
        project::Projector::new(&inner.schema, parsed.document(), variables, &explained).project(
            &output.data,
            root_type,
            parsed.selection_set(),
        );
    let mut errors = output.errors;
    errors.extend(projection_errors);
    let mut response = Response::new(Some(Arc::from(data)), errors);
    response.stats = ExecutionStats {
        subgraph_requests: output.requests,
        deduplicated_fetches: output.deduplicated,
        entity_representations: output.representations,
        shared_execution: false,
    };
    response
}
