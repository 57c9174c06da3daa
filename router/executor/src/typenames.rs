//! Completes a plan before it is cached, with what the executor needs and the planner leaves
//! implicit:
//!
//! - every subgraph fetch asks for `__typename` wherever it selects a value of an interface or
//!   union type. The planner only asks for it where it branches on a type condition itself;
//!   completing the client's response needs the runtime type of every abstract value
//!   (fragments, `__typename`, the right fields' nullability).
//! - a nested field of an entity fetch's `requires` that an earlier fetch selected under an
//!   internal alias (because the client uses the plain response key for the same field with
//!   other arguments) is read from that alias. The planner says so itself for top-level fields
//!   (`price: _internal_qp_alias_0`) but not inside nested selections (`size { weight }`).

use hive_router_query_planner::ast::operation::SubgraphFetchOperation;
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::{FieldSelection, SelectionSet};
use hive_router_query_planner::planner::plan_nodes::{
    FlattenNodePath, FlattenNodePathSegment, PlanNode, QueryPlan,
};
use hive_router_query_planner::state::supergraph_state::{
    OperationKind, SupergraphDefinition, SupergraphState,
};

/// Prefix of the aliases the planner gives to the selections it adds itself.
const INTERNAL_ALIAS: &str = "_internal_qp_alias_";

/// Completes every fetch of `plan` (see the module docs).
pub(crate) fn complete_plan(supergraph: &SupergraphState, plan: &mut QueryPlan) {
    if let Some(node) = plan.node.as_mut() {
        let mut conflicts = Vec::new();
        visit_node(supergraph, node, &[], &mut conflicts);
        let mut aliases = Vec::new();
        collect_internal_aliases(node, &mut aliases);
        if !aliases.is_empty() {
            alias_nested_requirements(node, &aliases, &conflicts);
        }
    }
}

/// A field selected under an internal alias: the response path of its parent object (field
/// keys only), the field's name and the alias.
type InternalAlias = (Vec<String>, String, String);

fn flatten_keys(path: &FlattenNodePath) -> Vec<String> {
    path.as_slice()
        .iter()
        .filter_map(|segment| match segment {
            FlattenNodePathSegment::Field(key) => Some(key.clone()),
            _ => None,
        })
        .collect()
}

fn collect_internal_aliases(node: &PlanNode, out: &mut Vec<InternalAlias>) {
    match node {
        PlanNode::Fetch(fetch) => aliases_in(
            &fetch.operation.document.operation.selection_set,
            &mut Vec::new(),
            out,
        ),
        PlanNode::Flatten(flatten) => {
            if let PlanNode::Fetch(fetch) = flatten.node.as_ref() {
                let mut path = flatten_keys(&flatten.path);
                for item in &fetch.operation.document.operation.selection_set.items {
                    // `_entities { ... on T { ... } }`: the fragments' fields sit at the path.
                    if let SelectionItem::Field(entities) = item {
                        aliases_in(&entities.selections, &mut path, out);
                    }
                }
            }
        }
        PlanNode::Sequence(sequence) => {
            for child in &sequence.nodes {
                collect_internal_aliases(child, out);
            }
        }
        PlanNode::Parallel(parallel) => {
            for child in &parallel.nodes {
                collect_internal_aliases(child, out);
            }
        }
        PlanNode::Condition(condition) => {
            for branch in [&condition.if_clause, &condition.else_clause]
                .into_iter()
                .flatten()
            {
                collect_internal_aliases(branch, out);
            }
        }
        PlanNode::BatchFetch(_) | PlanNode::Subscription(_) | PlanNode::Defer(_) => {}
    }
}

fn aliases_in(selections: &SelectionSet, path: &mut Vec<String>, out: &mut Vec<InternalAlias>) {
    for item in &selections.items {
        match item {
            SelectionItem::Field(field) => {
                if let Some(alias) = &field.alias
                    && alias.starts_with(INTERNAL_ALIAS)
                {
                    out.push((path.clone(), field.name.clone(), alias.clone()));
                }
                if !field.selections.items.is_empty() {
                    path.push(field.selection_identifier().to_owned());
                    aliases_in(&field.selections, path, out);
                    path.pop();
                }
            }
            SelectionItem::InlineFragment(fragment) => aliases_in(&fragment.selections, path, out),
            SelectionItem::FragmentSpread(_) => {}
        }
    }
}

