//! An index over the public (consumer) schema: the lookups that validation of variables, response
//! shaping and introspection do on every request, answered from hash maps instead of scans.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use graphql_tools::static_graphql::schema::{
    Definition, Document, Field, InputValue, TypeDefinition,
};

/// What kind of named type a name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeKind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

impl TypeEntry {
    /// Whether a value of this leaf type can be returned as `value` (always, for other types).
    pub(crate) fn accepts(&self, value: &serde_json::Value) -> bool {
        match self.leaf {
            Leaf::Any => true,
            Leaf::Int => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            Leaf::Float => value.is_number(),
            Leaf::String => value.is_string(),
            Leaf::Boolean => value.is_boolean(),
            Leaf::Id => value.is_string() || value.is_i64() || value.is_u64(),
            Leaf::Enum => value.as_str().is_some_and(|v| self.enum_values.contains(v)),
        }
    }
}

impl TypeKind {
    pub(crate) fn is_composite(self) -> bool {
        matches!(
            self,
            TypeKind::Object | TypeKind::Interface | TypeKind::Union
        )
    }
}

/// Which output values a leaf type accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leaf {
    /// Not a leaf, or a custom scalar (opaque to the router).
    Any,
    Int,
    Float,
    String,
    Boolean,
    Id,
    Enum,
}

/// The built-in scalars, present in every schema whether or not the document defines them.
const BUILTIN_SCALARS: [(&str, Leaf); 5] = [
    ("Int", Leaf::Int),
    ("Float", Leaf::Float),
    ("String", Leaf::String),
    ("Boolean", Leaf::Boolean),
    ("ID", Leaf::Id),
];

/// One named type of the public schema.
pub(crate) struct TypeEntry {
    pub(crate) kind: TypeKind,
    /// Output values accepted (leaf types).
    pub(crate) leaf: Leaf,
    /// Position of the definition in [`SchemaIndex::document`].
    pub(crate) definition: usize,
    /// Output fields by name (objects and interfaces), as positions in the definition's list.
    fields: HashMap<String, usize>,
    /// Concrete object types that can appear where this type is expected.
    pub(crate) possible_types: HashSet<String>,
    /// The values of an enum type.
    pub(crate) enum_values: HashSet<String>,
}

/// The public schema and fast lookups over it.
pub(crate) struct SchemaIndex {
    pub(crate) document: Arc<Document>,
    types: HashMap<String, TypeEntry>,
    pub(crate) query_type: String,
    pub(crate) mutation_type: Option<String>,
    pub(crate) subscription_type: Option<String>,
    /// The top-level fields of every `@key` of each entity type, in any subgraph.
    key_fields: HashMap<String, HashSet<String>>,
}

impl SchemaIndex {
    pub(crate) fn new(document: Arc<Document>) -> Self {
        let mut types: HashMap<String, TypeEntry> = HashMap::new();
        let mut implementations: Vec<(String, String)> = Vec::new();
        for (position, definition) in document.definitions.iter().enumerate() {
            let Definition::TypeDefinition(type_definition) = definition else {
                continue;
            };
            let (name, kind, fields) = match type_definition {
                TypeDefinition::Scalar(t) => (&t.name, TypeKind::Scalar, None),
                TypeDefinition::Object(t) => {
                    for interface in &t.implements_interfaces {
                        implementations.push((interface.clone(), t.name.clone()));
                    }
                    (&t.name, TypeKind::Object, Some(&t.fields))
                }
                TypeDefinition::Interface(t) => (&t.name, TypeKind::Interface, Some(&t.fields)),
                TypeDefinition::Union(t) => (&t.name, TypeKind::Union, None),
                TypeDefinition::Enum(t) => (&t.name, TypeKind::Enum, None),
                TypeDefinition::InputObject(t) => (&t.name, TypeKind::InputObject, None),
            };
            let fields = fields
                .map(|fields| {
                    fields
                        .iter()
                        .enumerate()
                        .map(|(i, f)| (f.name.clone(), i))
                        .collect()
                })
                .unwrap_or_default();
            let mut possible_types = HashSet::new();
            let mut enum_values = HashSet::new();
            match type_definition {
                TypeDefinition::Enum(t) => {
                    enum_values.extend(t.values.iter().map(|v| v.name.clone()));
                }
                TypeDefinition::Object(t) => {
                    possible_types.insert(t.name.clone());
                }
                TypeDefinition::Union(t) => possible_types.extend(t.types.iter().cloned()),
                _ => {}
            }
            let leaf = match kind {
                TypeKind::Enum => Leaf::Enum,
                TypeKind::Scalar => BUILTIN_SCALARS
                    .iter()
                    .find(|(builtin, _)| builtin == name)
                    .map_or(Leaf::Any, |(_, leaf)| *leaf),
                _ => Leaf::Any,
            };
            types.insert(
                name.clone(),
                TypeEntry {
                    kind,
                    leaf,
                    definition: position,
                    fields,
                    possible_types,
                    enum_values,
                },
            );
        }
        for (name, leaf) in BUILTIN_SCALARS {
            // Not in the document: no definition (introspection lists documented types only).
            types.entry(name.to_owned()).or_insert_with(|| TypeEntry {
                kind: TypeKind::Scalar,
                leaf,
                definition: usize::MAX,
                fields: HashMap::new(),
                possible_types: HashSet::new(),
                enum_values: HashSet::new(),
            });
        }
        for (interface, object) in implementations {
            if let Some(entry) = types.get_mut(&interface) {
                entry.possible_types.insert(object);
            }
        }

        let query_type = document
            .query_type_name()
            .cloned()
            .unwrap_or_else(|| "Query".to_owned());
        let mutation_type = document
            .mutation_type_name()
            .filter(|name| types.contains_key(*name))
            .cloned();
        let subscription_type = document
            .subscription_type_name()
            .filter(|name| types.contains_key(*name))
            .cloned();
        Self {
            document,
            types,
            query_type,
            mutation_type,
            subscription_type,
            key_fields: HashMap::new(),
        }
    }

