//! Persisted-operation stage: resolves operation ids to query text, keeps automatically
//! persisted queries (APQ) and enforces the safelist.
//!
//! An id arrives as `extensions.persistedQuery.sha256Hash` (Apollo's convention, with
//! `version: 1`) or as a top-level `documentId` (GraphQL-over-HTTP persisted documents; a
//! `sha256:` prefix is accepted). It is looked up in the manifest
//! (`persisted_operations`), then in the APQ cache (`apq`):
//!
//! - hash only, unknown: `PERSISTED_QUERY_NOT_FOUND`, and the client sends the query once;
//! - hash and query: the hash must be the query's SHA-256 (`PERSISTED_QUERY_HASH_MISMATCH`
//!   otherwise); the query runs and, once it has parsed and validated, is kept
//!   ([`PersistedOperations::register`]) in a bounded least-recently-used cache;
//! - in `safelist` mode only manifest operations run and nothing is registered, so no
//!   client can add operations; with APQ off and no manifest, ids are refused with
//!   `PERSISTED_QUERY_NOT_SUPPORTED`, which makes Apollo's link stop sending them.
//!
//! GET requests may carry only the hash (`?extensions={"persistedQuery":...}`), so a CDN
//! can cache public queries by URL; mutations are still refused over GET later on.

use std::{
    collections::{HashMap, HashSet},
    num::NonZeroUsize,
    path::Path,
    sync::{Arc, Mutex},
};

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{rejection::Rejection, request::GraphqlRequest};
use crate::config::{
    ApqConfig,
    persisted::{PersistedConfig, PersistedMode},
};

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

/// The bounded cache of automatically persisted queries, by lower-case hex SHA-256.
struct ApqCache(Mutex<lru::LruCache<String, Arc<str>>>);

impl std::fmt::Debug for ApqCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApqCache").finish_non_exhaustive()
    }
}