/// Points requirements at internal aliases: nested ones at any internal alias (see the module
/// docs), top-level ones only at the aliases given to conditional conflicts (`conflicts`); the
/// planner aliases the other top-level ones itself.
fn alias_nested_requirements(
    node: &mut PlanNode,
    aliases: &[InternalAlias],
    conflicts: &[InternalAlias],
) {
    match node {
        PlanNode::Flatten(flatten) => {
            let base = flatten_keys(&flatten.path);
            if let PlanNode::Fetch(fetch) = flatten.node.as_mut()
                && let Some(requires) = fetch.requires.as_mut()
            {
                for item in &mut requires.items {
                    if let SelectionItem::InlineFragment(fragment) = item {
                        for field in fragment.selections.items.iter_mut() {
                            if let SelectionItem::Field(field) = field
                                && field.alias.is_none()
                                && let Some((_, _, alias)) = conflicts
                                    .iter()
                                    .find(|(at, name, _)| *at == base && *name == field.name)
                            {
                                field.alias =
                                    Some(std::mem::replace(&mut field.name, alias.clone()));
                            }
                            if let SelectionItem::Field(field) = field
                                && !field.selections.items.is_empty()
                            {
                                let mut path = base.clone();
                                path.push(field.name.clone());
                                alias_requirements_at(&mut field.selections, &mut path, aliases);
                            }
                        }
                    }
                }
            }
        }
        PlanNode::Sequence(sequence) => {
            for child in &mut sequence.nodes {
                alias_nested_requirements(child, aliases, conflicts);
            }
        }
        PlanNode::Parallel(parallel) => {
            for child in &mut parallel.nodes {
                alias_nested_requirements(child, aliases, conflicts);
            }
        }
        PlanNode::Condition(condition) => {
            for branch in [&mut condition.if_clause, &mut condition.else_clause]
                .into_iter()
                .flatten()
            {
                alias_nested_requirements(branch, aliases, conflicts);
            }
        }
        PlanNode::Fetch(_)
        | PlanNode::BatchFetch(_)
        | PlanNode::Subscription(_)
        | PlanNode::Defer(_) => {}
    }
}

/// Points the unaliased fields of a nested `requires` selection at `path` to the internal
/// alias an earlier fetch selected them under (`weight` becomes `weight: _internal_qp_alias_0`).
fn alias_requirements_at(
    selections: &mut SelectionSet,
    path: &mut Vec<String>,
    aliases: &[InternalAlias],
) {
    for item in &mut selections.items {
        match item {
            SelectionItem::Field(field) => {
                if field.alias.is_none()
                    && let Some((_, _, alias)) = aliases
                        .iter()
                        .find(|(at, name, _)| at == path && *name == field.name)
                {
                    field.alias = Some(std::mem::replace(&mut field.name, alias.clone()));
                }
                if !field.selections.items.is_empty() {
                    // A requirement is read from the key its field's name gives.
                    path.push(field.name.clone());
                    alias_requirements_at(&mut field.selections, path, aliases);
                    path.pop();
                }
            }
            SelectionItem::InlineFragment(fragment) => {
                alias_requirements_at(&mut fragment.selections, path, aliases)
            }
            SelectionItem::FragmentSpread(_) => {}
        }
    }
}

fn visit_node(
    supergraph: &SupergraphState,
    node: &mut PlanNode,
    base: &[String],
    conflicts: &mut Vec<InternalAlias>,
) {
    match node {
        PlanNode::Fetch(fetch) => {
            complete_operation(supergraph, &mut fetch.operation, base, conflicts)
        }
        PlanNode::BatchFetch(batch) => {
            complete_operation(supergraph, &mut batch.operation, base, conflicts)
        }
        PlanNode::Sequence(sequence) => {
            for child in &mut sequence.nodes {
                visit_node(supergraph, child, base, conflicts);
            }
        }
        PlanNode::Parallel(parallel) => {
            for child in &mut parallel.nodes {
                visit_node(supergraph, child, base, conflicts);
            }
        }
        PlanNode::Flatten(flatten) => {
            let base = flatten_keys(&flatten.path);
            visit_node(supergraph, &mut flatten.node, &base, conflicts)
        }
        PlanNode::Condition(condition) => {
            if let Some(branch) = condition.if_clause.as_deref_mut() {
                visit_node(supergraph, branch, base, conflicts);
            }
            if let Some(branch) = condition.else_clause.as_deref_mut() {
                visit_node(supergraph, branch, base, conflicts);
            }
        }
        // Neither is executed (see `execution::run`).
        PlanNode::Subscription(_) | PlanNode::Defer(_) => {}
    }
}

/// Rewrites one fetch's document when something is missing; leaves it untouched otherwise.
/// `base` is the response path the fetch's root selection sits at.
fn complete_operation(
    supergraph: &SupergraphState,
    operation: &mut SubgraphFetchOperation,
    base: &[String],
    conflicts: &mut Vec<InternalAlias>,
) {
    let mut document = operation.document.clone();
    let root = match document.operation.operation_kind {
        Some(OperationKind::Mutation) => supergraph.mutation_type.as_deref(),
        Some(OperationKind::Subscription) => supergraph.subscription_type.as_deref(),
        _ => Some(supergraph.query_type.as_str()),
    };
    let mut walk = Walk {
        supergraph,
        path: base.to_vec(),
        next_alias: conflicts.len(),
        conflicts,
        changed: false,
    };
    if let Some(root) = root {
        walk.selections(root, &mut document.operation.selection_set);
    }
    for fragment in &mut document.fragments {
        let parent = fragment.type_condition.clone();
        // Named fragments are not located; only `__typename`s are added in them.
        let conflicts_before = walk.conflicts.len();
        walk.selections(&parent, &mut fragment.selection_set);
        walk.conflicts.truncate(conflicts_before);
    }
    if walk.changed {
        *operation = SubgraphFetchOperation::from_anonymous_operation(document);
    }
}