    /// Records the `@key` field sets of the supergraph, by type.
    pub(crate) fn with_keys<'k>(
        mut self,
        keys: impl IntoIterator<Item = (&'k str, &'k str)>,
    ) -> Self {
        for (type_name, field_set) in keys {
            self.key_fields
                .entry(type_name.to_owned())
                .or_default()
                .extend(top_level_fields(field_set));
        }
        self
    }

    /// The top-level key fields of `type_name`, if it is an entity.
    pub(crate) fn key_fields(&self, type_name: &str) -> Option<&HashSet<String>> {
        self.key_fields.get(type_name)
    }

    pub(crate) fn entry(&self, name: &str) -> Option<&TypeEntry> {
        self.types.get(name)
    }

    pub(crate) fn kind(&self, name: &str) -> Option<TypeKind> {
        self.types.get(name).map(|e| e.kind)
    }

    pub(crate) fn definition(&self, name: &str) -> Option<&TypeDefinition> {
        let entry = self.types.get(name)?;
        match self.document.definitions.get(entry.definition) {
            Some(Definition::TypeDefinition(definition)) => Some(definition),
            _ => None,
        }
    }

    /// The output field `field` of the object or interface `type_name`.
    pub(crate) fn field(&self, type_name: &str, field: &str) -> Option<&Field> {
        let entry = self.types.get(type_name)?;
        let index = *entry.fields.get(field)?;
        match self.document.definitions.get(entry.definition)? {
            Definition::TypeDefinition(TypeDefinition::Object(t)) => t.fields.get(index),
            Definition::TypeDefinition(TypeDefinition::Interface(t)) => t.fields.get(index),
            _ => None,
        }
    }

    /// Whether an object of type `object_type` satisfies the type condition `condition`.
    pub(crate) fn type_applies(&self, condition: &str, object_type: &str) -> bool {
        condition == object_type
            || self
                .types
                .get(condition)
                .is_some_and(|e| e.possible_types.contains(object_type))
    }

    /// The fields of an input object type.
    pub(crate) fn input_fields(&self, name: &str) -> Option<&[InputValue]> {
        match self.definition(name)? {
            TypeDefinition::InputObject(t) => Some(&t.fields),
            _ => None,
        }
    }

    /// Whether `value` names a value of the enum `name`.
    pub(crate) fn enum_has_value(&self, name: &str, value: &str) -> bool {
        self.types
            .get(name)
            .is_some_and(|e| e.kind == TypeKind::Enum && e.enum_values.contains(value))
    }

    /// Whether `name` is an interface or a union.
    pub(crate) fn is_abstract(&self, name: &str) -> bool {
        self.types
            .get(name)
            .is_some_and(|e| matches!(e.kind, TypeKind::Interface | TypeKind::Union))
    }

    /// The types the document defines.
    pub(crate) fn types(&self) -> impl Iterator<Item = (&String, &TypeEntry)> {
        self.types
            .iter()
            .filter(|(_, entry)| entry.definition != usize::MAX)
    }
}

/// The names of the top-level fields of a field set such as `id owner { id } sku`.
fn top_level_fields(field_set: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    let flush = |current: &mut String, depth: usize, names: &mut Vec<String>| {
        if depth == 0 && !current.is_empty() {
            names.push(std::mem::take(current));
        }
        current.clear();
    };
    for c in field_set.chars() {
        match c {
            '{' | '(' => {
                flush(&mut current, depth, &mut names);
                depth += 1;
            }
            '}' | ')' => {
                flush(&mut current, depth, &mut names);
                depth = depth.saturating_sub(1);
            }
            c if c.is_alphanumeric() || c == '_' => current.push(c),
            _ => flush(&mut current, depth, &mut names),
        }
    }
    flush(&mut current, depth, &mut names);
    names
}

#[cfg(test)]
mod tests {
    use super::top_level_fields;

    #[test]
    fn top_level_fields_skip_nested_selections_and_arguments() {
        assert_eq!(
            top_level_fields("id owner { id name } sku(region: EU) upc"),
            ["id", "owner", "sku", "upc"]
        );
    }
}
