//! A semantic view of a supergraph SDL, for comparing two composers: every type, field,
//! argument, enum value, union member, interface and directive application becomes one
//! "fact" string, with argument order and field-set whitespace normalised. Descriptions,
//! definition order and the definitions of the spec directives themselves are left out.

use std::collections::BTreeSet;

use graphql_parser::schema::{Definition, Directive, Field, InputValue, TypeDefinition, Value};

/// Directives whose applications are compared.
const COMPARED: [&str; 9] = [
    "join__type",
    "join__field",
    "join__implements",
    "join__unionMember",
    "join__enumValue",
    "inaccessible",
    "tag",
    "deprecated",
    "specifiedBy",
];

/// Arguments that are left out when they have their default value.
const DEFAULTS: [(&str, &str); 5] = [
    ("extension", "false"),
    ("resolvable", "true"),
    ("isInterfaceObject", "false"),
    ("external", "false"),
    ("usedOverridden", "false"),
];

pub fn facts(sdl: &str) -> BTreeSet<String> {
    let doc = graphql_parser::parse_schema::<String>(sdl)
        .unwrap_or_else(|e| panic!("supergraph does not parse: {e}\n{sdl}"));
    let mut out = BTreeSet::new();
    for def in &doc.definitions {
        match def {
            Definition::SchemaDefinition(s) => {
                for d in &s.directives {
                    if d.name == "link" {
                        out.insert(format!("schema link {}", directive(d)));
                    }
                }
                for (op, t) in [
                    ("query", &s.query),
                    ("mutation", &s.mutation),
                    ("subscription", &s.subscription),
                ] {
                    if let Some(t) = t {
                        out.insert(format!("schema {op}: {t}"));
                    }
                }
            }
            Definition::TypeDefinition(td) => type_facts(td, &mut out),
            Definition::DirectiveDefinition(_) | Definition::TypeExtension(_) => {}
        }
    }
    out
}

fn is_spec_type(name: &str) -> bool {
    name.starts_with("join__") || name.starts_with("link__")
}

fn type_facts(td: &TypeDefinition<'_, String>, out: &mut BTreeSet<String>) {
    let (kind, name, directives) = match td {
        TypeDefinition::Scalar(t) => ("scalar", &t.name, &t.directives),
        TypeDefinition::Object(t) => ("type", &t.name, &t.directives),
        TypeDefinition::Interface(t) => ("interface", &t.name, &t.directives),
        TypeDefinition::Union(t) => ("union", &t.name, &t.directives),
        TypeDefinition::Enum(t) => ("enum", &t.name, &t.directives),
        TypeDefinition::InputObject(t) => ("input", &t.name, &t.directives),
    };
    if is_spec_type(name) {
        return;
    }
    out.insert(format!("{name} is {kind}"));
    directive_facts(name, directives, out);
    match td {
        TypeDefinition::Object(t) => {
            for i in &t.implements_interfaces {
                out.insert(format!("{name} implements {i}"));
            }
            t.fields.iter().for_each(|f| field_facts(name, f, out));
        }
        TypeDefinition::Interface(t) => {
            for i in &t.implements_interfaces {
                out.insert(format!("{name} implements {i}"));
            }
            t.fields.iter().for_each(|f| field_facts(name, f, out));
        }
        TypeDefinition::Union(t) => {
            for m in &t.types {
                out.insert(format!("{name} has member {m}"));
            }
        }
        TypeDefinition::Enum(t) => {
            for v in &t.values {
                let coordinate = format!("{name}.{}", v.name);
                out.insert(format!("{coordinate} is value"));
                directive_facts(&coordinate, &v.directives, out);
            }
        }
        TypeDefinition::InputObject(t) => t
            .fields
            .iter()
            .for_each(|f| input_value_facts(&format!("{name}.{}", f.name), f, out)),
        TypeDefinition::Scalar(_) => {}
    }
}

fn field_facts(parent: &str, f: &Field<'_, String>, out: &mut BTreeSet<String>) {
    let coordinate = format!("{parent}.{}", f.name);
    out.insert(format!("{coordinate}: {}", f.field_type));
    directive_facts(&coordinate, &f.directives, out);
    for a in &f.arguments {
        input_value_facts(&format!("{coordinate}({}:)", a.name), a, out);
    }
}

fn input_value_facts(coordinate: &str, v: &InputValue<'_, String>, out: &mut BTreeSet<String>) {
    match &v.default_value {
        Some(d) => out.insert(format!("{coordinate}: {} = {}", v.value_type, value(d))),
        None => out.insert(format!("{coordinate}: {}", v.value_type)),
    };
    directive_facts(coordinate, &v.directives, out);
}

fn directive_facts(
    coordinate: &str,
    directives: &[Directive<'_, String>],
    out: &mut BTreeSet<String>,
) {
    for d in directives
        .iter()
        .filter(|d| COMPARED.contains(&d.name.as_str()))
    {
        out.insert(format!("{coordinate} {}", directive(d)));
    }
}

fn directive(d: &Directive<'_, String>) -> String {
    let mut args: Vec<String> = d
        .arguments
        .iter()
        .filter(|(n, v)| !DEFAULTS.iter().any(|(dn, dv)| dn == n && value(v) == *dv))
        .map(|(n, v)| {
            let printed = match (n.as_str(), v) {
                ("key" | "requires" | "provides", Value::String(s)) => {
                    format!("\"{}\"", normalize_field_set(s))
                }
                _ => value(v),
            };
            format!("{n}: {printed}")
        })
        .collect();
    args.sort();
    if args.is_empty() {
        format!("@{}", d.name)
    } else {
        format!("@{}({})", d.name, args.join(", "))
    }
}

fn value(v: &Value<'_, String>) -> String {
    v.to_string()
}

/// `a  b { c }`, `a b{c}` and `f(x:1)`/`f(x: 1)` are the same field sets.
pub fn normalize_field_set(s: &str) -> String {
    let mut spaced = s.replace(',', " ").replace("...", " ... ");
    for punct in ['{', '}', '(', ')', ':'] {
        spaced = spaced.replace(punct, &format!(" {punct} "));
    }
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}
