//! Federation v2 composition: subgraph SDLs in, a supergraph SDL (join spec) out.
//!
//! The router composes the subgraphs it is configured with at start-up and refuses to
//! serve when composition fails. The pipeline:
//!
//! 1. `subgraph` parses each SDL, recognises the federation directives under the names
//!    the subgraph imported, drops federation plumbing and normalises root type names
//!    (`subgraph::federation1` gives federation 1 subgraphs their federation 2 meaning);
//! 2. `validate` checks each subgraph on its own (field sets, `@external`, interfaces);
//! 3. `merge` merges the subgraphs kind by kind into a supergraph model with `@join__*`
//!    metadata;
//! 4. `validate` checks what only shows across subgraphs (sharing, overrides);
//! 5. `emit` prints the supergraph SDL deterministically;
//! 6. `satisfiability` walks every client path through the query planner's graph of
//!    that supergraph: each field must be reachable by some sequence of fetches.
//!
//! Every problem found is reported, each with a stable [`ErrorCode`].
//!
//! # Scope
//!
//! Input is federation v2 subgraph SDL (as async-graphql prints it, or hand-written):
//! `@key` (compound, nested, on lists, several, `resolvable: false`), `@shareable`,
//! `@external` (on fields and on types), `@requires`, `@provides` (on object, interface and
//! union fields, nested), `@override(from:)`, `@inaccessible`, `@tag`, `@interfaceObject`,
//! `@extends`/`extend type`, entity interfaces, unions, enums, input objects, scalars,
//! renamed root types, descriptions, `@deprecated`, `@specifiedBy`. Federation 1 subgraphs
//! (without a federation `@link`) are read with the federation 1 rules: their value types
//! and key fields are shareable without `@shareable`, and the `@external` key fields of an
//! `extend type` are their own. The output is what The Guild's
//! `@theguild/federation-composition` produces for the same input, up to ordering and
//! descriptions (the tests compare both).
//!
//! Not composed, with a warning when used: progressive `@override(label:)` (the override
//! is applied fully), `@composeDirective`, `@authenticated`, `@requiresScopes`, `@policy`,
//! `@cost`, `@listSize`, `@context`/`@fromContext`. Custom directives of a subgraph are
//! left out of the supergraph (they only matter to that subgraph).

mod emit;
mod error;
mod fieldset;
mod merge;
#[cfg(feature = "reference")]
pub mod reference;
mod satisfiability;
mod subgraph;
mod types;
mod validate;

use std::collections::BTreeSet;

pub use error::{CompositionError, CompositionErrors, ErrorCode};

/// One subgraph as the router knows it: its name in the supergraph, where it is served,
/// and its federation v2 SDL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubgraphSdl {
    pub name: String,
    pub url: String,
    pub sdl: String,
}

impl SubgraphSdl {
    pub fn new(name: impl Into<String>, url: impl Into<String>, sdl: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            url: url.into(),
            sdl: sdl.into(),
        }
    }
}

/// The result of a successful composition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supergraph {
    /// The supergraph SDL, printed deterministically.
    pub sdl: String,
    /// Problems that do not prevent composition (for example an `@override` naming a
    /// subgraph that is not composed).
    pub warnings: Vec<CompositionError>,
}

/// Composes the given subgraphs into a supergraph. The order of `subgraphs` does not
/// matter: they are sorted by name first.
pub fn compose(subgraphs: &[SubgraphSdl]) -> Result<Supergraph, CompositionErrors> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();

    let mut inputs: Vec<&SubgraphSdl> = subgraphs.iter().collect();
    inputs.sort_by(|a, b| a.name.cmp(&b.name));
    check_names(&inputs, &mut errors);
    if inputs.is_empty() {
        errors.push(CompositionError::new(
            ErrorCode::NoQueries,
            "there is no subgraph to compose",
        ));
    }

    let mut parsed = Vec::new();
    for input in &inputs {
        match subgraph::parse(&input.name, &input.url, &input.sdl, &mut warnings) {
            Ok(sg) => parsed.push(sg),
            Err(e) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        return Err(CompositionErrors::new(errors));
    }

    let names: BTreeSet<&str> = parsed.iter().map(|s| s.name.as_str()).collect();
    for sg in &parsed {
        validate::subgraph(sg, &names, &mut errors, &mut warnings);
    }
    if !errors.is_empty() {
        // Merging invalid subgraphs would mostly repeat the same problems in other words.
        return Err(CompositionErrors::new(errors));
    }

    let model = merge::merge(&parsed, &mut errors);
    if errors.is_empty() {
        validate::across(&parsed, &model, &mut errors);
    }
    if !errors.is_empty() {
        return Err(CompositionErrors::new(errors));
    }
    let sdl = emit::print(&model);
    satisfiability::check(&sdl, &model, &mut errors);
    if !errors.is_empty() {
        return Err(CompositionErrors::new(errors));
    }
    Ok(Supergraph {
        sdl,
        warnings: CompositionErrors::new(warnings).errors,
    })
}

fn check_names(inputs: &[&SubgraphSdl], errors: &mut Vec<CompositionError>) {
    let mut seen_graphs: Vec<(String, &str)> = Vec::new();
    for input in inputs {
        if input.name.trim().is_empty() {
            errors.push(CompositionError::new(
                ErrorCode::InvalidSubgraphName,
                "a subgraph has an empty name",
            ));
            continue;
        }
        let graph = subgraph::graph_enum_value(&input.name);
        if let Some((_, other)) = seen_graphs.iter().find(|(g, _)| *g == graph) {
            errors.push(
                CompositionError::new(
                    ErrorCode::InvalidSubgraphName,
                    format!("subgraph names \"{other}\" and \"{}\" are the same or map to the same graph \"{graph}\"", input.name),
                )
                .with_subgraphs([(*other).to_owned(), input.name.clone()]),
            );
        } else {
            seen_graphs.push((graph, &input.name));
        }
    }
}
