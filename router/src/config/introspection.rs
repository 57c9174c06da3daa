//! `introspection`: whether `__schema` / `__type` queries are answered.
//!
//! Unset means the profile decides: on in `dev`, off in `production`.
//!
//! Environment: `ROUTER_INTROSPECTION`.

use serde::Deserialize;

use super::{ConfigError, Env, Profile, env_bool};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntrospectionConfig {
    pub enabled: Option<bool>,
}

impl IntrospectionConfig {
    pub(crate) fn apply_env(&mut self, env: &dyn Env) -> Result<(), ConfigError> {
        if let Some(enabled) = env_bool(env, "ROUTER_INTROSPECTION")? {
            self.enabled = Some(enabled);
        }
        Ok(())
    }

    pub fn enabled_for(&self, profile: Profile) -> bool {
        self.enabled.unwrap_or(profile == Profile::Dev)
    }
}
