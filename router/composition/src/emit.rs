//! Printing the supergraph SDL.
//!
//! The output links `link/v1.0` and `join/v0.3` (`join/v0.4` when a progressive
//! `@override(label:)` needs `overrideLabel`), plus `tag/v0.3` and `inaccessible/v0.2`
//! when used: the join versions the query planner reads completely and the ones other
//! federation v2 composers emit for these features. Types are sorted by name and
//! everything else follows the (sorted) subgraph order, so the same input always prints
//! the same bytes and the file can be checked for drift.

use std::fmt::Write as _;

use crate::merge::{JoinField, JoinType, SuperField, SuperInputValue, SuperType, SupergraphModel};
use crate::subgraph::{Exposure, Kind};

const JOIN_ENUM_VALUE_DEFINITION: &str =
    "directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE\n\n";

/// `@join__field` of join v0.3.
const JOIN_FIELD_DEFINITION: &str = r#"directive @join__field(
  graph: join__Graph
  requires: join__FieldSet
  provides: join__FieldSet
  type: String
  external: Boolean
  override: String
  usedOverridden: Boolean
) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION

"#;

/// `@join__field` of join v0.4, which adds progressive override labels.
const JOIN_FIELD_DEFINITION_V04: &str = r#"directive @join__field(
  graph: join__Graph
  requires: join__FieldSet
  provides: join__FieldSet
  type: String
  external: Boolean
  override: String
  usedOverridden: Boolean
  overrideLabel: String
) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION

"#;

const JOIN_DEFINITIONS: &str = r#"directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE

directive @join__type(
  graph: join__Graph!
  key: join__FieldSet
  extension: Boolean! = false
  resolvable: Boolean! = true
  isInterfaceObject: Boolean! = false
) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR

directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION

directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

scalar join__FieldSet

scalar link__Import

enum link__Purpose {
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY

  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}
"#;

const TAG_DEFINITION: &str = "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION | SCHEMA\n";

const INACCESSIBLE_DEFINITION: &str = "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION\n";

/// Which optional specs the supergraph uses.
#[derive(Default)]
struct Used {
    tag: bool,
    inaccessible: bool,
    /// Progressive override labels need join v0.4.
    override_label: bool,
}

impl Used {
    fn note(&mut self, e: &Exposure) {
        self.tag |= !e.tags.is_empty();
        self.inaccessible |= e.inaccessible;
    }

    fn scan(model: &SupergraphModel) -> Self {
        let mut used = Used {
            tag: model.subgraphs_tag,
            inaccessible: model.subgraphs_inaccessible,
            override_label: false,
        };
        for t in model.types.values() {
            used.note(&t.exposure);
            for f in &t.fields {
                used.note(&f.exposure);
                used.override_label |= f.join.iter().flatten().any(|j| j.override_label.is_some());
                f.args.iter().for_each(|a| used.note(&a.exposure));
            }
            t.input_fields.iter().for_each(|f| used.note(&f.exposure));
            t.values.iter().for_each(|v| used.note(&v.exposure));
        }
        used
    }
}

pub(crate) fn print(model: &SupergraphModel) -> String {
    let used = Used::scan(model);
    let mut out = String::new();

    out.push_str("schema\n  @link(url: \"https://specs.apollo.dev/link/v1.0\")\n");
    let join_version = if used.override_label { "v0.4" } else { "v0.3" };
    let _ = writeln!(
        out,
        "  @link(url: \"https://specs.apollo.dev/join/{join_version}\", for: EXECUTION)"
    );
    if used.tag {
        out.push_str("  @link(url: \"https://specs.apollo.dev/tag/v0.3\")\n");
    }
    if used.inaccessible {
        out.push_str(
            "  @link(url: \"https://specs.apollo.dev/inaccessible/v0.2\", for: SECURITY)\n",
        );
    }
    out.push_str("{\n");
    for (op, name) in [
        ("query", "Query"),
        ("mutation", "Mutation"),
        ("subscription", "Subscription"),
    ] {
        if model.types.contains_key(name) {
            let _ = writeln!(out, "  {op}: {name}");
        }
    }
    out.push_str("}\n\n");

    out.push_str(JOIN_ENUM_VALUE_DEFINITION);
    out.push_str(if used.override_label {
        JOIN_FIELD_DEFINITION_V04
    } else {
        JOIN_FIELD_DEFINITION
    });
    out.push_str(JOIN_DEFINITIONS);
    if used.tag {
        out.push('\n');
        out.push_str(TAG_DEFINITION);
    }
    if used.inaccessible {
        out.push('\n');
        out.push_str(INACCESSIBLE_DEFINITION);
    }

    out.push_str("\nenum join__Graph {\n");
    for (value, name, url) in &model.graphs {
        let _ = writeln!(
            out,
            "  {value} @join__graph(name: {}, url: {})",
            quote(name),
            quote(url)
        );
    }
    out.push_str("}\n");

    for ty in model.types.values() {
        out.push('\n');
        print_type(&mut out, ty);
    }
    out
}

