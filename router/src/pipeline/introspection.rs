//! Introspection guard: the limits of `__schema` and `__type` selections.
//!
//! Introspection answers come from the router's copy of the schema, so no subgraph is at
//! risk, but a crafted introspection query can still make a huge answer: the schema's
//! types are a graph (`__Type.fields.type.fields...`), and aliases can repeat a costly
//! field many times. The ordinary depth and alias limits are the wrong tool here (the
//! standard query every tool sends is 15 levels deep), so introspection fields are left
//! out of them (see [`super::limits`]) and measured here instead, against the
//! `introspection` section of the configuration:
//!
//! - `INTROSPECTION_REPEATED`: one field selected under two response names in the same
//!   selection set inside introspection (`a: fields { .. } b: fields { .. }`), `__schema`
//!   twice, or `__type` twice with the same arguments. Tools never do this; it only
//!   multiplies the answer. (Several `__type(name:)` for different types are fine; the
//!   root-field limit bounds them.)
//! - `INTROSPECTION_TOO_DEEP`: deeper than `max_depth`, `ofType` nested more than
//!   `max_of_type_depth` times, or list fields nested more than `max_list_depth` deep.
//!
//! Fragments are expanded as the executor expands them, with one measurement per
//! fragment, so the walk stays linear in the document.

use std::collections::{BTreeSet, HashMap};

use executor::{
    ParsedOperation,
    ast::{Definition, FragmentDefinition, OperationDefinition, Selection, SelectionSet},
};

use super::rejection::Rejection;
use crate::config::IntrospectionConfig;

/// Whether `name` is a root introspection field.
pub fn is_root_introspection(name: &str) -> bool {
    name == "__schema" || name == "__type"
}

/// Introspection fields that return lists of objects.
fn is_list_field(name: &str) -> bool {
    matches!(
        name,
        "types"
            | "fields"
            | "args"
            | "inputFields"
            | "interfaces"
            | "possibleTypes"
            | "enumValues"
            | "directives"
    )
}

/// Measurements of the introspection part of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IntrospectionShape {
    /// Deepest nesting, `__schema` / `__type` counted as 1.
    pub depth: usize,
    /// Longest run of directly nested `ofType` fields.
    pub of_type_depth: usize,
    /// Most list fields nested in one another on one path.
    pub list_depth: usize,
}

impl IntrospectionShape {
    /// The first limit this shape exceeds.
    pub fn check(&self, config: &IntrospectionConfig) -> Result<(), Rejection> {
        let checks = [
            ("fields", self.depth, config.max_depth),
            ("`ofType`", self.of_type_depth, config.max_of_type_depth),
            ("lists", self.list_depth, config.max_list_depth),
        ];
        for (what, actual, max) in checks {
            if actual > max {
                return Err(Rejection::IntrospectionTooDeep { what, actual, max });
            }
        }
        Ok(())
    }
}

/// A selection set's measurements; `of_type_prefix` is the run of `ofType` that starts at
/// its top, which continues a run its parent field is part of.
#[derive(Debug, Clone, Copy, Default)]
struct Measure<'a> {
    depth: usize,
    of_type_prefix: usize,
    of_type_max: usize,
    lists: usize,
    /// A field selected under two response names somewhere below.
    repeated: Option<&'a str>,
}

impl<'a> Measure<'a> {
    fn merge(self, other: Measure<'a>) -> Measure<'a> {
        Measure {
            depth: self.depth.max(other.depth),
            of_type_prefix: self.of_type_prefix.max(other.of_type_prefix),
            of_type_max: self.of_type_max.max(other.of_type_max),
            lists: self.lists.max(other.lists),
            repeated: self.repeated.or(other.repeated),
        }
    }
}

struct Walker<'a> {
    fragments: HashMap<&'a str, &'a FragmentDefinition>,
    measured: HashMap<&'a str, Measure<'a>>,
    measured_at_root: HashMap<&'a str, Measure<'a>>,
    keys: HashMap<&'a str, BTreeSet<(&'a str, &'a str)>>,
    visiting: Vec<&'a str>,
}

