//! Shape-limit stage: depth, aliases and root fields of the selected operation.
//!
//! Runs on the executor's parsed document, before any planning. Fragments are expanded
//! as the executor would expand them, so a small document that spreads one fragment many
//! times is measured by what it asks for, not by its size. Each fragment is measured once
//! and memoised, which keeps this linear in the document even for "fragment bombs".
//! Validation has already refused fragment cycles; the walker still guards against them.
//!
//! Root `__schema` and `__type` fields count as root fields but are otherwise measured by
//! the introspection guard ([`super::introspection`]), whose limits admit the standard
//! introspection query that tools send.

use std::collections::HashMap;

use executor::{
    ParsedOperation,
    ast::{Definition, Field, FragmentDefinition, OperationDefinition, Selection, SelectionSet},
};

use super::{introspection::is_root_introspection, rejection::Rejection};
use crate::config::LimitsConfig;

/// Measurements of one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Shape {
    /// Deepest field nesting; a root field is at depth 1.
    pub depth: usize,
    /// Aliased fields, counted once per expansion.
    pub aliases: usize,
    /// Fields selected at the root, after inlining fragments.
    pub root_fields: usize,
}

impl Shape {
    /// The first limit this shape exceeds, checked in a fixed order.
    pub fn check(&self, limits: &LimitsConfig) -> Result<(), Rejection> {
        if self.depth > limits.max_depth {
            return Err(Rejection::MaxDepth {
                actual: self.depth,
                max: limits.max_depth,
            });
        }
        if self.aliases > limits.max_aliases {
            return Err(Rejection::MaxAliases {
                actual: self.aliases,
                max: limits.max_aliases,
            });
        }
        if self.root_fields > limits.max_root_fields {
            return Err(Rejection::MaxRootFields {
                actual: self.root_fields,
                max: limits.max_root_fields,
            });
        }
        Ok(())
    }
}

struct Walker<'a> {
    fragments: HashMap<&'a str, &'a FragmentDefinition>,
    memo: HashMap<&'a str, Shape>,
    memo_at_root: HashMap<&'a str, Shape>,
    visiting: Vec<&'a str>,
}

impl<'a> Walker<'a> {
    /// Measures the operation's own selection set, leaving introspection fields out of
    /// everything but the root-field count.
    fn measure_root(&mut self, set: &'a SelectionSet) -> Shape {
        let mut m = Shape::default();
        for selection in &set.items {
            let inner = match selection {
                Selection::Field(field) if is_root_introspection(&field.name) => Shape {
                    root_fields: 1,
                    ..Shape::default()
                },
                Selection::Field(field) => self.field(field),
                Selection::InlineFragment(inline) => self.measure_root(&inline.selection_set),
                Selection::FragmentSpread(spread) => {
                    let name = spread.fragment_name.as_str();
                    if let Some(m) = self.memo_at_root.get(name) {
                        *m
                    } else {
                        let Some(fragment) = self.fragments.get(name).copied() else {
                            continue;
                        };
                        if self.visiting.contains(&name) {
                            continue;
                        }
                        self.visiting.push(name);
                        let inner = self.measure_root(&fragment.selection_set);
                        self.visiting.pop();
                        self.memo_at_root.insert(name, inner);
                        inner
                    }
                }
            };
            m = merge(m, inner);
        }
        m
    }

    /// Measures a selection set: `root_fields` counts the fields of its own level
    /// (through fragments), `depth` and `aliases` cover everything below it.
    fn measure(&mut self, set: &'a SelectionSet) -> Shape {
        let mut m = Shape::default();
        for selection in &set.items {
            match selection {
                Selection::Field(field) => {
                    let inner = self.field(field);
                    m = merge(m, inner);
                }
                Selection::InlineFragment(inline) => {
                    let inner = self.measure(&inline.selection_set);
                    m = merge(m, inner);
                }
                Selection::FragmentSpread(spread) => {
                    let inner = self.fragment(&spread.fragment_name);
                    m = merge(m, inner);
                }
            }
        }
        m
    }

