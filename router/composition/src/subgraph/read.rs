//! Reading the type definitions and extensions of a subgraph into the [model](super::model),
//! with the federation directives on types, fields, arguments and enum values applied.
//! Definitions and extensions of the same type are merged into one `TypeDef`.

use std::collections::BTreeMap;

use graphql_parser::schema::{
    Definition, Directive, Document, EnumValue, Field, InputValue, TypeDefinition, TypeExtension,
};

use super::directives::{Fed, FedNames, arg, as_bool, as_str};
use super::model::{EnumValueDef, Exposure, FieldDef, InputValueDef, Key, Kind, TypeDef};
use crate::error::{CompositionError, ErrorCode};
use crate::types::TypeRef;

/// Reads every type definition and extension of `doc`. A type that is `@external` as a
/// whole makes each of its fields external.
pub(super) fn read_types(
    fed: &FedNames,
    doc: &Document<'_, String>,
    subgraph: &str,
    errors: &mut Vec<CompositionError>,
) -> BTreeMap<String, TypeDef> {
    let mut types: BTreeMap<String, TypeDef> = BTreeMap::new();
    for def in &doc.definitions {
        match def {
            Definition::TypeDefinition(td) => {
                read_type(fed, td, false, &mut types, subgraph, errors)
            }
            Definition::TypeExtension(te) => read_extension(fed, te, &mut types, subgraph, errors),
            Definition::SchemaDefinition(_) | Definition::DirectiveDefinition(_) => {}
        }
    }
    for ty in types.values_mut() {
        if ty.external {
            for f in &mut ty.fields {
                f.external = true;
            }
        }
    }
    types
}

