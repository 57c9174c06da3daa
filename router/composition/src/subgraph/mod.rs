//! Reading one subgraph: its SDL is parsed, federation directives are recognised under
//! whatever names the subgraph imported them as, federation plumbing (`_service`,
//! `_entities`, `_Any`, directive definitions, `link__*`) is dropped, and root types are
//! renamed to `Query`/`Mutation`/`Subscription`.
//!
//! The result is a small model that the merge stage reads without touching the AST again.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use graphql_parser::schema::{
    Definition, Directive, Document, EnumValue, Field, InputValue, TypeDefinition, TypeExtension,
    Value,
};

use crate::error::{CompositionError, ErrorCode};
use crate::types::TypeRef;

/// Which kind of definition a named type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    InputObject,
}

impl Kind {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::Scalar => "scalar",
            Kind::Object => "object type",
            Kind::Interface => "interface",
            Kind::Union => "union",
            Kind::Enum => "enum",
            Kind::InputObject => "input object",
        }
    }
}

/// `@key(fields: ..., resolvable: ...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    pub fields: String,
    pub resolvable: bool,
}

/// Directives that are carried to the supergraph as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Exposure {
    pub inaccessible: bool,
    pub tags: BTreeSet<String>,
    /// `Some(reason)` when `@deprecated`; the reason is `None` when not given.
    pub deprecated: Option<Option<String>>,
}

#[derive(Debug, Clone)]
pub(crate) struct InputValueDef {
    pub name: String,
    pub description: Option<String>,
    pub ty: TypeRef,
    /// The default value, printed as GraphQL.
    pub default: Option<String>,
    pub exposure: Exposure,
}

