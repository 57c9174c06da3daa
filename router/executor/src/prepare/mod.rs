//! The prepare stage: parse the client's operation text, validate it against the public schema,
//! select the operation to run, and (as a second, separate step) normalise and plan it.
//!
//! Parsing and validation are split from planning on purpose: the edge inspects the parsed
//! document (depth, aliases, root fields, tokens) before the router spends time on planning or
//! any subgraph is called.

pub(crate) mod variables;

use std::sync::Arc;

use graphql_tools::static_graphql::query::{
    Definition, Document, OperationDefinition, Selection, SelectionSet, VariableDefinition,
};
use graphql_tools::validation::rules::default_rules_validation_plan;
use graphql_tools::validation::validate::{ValidationPlan, validate};
use hive_router_query_planner::planner::plan_nodes::QueryPlan;
use sha2::{Digest, Sha256};

use crate::error::{GraphQLError, Location, RequestError, codes};

/// The kind of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationKind {
    Query,
    Mutation,
    Subscription,
}

/// A parsed, validated document (shared by every operation name that selects from it).
pub(crate) struct ParsedDocument {
    pub(crate) document: Document,
    pub(crate) text_hash: [u8; 32],
}

/// A client operation after parsing and validation, before planning.
///
/// Cheap to clone through its `Arc`; the edge reads [`ParsedOperation::document`] to apply its
/// limits before asking the executor to plan.
pub struct ParsedOperation {
    parsed: Arc<ParsedDocument>,
    operation_index: usize,
    kind: OperationKind,
    name: Option<String>,
    uses_introspection: bool,
}

impl std::fmt::Debug for ParsedOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedOperation")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("uses_introspection", &self.uses_introspection)
            .finish_non_exhaustive()
    }
}

impl ParsedOperation {
    /// The whole client document (all operations and fragments).
    pub fn document(&self) -> &Document {
        &self.parsed.document
    }

    /// The operation selected for execution.
    pub fn operation(&self) -> &OperationDefinition {
        match &self.parsed.document.definitions[self.operation_index] {
            Definition::Operation(operation) => operation,
            // `operation_index` is only ever set to the position of an operation definition.
            Definition::Fragment(_) => unreachable!("operation index points at a fragment"),
        }
    }

    /// Query, mutation or subscription.
    pub fn kind(&self) -> OperationKind {
        self.kind
    }

    /// The name of the selected operation, if it has one.
    pub fn operation_name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether the operation selects `__schema` or `__type` at its root.
    pub fn uses_introspection(&self) -> bool {
        self.uses_introspection
    }

    pub(crate) fn selection_set(&self) -> &SelectionSet {
        operation_parts(self.operation()).1
    }

    pub(crate) fn variable_definitions(&self) -> &[VariableDefinition] {
        operation_parts(self.operation()).0
    }

    pub(crate) fn operation_index(&self) -> usize {
        self.operation_index
    }

    pub(crate) fn text_hash(&self) -> &[u8; 32] {
        &self.parsed.text_hash
    }

    pub(crate) fn parsed_document(&self) -> &Arc<ParsedDocument> {
        &self.parsed
    }
}

/// A planned operation, ready for [`crate::Executor::execute`].
#[derive(Debug)]
pub struct PreparedOperation {
    pub(crate) parsed: Arc<ParsedOperation>,
    /// `None` when nothing needs a subgraph (only introspection and `__typename`).
    pub(crate) plan: Option<Arc<QueryPlan>>,
}

impl PreparedOperation {
    /// The parsed operation this plan belongs to.
    pub fn parsed(&self) -> &ParsedOperation {
        &self.parsed
    }

    /// Shortcut for `parsed().document()`.
    pub fn document(&self) -> &Document {
        self.parsed.document()
    }

    /// Shortcut for `parsed().kind()`.
    pub fn kind(&self) -> OperationKind {
        self.parsed.kind
    }

    /// The query plan, for logging and debugging (`None` when no subgraph is involved).
    pub fn query_plan(&self) -> Option<&QueryPlan> {
        self.plan.as_deref()
    }
}

/// The validation rules, built once.
pub(crate) fn validation_plan() -> ValidationPlan {
    default_rules_validation_plan()
}

