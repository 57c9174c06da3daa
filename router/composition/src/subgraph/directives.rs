//! Recognising the federation directives: a subgraph may import them under other names
//! (`import: [{ name: "@key", as: "@primaryKey" }]`) or use the `federation__`
//! namespace, so the `@link` on its schema decides which names mean what. Federation
//! directives that composition does not handle are reported as warnings here.

use std::collections::{BTreeSet, HashMap};

use graphql_parser::schema::{
    Definition, Directive, Document, EnumValue, Field, TypeDefinition, TypeExtension, Value,
};

use crate::error::{CompositionError, ErrorCode};

/// The federation directives, by their spec name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Fed {
    Key,
    Shareable,
    External,
    Requires,
    Provides,
    Override,
    Inaccessible,
    Tag,
    InterfaceObject,
    Extends,
    /// Recognised but not composed (named by its spec name, for the warning).
    Ignored(&'static str),
}

const FED_DIRECTIVES: [(&str, Fed); 18] = [
    ("key", Fed::Key),
    ("shareable", Fed::Shareable),
    ("external", Fed::External),
    ("requires", Fed::Requires),
    ("provides", Fed::Provides),
    ("override", Fed::Override),
    ("inaccessible", Fed::Inaccessible),
    ("tag", Fed::Tag),
    ("interfaceObject", Fed::InterfaceObject),
    ("extends", Fed::Extends),
    ("composeDirective", Fed::Ignored("composeDirective")),
    ("authenticated", Fed::Ignored("authenticated")),
    ("requiresScopes", Fed::Ignored("requiresScopes")),
    ("policy", Fed::Ignored("policy")),
    ("cost", Fed::Ignored("cost")),
    ("listSize", Fed::Ignored("listSize")),
    ("context", Fed::Ignored("context")),
    ("fromContext", Fed::Ignored("fromContext")),
];

/// Maps the directive names used in a subgraph to federation directives, honouring
/// `import: [{ name: "@key", as: "@primaryKey" }]` and the `federation__` namespace.
#[derive(Debug, Default)]
pub(super) struct FedNames {
    names: HashMap<String, Fed>,
    /// The subgraph links the federation spec (federation 2 or later).
    pub(super) linked: bool,
}

