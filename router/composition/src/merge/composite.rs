//! Object types and interfaces: fields are the union over subgraphs, and each field
//! records, per subgraph, how it is resolved there (`@join__field`): external, requiring
//! or providing other fields, overriding another subgraph, or with a narrower type.

use std::collections::{BTreeMap, BTreeSet};

use super::inputs::{ValuesOf, merge_values};
use super::{JoinField, Source, SuperField, SuperType, join_types_of, merge_exposure};
use crate::error::{CompositionError, ErrorCode};
use crate::fieldset;
use crate::subgraph::{FieldDef, InputValueDef, Kind, Subgraph, TypeDef};

/// How one subgraph contributes one field, after federation semantics are applied.
pub(crate) struct FieldSource<'a> {
    pub subgraph: &'a Subgraph,
    pub ty: &'a TypeDef,
    pub field: &'a FieldDef,
    /// `@external`, except on key fields of an extension, which federation treats as
    /// owned (that is how federation 1 subgraphs declared the key of a foreign entity).
    pub external: bool,
    /// Another subgraph took this field over with `@override(from:)`.
    pub overridden: bool,
    /// Another subgraph takes this field over progressively, with this
    /// `@override(label:)`: both keep resolving it, the planner picks per request.
    pub progressive_label: Option<String>,
}

impl FieldSource<'_> {
    /// Whether this subgraph resolves the field for good (an override in progress counts
    /// as already done, so both sides need not be `@shareable`).
    pub(crate) fn resolves(&self) -> bool {
        !self.external && !self.overridden && self.progressive_label.is_none()
    }
}

/// Top-level fields of `ty` used by the subgraph's own keys and `@requires`; an
/// overridden field that is still used this way must stay known to the planner.
fn locally_used_fields(sg: &Subgraph, ty: &TypeDef) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    let sets = ty
        .keys
        .iter()
        .map(|k| k.fields.as_str())
        .chain(ty.fields.iter().filter_map(|f| f.requires.as_deref()));
    for set in sets {
        if let Ok(selected) = fieldset::resolve(sg, &ty.name, set) {
            used.extend(selected.into_iter().map(|s| s.name));
        }
    }
    used
}

/// Top-level key fields of `ty` in its subgraph.
pub(crate) fn key_fields(sg: &Subgraph, ty: &TypeDef) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for key in &ty.keys {
        if let Ok(selected) = fieldset::resolve(sg, &ty.name, &key.fields) {
            out.extend(selected.into_iter().map(|s| s.name));
        }
    }
    out
}

/// Every `(type, field)` some `@key` of the subgraph selects, at any depth: the fields of
/// a type used inside a nested key (`id { one two }`) identify entities too.
pub(crate) fn key_field_coordinates(sg: &Subgraph) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for ty in sg.types.values() {
        for key in &ty.keys {
            if let Ok(selected) = fieldset::resolve(sg, &ty.name, &key.fields) {
                out.extend(fieldset::flatten(&selected));
            }
        }
    }
    out
}

/// The contributions to `field` from every subgraph defining the type.
pub(crate) fn field_sources<'a>(sources: &[Source<'a>], field: &str) -> Vec<FieldSource<'a>> {
    let mut out: Vec<FieldSource<'a>> = sources
        .iter()
        .filter_map(|(sg, ty)| {
            let f = ty.field(field)?;
            let external = f.external && !(ty.extension && key_fields(sg, ty).contains(field));
            Some(FieldSource {
                subgraph: sg,
                ty,
                field: f,
                external,
                overridden: false,
                progressive_label: None,
            })
        })
        .collect();
    let overrides: Vec<(String, Option<String>)> = out
        .iter()
        .filter_map(|s| {
            let from = s.field.override_from.clone()?;
            Some((from, s.field.override_label.clone()))
        })
        .collect();
    for s in &mut out {
        // An `@external` declaration resolves nothing, so there is nothing to take over.
        if s.external || s.field.override_from.as_deref() == Some(&s.subgraph.name) {
            continue;
        }
        if let Some((_, label)) = overrides.iter().find(|(from, _)| *from == s.subgraph.name) {
            match label {
                Some(label) => s.progressive_label = Some(label.clone()),
                None => s.overridden = true,
            }
        }
    }
    out
}

/// Which types are subtypes of which, in any subgraph: union members of their unions,
/// object types and interfaces of the interfaces they implement.
#[derive(Debug, Default)]
pub(super) struct Subtypes {
    supertypes: BTreeMap<String, BTreeSet<String>>,
}

impl Subtypes {
    pub(super) fn collect(subgraphs: &[Subgraph]) -> Self {
        let mut supertypes: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for sg in subgraphs {
            for ty in sg.types.values() {
                for member in &ty.members {
                    supertypes
                        .entry(member.clone())
                        .or_default()
                        .insert(ty.name.clone());
                }
                for iface in &ty.implements {
                    supertypes
                        .entry(ty.name.clone())
                        .or_default()
                        .insert(iface.clone());
                }
            }
        }
        Self { supertypes }
    }

    fn is_subtype(&self, sub: &str, sup: &str) -> bool {
        self.supertypes.get(sub).is_some_and(|s| s.contains(sup))
    }

    /// The one of `a` and `b` that is a supertype of the other: a field may return a
    /// narrower type in one subgraph than in another, the supergraph keeps the wider one.
    fn common(&self, a: &str, b: &str) -> Option<String> {
        if self.is_subtype(a, b) {
            Some(b.to_owned())
        } else if self.is_subtype(b, a) {
            Some(a.to_owned())
        } else {
            None
        }
    }
}

