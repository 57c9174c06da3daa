//! Composing a graph twice: with The Guild's `@theguild/federation-composition` (the
//! reference, run through node with `router/composition/tests/guild/compose.mjs`) and with
//! this repository's `composition` crate.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use composition::SubgraphSdl;
use serde_json::Value;

/// The reference's supergraph, or its error messages (with codes).
pub fn reference(subgraphs: &[SubgraphSdl]) -> Result<String, Vec<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("composition/tests/guild");
    assert!(
        dir.join("node_modules/@theguild/federation-composition")
            .is_dir(),
        "the reference composition is not installed: run `npm ci` in router/composition/tests/guild"
    );
    let input = Value::Array(
        subgraphs
            .iter()
            .map(|s| serde_json::json!({ "name": s.name, "url": s.url, "sdl": s.sdl }))
            .collect(),
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
    let answer: Value = serde_json::from_slice(&output.stdout).expect("compose.mjs prints JSON");
    if let Some(sdl) = answer.get("supergraphSdl").and_then(Value::as_str) {
        return Ok(sdl.to_owned());
    }
    Err(answer
        .get("errors")
        .and_then(Value::as_array)
        .expect("compose.mjs prints a supergraph or errors")
        .iter()
        .map(|e| {
            format!(
                "[{}] {}",
                e.get("code").and_then(Value::as_str).unwrap_or("-"),
                e.get("message").and_then(Value::as_str).unwrap_or_default()
            )
        })
        .collect())
}

/// Our supergraph, or the composition errors as text.
pub fn ours(subgraphs: &[SubgraphSdl]) -> Result<String, String> {
    composition::compose(subgraphs)
        .map(|supergraph| supergraph.sdl)
        .map_err(|errors| errors.to_string())
}
