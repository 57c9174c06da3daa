//! Satisfiability: every field a client can reach from a root must be resolvable by some
//! sequence of subgraph fetches. The check asks the query planner the router uses
//! (`hive-router-query-planner`): it builds the planner's graph of the supergraph and walks
//! every client path (`query { a { b { c } } }`) through it, the way the planner does when
//! it plans an operation, so a composed supergraph is one the router can plan.
//!
//! The planner gives up on a few shapes federation defines as resolvable (a `@shareable`
//! union root field whose members differ per subgraph; type conditions below an
//! `@interfaceObject`). Where its walk fails, the same graph is searched directly: from the
//! nodes the path ends at, through entity jumps whose key fields are local, type conditions
//! and `@interfaceObject` moves, to a move over the field that is not a mere `@external`
//! declaration and whose `@requires` inputs are reachable. Only when both fail is the field
//! unsatisfiable. A graph whose walk exceeds [`MAX_WALKS`] client paths is not checked
//! further.
//!
//! Client paths are infinite when types refer to each other; a path is only extended when
//! it ends at a type in a set of planner nodes (type, subgraph) not seen before at that
//! type below the same `@provides` fields, which is all the planner's next steps depend
//! on.

use std::collections::{BTreeSet, VecDeque};

use hive_router_query_planner::ast::normalization::normalize_operation;
use hive_router_query_planner::ast::selection_item::SelectionItem;
use hive_router_query_planner::graph::{Graph, PlannerOverrideContext};
use hive_router_query_planner::planner::walker::walk_operation;
use hive_router_query_planner::state::supergraph_state::SupergraphState;
use hive_router_query_planner::utils::cancellation::CancellationToken;
use hive_router_query_planner::utils::parsing::{parse_operation, safe_parse_schema};
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;

use crate::error::{CompositionError, ErrorCode};
use crate::merge::SupergraphModel;
use crate::subgraph::Kind;

/// Upper bound on the client paths walked, so a pathological graph cannot stall
/// composition; small and medium graphs stay far below it.
const MAX_WALKS: usize = 50_000;

/// One step of a client path.
#[derive(Debug, Clone)]
enum Step {
    Field(String),
    Fragment(String),
    /// `__typename`, selected to learn where a path ends when it cannot end at a field.
    Typename,
}

