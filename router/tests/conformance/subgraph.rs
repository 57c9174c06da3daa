//! A generic federation subgraph: it serves one SDL file over the JSON data of its
//! `<name>.data.json` (see the README of this folder), on a free loopback port.
//!
//! It is a small GraphQL executor of its own, independent of the router's: it parses the
//! operation with `graphql-parser`, collects fields (fragments, inline fragments, aliases,
//! `@skip`/`@include`), answers `__typename`, `_service { sdl }` and
//! `_entities(representations:)`, and completes values with the types of its SDL, including
//! null propagation for non-null positions. Every request it receives is recorded.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::{Json, Router, extract::State, routing::post};
use graphql_parser::query::{
    Definition as QueryDefinition, Document as QueryDocument, Field, FragmentDefinition,
    OperationDefinition, Selection, SelectionSet, TypeCondition, Value as AstValue,
};
use graphql_parser::schema::{Definition, Directive, Type, TypeDefinition, TypeExtension};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

type StaticSelectionSet = SelectionSet<'static, String>;
type StaticType = Type<'static, String>;

/// A running subgraph.
pub struct Subgraph {
    pub name: String,
    pub url: String,
    state: Arc<ServerState>,
    shutdown: CancellationToken,
}

impl Drop for Subgraph {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Subgraph {
    /// Starts a subgraph serving `sdl` over `data`.
    pub async fn start(name: &str, sdl: &str, data: Value) -> Result<Self, String> {
        let schema = SubgraphSchema::parse(sdl)?;
        let state = Arc::new(ServerState {
            sdl: sdl.to_owned(),
            schema,
            data,
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/graphql", post(handle))
            .with_state(state.clone());
        let (addr, shutdown) = platform::testing::serve_on_loopback(app).await;
        Ok(Self {
            name: name.to_owned(),
            url: format!("http://{addr}/graphql"),
            state,
            shutdown,
        })
    }

    /// The bodies of every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<Value> {
        self.state
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.state
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

struct ServerState {
    sdl: String,
    schema: SubgraphSchema,
    data: Value,
    requests: Mutex<Vec<Value>>,
}

async fn handle(State(state): State<Arc<ServerState>>, Json(body): Json<Value>) -> Json<Value> {
    state
        .requests
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(body.clone());
    Json(execute_request(&state, &body))
}

fn request_error(message: impl Into<String>) -> Value {
    json!({ "errors": [{ "message": message.into() }] })
}

fn execute_request(state: &ServerState, body: &Value) -> Value {
    let Some(query) = body.get("query").and_then(Value::as_str) else {
        return request_error("the request has no query");
    };
    let document: QueryDocument<'static, String> = match graphql_parser::parse_query(query) {
        Ok(document) => document.into_static(),
        Err(e) => return request_error(format!("cannot parse the operation: {e}")),
    };
    let operation_name = body.get("operationName").and_then(Value::as_str);
    let mut fragments = HashMap::new();
    let mut operations = Vec::new();
    for definition in &document.definitions {
        match definition {
            QueryDefinition::Fragment(fragment) => {
                fragments.insert(fragment.name.clone(), fragment);
            }
            QueryDefinition::Operation(operation) => operations.push(operation),
        }
    }
    let operation = match operation_name {
        Some(wanted) => operations
            .iter()
            .find(|op| operation_name_of(op) == Some(wanted)),
        None if operations.len() == 1 => operations.first(),
        None => None,
    };
    let Some(operation) = operation else {
        return request_error("no operation to run");
    };
    let (root_type, data_key, definitions, selection_set) = match operation {
        OperationDefinition::SelectionSet(s) => ("Query", "query", &[][..], s),
        OperationDefinition::Query(q) => (
            "Query",
            "query",
            &q.variable_definitions[..],
            &q.selection_set,
        ),
        OperationDefinition::Mutation(m) => (
            "Mutation",
            "mutation",
            &m.variable_definitions[..],
            &m.selection_set,
        ),
        OperationDefinition::Subscription(_) => {
            return request_error("subscriptions are not served");
        }
    };
    let mut variables = body
        .get("variables")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for definition in definitions {
        if !variables.contains_key(&definition.name)
            && let Some(default) = &definition.default_value
        {
            let value = ast_to_json(default, &Map::new()).unwrap_or(Value::Null);
            variables.insert(definition.name.clone(), value);
        }
    }
    let root_type = state.schema.root_name(root_type);
    let root_data = state.data.get(data_key).cloned().unwrap_or(json!({}));
    let mut execution = Execution {
        state,
        conflict: std::cell::Cell::new(None),
        fragments,
        variables,
        errors: Vec::new(),
        path: Vec::new(),
    };
    let data = match execution.object(&root_data, &root_type, &[selection_set], None) {
        Ok(value) => value,
        Err(Propagate) => Value::Null,
    };
    if let Some(key) = execution.conflict.take() {
        return request_error(format!(
            "fields under the response key `{key}` conflict: different fields or arguments"
        ));
    }
    let mut response = Map::new();
    response.insert("data".to_owned(), data);
    if !execution.errors.is_empty() {
        response.insert("errors".to_owned(), Value::Array(execution.errors));
    }
    Value::Object(response)
}

fn operation_name_of<'a>(operation: &'a OperationDefinition<'static, String>) -> Option<&'a str> {
    match operation {
        OperationDefinition::SelectionSet(_) => None,
        OperationDefinition::Query(q) => q.name.as_deref(),
        OperationDefinition::Mutation(m) => m.name.as_deref(),
        OperationDefinition::Subscription(s) => s.name.as_deref(),
    }
}

/// A non-null position received null: the nearest nullable position becomes null.
struct Propagate;

struct Execution<'s> {
    state: &'s ServerState,
    /// A response key selected twice with different fields or arguments.
    conflict: std::cell::Cell<Option<String>>,
    fragments: HashMap<String, &'s FragmentDefinition<'static, String>>,
    variables: Map<String, Value>,
    errors: Vec<Value>,
    path: Vec<Value>,
}

impl<'s> Execution<'s> {
    fn schema(&self) -> &'s SubgraphSchema {
        &self.state.schema
    }