impl InputValueDef {
    /// A value a caller must give: non-null and without a default.
    pub(crate) fn is_required(&self) -> bool {
        self.ty.is_non_null() && self.default.is_none()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct FieldDef {
    pub name: String,
    pub description: Option<String>,
    pub ty: TypeRef,
    pub args: Vec<InputValueDef>,
    pub external: bool,
    pub shareable: bool,
    pub requires: Option<String>,
    pub provides: Option<String>,
    pub override_from: Option<String>,
    pub override_label: Option<String>,
    pub exposure: Exposure,
}

#[derive(Debug, Clone)]
pub(crate) struct EnumValueDef {
    pub name: String,
    pub description: Option<String>,
    pub exposure: Exposure,
}

#[derive(Debug, Clone)]
pub(crate) struct TypeDef {
    pub name: String,
    pub kind: Kind,
    pub description: Option<String>,
    /// Declared with `extend type` or `@extends`.
    pub extension: bool,
    pub keys: Vec<Key>,
    pub shareable: bool,
    /// An `@interfaceObject`: an object here, an interface in the supergraph.
    pub interface_object: bool,
    pub exposure: Exposure,
    pub implements: Vec<String>,
    pub fields: Vec<FieldDef>,
    pub input_fields: Vec<InputValueDef>,
    pub members: Vec<String>,
    pub values: Vec<EnumValueDef>,
    pub specified_by: Option<String>,
    /// `@external` on the type itself: every field of the type is external.
    pub external: bool,
    /// Marked `@extends` (rather than only written as `extend type`).
    pub extends_directive: bool,
}

impl TypeDef {
    fn new(name: String, kind: Kind) -> Self {
        Self {
            name,
            kind,
            description: None,
            extension: false,
            keys: Vec::new(),
            shareable: false,
            interface_object: false,
            exposure: Exposure::default(),
            implements: Vec::new(),
            fields: Vec::new(),
            input_fields: Vec::new(),
            members: Vec::new(),
            values: Vec::new(),
            specified_by: None,
            external: false,
            extends_directive: false,
        }
    }

    pub(crate) fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The kind this type has in the supergraph.
    pub(crate) fn merged_kind(&self) -> Kind {
        if self.interface_object {
            Kind::Interface
        } else {
            self.kind
        }
    }

    pub(crate) fn is_entity(&self) -> bool {
        !self.keys.is_empty()
    }
}

/// One subgraph, normalised.
#[derive(Debug, Clone)]
pub(crate) struct Subgraph {
    pub name: String,
    /// Its value in the `join__Graph` enum.
    pub graph: String,
    pub url: String,
    pub types: BTreeMap<String, TypeDef>,
}

impl Subgraph {
    pub(crate) fn ty(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name)
    }
}

/// The federation directives, by their spec name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Fed {
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
struct FedNames {
    names: HashMap<String, Fed>,
    /// The subgraph links the federation spec (federation 2 or later).
    linked: bool,
}

impl FedNames {
    fn from_links(links: &[Directive<'_, String>]) -> Self {
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

    fn get(&self, directive: &str) -> Option<Fed> {
        self.names.get(directive).copied()
    }
}

fn arg<'d, 'a>(d: &'d Directive<'a, String>, name: &str) -> Option<&'d Value<'a, String>> {
    d.arguments.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

fn as_str<'v>(v: &'v Value<'_, String>) -> Option<&'v str> {
    match v {
        Value::String(s) => Some(s),
        _ => None,
    }
}

fn as_bool(v: &Value<'_, String>) -> Option<bool> {
    match v {
        Value::Boolean(b) => Some(*b),
        _ => None,
    }
}

/// Types that only exist to serve the federation protocol itself. `FieldSet` is only
/// plumbing as a scalar: an object of that name is the subgraph's own.
fn is_plumbing_type(name: &str, kind: Kind) -> bool {
    matches!(name, "_Any" | "_Entity" | "_Service")
        || (kind == Kind::Scalar && matches!(name, "_FieldSet" | "FieldSet"))
        || name.starts_with("federation__")
        || name.starts_with("link__")
        || name.starts_with("join__")
}

fn is_plumbing_field(name: &str) -> bool {
    matches!(name, "_service" | "_entities")
}

/// Root operation type names declared by `schema { ... }`/`extend schema { ... }`.
#[derive(Debug, Default)]
struct Roots {
    query: Option<String>,
    mutation: Option<String>,
    subscription: Option<String>,
}

/// `extend schema ...` and `schema @link(...)` without a body are valid federation SDL,
/// but `graphql-parser` accepts neither. They are cut out of the text (keeping the offsets
/// of everything else, so parse errors still point at the right line) and parsed apart.
struct SchemaExtensions {
    remaining: String,
    directive_texts: Vec<String>,
    operation_texts: Vec<String>,
}

fn split_schema_extensions(sdl: &str) -> SchemaExtensions {
    let bytes = sdl.as_bytes();
    let mut out = SchemaExtensions {
        remaining: sdl.to_owned(),
        directive_texts: Vec::new(),
        operation_texts: Vec::new(),
    };
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0usize;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'#' => i = skip_comment(bytes, i),
            b'"' => i = skip_string(bytes, i),
            b'{' | b'(' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b')' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            c if is_name_start(c) => {
                let start = i;
                let end = scan_name(bytes, i);
                let word = &sdl[start..end];
                i = end;
                if depth != 0 {
                    continue;
                }
                let (is_ext, after_kw) = if word == "extend" {
                    let j = skip_ignored(bytes, end);
                    let k = scan_name(bytes, j);
                    if &sdl[j..k] == "schema" {
                        (true, k)
                    } else {
                        continue;
                    }
                } else if word == "schema" {
                    (false, end)
                } else {
                    continue;
                };
                // Directives.
                let mut j = skip_ignored(bytes, after_kw);
                let dir_start = j;
                while j < bytes.len() && bytes[j] == b'@' {
                    j = scan_name(bytes, j + 1);
                    let k = skip_ignored(bytes, j);
                    if k < bytes.len() && bytes[k] == b'(' {
                        j = skip_balanced(bytes, k, b'(', b')');
                    }
                    j = skip_ignored(bytes, j);
                }
                let dir_end = j;
                let has_body = j < bytes.len() && bytes[j] == b'{';
                if !is_ext && has_body {
                    // A complete `schema { ... }` is parsed normally.
                    continue;
                }
                let mut end_all = dir_end;
                if has_body {
                    end_all = skip_balanced(bytes, j, b'{', b'}');
                    // Without a closing brace the body runs to the end; the parser of the
                    // body then reports the error.
                    let body_end =
                        if bytes.get(end_all.wrapping_sub(1)) == Some(&b'}') && end_all > j + 1 {
                            end_all - 1
                        } else {
                            end_all
                        };
                    out.operation_texts.push(sdl[j + 1..body_end].to_owned());
                }
                out.directive_texts.push(sdl[dir_start..dir_end].to_owned());
                cuts.push((start, end_all));
                i = end_all;
            }
            _ => i += 1,
        }
    }
    let mut text = sdl.as_bytes().to_vec();
    for (s, e) in cuts {
        for b in &mut text[s..e] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    // A multi-byte character inside a cut range became several spaces, which is still
    // valid UTF-8, so the lossy conversion never actually replaces anything.
    out.remaining = String::from_utf8_lossy(&text).into_owned();
    out
}

fn is_name_start(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}

fn scan_name(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
        i += 1;
    }
    i
}

fn skip_comment(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i] != b'\n' {
        i += 1;
    }
    i
}

fn skip_string(bytes: &[u8], i: usize) -> usize {
    if bytes[i..].starts_with(b"\"\"\"") {
        let mut j = i + 3;
        while j < bytes.len() {
            if bytes[j] == b'\\' && bytes[j + 1..].starts_with(b"\"\"\"") {
                j += 4;
            } else if bytes[j..].starts_with(b"\"\"\"") {
                return j + 3;
            } else {
                j += 1;
            }
        }
        return bytes.len();
    }
    let mut j = i + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            b'\n' => return j,
            _ => j += 1,
        }
    }
    bytes.len()
}

