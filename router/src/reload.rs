//! Hot reload of the supergraph file.
//!
//! The file is read and hashed every `supergraph.poll_interval_secs`; polling (rather than
//! file-system notifications) works the same on every platform and on volumes mounted
//! into containers. When the hash changes a new executor is built off the async runtime
//! and swapped in atomically. A supergraph that fails to load leaves the old one serving,
//! and is not retried until the file changes again.

use std::{path::PathBuf, sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use crate::{
    pipeline::{execute::build_executor, persisted::sha256_hex},
    state::{AppState, LoadedSupergraph},
};

/// Why a supergraph could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read supergraph {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("supergraph {path} is not usable: {source}")]
    Executor {
        path: String,
        #[source]
        source: executor::ExecutorError,
    },
    #[error("building the executor panicked or was cancelled")]
    Join,
}

/// Reads the supergraph at `path` and builds its executor.
pub(crate) async fn load(
    state_config: &AppState,
    path: &PathBuf,
) -> Result<LoadedSupergraph, LoadError> {
    let shown = path.display().to_string();
    let sdl = tokio::fs::read_to_string(path)
        .await
        .map_err(|source| LoadError::Read {
            path: shown.clone(),
            source,
        })?;
    build(state_config, sdl, shown).await
}

pub(crate) async fn build(
    state: &AppState,
    sdl: String,
    shown: String,
) -> Result<LoadedSupergraph, LoadError> {
    let config = state.config.clone();
    let metrics = state.metrics.clone();
    // Building the planner takes milliseconds of CPU; keep it off the request threads.
    tokio::task::spawn_blocking(move || {
        let sha256 = sha256_hex(&sdl);
        build_executor(&sdl, &config, metrics)
            .map(|executor| LoadedSupergraph { executor, sha256 })
            .map_err(|source| LoadError::Executor {
                path: shown,
                source,
            })
    })
    .await
    .map_err(|_| LoadError::Join)?
}

/// Polls `path` until `cancel` fires.
pub(crate) async fn watch(
    state: Arc<AppState>,
    path: PathBuf,
    every: Duration,
    cancel: CancellationToken,
) {
    let mut last_seen = state.supergraph_sha256();
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let sdl = match tokio::fs::read_to_string(&path).await {
            Ok(sdl) => sdl,
            Err(e) => {
                // Editors replace files by rename; a missing file for one tick is normal.
                tracing::debug!(path = %path.display(), error = %e, "supergraph not readable; keeping the current one");
                continue;
            }
        };
        let sha256 = sha256_hex(&sdl);
        if last_seen.as_deref() == Some(sha256.as_str()) {
            continue;
        }
        last_seen = Some(sha256.clone());
        match build(&state, sdl, path.display().to_string()).await {
            Ok(loaded) => {
                state.install(loaded);
                state.metrics.reload(true);
                tracing::info!(path = %path.display(), %sha256, "supergraph reloaded");
            }
            Err(e) => {
                state.metrics.reload(false);
                tracing::warn!(error = %e, "new supergraph rejected; still serving the previous one");
            }
        }
    }
}