impl FedNames {
    pub(super) fn from_links(links: &[Directive<'_, String>]) -> Self {
        let mut names = HashMap::new();
        let fed_link = links.iter().find(|d| {
            d.name == "link"
                && arg(d, "url")
                    .and_then(as_str)
                    .is_some_and(|u| u.contains("specs.apollo.dev/federation/"))
        });
        let prefix = fed_link
            .and_then(|d| arg(d, "as").and_then(as_str))
            .unwrap_or("federation")
            .to_owned();
        for (spec, fed) in FED_DIRECTIVES {
            names.insert(format!("{prefix}__{spec}"), fed);
        }
        let mut imported = false;
        if let Some(Value::List(items)) = fed_link.and_then(|d| arg(d, "import")) {
            for item in items {
                let (name, alias) = match item {
                    Value::String(s) => (s.as_str(), s.as_str()),
                    Value::Object(obj) => {
                        let Some(name) = obj.get("name").and_then(as_str) else {
                            continue;
                        };
                        (name, obj.get("as").and_then(as_str).unwrap_or(name))
                    }
                    _ => continue,
                };
                let spec = name.trim_start_matches('@');
                if let Some((_, fed)) = FED_DIRECTIVES.iter().find(|(s, _)| *s == spec) {
                    names.insert(alias.trim_start_matches('@').to_owned(), *fed);
                    imported = true;
                }
            }
        }
        // Without an explicit import list the short names are what people write (and what
        // federation 1 style SDL uses), so they are recognised too.
        if !imported {
            for (spec, fed) in FED_DIRECTIVES {
                names.entry(spec.to_owned()).or_insert(fed);
            }
        } else {
            // `@tag`, `@inaccessible` and `@extends` are commonly written without import;
            // accepting them is harmless because no other meaning is plausible.
            for (spec, fed) in [
                ("tag", Fed::Tag),
                ("inaccessible", Fed::Inaccessible),
                ("extends", Fed::Extends),
            ] {
                names.entry(spec.to_owned()).or_insert(fed);
            }
        }
        Self {
            names,
            linked: fed_link.is_some(),
        }
    }

    pub(super) fn get(&self, directive: &str) -> Option<Fed> {
        self.names.get(directive).copied()
    }
}

pub(super) fn arg<'d, 'a>(
    d: &'d Directive<'a, String>,
    name: &str,
) -> Option<&'d Value<'a, String>> {
    d.arguments.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

pub(super) fn as_str<'v>(v: &'v Value<'_, String>) -> Option<&'v str> {
    match v {
        Value::String(s) => Some(s),
        _ => None,
    }
}

pub(super) fn as_bool(v: &Value<'_, String>) -> Option<bool> {
    match v {
        Value::Boolean(b) => Some(*b),
        _ => None,
    }
}

/// Warns about every application of a federation directive that composition ignores.
pub(super) fn warn_ignored<'a>(
    subgraph: &str,
    fed: &FedNames,
    schema_directives: &[Directive<'a, String>],
    doc: &Document<'a, String>,
    warnings: &mut Vec<CompositionError>,
) {
    for (spec, coordinate) in ignored_directives(fed, schema_directives, doc) {
        warnings.push(
            CompositionError::new(
                ErrorCode::UnsupportedDirective,
                format!("@{spec} in subgraph \"{subgraph}\" is not composed into the supergraph and has no effect"),
            )
            .with_subgraphs([subgraph])
            .with_coordinates([coordinate]),
        );
    }
}

/// Applications of federation directives that composition ignores, as `(spec name,
/// coordinate)`.
fn ignored_directives<'a>(
    fed: &FedNames,
    schema_directives: &[Directive<'a, String>],
    doc: &Document<'a, String>,
) -> BTreeSet<(&'static str, String)> {
    let no_fields: &[Field<'a, String>] = &[];
    let no_values: &[EnumValue<'a, String>] = &[];
    let mut sites: Vec<(&[Directive<'a, String>], String)> =
        vec![(schema_directives, "schema".to_owned())];
    for def in &doc.definitions {
        let (name, directives, fields, values) = match def {
            Definition::TypeDefinition(TypeDefinition::Object(t)) => {
                (&t.name, &t.directives, &t.fields[..], no_values)
            }
            Definition::TypeDefinition(TypeDefinition::Interface(t)) => {
                (&t.name, &t.directives, &t.fields[..], no_values)
            }
            Definition::TypeExtension(TypeExtension::Object(t)) => {
                (&t.name, &t.directives, &t.fields[..], no_values)
            }
            Definition::TypeExtension(TypeExtension::Interface(t)) => {
                (&t.name, &t.directives, &t.fields[..], no_values)
            }
            Definition::TypeDefinition(TypeDefinition::Enum(t)) => {
                (&t.name, &t.directives, no_fields, &t.values[..])
            }
            Definition::TypeDefinition(TypeDefinition::Scalar(t)) => {
                (&t.name, &t.directives, no_fields, no_values)
            }
            _ => continue,
        };
        sites.push((directives, name.clone()));
        for f in fields {
            sites.push((&f.directives, format!("{name}.{}", f.name)));
            for a in &f.arguments {
                sites.push((&a.directives, format!("{name}.{}({}:)", f.name, a.name)));
            }
        }
        for v in values {
            sites.push((&v.directives, format!("{name}.{}", v.name)));
        }
    }
    sites
        .into_iter()
        .flat_map(|(directives, coordinate)| {
            directives
                .iter()
                .filter_map(move |d| match fed.get(&d.name) {
                    Some(Fed::Ignored(spec)) => Some((spec, coordinate.clone())),
                    _ => None,
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::subgraph::parse;

    #[test]
    fn namespaced_directives_are_recognised() {
        let sdl = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.3\", import: [\"@key\"])\n\
                   type Query { t: T @federation__shareable }\n type T @key(fields: \"id\") { id: ID! }";
        let sg = parse("a", "http://a", sdl, &mut Vec::new()).expect("parses");
        assert!(
            sg.ty("Query")
                .and_then(|q| q.field("t"))
                .expect("t")
                .shareable
        );
    }
}
