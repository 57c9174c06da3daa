//! Compares this crate's composition with The Guild's `@theguild/federation-composition`
//! (run through node, see `tests/guild/`): on the fixture subgraphs, on the project's own
//! subgraphs once their SDL is exported to `schema/`, on every feature case of the
//! directive tests, on every invalid case of the error tests (both must reject them), and
//! on every graph of the router's conformance corpus (`router/tests/conformance/graphs/`).
//!
//! The comparison is semantic (see `common::semantic`). Differences by design:
//! - descriptions and the order of definitions are not compared;
//! - the definitions of the spec directives and scalars are not compared, only their use;
//! - an `@external` field of an `@interfaceObject` keeps its `@join__field`s here, where the
//!   reference drops them (see `interface_object_external_field_keeps_its_join_field` in
//!   `directives.rs`), so that case is not in the shared list;
//! - the reference throws on a renamed root type referenced by a field, so the shared
//!   renamed-root case does not reference it (`subgraph.rs` tests the renaming).
//! - a field returning a narrower type in one subgraph (`Book` where another returns a
//!   union or interface containing it) gets the wider type here, with each subgraph's own
//!   type in its `@join__field(type:)`, as federation specifies. The reference takes the
//!   named type of whichever subgraph is least restrictive about nulls (on a tie, the
//!   first by name), which can be the narrower one; the shared cases
//!   (`shelf-output-subtype` in the corpus, `field_narrowed_to_an_implementation`) give
//!   both sides the same nullability and name the wider side's subgraph first, so both
//!   composers agree on them.
//!
//! The reference needs `npm ci` in `router/composition/tests/guild`; without node or the
//! package these tests fail rather than pass silently.

mod common;

use std::path::Path;

use composition::reference::{self, Answer as Reference};
use composition::{SubgraphSdl, compose};

/// Composes with both and asserts the supergraphs agree.
fn assert_same_supergraph(subgraphs: &[SubgraphSdl]) {
    let ours = compose(subgraphs).unwrap_or_else(|e| panic!("our composition failed:\n{e}"));
    let theirs = match reference::compose(subgraphs) {
        Reference::Supergraph(sdl) => sdl,
        Reference::Errors(errors) => panic!("the reference composition failed: {errors:#?}"),
    };
    if let Some(diff) = difference(&ours.sdl, &theirs) {
        panic!("{diff}");
    }
}

/// The semantic difference of two supergraphs, if any, printed for a failure message.
fn difference(ours: &str, theirs: &str) -> Option<String> {
    let ours_facts = common::semantic::facts(ours);
    let theirs_facts = common::semantic::facts(theirs);
    let only_ours: Vec<&str> = ours_facts
        .difference(&theirs_facts)
        .map(String::as_str)
        .collect();
    let only_theirs: Vec<&str> = theirs_facts
        .difference(&ours_facts)
        .map(String::as_str)
        .collect();
    if only_ours.is_empty() && only_theirs.is_empty() {
        return None;
    }
    Some(format!(
        "the supergraphs differ\nonly in ours:\n  {}\nonly in the reference:\n  {}",
        only_ours.join("\n  "),
        only_theirs.join("\n  ")
    ))
}

#[test]
fn fixtures_match_reference() {
    assert_same_supergraph(&common::fixtures());
}

/// The project's subgraphs: whichever of them are exported to `schema/` are composed
/// together (a subset composes too, since each declares the entities it references).
/// Until none is exported this compares the fixtures alone, so it always checks something.
#[test]
fn project_subgraphs_match_reference() {
    let subgraphs = common::real_subgraphs();
    let subgraphs = if subgraphs.is_empty() {
        common::fixtures()
    } else {
        subgraphs
    };
    assert_same_supergraph(&subgraphs);
}

/// Guards the comparison itself: a dropped or altered directive must show up.
#[test]
fn semantic_comparison_sees_differences() {
    let ours = compose(&common::fixtures()).unwrap_or_else(|e| panic!("{e}"));
    let facts = common::semantic::facts(&ours.sdl);
    assert!(facts.len() > 200, "suspiciously few facts: {}", facts.len());
    let altered = ours.sdl.replacen(
        "@join__field(graph: INVENTORY, override: \"catalog\")",
        "@join__field(graph: INVENTORY)",
        1,
    );
    assert_ne!(
        altered, ours.sdl,
        "the fixture supergraph has the override this test alters"
    );
    assert_ne!(common::semantic::facts(&altered), facts);
    let reordered = ours.sdl.replacen(
        "requires: \"weight price { amount currencyCode }\"",
        "requires: \"weight  price{amount currencyCode}\"",
        1,
    );
    assert_ne!(reordered, ours.sdl);
    assert_eq!(
        common::semantic::facts(&reordered),
        facts,
        "field-set whitespace is not significant"
    );
}