/// Checks `sdl`, the printed `model`, and reports each unresolvable field once, with the
/// shortest client path that reaches it.
pub(crate) fn check(sdl: &str, model: &SupergraphModel, errors: &mut Vec<CompositionError>) {
    let unreadable = |reason: String| {
        CompositionError::new(
            ErrorCode::SatisfiabilityError,
            format!("the query planner cannot read the composed supergraph: {reason}"),
        )
    };
    let document = match safe_parse_schema(sdl) {
        Ok(d) => d,
        Err(e) => return errors.push(unreadable(e.to_string())),
    };
    let state = SupergraphState::new(&document);
    let graph = match Graph::graph_from_supergraph_state(&state) {
        Ok(g) => g,
        Err(e) => return errors.push(unreadable(e.to_string())),
    };
    let walker = Walker {
        graph: &graph,
        state: &state,
        model,
        overrides: PlannerOverrideContext::default(),
        token: CancellationToken::new(),
    };

    let mut reported: BTreeSet<String> = BTreeSet::new();
    let mut seen: BTreeSet<(String, Tails, Provided)> = BTreeSet::new();
    let mut queue: VecDeque<Item> = VecDeque::new();
    for (keyword, root) in [("query", "Query"), ("mutation", "Mutation")] {
        if model.types.get(root).is_some_and(|t| !t.fields.is_empty())
            && let Ok(tails) = walker.tails(keyword, &[Step::Typename])
        {
            queue.push_back(Item {
                keyword,
                path: Vec::new(),
                type_name: root.to_owned(),
                tails,
                provided: Provided::new(),
            });
        }
    }
    let mut walks = 0usize;
    while let Some(item) = queue.pop_front() {
        let Some(ty) = model.types.get(&item.type_name) else {
            continue;
        };
        // Fields of the type itself (objects and interfaces).
        for field in &ty.fields {
            if walks >= MAX_WALKS {
                return;
            }
            walks += 1;
            let coordinate = format!("{}.{}", item.type_name, field.name);
            let target = field.ty.base().to_owned();
            let composite = model
                .types
                .get(&target)
                .is_some_and(|t| matches!(t.kind, Kind::Object | Kind::Interface | Kind::Union));
            let mut next = item.path.clone();
            next.push(Step::Field(field.name.clone()));
            // What a `@provides` on the way makes local lives in the planner's path, not in
            // its nodes: paths below different `@provides` are walked apart.
            let mut provided = item.provided.clone();
            if field.join.iter().flatten().any(|j| j.provides.is_some()) {
                provided.insert(coordinate.clone());
            }
            let outcome = walker.tails(item.keyword, &next).or_else(|reason| {
                walker
                    .field_in_graph(&item.tails, &item.type_name, &field.name)
                    .ok_or(reason)
            });
            match outcome {
                Ok(tails) => {
                    if composite && seen.insert((target.clone(), tails.clone(), provided.clone())) {
                        queue.push_back(Item {
                            keyword: item.keyword,
                            path: next,
                            type_name: target,
                            tails,
                            provided,
                        });
                    }
                }
                Err(reason) => {
                    if reported.insert(coordinate.clone()) {
                        errors.push(unsatisfiable(&coordinate, item.keyword, &next, &reason));
                    }
                }
            }
        }
        // The possible object types of an abstract type, through a type condition.
        let possible: Vec<String> = match ty.kind {
            Kind::Union => ty.members.iter().map(|(m, _)| m.clone()).collect(),
            Kind::Interface => model
                .types
                .values()
                .filter(|t| t.implements.iter().any(|(i, _)| *i == item.type_name))
                .map(|t| t.name.clone())
                .collect(),
            _ => Vec::new(),
        };
        for object in possible {
            if walks >= MAX_WALKS {
                return;
            }
            walks += 1;
            let mut next = item.path.clone();
            next.push(Step::Fragment(object.clone()));
            let mut with_typename = next.clone();
            with_typename.push(Step::Typename);
            // A member no subgraph can return from here is only ever seen as
            // `__typename`, and its fields are never fetched: not an error.
            let tails = walker
                .tails(item.keyword, &with_typename)
                .ok()
                .or_else(|| walker.type_in_graph(&item.tails, &object));
            if let Some(tails) = tails
                && seen.insert((object.clone(), tails.clone(), item.provided.clone()))
            {
                queue.push_back(Item {
                    keyword: item.keyword,
                    path: next,
                    type_name: object,
                    tails,
                    provided: item.provided.clone(),
                });
            }
        }
    }
}

/// Planner nodes (type in a subgraph) a client path can end at.
type Tails = BTreeSet<NodeIndex>;

/// The fields with a `@provides` a client path went through.
type Provided = BTreeSet<String>;

/// A client path still to extend.
struct Item {
    keyword: &'static str,
    path: Vec<Step>,
    type_name: String,
    tails: Tails,
    provided: Provided,
}

fn unsatisfiable(coordinate: &str, keyword: &str, path: &[Step], reason: &str) -> CompositionError {
    CompositionError::new(
        ErrorCode::SatisfiabilityError,
        format!(
            "no sequence of subgraph fetches resolves \"{coordinate}\" in the operation `{}` ({reason})",
            operation(keyword, path)
        ),
    )
    .with_coordinates([coordinate.to_owned()])
}

/// `query { a { ... on B { c } } }`: the planner walks a composite field without a
/// selection like a leaf, so its paths end at the nodes of the field's type.
fn operation(keyword: &str, path: &[Step]) -> String {
    let mut out = format!("{keyword} ");
    let mut open = 0;
    for step in path {
        match step {
            Step::Field(name) => out.push_str(&format!("{{ {name} ")),
            Step::Fragment(name) => out.push_str(&format!("{{ ... on {name} ")),
            Step::Typename => {
                out.push_str("{ __typename ");
            }
        }
        open += 1;
    }
    for _ in 0..open {
        out.push_str("} ");
    }
    out.trim_end().to_owned()
}

struct Walker<'g> {
    graph: &'g Graph,
    state: &'g SupergraphState,
    model: &'g SupergraphModel,
    overrides: PlannerOverrideContext,
    token: CancellationToken,
}

