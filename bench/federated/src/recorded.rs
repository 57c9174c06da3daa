//! Subgraph answers recorded from the benchmark's own subgraphs and replayed without HTTP, so
//! the executor's share of a request (building fetches, parsing answers, merging, writing the
//! response) can be measured in process (`benches/merge.rs`) and checked (`tests/answers.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use executor::SubgraphTransport;
use futures::FutureExt as _;
use futures::future::BoxFuture;

/// Answers by subgraph name and exact request body.
pub type Answers = HashMap<(String, bytes::Bytes), bytes::Bytes>;

/// Posts every request to the real subgraph over HTTP and keeps a copy of the answer.
pub struct Recorder {
    http: reqwest::Client,
    urls: HashMap<String, String>,
    answers: Arc<Mutex<Answers>>,
}

impl Recorder {
    pub fn new(urls: HashMap<String, String>) -> Self {
        Self {
            http: reqwest::Client::new(),
            urls,
            answers: Arc::default(),
        }
    }

    /// Everything recorded so far.
    pub fn answers(&self) -> Answers {
        self.answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl SubgraphTransport for Recorder {
    fn post(
        &self,
        subgraph: &str,
        body: bytes::Bytes,
    ) -> BoxFuture<'static, Result<bytes::Bytes, String>> {
        let http = self.http.clone();
        let url = self.urls.get(subgraph).cloned();
        let answers = self.answers.clone();
        let subgraph = subgraph.to_owned();
        async move {
            let url = url.ok_or_else(|| format!("no URL for {subgraph}"))?;
            let response = http
                .post(url)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let answer = response.bytes().await.map_err(|e| e.to_string())?;
            answers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert((subgraph, body), answer.clone());
            Ok(answer)
        }
        .boxed()
    }
}

/// Answers from a recording; a request that was not recorded fails.
pub struct Replay(pub Answers);

impl SubgraphTransport for Replay {
    fn post(
        &self,
        subgraph: &str,
        body: bytes::Bytes,
    ) -> BoxFuture<'static, Result<bytes::Bytes, String>> {
        let answer = self.0.get(&(subgraph.to_owned(), body)).cloned();
        let subgraph = subgraph.to_owned();
        async move {
            answer.ok_or_else(|| format!("no recorded answer from {subgraph} for this request"))
        }
        .boxed()
    }
}
