//! Normalising the root types: a subgraph may name its roots anything
//! (`schema { query: Root }`); in the supergraph they are `Query`, `Mutation` and
//! `Subscription`. Every subgraph has a query root, even when its SDL shows none.

use std::collections::BTreeMap;

use super::model::{Kind, TypeDef};
use crate::error::{CompositionError, ErrorCode};

/// Root operation type names declared by `schema { ... }`/`extend schema { ... }`.
#[derive(Debug, Default)]
pub(super) struct Roots {
    pub(super) query: Option<String>,
    pub(super) mutation: Option<String>,
    pub(super) subscription: Option<String>,
}

/// Renames the declared root types to their default names, also where fields and union
/// members refer to them.
pub(super) fn rename_roots(
    subgraph: &str,
    roots: &Roots,
    types: &mut BTreeMap<String, TypeDef>,
    errors: &mut Vec<CompositionError>,
) {
    let mut renames: Vec<(String, &str)> = Vec::new();
    for (declared, default) in [
        (&roots.query, "Query"),
        (&roots.mutation, "Mutation"),
        (&roots.subscription, "Subscription"),
    ] {
        if let Some(declared) = declared
            && declared != default
        {
            if types.contains_key(default) {
                errors.push(
                    CompositionError::new(
                        ErrorCode::RootTypeUsed,
                        format!(
                            "subgraph \"{subgraph}\" declares \"{declared}\" as its {} root but also defines a type named \"{default}\"",
                            default.to_lowercase()
                        ),
                    )
                    .with_subgraphs([subgraph])
                    .with_coordinates([default]),
                );
                continue;
            }
            renames.push((declared.clone(), default));
        }
    }
    if renames.is_empty() {
        return;
    }
    let rename = |n: &mut String| {
        if let Some((_, to)) = renames.iter().find(|(from, _)| from == n) {
            *n = (*to).to_owned();
        }
    };
    let mut renamed = BTreeMap::new();
    for (_, mut ty) in std::mem::take(types) {
        rename(&mut ty.name);
        for f in &mut ty.fields {
            rename(f.ty.base_mut());
        }
        for m in &mut ty.members {
            rename(m);
        }
        renamed.insert(ty.name.clone(), ty);
    }
    *types = renamed;
}

/// Every subgraph serves a query root (federation adds `_service` and `_entities` to it),
/// even when its SDL shows none, so the supergraph's `Query` joins every graph.
pub(super) fn ensure_query(types: &mut BTreeMap<String, TypeDef>) {
    types
        .entry("Query".to_owned())
        .or_insert_with(|| TypeDef::new("Query".to_owned(), Kind::Object));
}

#[cfg(test)]
mod tests {
    use crate::subgraph::parse;

    #[test]
    fn root_types_are_renamed_and_plumbing_dropped() {
        let sdl = "schema { query: Root }\n type Root { me: Me _service: _Service! }\n type Me { root: Root }\n type _Service { sdl: String }\n scalar _Any";
        let sg = parse("a", "http://a", sdl, &mut Vec::new()).expect("parses");
        assert!(sg.ty("Root").is_none());
        let q = sg.ty("Query").expect("Query");
        assert_eq!(q.fields.len(), 1);
        assert_eq!(sg.ty("Me").expect("Me").fields[0].ty.to_string(), "Query");
        assert!(sg.ty("_Service").is_none() && sg.ty("_Any").is_none());
    }
}
