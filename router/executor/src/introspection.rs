//! Introspection (`__schema`, `__type`) answered by the router from the public schema, so
//! clients see the composed graph and never a single subgraph's view of it.
//!
//! The resolvers produce values keyed by response key; the normal response shaping then writes
//! them like any other data, which gives aliases, fragments and `@skip`/`@include` for free.

use std::collections::HashMap;

use graphql_tools::static_graphql::query::{
    Document as QueryDocument, Field as QueryField, FragmentDefinition, SelectionSet,
    Value as AstValue,
};
use graphql_tools::static_graphql::schema::{
    Definition, Directive, Field, InputValue, Type, TypeDefinition,
};
use serde_json::{Map, Value};

use crate::execution::project::{collect_fields, fragments_of};
use crate::prepare::is_introspection_field;
use crate::prepare::variables::ast_to_json;
use crate::schema::SchemaIndex;

/// Resolves the root `__schema`/`__type` fields of `selection_set` into `data`.
pub(crate) fn resolve_root(
    schema: &SchemaIndex,
    document: &QueryDocument,
    selection_set: &SelectionSet,
    variables: &Map<String, Value>,
    data: &mut Value,
) {
    let resolver = Resolver {
        schema,
        fragments: fragments_of(document),
        variables,
    };
    let fields = collect_fields(
        schema,
        &resolver.fragments,
        variables,
        &schema.query_type,
        &[selection_set],
    );
    if !data.is_object() {
        *data = Value::Object(Map::new());
    }
    let Value::Object(root) = data else {
        return;
    };
    for (key, fields) in fields {
        let field = fields[0];
        if !is_introspection_field(&field.name) {
            continue;
        }
        let sets: Vec<&SelectionSet> = fields.iter().map(|f| &f.selection_set).collect();
        let value = match field.name.as_str() {
            "__schema" => resolver.schema_object(&sets),
            _ => match resolver.string_argument(field, "name") {
                Some(name) if schema.definition(&name).is_some() => {
                    resolver.type_object(TypeRef::Named(&name), &sets)
                }
                _ => Value::Null,
            },
        };
        root.insert(key.to_owned(), value);
    }
}

