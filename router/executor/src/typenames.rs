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
        let mut aliases = Vec::new();
        collect_internal_aliases(node, &mut aliases);
        if !aliases.is_empty() {
            alias_nested_requirements(node, &aliases);
        }
        visit_node(supergraph, node);
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

fn alias_nested_requirements(node: &mut PlanNode, aliases: &[InternalAlias]) {
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
                alias_nested_requirements(child, aliases);
            }
        }
        PlanNode::Parallel(parallel) => {
            for child in &mut parallel.nodes {
                alias_nested_requirements(child, aliases);
            }
        }
        PlanNode::Condition(condition) => {
            for branch in [&mut condition.if_clause, &mut condition.else_clause]
                .into_iter()
                .flatten()
            {
                alias_nested_requirements(branch, aliases);
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

fn visit_node(supergraph: &SupergraphState, node: &mut PlanNode) {
    match node {
        PlanNode::Fetch(fetch) => complete_operation(supergraph, &mut fetch.operation),
        PlanNode::BatchFetch(batch) => complete_operation(supergraph, &mut batch.operation),
        PlanNode::Sequence(sequence) => {
            for child in &mut sequence.nodes {
                visit_node(supergraph, child);
            }
        }
        PlanNode::Parallel(parallel) => {
            for child in &mut parallel.nodes {
                visit_node(supergraph, child);
            }
        }
        PlanNode::Flatten(flatten) => visit_node(supergraph, &mut flatten.node),
        PlanNode::Condition(condition) => {
            if let Some(branch) = condition.if_clause.as_deref_mut() {
                visit_node(supergraph, branch);
            }
            if let Some(branch) = condition.else_clause.as_deref_mut() {
                visit_node(supergraph, branch);
            }
        }
        // Neither is executed (see `execution::run`).
        PlanNode::Subscription(_) | PlanNode::Defer(_) => {}
    }
}

/// Rewrites one fetch's document when it lacks a `__typename`; leaves it untouched otherwise.
fn complete_operation(supergraph: &SupergraphState, operation: &mut SubgraphFetchOperation) {
    let mut document = operation.document.clone();
    let root = match document.operation.operation_kind {
        Some(OperationKind::Mutation) => supergraph.mutation_type.as_deref(),
        Some(OperationKind::Subscription) => supergraph.subscription_type.as_deref(),
        _ => Some(supergraph.query_type.as_str()),
    };
    let mut changed = false;
    if let Some(root) = root {
        visit_selections(
            supergraph,
            root,
            &mut document.operation.selection_set,
            &mut changed,
        );
    }
    for fragment in &mut document.fragments {
        let parent = fragment.type_condition.clone();
        visit_selections(
            supergraph,
            &parent,
            &mut fragment.selection_set,
            &mut changed,
        );
    }
    if changed {
        *operation = SubgraphFetchOperation::from_anonymous_operation(document);
    }
}

/// Walks `selections` of an object of type `parent`; sets `changed` when it adds anything.
fn visit_selections(
    supergraph: &SupergraphState,
    parent: &str,
    selections: &mut SelectionSet,
    changed: &mut bool,
) {
    for item in &mut selections.items {
        match item {
            SelectionItem::Field(field) => {
                if field.name == "_entities" {
                    // Its items are inline fragments on the entity types. An entity of an
                    // interface type (an entity interface, or an `@interfaceObject`) is asked
                    // for its concrete type too.
                    for item in &mut field.selections.items {
                        if let SelectionItem::InlineFragment(fragment) = item
                            && is_abstract(supergraph, &fragment.type_condition)
                            && !selects_typename(&fragment.selections)
                        {
                            fragment
                                .selections
                                .items
                                .insert(0, SelectionItem::Field(FieldSelection::new_typename()));
                            *changed = true;
                        }
                    }
                    visit_selections(supergraph, parent, &mut field.selections, changed);
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
                    *changed = true;
                }
                let field_type = field_type.to_owned();
                visit_selections(supergraph, &field_type, &mut field.selections, changed);
            }
            SelectionItem::InlineFragment(fragment) => {
                let condition = if fragment.type_condition.is_empty() {
                    parent.to_owned()
                } else {
                    fragment.type_condition.clone()
                };
                visit_selections(supergraph, &condition, &mut fragment.selections, changed);
            }
            SelectionItem::FragmentSpread(_) => {}
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
