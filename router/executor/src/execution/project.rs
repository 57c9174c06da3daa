//! Response shaping: writes `data` exactly as the client's operation asks for it — field order of
//! the operation, aliases, fragments resolved against each object's runtime type, `@skip` and
//! `@include` — straight into JSON text, and applies GraphQL's null propagation: a null in a
//! non-null position nulls the nearest nullable ancestor (the already-written bytes of that
//! ancestor are cut off and replaced by `null`).

use std::collections::HashMap;
use std::rc::Rc;

use graphql_tools::static_graphql::query::{
    Directive, Document, Field, FragmentDefinition, Selection, SelectionSet, Value as AstValue,
};
use graphql_tools::static_graphql::schema::Type;
use serde_json::{Map, Value};

use crate::error::{GraphQLError, PathSegment, codes};
use crate::schema::{SchemaIndex, TypeEntry, TypeKind};

/// A non-null position received null: the enclosing nullable position must become null.
struct NullBubble;

/// Fields of one selection grouped by response key, in order of first appearance.
pub(crate) type GroupedFields<'d> = Vec<(&'d str, Vec<&'d Field>)>;

/// The fragments of a document by name.
pub(crate) fn fragments_of(document: &Document) -> HashMap<&str, &FragmentDefinition> {
    document
        .definitions
        .iter()
        .filter_map(|d| match d {
            graphql_tools::static_graphql::query::Definition::Fragment(f) => {
                Some((f.name.as_str(), f))
            }
            _ => None,
        })
        .collect()
}

/// Whether `@skip`/`@include` keep a selection.
pub(crate) fn is_included(directives: &[Directive], variables: &Map<String, Value>) -> bool {
    for directive in directives {
        let wanted = match directive.name.as_str() {
            "skip" => false,
            "include" => true,
            _ => continue,
        };
        let condition = directive
            .arguments
            .iter()
            .find(|(name, _)| name == "if")
            .map(|(_, value)| match value {
                AstValue::Boolean(b) => *b,
                AstValue::Variable(name) => variables
                    .get(name.as_str())
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                _ => false,
            })
            .unwrap_or(false);
        if condition != wanted {
            return false;
        }
    }
    true
}

/// GraphQL's CollectFields for an object of type `object_type`.
pub(crate) fn collect_fields<'d>(
    schema: &SchemaIndex,
    fragments: &HashMap<&str, &'d FragmentDefinition>,
    variables: &Map<String, Value>,
    object_type: &str,
    selection_sets: &[&'d SelectionSet],
) -> GroupedFields<'d> {
    let mut grouped: GroupedFields<'d> = Vec::new();
    let mut visited: Vec<&'d str> = Vec::new();
    for selection_set in selection_sets {
        collect_into(
            schema,
            fragments,
            variables,
            object_type,
            selection_set,
            &mut grouped,
            &mut visited,
        );
    }
    grouped
}

fn collect_into<'d>(
    schema: &SchemaIndex,
    fragments: &HashMap<&str, &'d FragmentDefinition>,
    variables: &Map<String, Value>,
    object_type: &str,
    selection_set: &'d SelectionSet,
    grouped: &mut GroupedFields<'d>,
    visited: &mut Vec<&'d str>,
) {
    for item in &selection_set.items {
        match item {
            Selection::Field(field) => {
                if !is_included(&field.directives, variables) {
                    continue;
                }
                let key = field.alias.as_deref().unwrap_or(&field.name);
                match grouped.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, fields)) => fields.push(field),
                    None => grouped.push((key, vec![field])),
                }
            }
            Selection::InlineFragment(fragment) => {
                if !is_included(&fragment.directives, variables) {
                    continue;
                }
                let applies = match &fragment.type_condition {
                    Some(graphql_tools::static_graphql::query::TypeCondition::On(condition)) => {
                        schema.type_applies(condition, object_type)
                    }
                    None => true,
                };
                if applies {
                    collect_into(
                        schema,
                        fragments,
                        variables,
                        object_type,
                        &fragment.selection_set,
                        grouped,
                        visited,
                    );
                }
            }
            Selection::FragmentSpread(spread) => {
                if !is_included(&spread.directives, variables)
                    || visited.contains(&spread.fragment_name.as_str())
                {
                    continue;
                }
                visited.push(&spread.fragment_name);
                let Some(fragment) = fragments.get(spread.fragment_name.as_str()) else {
                    continue;
                };
                let graphql_tools::static_graphql::query::TypeCondition::On(condition) =
                    &fragment.type_condition;
                if schema.type_applies(condition, object_type) {
                    collect_into(
                        schema,
                        fragments,
                        variables,
                        object_type,
                        &fragment.selection_set,
                        grouped,
                        visited,
                    );
                }
            }
        }
    }
}

