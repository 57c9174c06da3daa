//! `cache_control`: `Cache-Control` headers that let browsers and CDNs keep public answers.
//!
//! A query sent without credentials (no `Authorization` and no `Cookie` header) whose every
//! root field has a rule in `root_fields` (seconds) is answered with
//! `Cache-Control: public, max-age=<the smallest of those>`; `__typename` needs no rule.
//! Nothing is cacheable otherwise: mutations, requests with credentials (answered with
//! `Cache-Control: private, no-store`), responses with errors, introspection, and queries
//! touching a root field without a rule. Every executed `/graphql` answer says `Vary:
//! accept, authorization, cookie` plus the client headers forwarded to subgraphs
//! (`headers.allow`, `headers.rename`), since they may change it; compression adds
//! `accept-encoding`.
//!
//! ```yaml
//! cache_control:
//!   root_fields:
//!     products: 60
//!     product: 60
//! ```
//!
//! Environment: `ROUTER_CACHE_CONTROL_ROOT_FIELDS` (`field=seconds,field=seconds`, replaces
//! the file's rules).

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheControlConfig {
    /// `max-age` in seconds per root field of `Query`.
    pub root_fields: BTreeMap<String, u32>,
}

impl CacheControlConfig {
    /// The `max-age` for a query selecting `fields` at its root, if every one has a rule.
    pub fn max_age<'a>(&self, fields: impl IntoIterator<Item = &'a str>) -> Option<u32> {
        let mut max_age: Option<u32> = None;
        for field in fields {
            if field == "__typename" {
                continue;
            }
            let secs = *self.root_fields.get(field)?;
            max_age = Some(max_age.map_or(secs, |m| m.min(secs)));
        }
        max_age.filter(|secs| *secs > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_is_the_smallest_rule_and_needs_every_field() {
        let config = CacheControlConfig {
            root_fields: BTreeMap::from([("products".to_owned(), 60), ("product".to_owned(), 30)]),
        };
        assert_eq!(config.max_age(["products"]), Some(60));
        assert_eq!(
            config.max_age(["products", "product", "__typename"]),
            Some(30)
        );
        assert_eq!(config.max_age(["products", "me"]), None);
        assert_eq!(config.max_age(["__typename"]), None);
    }

    #[test]
    fn environment_rules_replace_the_file() {
        use crate::config::{Env, RouterConfig};

        let file = "cache_control:\n  root_fields:\n    me: 10\n    products: 1\n";
        let config = RouterConfig::load_yaml(
            file,
            &Env::from_pairs([("ROUTER_CACHE_CONTROL_ROOT_FIELDS", "products=60, product=5")]),
        )
        .unwrap();
        assert_eq!(
            config.cache_control.root_fields,
            BTreeMap::from([("product".to_owned(), 5), ("products".to_owned(), 60)])
        );
        for bad in ["products", "products=soon", "=5"] {
            let err = RouterConfig::load_yaml(
                file,
                &Env::from_pairs([("ROUTER_CACHE_CONTROL_ROOT_FIELDS", bad)]),
            )
            .unwrap_err();
            assert!(
                err.to_string().contains("ROUTER_CACHE_CONTROL_ROOT_FIELDS"),
                "{bad}: {err}"
            );
        }
    }
}
