//! The response handed back to the edge: `data` (already shaped like the client's operation),
//! `errors`, `extensions`, plus per-request statistics that are not serialised.

use std::sync::Arc;

use serde::Serialize;
use serde::ser::{Error as _, SerializeMap};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::GraphQLError;

/// Counts gathered while executing one client operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecutionStats {
    /// Subgraph HTTP requests this execution caused (shared requests count once, for the
    /// execution that sent them).
    pub subgraph_requests: u32,
    /// Subgraph fetches answered by joining an identical in-flight request.
    pub deduplicated_fetches: u32,
    /// Entity representations sent to subgraphs (after removing duplicates).
    pub entity_representations: u32,
    /// Whether the whole operation joined an identical in-flight execution.
    pub shared_execution: bool,
}

/// The result of executing an operation.
///
/// `data` is stored as pre-rendered JSON: the executor writes it once, in the client's field
/// order, and nothing downstream needs to walk it again.
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// Valid JSON by construction (written by the response projection).
    data: Option<Arc<str>>,
    /// Errors, in the order they happened.
    pub errors: Vec<GraphQLError>,
    /// Response extensions (left to the caller; the executor adds none).
    pub extensions: Map<String, Value>,
    /// Statistics of this execution.
    pub stats: ExecutionStats,
}

impl Response {
    pub(crate) fn new(data: Option<Arc<str>>, errors: Vec<GraphQLError>) -> Self {
        Self {
            data,
            errors,
            extensions: Map::new(),
            stats: ExecutionStats::default(),
        }
    }

    /// A response without `data`, as for request errors.
    pub fn from_errors(errors: Vec<GraphQLError>) -> Self {
        Self::new(None, errors)
    }

    /// The rendered `data` JSON text (`None` when the request failed before execution).
    pub fn data_json(&self) -> Option<&str> {
        self.data.as_deref()
    }

    /// `data` parsed into a [`Value`] (for tests and tools; the hot path uses [`Self::to_bytes`]).
    pub fn data_value(&self) -> Option<Value> {
        self.data
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
    }

    /// Whether the request failed before execution (no `data` key at all).
    pub fn is_request_error(&self) -> bool {
        self.data.is_none()
    }

    /// The JSON body of this response, written without re-parsing `data`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let data_len = self.data.as_deref().map_or(0, str::len);
        let mut body = Vec::with_capacity(data_len + 64);
        body.push(b'{');
        let mut first = true;
        if !self.errors.is_empty() {
            body.extend_from_slice(b"\"errors\":");
            // Writing plain structs of strings and maps into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut body, &self.errors);
            first = false;
        }
        if let Some(data) = &self.data {
            if !first {
                body.push(b',');
            }
            body.extend_from_slice(b"\"data\":");
            body.extend_from_slice(data.as_bytes());
            first = false;
        }
        if !self.extensions.is_empty() {
            if !first {
                body.push(b',');
            }
            body.extend_from_slice(b"\"extensions\":");
            let _ = serde_json::to_writer(&mut body, &self.extensions);
        }
        body.push(b'}');
        body
    }
}

impl Serialize for Response {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if !self.errors.is_empty() {
            map.serialize_entry("errors", &self.errors)?;
        }
        if let Some(data) = &self.data {
            // Borrowing validation scan only; no allocation.
            let raw: &RawValue = serde_json::from_str(data).map_err(S::Error::custom)?;
            map.serialize_entry("data", raw)?;
        }
        if !self.extensions.is_empty() {
            map.serialize_entry("extensions", &self.extensions)?;
        }
        map.end()
    }
}