/// A type as introspection sees it: named, or wrapped in a list or non-null.
#[derive(Clone, Copy)]
enum TypeRef<'s> {
    Named(&'s str),
    Wrapped(&'s Type),
}

struct Resolver<'a, 'd> {
    schema: &'a SchemaIndex,
    fragments: HashMap<&'d str, &'d FragmentDefinition>,
    variables: &'a Map<String, Value>,
}

impl<'a, 'd> Resolver<'a, 'd> {
    fn string_argument(&self, field: &QueryField, name: &str) -> Option<String> {
        field
            .arguments
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| ast_to_json(v, self.variables).as_str().map(str::to_owned))
    }

    fn bool_argument(&self, field: &QueryField, name: &str, default: bool) -> bool {
        field
            .arguments
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| match v {
                AstValue::Boolean(b) => Some(*b),
                other => ast_to_json(other, self.variables).as_bool(),
            })
            .unwrap_or(default)
    }

    /// Resolves the selection on an introspection object of type `type_name`.
    fn object(
        &self,
        type_name: &str,
        sets: &[&'d SelectionSet],
        mut resolve: impl FnMut(&'d QueryField, &[&'d SelectionSet]) -> Value,
    ) -> Value {
        let fields = collect_fields(
            self.schema,
            &self.fragments,
            self.variables,
            type_name,
            sets,
        );
        let mut out = Map::new();
        for (key, fields) in fields {
            let field = fields[0];
            let value = if field.name == "__typename" {
                Value::String(type_name.to_owned())
            } else {
                let sub: Vec<&'d SelectionSet> = fields.iter().map(|f| &f.selection_set).collect();
                resolve(field, &sub)
            };
            out.insert(key.to_owned(), value);
        }
        Value::Object(out)
    }

    fn schema_object(&self, sets: &[&'d SelectionSet]) -> Value {
        let schema = self.schema;
        self.object("__Schema", sets, |field, sub| match field.name.as_str() {
            "types" => {
                let mut names: Vec<&String> = schema.types().map(|(name, _)| name).collect();
                names.sort();
                Value::Array(
                    names
                        .into_iter()
                        .map(|name| self.type_object(TypeRef::Named(name), sub))
                        .collect(),
                )
            }
            "queryType" => self.type_object(TypeRef::Named(&schema.query_type), sub),
            "mutationType" => schema
                .mutation_type
                .as_deref()
                .map_or(Value::Null, |t| self.type_object(TypeRef::Named(t), sub)),
            "subscriptionType" => schema
                .subscription_type
                .as_deref()
                .map_or(Value::Null, |t| self.type_object(TypeRef::Named(t), sub)),
            "directives" => Value::Array(
                schema
                    .document
                    .definitions
                    .iter()
                    .filter_map(|d| match d {
                        Definition::DirectiveDefinition(directive) => {
                            Some(self.object("__Directive", sub, |field, sub| {
                                match field.name.as_str() {
                                    "name" => Value::String(directive.name.clone()),
                                    "description" => optional_string(&directive.description),
                                    // The planner's consumer schema declares `@oneOf` on
                                    // object, interface and union types; the GraphQL
                                    // specification puts it on input objects only, which is
                                    // what clients generating code from introspection expect.
                                    "locations" if directive.name == "oneOf" => {
                                        Value::Array(vec![Value::String("INPUT_OBJECT".to_owned())])
                                    }
                                    "locations" => Value::Array(
                                        directive
                                            .locations
                                            .iter()
                                            .map(|l| Value::String(l.as_str().to_owned()))
                                            .collect(),
                                    ),
                                    "args" => self.input_values(&directive.arguments, field, sub),
                                    "isRepeatable" => Value::Bool(directive.repeatable),
                                    _ => Value::Null,
                                }
                            }))
                        }
                        _ => None,
                    })
                    .collect(),
            ),
            _ => Value::Null,
        })
    }

    fn type_object(&self, ty: TypeRef<'_>, sets: &[&'d SelectionSet]) -> Value {
        match ty {
            TypeRef::Wrapped(Type::NamedType(name)) => self.type_object(TypeRef::Named(name), sets),
            TypeRef::Wrapped(wrapper @ (Type::ListType(inner) | Type::NonNullType(inner))) => {
                let kind = if matches!(wrapper, Type::ListType(_)) {
                    "LIST"
                } else {
                    "NON_NULL"
                };
                self.object("__Type", sets, |field, sub| match field.name.as_str() {
                    "kind" => Value::String(kind.to_owned()),
                    "ofType" => self.type_object(TypeRef::Wrapped(inner), sub),
                    _ => Value::Null,
                })
            }
            TypeRef::Named(name) => {
                let Some(definition) = self.schema.definition(name) else {
                    return Value::Null;
                };
                self.object("__Type", sets, |field, sub| {
                    self.named_type_field(definition, field, sub)
                })
            }
        }
    }

    fn named_type_field(
        &self,
        definition: &TypeDefinition,
        field: &'d QueryField,
        sub: &[&'d SelectionSet],
    ) -> Value {
        let include_deprecated = self.bool_argument(field, "includeDeprecated", false);
        match field.name.as_str() {
            "kind" => Value::String(
                match definition {
                    TypeDefinition::Scalar(_) => "SCALAR",
                    TypeDefinition::Object(_) => "OBJECT",
                    TypeDefinition::Interface(_) => "INTERFACE",
                    TypeDefinition::Union(_) => "UNION",
                    TypeDefinition::Enum(_) => "ENUM",
                    TypeDefinition::InputObject(_) => "INPUT_OBJECT",
                }
                .to_owned(),
            ),
            "name" => Value::String(type_name(definition).to_owned()),
            "description" => optional_string(type_description(definition)),
            "specifiedByURL" | "specifiedByUrl" => match definition {
                TypeDefinition::Scalar(s) => {
                    directive_argument(&s.directives, "specifiedBy", "url")
                }
                _ => Value::Null,
            },
            "fields" => {
                let fields = match definition {
                    TypeDefinition::Object(t) => &t.fields,
                    TypeDefinition::Interface(t) => &t.fields,
                    _ => return Value::Null,
                };
                Value::Array(
                    fields
                        .iter()
                        .filter(|f| !f.name.starts_with("__"))
                        .filter(|f| include_deprecated || !is_deprecated(&f.directives))
                        .map(|f| self.field_object(f, sub))
                        .collect(),
                )
            }
            "interfaces" => {
                let interfaces = match definition {
                    TypeDefinition::Object(t) => &t.implements_interfaces,
                    TypeDefinition::Interface(t) => &t.implements_interfaces,
                    _ => return Value::Null,
                };
                Value::Array(
                    interfaces
                        .iter()
                        .filter(|i| self.schema.definition(i).is_some())
                        .map(|i| self.type_object(TypeRef::Named(i), sub))
                        .collect(),
                )
            }
            "possibleTypes" => {
                let entry = match definition {
                    TypeDefinition::Interface(_) | TypeDefinition::Union(_) => {
                        self.schema.entry(type_name(definition))
                    }
                    _ => None,
                };
                let Some(entry) = entry else {
                    return Value::Null;
                };
                let mut names: Vec<&String> = entry.possible_types.iter().collect();
                names.sort();
                Value::Array(
                    names
                        .into_iter()
                        .map(|n| self.type_object(TypeRef::Named(n), sub))
                        .collect(),
                )
            }
            "enumValues" => {
                let TypeDefinition::Enum(e) = definition else {
                    return Value::Null;
                };
                Value::Array(
                    e.values
                        .iter()
                        .filter(|v| include_deprecated || !is_deprecated(&v.directives))
                        .map(|v| {
                            self.object("__EnumValue", sub, |field, _| match field.name.as_str() {
                                "name" => Value::String(v.name.clone()),
                                "description" => optional_string(&v.description),
                                "isDeprecated" => Value::Bool(is_deprecated(&v.directives)),
                                "deprecationReason" => deprecation_reason(&v.directives),
                                _ => Value::Null,
                            })
                        })
                        .collect(),
                )
            }
            "inputFields" => {
                let TypeDefinition::InputObject(input) = definition else {
                    return Value::Null;
                };
                self.input_values(&input.fields, field, sub)
            }
            "isOneOf" => Value::Bool(match definition {
                TypeDefinition::InputObject(input) => {
                    input.directives.iter().any(|d| d.name == "oneOf")
                }
                _ => false,
            }),
            _ => Value::Null,
        }
    }

    fn field_object(&self, definition: &Field, sets: &[&'d SelectionSet]) -> Value {
        self.object("__Field", sets, |field, sub| match field.name.as_str() {
            "name" => Value::String(definition.name.clone()),
            "description" => optional_string(&definition.description),
            "args" => self.input_values(&definition.arguments, field, sub),
            "type" => self.type_object(TypeRef::Wrapped(&definition.field_type), sub),
            "isDeprecated" => Value::Bool(is_deprecated(&definition.directives)),
            "deprecationReason" => deprecation_reason(&definition.directives),
            _ => Value::Null,
        })
    }

    fn input_values(
        &self,
        values: &[InputValue],
        field: &'d QueryField,
        sets: &[&'d SelectionSet],
    ) -> Value {
        let include_deprecated = self.bool_argument(field, "includeDeprecated", false);
        Value::Array(
            values
                .iter()
                .filter(|v| include_deprecated || !is_deprecated(&v.directives))
                .map(|value| {
                    self.object("__InputValue", sets, |field, sub| {
                        match field.name.as_str() {
                            "name" => Value::String(value.name.clone()),
                            "description" => optional_string(&value.description),
                            "type" => self.type_object(TypeRef::Wrapped(&value.value_type), sub),
                            "defaultValue" => value
                                .default_value
                                .as_ref()
                                .map_or(Value::Null, |d| Value::String(d.to_string())),
                            "isDeprecated" => Value::Bool(is_deprecated(&value.directives)),
                            "deprecationReason" => deprecation_reason(&value.directives),
                            _ => Value::Null,
                        }
                    })
                })
                .collect(),
        )
    }
}

fn type_name(definition: &TypeDefinition) -> &str {
    match definition {
        TypeDefinition::Scalar(t) => &t.name,
        TypeDefinition::Object(t) => &t.name,
        TypeDefinition::Interface(t) => &t.name,
        TypeDefinition::Union(t) => &t.name,
        TypeDefinition::Enum(t) => &t.name,
        TypeDefinition::InputObject(t) => &t.name,
    }
}

fn type_description(definition: &TypeDefinition) -> &Option<String> {
    match definition {
        TypeDefinition::Scalar(t) => &t.description,
        TypeDefinition::Object(t) => &t.description,
        TypeDefinition::Interface(t) => &t.description,
        TypeDefinition::Union(t) => &t.description,
        TypeDefinition::Enum(t) => &t.description,
        TypeDefinition::InputObject(t) => &t.description,
    }
}

fn optional_string(value: &Option<String>) -> Value {
    value
        .as_ref()
        .map_or(Value::Null, |s| Value::String(s.clone()))
}

fn is_deprecated(directives: &[Directive]) -> bool {
    directives.iter().any(|d| d.name == "deprecated")
}

fn deprecation_reason(directives: &[Directive]) -> Value {
    match directives.iter().find(|d| d.name == "deprecated") {
        None => Value::Null,
        Some(d) => match d.arguments.iter().find(|(name, _)| name == "reason") {
            Some((_, graphql_tools::static_graphql::schema::Value::String(reason))) => {
                Value::String(reason.clone())
            }
            _ => Value::String("No longer supported".to_owned()),
        },
    }
}

fn directive_argument(directives: &[Directive], directive: &str, argument: &str) -> Value {
    directives
        .iter()
        .find(|d| d.name == directive)
        .and_then(|d| d.arguments.iter().find(|(name, _)| name == argument))
        .map_or(Value::Null, |(_, value)| match value {
            graphql_tools::static_graphql::schema::Value::String(s) => Value::String(s.clone()),
            _ => Value::Null,
        })
}
