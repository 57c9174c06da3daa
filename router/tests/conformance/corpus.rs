//! Reading one graph folder of the corpus: its subgraphs (SDL and data), its cases and its
//! composition verdict. The format is described in this folder's README.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::ordered::Ordered;

/// One subgraph of a graph.
pub struct SubgraphFiles {
    pub name: String,
    pub sdl: String,
    pub data: Value,
}

/// One operation and the response it must produce.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub query: String,
    #[serde(default)]
    pub variables: Option<Value>,
    #[serde(default, rename = "operationName")]
    pub operation_name: Option<String>,
    /// How many requests each subgraph must receive for this operation (subgraphs not named:
    /// none); not checked when absent.
    #[serde(default)]
    pub requests: Option<std::collections::BTreeMap<String, usize>>,
    /// `{"data": ..., "errors": [{"path": [...], "code": "..."}]}`; kept as JSON so that
    /// `"data": null` and an absent `data` stay distinct.
    pub expected: Value,
    /// `expected.data` with its keys in file order (`None` when absent).
    #[serde(skip)]
    pub expected_data: Option<Ordered>,
}

/// A graph folder.
pub struct Graph {
    pub subgraphs: Vec<SubgraphFiles>,
    pub cases: Vec<Case>,
    /// `false` when both composers must refuse the graph.
    pub valid: bool,
}

pub fn graphs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/graphs")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&read(path))
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()))
}

/// Loads the graph folder `name`.
pub fn load(name: &str) -> Graph {
    let dir = graphs_dir().join(name);
    assert!(dir.is_dir(), "no graph folder {}", dir.display());
    let mut subgraphs = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in &entries {
        if path.extension().and_then(|e| e.to_str()) != Some("graphql") {
            continue;
        }
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a UTF-8 file name")
            .to_owned();
        let data_path = dir.join(format!("{stem}.data.json"));
        let data = if data_path.is_file() {
            read_json(&data_path)
        } else {
            Value::Object(Default::default())
        };
        subgraphs.push(SubgraphFiles {
            name: stem,
            sdl: read(path),
            data,
        });
    }
    assert!(!subgraphs.is_empty(), "graph {name} has no .graphql file");

    let valid = {
        let path = dir.join("composition.json");
        if path.is_file() {
            read_json(&path)
                .get("valid")
                .and_then(Value::as_bool)
                .unwrap_or_else(|| panic!("{} needs a boolean `valid`", path.display()))
        } else {
            true
        }
    };
    let cases_path = dir.join("cases.json");
    let cases: Vec<Case> = if cases_path.is_file() {
        let text = read(&cases_path);
        let mut cases: Vec<Case> = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!(
                "{} does not have the cases format: {e}",
                cases_path.display()
            )
        });
        let ordered = Ordered::parse(&text).expect("the cases file parsed once already");
        for (index, case) in cases.iter_mut().enumerate() {
            case.expected_data = ordered
                .index(index)
                .and_then(|case| case.get("expected"))
                .and_then(|expected| expected.get("data"))
                .cloned();
        }
        cases
    } else {
        Vec::new()
    };
    if valid {
        assert!(!cases.is_empty(), "graph {name} is valid but has no cases");
    } else {
        assert!(
            cases.is_empty(),
            "graph {name} must be refused, so it has no cases"
        );
    }
    for case in &cases {
        assert!(
            case.expected.is_object(),
            "graph {name}, case `{}`: `expected` must be an object",
            case.name
        );
    }
    Graph {
        subgraphs,
        cases,
        valid,
    }
}

/// The names of every graph folder.
pub fn folders() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(graphs_dir())
        .expect("the graphs folder exists")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            entry
                .file_type()
                .ok()?
                .is_dir()
                .then(|| entry.file_name().to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    names
}
