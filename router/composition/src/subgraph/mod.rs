//! Reading one subgraph: its SDL becomes a small [model] that the later stages read without
//! touching the AST again. The stages, in order:
//!
//! 1. [`sdl`]: the SDL is parsed, with its `schema` definitions and extensions (cut out
//!    first: `graphql-parser` cannot parse `extend schema`);
//! 2. [`directives`]: the `@link` to the federation spec decides under which names the
//!    federation directives are recognised; those composition ignores are warned about;
//! 3. [`read`]: type definitions and extensions are read into the model;
//! 4. [`plumbing`]: federation plumbing (`_service`, `_entities`, `_Any`, `link__*`, ...)
//!    is dropped;
//! 5. [`roots`]: root types are renamed to `Query`/`Mutation`/`Subscription`;
//! 6. [`federation1`]: a subgraph without a federation `@link` gets its federation 2
//!    meaning.

mod directives;
mod federation1;
mod model;
mod plumbing;
mod read;
mod roots;
mod sdl;

pub(crate) use model::{Exposure, FieldDef, InputValueDef, Kind, Subgraph, TypeDef};

use crate::error::CompositionError;

/// The name a subgraph gets in `join__Graph`: upper snake case of its name.
pub(crate) fn graph_enum_value(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower {
                out.push('_');
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_uppercase());
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        out.insert(0, '_');
    }
    out
}

/// Parses and normalises one subgraph. Federation directives this crate does not compose
/// are reported in `warnings`.
pub(crate) fn parse(
    name: &str,
    url: &str,
    sdl: &str,
    warnings: &mut Vec<CompositionError>,
) -> Result<Subgraph, Vec<CompositionError>> {
    let sdl::Sdl {
        doc,
        schema_directives,
        roots,
    } = sdl::parse(name, sdl)?;
    let fed = directives::FedNames::from_links(&schema_directives);
    directives::warn_ignored(name, &fed, &schema_directives, &doc, warnings);

    let mut errors = Vec::new();
    let mut types = read::read_types(&fed, &doc, name, &mut errors);
    plumbing::drop_plumbing(&mut types);
    // Without a `@link` to the federation spec the subgraph is written for federation 1.
    let federation1 = !fed.linked;

    roots::rename_roots(name, &roots, &mut types, &mut errors);
    roots::ensure_query(&mut types);

    if !errors.is_empty() {
        return Err(errors);
    }
    let mut subgraph = Subgraph {
        name: name.to_owned(),
        graph: graph_enum_value(name),
        url: url.to_owned(),
        types,
    };
    if federation1 {
        federation1::apply(&mut subgraph);
    }
    Ok(subgraph)
}

#[cfg(test)]
mod tests {
    use super::graph_enum_value;

    #[test]
    fn graph_enum_values_are_upper_snake_case() {
        assert_eq!(graph_enum_value("products"), "PRODUCTS");
        assert_eq!(graph_enum_value("userAccounts"), "USER_ACCOUNTS");
        assert_eq!(graph_enum_value("my-graph"), "MY_GRAPH");
        assert_eq!(graph_enum_value("1st"), "_1ST");
    }
}