fn skip_ignored(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => i = skip_comment(bytes, i),
            _ => break,
        }
    }
    i
}

fn skip_balanced(bytes: &[u8], mut i: usize, open: u8, close: u8) -> usize {
    let mut depth = 0usize;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'"' {
            i = skip_string(bytes, i);
            continue;
        }
        if c == b'#' {
            i = skip_comment(bytes, i);
            continue;
        }
        if c == open {
            depth += 1;
        } else if c == close {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return i + 1;
            }
        }
        i += 1;
    }
    bytes.len()
}

/// Parses directives written after `schema`, by hanging them on a throwaway type.
fn parse_schema_directives(text: &str) -> Result<Vec<Directive<'static, String>>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let doc = graphql_parser::parse_schema::<String>(&format!("scalar SchemaDirectives {text}"))
        .map_err(|e| e.to_string())?
        .into_static();
    Ok(doc
        .definitions
        .into_iter()
        .find_map(|d| match d {
            Definition::TypeDefinition(TypeDefinition::Scalar(s)) => Some(s.directives),
            _ => None,
        })
        .unwrap_or_default())
}

fn parse_operation_types(text: &str, roots: &mut Roots) -> Result<(), String> {
    let wrapped = format!("schema {{ {text} }}");
    let doc = graphql_parser::parse_schema::<String>(&wrapped).map_err(|e| e.to_string())?;
    for def in doc.definitions {
        if let Definition::SchemaDefinition(s) = def {
            roots.query = s.query.or(roots.query.take());
            roots.mutation = s.mutation.or(roots.mutation.take());
            roots.subscription = s.subscription.or(roots.subscription.take());
        }
    }
    Ok(())
}

/// The name a subgraph gets in `join__Graph`: upper snake case of its name.
pub(crate) fn graph_enum_value(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower {
                out.push('_');
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_uppercase());
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        out.insert(0, '_');
    }
    out
}

