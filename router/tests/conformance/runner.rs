//! Running one graph of the corpus: serve its subgraphs, compose it with both composers,
//! serve each supergraph through the real router and check every case against its expected
//! response.

use std::fmt::Write as _;
use std::net::SocketAddr;

use composition::SubgraphSdl;
use router::{RouterConfig, RunningRouter};
use serde_json::Value;

use crate::compose;
use crate::corpus::{self, Case, Graph};
use crate::ordered::Ordered;
use crate::subgraph::Subgraph;

/// A graph with its subgraphs running.
pub struct ServedGraph {
    pub graph: Graph,
    pub subgraphs: Vec<Subgraph>,
}

impl ServedGraph {
    pub async fn start(name: &str) -> Self {
        let graph = corpus::load(name);
        let mut subgraphs = Vec::new();
        for files in &graph.subgraphs {
            let subgraph = Subgraph::start(&files.name, &files.sdl, files.data.clone())
                .await
                .unwrap_or_else(|e| panic!("graph {name}, subgraph {}: {e}", files.name));
            subgraphs.push(subgraph);
        }
        Self { graph, subgraphs }
    }

    /// The subgraphs with the URLs they are served at.
    pub fn sdls(&self) -> Vec<SubgraphSdl> {
        self.graph
            .subgraphs
            .iter()
            .zip(&self.subgraphs)
            .map(|(files, served)| SubgraphSdl::new(&files.name, &served.url, &files.sdl))
            .collect()
    }

    /// The case's expected request counts (`requests`), if it names any.
    fn check_requests(&self, case: &Case) -> Result<(), String> {
        let Some(expected) = &case.requests else {
            return Ok(());
        };
        for subgraph in &self.subgraphs {
            let got = subgraph.requests().len();
            let wanted = expected.get(&subgraph.name).copied().unwrap_or(0);
            if got != wanted {
                return Err(format!(
                    "subgraph {} received {got} request(s), expected {wanted}",
                    subgraph.name
                ));
            }
        }
        Ok(())
    }

    /// What each subgraph received since the last call, for failure messages.
    fn take_requests(&self) -> String {
        let mut out = String::new();
        for subgraph in &self.subgraphs {
            for request in subgraph.requests() {
                let _ = write!(
                    out,
                    "\n    {}: {} {}",
                    subgraph.name,
                    request
                        .get("query")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                    request.get("variables").cloned().unwrap_or(Value::Null)
                );
            }
            subgraph.clear_requests();
        }
        out
    }
}

/// The router serving one supergraph.
pub struct ServedRouter {
    router: Option<RunningRouter>,
    base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl ServedRouter {
    pub async fn start(supergraph: &str) -> Result<Self, String> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("supergraph.graphql");
        std::fs::write(&path, supergraph).expect("write the supergraph");
        let mut config = RouterConfig::default();
        config.listen.addr = SocketAddr::from(([127, 0, 0, 1], 0));
        config.listen.shutdown_grace_secs = 1;
        config.supergraph.path = path;
        config.supergraph.poll_interval_secs = 0;
        config.auth.enabled = false;
        // The corpus checks answers, not the edge's limits.
        config.limits.max_depth = router::config::limits::PARSER_NESTING_LIMIT;
        config.limits.max_aliases = 500;
        config.limits.max_root_fields = 200;
        config.limits.max_tokens = 100_000;
        config.graphiql.assets_dir = dir.path().join("no-assets");
        config
            .validate()
            .map_err(|e| format!("invalid router config: {e}"))?;
        let router = router::spawn(config)
            .await
            .map_err(|e| format!("the router did not start: {e}"))?;
        Ok(Self {
            base: format!("http://{}", router.addr),
            router: Some(router),
            client: reqwest::Client::new(),
            _dir: dir,
        })
    }

    /// Posts one case's operation; returns the response body as JSON, twice: as a value and
    /// with its keys in the order they were written.
    pub async fn run(&self, case: &Case) -> Result<(Value, Ordered), String> {
        let mut body = serde_json::Map::new();
        body.insert("query".to_owned(), Value::String(case.query.clone()));
        if let Some(variables) = &case.variables {
            body.insert("variables".to_owned(), variables.clone());
        }
        if let Some(name) = &case.operation_name {
            body.insert("operationName".to_owned(), Value::String(name.clone()));
        }
        let response = self
            .client
            .post(format!("{}/graphql", self.base))
            .header("content-type", "application/json")
            .header("accept", "application/graphql-response+json")
            .body(serde_json::to_vec(&body).expect("serialisable"))
            .send()
            .await
            .map_err(|e| format!("the router did not answer: {e}"))?;
        let text = response.text().await.map_err(|e| format!("no body: {e}"))?;
        let value = serde_json::from_str(&text).map_err(|e| format!("not JSON ({e}): {text}"))?;
        let ordered = Ordered::parse(&text).map_err(|e| format!("not JSON ({e}): {text}"))?;
        Ok((value, ordered))
    }

    pub async fn stop(mut self) {
        if let Some(router) = self.router.take() {
            router.shutdown().await;
        }
    }
}