    fn error(&mut self, message: &str, code: Option<&Value>) {
        let mut error = Map::new();
        error.insert("message".to_owned(), Value::String(message.to_owned()));
        error.insert("path".to_owned(), Value::Array(self.path.clone()));
        if let Some(code) = code {
            error.insert("extensions".to_owned(), json!({ "code": code }));
        }
        self.errors.push(Value::Object(error));
    }

    /// Completes `source` as an object of `runtime_type` for the merged `selection_sets`.
    /// `representation` is the `_entities` representation the object was resolved from.
    fn object(
        &mut self,
        source: &Value,
        runtime_type: &str,
        selection_sets: &[&'s StaticSelectionSet],
        representation: Option<&Value>,
    ) -> Result<Value, Propagate> {
        let mut grouped: Vec<(&'s str, Vec<&'s Field<'static, String>>)> = Vec::new();
        let mut visited = HashSet::new();
        for selection_set in selection_sets {
            self.collect(runtime_type, selection_set, &mut grouped, &mut visited);
        }
        let mut out = Map::new();
        for (key, fields) in grouped {
            self.path.push(Value::String(key.to_owned()));
            let value = self.field(source, runtime_type, &fields, representation);
            self.path.pop();
            out.insert(key.to_owned(), value?);
        }
        Ok(Value::Object(out))
    }

    fn collect(
        &self,
        runtime_type: &str,
        selection_set: &'s StaticSelectionSet,
        grouped: &mut Vec<(&'s str, Vec<&'s Field<'static, String>>)>,
        visited: &mut HashSet<&'s str>,
    ) {
        for item in &selection_set.items {
            match item {
                Selection::Field(field) => {
                    if !self.included(&field.directives) {
                        continue;
                    }
                    let key = field.alias.as_deref().unwrap_or(&field.name);
                    match grouped.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, fields)) => {
                            if !same_field(fields[0], field) {
                                // GraphQL validation (FieldsInSetCanMerge) refuses the document.
                                self.conflict.set(Some(key.to_owned()));
                            }
                            fields.push(field)
                        }
                        None => grouped.push((key, vec![field])),
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let applies = match &fragment.type_condition {
                        Some(TypeCondition::On(condition)) => {
                            self.schema().applies(condition, runtime_type)
                        }
                        None => true,
                    };
                    if applies && self.included(&fragment.directives) {
                        self.collect(runtime_type, &fragment.selection_set, grouped, visited);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if !self.included(&spread.directives)
                        || !visited.insert(spread.fragment_name.as_str())
                    {
                        continue;
                    }
                    let Some(fragment) = self.fragments.get(&spread.fragment_name).copied() else {
                        continue;
                    };
                    let TypeCondition::On(condition) = &fragment.type_condition;
                    if self.schema().applies(condition, runtime_type) {
                        self.collect(runtime_type, &fragment.selection_set, grouped, visited);
                    }
                }
            }
        }
    }

    fn included(&self, directives: &[graphql_parser::query::Directive<'static, String>]) -> bool {
        directives.iter().all(|directive| {
            let wanted = match directive.name.as_str() {
                "skip" => false,
                "include" => true,
                _ => return true,
            };
            let condition = directive
                .arguments
                .iter()
                .find(|(name, _)| name == "if")
                .and_then(|(_, value)| ast_to_json(value, &self.variables))
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            condition == wanted
        })
    }

    /// Resolves and completes one response key of an object.
    fn field(
        &mut self,
        source: &Value,
        parent_type: &str,
        fields: &[&'s Field<'static, String>],
        representation: Option<&Value>,
    ) -> Result<Value, Propagate> {
        let field = fields[0];
        let sub_selections: Vec<&'s StaticSelectionSet> =
            fields.iter().map(|f| &f.selection_set).collect();
        match field.name.as_str() {
            "__typename" => return Ok(Value::String(parent_type.to_owned())),
            "_service" if parent_type == self.schema().query => {
                let mut out = Map::new();
                let mut grouped = Vec::new();
                let mut visited = HashSet::new();
                for selection_set in &sub_selections {
                    self.collect("_Service", selection_set, &mut grouped, &mut visited);
                }
                for (key, fields) in grouped {
                    let value = match fields[0].name.as_str() {
                        "sdl" => Value::String(self.state.sdl.clone()),
                        "__typename" => Value::String("_Service".to_owned()),
                        _ => Value::Null,
                    };
                    out.insert(key.to_owned(), value);
                }
                return Ok(Value::Object(out));
            }
            "_entities" if parent_type == self.schema().query => {
                let arguments = self.arguments(field, None);
                return self.entities(&arguments, &sub_selections);
            }
            _ => {}
        }
        let Some(definition) = self.schema().field(parent_type, &field.name) else {
            self.error(
                &format!("the subgraph has no field {parent_type}.{}", field.name),
                None,
            );
            return Ok(Value::Null);
        };
        let arguments = self.arguments(field, Some(&definition.arguments));
        let raw = match source.get(&field.name) {
            Some(value) => value,
            None => self
                .stored_entity(parent_type, source)
                .and_then(|entity| entity.get(&field.name))
                .unwrap_or(&Value::Null),
        };
        let value = match resolve_cases(raw, &arguments, representation) {
            Some(value) => value,
            None => &Value::Null,
        };
        self.complete_checked(&definition.ty, value, &sub_selections, representation)
    }

    /// Completes a value that may be an `$error` marker.
    fn complete_checked(
        &mut self,
        ty: &StaticType,
        value: &Value,
        selection_sets: &[&'s StaticSelectionSet],
        representation: Option<&Value>,
    ) -> Result<Value, Propagate> {
        if let Some(message) = value.get("$error") {
            let message = message.as_str().unwrap_or("error").to_owned();
            self.error(&message, value.get("code"));
            return match ty {
                Type::NonNullType(_) => Err(Propagate),
                _ => Ok(Value::Null),
            };
        }
        self.complete(ty, value, selection_sets, representation)
    }

    fn complete(
        &mut self,
        ty: &StaticType,
        value: &Value,
        selection_sets: &[&'s StaticSelectionSet],
        representation: Option<&Value>,
    ) -> Result<Value, Propagate> {
        match ty {
            Type::NonNullType(inner) => {
                let completed =
                    self.complete_nullable(inner, value, selection_sets, representation)?;
                if completed.is_null() {
                    self.error("Cannot return null for non-nullable position.", None);
                    return Err(Propagate);
                }
                Ok(completed)
            }
            _ => Ok(self
                .complete_nullable(ty, value, selection_sets, representation)
                .unwrap_or(Value::Null)),
        }
    }

    /// Completes a value in a position of type `ty` (not non-null itself); `Err` when a
    /// non-null position inside it received null.
    fn complete_nullable(
        &mut self,
        ty: &StaticType,
        value: &Value,
        selection_sets: &[&'s StaticSelectionSet],
        representation: Option<&Value>,
    ) -> Result<Value, Propagate> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        match ty {
            Type::NonNullType(_) => self.complete(ty, value, selection_sets, representation),
            Type::ListType(inner) => {
                let Value::Array(items) = value else {
                    self.error("the data has a non-list value for a list field", None);
                    return Ok(Value::Null);
                };
                let mut out = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    self.path.push(Value::from(index));
                    let completed =
                        self.complete_checked(inner, item, selection_sets, representation);
                    self.path.pop();
                    out.push(completed?);
                }
                Ok(Value::Array(out))
            }
            Type::NamedType(name) => {
                let schema = self.schema();
                match schema.kinds.get(name.as_str()) {
                    Some(Kind::Object) => {
                        if !value.is_object() {
                            self.error("the data has a non-object value for an object field", None);
                            return Ok(Value::Null);
                        }
                        self.object(value, name, selection_sets, representation)
                    }
                    Some(Kind::Abstract) => {
                        let runtime = value.get("__typename").and_then(Value::as_str);
                        match runtime {
                            Some(runtime) if schema.applies(name, runtime) => {
                                self.object(value, runtime, selection_sets, representation)
                            }
                            _ => {
                                self.error(
                                    &format!(
                                        "the data has no valid __typename for a value of {name}"
                                    ),
                                    None,
                                );
                                Ok(Value::Null)
                            }
                        }
                    }
                    Some(Kind::Enum(values)) => match value.as_str() {
                        Some(v) if values.contains(v) => Ok(value.clone()),
                        _ => {
                            self.error(&format!("the data has an invalid {name} value"), None);
                            Ok(Value::Null)
                        }
                    },
                    Some(Kind::Scalar) | None => Ok(value.clone()),
                }
            }
        }
    }

    /// `_entities(representations:)`: each representation resolves to the first stored entity
    /// of its type that matches it on one of the type's keys, or `null`. A representation
    /// without a type this subgraph has keys for, or without every field of any of its keys,
    /// fails the whole field, as argument coercion does in a typed subgraph.
    fn entities(
        &mut self,
        arguments: &Map<String, Value>,
        selection_sets: &[&'s StaticSelectionSet],
    ) -> Result<Value, Propagate> {
        let representations = arguments
            .get("representations")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let invalid = representations.iter().position(|representation| {
            let keys = representation
                .get("__typename")
                .and_then(Value::as_str)
                .and_then(|typename| self.schema().keys.get(typename));
            !keys.is_some_and(|keys| keys.iter().any(|key| key_complete(key, representation)))
        });
        if let Some(index) = invalid {
            self.error(
                &format!("representation {index} is not a valid entity representation"),
                None,
            );
            return Err(Propagate);
        }
        let mut out = Vec::with_capacity(representations.len());
        for (index, representation) in representations.iter().enumerate() {
            self.path.push(Value::from(index));
            let resolved = self.entity(representation).map(|(entity, runtime)| {
                self.object(entity, &runtime, selection_sets, Some(representation))
                    .unwrap_or(Value::Null)
            });
            self.path.pop();
            out.push(resolved.unwrap_or(Value::Null));
        }
        Ok(Value::Array(out))
    }

    fn entity(&self, representation: &Value) -> Option<(&'s Value, String)> {
        let typename = representation.get("__typename")?.as_str()?;
        let keys = self.schema().keys.get(typename)?;
        let candidates = self.state.data.get("entities")?.get(typename)?.as_array()?;
        let entity = candidates.iter().find(|candidate| {
            keys.iter()
                .any(|key| key_matches(key, representation, candidate))
        })?;
        let runtime = entity
            .get("__typename")
            .and_then(Value::as_str)
            .unwrap_or(typename)
            .to_owned();
        Some((entity, runtime))
    }

    /// The stored entity an object of entity type `type_name` stands for (matched on one of
    /// the type's keys), so that a reference such as `{"isbn": "a2"}` has the entity's fields,
    /// as a subgraph's resolvers would give them.
    fn stored_entity(&self, type_name: &str, object: &Value) -> Option<&'s Value> {
        let keys = self.schema().keys.get(type_name)?;
        self.state
            .data
            .get("entities")?
            .get(type_name)?
            .as_array()?
            .iter()
            .find(|candidate| keys.iter().any(|key| key_matches(key, object, candidate)))
    }

    /// The field's arguments with variables resolved and the SDL's defaults applied.
    fn arguments(
        &self,
        field: &Field<'static, String>,
        definitions: Option<&[(String, Option<Value>)]>,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        for (name, value) in &field.arguments {
            if let Some(value) = ast_to_json(value, &self.variables) {
                out.insert(name.clone(), value);
            }
        }
        for (name, default) in definitions.into_iter().flatten() {
            if let Some(default) = default
                && !out.contains_key(name)
            {
                out.insert(name.clone(), default.clone());
            }
        }
        out
    }
}

/// Whether two selections under one response key select the same field with the same
/// arguments (their sub-selections are merged).
fn same_field(a: &Field<'static, String>, b: &Field<'static, String>) -> bool {
    let sorted = |f: &Field<'static, String>| {
        let mut arguments: Vec<(String, String)> = f
            .arguments
            .iter()
            .map(|(name, value)| (name.clone(), value.to_string()))
            .collect();
        arguments.sort();
        arguments
    };
    a.name == b.name && sorted(a) == sorted(b)
}

/// Follows `$cases` markers: the first case whose `args` equal the field's arguments and
/// whose `when` is a subset of the representation gives the value; `None` when none does.
fn resolve_cases<'v>(
    value: &'v Value,
    arguments: &Map<String, Value>,
    representation: Option<&Value>,
) -> Option<&'v Value> {
    let Some(cases) = value.get("$cases") else {
        return Some(value);
    };
    let case = cases.as_array()?.iter().find(|case| {
        let args_match = case
            .get("args")
            .and_then(Value::as_object)
            .is_none_or(|args| {
                args.iter().all(|(name, wanted)| {
                    arguments.get(name).is_some_and(|v| json_equal(v, wanted))
                })
            });
        let when_matches = case.get("when").is_none_or(|when| {
            representation.is_some_and(|representation| is_subset(when, representation))
        });
        args_match && when_matches
    })?;
    resolve_cases(
        case.get("value").unwrap_or(&Value::Null),
        arguments,
        representation,
    )
}

/// Equality that treats `1` and `1.0` as the same number.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// Whether every key of `part` is in `whole` with a matching value (objects recursively).
fn is_subset(part: &Value, whole: &Value) -> bool {
    match (part, whole) {
        (Value::Object(part), Value::Object(whole)) => part
            .iter()
            .all(|(k, v)| whole.get(k).is_some_and(|w| is_subset(v, w))),
        (Value::Array(part), Value::Array(whole)) => {
            part.len() == whole.len() && part.iter().zip(whole).all(|(p, w)| is_subset(p, w))
        }
        _ => json_equal(part, whole),
    }
}

/// Whether `entity` has the values of `representation` on every field of the key `key`.
fn key_matches(key: &StaticSelectionSet, representation: &Value, entity: &Value) -> bool {
    key.items.iter().all(|item| match item {
        Selection::Field(field) => {
            let (Some(wanted), Some(stored)) =
                (representation.get(&field.name), entity.get(&field.name))
            else {
                return false;
            };
            if field.selection_set.items.is_empty() {
                json_equal(wanted, stored)
            } else {
                nested_key_matches(&field.selection_set, wanted, stored)
            }
        }
        Selection::InlineFragment(fragment) => {
            key_matches(&fragment.selection_set, representation, entity)
        }
        Selection::FragmentSpread(_) => false,
    })
}

/// Whether `representation` has a non-null value for every field of `key`.
fn key_complete(key: &StaticSelectionSet, representation: &Value) -> bool {
    key.items.iter().all(|item| match item {
        Selection::Field(field) => match representation.get(&field.name) {
            None | Some(Value::Null) => false,
            Some(value) if field.selection_set.items.is_empty() => !value.is_null(),
            Some(Value::Array(items)) => items
                .iter()
                .all(|item| key_complete(&field.selection_set, item)),
            Some(value) => key_complete(&field.selection_set, value),
        },
        Selection::InlineFragment(fragment) => {
            key_complete(&fragment.selection_set, representation)
        }
        Selection::FragmentSpread(_) => false,
    })
}

fn nested_key_matches(key: &StaticSelectionSet, wanted: &Value, stored: &Value) -> bool {
    match (wanted, stored) {
        (Value::Array(w), Value::Array(s)) => {
            w.len() == s.len() && w.iter().zip(s).all(|(w, s)| nested_key_matches(key, w, s))
        }
        (Value::Object(_), Value::Object(_)) => key_matches(key, wanted, stored),
        _ => json_equal(wanted, stored),
    }
}

/// An AST value as JSON; `None` for an unset variable.
fn ast_to_json(value: &AstValue<'static, String>, variables: &Map<String, Value>) -> Option<Value> {
    Some(match value {
        AstValue::Variable(name) => variables.get(name)?.clone(),
        AstValue::Int(n) => Value::from(n.as_i64()?),
        AstValue::Float(f) => Value::from(*f),
        AstValue::String(s) => Value::String(s.clone()),
        AstValue::Boolean(b) => Value::Bool(*b),
        AstValue::Null => Value::Null,
        AstValue::Enum(e) => Value::String(e.clone()),
        AstValue::List(items) => Value::Array(
            items
                .iter()
                .map(|item| ast_to_json(item, variables).unwrap_or(Value::Null))
                .collect(),
        ),
        AstValue::Object(fields) => Value::Object(
            fields
                .iter()
                .filter_map(|(k, v)| ast_to_json(v, variables).map(|v| (k.clone(), v)))
                .collect(),
        ),
    })
}

fn schema_value_to_json(value: &graphql_parser::schema::Value<'static, String>) -> Value {
    use graphql_parser::schema::Value as V;
    match value {
        V::Variable(_) | V::Null => Value::Null,
        V::Int(n) => n.as_i64().map(Value::from).unwrap_or(Value::Null),
        V::Float(f) => Value::from(*f),
        V::String(s) => Value::String(s.clone()),
        V::Boolean(b) => Value::Bool(*b),
        V::Enum(e) => Value::String(e.clone()),
        V::List(items) => Value::Array(items.iter().map(schema_value_to_json).collect()),
        V::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), schema_value_to_json(v)))
                .collect(),
        ),
    }
}