/// One step of the response path being written. Borrowed from the operation (or a list index),
/// so walking the response allocates nothing; it becomes a [`PathSegment`] only when an error
/// needs the path.
#[derive(Debug, Clone, Copy)]
enum Step<'d> {
    Key(&'d str),
    Index(usize),
}

impl Step<'_> {
    fn owned(self) -> PathSegment {
        match self {
            Step::Key(key) => PathSegment::Key(key.to_owned()),
            Step::Index(index) => PathSegment::Index(index),
        }
    }

    fn is(self, segment: &PathSegment) -> bool {
        match (self, segment) {
            (Step::Key(a), PathSegment::Key(b)) => a == b,
            (Step::Index(a), PathSegment::Index(b)) => a == *b,
            _ => false,
        }
    }
}

/// How one response key of an object is written (see [`Shape`]).
enum ShapedValue<'a, 'd> {
    /// `__typename`: the object's runtime type.
    Typename,
    /// A field the schema does not know (a stale schema): `null`.
    Unknown,
    /// A schema field: its type, the named type at the bottom of it (looked up once), and
    /// the merged selection sets of every field under this response key.
    Field {
        ty: &'a Type,
        named: Option<&'a TypeEntry>,
        sub_selections: Vec<&'d SelectionSet>,
    },
}

struct ShapedField<'a, 'd> {
    key: &'d str,
    /// The key as JSON text followed by `:`, written as it is.
    key_json: Vec<u8>,
    /// The field's name (for error messages).
    name: &'d str,
    value: ShapedValue<'a, 'd>,
}

/// The fields of one selection for one runtime type, in response order, with the schema
/// lookups done.
///
/// What it buys: CollectFields, the schema lookups, and escaping the keys used to run for every
/// object of the response (the deep benchmark query writes thousands of objects from a few
/// dozen distinct selections); now they run once per (runtime type, selection) and response.
/// Instructions per deep query: see the README's Performance section.
type Shape<'a, 'd> = Rc<[ShapedField<'a, 'd>]>;

/// Identifies a [`Shape`]: the runtime type's name and the selection-set list, both by
/// address. Every list a shape is looked up with lives as long as the projection (the root's
/// list in [`Projector::project`], the others inside cached shapes), so an address is never
/// reused for a different list while the cache exists.
type ShapeKey = (usize, usize, usize, usize);

/// Writes the response `data` for the operation's root selection.
pub(crate) struct Projector<'a, 'd> {
    schema: &'a SchemaIndex,
    fragments: HashMap<&'d str, &'d FragmentDefinition>,
    variables: &'a Map<String, Value>,
    /// Paths already explained by an error (subgraph errors, failed fetches).
    explained: &'a [Vec<PathSegment>],
    out: Vec<u8>,
    path: Vec<Step<'d>>,
    errors: Vec<GraphQLError>,
    shapes: HashMap<ShapeKey, Shape<'a, 'd>>,
}

impl<'a, 'd> Projector<'a, 'd> {
    pub(crate) fn new(
        schema: &'a SchemaIndex,
        document: &'d Document,
        variables: &'a Map<String, Value>,
        explained: &'a [Vec<PathSegment>],
    ) -> Self {
        Self {
            schema,
            fragments: fragments_of(document),
            variables,
            explained,
            out: Vec::with_capacity(1024),
            path: Vec::with_capacity(16),
            errors: Vec::new(),
            shapes: HashMap::new(),
        }
    }