/// Runs every case of graph `name` (see the module docs); panics with every failure.
pub async fn check_graph(name: &str) {
    let served = ServedGraph::start(name).await;
    let sdls = served.sdls();
    let reference = {
        let sdls = sdls.clone();
        tokio::task::spawn_blocking(move || compose::reference(&sdls))
            .await
            .expect("the reference composition ran")
    };
    let ours = compose::ours(&sdls);
    let mut failures = Vec::new();

    if !served.graph.valid {
        if let Ok(sdl) = &reference {
            failures.push(format!(
                "the reference composed a graph marked invalid:\n{sdl}"
            ));
        }
        if ours.is_ok() {
            failures.push("our composition accepted a graph marked invalid".to_owned());
        }
        report(name, failures);
        return;
    }

    if let (Ok(theirs), Ok(mine)) = (&reference, &ours)
        && let Some(difference) = supergraph_difference(mine, theirs)
    {
        failures.push(difference);
    }

    let mut supergraphs = Vec::new();
    match &reference {
        Ok(sdl) => supergraphs.push(("reference", sdl.clone())),
        Err(errors) => failures.push(format!(
            "the reference composition refused the graph:\n  {}",
            errors.join("\n  ")
        )),
    }
    match &ours {
        Ok(sdl) => supergraphs.push(("ours", sdl.clone())),
        Err(errors) => failures.push(format!("our composition refused the graph:\n{errors}")),
    }

    for (source, supergraph) in &supergraphs {
        let router = match ServedRouter::start(supergraph).await {
            Ok(router) => router,
            Err(e) => {
                failures.push(format!("supergraph {source}: {e}\n{supergraph}"));
                continue;
            }
        };
        for case in &served.graph.cases {
            served.take_requests();
            let outcome = match router.run(case).await {
                Ok((actual, ordered)) => compare(case, &actual, &ordered)
                    .and_then(|()| served.check_requests(case))
                    .map_err(|why| (why, ordered.to_string())),
                Err(e) => Err((e, String::new())),
            };
            if let Err((why, actual)) = outcome {
                let expected_data = case
                    .expected_data
                    .as_ref()
                    .map_or_else(|| "(none)".to_owned(), ToString::to_string);
                let expected_errors = case.expected.get("errors").cloned().unwrap_or(Value::Null);
                failures.push(format!(
                    "case `{}` on the {source} supergraph: {why}\n  query:     {}\n  variables: {}\n  expected:  data {expected_data} errors {expected_errors}\n  actual:    {actual}\n  subgraph requests:{}",
                    case.name,
                    case.query,
                    case.variables.clone().unwrap_or(Value::Null),
                    served.take_requests(),
                ));
            }
        }
        router.stop().await;
    }
    report(name, failures);
}

/// The facts only one of the two supergraphs has, if any (see `semantic.rs`).
fn supergraph_difference(ours: &str, theirs: &str) -> Option<String> {
    let ours = crate::semantic::facts(ours);
    let theirs = crate::semantic::facts(theirs);
    if ours == theirs {
        return None;
    }
    let only = |a: &std::collections::BTreeSet<String>, b: &std::collections::BTreeSet<String>| {
        a.difference(b).cloned().collect::<Vec<_>>().join("\n  ")
    };
    Some(format!(
        "the supergraphs differ\nonly in ours:\n  {}\nonly in the reference:\n  {}",
        only(&ours, &theirs),
        only(&theirs, &ours)
    ))
}

fn report(name: &str, failures: Vec<String>) {
    if failures.is_empty() {
        return;
    }
    let mut message = format!("graph {name}: {} failure(s)\n", failures.len());
    for failure in failures {
        let _ = writeln!(message, "---\n{failure}");
    }
    panic!("{message}");
}

/// Compares a response with the expected one: `data` exactly (key order too), errors on
/// `path` and, where the expectation names one, `extensions.code`.
pub fn compare(case: &Case, actual: &Value, ordered: &Ordered) -> Result<(), String> {
    match (&case.expected_data, ordered.get("data")) {
        (None, None) => {}
        (Some(wanted), Some(got)) => {
            if wanted != got {
                return Err("data differs".to_owned());
            }
        }
        (Some(_), None) => return Err("the response has no data".to_owned()),
        (None, Some(_)) => return Err("the response has data where none was expected".to_owned()),
    }
    let wanted_errors = case
        .expected
        .get("errors")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut got_errors = actual
        .get("errors")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for wanted in &wanted_errors {
        let path = wanted.get("path").cloned().unwrap_or(Value::Null);
        let code = wanted.get("code");
        let found = got_errors.iter().position(|got| {
            got.get("path").cloned().unwrap_or(Value::Null) == path
                && code.is_none_or(|code| got.pointer("/extensions/code") == Some(code))
        });
        match found {
            Some(index) => {
                got_errors.remove(index);
            }
            None => return Err(format!("no error matches {wanted}")),
        }
    }
    if !got_errors.is_empty() {
        return Err(format!("unexpected error(s): {}", Value::Array(got_errors)));
    }
    Ok(())
}