pub(super) fn merge(
    out: &mut SuperType,
    sources: &[Source<'_>],
    subtypes: &Subtypes,
    errors: &mut Vec<CompositionError>,
) {
    for (sg, ty) in sources {
        out.join_types.extend(join_types_of(sg, ty));
        for iface in &ty.implements {
            match out.implements.iter_mut().find(|(i, _)| i == iface) {
                Some((_, graphs)) => graphs.push(sg.graph.clone()),
                None => out.implements.push((iface.clone(), vec![sg.graph.clone()])),
            }
        }
    }
    let mut names: Vec<&str> = Vec::new();
    for (_, ty) in sources {
        for f in &ty.fields {
            if !names.contains(&f.name.as_str()) {
                names.push(&f.name);
            }
        }
    }
    for name in names {
        if let Some(field) = merge_field(&out.name, sources, name, subtypes, errors) {
            out.fields.push(field);
        }
    }
}

fn merge_field(
    type_name: &str,
    sources: &[Source<'_>],
    name: &str,
    subtypes: &Subtypes,
    errors: &mut Vec<CompositionError>,
) -> Option<SuperField> {
    let coordinate = format!("{type_name}.{name}");
    let contributions = field_sources(sources, name);

    let (first, rest) = contributions.split_first()?;
    let mut ty = first.field.ty.clone();
    for c in rest {
        match ty.merge_output_with(&c.field.ty, &|a, b| subtypes.common(a, b)) {
            Some(merged) => ty = merged,
            None => {
                let detail = contributions
                    .iter()
                    .map(|c| format!("\"{}\" in \"{}\"", c.field.ty, c.subgraph.name))
                    .collect::<Vec<_>>()
                    .join(", ");
                errors.push(
                    CompositionError::new(
                        ErrorCode::FieldTypeMismatch,
                        format!("field \"{coordinate}\" has incompatible types: {detail}"),
                    )
                    .with_subgraphs(contributions.iter().map(|c| c.subgraph.name.clone()))
                    .with_coordinates([coordinate.clone()]),
                );
                return None;
            }
        }
    }

    // Arguments come from the subgraphs that resolve the field; an external declaration
    // only restates the field so it can be required or provided.
    let resolving: Vec<&FieldSource<'_>> = contributions.iter().filter(|c| !c.external).collect();
    let arg_sources: Vec<(&Subgraph, &[InputValueDef])> = if resolving.is_empty() {
        contributions
            .iter()
            .map(|c| (c.subgraph, c.field.args.as_slice()))
            .collect()
    } else {
        resolving
            .iter()
            .map(|c| (c.subgraph, c.field.args.as_slice()))
            .collect()
    };
    let args = merge_values(ValuesOf::Arguments(&coordinate), &arg_sources, errors);

    let type_differs = contributions.iter().any(|c| c.field.ty != ty);
    let needs_join = contributions.len() != sources.len()
        || type_differs
        || contributions.iter().any(|c| {
            c.external
                || c.overridden
                || c.progressive_label.is_some()
                || c.field.requires.is_some()
                || c.field.provides.is_some()
                || c.field.override_from.is_some()
        });
    let join = needs_join.then(|| {
        contributions
            .iter()
            .filter_map(|c| {
                let used_overridden =
                    c.overridden && locally_used_fields(c.subgraph, c.ty).contains(name);
                if c.overridden && !used_overridden {
                    return None;
                }
                Some(JoinField {
                    graph: Some(c.subgraph.graph.clone()),
                    requires: c.field.requires.clone(),
                    provides: c.field.provides.clone(),
                    ty: type_differs.then(|| c.field.ty.to_string()),
                    external: c.external,
                    override_from: c.field.override_from.clone(),
                    // The overriding side and the side being taken over both carry the
                    // label: the planner routes by it.
                    override_label: c
                        .field
                        .override_from
                        .as_ref()
                        .and(c.field.override_label.clone())
                        .or_else(|| c.progressive_label.clone()),
                    used_overridden,
                })
            })
            .collect()
    });

    Some(SuperField {
        name: name.to_owned(),
        description: contributions
            .iter()
            .find_map(|c| c.field.description.clone()),
        ty,
        args,
        join,
        exposure: merge_exposure(contributions.iter().map(|c| &c.field.exposure)),
    })
}

/// Fields an `@interfaceObject` adds to an interface are resolved through the interface
/// object's subgraph for every implementation, so each implementation gains them with a
/// bare `@join__field` (no subgraph resolves them on the concrete type).
pub(super) fn add_interface_object_fields(types: &mut BTreeMap<String, SuperType>) {
    let with_objects: Vec<SuperType> = types
        .values()
        .filter(|t| t.kind == Kind::Interface && t.join_types.iter().any(|j| j.interface_object))
        .cloned()
        .collect();
    for iface in with_objects {
        for ty in types.values_mut() {
            if ty.kind != Kind::Object || !ty.implements.iter().any(|(i, _)| *i == iface.name) {
                continue;
            }
            for f in &iface.fields {
                if ty.field(&f.name).is_none() {
                    ty.fields.push(SuperField {
                        name: f.name.clone(),
                        description: f.description.clone(),
                        ty: f.ty.clone(),
                        args: f.args.clone(),
                        join: Some(vec![JoinField::default()]),
                        exposure: f.exposure.clone(),
                    });
                }
            }
        }
    }
}