    /// Shapes `data` (the merged subgraph results) into JSON text; returns the text and the
    /// errors for non-null violations that no earlier error explains.
    pub(crate) fn project(
        mut self,
        data: &Value,
        root_type: &'a str,
        selection_set: &'d SelectionSet,
    ) -> (String, Vec<GraphQLError>) {
        let empty = Map::new();
        let root = match data {
            Value::Object(object) => object,
            _ => &empty,
        };
        let root_selections = [selection_set];
        if self.object(root, root_type, &root_selections).is_err() {
            self.out.clear();
            self.out.extend_from_slice(b"null");
        }
        // Only JSON text produced by serde_json and literal punctuation was written.
        let text = String::from_utf8(self.out).unwrap_or_else(|_| "null".to_owned());
        (text, self.errors)
    }

    /// The shape of `selection_sets` on `type_name`, built on first use.
    fn shape(&mut self, type_name: &'a str, selection_sets: &[&'d SelectionSet]) -> Shape<'a, 'd> {
        let key = (
            type_name.as_ptr() as usize,
            type_name.len(),
            selection_sets.as_ptr() as usize,
            selection_sets.len(),
        );
        if let Some(shape) = self.shapes.get(&key) {
            return shape.clone();
        }
        let grouped = collect_fields(
            self.schema,
            &self.fragments,
            self.variables,
            type_name,
            selection_sets,
        );
        let shape: Shape<'a, 'd> = grouped
            .into_iter()
            .map(|(key, fields)| {
                let field = fields[0];
                let mut key_json = Vec::with_capacity(key.len() + 3);
                write_string(&mut key_json, key);
                key_json.push(b':');
                let value = if field.name == "__typename" {
                    ShapedValue::Typename
                } else {
                    match self.schema.field(type_name, &field.name) {
                        // Validation guarantees the field exists; a stale schema must not panic.
                        None => ShapedValue::Unknown,
                        Some(definition) => ShapedValue::Field {
                            ty: &definition.field_type,
                            named: self.schema.entry(named_type(&definition.field_type)),
                            sub_selections: fields.iter().map(|f| &f.selection_set).collect(),
                        },
                    }
                };
                ShapedField {
                    key,
                    key_json,
                    name: &field.name,
                    value,
                }
            })
            .collect();
        self.shapes.insert(key, shape.clone());
        shape
    }

    fn object(
        &mut self,
        object: &Map<String, Value>,
        type_name: &'a str,
        selection_sets: &[&'d SelectionSet],
    ) -> Result<(), NullBubble> {
        let shape = self.shape(type_name, selection_sets);
        self.out.push(b'{');
        for (index, field) in shape.iter().enumerate() {
            if index > 0 {
                self.out.push(b',');
            }
            self.out.extend_from_slice(&field.key_json);
            match &field.value {
                ShapedValue::Typename => write_string(&mut self.out, type_name),
                ShapedValue::Unknown => self.out.extend_from_slice(b"null"),
                ShapedValue::Field {
                    ty,
                    named,
                    sub_selections,
                } => {
                    let value = object.get(field.key).unwrap_or(&Value::Null);
                    self.path.push(Step::Key(field.key));
                    let result =
                        self.complete(value, ty, *named, sub_selections, type_name, field.name);
                    self.path.pop();
                    result?;
                }
            }
        }
        self.out.push(b'}');
        Ok(())
    }

    /// Writes one value of type `ty`; `Ok(true)` when it wrote `null`.
    fn complete(
        &mut self,
        value: &Value,
        ty: &'a Type,
        named: Option<&'a TypeEntry>,
        selection_sets: &[&'d SelectionSet],
        parent_type: &str,
        field_name: &str,
    ) -> Result<bool, NullBubble> {
        match ty {
            Type::NonNullType(inner) => {
                let start = self.out.len();
                let wrote_null = self
                    .complete(value, inner, named, selection_sets, parent_type, field_name)
                    .unwrap_or(true);
                if wrote_null {
                    self.out.truncate(start);
                    if value.is_null() {
                        self.report_null(parent_type, field_name);
                    }
                    return Err(NullBubble);
                }
                Ok(false)
            }
            _ if value.is_null() => {
                self.out.extend_from_slice(b"null");
                Ok(true)
            }
            Type::ListType(inner) => {
                let Value::Array(items) = value else {
                    self.out.extend_from_slice(b"null");
                    return Ok(true);
                };
                let start = self.out.len();
                self.out.push(b'[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        self.out.push(b',');
                    }
                    self.path.push(Step::Index(index));
                    let result =
                        self.complete(item, inner, named, selection_sets, parent_type, field_name);
                    self.path.pop();
                    if result.is_err() {
                        self.out.truncate(start);
                        self.out.extend_from_slice(b"null");
                        return Ok(true);
                    }
                }
                self.out.push(b']');
                Ok(false)
            }
            Type::NamedType(name) => match named {
                Some(entry) if entry.kind.is_composite() => {
                    let Value::Object(object) = value else {
                        self.out.extend_from_slice(b"null");
                        return Ok(true);
                    };
                    let runtime_type = if entry.kind == TypeKind::Object {
                        name.as_str()
                    } else {
                        let typename = object.get("__typename").and_then(Value::as_str);
                        match typename.map(|t| (t, entry.possible_types.get(t))) {
                            Some((_, Some(t))) => t.as_str(),
                            // Without a concrete type (no `__typename` fetched, or an
                            // `@interfaceObject` subgraph's interface name), the value is
                            // completed as the abstract type itself: its own fields and
                            // fragments on it still apply.
                            None => name.as_str(),
                            Some((t, None)) if t == name || self.schema.is_abstract(t) => {
                                name.as_str()
                            }
                            Some(_) => {
                                self.out.extend_from_slice(b"null");
                                return Ok(true);
                            }
                        }
                    };
                    let start = self.out.len();
                    if self.object(object, runtime_type, selection_sets).is_err() {
                        self.out.truncate(start);
                        self.out.extend_from_slice(b"null");
                        return Ok(true);
                    }
                    Ok(false)
                }
                entry => {
                    if !entry.is_none_or(|entry| entry.accepts(value)) {
                        self.report_invalid_leaf(name);
                        self.out.extend_from_slice(b"null");
                        return Ok(true);
                    }
                    let _ = serde_json::to_writer(&mut self.out, value);
                    Ok(false)
                }
            },
        }
    }

    fn report_invalid_leaf(&mut self, type_name: &str) {
        self.errors.push(
            GraphQLError::with_code(
                format!("The subgraph returned a value that is not a valid {type_name}."),
                codes::INVALID_LEAF_VALUE,
            )
            .at(self.owned_path()),
        );
    }

    fn owned_path(&self) -> Vec<PathSegment> {
        self.path.iter().map(|step| step.owned()).collect()
    }

    fn report_null(&mut self, parent_type: &str, field_name: &str) {
        let explained = self.explained.iter().any(|known| {
            known
                .iter()
                .zip(&self.path)
                .all(|(segment, step)| step.is(segment))
        });
        if explained {
            return;
        }
        self.errors.push(
            GraphQLError::with_code(
                format!("Cannot return null for non-nullable field {parent_type}.{field_name}."),
                codes::NULL_VALUE_IN_NON_NULL_FIELD,
            )
            .at(self.owned_path()),
        );
    }
}