/// The cache key of a query text.
pub(crate) fn hash_text(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// Parses and validates `text`; the result (success or the errors) is what gets cached.
pub(crate) fn parse_and_validate(
    text: &str,
    schema: &graphql_tools::static_graphql::schema::Document,
    rules: &ValidationPlan,
    text_hash: [u8; 32],
) -> Result<Arc<ParsedDocument>, RequestError> {
    let document = graphql_tools::parser::parse_query::<String>(text)
        .map_err(|error| RequestError::Parse(Box::new(parse_error(&error))))?
        .into_static();
    let errors = validate(schema, &document, rules);
    if !errors.is_empty() {
        return Err(RequestError::Validation(
            errors
                .into_iter()
                .map(|error| {
                    GraphQLError::with_code(error.message, codes::VALIDATION_FAILED).located(
                        error
                            .locations
                            .iter()
                            .map(|pos| Location {
                                line: pos.line,
                                column: pos.column,
                            })
                            .collect(),
                    )
                })
                .collect(),
        ));
    }
    Ok(Arc::new(ParsedDocument {
        document,
        text_hash,
    }))
}

fn parse_error(error: &graphql_tools::parser::query::ParseError) -> GraphQLError {
    let position = error.0.position;
    // The parser's text is "Parse error at L:C\n<details>"; keep the details on one line.
    let rendered = error.to_string();
    let details: Vec<&str> = rendered
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let message = if details.is_empty() {
        "Syntax Error: invalid GraphQL document.".to_owned()
    } else {
        format!("Syntax Error: {}.", details.join(", "))
    };
    GraphQLError::with_code(message, codes::PARSE_FAILED).located(vec![Location {
        line: position.line,
        column: position.column,
    }])
}

/// Selects the operation `name` (or the only one) of a validated document.
pub(crate) fn select_operation(
    parsed: Arc<ParsedDocument>,
    name: Option<&str>,
    has_mutation_type: bool,
    has_subscription_type: bool,
) -> Result<ParsedOperation, RequestError> {
    let mut selected: Option<usize> = None;
    let mut count = 0usize;
    for (index, definition) in parsed.document.definitions.iter().enumerate() {
        let Definition::Operation(operation) = definition else {
            continue;
        };
        count += 1;
        match name {
            Some(wanted) if operation_name(operation) == Some(wanted) => selected = Some(index),
            Some(_) => {}
            None => selected = Some(index),
        }
    }
    let index = match (selected, name) {
        (Some(index), Some(_)) => index,
        (Some(index), None) if count == 1 => index,
        (_, None) if count == 0 => {
            return Err(RequestError::UnknownOperation(
                "The document does not contain an operation.".to_owned(),
            ));
        }
        (_, None) => {
            return Err(RequestError::UnknownOperation(
                "Must provide operation name if query contains multiple operations.".to_owned(),
            ));
        }
        (None, Some(wanted)) => {
            return Err(RequestError::UnknownOperation(format!(
                "Unknown operation named \"{wanted}\"."
            )));
        }
    };
    let Definition::Operation(operation) = &parsed.document.definitions[index] else {
        unreachable!("index selected from operation definitions");
    };
    let kind = match operation {
        OperationDefinition::SelectionSet(_) | OperationDefinition::Query(_) => {
            OperationKind::Query
        }
        OperationDefinition::Mutation(_) => OperationKind::Mutation,
        OperationDefinition::Subscription(_) => OperationKind::Subscription,
    };
    // Validation checks fields against root types, but a schema without a mutation type has no
    // root to check against; say so plainly instead of planning into a wall.
    if kind == OperationKind::Mutation && !has_mutation_type {
        return Err(RequestError::Validation(vec![GraphQLError::with_code(
            "The schema does not support mutations.",
            codes::VALIDATION_FAILED,
        )]));
    }
    if kind == OperationKind::Subscription && !has_subscription_type {
        return Err(RequestError::SubscriptionNotSupported);
    }
    let name = operation_name(operation).map(str::to_owned);
    let uses_introspection =
        root_selects_introspection(operation_parts(operation).1, &parsed.document);
    Ok(ParsedOperation {
        parsed,
        operation_index: index,
        kind,
        name,
        uses_introspection,
    })
}

fn operation_name(operation: &OperationDefinition) -> Option<&str> {
    match operation {
        OperationDefinition::SelectionSet(_) => None,
        OperationDefinition::Query(q) => q.name.as_deref(),
        OperationDefinition::Mutation(m) => m.name.as_deref(),
        OperationDefinition::Subscription(s) => s.name.as_deref(),
    }
}

pub(crate) fn operation_parts(
    operation: &OperationDefinition,
) -> (&[VariableDefinition], &SelectionSet) {
    match operation {
        OperationDefinition::SelectionSet(s) => (&[], s),
        OperationDefinition::Query(q) => (&q.variable_definitions, &q.selection_set),
        OperationDefinition::Mutation(m) => (&m.variable_definitions, &m.selection_set),
        OperationDefinition::Subscription(s) => (&s.variable_definitions, &s.selection_set),
    }
}

pub(crate) fn is_introspection_field(name: &str) -> bool {
    name == "__schema" || name == "__type"
}

fn root_selects_introspection(selection_set: &SelectionSet, document: &Document) -> bool {
    selection_set.items.iter().any(|item| match item {
        Selection::Field(field) => is_introspection_field(&field.name),
        Selection::InlineFragment(fragment) => {
            root_selects_introspection(&fragment.selection_set, document)
        }
        Selection::FragmentSpread(spread) => document.definitions.iter().any(|d| {
            matches!(d, Definition::Fragment(f)
                if f.name == spread.fragment_name
                    && root_selects_introspection(&f.selection_set, document))
        }),
    })
}

/// Removes root-level introspection fields so the planner sees only subgraph fields.
///
/// Returns `None` when nothing but `__typename` and introspection remains: such operations are
/// answered by the router alone.
pub(crate) fn strip_root_introspection(
    document: &Document,
    operation_index: usize,
) -> Option<Document> {
    let mut document = document.clone();
    let fragments: Vec<_> = document
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Fragment(f) => Some(f.clone()),
            Definition::Operation(_) => None,
        })
        .collect();
    let Definition::Operation(operation) = &mut document.definitions[operation_index] else {
        return None;
    };
    let selection_set = match operation {
        OperationDefinition::SelectionSet(s) => s,
        OperationDefinition::Query(q) => &mut q.selection_set,
        OperationDefinition::Mutation(m) => &mut m.selection_set,
        OperationDefinition::Subscription(s) => &mut s.selection_set,
    };
    strip_selection_set(selection_set, &fragments);
    if needs_subgraph(selection_set) {
        Some(document)
    } else {
        None
    }
}