impl ApqCache {
    fn new(size: NonZeroUsize) -> Self {
        Self(Mutex::new(lru::LruCache::new(size)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, lru::LruCache<String, Arc<str>>> {
        // A poisoned lock only means a panic elsewhere; the cache itself is whole.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The query text to run, and the hash to register it under once it has validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub query: Arc<str>,
    pub register: Option<String>,
}

/// The registered operations, the APQ cache and the mode they are enforced in.
#[derive(Debug, Default)]
pub struct PersistedOperations {
    mode: PersistedMode,
    require_id: bool,
    by_id: HashMap<String, Arc<str>>,
    bodies: HashSet<Arc<str>>,
    apq: Option<ApqCache>,
}

impl PersistedOperations {
    /// Loads the manifest named by `config` (nothing when the mode is `off`) and sets up
    /// the APQ cache (never in safelist mode).
    pub fn load(config: &PersistedConfig, apq: &ApqConfig) -> Result<Self, ManifestError> {
        let mut ops = Self {
            mode: config.mode,
            require_id: config.require_id,
            apq: NonZeroUsize::new(apq.cache_size)
                .filter(|_| apq.enabled && config.mode != PersistedMode::Safelist)
                .map(ApqCache::new),
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

    /// Whether queries sent with their hash are kept for later hash-only requests.
    pub fn apq_enabled(&self) -> bool {
        self.apq.is_some()
    }

    /// Operations in the APQ cache.
    pub fn apq_len(&self) -> usize {
        self.apq.as_ref().map_or(0, |c| c.lock().len())
    }

    /// Keeps `query` under `hash` for hash-only requests (no-op without APQ).
    pub fn register(&self, hash: String, query: Arc<str>) {
        if let Some(cache) = &self.apq {
            cache.lock().put(hash, query);
        }
    }

    fn lookup(&self, id: &str) -> Option<Arc<str>> {
        let id = normalise_id(id);
        if self.mode != PersistedMode::Off
            && let Some(body) = self.by_id.get(id)
        {
            return Some(body.clone());
        }
        let cache = self.apq.as_ref()?;
        cache.lock().get(&id.to_ascii_lowercase()).cloned()
    }

    /// Returns the query text to run, or why the request is refused.
    pub fn resolve(&self, request: &GraphqlRequest) -> Result<Resolved, Rejection> {
        let apq_hash = apq_hash(request)?;
        let text = request.query.as_deref().filter(|q| !q.trim().is_empty());
        let id = request.document_id.as_deref().or(apq_hash);
        match (id, text) {
            (Some(id), Some(query)) if request.document_id.is_none() => {
                // Apollo's second request: the full query with its hash.
                if !sha256_hex(query).eq_ignore_ascii_case(normalise_id(id)) {
                    return Err(Rejection::PersistedQueryHashMismatch);
                }
                match self.mode {
                    PersistedMode::Safelist => match self.lookup(id) {
                        Some(body) => Ok(Resolved {
                            query: body,
                            register: None,
                        }),
                        None => Err(Rejection::PersistedQueryNotInSafelist),
                    },
                    _ if self.apq.is_some() => Ok(Resolved {
                        query: Arc::from(query),
                        register: Some(normalise_id(id).to_ascii_lowercase()),
                    }),
                    PersistedMode::Off => Err(Rejection::PersistedQueryNotSupported),
                    PersistedMode::Allow => Ok(Resolved {
                        query: Arc::from(query),
                        register: None,
                    }),
                }
            }
            (Some(id), _) => match self.lookup(id) {
                Some(body) => Ok(Resolved {
                    query: body,
                    register: None,
                }),
                None if self.mode == PersistedMode::Safelist => {
                    Err(Rejection::PersistedQueryNotInSafelist)
                }
                None if self.mode == PersistedMode::Off && self.apq.is_none() => {
                    Err(Rejection::PersistedQueryNotSupported)
                }
                None => Err(Rejection::PersistedQueryNotFound),
            },
            (None, None) => Err(Rejection::BadRequest(
                "the request has no `query`".to_owned(),
            )),
            (None, Some(query)) => {
                if self.mode == PersistedMode::Safelist
                    && (self.require_id || !self.bodies.contains(query))
                {
                    return Err(Rejection::PersistedQueryNotInSafelist);
                }
                Ok(Resolved {
                    query: Arc::from(query),
                    register: None,
                })
            }
        }
    }
}

/// `extensions.persistedQuery.sha256Hash`, after checking the version.
fn apq_hash(request: &GraphqlRequest) -> Result<Option<&str>, Rejection> {
    let Some(pq) = request
        .extensions
        .as_ref()
        .and_then(|e| e.get("persistedQuery"))
    else {
        return Ok(None);
    };
    if pq.get("version").and_then(Value::as_u64) != Some(1) {
        return Err(Rejection::PersistedQueryVersionNotSupported);
    }
    match pq.get("sha256Hash").and_then(Value::as_str) {
        Some(hash) if !hash.is_empty() => Ok(Some(hash)),
        _ => Err(Rejection::BadRequest(
            "`extensions.persistedQuery.sha256Hash` must be a non-empty string".to_owned(),
        )),
    }
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

    fn no_apq() -> ApqConfig {
        ApqConfig {
            enabled: false,
            ..ApqConfig::default()
        }
    }

    fn apq_request(hash: &str, query: Option<&str>) -> GraphqlRequest {
        let mut body =
            json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": hash}}});
        if let Some(query) = query {
            body["query"] = json!(query);
        }
        request(body)
    }

    #[test]
    fn apq_registers_checked_queries_and_answers_hash_only_requests() {
        let ops =
            PersistedOperations::load(&PersistedConfig::default(), &ApqConfig::default()).unwrap();
        let query = "{ products { id } }";
        let hash = sha256_hex(query);
        assert_eq!(
            ops.resolve(&apq_request(&hash, None)),
            Err(Rejection::PersistedQueryNotFound)
        );
        let resolved = ops.resolve(&apq_request(&hash, Some(query))).unwrap();
        assert_eq!(&*resolved.query, query);
        assert_eq!(resolved.register.as_deref(), Some(hash.as_str()));
        // Nothing is kept until the pipeline registers it (after validation).
        assert_eq!(ops.apq_len(), 0);
        ops.register(hash.clone(), resolved.query);
        let again = ops
            .resolve(&apq_request(&hash.to_uppercase(), None))
            .unwrap();
        assert_eq!((&*again.query, again.register), (query, None));

        let other = sha256_hex("{ me { id } }");
        assert_eq!(
            ops.resolve(&apq_request(&other, Some(query))),
            Err(Rejection::PersistedQueryHashMismatch)
        );
        let v2 =
            request(json!({"extensions": {"persistedQuery": {"version": 2, "sha256Hash": hash}}}));
        assert_eq!(
            ops.resolve(&v2),
            Err(Rejection::PersistedQueryVersionNotSupported)
        );
    }

    #[test]
    fn apq_cache_is_bounded_and_drops_the_least_recently_used() {
        let apq = ApqConfig {
            enabled: true,
            cache_size: 2,
        };
        let ops = PersistedOperations::load(&PersistedConfig::default(), &apq).unwrap();
        for q in ["{ a }", "{ b }"] {
            ops.register(sha256_hex(q), Arc::from(q));
        }
        // Using `{ a }` makes `{ b }` the least recently used one.
        assert!(
            ops.resolve(&apq_request(&sha256_hex("{ a }"), None))
                .is_ok()
        );
        ops.register(sha256_hex("{ c }"), Arc::from("{ c }"));
        assert_eq!(ops.apq_len(), 2);
        assert_eq!(
            ops.resolve(&apq_request(&sha256_hex("{ b }"), None)),
            Err(Rejection::PersistedQueryNotFound)
        );
        assert!(
            ops.resolve(&apq_request(&sha256_hex("{ a }"), None))
                .is_ok()
        );
        assert!(
            ops.resolve(&apq_request(&sha256_hex("{ c }"), None))
                .is_ok()
        );
    }

    #[test]
    fn safelist_mode_registers_nothing_and_runs_only_manifest_hashes() {
        let listed = "{ a }";
        let (_f, cfg) = config(
            PersistedMode::Safelist,
            &json!({ "op": listed }).to_string(),
        );
        let ops = PersistedOperations::load(&cfg, &ApqConfig::default()).unwrap();
        assert!(!ops.apq_enabled());
        let unlisted = "{ b }";
        assert_eq!(
            ops.resolve(&apq_request(&sha256_hex(unlisted), Some(unlisted))),
            Err(Rejection::PersistedQueryNotInSafelist)
        );
        ops.register(sha256_hex(unlisted), Arc::from(unlisted));
        assert_eq!(
            ops.resolve(&apq_request(&sha256_hex(unlisted), None)),
            Err(Rejection::PersistedQueryNotInSafelist)
        );
        let resolved = ops
            .resolve(&apq_request(&sha256_hex(listed), Some(listed)))
            .unwrap();
        assert_eq!((&*resolved.query, resolved.register), (listed, None));
    }

    #[test]
    fn safelist_accepts_ids_and_identical_text_only() {
        let (_f, cfg) = config(PersistedMode::Safelist, r#"{"abc": "{ a }"}"#);
        let ops = PersistedOperations::load(&cfg, &ApqConfig::default()).unwrap();
        let by_id =
            request(json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}));
        assert_eq!(&*ops.resolve(&by_id).unwrap().query, "{ a }");
        let by_doc_id = request(json!({"documentId": "sha256:abc"}));
        assert_eq!(&*ops.resolve(&by_doc_id).unwrap().query, "{ a }");
        let by_hash = request(json!({"documentId": sha256_hex("{ a }")}));
        assert_eq!(&*ops.resolve(&by_hash).unwrap().query, "{ a }");
        assert_eq!(
            &*ops
                .resolve(&request(json!({"query": "{ a }"})))
                .unwrap()
                .query,
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
        let ops = PersistedOperations::load(&cfg, &ApqConfig::default()).unwrap();
        assert_eq!(ops.len(), 1);
        assert_eq!(
            &*ops
                .resolve(&request(json!({"documentId": "x1"})))
                .unwrap()
                .query,
            "{ a }"
        );
        assert_eq!(
            &*ops
                .resolve(&request(json!({"query": "{ b }"})))
                .unwrap()
                .query,
            "{ b }"
        );
        assert_eq!(
            ops.resolve(&request(json!({"documentId": "x2"}))),
            Err(Rejection::PersistedQueryNotFound)
        );
    }

    #[test]
    fn off_mode_refuses_ids_and_requires_a_query() {
        let ops = PersistedOperations::load(&PersistedConfig::default(), &no_apq()).unwrap();
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
