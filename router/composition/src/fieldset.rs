//! Field sets: the selection strings of `@key`, `@requires` and `@provides`.
//!
//! They are parsed as a selection set and checked against the type they apply to in the
//! subgraph that wrote them.

use graphql_parser::query::{
    Definition, OperationDefinition, Selection, SelectionSet, TypeCondition,
};

use crate::subgraph::{Kind, Subgraph};

/// One selected field, with what it selects below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selected {
    /// The type the field was selected on (differs from the parent under `... on T`).
    pub parent: String,
    pub name: String,
    pub has_args: bool,
    pub children: Vec<Selected>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum FieldSetError {
    #[error("cannot parse \"{0}\": {1}")]
    Syntax(String, String),
    #[error("field \"{0}.{1}\" does not exist")]
    UnknownField(String, String),
    #[error("type \"{0}\" in a type condition does not exist")]
    UnknownType(String),
    #[error("field \"{0}.{1}\" is a leaf and cannot have a selection")]
    SelectionOnLeaf(String, String),
    #[error("field \"{0}.{1}\" returns a composite type and needs a selection")]
    MissingSelection(String, String),
    #[error("fragment spreads are not allowed in field sets")]
    FragmentSpread,
}

/// Parses `fields` and resolves it from `parent` in `subgraph`.
pub(crate) fn resolve(
    subgraph: &Subgraph,
    parent: &str,
    fields: &str,
) -> Result<Vec<Selected>, FieldSetError> {
    let text = format!("{{{fields}}}");
    let doc = graphql_parser::parse_query::<String>(&text)
        .map_err(|e| FieldSetError::Syntax(fields.to_owned(), e.to_string()))?;
    let selection = doc
        .definitions
        .into_iter()
        .find_map(|d| match d {
            Definition::Operation(OperationDefinition::SelectionSet(s)) => Some(s),
            _ => None,
        })
        .ok_or_else(|| {
            FieldSetError::Syntax(fields.to_owned(), "not a selection set".to_owned())
        })?;
    let mut out = Vec::new();
    walk(subgraph, parent, &selection, &mut out)?;
    Ok(out)
}

fn walk(
    subgraph: &Subgraph,
    parent: &str,
    set: &SelectionSet<'_, String>,
    out: &mut Vec<Selected>,
) -> Result<(), FieldSetError> {
    for item in &set.items {
        match item {
            Selection::Field(f) => {
                if f.name == "__typename" {
                    continue;
                }
                let field = subgraph
                    .ty(parent)
                    .and_then(|t| t.field(&f.name))
                    .ok_or_else(|| {
                        FieldSetError::UnknownField(parent.to_owned(), f.name.clone())
                    })?;
                let target = field.ty.base();
                let composite = subgraph.ty(target).is_some_and(|t| {
                    matches!(t.kind, Kind::Object | Kind::Interface | Kind::Union)
                });
                let mut children = Vec::new();
                match (composite, f.selection_set.items.is_empty()) {
                    (true, true) => {
                        return Err(FieldSetError::MissingSelection(
                            parent.to_owned(),
                            f.name.clone(),
                        ));
                    }
                    (false, false) => {
                        return Err(FieldSetError::SelectionOnLeaf(
                            parent.to_owned(),
                            f.name.clone(),
                        ));
                    }
                    (true, false) => walk(subgraph, target, &f.selection_set, &mut children)?,
                    (false, true) => {}
                }
                out.push(Selected {
                    parent: parent.to_owned(),
                    name: f.name.clone(),
                    has_args: !f.arguments.is_empty(),
                    children,
                });
            }
            Selection::InlineFragment(frag) => {
                let on = match &frag.type_condition {
                    Some(TypeCondition::On(t)) => t.as_str(),
                    None => parent,
                };
                if subgraph.ty(on).is_none() {
                    return Err(FieldSetError::UnknownType(on.to_owned()));
                }
                walk(subgraph, on, &frag.selection_set, out)?;
            }
            Selection::FragmentSpread(_) => return Err(FieldSetError::FragmentSpread),
        }
    }
    Ok(())
}

/// Every `(parent type, field)` the selection touches, depth first.
pub(crate) fn flatten(selected: &[Selected]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    fn go(s: &[Selected], out: &mut Vec<(String, String)>) {
        for f in s {
            out.push((f.parent.clone(), f.name.clone()));
            go(&f.children, out);
        }
    }
    go(selected, &mut out);
    out
}

/// Collapses whitespace so field sets written differently compare equal.
pub(crate) fn normalize(fields: &str) -> String {
    let mut out = String::new();
    let mut pending_space = false;
    for c in fields.chars() {
        if c.is_whitespace() || c == ',' {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space
            && !matches!(c, '{' | '}' | '(' | ')' | ':')
            && !out.ends_with(['{', '(', ':'])
        {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subgraph;

    fn sg() -> Subgraph {
        subgraph::parse(
            "a",
            "http://a",
            "type Query { p: P } type P { id: ID! v: V n(x: Int): Int } type V { code: String! }",
            &mut Vec::new(),
        )
        .expect("valid")
    }

    #[test]
    fn resolves_nested_selections() {
        let s = resolve(&sg(), "P", "id v { code }").expect("resolves");
        assert_eq!(
            flatten(&s),
            vec![
                ("P".into(), "id".into()),
                ("P".into(), "v".into()),
                ("V".into(), "code".into())
            ]
        );
    }

    #[test]
    fn reports_unknown_fields_and_bad_selections() {
        assert_eq!(
            resolve(&sg(), "P", "nope"),
            Err(FieldSetError::UnknownField("P".into(), "nope".into()))
        );
        assert_eq!(
            resolve(&sg(), "P", "v"),
            Err(FieldSetError::MissingSelection("P".into(), "v".into()))
        );
        assert_eq!(
            resolve(&sg(), "P", "id { x }"),
            Err(FieldSetError::SelectionOnLeaf("P".into(), "id".into()))
        );
        assert!(matches!(
            resolve(&sg(), "P", "id {"),
            Err(FieldSetError::Syntax(..))
        ));
    }

    #[test]
    fn arguments_are_noted() {
        let s = resolve(&sg(), "P", "n(x: 1)").expect("resolves");
        assert!(s[0].has_args);
    }

    #[test]
    fn normalize_collapses_whitespace() {
        assert_eq!(normalize("  a  b {\n c  d }"), "a b{c d}");
        assert_eq!(normalize("a b{c d}"), "a b{c d}");
    }
}