fn strip_selection_set(
    selection_set: &mut SelectionSet,
    fragments: &[graphql_tools::static_graphql::query::FragmentDefinition],
) {
    let items = std::mem::take(&mut selection_set.items);
    for item in items {
        match item {
            Selection::Field(field) if is_introspection_field(&field.name) => {}
            Selection::InlineFragment(mut fragment) => {
                strip_selection_set(&mut fragment.selection_set, fragments);
                if !fragment.selection_set.items.is_empty() {
                    selection_set
                        .items
                        .push(Selection::InlineFragment(fragment));
                }
            }
            Selection::FragmentSpread(spread) => {
                // Root fragments that mix introspection with data fields are inlined so the
                // introspection part can be dropped without touching the shared definition.
                match fragments.iter().find(|f| f.name == spread.fragment_name) {
                    Some(definition) if root_has_introspection(&definition.selection_set) => {
                        let mut inline = graphql_tools::static_graphql::query::InlineFragment {
                            position: spread.position,
                            type_condition: Some(definition.type_condition.clone()),
                            directives: spread.directives,
                            selection_set: definition.selection_set.clone(),
                        };
                        strip_selection_set(&mut inline.selection_set, fragments);
                        if !inline.selection_set.items.is_empty() {
                            selection_set.items.push(Selection::InlineFragment(inline));
                        }
                    }
                    _ => selection_set.items.push(Selection::FragmentSpread(spread)),
                }
            }
            other => selection_set.items.push(other),
        }
    }
}

fn root_has_introspection(selection_set: &SelectionSet) -> bool {
    selection_set.items.iter().any(|item| match item {
        Selection::Field(field) => is_introspection_field(&field.name),
        Selection::InlineFragment(fragment) => root_has_introspection(&fragment.selection_set),
        // Nested spreads are inlined recursively when reached.
        Selection::FragmentSpread(_) => true,
    })
}

fn needs_subgraph(selection_set: &SelectionSet) -> bool {
    selection_set.items.iter().any(|item| match item {
        Selection::Field(field) => field.name != "__typename",
        Selection::InlineFragment(fragment) => needs_subgraph(&fragment.selection_set),
        Selection::FragmentSpread(_) => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Document {
        graphql_tools::parser::parse_query::<String>(text)
            .expect("parses")
            .into_static()
    }

    #[test]
    fn stripping_introspection_keeps_data_fields() {
        let document = parse(
            "{ __schema { queryType { name } } products { id } ...F } fragment F on Query { __type(name: \"X\") { name } users { id } }",
        );
        let stripped = strip_root_introspection(&document, 0).expect("data fields remain");
        let printed = stripped.to_string();
        assert!(!printed.contains("__schema"), "{printed}");
        assert!(printed.contains("products"), "{printed}");
        assert!(printed.contains("... on Query"), "{printed}");
        let operation = printed.split("fragment").next().unwrap_or_default();
        assert!(!operation.contains("__type"), "{printed}");
    }

    #[test]
    fn introspection_and_typename_only_need_no_plan() {
        let document = parse("{ __typename __schema { types { name } } }");
        assert!(strip_root_introspection(&document, 0).is_none());
    }
}
