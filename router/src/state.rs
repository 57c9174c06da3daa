//! Shared state of a running router: the configuration compiled into the pieces each
//! pipeline stage needs, and the current supergraph's executor, swapped on reload.

use std::sync::{
    Arc, RwLock,
    atomic::{AtomicBool, Ordering},
};

use executor::Executor;

use crate::{
    config::RouterConfig,
    graphiql::GraphiqlPage,
    metrics::Metrics,
    pipeline::{auth::EdgeAuth, headers::HeaderRules, persisted::PersistedOperations},
};

/// The executor of one supergraph and the hash of the SDL it was built from.
#[derive(Clone)]
pub(crate) struct LoadedSupergraph {
    pub(crate) executor: Executor,
    pub(crate) sha256: String,
}

pub struct AppState {
    pub config: RouterConfig,
    /// Introspection after applying the profile default.
    pub introspection: bool,
    pub metrics: Arc<Metrics>,
    pub auth: EdgeAuth,
    pub header_rules: HeaderRules,
    pub persisted: PersistedOperations,
    pub graphiql: Option<GraphiqlPage>,
    /// The `Vary` header of `/graphql` answers (see [`crate::pipeline::cache`]).
    pub vary: http::HeaderValue,
    supergraph: RwLock<Option<LoadedSupergraph>>,
    draining: AtomicBool,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .field("supergraph", &self.supergraph_sha256())
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub(crate) fn new(
        config: RouterConfig,
        metrics: Arc<Metrics>,
        header_rules: HeaderRules,
        persisted: PersistedOperations,
        graphiql: Option<GraphiqlPage>,
    ) -> Self {
        Self {
            introspection: config.introspection_enabled(),
            auth: EdgeAuth::new(&config.auth),
            vary: crate::pipeline::cache::vary_value(&config.headers),
            config,
            metrics,
            header_rules,
            persisted,
            graphiql,
            supergraph: RwLock::new(None),
            draining: AtomicBool::new(false),
        }
    }

    /// The executor of the current supergraph (a cheap clone), if one is loaded.
    pub fn executor(&self) -> Option<Executor> {
        self.supergraph
            .read()
            .ok()
            .and_then(|s| s.as_ref().map(|s| s.executor.clone()))
    }

    /// The SHA-256 of the supergraph SDL being served.
    pub fn supergraph_sha256(&self) -> Option<String> {
        self.supergraph
            .read()
            .ok()
            .and_then(|s| s.as_ref().map(|s| s.sha256.clone()))
    }

    /// Replaces the served supergraph; requests already running keep the old executor.
    pub(crate) fn install(&self, loaded: LoadedSupergraph) {
        // A poisoned lock only means a panic elsewhere while swapping; the value is whole.
        let mut slot = self.supergraph.write().unwrap_or_else(|e| e.into_inner());
        *slot = Some(loaded);
    }

    /// Marks the router as shutting down, so readiness fails while requests drain.
    pub(crate) fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        !self.draining.load(Ordering::SeqCst) && self.executor().is_some()
    }
}
