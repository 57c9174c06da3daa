//! Validation: what a subgraph must get right on its own (field sets that select real
//! fields, `@external` that is used, interfaces that are implemented), and what only shows
//! across subgraphs (fields resolved twice without `@shareable`, override chains). Whether
//! every field can be reached is the `satisfiability` stage's question.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{CompositionError, ErrorCode};
use crate::fieldset;
use crate::merge::composite::{field_sources, key_field_coordinates};
use crate::merge::{Source, SupergraphModel};
use crate::subgraph::{Kind, Subgraph, TypeDef};
use crate::types::BUILTIN_SCALARS;

/// Checks one subgraph on its own. `names` are all subgraph names being composed.
pub(crate) fn subgraph(
    sg: &Subgraph,
    names: &BTreeSet<&str>,
    errors: &mut Vec<CompositionError>,
    warnings: &mut Vec<CompositionError>,
) {
    graphql_validity(sg, errors);
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    for ty in sg.types.values() {
        keys(sg, ty, &mut used, errors);
        for f in &ty.fields {
            let coordinate = format!("{}.{}", ty.name, f.name);
            misplaced_directives(sg, ty, f, &coordinate, errors);
            if let Some(requires) = &f.requires {
                requires_check(sg, ty, &coordinate, requires, &mut used, errors);
            }
            if let Some(provides) = &f.provides {
                provides_check(sg, f.ty.base(), &coordinate, provides, &mut used, errors);
            }
            if let Some(from) = &f.override_from {
                override_check(
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
            implementations(sg, ty, &mut used, errors);
        }
    }
    for ty in sg.types.values() {
        for f in ty.fields.iter().filter(|f| f.external) {
            if !used.contains(&(ty.name.clone(), f.name.clone())) {
                errors.push(
                    error(
                        ErrorCode::ExternalUnused,
                        format!(
                            "field \"{}.{}\" is @external in subgraph \"{}\" but no @key, @requires or @provides uses it",
                            ty.name, f.name, sg.name
                        ),
                        sg,
                    )
                    .with_coordinates([format!("{}.{}", ty.name, f.name)]),
                );
            }
        }
    }
}

/// `@requires`/`@provides` on an interface field (the planner could not honour them for
/// every implementation) and `@override` on an `@external` field (nothing to take over).
fn misplaced_directives(
    sg: &Subgraph,
    ty: &TypeDef,
    f: &crate::subgraph::FieldDef,
    coordinate: &str,
    errors: &mut Vec<CompositionError>,
) {
    if ty.kind == Kind::Interface {
        for (present, code, name) in [
            (
                f.requires.is_some(),
                ErrorCode::RequiresUnsupportedOnInterface,
                "@requires",
            ),
            (
                f.provides.is_some(),
                ErrorCode::ProvidesUnsupportedOnInterface,
                "@provides",
            ),
        ] {
            if present {
                errors.push(
                    error(code, format!("{name} on interface field \"{coordinate}\" is not supported; put it on the implementations"), sg)
                        .with_coordinates([coordinate.to_owned()]),
                );
            }
        }
    }
    if f.override_from.is_some() && f.external {
        errors.push(
            error(
                ErrorCode::OverrideCollisionWithAnotherDirective,
                format!(
                    "\"{coordinate}\" is both @external and @override in subgraph \"{}\"",
                    sg.name
                ),
                sg,
            )
            .with_coordinates([coordinate.to_owned()]),
        );
    }
}

fn error(code: ErrorCode, message: String, sg: &Subgraph) -> CompositionError {
    CompositionError::new(code, message).with_subgraphs([sg.name.clone()])
}

/// Where a type is used, which decides the kinds it may have.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Position {
    Output,
    Input,
    UnionMember,
    Implements,
}

impl Position {
    fn allows(self, kind: Kind) -> bool {
        match self {
            Position::Output => !matches!(kind, Kind::InputObject),
            Position::Input => matches!(kind, Kind::Scalar | Kind::Enum | Kind::InputObject),
            Position::UnionMember => kind == Kind::Object,
            Position::Implements => kind == Kind::Interface,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Position::Output => "an output type",
            Position::Input => "an input type",
            Position::UnionMember => "an object type",
            Position::Implements => "an interface",
        }
    }
}

/// The schema rules composition relies on: every referenced type exists and has a kind
/// that fits where it is used, and no type declares a field twice.
fn graphql_validity(sg: &Subgraph, errors: &mut Vec<CompositionError>) {
    let mut check = |coordinate: String, name: &str, position: Position| {
        if BUILTIN_SCALARS.contains(&name) && matches!(position, Position::Output | Position::Input)
        {
            return;
        }
        let Some(target) = sg.ty(name) else {
            errors.push(
                error(
                    ErrorCode::UnknownType,
                    format!(
                        "\"{coordinate}\" refers to unknown type \"{name}\" in subgraph \"{}\"",
                        sg.name
                    ),
                    sg,
                )
                .with_coordinates([coordinate]),
            );
            return;
        };
        // An `@interfaceObject` is an object type in its own subgraph.
        if !position.allows(target.kind) {
            errors.push(
                error(
                    ErrorCode::InvalidGraphql,
                    format!(
                        "\"{coordinate}\" in subgraph \"{}\" uses \"{name}\", a {}, where {} is required",
                        sg.name,
                        target.kind.describe(),
                        position.describe()
                    ),
                    sg,
                )
                .with_coordinates([coordinate]),
            );
        }
    };
    for ty in sg.types.values() {
        for f in &ty.fields {
            check(
                format!("{}.{}", ty.name, f.name),
                f.ty.base(),
                Position::Output,
            );
            for a in &f.args {
                check(
                    format!("{}.{}({}:)", ty.name, f.name, a.name),
                    a.ty.base(),
                    Position::Input,
                );
            }
        }
        for f in &ty.input_fields {
            check(
                format!("{}.{}", ty.name, f.name),
                f.ty.base(),
                Position::Input,
            );
        }
        for m in &ty.members {
            check(ty.name.clone(), m, Position::UnionMember);
        }
        for i in &ty.implements {
            check(ty.name.clone(), i, Position::Implements);
        }
    }
    for ty in sg.types.values() {
        let names = ty
            .fields
            .iter()
            .map(|f| &f.name)
            .chain(ty.input_fields.iter().map(|f| &f.name))
            .chain(ty.values.iter().map(|v| &v.name));
        let mut seen = BTreeSet::new();
        for name in names {
            if !seen.insert(name) {
                errors.push(
                    error(
                        ErrorCode::InvalidGraphql,
                        format!(
                            "\"{}\" declares \"{name}\" more than once in subgraph \"{}\"",
                            ty.name, sg.name
                        ),
                        sg,
                    )
                    .with_coordinates([format!("{}.{name}", ty.name)]),
                );
            }
        }
    }
}

fn mark_used(selected: &[fieldset::Selected], used: &mut BTreeSet<(String, String)>) {
    used.extend(fieldset::flatten(selected));
}

fn keys(
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

fn requires_check(
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

fn provides_check(
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

fn override_check(
    sg: &Subgraph,
    coordinate: &str,
    from: &str,
    label: Option<&str>,
    names: &BTreeSet<&str>,
    errors: &mut Vec<CompositionError>,
    warnings: &mut Vec<CompositionError>,
) {
    if from == sg.name {
        errors.push(
            error(
                ErrorCode::OverrideFromSelf,
                format!("\"{coordinate}\" in subgraph \"{from}\" overrides its own subgraph"),
                sg,
            )
            .with_coordinates([coordinate.to_owned()]),
        );
    } else if !names.contains(from) {
        warnings.push(
            error(
                ErrorCode::OverrideFromUnknownSubgraph,
                format!("\"{coordinate}\" in subgraph \"{}\" overrides unknown subgraph \"{from}\"; the directive has no effect", sg.name),
                sg,
            )
            .with_coordinates([coordinate.to_owned()]),
        );
    }
    if let Some(label) = label
        && !valid_override_label(label)
    {
        errors.push(
            error(
                ErrorCode::OverrideLabelInvalid,
                format!(
                    "\"{coordinate}\" has @override(label: \"{label}\"); a label is `percent(p)` with 0 <= p <= 100 and at most 8 decimals, or a name of letters, digits, `_`, `-`, `.` and `:` starting with a letter"
                ),
                sg,
            )
            .with_coordinates([coordinate.to_owned()]),
        );
    }
}

/// The labels the query planner understands; it rejects (panics on) any other
/// `percent(...)`, so they are refused here.
pub(crate) fn valid_override_label(label: &str) -> bool {
    if let Some(value) = label
        .strip_prefix("percent(")
        .and_then(|l| l.strip_suffix(')'))
    {
        let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
        let well_formed = match value.split_once('.') {
            Some((whole, decimals)) => digits(whole) && digits(decimals) && decimals.len() <= 8,
            None => digits(value),
        };
        return well_formed
            && value
                .parse::<f64>()
                .is_ok_and(|p| (0.0..=100.0).contains(&p));
    }
    let mut chars = label.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// Interface fields must be implemented, an entity interface's keys must be on its
/// implementations, and an `@external` field restated for an interface counts as used.
fn implementations(
    sg: &Subgraph,
    ty: &TypeDef,
    used: &mut BTreeSet<(String, String)>,
    errors: &mut Vec<CompositionError>,
) {
    for iface_name in &ty.implements {
        let Some(iface) = sg.ty(iface_name) else {
            continue;
        };
        for f in &iface.fields {
            if ty.field(&f.name).is_some() {
                used.insert((ty.name.clone(), f.name.clone()));
            } else {
                errors.push(
                    error(
                        ErrorCode::InterfaceFieldNoImplem,
                        format!("\"{}\" implements \"{iface_name}\" in subgraph \"{}\" but has no field \"{}\"", ty.name, sg.name, f.name),
                        sg,
                    )
                    .with_coordinates([format!("{}.{}", ty.name, f.name), format!("{iface_name}.{}", f.name)]),
                );
            }
        }
        for key in &iface.keys {
            let wanted = fieldset::normalize(&key.fields);
            if !ty
                .keys
                .iter()
                .any(|k| fieldset::normalize(&k.fields) == wanted)
            {
                errors.push(
                    error(
                        ErrorCode::InterfaceKeyNotOnImplementations,
                        format!(
                            "\"{}\" implements entity interface \"{iface_name}\" in subgraph \"{}\" but lacks its @key(fields: \"{}\")",
                            ty.name, sg.name, key.fields
                        ),
                        sg,
                    )
                    .with_coordinates([ty.name.clone(), iface_name.clone()]),
                );
            }
        }
    }
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
            interface_object_usage(name, sources, errors);
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
            field_across(name, sources, field, errors);
        }
    }
    inaccessible_references(model, errors);
}

/// A visible field, argument or input field cannot have a hidden type: clients would see
/// a reference to a type that does not exist for them.
fn inaccessible_references(model: &SupergraphModel, errors: &mut Vec<CompositionError>) {
    let hidden = |name: &str| {
        model
            .types
            .get(name)
            .is_some_and(|t| t.exposure.inaccessible)
    };
    let mut report = |coordinate: String, target: &str| {
        errors.push(
            CompositionError::new(
                ErrorCode::ReferencedInaccessible,
                format!("\"{coordinate}\" is visible but its type \"{target}\" is @inaccessible; hide it too or make the type visible"),
            )
            .with_coordinates([coordinate, target.to_owned()]),
        );
    };
    for ty in model.types.values().filter(|t| !t.exposure.inaccessible) {
        for f in ty.fields.iter().filter(|f| !f.exposure.inaccessible) {
            if hidden(f.ty.base()) {
                report(format!("{}.{}", ty.name, f.name), f.ty.base());
            }
            for a in f.args.iter().filter(|a| !a.exposure.inaccessible) {
                if hidden(a.ty.base()) {
                    report(format!("{}.{}({}:)", ty.name, f.name, a.name), a.ty.base());
                }
            }
        }
        for f in ty.input_fields.iter().filter(|f| !f.exposure.inaccessible) {
            if hidden(f.ty.base()) {
                report(format!("{}.{}", ty.name, f.name), f.ty.base());
            }
        }
    }
}

fn interface_object_usage(name: &str, sources: &[Source<'_>], errors: &mut Vec<CompositionError>) {
    let backed = sources
        .iter()
        .any(|(_, t)| t.kind == Kind::Interface && t.is_entity());
    if !backed {
        errors.push(
            CompositionError::new(
                ErrorCode::InterfaceObjectUsageError,
                format!("\"{name}\" is an @interfaceObject but no subgraph defines it as an interface with a @key"),
            )
            .with_subgraphs(sources.iter().map(|(sg, _)| sg.name.clone()))
            .with_coordinates([name]),
        );
    }
    for (sg, t) in sources {
        if t.interface_object && !t.is_entity() {
            errors.push(
                error(
                    ErrorCode::InterfaceObjectUsageError,
                    format!(
                        "@interfaceObject \"{name}\" in subgraph \"{}\" has no @key",
                        sg.name
                    ),
                    sg,
                )
                .with_coordinates([name]),
            );
        }
    }
}

fn field_across(
    type_name: &str,
    sources: &[Source<'_>],
    field: &str,
    errors: &mut Vec<CompositionError>,
) {
    let coordinate = format!("{type_name}.{field}");
    let contributions = field_sources(sources, field);
    let all_subgraphs = || {
        contributions
            .iter()
            .map(|c| c.subgraph.name.clone())
            .collect::<Vec<_>>()
    };

    if contributions.iter().all(|c| c.external) {
        errors.push(
            CompositionError::new(
                ErrorCode::ExternalMissingOnBase,
                format!("field \"{coordinate}\" is @external in every subgraph that defines it, so none resolves it"),
            )
            .with_subgraphs(all_subgraphs())
            .with_coordinates([coordinate.clone()]),
        );
    }

    for c in &contributions {
        let Some(from) = &c.field.override_from else {
            continue;
        };
        if let Some(source) = contributions.iter().find(|o| o.subgraph.name == *from)
            && source.field.override_from.is_some()
        {
            errors.push(
                CompositionError::new(
                    ErrorCode::OverrideSourceHasOverride,
                    format!(
                        "field \"{coordinate}\" in subgraph \"{}\" overrides subgraph \"{from}\", which itself overrides it; overrides cannot be chained",
                        c.subgraph.name
                    ),
                )
                .with_subgraphs([c.subgraph.name.clone(), from.clone()])
                .with_coordinates([coordinate.clone()]),
            );
        }
    }

    let resolving: Vec<_> = contributions.iter().filter(|c| c.resolves()).collect();
    if resolving.len() > 1 {
        let unshareable: Vec<&str> = resolving
            .iter()
            .filter(|c| {
                !(c.field.shareable
                    || c.ty.shareable
                    || key_field_coordinates(c.subgraph)
                        .contains(&(type_name.to_owned(), field.to_owned())))
            })
            .map(|c| c.subgraph.name.as_str())
            .collect();
        if !unshareable.is_empty() {
            let names: Vec<&str> = resolving.iter().map(|c| c.subgraph.name.as_str()).collect();
            errors.push(
                CompositionError::new(
                    ErrorCode::InvalidFieldSharing,
                    format!(
                        "field \"{coordinate}\" is resolved by subgraphs {} but is not @shareable in {}",
                        quote_all(&names),
                        quote_all(&unshareable)
                    ),
                )
                .with_subgraphs(names.iter().map(|s| (*s).to_owned()))
                .with_coordinates([coordinate.clone()]),
            );
        }
    }
}

fn quote_all(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::valid_override_label;

    #[test]
    fn override_labels() {
        for ok in [
            "percent(0)",
            "percent(100)",
            "percent(12.5)",
            "percent(0.00000001)",
            "beta",
            "flag:new-checkout_2.x",
        ] {
            assert!(valid_override_label(ok), "{ok}");
        }
        for bad in [
            "percent(101)",
            "percent(-1)",
            "percent(1.123456789)",
            "percent(5.)",
            "percent()",
            "percent(x)",
            "",
            "1flag",
            "a b",
        ] {
            assert!(!valid_override_label(bad), "{bad}");
        }
    }
}
