//! Coercion of the request's variable values against the operation's variable definitions
//! (GraphQL spec, "CoerceVariableValues"): defaults are applied, required variables must be
//! present, and every value must fit its declared input type.

use graphql_tools::static_graphql::query::{Type, Value as AstValue, VariableDefinition};
use serde_json::{Map, Number, Value};

use crate::error::{GraphQLError, Location, codes};
use crate::schema::{SchemaIndex, TypeKind};

/// A problem with one variable value; becomes one `GRAPHQL_VALIDATION_FAILED` error.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VariableError {
    #[error("Variable \"${name}\" of required type \"{ty}\" was not provided.")]
    Missing { name: String, ty: String },
    #[error("Variable \"${name}\" of non-null type \"{ty}\" must not be null.")]
    Null { name: String, ty: String },
    #[error("Variable \"${name}\" got invalid value {value}; {reason}")]
    Invalid {
        name: String,
        value: String,
        reason: String,
    },
}

/// Coerces `provided` for `definitions`; the result holds exactly the defined variables that
/// have a value (provided or default).
pub(crate) fn coerce_variables(
    schema: &SchemaIndex,
    definitions: &[VariableDefinition],
    mut provided: Map<String, Value>,
) -> Result<Map<String, Value>, Vec<GraphQLError>> {
    let mut coerced = Map::new();
    let mut errors = Vec::new();
    for definition in definitions {
        let name = &definition.name;
        let location = Location {
            line: definition.position.line,
            column: definition.position.column,
        };
        let result = match provided.remove(name.as_str()) {
            None => match &definition.default_value {
                Some(default) => {
                    coerced.insert(name.clone(), ast_to_json(default, &Map::new()));
                    Ok(())
                }
                None if matches!(definition.var_type, Type::NonNullType(_)) => {
                    Err(VariableError::Missing {
                        name: name.clone(),
                        ty: definition.var_type.to_string(),
                    })
                }
                None => Ok(()),
            },
            Some(Value::Null) if matches!(definition.var_type, Type::NonNullType(_)) => {
                Err(VariableError::Null {
                    name: name.clone(),
                    ty: definition.var_type.to_string(),
                })
            }
            Some(mut value) => match coerce_value(schema, &definition.var_type, &mut value) {
                Ok(()) => {
                    coerced.insert(name.clone(), value);
                    Ok(())
                }
                Err(reason) => Err(VariableError::Invalid {
                    name: name.clone(),
                    value: truncated(&value),
                    reason,
                }),
            },
        };
        if let Err(error) = result {
            errors.push(
                GraphQLError::with_code(error.to_string(), codes::VALIDATION_FAILED)
                    .located(vec![location]),
            );
        }
    }
    if errors.is_empty() {
        Ok(coerced)
    } else {
        Err(errors)
    }
}

/// Echoing a huge value back in an error helps nobody; keep messages short.
fn truncated(value: &Value) -> String {
    let mut text = value.to_string();
    if text.len() > 120 {
        let mut cut = 117;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

/// Checks (and, for single values in list positions, wraps) `value` against `ty`.
fn coerce_value(schema: &SchemaIndex, ty: &Type, value: &mut Value) -> Result<(), String> {
    match ty {
        Type::NonNullType(inner) => {
            if value.is_null() {
                return Err(format!(
                    "Expected non-nullable type \"{ty}\" not to be null."
                ));
            }
            coerce_value(schema, inner, value)
        }
        _ if value.is_null() => Ok(()),
        Type::ListType(inner) => {
            if let Value::Array(items) = value {
                for (index, item) in items.iter_mut().enumerate() {
                    coerce_value(schema, inner, item)
                        .map_err(|e| format!("at index {index}: {e}"))?;
                }
                Ok(())
            } else {
                // Input coercion accepts a single item where a list is expected.
                coerce_value(schema, inner, value)?;
                let single = value.take();
                *value = Value::Array(vec![single]);
                Ok(())
            }
        }
        Type::NamedType(name) => coerce_named(schema, name, value),
    }
}

fn coerce_named(schema: &SchemaIndex, name: &str, value: &mut Value) -> Result<(), String> {
    let expected = || format!("Expected type \"{name}\".");
    match name {
        "Int" => match value.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => Ok(()),
            Some(_) => Err(format!(
                "Int cannot represent non 32-bit signed integer value. {}",
                expected()
            )),
            None => Err(expected()),
        },
        "Float" => match value {
            Value::Number(_) => Ok(()),
            _ => Err(expected()),
        },
        "String" => match value {
            Value::String(_) => Ok(()),
            _ => Err(expected()),
        },
        "Boolean" => match value {
            Value::Bool(_) => Ok(()),
            _ => Err(expected()),
        },
        "ID" => match value {
            Value::String(_) => Ok(()),
            Value::Number(n) if n.is_i64() || n.is_u64() => {
                *value = Value::String(n.to_string());
                Ok(())
            }
            _ => Err(expected()),
        },
        _ => match schema.kind(name) {
            // Custom scalars are opaque to the router; their subgraph validates them.
            Some(TypeKind::Scalar) => Ok(()),
            Some(TypeKind::Enum) => match value {
                Value::String(s) if schema.enum_has_value(name, s) => Ok(()),
                _ => Err(format!("Value is not a valid \"{name}\" enum value.")),
            },
            Some(TypeKind::InputObject) => {
                let Value::Object(object) = value else {
                    return Err(expected());
                };
                let fields = schema.input_fields(name).unwrap_or_default();
                if let Some(unknown) = object
                    .keys()
                    .find(|key| !fields.iter().any(|f| &f.name == *key))
                {
                    return Err(format!(
                        "Field \"{unknown}\" is not defined by type \"{name}\"."
                    ));
                }
                for field in fields {
                    match object.get_mut(field.name.as_str()) {
                        Some(field_value) => coerce_value(schema, &field.value_type, field_value)
                            .map_err(|e| format!("at \"{}\": {e}", field.name))?,
                        None => match &field.default_value {
                            Some(default) => {
                                object
                                    .insert(field.name.clone(), ast_to_json(default, &Map::new()));
                            }
                            None if matches!(field.value_type, Type::NonNullType(_)) => {
                                return Err(format!(
                                    "Field \"{}\" of required type \"{}\" was not provided.",
                                    field.name, field.value_type
                                ));
                            }
                            None => {}
                        },
                    }
                }
                Ok(())
            }
            _ => Err(format!("Unknown input type \"{name}\".")),
        },
    }
}

/// Converts a literal from the document to JSON, resolving variables from `variables`.
pub(crate) fn ast_to_json(value: &AstValue, variables: &Map<String, Value>) -> Value {
    match value {
        AstValue::Variable(name) => variables.get(name.as_str()).cloned().unwrap_or(Value::Null),
        AstValue::Int(n) => n.as_i64().map_or(Value::Null, |i| Value::Number(i.into())),
        AstValue::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        AstValue::String(s) => Value::String(s.clone()),
        AstValue::Boolean(b) => Value::Bool(*b),
        AstValue::Null => Value::Null,
        AstValue::Enum(e) => Value::String(e.clone()),
        AstValue::List(items) => {
            Value::Array(items.iter().map(|v| ast_to_json(v, variables)).collect())
        }
        AstValue::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), ast_to_json(v, variables)))
                .collect(),
        ),
    }
}