enum Kind {
    Object,
    /// An interface or a union.
    Abstract,
    Enum(HashSet<String>),
    Scalar,
}

struct FieldDefinition {
    ty: StaticType,
    /// Argument names with their default values.
    arguments: Vec<(String, Option<Value>)>,
}

/// What the executor needs of a subgraph SDL.
struct SubgraphSchema {
    kinds: HashMap<String, Kind>,
    fields: HashMap<(String, String), FieldDefinition>,
    /// Concrete types of each interface and union.
    possible: HashMap<String, HashSet<String>>,
    /// The `@key` field sets of each type, parsed.
    keys: HashMap<String, Vec<StaticSelectionSet>>,
    query: String,
    mutation: String,
}

impl SubgraphSchema {
    fn parse(sdl: &str) -> Result<Self, String> {
        // graphql-parser does not know `extend schema`; its directives are irrelevant here.
        let text = sdl.replace("extend schema", "scalar _ExtendedSchema");
        let document = graphql_parser::parse_schema::<String>(&text)
            .map_err(|e| format!("cannot parse the SDL: {e}"))?
            .into_static();
        let mut schema = Self {
            kinds: HashMap::new(),
            fields: HashMap::new(),
            possible: HashMap::new(),
            keys: HashMap::new(),
            query: "Query".to_owned(),
            mutation: "Mutation".to_owned(),
        };
        for definition in &document.definitions {
            match definition {
                Definition::SchemaDefinition(s) => {
                    if let Some(query) = &s.query {
                        schema.query = query.clone();
                    }
                    if let Some(mutation) = &s.mutation {
                        schema.mutation = mutation.clone();
                    }
                }
                Definition::TypeDefinition(t) => schema.add_type(t),
                Definition::TypeExtension(t) => schema.add_extension(t),
                Definition::DirectiveDefinition(_) => {}
            }
        }
        Ok(schema)
    }

