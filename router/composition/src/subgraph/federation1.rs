//! Federation 1 subgraphs (SDL without a `@link` to the federation spec) are read with the
//! rules they were written for, turned into their federation 2 meaning right after
//! parsing, so the later stages need not know which version a subgraph uses.

use std::collections::{BTreeMap, BTreeSet};

use crate::fieldset;
use crate::merge::composite::key_fields;
use crate::subgraph::{Kind, Subgraph};

/// Federation 1 had no `@shareable`: any field could be resolved by several subgraphs.
/// Composition reads such a subgraph as if every field were shareable. An entity written
/// as `extend type` (without `@extends`) had to mark its key fields `@external`; they are
/// the subgraph's own, and the type is not an extension in the supergraph. An `@external`
/// field no key, `@requires` or `@provides` uses was tolerated and meant nothing: it is
/// dropped.
pub(crate) fn apply(sg: &mut Subgraph) {
    let key_fields: BTreeMap<String, BTreeSet<String>> = sg
        .types
        .values()
        .filter(|t| t.extension && !t.extends_directive)
        .map(|t| (t.name.clone(), key_fields(sg, t)))
        .collect();
    let used = external_uses(sg);
    for ty in sg.types.values_mut() {
        if ty.kind == Kind::Object {
            ty.shareable = true;
        }
        if let Some(keys) = key_fields.get(&ty.name) {
            ty.extension = false;
            for f in &mut ty.fields {
                if keys.contains(&f.name) {
                    f.external = false;
                }
            }
        }
        let name = ty.name.clone();
        ty.fields
            .retain(|f| !f.external || used.contains(&(name.clone(), f.name.clone())));
    }
}

/// Every `(type, field)` a key, `@requires` or `@provides` of the subgraph selects.
fn external_uses(sg: &Subgraph) -> BTreeSet<(String, String)> {
    let mut used = BTreeSet::new();
    for ty in sg.types.values() {
        let sets = ty
            .keys
            .iter()
            .map(|k| (ty.name.as_str(), k.fields.as_str()))
            .chain(
                ty.fields
                    .iter()
                    .filter_map(|f| f.requires.as_deref().map(|r| (ty.name.as_str(), r))),
            )
            .chain(
                ty.fields
                    .iter()
                    .filter_map(|f| f.provides.as_deref().map(|p| (f.ty.base(), p))),
            );
        for (parent, set) in sets {
            if let Ok(selected) = fieldset::resolve(sg, parent, set) {
                used.extend(fieldset::flatten(&selected));
            }
        }
        // An implementation restating an interface field uses it too.
        for iface in ty.implements.iter().filter_map(|i| sg.ty(i)) {
            for f in &iface.fields {
                used.insert((ty.name.clone(), f.name.clone()));
            }
        }
    }
    used
}
