//! The reference composer, for tests: The Guild's `@theguild/federation-composition`, run
//! through node with `tests/guild/compose.mjs`. Only built with the `reference` feature,
//! which this crate's tests and the router's conformance corpus turn on; the reference
//! needs `npm ci` in `router/composition/tests/guild`, and without node or the package the
//! calls panic so that the comparisons fail rather than pass silently.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::SubgraphSdl;

/// What the reference answers for one set of subgraphs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// It composes: the supergraph SDL.
    Supergraph(String),
    /// It refuses: each error's code (when it gives one) and message.
    Errors(Vec<(Option<String>, String)>),
}

/// Composes one set of subgraphs with the reference.
pub fn compose(subgraphs: &[SubgraphSdl]) -> Answer {
    parse(&run(&to_json(subgraphs)))
}

/// Composes many sets in one node process (start-up dominates a single composition).
pub fn compose_batch(batch: &[Vec<SubgraphSdl>]) -> Vec<Answer> {
    let input =
        serde_json::json!({ "batch": batch.iter().map(|s| to_json(s)).collect::<Vec<_>>() });
    let answers = run(&input);
    let answers = answers
        .as_array()
        .expect("compose.mjs answers a batch with a list");
    assert_eq!(
        answers.len(),
        batch.len(),
        "one answer per set of subgraphs"
    );
    answers.iter().map(parse).collect()
}

fn to_json(subgraphs: &[SubgraphSdl]) -> Value {
    Value::Array(
        subgraphs
            .iter()
            .map(|s| serde_json::json!({ "name": s.name, "url": s.url, "sdl": s.sdl }))
            .collect(),
    )
}

/// Runs `compose.mjs` with `input` on stdin and returns its JSON answer.
fn run(input: &Value) -> Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/guild");
    assert!(
        dir.join("node_modules/@theguild/federation-composition")
            .is_dir(),
        "the reference composition is not installed: run `npm ci` in router/composition/tests/guild"
    );
    let mut child = Command::new("node")
        .arg("compose.mjs")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run node (is Node.js installed?): {e}"));
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.to_string().as_bytes())
        .expect("write the subgraphs to node");
    let output = child.wait_with_output().expect("node runs");
    assert!(
        output.status.success(),
        "compose.mjs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("compose.mjs prints JSON")
}

fn parse(answer: &Value) -> Answer {
    if let Some(sdl) = answer.get("supergraphSdl").and_then(Value::as_str) {
        return Answer::Supergraph(sdl.to_owned());
    }
    let errors = answer
        .get("errors")
        .and_then(Value::as_array)
        .expect("compose.mjs prints a supergraph or errors")
        .iter()
        .map(|e| {
            (
                e.get("code").and_then(Value::as_str).map(str::to_owned),
                e.get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    Answer::Errors(errors)
}
