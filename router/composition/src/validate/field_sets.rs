//! The field sets of `@key`, `@requires` and `@provides`: each must select real fields
//! (a key no interface, union or field with arguments; `@requires` and `@provides` only
//! `@external` leaves), and every field they select is recorded as used, for the
//! [`external`](super::external) check.

use std::collections::BTreeSet;

use super::error;
use crate::error::{CompositionError, ErrorCode};
use crate::fieldset;
use crate::subgraph::{Kind, Subgraph, TypeDef};

fn mark_used(selected: &[fieldset::Selected], used: &mut BTreeSet<(String, String)>) {
    used.extend(fieldset::flatten(selected));
}

pub(super) fn keys(
    sg: &Subgraph,
    ty: &TypeDef,
    used: &mut BTreeSet<(String, String)>,
    errors: &mut Vec<CompositionError>,
) {
    for key in &ty.keys {
        match fieldset::resolve(sg, &ty.name, &key.fields) {
            Ok(selected) => {
                mark_used(&selected, used);
                for (parent, name) in invalid_key_types(sg, &selected) {
                    errors.push(
                        error(
                            ErrorCode::KeyFieldsSelectInvalidType,
                            format!(
                                "@key(fields: \"{}\") on \"{}\" selects \"{parent}.{name}\", an interface or a union, which cannot identify an entity",
                                key.fields, ty.name
                            ),
                            sg,
                        )
                        .with_coordinates([ty.name.clone()]),
                    );
                }
                for (parent, name) in with_args(&selected) {
                    errors.push(
                        error(
                            ErrorCode::KeyFieldsHasArgs,
                            format!("@key(fields: \"{}\") on \"{}\" selects \"{parent}.{name}\", which takes arguments", key.fields, ty.name),
                            sg,
                        )
                        .with_coordinates([ty.name.clone()]),
                    );
                }
            }
            Err(e) => errors.push(
                error(
                    ErrorCode::KeyInvalidFields,
                    format!(
                        "@key(fields: \"{}\") on \"{}\" in subgraph \"{}\" is invalid: {e}",
                        key.fields, ty.name, sg.name
                    ),
                    sg,
                )
                .with_coordinates([ty.name.clone()]),
            ),
        }
    }
}

/// Selected fields whose type is an interface or a union (a list is a valid key: the
/// representation carries it whole).
fn invalid_key_types(sg: &Subgraph, selected: &[fieldset::Selected]) -> Vec<(String, String)> {
    fieldset::flatten(selected)
        .into_iter()
        .filter(|(parent, name)| {
            sg.ty(parent).and_then(|t| t.field(name)).is_some_and(|f| {
                sg.ty(f.ty.base())
                    .is_some_and(|t| matches!(t.kind, Kind::Interface | Kind::Union))
            })
        })
        .collect()
}

fn with_args(selected: &[fieldset::Selected]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for s in selected {
        if s.has_args {
            out.push((s.parent.clone(), s.name.clone()));
        }
        out.extend(with_args(&s.children));
    }
    out
}

pub(super) fn requires_check(
    sg: &Subgraph,
    ty: &TypeDef,
    coordinate: &str,
    requires: &str,
    used: &mut BTreeSet<(String, String)>,
    errors: &mut Vec<CompositionError>,
) {
    match fieldset::resolve(sg, &ty.name, requires) {
        Ok(selected) => {
            mark_used(&selected, used);
            // Only the leaf fields on the entity itself must be external: a field with a
            // selection (local or not) only gives the path to what another subgraph
            // returns, and below it the selection describes the shape of that data.
            for s in selected.iter().filter(|s| s.children.is_empty()) {
                let external = sg
                    .ty(&s.parent)
                    .and_then(|t| t.field(&s.name))
                    .is_some_and(|f| f.external);
                if !external {
                    errors.push(
                        error(
                            ErrorCode::RequiresFieldsMissingExternal,
                            format!("@requires on \"{coordinate}\" selects \"{}.{}\", which is not @external in subgraph \"{}\"", s.parent, s.name, sg.name),
                            sg,
                        )
                        .with_coordinates([coordinate.to_owned()]),
                    );
                }
            }
        }
        Err(e) => errors.push(
            error(
                ErrorCode::RequiresInvalidFields,
                format!("@requires(fields: \"{requires}\") on \"{coordinate}\" is invalid: {e}"),
                sg,
            )
            .with_coordinates([coordinate.to_owned()]),
        ),
    }
}

pub(super) fn provides_check(
    sg: &Subgraph,
    target: &str,
    coordinate: &str,
    provides: &str,
    used: &mut BTreeSet<(String, String)>,
    errors: &mut Vec<CompositionError>,
) {
    if !sg
        .ty(target)
        .is_some_and(|t| matches!(t.kind, Kind::Object | Kind::Interface | Kind::Union))
    {
        errors.push(
            error(
                ErrorCode::ProvidesOnNonObjectField,
                format!("@provides on \"{coordinate}\" is invalid: the field returns \"{target}\", not a composite type"),
                sg,
            )
            .with_coordinates([coordinate.to_owned()]),
        );
        return;
    }
    match fieldset::resolve(sg, target, provides) {
        Ok(selected) => {
            mark_used(&selected, used);
            // As for `@requires`, only the leaf fields at the top must be external.
            for s in selected.iter().filter(|s| s.children.is_empty()) {
                let external = sg
                    .ty(&s.parent)
                    .and_then(|t| t.field(&s.name))
                    .is_some_and(|f| f.external);
                if !external {
                    errors.push(
                        error(
                            ErrorCode::ProvidesFieldsMissingExternal,
                            format!("@provides on \"{coordinate}\" selects \"{}.{}\", which is not @external in subgraph \"{}\"", s.parent, s.name, sg.name),
                            sg,
                        )
                        .with_coordinates([coordinate.to_owned()]),
                    );
                }
            }
        }
        Err(e) => errors.push(
            error(
                ErrorCode::ProvidesInvalidFields,
                format!("@provides(fields: \"{provides}\") on \"{coordinate}\" is invalid: {e}"),
                sg,
            )
            .with_coordinates([coordinate.to_owned()]),
        ),
    }
}