impl Walker<'_> {
    /// Walks the client path as the planner does. On success, the planner nodes the path
    /// ends at: the nodes of the last field's type, or, for a path ending at
    /// `__typename`, the nodes `__typename` is read from. (A composite field without a
    /// selection is normalised to select `__typename`, so a path may end one step below
    /// the field's type: then its last edge starts at the node wanted.)
    fn tails(&self, keyword: &str, path: &[Step]) -> Result<Tails, String> {
        let document = parse_operation(&operation(keyword, path));
        let normalized =
            normalize_operation(self.state, &document, None).map_err(|e| e.to_string())?;
        let resolved = walk_operation(
            self.graph,
            self.state,
            &self.overrides,
            normalized.executable_operation(),
            &self.token,
        )
        .map_err(|e| e.to_string())?;
        let typename = matches!(path.last(), Some(Step::Typename));
        let mut tails = BTreeSet::new();
        for leaf_paths in resolved.root_field_groups.iter().flatten() {
            for p in leaf_paths {
                let below_field = matches!(path.last(), Some(Step::Field(_)))
                    && self
                        .graph
                        .node(p.tail())
                        .is_ok_and(|tail| self.path_type(keyword, path) != Some(tail.name_str()));
                let node = match (&p.last_segment, typename || below_field) {
                    (Some(segment), true) => match self.graph.get_edge_head(&segment.edge_index) {
                        Ok(head) => head,
                        Err(_) => continue,
                    },
                    _ => p.tail(),
                };
                tails.insert(node);
            }
        }
        Ok(tails)
    }

    /// The named type at the end of `path`, followed through the supergraph model from the
    /// root type of `keyword`.
    fn path_type<'a>(&'a self, keyword: &str, path: &'a [Step]) -> Option<&'a str> {
        let mut current = if keyword == "mutation" {
            "Mutation"
        } else {
            "Query"
        };
        for step in path {
            match step {
                Step::Field(name) => {
                    current = self.model.types.get(current)?.field(name)?.ty.base();
                }
                Step::Fragment(name) => current = name,
                Step::Typename => {}
            }
        }
        Some(current)
    }

    /// Whether the node's type `name` is `type_name`, or an interface (or
    /// `@interfaceObject`) standing for it.
    fn stands_for(&self, name: &str, type_name: &str) -> bool {
        name == type_name
            || self
                .model
                .types
                .get(type_name)
                .is_some_and(|t| t.implements.iter().any(|(i, _)| i == name))
    }

    /// Whether the planner's `field` move on `node` is only a declaration there: the field
    /// is `@external` in that subgraph (or overridden away from it) and the node is not
    /// the one a `@provides` makes it available on.
    fn only_declared(&self, node: NodeIndex, field: &str) -> bool {
        let Ok(node) = self.graph.node(node) else {
            return true;
        };
        if node.is_using_provides() {
            return false;
        }
        let Some(graph) = node.graph_id().and_then(|name| {
            self.model
                .graphs
                .iter()
                .find(|(_, n, _)| n == name)
                .map(|(g, _, _)| g.as_str())
        }) else {
            return false;
        };
        self.model
            .types
            .get(node.name_str())
            .and_then(|t| t.field(field))
            .and_then(|f| f.join.as_ref())
            .is_some_and(|joins| {
                joins
                    .iter()
                    .any(|j| j.graph.as_deref() == Some(graph) && (j.external || j.used_overridden))
            })
    }

    /// Nodes reachable from `from` without a client field: entity jumps whose key fields
    /// the node resolves, type conditions and `@interfaceObject` type moves.
    fn closure(&self, from: &Tails) -> Tails {
        let mut seen: Tails = from.clone();
        let mut queue: VecDeque<NodeIndex> = from.iter().copied().collect();
        while let Some(n) = queue.pop_front() {
            for edge in self.graph.edges_from(n) {
                let next = match Move::of(&edge.weight().to_string()) {
                    Move::Entity => {
                        let local: BTreeSet<String> = self
                            .graph
                            .edges_from(n)
                            .filter_map(|e| match Move::of(&e.weight().to_string()) {
                                Move::Field(name) if !self.only_declared(n, name) => {
                                    Some(name.to_owned())
                                }
                                _ => None,
                            })
                            .collect();
                        let key_local = edge.weight().requirements().is_none_or(|key| {
                            key.selection_set.items.iter().all(|i| match i {
                                SelectionItem::Field(f) => {
                                    f.name == "__typename" || local.contains(&f.name)
                                }
                                _ => true,
                            })
                        });
                        if !key_local {
                            continue;
                        }
                        edge.target()
                    }
                    Move::TypeCondition => edge.target(),
                    Move::Field(_) | Move::Other => continue,
                };
                if seen.insert(next) {
                    queue.push_back(next);
                }
            }
        }
        seen
    }

    /// The graph-level answer where the planner's walk gives up: the targets of a
    /// `field` move on a node standing for `type_name`, reachable from `from`.
    fn field_in_graph(&self, from: &Tails, type_name: &str, field: &str) -> Option<Tails> {
        let mut out = Tails::new();
        for n in self.closure(from) {
            let Ok(node) = self.graph.node(n) else {
                continue;
            };
            if !self.stands_for(node.name_str(), type_name) {
                continue;
            }
            for edge in self.graph.edges_from(n) {
                if let Move::Field(name) = Move::of(&edge.weight().to_string())
                    && name == field
                    && !self.only_declared(n, field)
                    && self.requirements_met(
                        n,
                        type_name,
                        edge.weight().requirements().map(|r| {
                            r.selection_set
                                .items
                                .iter()
                                .filter_map(|i| match i {
                                    SelectionItem::Field(f) if f.name != "__typename" => {
                                        Some(f.name.clone())
                                    }
                                    _ => None,
                                })
                                .collect()
                        }),
                    )
                {
                    out.insert(edge.target());
                }
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// Whether the fields a `@requires` selects (its top level) can be read around `node`:
    /// on a node of the same type it reaches without a client field.
    fn requirements_met(
        &self,
        node: NodeIndex,
        type_name: &str,
        requirements: Option<Vec<String>>,
    ) -> bool {
        let Some(requirements) = requirements else {
            return true;
        };
        let around = self.closure(&Tails::from([node]));
        requirements.iter().all(|required| {
            around.iter().any(|m| {
                self.graph
                    .node(*m)
                    .is_ok_and(|n| self.stands_for(n.name_str(), type_name))
                    && self.graph.edges_from(*m).any(|e| {
                        matches!(Move::of(&e.weight().to_string()), Move::Field(f) if f == required)
                    })
                    && !self.only_declared(*m, required)
            })
        })
    }

    /// The nodes of `type_name` reachable from `from` without a client field.
    fn type_in_graph(&self, from: &Tails, type_name: &str) -> Option<Tails> {
        let out: Tails = self
            .closure(from)
            .into_iter()
            .filter(|n| {
                self.graph
                    .node(*n)
                    .is_ok_and(|node| node.name_str() == type_name)
            })
            .collect();
        (!out.is_empty()).then_some(out)
    }
}

/// The kinds of planner edges the graph-level search follows, told apart by how the
/// planner prints them (its edge type is not exported): a field move prints its name
/// (then its requirements after `🧩`), an entity jump `🔑`, a type condition `🔮`, an
/// `@interfaceObject` type move `🔎`.
enum Move<'e> {
    Field(&'e str),
    Entity,
    TypeCondition,
    Other,
}

impl<'e> Move<'e> {
    fn of(printed: &'e str) -> Self {
        let head = printed.split('🧩').next().unwrap_or_default();
        if head.starts_with('🔑') {
            Move::Entity
        } else if head.starts_with('🔮') || head.starts_with('🔎') {
            Move::TypeCondition
        } else if head.starts_with(['🤳', '🔁']) || head.is_empty() {
            Move::Other
        } else {
            Move::Field(head)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_close_every_level() {
        let path = [
            Step::Field("a".into()),
            Step::Fragment("B".into()),
            Step::Field("c".into()),
        ];
        assert_eq!(operation("query", &path), "query { a { ... on B { c } } }");
        let typename = [Step::Fragment("B".into()), Step::Typename];
        assert_eq!(
            operation("query", &typename),
            "query { ... on B { __typename } }"
        );
    }

    #[test]
    fn moves_are_told_apart_by_how_the_planner_prints_them() {
        assert!(matches!(Move::of("price"), Move::Field("price")));
        assert!(matches!(
            Move::of("shipping🧩{ weight }"),
            Move::Field("shipping")
        ));
        assert!(matches!(Move::of("🔑🧩{ id }"), Move::Entity));
        assert!(matches!(Move::of("🔮"), Move::TypeCondition));
        assert!(matches!(
            Move::of("🔎 Admin🧩{ __typename }"),
            Move::TypeCondition
        ));
        assert!(matches!(Move::of("🤳"), Move::Other));
        assert!(matches!(Move::of("🔁 node"), Move::Other));
    }
}
