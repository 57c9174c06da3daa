//! The router alone under load.
//!
//! `federated-bench` serves four small in-memory subgraphs ([`subgraphs`]) from a child
//! process of its own, composes them, starts the real `router` binary in front of them and
//! drives [`queries::DEEP`] (seven fetches, about 100 KB of answer) and
//! [`queries::PASS_THROUGH`] (one fetch) through it with `wrk`, with in-flight deduplication
//! off and on. Router, subgraphs and load generator are separate processes, so each one's CPU
//! time over the requests served is its cost per request, and it stays meaningful when they
//! share the cores. Before each load the router's answer is compared byte for byte with
//! [`expected`].
//!
//! `benches/merge.rs` replays answers recorded from the same subgraphs through the executor
//! in process, for the merge and response writing alone.

pub mod expected;
pub mod measure;
pub mod queries;
pub mod recorded;
pub mod subgraphs;

use anyhow::Context as _;

/// The supergraph of the four subgraphs served at `urls` (name → URL).
pub fn supergraph(urls: &[(&str, String)]) -> anyhow::Result<String> {
    let sdl = subgraphs::sdl();
    let inputs: Vec<composition::SubgraphSdl> = sdl
        .into_iter()
        .map(|(name, sdl)| {
            let url = urls
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, u)| u.clone())
                .unwrap_or_default();
            composition::SubgraphSdl::new(name, url, sdl)
        })
        .collect();
    let composed =
        composition::compose(&inputs).map_err(|e| anyhow::anyhow!("composition failed: {e}"))?;
    Ok(composed.sdl)
}

/// Serves the four subgraphs on the current runtime and composes them.
pub async fn start_subgraphs() -> anyhow::Result<(Vec<subgraphs::Served>, String)> {
    let served = subgraphs::serve_all()
        .await
        .context("binding the subgraphs")?;
    let urls: Vec<(&str, String)> = served.iter().map(|s| (s.name, s.url())).collect();
    let sdl = supergraph(&urls)?;
    Ok((served, sdl))
}

/// An executor (deduplication off, as the benchmark's main rows) whose subgraph requests go
/// through `transport`.
pub fn executor_with(
    supergraph: &str,
    transport: std::sync::Arc<dyn executor::SubgraphTransport>,
) -> anyhow::Result<executor::Executor> {
    let config = executor::ExecutorConfig {
        deduplicate_operations: false,
        deduplicate_fetches: false,
        transport: Some(transport),
        ..executor::ExecutorConfig::default()
    };
    executor::Executor::new(supergraph, config).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Runs `query` without variables or headers and returns the response body.
pub async fn answer(executor: &executor::Executor, query: &str) -> anyhow::Result<Vec<u8>> {
    let prepared = executor
        .prepare(query, None)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let response = executor
        .execute(&prepared, serde_json::Map::new(), Default::default())
        .await;
    Ok(response.to_bytes())
}

/// Starts the subgraphs on the current runtime, runs both queries against them once through a
/// [`recorded::Recorder`], and returns the supergraph and the recorded answers.
pub async fn record() -> anyhow::Result<(String, recorded::Answers)> {
    let (served, sdl) = start_subgraphs().await?;
    let urls = served
        .iter()
        .map(|s| (s.name.to_owned(), s.url()))
        .collect();
    let recorder = std::sync::Arc::new(recorded::Recorder::new(urls));
    let executor = executor_with(&sdl, recorder.clone())?;
    for query in [queries::DEEP, queries::PASS_THROUGH] {
        answer(&executor, query).await?;
    }
    Ok((sdl, recorder.answers()))
}