impl<'a> Walker<'a> {
    fn new(parsed: &'a ParsedOperation) -> Self {
        Self {
            fragments: parsed
                .document()
                .definitions
                .iter()
                .filter_map(|d| match d {
                    Definition::Fragment(f) => Some((f.name.as_str(), f)),
                    Definition::Operation(_) => None,
                })
                .collect(),
            measured: HashMap::new(),
            measured_at_root: HashMap::new(),
            keys: HashMap::new(),
            visiting: Vec::new(),
        }
    }

    /// The (field name, response name) pairs a selection set selects at its own level.
    fn collect_keys(&mut self, set: &'a SelectionSet, out: &mut BTreeSet<(&'a str, &'a str)>) {
        for selection in &set.items {
            match selection {
                Selection::Field(field) => {
                    let key = field.alias.as_deref().unwrap_or(&field.name);
                    out.insert((field.name.as_str(), key));
                }
                Selection::InlineFragment(inline) => self.collect_keys(&inline.selection_set, out),
                Selection::FragmentSpread(spread) => {
                    let name = spread.fragment_name.as_str();
                    if let Some(keys) = self.keys.get(name) {
                        out.extend(keys.iter().copied());
                        continue;
                    }
                    let Some(fragment) = self.fragments.get(name).copied() else {
                        continue;
                    };
                    if self.visiting.contains(&name) {
                        continue;
                    }
                    self.visiting.push(name);
                    let mut keys = BTreeSet::new();
                    self.collect_keys(&fragment.selection_set, &mut keys);
                    self.visiting.pop();
                    out.extend(keys.iter().copied());
                    self.keys.insert(name, keys);
                }
            }
        }
    }