/// The named type at the bottom of list and non-null wrappers.
fn named_type(ty: &Type) -> &str {
    match ty {
        Type::NamedType(name) => name,
        Type::ListType(inner) | Type::NonNullType(inner) => named_type(inner),
    }
}

fn write_string(out: &mut Vec<u8>, text: &str) {
    let _ = serde_json::to_writer(out, text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn schema() -> SchemaIndex {
        let sdl = r#"
            type Query { me: User, users: [User!]!, node: Node }
            interface Node { id: ID! }
            type User implements Node { id: ID!, name: String!, nick: String }
            type Post implements Node { id: ID!, title: String }
        "#;
        let document = graphql_tools::parser::parse_schema::<String>(sdl)
            .expect("schema parses")
            .into_static();
        SchemaIndex::new(Arc::new(document))
    }

    fn project(query: &str, data: Value, variables: Value) -> (String, Vec<GraphQLError>) {
        let schema = schema();
        let document = graphql_tools::parser::parse_query::<String>(query)
            .expect("query parses")
            .into_static();
        let selection_set = document
            .definitions
            .iter()
            .find_map(|d| match d {
                graphql_tools::static_graphql::query::Definition::Operation(op) => {
                    Some(crate::prepare::operation_parts(op).1)
                }
                _ => None,
            })
            .expect("operation");
        let variables = variables.as_object().cloned().unwrap_or_default();
        Projector::new(&schema, &document, &variables, &[]).project(&data, "Query", selection_set)
    }

    #[test]
    fn writes_fields_in_operation_order_with_aliases() {
        let (text, errors) = project(
            "{ me { who: name id } }",
            serde_json::json!({"me": {"id": "1", "who": "Ada", "extra": true}}),
            Value::Null,
        );
        assert_eq!(text, r#"{"me":{"who":"Ada","id":"1"}}"#);
        assert!(errors.is_empty());
    }

    #[test]
    fn null_in_non_null_field_nulls_the_nullable_parent() {
        let (text, errors) = project(
            "{ me { id name } }",
            serde_json::json!({"me": {"id": "1", "name": null}}),
            Value::Null,
        );
        assert_eq!(text, r#"{"me":null}"#);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].message,
            "Cannot return null for non-nullable field User.name."
        );
        assert_eq!(
            errors[0].path,
            Some(vec![
                PathSegment::Key("me".into()),
                PathSegment::Key("name".into())
            ])
        );
    }

    #[test]
    fn null_bubbles_through_non_null_lists_to_data() {
        let (text, _) = project(
            "{ users { name } }",
            serde_json::json!({"users": [{"name": "a"}, {"name": null}]}),
            Value::Null,
        );
        assert_eq!(text, "null");
    }

    #[test]
    fn fragments_on_abstract_types_use_the_runtime_type() {
        let (text, _) = project(
            "query($withNick: Boolean!) { node { __typename ... on User { name nick @include(if: $withNick) } ...P } }
             fragment P on Post { title }",
            serde_json::json!({"node": {"__typename": "Post", "title": "Hi"}}),
            serde_json::json!({"withNick": false}),
        );
        assert_eq!(text, r#"{"node":{"__typename":"Post","title":"Hi"}}"#);
    }

    #[test]
    fn an_abstract_value_without_a_concrete_typename_keeps_its_interface_fields() {
        let (text, errors) = project(
            "{ node { id ... on User { name } } }",
            serde_json::json!({"node": {"id": "7", "name": "hidden"}}),
            Value::Null,
        );
        assert_eq!(text, r#"{"node":{"id":"7"}}"#);
        assert!(errors.is_empty());
        let (text, _) = project(
            "{ node { id } }",
            serde_json::json!({"node": {"__typename": "Node", "id": "7"}}),
            Value::Null,
        );
        assert_eq!(text, r#"{"node":{"id":"7"}}"#);
    }

    #[test]
    fn an_invalid_leaf_is_null_with_an_error_and_propagates_from_non_null() {
        let (text, errors) = project(
            "{ me { nick } }",
            serde_json::json!({"me": {"nick": 5}}),
            Value::Null,
        );
        assert_eq!(text, r#"{"me":{"nick":null}}"#);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].extensions.get("code"),
            Some(&Value::String(codes::INVALID_LEAF_VALUE.to_owned()))
        );
        let (text, errors) = project(
            "{ me { id name } }",
            serde_json::json!({"me": {"id": "1", "name": ["not", "a", "string"]}}),
            Value::Null,
        );
        assert_eq!(text, r#"{"me":null}"#);
        assert_eq!(errors.len(), 1, "one error, at the leaf");
        assert_eq!(
            errors[0].path,
            Some(vec![
                PathSegment::Key("me".into()),
                PathSegment::Key("name".into())
            ])
        );
    }

    #[test]
    fn skip_and_include_follow_variables() {
        let (text, _) = project(
            "query($s: Boolean!) { me { id @skip(if: $s) nick @include(if: true) } }",
            serde_json::json!({"me": {"id": "1", "nick": "n"}}),
            serde_json::json!({"s": true}),
        );
        assert_eq!(text, r#"{"me":{"nick":"n"}}"#);
    }
}
