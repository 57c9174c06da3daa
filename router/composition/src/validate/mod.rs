//! Validation, run at two points of composition. Each subgraph is first checked on its
//! own: [`schema`] first, then type by type and field by field the next four, and
//! [`external`] last, when every use of a field has been seen:
//!
//! 1. [`schema`]: referenced types exist and fit where they are used, no duplicate fields;
//! 2. [`field_sets`]: `@key`, `@requires` and `@provides` select valid fields;
//! 3. [`placement`]: no `@requires`/`@provides` on interface fields, no `@override` on
//!    `@external` fields;
//! 4. [`overrides`]: `@override` names another subgraph and has a valid label;
//! 5. [`interfaces`]: implementations have the fields and keys of their interfaces;
//! 6. [`external`]: every `@external` field is used.
//!
//! After merging, what only shows across subgraphs:
//!
//! 7. a query root with at least one field;
//! 8. [`interface_objects`]: `@interfaceObject` is backed by an entity interface;
//! 9. [`sharing`]: fields resolved by several subgraphs are `@shareable`, overrides do not
//!    chain;
//! 10. [`inaccessible`]: visible fields do not have hidden types.
//!
//! Whether every field can be reached is the `satisfiability` stage's question.

mod external;
mod field_sets;
mod inaccessible;
mod interface_objects;
mod interfaces;
mod overrides;
mod placement;
mod schema;
mod sharing;

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{CompositionError, ErrorCode};
use crate::merge::{Source, SupergraphModel};
use crate::subgraph::{Kind, Subgraph};

/// Checks one subgraph on its own. `names` are all subgraph names being composed.
pub(crate) fn subgraph(
    sg: &Subgraph,
    names: &BTreeSet<&str>,
    errors: &mut Vec<CompositionError>,
    warnings: &mut Vec<CompositionError>,
) {
    schema::graphql_validity(sg, errors);
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    for ty in sg.types.values() {
        field_sets::keys(sg, ty, &mut used, errors);
        for f in &ty.fields {
            let coordinate = format!("{}.{}", ty.name, f.name);
            placement::misplaced_directives(sg, ty, f, &coordinate, errors);
            if let Some(requires) = &f.requires {
                field_sets::requires_check(sg, ty, &coordinate, requires, &mut used, errors);
            }
            if let Some(provides) = &f.provides {
                field_sets::provides_check(
                    sg,
                    f.ty.base(),
                    &coordinate,
                    provides,
                    &mut used,
                    errors,
                );
            }
            if let Some(from) = &f.override_from {
                overrides::override_check(
                    sg,
                    &coordinate,
                    from,
                    f.override_label.as_deref(),
                    names,
                    errors,
                    warnings,
                );
            }
        }
        if ty.kind == Kind::Object {
            interfaces::implementations(sg, ty, &mut used, errors);
        }
    }
    external::unused(sg, &used, errors);
}

/// An error found in subgraph `sg`.
fn error(code: ErrorCode, message: String, sg: &Subgraph) -> CompositionError {
    CompositionError::new(code, message).with_subgraphs([sg.name.clone()])
}

/// Checks that need every subgraph's view of a type.
pub(crate) fn across(
    subgraphs: &[Subgraph],
    model: &SupergraphModel,
    errors: &mut Vec<CompositionError>,
) {
    if model.types.get("Query").is_none_or(|q| q.fields.is_empty()) {
        errors.push(CompositionError::new(
            ErrorCode::NoQueries,
            "no subgraph defines a field on the query root type",
        ));
    }
    let mut by_name: BTreeMap<&str, Vec<Source<'_>>> = BTreeMap::new();
    for sg in subgraphs {
        for (name, ty) in &sg.types {
            by_name.entry(name.as_str()).or_default().push((sg, ty));
        }
    }
    for (name, sources) in &by_name {
        if sources.iter().any(|(_, t)| t.interface_object) {
            interface_objects::interface_object_usage(name, sources, errors);
        }
        if sources
            .iter()
            .any(|(_, t)| t.kind != Kind::Object || t.interface_object)
        {
            continue;
        }
        let mut fields: Vec<&str> = Vec::new();
        for (_, t) in sources {
            for f in &t.fields {
                if !fields.contains(&f.name.as_str()) {
                    fields.push(&f.name);
                }
            }
        }
        for field in fields {
            sharing::field_across(name, sources, field, errors);
        }
    }
    inaccessible::inaccessible_references(model, errors);
}
