//! Makes every subgraph fetch of a plan ask for `__typename` wherever it selects a value of
//! an interface or union type.
//!
//! The planner only asks for `__typename` where it needs it itself (to branch on a type
//! condition across subgraphs). Completing the client's response needs the runtime type of
//! every abstract value (fragments, `__typename`, nullability of the right fields), so the
//! fetches are completed once per plan, before it is cached.

use hive_router_query_planner::ast::operation::SubgraphFetchOperation;
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::ast::selection_set::{FieldSelection, SelectionSet};
use hive_router_query_planner::planner::plan_nodes::{PlanNode, QueryPlan};
use hive_router_query_planner::state::supergraph_state::{
    OperationKind, SupergraphDefinition, SupergraphState,
};

/// Adds the missing `__typename` selections to every fetch of `plan`.
pub(crate) fn add_typenames(supergraph: &SupergraphState, plan: &mut QueryPlan) {
    if let Some(node) = plan.node.as_mut() {
        visit_node(supergraph, node);
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
                    // Its items are inline fragments on the entity types.
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