/// Parses and normalises one subgraph. Federation directives this crate does not compose
/// are reported in `warnings`.
pub(crate) fn parse(
    name: &str,
    url: &str,
    sdl: &str,
    warnings: &mut Vec<CompositionError>,
) -> Result<Subgraph, Vec<CompositionError>> {
    let invalid = |message: String| {
        vec![CompositionError::new(ErrorCode::InvalidGraphql, message).with_subgraphs([name])]
    };
    let split = split_schema_extensions(sdl);
    let doc: Document<'static, String> = graphql_parser::parse_schema::<String>(&split.remaining)
        .map_err(|e| invalid(format!("subgraph \"{name}\" is not valid GraphQL SDL: {e}")))?
        .into_static();

    let mut schema_directives = Vec::new();
    for text in &split.directive_texts {
        schema_directives.extend(parse_schema_directives(text).map_err(|e| {
            invalid(format!(
                "subgraph \"{name}\" has invalid schema directives: {e}"
            ))
        })?);
    }
    let mut roots = Roots::default();
    for text in &split.operation_texts {
        parse_operation_types(text, &mut roots).map_err(|e| {
            invalid(format!(
                "subgraph \"{name}\" has an invalid schema extension: {e}"
            ))
        })?;
    }
    for def in &doc.definitions {
        if let Definition::SchemaDefinition(s) = def {
            schema_directives.extend(s.directives.iter().cloned());
            roots.query = s.query.clone().or(roots.query.take());
            roots.mutation = s.mutation.clone().or(roots.mutation.take());
            roots.subscription = s.subscription.clone().or(roots.subscription.take());
        }
    }
    let fed = FedNames::from_links(&schema_directives);
    for (spec, coordinate) in ignored_directives(&fed, &schema_directives, &doc) {
        warnings.push(
            CompositionError::new(
                ErrorCode::UnsupportedDirective,
                format!("@{spec} in subgraph \"{name}\" is not composed into the supergraph and has no effect"),
            )
            .with_subgraphs([name])
            .with_coordinates([coordinate]),
        );
    }

    let mut errors = Vec::new();
    let mut types: BTreeMap<String, TypeDef> = BTreeMap::new();
    for def in &doc.definitions {
        match def {
            Definition::TypeDefinition(td) => {
                read_type(&fed, td, false, &mut types, name, &mut errors)
            }
            Definition::TypeExtension(te) => {
                read_extension(&fed, te, &mut types, name, &mut errors)
            }
            Definition::SchemaDefinition(_) | Definition::DirectiveDefinition(_) => {}
        }
    }
    types.retain(|n, t| !is_plumbing_type(n, t.kind));
    for ty in types.values_mut() {
        ty.fields.retain(|f| !is_plumbing_field(&f.name));
        if ty.external {
            for f in &mut ty.fields {
                f.external = true;
            }
        }
    }
    // Without a `@link` to the federation spec the subgraph is written for federation 1.
    let federation1 = !fed.linked;

    rename_roots(name, &roots, &mut types, &mut errors);
    // Every subgraph serves a query root (federation adds `_service` and `_entities` to it),
    // even when its SDL shows none, so the supergraph's `Query` joins every graph.
    types
        .entry("Query".to_owned())
        .or_insert_with(|| TypeDef::new("Query".to_owned(), Kind::Object));

    if !errors.is_empty() {
        return Err(errors);
    }
    let mut subgraph = Subgraph {
        name: name.to_owned(),
        graph: graph_enum_value(name),
        url: url.to_owned(),
        types,
    };
    if federation1 {
        crate::federation1::apply(&mut subgraph);
    }
    Ok(subgraph)
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

fn rename_roots(
    subgraph: &str,
    roots: &Roots,
    types: &mut BTreeMap<String, TypeDef>,
    errors: &mut Vec<CompositionError>,
) {
    let mut renames: Vec<(String, &str)> = Vec::new();
    for (declared, default) in [
        (&roots.query, "Query"),
        (&roots.mutation, "Mutation"),
        (&roots.subscription, "Subscription"),
    ] {
        if let Some(declared) = declared
            && declared != default
        {
            if types.contains_key(default) {
                errors.push(
                    CompositionError::new(
                        ErrorCode::RootTypeUsed,
                        format!(
                            "subgraph \"{subgraph}\" declares \"{declared}\" as its {} root but also defines a type named \"{default}\"",
                            default.to_lowercase()
                        ),
                    )
                    .with_subgraphs([subgraph])
                    .with_coordinates([default]),
                );
                continue;
            }
            renames.push((declared.clone(), default));
        }
    }
    if renames.is_empty() {
        return;
    }
    let rename = |n: &mut String| {
        if let Some((_, to)) = renames.iter().find(|(from, _)| from == n) {
            *n = (*to).to_owned();
        }
    };
    let mut renamed = BTreeMap::new();
    for (_, mut ty) in std::mem::take(types) {
        rename(&mut ty.name);
        for f in &mut ty.fields {
            rename(f.ty.base_mut());
        }
        for m in &mut ty.members {
            rename(m);
        }
        renamed.insert(ty.name.clone(), ty);
    }
    *types = renamed;
}

fn exposure(fed: &FedNames, directives: &[Directive<'_, String>]) -> Exposure {
    let mut out = Exposure::default();
    for d in directives {
        match fed.get(&d.name) {
            Some(Fed::Inaccessible) => out.inaccessible = true,
            Some(Fed::Tag) => {
                if let Some(tag) = arg(d, "name").and_then(as_str) {
                    out.tags.insert(tag.to_owned());
                }
            }
            _ if d.name == "deprecated" => {
                out.deprecated = Some(arg(d, "reason").and_then(as_str).map(str::to_owned));
            }
            _ => {}
        }
    }
    out
}

fn has(fed: &FedNames, directives: &[Directive<'_, String>], which: Fed) -> bool {
    directives.iter().any(|d| fed.get(&d.name) == Some(which))
}

fn fieldset_arg(
    fed: &FedNames,
    directives: &[Directive<'_, String>],
    which: Fed,
) -> Option<String> {
    directives
        .iter()
        .find(|d| fed.get(&d.name) == Some(which))
        .and_then(|d| arg(d, "fields").and_then(as_str))
        .map(str::to_owned)
}

fn read_input_value(fed: &FedNames, v: &InputValue<'_, String>) -> InputValueDef {
    InputValueDef {
        name: v.name.clone(),
        description: v.description.clone(),
        ty: TypeRef::from_ast(&v.value_type),
        default: v.default_value.as_ref().map(|d| d.to_string()),
        exposure: exposure(fed, &v.directives),
    }
}

fn read_field(fed: &FedNames, f: &Field<'_, String>) -> FieldDef {
    let override_directive = f
        .directives
        .iter()
        .find(|d| fed.get(&d.name) == Some(Fed::Override));
    FieldDef {
        name: f.name.clone(),
        description: f.description.clone(),
        ty: TypeRef::from_ast(&f.field_type),
        args: f
            .arguments
            .iter()
            .map(|a| read_input_value(fed, a))
            .collect(),
        external: has(fed, &f.directives, Fed::External),
        shareable: has(fed, &f.directives, Fed::Shareable),
        requires: fieldset_arg(fed, &f.directives, Fed::Requires),
        provides: fieldset_arg(fed, &f.directives, Fed::Provides),
        override_from: override_directive
            .and_then(|d| arg(d, "from").and_then(as_str))
            .map(str::to_owned),
        override_label: override_directive
            .and_then(|d| arg(d, "label").and_then(as_str))
            .map(str::to_owned),
        exposure: exposure(fed, &f.directives),
    }
}

fn read_enum_value(fed: &FedNames, v: &EnumValue<'_, String>) -> EnumValueDef {
    EnumValueDef {
        name: v.name.clone(),
        description: v.description.clone(),
        exposure: exposure(fed, &v.directives),
    }
}

/// Applies type-level directives shared by definitions and extensions.
fn apply_type_directives(fed: &FedNames, ty: &mut TypeDef, directives: &[Directive<'_, String>]) {
    for d in directives {
        match fed.get(&d.name) {
            Some(Fed::Key) => {
                if let Some(fields) = arg(d, "fields").and_then(as_str) {
                    let resolvable = arg(d, "resolvable").and_then(as_bool).unwrap_or(true);
                    ty.keys.push(Key {
                        fields: fields.to_owned(),
                        resolvable,
                    });
                }
            }
            Some(Fed::Shareable) => ty.shareable = true,
            Some(Fed::InterfaceObject) => ty.interface_object = true,
            Some(Fed::Extends) => {
                ty.extension = true;
                ty.extends_directive = true;
            }
            Some(Fed::External) => ty.external = true,
            _ if d.name == "specifiedBy" => {
                ty.specified_by = arg(d, "url").and_then(as_str).map(str::to_owned);
            }
            _ => {}
        }
    }
    let more = exposure(fed, directives);
    ty.exposure.inaccessible |= more.inaccessible;
    ty.exposure.tags.extend(more.tags);
}

fn entry<'t>(
    types: &'t mut BTreeMap<String, TypeDef>,
    name: &str,
    kind: Kind,
    subgraph: &str,
    errors: &mut Vec<CompositionError>,
) -> Option<&'t mut TypeDef> {
    let ty = types
        .entry(name.to_owned())
        .or_insert_with(|| TypeDef::new(name.to_owned(), kind));
    if ty.kind != kind {
        errors.push(
            CompositionError::new(
                ErrorCode::InvalidGraphql,
                format!(
                    "subgraph \"{subgraph}\" defines \"{name}\" both as {} and as {}",
                    ty.kind.describe(),
                    kind.describe()
                ),
            )
            .with_subgraphs([subgraph])
            .with_coordinates([name]),
        );
        return None;
    }
    Some(ty)
}

fn read_type(
    fed: &FedNames,
    td: &TypeDefinition<'_, String>,
    extension: bool,
    types: &mut BTreeMap<String, TypeDef>,
    subgraph: &str,
    errors: &mut Vec<CompositionError>,
) {
    let (name, kind, description, directives) = match td {
        TypeDefinition::Scalar(t) => (&t.name, Kind::Scalar, &t.description, &t.directives),
        TypeDefinition::Object(t) => (&t.name, Kind::Object, &t.description, &t.directives),
        TypeDefinition::Interface(t) => (&t.name, Kind::Interface, &t.description, &t.directives),
        TypeDefinition::Union(t) => (&t.name, Kind::Union, &t.description, &t.directives),
        TypeDefinition::Enum(t) => (&t.name, Kind::Enum, &t.description, &t.directives),
        TypeDefinition::InputObject(t) => {
            (&t.name, Kind::InputObject, &t.description, &t.directives)
        }
    };
    let Some(ty) = entry(types, name, kind, subgraph, errors) else {
        return;
    };
    if description.is_some() {
        ty.description.clone_from(description);
    }
    ty.extension |= extension;
    apply_type_directives(fed, ty, directives);
    match td {
        TypeDefinition::Object(t) => {
            ty.implements
                .extend(t.implements_interfaces.iter().cloned());
            ty.fields
                .extend(t.fields.iter().map(|f| read_field(fed, f)));
        }
        TypeDefinition::Interface(t) => {
            ty.implements
                .extend(t.implements_interfaces.iter().cloned());
            ty.fields
                .extend(t.fields.iter().map(|f| read_field(fed, f)));
        }
        TypeDefinition::Union(t) => ty.members.extend(t.types.iter().cloned()),
        TypeDefinition::Enum(t) => ty
            .values
            .extend(t.values.iter().map(|v| read_enum_value(fed, v))),
        TypeDefinition::InputObject(t) => ty
            .input_fields
            .extend(t.fields.iter().map(|v| read_input_value(fed, v))),
        TypeDefinition::Scalar(_) => {}
    }
}

fn read_extension(
    fed: &FedNames,
    te: &TypeExtension<'_, String>,
    types: &mut BTreeMap<String, TypeDef>,
    subgraph: &str,
    errors: &mut Vec<CompositionError>,
) {
    let (name, kind, directives) = match te {
        TypeExtension::Scalar(t) => (&t.name, Kind::Scalar, &t.directives),
        TypeExtension::Object(t) => (&t.name, Kind::Object, &t.directives),
        TypeExtension::Interface(t) => (&t.name, Kind::Interface, &t.directives),
        TypeExtension::Union(t) => (&t.name, Kind::Union, &t.directives),
        TypeExtension::Enum(t) => (&t.name, Kind::Enum, &t.directives),
        TypeExtension::InputObject(t) => (&t.name, Kind::InputObject, &t.directives),
    };
    let existed = types.contains_key(name.as_str());
    let Some(ty) = entry(types, name, kind, subgraph, errors) else {
        return;
    };
    // `extend type` on a type this subgraph never defined is the federation 1 way of
    // saying the type lives elsewhere.
    if !existed {
        ty.extension = true;
    }
    apply_type_directives(fed, ty, directives);
    match te {
        TypeExtension::Object(t) => {
            ty.implements
                .extend(t.implements_interfaces.iter().cloned());
            ty.fields
                .extend(t.fields.iter().map(|f| read_field(fed, f)));
        }
        TypeExtension::Interface(t) => {
            ty.implements
                .extend(t.implements_interfaces.iter().cloned());
            ty.fields
                .extend(t.fields.iter().map(|f| read_field(fed, f)));
        }
        TypeExtension::Union(t) => ty.members.extend(t.types.iter().cloned()),
        TypeExtension::Enum(t) => ty
            .values
            .extend(t.values.iter().map(|v| read_enum_value(fed, v))),
        TypeExtension::InputObject(t) => ty
            .input_fields
            .extend(t.fields.iter().map(|v| read_input_value(fed, v))),
        TypeExtension::Scalar(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_schema_is_cut_out_and_read() {
        let sdl = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.5\", import: [{ name: \"@key\", as: \"@id\" }])\n\
                   type Query { a: A }\n type A @id(fields: \"x\") { x: ID! }";
        let sg = parse("a", "http://a", sdl, &mut Vec::new()).expect("parses");
        assert_eq!(
            sg.ty("A").expect("A").keys,
            vec![Key {
                fields: "x".into(),
                resolvable: true
            }]
        );
    }

    #[test]
    fn strings_containing_schema_are_left_alone() {
        let sdl = "\"\"\"\nextend schema @oops\n\"\"\"\ntype Query { schema: String }";
        let sg = parse("a", "http://a", sdl, &mut Vec::new()).expect("parses");
        let q = sg.ty("Query").expect("Query");
        assert_eq!(q.description.as_deref(), Some("extend schema @oops"));
        assert!(q.field("schema").is_some());
    }

    #[test]
    fn root_types_are_renamed_and_plumbing_dropped() {
        let sdl = "schema { query: Root }\n type Root { me: Me _service: _Service! }\n type Me { root: Root }\n type _Service { sdl: String }\n scalar _Any";
        let sg = parse("a", "http://a", sdl, &mut Vec::new()).expect("parses");
        assert!(sg.ty("Root").is_none());
        let q = sg.ty("Query").expect("Query");
        assert_eq!(q.fields.len(), 1);
        assert_eq!(sg.ty("Me").expect("Me").fields[0].ty.to_string(), "Query");
        assert!(sg.ty("_Service").is_none() && sg.ty("_Any").is_none());
    }

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

    #[test]
    fn truncated_or_odd_input_never_panics() {
        let sdl = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.5\", import: [\"@key\"]) { query: Q }\n\
                   \"\"\"Ünïcödé ☃ description\"\"\" type Q { a(x: String = \"é\"): T @deprecated(reason: \"ß\") }\n\
                   schema @link(url: \"x\") type T @key(fields: \"id\") { id: ID! # comment ☃\n }";
        for (i, _) in sdl.char_indices() {
            let _ = parse("a", "http://a", &sdl[..i], &mut Vec::new());
        }
        for odd in [
            "extend schema {",
            "extend schema @link(",
            "schema",
            "\"\"\"",
            "extend",
            "{{{",
            "\"\\",
        ] {
            let _ = parse("a", "http://a", odd, &mut Vec::new());
        }
    }

    #[test]
    fn graph_enum_values_are_upper_snake_case() {
        assert_eq!(graph_enum_value("products"), "PRODUCTS");
        assert_eq!(graph_enum_value("userAccounts"), "USER_ACCOUNTS");
        assert_eq!(graph_enum_value("my-graph"), "MY_GRAPH");
        assert_eq!(graph_enum_value("1st"), "_1ST");
    }
}
