//! Parsing a subgraph's SDL: the document, and what its schema definitions and extensions
//! declare (the directives on `schema`, `@link` among them, and the root operation
//! types).

use graphql_parser::schema::{Definition, Directive, Document, TypeDefinition};

use super::roots::Roots;
use crate::error::{CompositionError, ErrorCode};

/// A parsed subgraph SDL.
pub(super) struct Sdl {
    pub(super) doc: Document<'static, String>,
    /// The directives of every `schema` and `extend schema`.
    pub(super) schema_directives: Vec<Directive<'static, String>>,
    pub(super) roots: Roots,
}

/// Parses the SDL of subgraph `name`; invalid SDL is an `INVALID_GRAPHQL` error.
pub(super) fn parse(name: &str, sdl: &str) -> Result<Sdl, Vec<CompositionError>> {
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
    Ok(Sdl {
        doc,
        schema_directives,
        roots,
    })
}

/// `extend schema @link(...)` opens every federation 2 subgraph SDL (async-graphql prints
/// it too), and `schema @link(...)` without a body is accepted as well (the GraphQL
/// grammar and the reference composer require the body). `graphql-parser` accepts
/// neither: its newest release (0.4.1) has no schema extension in its grammar (`extend`
/// is followed only by a type kind) and requires `schema { ... }`. So both are cut out of
/// the text (keeping the offsets of everything else, so parse errors still point at the
/// right line) and parsed apart.
///
/// Why not another parser: `apollo-parser` (MIT/Apache) parses `extend schema`, but into a
/// lossless syntax tree rather than an AST, so switching means rewriting all of the
/// reading in this module, `TypeRef::from_ast` and the printing of default values (which
/// the tests compare with the reference composer's output) over its accessors, not
/// deleting this scanner; parsing with it only to locate the schema extensions would read
/// every SDL with two parsers. `apollo-compiler`'s AST on top of it would bring its large
/// dependency tree into the router. `async-graphql-parser`'s AST has schema extensions,
/// but it also rejects what is read here today (a body-less `schema`, a `schema` without
/// `query:`) and prints default values differently (floats through `serde_json`).
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

#[cfg(test)]
mod tests {
    use crate::subgraph::model::Key;
    use crate::subgraph::parse;

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
}