    /// One field: a root field of its level, one deeper than what it selects.
    fn field(&mut self, field: &'a Field) -> Shape {
        let below = self.measure(&field.selection_set);
        Shape {
            depth: below.depth.saturating_add(1),
            aliases: below
                .aliases
                .saturating_add(usize::from(field.alias.is_some())),
            root_fields: 1,
        }
    }

    fn fragment(&mut self, name: &'a str) -> Shape {
        if let Some(m) = self.memo.get(name) {
            return *m;
        }
        let Some(fragment) = self.fragments.get(name).copied() else {
            return Shape::default();
        };
        if self.visiting.contains(&name) {
            return Shape::default();
        }
        self.visiting.push(name);
        let m = self.measure(&fragment.selection_set);
        self.visiting.pop();
        self.memo.insert(name, m);
        m
    }
}

fn merge(a: Shape, b: Shape) -> Shape {
    Shape {
        depth: a.depth.max(b.depth),
        aliases: a.aliases.saturating_add(b.aliases),
        root_fields: a.root_fields.saturating_add(b.root_fields),
    }
}

/// Measures the operation the executor selected.
pub fn measure(parsed: &ParsedOperation) -> Shape {
    let fragments = parsed
        .document()
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Fragment(f) => Some((f.name.as_str(), f)),
            Definition::Operation(_) => None,
        })
        .collect();
    let selection_set = match parsed.operation() {
        OperationDefinition::SelectionSet(set) => set,
        OperationDefinition::Query(q) => &q.selection_set,
        OperationDefinition::Mutation(m) => &m.selection_set,
        OperationDefinition::Subscription(s) => &s.selection_set,
    };
    let mut walker = Walker {
        fragments,
        memo: HashMap::new(),
        memo_at_root: HashMap::new(),
        visiting: Vec::new(),
    };
    walker.measure_root(selection_set)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUPERGRAPH: &str = include_str!("../../tests/fixtures/supergraph.graphql");

    fn shape(query: &str) -> Shape {
        let executor =
            executor::Executor::new(SUPERGRAPH, executor::ExecutorConfig::default()).unwrap();
        let parsed = executor.parse(query, None).unwrap();
        measure(&parsed)
    }

    #[test]
    fn measures_plain_selections() {
        let s = shape("{ products { id n: name } x: __typename }");
        assert_eq!(
            s,
            Shape {
                depth: 2,
                aliases: 2,
                root_fields: 2
            }
        );
    }

    #[test]
    fn expands_fragments_with_multiplicity() {
        let s = shape(
            "{ ...R ...R } fragment R on Query { a: me { ...L } b: me { ...L } } \
             fragment L on User { x: orders { id } }",
        );
        // Each R gives 2 aliased root fields, and each of those one alias from L.
        assert_eq!(s.root_fields, 4);
        assert_eq!(s.aliases, 8);
        assert_eq!(s.depth, 3);
    }

    #[test]
    fn limits_are_checked_in_order() {
        let limits = LimitsConfig {
            max_depth: 2,
            max_aliases: 1,
            ..LimitsConfig::default()
        };
        let s = Shape {
            depth: 3,
            aliases: 5,
            root_fields: 1,
        };
        assert_eq!(s.check(&limits).unwrap_err().code(), "MAX_DEPTH_EXCEEDED");
        let s = Shape {
            depth: 2,
            aliases: 5,
            root_fields: 1,
        };
        assert_eq!(s.check(&limits).unwrap_err().code(), "MAX_ALIASES_EXCEEDED");
        let limits = LimitsConfig {
            max_root_fields: 1,
            ..LimitsConfig::default()
        };
        let s = Shape {
            depth: 1,
            aliases: 0,
            root_fields: 2,
        };
        assert_eq!(
            s.check(&limits).unwrap_err().code(),
            "MAX_ROOT_FIELDS_EXCEEDED"
        );
        assert!(Shape::default().check(&limits).is_ok());
    }
}