/// Every invalid composition of the error tests is rejected by the reference too.
#[test]
fn invalid_cases_are_rejected_by_the_reference_too() {
    let cases = common::cases::invalid();
    let batch: Vec<Vec<SubgraphSdl>> = cases
        .iter()
        .map(|case| {
            case.subgraphs
                .iter()
                .map(|(name, sdl)| {
                    SubgraphSdl::new(*name, format!("http://{name}.example/graphql"), sdl.clone())
                })
                .collect()
        })
        .collect();
    let answers = reference::compose_batch(&batch);
    let mut accepted = Vec::new();
    for ((case, subgraphs), answer) in cases.iter().zip(&batch).zip(answers) {
        assert!(
            compose(subgraphs).is_err(),
            "case \"{}\" composes here",
            case.name
        );
        if !matches!(answer.clone(), Reference::Errors(_)) {
            accepted.push(case.name);
        }
    }
    assert!(
        accepted.is_empty(),
        "the reference composes cases this crate rejects: {accepted:#?}"
    );
}

/// Every valid composition of the directive tests matches the reference.
#[test]
fn feature_cases_match_reference() {
    let cases = common::valid::valid();
    let batch: Vec<Vec<SubgraphSdl>> = cases
        .iter()
        .map(|(_, list)| {
            list.iter()
                .map(|(name, sdl)| {
                    SubgraphSdl::new(*name, format!("http://{name}.example/graphql"), sdl.clone())
                })
                .collect()
        })
        .collect();
    let answers = reference::compose_batch(&batch);
    let mut failures = Vec::new();
    for (((name, _), subgraphs), answer) in cases.iter().zip(&batch).zip(answers) {
        let ours = match compose(subgraphs) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{name}: ours failed: {e}"));
                continue;
            }
        };
        match answer.clone() {
            Reference::Supergraph(theirs) => {
                if let Some(diff) = difference(&ours.sdl, &theirs) {
                    failures.push(format!("{name}: {diff}"));
                }
            }
            Reference::Errors(errors) => {
                failures.push(format!("{name}: the reference failed: {errors:?}"))
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// One graph of the router's conformance corpus (`router/tests/conformance/graphs/`): its
/// subgraphs, and whether both composers must accept it.
struct CorpusGraph {
    name: String,
    subgraphs: Vec<SubgraphSdl>,
    valid: bool,
}

fn corpus() -> Vec<CorpusGraph> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/graphs");
    let mut out = Vec::new();
    for entry in
        std::fs::read_dir(&root).unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
    {
        let dir = entry.expect("directory entry").path();
        if !dir.is_dir() {
            continue;
        }
        let mut subgraphs = Vec::new();
        for file in std::fs::read_dir(&dir).expect("graph folder") {
            let path = file.expect("file").path();
            if path.extension().and_then(|e| e.to_str()) != Some("graphql") {
                continue;
            }
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("utf-8 file name")
                .to_owned();
            let sdl = std::fs::read_to_string(&path).expect("readable SDL");
            subgraphs.push(SubgraphSdl::new(
                name.clone(),
                format!("http://{name}.example/graphql"),
                sdl,
            ));
        }
        subgraphs.sort_by(|a, b| a.name.cmp(&b.name));
        let valid = match std::fs::read_to_string(dir.join("composition.json")) {
            Ok(text) => {
                let marker: serde_json::Value =
                    serde_json::from_str(&text).expect("composition.json is JSON");
                marker.get("valid").and_then(|v| v.as_bool()) != Some(false)
            }
            Err(_) => true,
        };
        out.push(CorpusGraph {
            name: dir
                .file_name()
                .and_then(|n| n.to_str())
                .expect("utf-8 folder name")
                .to_owned(),
            subgraphs,
            valid,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Every graph of the conformance corpus: both composers accept it (and then agree on the
/// supergraph) or, for a graph marked invalid, both refuse it.
#[test]
fn conformance_corpus_matches_reference() {
    let graphs = corpus();
    assert!(graphs.len() >= 10, "the corpus has {} graphs", graphs.len());
    let batch: Vec<Vec<SubgraphSdl>> = graphs.iter().map(|g| g.subgraphs.clone()).collect();
    let answers = reference::compose_batch(&batch);
    let mut failures = Vec::new();
    for (graph, answer) in graphs.iter().zip(answers) {
        let ours = compose(&graph.subgraphs);
        match (ours, answer.clone(), graph.valid) {
            (Ok(ours), Reference::Supergraph(theirs), true) => {
                if let Some(diff) = difference(&ours.sdl, &theirs) {
                    failures.push(format!("{}: {diff}", graph.name));
                }
            }
            (Err(_), Reference::Errors(_), false) => {}
            (Err(e), _, true) => failures.push(format!("{}: ours refuses it:\n{e}", graph.name)),
            (Ok(_), _, false) => failures.push(format!("{}: ours accepts it", graph.name)),
            (_, Reference::Errors(errors), true) => failures.push(format!(
                "{}: the reference refuses it: {errors:?}",
                graph.name
            )),
            (_, Reference::Supergraph(_), false) => {
                failures.push(format!("{}: the reference accepts it", graph.name))
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