/// The state of one walk over a fetch document.
struct Walk<'a> {
    supergraph: &'a SupergraphState,
    /// Response path of the selection set being walked.
    path: Vec<String>,
    conflicts: &'a mut Vec<InternalAlias>,
    /// Number of the next alias given to a conditional conflict.
    next_alias: usize,
    changed: bool,
}

impl Walk<'_> {
    /// Walks `selections` of an object of type `parent`.
    fn selections(&mut self, parent: &str, selections: &mut SelectionSet) {
        self.separate_conditional_conflicts(selections);
        let supergraph = self.supergraph;
        for item in &mut selections.items {
            match item {
                SelectionItem::Field(field) => {
                    if field.name == "_entities" {
                        // Its items are inline fragments on the entity types. An entity of an
                        // interface type (an entity interface, or an `@interfaceObject`) is
                        // asked for its concrete type too.
                        for item in &mut field.selections.items {
                            if let SelectionItem::InlineFragment(fragment) = item
                                && is_abstract(supergraph, &fragment.type_condition)
                                && !selects_typename(&fragment.selections)
                            {
                                fragment.selections.items.insert(
                                    0,
                                    SelectionItem::Field(FieldSelection::new_typename()),
                                );
                                self.changed = true;
                            }
                        }
                        self.selections(parent, &mut field.selections);
                        continue;
                    }
                    if field.selections.items.is_empty() {
                        continue;
                    }
                    let Some(field_type) = field_type(supergraph, parent, &field.name) else {
                        continue;
                    };
                    if is_abstract(supergraph, field_type) && !selects_typename(&field.selections) {
                        field
                            .selections
                            .items
                            .insert(0, SelectionItem::Field(FieldSelection::new_typename()));
                        self.changed = true;
                    }
                    self.path.push(field.selection_identifier().to_owned());
                    self.selections(field_type, &mut field.selections);
                    self.path.pop();
                }
                SelectionItem::InlineFragment(fragment) => {
                    let condition = if fragment.type_condition.is_empty() {
                        parent.to_owned()
                    } else {
                        fragment.type_condition.clone()
                    };
                    self.selections(&condition, &mut fragment.selections);
                }
                SelectionItem::FragmentSpread(_) => {}
            }
        }
    }

    /// A field of a conditional fragment (`... on T @include(if: $x) { price(currency: EUR) }`)
    /// that shares its response key with a different field or arguments of the enclosing
    /// selection is an invalid document for the subgraph; the planner writes it when a
    /// requirement sits under a condition. It is moved to an internal alias, and the
    /// requirements read it from there.
    fn separate_conditional_conflicts(&mut self, selections: &mut SelectionSet) {
        let plain: Vec<(String, String, Option<String>)> = selections
            .items
            .iter()
            .filter_map(|item| match item {
                SelectionItem::Field(field) => Some((
                    field.selection_identifier().to_owned(),
                    field.name.clone(),
                    field.arguments().map(ToString::to_string),
                )),
                _ => None,
            })
            .collect();
        if plain.is_empty() {
            return;
        }
        for item in &mut selections.items {
            let SelectionItem::InlineFragment(fragment) = item else {
                continue;
            };
            if fragment.include_if.is_none() && fragment.skip_if.is_none() {
                continue;
            }
            for inner in &mut fragment.selections.items {
                let SelectionItem::Field(field) = inner else {
                    continue;
                };
                let arguments = field.arguments().map(ToString::to_string);
                let conflicting = plain.iter().any(|(key, name, args)| {
                    key.as_str() == field.selection_identifier()
                        && (*name != field.name || *args != arguments)
                });
                if conflicting && field.alias.is_none() {
                    let alias = format!("{INTERNAL_ALIAS}conditional_{}", self.next_alias);
                    self.next_alias += 1;
                    field.alias = Some(alias.clone());
                    self.conflicts
                        .push((self.path.clone(), field.name.clone(), alias));
                    self.changed = true;
                }
            }
        }
    }
}

/// The named output type of `parent.field` in the supergraph.
fn field_type<'s>(supergraph: &'s SupergraphState, parent: &str, field: &str) -> Option<&'s str> {
    let fields = match supergraph.definitions.get(parent)? {
        SupergraphDefinition::Object(object) => &object.fields,
        SupergraphDefinition::Interface(interface) => &interface.fields,
        _ => return None,
    };
    Some(fields.get(field)?.field_type.inner_type())
}

fn is_abstract(supergraph: &SupergraphState, type_name: &str) -> bool {
    matches!(
        supergraph.definitions.get(type_name),
        Some(SupergraphDefinition::Interface(_) | SupergraphDefinition::Union(_))
    )
}

fn selects_typename(selections: &SelectionSet) -> bool {
    selections.items.iter().any(|item| {
        matches!(item, SelectionItem::Field(field) if field.name == "__typename" && field.alias.is_none())
    })
}