    fn root_name(&self, root: &str) -> String {
        match root {
            "Mutation" => self.mutation.clone(),
            _ => self.query.clone(),
        }
    }

    fn add_fields(
        &mut self,
        type_name: &str,
        fields: &[graphql_parser::schema::Field<'static, String>],
    ) {
        for field in fields {
            let arguments = field
                .arguments
                .iter()
                .map(|a| {
                    (
                        a.name.clone(),
                        a.default_value.as_ref().map(schema_value_to_json),
                    )
                })
                .collect();
            self.fields.insert(
                (type_name.to_owned(), field.name.clone()),
                FieldDefinition {
                    ty: field.field_type.clone(),
                    arguments,
                },
            );
        }
    }

    fn add_keys(&mut self, type_name: &str, directives: &[Directive<'static, String>]) {
        for directive in directives.iter().filter(|d| d.name == "key") {
            let Some((_, graphql_parser::schema::Value::String(fields))) = directive
                .arguments
                .iter()
                .find(|(name, _)| name == "fields")
            else {
                continue;
            };
            let text = format!("{{{fields}}}");
            let Ok(parsed) = graphql_parser::parse_query::<String>(&text) else {
                continue;
            };
            let parsed = parsed.into_static();
            if let Some(QueryDefinition::Operation(OperationDefinition::SelectionSet(set))) =
                parsed.definitions.into_iter().next()
            {
                self.keys.entry(type_name.to_owned()).or_default().push(set);
            }
        }
    }

    fn add_implementations(&mut self, object: &str, interfaces: &[String]) {
        for interface in interfaces {
            self.possible
                .entry(interface.clone())
                .or_default()
                .insert(object.to_owned());
        }
    }

    fn add_type(&mut self, definition: &TypeDefinition<'static, String>) {
        match definition {
            TypeDefinition::Object(t) => {
                self.kinds.insert(t.name.clone(), Kind::Object);
                self.add_fields(&t.name, &t.fields);
                self.add_keys(&t.name, &t.directives);
                self.add_implementations(&t.name, &t.implements_interfaces);
            }
            TypeDefinition::Interface(t) => {
                self.kinds.insert(t.name.clone(), Kind::Abstract);
                self.add_fields(&t.name, &t.fields);
                self.add_keys(&t.name, &t.directives);
                self.add_implementations(&t.name, &t.implements_interfaces);
            }
            TypeDefinition::Union(t) => {
                self.kinds.insert(t.name.clone(), Kind::Abstract);
                self.possible
                    .entry(t.name.clone())
                    .or_default()
                    .extend(t.types.iter().cloned());
            }
            TypeDefinition::Enum(t) => {
                let values = t.values.iter().map(|v| v.name.clone()).collect();
                self.kinds.insert(t.name.clone(), Kind::Enum(values));
            }
            TypeDefinition::Scalar(t) => {
                self.kinds.insert(t.name.clone(), Kind::Scalar);
            }
            TypeDefinition::InputObject(_) => {}
        }
    }

    fn add_extension(&mut self, extension: &TypeExtension<'static, String>) {
        match extension {
            TypeExtension::Object(t) => {
                self.kinds.entry(t.name.clone()).or_insert(Kind::Object);
                self.add_fields(&t.name, &t.fields);
                self.add_keys(&t.name, &t.directives);
                self.add_implementations(&t.name, &t.implements_interfaces);
            }
            TypeExtension::Interface(t) => {
                self.kinds.entry(t.name.clone()).or_insert(Kind::Abstract);
                self.add_fields(&t.name, &t.fields);
                self.add_keys(&t.name, &t.directives);
            }
            TypeExtension::Union(t) => {
                self.kinds.entry(t.name.clone()).or_insert(Kind::Abstract);
                self.possible
                    .entry(t.name.clone())
                    .or_default()
                    .extend(t.types.iter().cloned());
            }
            TypeExtension::Enum(t) => {
                let entry = self
                    .kinds
                    .entry(t.name.clone())
                    .or_insert_with(|| Kind::Enum(HashSet::new()));
                if let Kind::Enum(values) = entry {
                    values.extend(t.values.iter().map(|v| v.name.clone()));
                }
            }
            TypeExtension::Scalar(_) | TypeExtension::InputObject(_) => {}
        }
    }

    fn field(&self, type_name: &str, field: &str) -> Option<&FieldDefinition> {
        self.fields.get(&(type_name.to_owned(), field.to_owned()))
    }

    /// Whether an object of type `runtime` satisfies the type condition `condition`.
    fn applies(&self, condition: &str, runtime: &str) -> bool {
        condition == runtime
            || condition == "_Entity"
            || self
                .possible
                .get(condition)
                .is_some_and(|types| types.contains(runtime))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(sdl: &str, data: Value) -> ServerState {
        ServerState {
            sdl: sdl.to_owned(),
            schema: SubgraphSchema::parse(sdl).expect("test SDL parses"),
            data,
            requests: Mutex::new(Vec::new()),
        }
    }

    const SDL: &str = r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
        type Query { shelf: Shelf!, thing(id: ID!, size: Int = 2): Thing, items: [Item!] }
        type Shelf { label: String!, books: [Book]! }
        type Book @key(fields: "isbn") @key(fields: "ref { code }") {
          isbn: ID!, title: String!, ref: Ref, cost: Int
        }
        type Ref { code: String! }
        interface Item { id: ID! }
        type Thing implements Item { id: ID!, name: String }
        type Other implements Item { id: ID! }
    "#;

    fn run(query: &str, variables: Value, data: Value) -> Value {
        let state = state(SDL, data);
        execute_request(&state, &json!({ "query": query, "variables": variables }))
    }

    #[test]
    fn null_in_a_non_null_field_nulls_the_nearest_nullable_position() {
        let data = json!({"query": {"shelf": {"label": "a", "books": [{"isbn": "1", "title": null}, {"isbn": "2", "title": "T"}]}}});
        let answer = run("{ shelf { label books { title } } }", json!({}), data);
        assert_eq!(
            answer["data"],
            json!({"shelf": {"label": "a", "books": [null, {"title": "T"}]}})
        );
        assert_eq!(
            answer["errors"][0]["path"],
            json!(["shelf", "books", 0, "title"])
        );
    }

    #[test]
    fn errors_propagate_to_data_through_non_null_fields() {
        let data = json!({"query": {"shelf": {"label": {"$error": "no label", "code": "GONE"}, "books": []}}});
        let answer = run("{ s: shelf { label } }", json!({}), data);
        assert_eq!(answer["data"], Value::Null);
        assert_eq!(
            answer["errors"],
            json!([{"message": "no label", "path": ["s", "label"], "extensions": {"code": "GONE"}}])
        );
    }

    #[test]
    fn cases_select_by_arguments_with_defaults_and_variables() {
        let data = json!({"query": {"thing": {"$cases": [
            {"args": {"id": "x", "size": 3}, "value": {"id": "x3", "name": "three"}},
            {"args": {"id": "x", "size": 2}, "value": {"id": "x2", "name": "two"}}
        ]}}});
        let answer = run(
            "query($id: ID!) { a: thing(id: $id) { id } b: thing(id: $id, size: 3) { name } c: thing(id: \"y\") { id } }",
            json!({"id": "x"}),
            data,
        );
        assert_eq!(
            answer["data"],
            json!({"a": {"id": "x2"}, "b": {"name": "three"}, "c": null})
        );
    }

    #[test]
    fn abstract_values_use_their_typename_and_fragments() {
        let data = json!({"query": {"items": [
            {"__typename": "Thing", "id": "1", "name": "n"},
            {"__typename": "Other", "id": "2"}
        ]}});
        let answer = run(
            "{ items { ...F __typename } } fragment F on Item { id ... on Thing { name } }",
            json!({}),
            data,
        );
        assert_eq!(
            answer["data"],
            json!({"items": [{"id": "1", "name": "n", "__typename": "Thing"}, {"id": "2", "__typename": "Other"}]})
        );
    }

    #[test]
    fn entities_match_any_key_and_read_requires_from_the_representation() {
        let data = json!({"entities": {"Book": [
            {"isbn": "1", "title": "One", "ref": {"code": "a"}, "cost": {"$cases": [{"when": {"title": "One"}, "value": 7}]}},
            {"isbn": "2", "title": "Two", "ref": {"code": "b"}}
        ]}});
        let answer = run(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Book { __typename isbn cost } } }",
            json!({"r": [
                {"__typename": "Book", "ref": {"code": "b"}},
                {"__typename": "Book", "isbn": "1", "title": "One"},
                {"__typename": "Book", "isbn": "9"}
            ]}),
            data,
        );
        assert_eq!(
            answer["data"],
            json!({"_entities": [
                {"__typename": "Book", "isbn": "2", "cost": null},
                {"__typename": "Book", "isbn": "1", "cost": 7},
                null
            ]})
        );
    }

    #[test]
    fn a_representation_without_its_key_fails_the_whole_call() {
        let data = json!({"entities": {"Book": [{"isbn": "1", "title": "One"}]}});
        let answer = run(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Book { title } } }",
            json!({"r": [{"__typename": "Book", "isbn": "1"}, {"__typename": "Book"}]}),
            data,
        );
        assert_eq!(answer["data"], Value::Null);
        assert_eq!(answer["errors"][0]["path"], json!(["_entities"]));
    }

    #[test]
    fn conflicting_fields_under_one_response_key_are_refused() {
        let data = json!({"query": {"thing": {"$cases": [{"value": {"id": "x"}}]}}});
        let answer = run(
            "{ thing(id: \"a\") { id } ... on Query { thing(id: \"b\") { id } } }",
            json!({}),
            data,
        );
        assert!(answer.get("data").is_none(), "{answer}");
        assert!(
            answer["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("thing"))
        );
    }

    #[test]
    fn service_sdl_is_the_file_text() {
        let answer = run("{ _service { sdl } }", json!({}), json!({}));
        assert_eq!(answer["data"]["_service"]["sdl"], json!(SDL));
    }
}
