//! `introspection`: whether `__schema` / `__type` queries are answered, and the limits
//! that apply to them instead of the ordinary operation limits.
//!
//! Unset `enabled` means the profile decides: on in `dev`, off in `production`.
//!
//! Tools introspect with one standard query (graphql-js `getIntrospectionQuery()`, which
//! GraphiQL, GraphQL Code Generator, Apollo's and Relay's tooling all send): 15 levels deep,
//! `ofType` nested 9 times, lists nested 3 deep (`types` > `fields` > `args`). The ordinary
//! `limits` are sized for application queries and would refuse it, so introspection fields
//! are measured by these limits instead, which admit the standard query and nothing much
//! larger:
//!
//! - `max_depth`: field nesting from `__schema`/`__type` (counted as 1);
//! - `max_of_type_depth`: consecutive `ofType` selections;
//! - `max_list_depth`: list-valued introspection fields nested in one another (`types`,
//!   `fields`, `args`, `inputFields`, `interfaces`, `possibleTypes`, `enumValues`,
//!   `directives`), which is what multiplies the size of an answer;
//! - `max_tokens`: the token limit for a document whose root fields are all introspection.
//!
//! Environment: `ROUTER_INTROSPECTION`, `ROUTER_INTROSPECTION_MAX_DEPTH`,
//! `ROUTER_INTROSPECTION_MAX_OF_TYPE_DEPTH`, `ROUTER_INTROSPECTION_MAX_LIST_DEPTH`,
//! `ROUTER_INTROSPECTION_MAX_TOKENS`.

use serde::Deserialize;

use super::{ConfigError, Profile};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntrospectionConfig {
    pub enabled: Option<bool>,
    pub max_depth: usize,
    pub max_of_type_depth: usize,
    pub max_list_depth: usize,
    pub max_tokens: usize,
}

impl Default for IntrospectionConfig {
    fn default() -> Self {
        Self {
            enabled: None,
            max_depth: 20,
            max_of_type_depth: 9,
            max_list_depth: 3,
            max_tokens: 2_000,
        }
    }
}

impl IntrospectionConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let checks: [(&'static str, usize); 4] = [
            ("introspection.max_depth", self.max_depth),
            ("introspection.max_of_type_depth", self.max_of_type_depth),
            ("introspection.max_list_depth", self.max_list_depth),
            ("introspection.max_tokens", self.max_tokens),
        ];
        for (key, value) in checks {
            if value == 0 {
                return Err(ConfigError::invalid(key, "must be greater than 0"));
            }
        }
        if self.max_depth > super::limits::PARSER_NESTING_LIMIT {
            return Err(ConfigError::invalid(
                "introspection.max_depth",
                format!("must be at most {}", super::limits::PARSER_NESTING_LIMIT),
            ));
        }
        Ok(())
    }

    pub fn enabled_for(&self, profile: Profile) -> bool {
        self.enabled.unwrap_or(profile == Profile::Dev)
    }
}