fn print_type(out: &mut String, ty: &SuperType) {
    print_description(out, ty.description.as_deref(), "");
    let keyword = match ty.kind {
        Kind::Scalar => "scalar",
        Kind::Object => "type",
        Kind::Interface => "interface",
        Kind::Union => "union",
        Kind::Enum => "enum",
        Kind::InputObject => "input",
    };
    let _ = write!(out, "{keyword} {}", ty.name);
    if !ty.implements.is_empty() {
        let mut names: Vec<&str> = ty.implements.iter().map(|(i, _)| i.as_str()).collect();
        names.sort_unstable();
        let _ = write!(out, " implements {}", names.join(" & "));
    }
    let directives = type_directives(ty);
    for d in &directives {
        let _ = write!(out, "\n  {d}");
    }
    match ty.kind {
        Kind::Scalar => out.push('\n'),
        Kind::Union => {
            let members: Vec<&str> = ty.members.iter().map(|(m, _)| m.as_str()).collect();
            let sep = if directives.is_empty() { " " } else { "\n  " };
            let _ = writeln!(out, "{sep}= {}", members.join(" | "));
        }
        Kind::Object | Kind::Interface => {
            open_block(out, &directives);
            for f in &ty.fields {
                print_field(out, f);
            }
            out.push_str("}\n");
        }
        Kind::InputObject => {
            open_block(out, &directives);
            for f in &ty.input_fields {
                print_input_value(out, f, "  ");
                out.push('\n');
            }
            out.push_str("}\n");
        }
        Kind::Enum => {
            open_block(out, &directives);
            for v in &ty.values {
                print_description(out, v.description.as_deref(), "  ");
                let _ = write!(out, "  {}", v.name);
                for g in &v.graphs {
                    let _ = write!(out, " @join__enumValue(graph: {g})");
                }
                out.push_str(&exposure_directives(&v.exposure));
                out.push('\n');
            }
            out.push_str("}\n");
        }
    }
}

fn open_block(out: &mut String, directives: &[String]) {
    out.push_str(if directives.is_empty() {
        " {\n"
    } else {
        "\n{\n"
    });
}

fn type_directives(ty: &SuperType) -> Vec<String> {
    let mut out: Vec<String> = ty.join_types.iter().map(join_type).collect();
    let mut implements: Vec<(&str, &str)> = ty
        .implements
        .iter()
        .flat_map(|(i, graphs)| graphs.iter().map(move |g| (g.as_str(), i.as_str())))
        .collect();
    implements.sort_unstable();
    for (g, i) in implements {
        out.push(format!(
            "@join__implements(graph: {g}, interface: {})",
            quote(i)
        ));
    }
    let mut members: Vec<(&str, usize, &str)> = ty
        .members
        .iter()
        .enumerate()
        .flat_map(|(pos, (m, graphs))| graphs.iter().map(move |g| (g.as_str(), pos, m.as_str())))
        .collect();
    members.sort_unstable();
    for (g, _, m) in members {
        out.push(format!(
            "@join__unionMember(graph: {g}, member: {})",
            quote(m)
        ));
    }
    if ty.exposure.inaccessible {
        out.push("@inaccessible".to_owned());
    }
    for tag in &ty.exposure.tags {
        out.push(format!("@tag(name: {})", quote(tag)));
    }
    if let Some(url) = &ty.specified_by {
        out.push(format!("@specifiedBy(url: {})", quote(url)));
    }
    out
}

