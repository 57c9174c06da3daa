//! Persisted-operation stage: resolves operation ids to query text and enforces the
//! safelist.
//!
//! An id arrives as `extensions.persistedQuery.sha256Hash` (Apollo's convention) or as a
//! top-level `documentId` (GraphQL-over-HTTP persisted documents; a `sha256:` prefix is
//! accepted). Automatic registration of unknown operations (APQ) is deliberately not
//! supported: in a safelisted deployment it would let any client add operations.

use std::{
    collections::{HashMap, HashSet},
    path::Path,
    sync::Arc,
};

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{rejection::Rejection, request::GraphqlRequest};
use crate::config::persisted::{PersistedConfig, PersistedMode};

/// Why a manifest could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read persisted-operation manifest {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("persisted-operation manifest {path} is not valid: {reason}")]
    Invalid { path: String, reason: String },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ManifestFile {
    Apollo { operations: Vec<ApolloOperation> },
    Map(HashMap<String, String>),
}

#[derive(Deserialize)]
struct ApolloOperation {
    id: String,
    body: String,
}

/// The registered operations and the mode they are enforced in.
#[derive(Debug, Default)]
pub struct PersistedOperations {
    mode: PersistedMode,
    require_id: bool,
    by_id: HashMap<String, Arc<str>>,
    bodies: HashSet<Arc<str>>,
}

impl PersistedOperations {
    /// Loads the manifest named by `config` (nothing when the mode is `off`).
    pub fn load(config: &PersistedConfig) -> Result<Self, ManifestError> {
        let mut ops = Self {
            mode: config.mode,
            require_id: config.require_id,
            ..Self::default()
        };
        if config.mode == PersistedMode::Off {
            return Ok(ops);
        }
        let Some(path) = config.manifest.as_deref() else {
            return Err(ManifestError::Invalid {
                path: String::new(),
                reason: "no manifest configured".to_owned(),
            });
        };
        ops.add_manifest(path)?;
        Ok(ops)
    }

    fn add_manifest(&mut self, path: &Path) -> Result<(), ManifestError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: shown.clone(),
            source,
        })?;
        let file: ManifestFile =
            serde_json::from_str(&text).map_err(|e| ManifestError::Invalid {
                path: shown.clone(),
                reason: e.to_string(),
            })?;
        let entries: Vec<(String, String)> = match file {
            ManifestFile::Apollo { operations } => {
                operations.into_iter().map(|o| (o.id, o.body)).collect()
            }
            ManifestFile::Map(map) => map.into_iter().collect(),
        };
        for (id, body) in entries {
            let body: Arc<str> = Arc::from(body);
            // Index by the body's hash too, so clients hashing the text themselves match
            // manifests keyed by another id scheme.
            self.by_id.insert(sha256_hex(&body), body.clone());
            self.by_id
                .insert(normalise_id(&id).to_owned(), body.clone());
            self.bodies.insert(body);
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.bodies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bodies.is_empty()
    }

    /// Returns the query text to run, or why the request is refused.
    pub fn resolve(&self, request: &GraphqlRequest) -> Result<Arc<str>, Rejection> {
        match requested_id(request) {
            Some(id) => {
                if self.mode == PersistedMode::Off {
                    return Err(Rejection::PersistedQueryNotSupported);
                }
                match self.by_id.get(normalise_id(id)) {
                    Some(body) => Ok(body.clone()),
                    None if self.mode == PersistedMode::Safelist => {
                        Err(Rejection::PersistedQueryNotInSafelist)
                    }
                    None => Err(Rejection::PersistedQueryNotFound),
                }
            }
            None => {
                let Some(query) = request.query.as_deref().filter(|q| !q.trim().is_empty()) else {
                    return Err(Rejection::BadRequest(
                        "the request has no `query`".to_owned(),
                    ));
                };
                if self.mode == PersistedMode::Safelist
                    && (self.require_id || !self.bodies.contains(query))
                {
                    return Err(Rejection::PersistedQueryNotInSafelist);
                }
                Ok(Arc::from(query))
            }
        }
    }
}

fn requested_id(request: &GraphqlRequest) -> Option<&str> {
    if let Some(id) = request.document_id.as_deref() {
        return Some(id);
    }
    request
        .extensions
        .as_ref()?
        .get("persistedQuery")?
        .get("sha256Hash")
        .and_then(Value::as_str)
}

fn normalise_id(id: &str) -> &str {
    id.strip_prefix("sha256:").unwrap_or(id)
}

/// Lower-case hex SHA-256, the id Apollo clients compute.
pub fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use serde_json::json;

    use super::*;

    fn config(mode: PersistedMode, manifest: &str) -> (tempfile::NamedTempFile, PersistedConfig) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(manifest.as_bytes()).unwrap();
        let config = PersistedConfig {
            mode,
            manifest: Some(file.path().to_owned()),
            require_id: false,
        };
        (file, config)
    }

    fn request(value: Value) -> GraphqlRequest {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn safelist_accepts_ids_and_identical_text_only() {
        let (_f, cfg) = config(PersistedMode::Safelist, r#"{"abc": "{ a }"}"#);
        let ops = PersistedOperations::load(&cfg).unwrap();
        let by_id =
            request(json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}));
        assert_eq!(&*ops.resolve(&by_id).unwrap(), "{ a }");
        let by_doc_id = request(json!({"documentId": "sha256:abc"}));
        assert_eq!(&*ops.resolve(&by_doc_id).unwrap(), "{ a }");
        let by_hash = request(json!({"documentId": sha256_hex("{ a }")}));
        assert_eq!(&*ops.resolve(&by_hash).unwrap(), "{ a }");
        assert_eq!(
            &*ops.resolve(&request(json!({"query": "{ a }"}))).unwrap(),
            "{ a }"
        );
        assert_eq!(
            ops.resolve(&request(json!({"query": "{ b }"}))),
            Err(Rejection::PersistedQueryNotInSafelist)
        );
        assert_eq!(
            ops.resolve(&request(json!({"documentId": "nope"}))),
            Err(Rejection::PersistedQueryNotInSafelist)
        );
    }

    #[test]
    fn apollo_manifest_and_allow_mode() {
        let (_f, cfg) = config(
            PersistedMode::Allow,
            r#"{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"x1","body":"{ a }","name":"A","type":"query"}]}"#,
        );
        let ops = PersistedOperations::load(&cfg).unwrap();
        assert_eq!(ops.len(), 1);
        assert_eq!(
            &*ops.resolve(&request(json!({"documentId": "x1"}))).unwrap(),
            "{ a }"
        );
        assert_eq!(
            &*ops.resolve(&request(json!({"query": "{ b }"}))).unwrap(),
            "{ b }"
        );
        assert_eq!(
            ops.resolve(&request(json!({"documentId": "x2"}))),
            Err(Rejection::PersistedQueryNotFound)
        );
    }

    #[test]
    fn off_mode_refuses_ids_and_requires_a_query() {
        let ops = PersistedOperations::load(&PersistedConfig::default()).unwrap();
        assert_eq!(
            ops.resolve(&request(json!({"documentId": "x"}))),
            Err(Rejection::PersistedQueryNotSupported)
        );
        assert_eq!(
            ops.resolve(&request(json!({}))).unwrap_err().code(),
            "BAD_REQUEST"
        );
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
