//! Shared code of the integration tests: loading the fixture and real subgraphs, and
//! composing inline SDL.

#![allow(dead_code)]

pub mod cases;
pub mod semantic;
pub mod valid;

use std::path::{Path, PathBuf};

use composition::{CompositionErrors, SubgraphSdl, Supergraph, compose};

/// The repository's `schema/` folder.
pub fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema")
}

/// Every `*.graphql` file of a folder as a subgraph named after the file.
fn load_dir(dir: &Path, names: Option<&[&str]>) -> Vec<SubgraphSdl> {
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("graphql") {
            continue;
        }
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 file name")
            .to_owned();
        if names.is_some_and(|n| !n.contains(&name.as_str())) {
            continue;
        }
        let sdl = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        out.push(SubgraphSdl {
            url: format!("http://{name}.example/graphql"),
            name,
            sdl,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The hand-written fixture subgraphs in `schema/fixtures/`.
pub fn fixtures() -> Vec<SubgraphSdl> {
    let out = load_dir(&schema_dir().join("fixtures"), None);
    assert!(
        out.len() >= 4,
        "expected the fixture subgraphs in schema/fixtures"
    );
    out
}

/// The project's own subgraphs, those of them whose SDL has been exported to `schema/`.
pub fn real_subgraphs() -> Vec<SubgraphSdl> {
    load_dir(
        &schema_dir(),
        Some(&["products", "users", "orders", "payments"]),
    )
}

/// Builds subgraphs from `(name, sdl)` pairs.
pub fn subgraphs(list: &[(&str, &str)]) -> Vec<SubgraphSdl> {
    list.iter()
        .map(|(name, sdl)| SubgraphSdl::new(*name, format!("http://{name}.example/graphql"), *sdl))
        .collect()
}

pub fn compose_ok(list: &[(&str, &str)]) -> Supergraph {
    match compose(&subgraphs(list)) {
        Ok(s) => s,
        Err(e) => panic!("composition failed:\n{e}"),
    }
}

pub fn compose_err(list: &[(&str, &str)]) -> CompositionErrors {
    match compose(&subgraphs(list)) {
        Ok(s) => panic!("composition unexpectedly succeeded:\n{}", s.sdl),
        Err(e) => e,
    }
}

/// Prefixes an SDL body with the federation v2 link importing every directive used here.
pub fn fed(body: &str) -> String {
    format!(
        "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.5\", import: [\"@key\", \"@shareable\", \"@external\", \"@requires\", \"@provides\", \"@override\", \"@inaccessible\", \"@tag\", \"@interfaceObject\", \"@extends\"])\n{body}"
    )
}

/// The line of the supergraph SDL that defines `field` inside `type_name` (a field, an
/// input field or an enum value), trimmed.
pub fn field_line(sdl: &str, type_name: &str, field: &str) -> String {
    let mut current: Option<&str> = None;
    for line in sdl.lines() {
        if let Some(rest) = ["type ", "interface ", "input ", "enum "]
            .iter()
            .find_map(|k| line.strip_prefix(k))
        {
            current = rest.split([' ', '{']).next();
            continue;
        }
        if line == "}" {
            current = None;
            continue;
        }
        let trimmed = line.trim_start();
        if current == Some(type_name)
            && line.starts_with("  ")
            && !line.starts_with("   ")
            && (trimmed == field
                || [":", "(", " "]
                    .iter()
                    .any(|sep| trimmed.starts_with(&format!("{field}{sep}"))))
        {
            return trimmed.to_owned();
        }
    }
    panic!("no field {type_name}.{field} in:\n{sdl}")
}

/// The header of a type definition, with its type-level directives, as one line.
pub fn type_header(sdl: &str, type_name: &str) -> String {
    let mut lines = sdl.lines().skip_while(|l| {
        !["type", "interface", "union", "enum", "input", "scalar"]
            .iter()
            .any(|k| {
                let p = format!("{k} {type_name}");
                *l == p || l.starts_with(&format!("{p} "))
            })
    });
    let mut out = lines
        .next()
        .unwrap_or_else(|| panic!("no type {type_name} in:\n{sdl}"))
        .to_owned();
    for l in lines {
        if l.starts_with("  @") {
            out.push(' ');
            out.push_str(l.trim());
        } else {
            if l.starts_with("  =") {
                out.push(' ');
                out.push_str(l.trim());
            }
            break;
        }
    }
    out
}

/// Composes the named case of `valid::valid()`.
pub fn compose_case(name: &str) -> Supergraph {
    let (_, list) = valid::valid()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no valid case {name}"));
    let pairs: Vec<(&str, &str)> = list.iter().map(|(n, s)| (*n, s.as_str())).collect();
    compose_ok(&pairs)
}