fn join_type(j: &JoinType) -> String {
    let mut s = format!("@join__type(graph: {}", j.graph);
    if let Some(key) = &j.key {
        let _ = write!(s, ", key: {}", quote(key));
    }
    if j.extension {
        s.push_str(", extension: true");
    }
    if !j.resolvable {
        s.push_str(", resolvable: false");
    }
    if j.interface_object {
        s.push_str(", isInterfaceObject: true");
    }
    s.push(')');
    s
}

fn join_field(j: &JoinField) -> String {
    let mut args = Vec::new();
    if let Some(g) = &j.graph {
        args.push(format!("graph: {g}"));
    }
    if let Some(r) = &j.requires {
        args.push(format!("requires: {}", quote(r)));
    }
    if let Some(p) = &j.provides {
        args.push(format!("provides: {}", quote(p)));
    }
    if let Some(t) = &j.ty {
        args.push(format!("type: {}", quote(t)));
    }
    if j.external {
        args.push("external: true".to_owned());
    }
    if let Some(o) = &j.override_from {
        args.push(format!("override: {}", quote(o)));
    }
    if j.used_overridden {
        args.push("usedOverridden: true".to_owned());
    }
    if let Some(label) = &j.override_label {
        args.push(format!("overrideLabel: {}", quote(label)));
    }
    if args.is_empty() {
        "@join__field".to_owned()
    } else {
        format!("@join__field({})", args.join(", "))
    }
}

fn print_field(out: &mut String, f: &SuperField) {
    print_description(out, f.description.as_deref(), "  ");
    let _ = write!(out, "  {}", f.name);
    print_arguments(out, &f.args);
    let _ = write!(out, ": {}", f.ty);
    for j in f.join.iter().flatten() {
        let _ = write!(out, " {}", join_field(j));
    }
    out.push_str(&exposure_directives(&f.exposure));
    out.push('\n');
}

fn print_arguments(out: &mut String, args: &[SuperInputValue]) {
    if args.is_empty() {
        return;
    }
    if args.iter().all(|a| a.description.is_none()) {
        let parts: Vec<String> = args
            .iter()
            .map(|a| {
                let mut s = String::new();
                print_input_value(&mut s, a, "");
                s
            })
            .collect();
        let _ = write!(out, "({})", parts.join(", "));
        return;
    }
    out.push_str("(\n");
    for a in args {
        print_input_value(out, a, "    ");
        out.push('\n');
    }
    out.push_str("  )");
}

fn print_input_value(out: &mut String, v: &SuperInputValue, indent: &str) {
    if !indent.is_empty() {
        print_description(out, v.description.as_deref(), indent);
    }
    let _ = write!(out, "{indent}{}: {}", v.name, v.ty);
    if let Some(d) = &v.default {
        let _ = write!(out, " = {d}");
    }
    for j in v.join.iter().flatten() {
        let _ = write!(out, " {}", join_field(j));
    }
    out.push_str(&exposure_directives(&v.exposure));
}

fn exposure_directives(e: &Exposure) -> String {
    let mut s = String::new();
    if let Some(reason) = &e.deprecated {
        match reason {
            Some(r) => {
                let _ = write!(s, " @deprecated(reason: {})", quote(r));
            }
            None => s.push_str(" @deprecated"),
        }
    }
    if e.inaccessible {
        s.push_str(" @inaccessible");
    }
    for tag in &e.tags {
        let _ = write!(s, " @tag(name: {})", quote(tag));
    }
    s
}

fn print_description(out: &mut String, description: Option<&str>, indent: &str) {
    let Some(text) = description else { return };
    let escaped = text.replace("\"\"\"", "\\\"\"\"");
    let _ = writeln!(out, "{indent}\"\"\"");
    for line in escaped.lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{indent}{line}");
        }
    }
    let _ = writeln!(out, "{indent}\"\"\"");
}

/// A GraphQL string literal.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes() {
        assert_eq!(quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }

    #[test]
    fn bare_join_field_has_no_parentheses() {
        assert_eq!(join_field(&JoinField::default()), "@join__field");
        let j = JoinField {
            graph: Some("A".into()),
            external: true,
            ..JoinField::default()
        };
        assert_eq!(join_field(&j), "@join__field(graph: A, external: true)");
    }
}