    /// Measures a selection set inside an introspection field.
    fn measure(&mut self, set: &'a SelectionSet) -> Measure<'a> {
        let mut keys = BTreeSet::new();
        self.collect_keys(set, &mut keys);
        let mut m = Measure {
            repeated: has_repeated_field(&keys),
            ..Measure::default()
        };
        for selection in &set.items {
            let inner = match selection {
                Selection::Field(field) => {
                    let below = self.measure(&field.selection_set);
                    let is_of_type = field.name == "ofType";
                    let of_type_prefix = if is_of_type {
                        below.of_type_prefix.saturating_add(1)
                    } else {
                        0
                    };
                    let has_children = !field.selection_set.items.is_empty();
                    Measure {
                        depth: below.depth.saturating_add(1),
                        of_type_prefix,
                        of_type_max: below.of_type_max.max(of_type_prefix),
                        lists: below.lists.saturating_add(usize::from(
                            has_children && is_list_field(&field.name),
                        )),
                        repeated: below.repeated,
                    }
                }
                Selection::InlineFragment(inline) => self.measure(&inline.selection_set),
                Selection::FragmentSpread(spread) => self.fragment(&spread.fragment_name),
            };
            m = m.merge(inner);
        }
        m
    }

    fn fragment(&mut self, name: &'a str) -> Measure<'a> {
        if let Some(m) = self.measured.get(name) {
            return *m;
        }
        let Some(fragment) = self.fragments.get(name).copied() else {
            return Measure::default();
        };
        if self.visiting.contains(&name) {
            return Measure::default();
        }
        self.visiting.push(name);
        let m = self.measure(&fragment.selection_set);
        self.visiting.pop();
        self.measured.insert(name, m);
        m
    }
}

/// The first field name that appears under two response names, if any.
fn has_repeated_field<'a>(keys: &BTreeSet<(&'a str, &'a str)>) -> Option<&'a str> {
    let mut previous: Option<&str> = None;
    for (name, _) in keys {
        if previous == Some(*name) {
            return Some(name);
        }
        previous = Some(name);
    }
    None
}

fn operation_selection(parsed: &ParsedOperation) -> &SelectionSet {
    match parsed.operation() {
        OperationDefinition::SelectionSet(set) => set,
        OperationDefinition::Query(q) => &q.selection_set,
        OperationDefinition::Mutation(m) => &m.selection_set,
        OperationDefinition::Subscription(s) => &s.selection_set,
    }
}

/// Checks the introspection fields of an operation (nothing to do when it has none).
pub fn check(parsed: &ParsedOperation, config: &IntrospectionConfig) -> Result<(), Rejection> {
    if !parsed.uses_introspection() {
        return Ok(());
    }
    let mut walker = Walker::new(parsed);
    let root = operation_selection(parsed);
    if let Some(field) = walker.repeated_at_root(root) {
        return Err(Rejection::IntrospectionRepeated {
            field: field.to_owned(),
        });
    }
    let measure = walker.root(root);
    if let Some(field) = measure.repeated {
        return Err(Rejection::IntrospectionRepeated {
            field: field.to_owned(),
        });
    }
    IntrospectionShape {
        depth: measure.depth,
        of_type_depth: measure.of_type_max,
        list_depth: measure.lists,
    }
    .check(config)
}

impl<'a> Walker<'a> {
    /// `__schema` under two response names, or `__type` twice with the same arguments.
    fn repeated_at_root(&self, set: &'a SelectionSet) -> Option<&'static str> {
        let mut found = BTreeSet::new();
        let mut visited = Vec::new();
        self.root_introspection_fields(set, &mut found, &mut visited);
        let mut schema_keys = found.iter().filter(|(name, _, _)| *name == "__schema");
        if schema_keys.nth(1).is_some() {
            return Some("__schema");
        }
        let mut seen_arguments = BTreeSet::new();
        for (name, arguments, _) in &found {
            if *name == "__type" && !seen_arguments.insert(arguments.as_str()) {
                return Some("__type");
            }
        }
        None
    }

    /// (field name, arguments as text, response name) of root introspection fields; each
    /// fragment is read once, which is enough as the result is a set.
    fn root_introspection_fields(
        &self,
        set: &'a SelectionSet,
        out: &mut BTreeSet<(&'a str, String, &'a str)>,
        visited: &mut Vec<&'a str>,
    ) {
        for selection in &set.items {
            match selection {
                Selection::Field(field) if is_root_introspection(&field.name) => {
                    let arguments: Vec<String> = field
                        .arguments
                        .iter()
                        .map(|(name, value)| format!("{name}:{value}"))
                        .collect();
                    let key = field.alias.as_deref().unwrap_or(&field.name);
                    out.insert((field.name.as_str(), arguments.join(","), key));
                }
                Selection::Field(_) => {}
                Selection::InlineFragment(inline) => {
                    self.root_introspection_fields(&inline.selection_set, out, visited)
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.fragment_name.as_str();
                    if visited.contains(&name) {
                        continue;
                    }
                    visited.push(name);
                    if let Some(fragment) = self.fragments.get(name).copied() {
                        self.root_introspection_fields(&fragment.selection_set, out, visited);
                    }
                }
            }
        }
    }

    /// Measures only the introspection fields of the root selection set (through
    /// fragments, each measured once).
    fn root(&mut self, set: &'a SelectionSet) -> Measure<'a> {
        let mut m = Measure::default();
        for selection in &set.items {
            let inner = match selection {
                Selection::Field(field) if is_root_introspection(&field.name) => {
                    let below = self.measure(&field.selection_set);
                    Measure {
                        depth: below.depth.saturating_add(1),
                        of_type_prefix: 0,
                        ..below
                    }
                }
                Selection::Field(_) => Measure::default(),
                Selection::InlineFragment(inline) => self.root(&inline.selection_set),
                Selection::FragmentSpread(spread) => {
                    let name = spread.fragment_name.as_str();
                    if let Some(m) = self.measured_at_root.get(name) {
                        *m
                    } else {
                        let Some(fragment) = self.fragments.get(name).copied() else {
                            continue;
                        };
                        if self.visiting.contains(&name) {
                            continue;
                        }
                        self.visiting.push(name);
                        let inner = self.root(&fragment.selection_set);
                        self.visiting.pop();
                        self.measured_at_root.insert(name, inner);
                        inner
                    }
                }
            };
            m = m.merge(inner);
        }
        m
    }
}

/// Whether the operation only introspects (`__typename` aside): such documents are held
/// to `introspection.max_tokens` instead of `limits.max_tokens`.
pub fn only_introspection(parsed: &ParsedOperation) -> bool {
    parsed.uses_introspection()
        && super::cache::root_fields(parsed)
            .iter()
            .all(|f| is_root_introspection(f) || *f == "__typename")
}
