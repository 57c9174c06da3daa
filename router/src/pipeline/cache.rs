//! Cache-header stage: `Cache-Control` and `Vary` on `/graphql` answers, from the
//! `cache_control` rules (see [`crate::config::cache_control`]).
//!
//! Only a successful query without credentials, without introspection and whose root
//! fields all have a rule is public; an answer to a request with credentials is marked
//! `private, no-store` so no shared cache keeps it; everything else gets no
//! `Cache-Control` (HTTP's default: not stored by shared caches for POST, revalidated by
//! heuristics never applied to responses without validators). `Vary` names the request
//! headers an answer depends on, including those the header rules forward to subgraphs.

use std::collections::HashSet;

use axum::response::Response;
use executor::{
    OperationKind, ParsedOperation,
    ast::{Definition, OperationDefinition, Selection, SelectionSet},
};
use http::{HeaderMap, HeaderValue, header};

use crate::config::{CacheControlConfig, HeadersConfig};

/// What the response may say about caching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cacheability {
    /// `public, max-age=N`.
    Public(u32),
    /// `private, no-store`: the request carried credentials.
    Private,
    /// No `Cache-Control` header.
    Unspecified,
}

/// Whether the request carries credentials a response may depend on.
pub fn has_credentials(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION) || headers.contains_key(header::COOKIE)
}

/// Decides the cacheability of a finished operation.
pub fn decide(
    config: &CacheControlConfig,
    headers: &HeaderMap,
    parsed: &ParsedOperation,
    succeeded: bool,
) -> Cacheability {
    if has_credentials(headers) {
        return Cacheability::Private;
    }
    if parsed.kind() != OperationKind::Query || parsed.uses_introspection() || !succeeded {
        return Cacheability::Unspecified;
    }
    let fields = root_fields(parsed);
    match config.max_age(fields.iter().copied()) {
        Some(secs) => Cacheability::Public(secs),
        None => Cacheability::Unspecified,
    }
}

/// The `Vary` value of `/graphql` answers: the media type, the credentials, and every
/// client header the header rules forward to subgraphs (their answers may depend on it).
pub fn vary_value(headers: &HeadersConfig) -> HeaderValue {
    let mut names = vec![
        "accept".to_owned(),
        "authorization".to_owned(),
        "cookie".to_owned(),
    ];
    let forwarded = headers
        .allow
        .iter()
        .chain(headers.rename.iter().map(|r| &r.from))
        .map(|h| h.to_ascii_lowercase());
    for name in forwarded {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    // Header names are validated at start-up, so the joined list is a valid value.
    HeaderValue::from_str(&names.join(", "))
        .unwrap_or_else(|_| HeaderValue::from_static("accept, authorization, cookie"))
}

/// Sets `Cache-Control` (when decided) and `Vary` on a `/graphql` answer.
pub fn apply(response: &mut Response, cacheability: Cacheability, vary: &HeaderValue) {
    let headers = response.headers_mut();
    match cacheability {
        Cacheability::Public(secs) => {
            if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={secs}")) {
                headers.insert(header::CACHE_CONTROL, value);
            }
        }
        Cacheability::Private => {
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
        }
        Cacheability::Unspecified => {}
    }
    headers.append(header::VARY, vary.clone());
}

/// The names of the fields the operation selects at its root (through fragments).
pub fn root_fields(parsed: &ParsedOperation) -> Vec<&str> {
    let set = match parsed.operation() {
        OperationDefinition::SelectionSet(set) => set,
        OperationDefinition::Query(q) => &q.selection_set,
        OperationDefinition::Mutation(m) => &m.selection_set,
        OperationDefinition::Subscription(s) => &s.selection_set,
    };
    let mut out = Vec::new();
    let mut seen_fragments = HashSet::new();
    collect(parsed, set, &mut out, &mut seen_fragments);
    out
}

fn collect<'a>(
    parsed: &'a ParsedOperation,
    set: &'a SelectionSet,
    out: &mut Vec<&'a str>,
    seen_fragments: &mut HashSet<&'a str>,
) {
    for selection in &set.items {
        match selection {
            Selection::Field(field) => {
                if !out.contains(&field.name.as_str()) {
                    out.push(&field.name);
                }
            }
            Selection::InlineFragment(inline) => {
                collect(parsed, &inline.selection_set, out, seen_fragments)
            }
            Selection::FragmentSpread(spread) => {
                if !seen_fragments.insert(spread.fragment_name.as_str()) {
                    continue;
                }
                let fragment = parsed.document().definitions.iter().find_map(|d| match d {
                    Definition::Fragment(f) if f.name == spread.fragment_name => Some(f),
                    _ => None,
                });
                if let Some(fragment) = fragment {
                    collect(parsed, &fragment.selection_set, out, seen_fragments);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    const SUPERGRAPH: &str = include_str!("../../tests/fixtures/supergraph.graphql");

    fn parsed(query: &str) -> std::sync::Arc<ParsedOperation> {
        let executor =
            executor::Executor::new(SUPERGRAPH, executor::ExecutorConfig::default()).unwrap();
        executor.parse(query, None).unwrap()
    }

    fn rules() -> CacheControlConfig {
        CacheControlConfig {
            root_fields: BTreeMap::from([("products".to_owned(), 60)]),
        }
    }

    #[test]
    fn vary_names_forwarded_headers_too() {
        let headers: HeadersConfig = serde_yaml_ng::from_str(
            "allow: [Accept-Language]\nrename:\n  - { from: x-tenant, to: x-shop }\n",
        )
        .unwrap();
        assert_eq!(
            vary_value(&headers),
            "accept, authorization, cookie, accept-language, x-tenant"
        );
        assert_eq!(
            vary_value(&HeadersConfig::default()),
            "accept, authorization, cookie"
        );
    }

    #[test]
    fn public_only_without_credentials_errors_or_unruled_fields() {
        let none = HeaderMap::new();
        let q = parsed("{ ...F __typename } fragment F on Query { products { id } }");
        assert_eq!(root_fields(&q), vec!["products", "__typename"]);
        assert_eq!(decide(&rules(), &none, &q, true), Cacheability::Public(60));
        assert_eq!(
            decide(&rules(), &none, &q, false),
            Cacheability::Unspecified
        );

        let mut bearer = HeaderMap::new();
        bearer.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert_eq!(decide(&rules(), &bearer, &q, true), Cacheability::Private);
        let mut cookie = HeaderMap::new();
        cookie.insert(header::COOKIE, HeaderValue::from_static("s=1"));
        assert_eq!(decide(&rules(), &cookie, &q, true), Cacheability::Private);

        let mixed = parsed("{ products { id } me { id } }");
        assert_eq!(
            decide(&rules(), &none, &mixed, true),
            Cacheability::Unspecified
        );
        let introspection = parsed("{ products { id } __schema { queryType { name } } }");
        assert_eq!(
            decide(&rules(), &none, &introspection, true),
            Cacheability::Unspecified
        );
    }
}