fn exposure(fed: &FedNames, directives: &[Directive<'_, String>]) -> Exposure {
    let mut out = Exposure::default();
    for d in directives {
        match fed.get(&d.name) {
            Some(Fed::Inaccessible) => out.inaccessible = true,
            Some(Fed::Tag) => {
                if let Some(tag) = arg(d, "name").and_then(as_str) {
                    out.tags.insert(tag.to_owned());
                }
            }
            _ if d.name == "deprecated" => {
                out.deprecated = Some(arg(d, "reason").and_then(as_str).map(str::to_owned));
            }
            _ => {}
        }
    }
    out
}

fn has(fed: &FedNames, directives: &[Directive<'_, String>], which: Fed) -> bool {
    directives.iter().any(|d| fed.get(&d.name) == Some(which))
}

fn fieldset_arg(
    fed: &FedNames,
    directives: &[Directive<'_, String>],
    which: Fed,
) -> Option<String> {
    directives
        .iter()
        .find(|d| fed.get(&d.name) == Some(which))
        .and_then(|d| arg(d, "fields").and_then(as_str))
        .map(str::to_owned)
}

fn read_input_value(fed: &FedNames, v: &InputValue<'_, String>) -> InputValueDef {
    InputValueDef {
        name: v.name.clone(),
        description: v.description.clone(),
        ty: TypeRef::from_ast(&v.value_type),
        default: v.default_value.as_ref().map(|d| d.to_string()),
        exposure: exposure(fed, &v.directives),
    }
}

fn read_field(fed: &FedNames, f: &Field<'_, String>) -> FieldDef {
    let override_directive = f
        .directives
        .iter()
        .find(|d| fed.get(&d.name) == Some(Fed::Override));
    FieldDef {
        name: f.name.clone(),
        description: f.description.clone(),
        ty: TypeRef::from_ast(&f.field_type),
        args: f
            .arguments
            .iter()
            .map(|a| read_input_value(fed, a))
            .collect(),
        external: has(fed, &f.directives, Fed::External),
        shareable: has(fed, &f.directives, Fed::Shareable),
        requires: fieldset_arg(fed, &f.directives, Fed::Requires),
        provides: fieldset_arg(fed, &f.directives, Fed::Provides),
        override_from: override_directive
            .and_then(|d| arg(d, "from").and_then(as_str))
            .map(str::to_owned),
        override_label: override_directive
            .and_then(|d| arg(d, "label").and_then(as_str))
            .map(str::to_owned),
        exposure: exposure(fed, &f.directives),
    }
}

fn read_enum_value(fed: &FedNames, v: &EnumValue<'_, String>) -> EnumValueDef {
    EnumValueDef {
        name: v.name.clone(),
        description: v.description.clone(),
        exposure: exposure(fed, &v.directives),
    }
}

/// Applies type-level directives shared by definitions and extensions.
fn apply_type_directives(fed: &FedNames, ty: &mut TypeDef, directives: &[Directive<'_, String>]) {
    for d in directives {
        match fed.get(&d.name) {
            Some(Fed::Key) => {
                if let Some(fields) = arg(d, "fields").and_then(as_str) {
                    let resolvable = arg(d, "resolvable").and_then(as_bool).unwrap_or(true);
                    ty.keys.push(Key {
                        fields: fields.to_owned(),
                        resolvable,
                    });
                }
            }
            Some(Fed::Shareable) => ty.shareable = true,
            Some(Fed::InterfaceObject) => ty.interface_object = true,
            Some(Fed::Extends) => {
                ty.extension = true;
                ty.extends_directive = true;
            }
            Some(Fed::External) => ty.external = true,
            _ if d.name == "specifiedBy" => {
                ty.specified_by = arg(d, "url").and_then(as_str).map(str::to_owned);
            }
            _ => {}
        }
    }
    let more = exposure(fed, directives);
    ty.exposure.inaccessible |= more.inaccessible;
    ty.exposure.tags.extend(more.tags);
}

fn entry<'t>(
    types: &'t mut BTreeMap<String, TypeDef>,
    name: &str,
    kind: Kind,
    subgraph: &str,
    errors: &mut Vec<CompositionError>,
) -> Option<&'t mut TypeDef> {
    let ty = types
        .entry(name.to_owned())
        .or_insert_with(|| TypeDef::new(name.to_owned(), kind));
    if ty.kind != kind {
        errors.push(
            CompositionError::new(
                ErrorCode::InvalidGraphql,
                format!(
                    "subgraph \"{subgraph}\" defines \"{name}\" both as {} and as {}",
                    ty.kind.describe(),
                    kind.describe()
                ),
            )
            .with_subgraphs([subgraph])
            .with_coordinates([name]),
        );
        return None;
    }
    Some(ty)
}

fn read_type(
    fed: &FedNames,
    td: &TypeDefinition<'_, String>,
    extension: bool,
    types: &mut BTreeMap<String, TypeDef>,
    subgraph: &str,
    errors: &mut Vec<CompositionError>,
) {
    let (name, kind, description, directives) = match td {
        TypeDefinition::Scalar(t) => (&t.name, Kind::Scalar, &t.description, &t.directives),
        TypeDefinition::Object(t) => (&t.name, Kind::Object, &t.description, &t.directives),
        TypeDefinition::Interface(t) => (&t.name, Kind::Interface, &t.description, &t.directives),
        TypeDefinition::Union(t) => (&t.name, Kind::Union, &t.description, &t.directives),
        TypeDefinition::Enum(t) => (&t.name, Kind::Enum, &t.description, &t.directives),
        TypeDefinition::InputObject(t) => {
            (&t.name, Kind::InputObject, &t.description, &t.directives)
        }
    };
    let Some(ty) = entry(types, name, kind, subgraph, errors) else {
        return;
    };
    if description.is_some() {
        ty.description.clone_from(description);
    }
    ty.extension |= extension;
    apply_type_directives(fed, ty, directives);
    match td {
        TypeDefinition::Object(t) => {
            ty.implements
                .extend(t.implements_interfaces.iter().cloned());
            ty.fields
                .extend(t.fields.iter().map(|f| read_field(fed, f)));
        }
        TypeDefinition::Interface(t) => {
            ty.implements
                .extend(t.implements_interfaces.iter().cloned());
            ty.fields
                .extend(t.fields.iter().map(|f| read_field(fed, f)));
        }
        TypeDefinition::Union(t) => ty.members.extend(t.types.iter().cloned()),
        TypeDefinition::Enum(t) => ty
            .values
            .extend(t.values.iter().map(|v| read_enum_value(fed, v))),
        TypeDefinition::InputObject(t) => ty
            .input_fields
            .extend(t.fields.iter().map(|v| read_input_value(fed, v))),
        TypeDefinition::Scalar(_) => {}
    }
}

fn read_extension(
    fed: &FedNames,
    te: &TypeExtension<'_, String>,
    types: &mut BTreeMap<String, TypeDef>,
    subgraph: &str,
    errors: &mut Vec<CompositionError>,
) {
    let (name, kind, directives) = match te {
        TypeExtension::Scalar(t) => (&t.name, Kind::Scalar, &t.directives),
        TypeExtension::Object(t) => (&t.name, Kind::Object, &t.directives),
        TypeExtension::Interface(t) => (&t.name, Kind::Interface, &t.directives),
        TypeExtension::Union(t) => (&t.name, Kind::Union, &t.directives),
        TypeExtension::Enum(t) => (&t.name, Kind::Enum, &t.directives),
        TypeExtension::InputObject(t) => (&t.name, Kind::InputObject, &t.directives),
    };
    let existed = types.contains_key(name.as_str());
    let Some(ty) = entry(types, name, kind, subgraph, errors) else {
        return;
    };
    // `extend type` on a type this subgraph never defined is the federation 1 way of
    // saying the type lives elsewhere.
    if !existed {
        ty.extension = true;
    }
    apply_type_directives(fed, ty, directives);
    match te {
        TypeExtension::Object(t) => {
            ty.implements
                .extend(t.implements_interfaces.iter().cloned());
            ty.fields
                .extend(t.fields.iter().map(|f| read_field(fed, f)));
        }
        TypeExtension::Interface(t) => {
            ty.implements
                .extend(t.implements_interfaces.iter().cloned());
            ty.fields
                .extend(t.fields.iter().map(|f| read_field(fed, f)));
        }
        TypeExtension::Union(t) => ty.members.extend(t.types.iter().cloned()),
        TypeExtension::Enum(t) => ty
            .values
            .extend(t.values.iter().map(|v| read_enum_value(fed, v))),
        TypeExtension::InputObject(t) => ty
            .input_fields
            .extend(t.fields.iter().map(|v| read_input_value(fed, v))),
        TypeExtension::Scalar(_) => {}
    }
}
