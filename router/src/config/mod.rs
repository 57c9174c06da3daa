//! Typed router configuration: a YAML file, then environment overrides, then validation.
//!
//! Every top-level key of the file has its own submodule that owns its defaults, its
//! environment variables and its validation rules, so a reader looking for "what does
//! `limits.max_depth` do" finds one file. Loading never prints secret values: types that
//! hold them ([`Secret`]) redact themselves in `Debug` output, and the whole config is
//! logged at start-up through `Debug`.
//!
//! Precedence, lowest first: built-in defaults (which depend on the [`Profile`]), the YAML
//! file, environment variables (`ROUTER_*`, documented in each submodule). [`Env`],
//! [`Secret`] and [`Profile`] are the platform's, shared with the services.

pub mod apq;
pub mod auth;
pub mod cache_control;
pub mod compression;
pub mod cors;
pub mod csrf;
pub mod dedup;
pub mod graphiql;
pub mod headers;
pub mod introspection;
pub mod limits;
pub mod listen;
pub mod persisted;
pub mod subgraphs;
pub mod supergraph;
pub mod telemetry;
pub mod variables;

use std::{fmt, path::Path, str::FromStr};

pub use platform::config::{Env, Profile, Secret};
use serde::Deserialize;

pub use self::{
    apq::ApqConfig, auth::AuthConfig, cache_control::CacheControlConfig,
    compression::CompressionConfig, cors::CorsConfig, csrf::CsrfConfig, dedup::DedupConfig,
    graphiql::GraphiqlConfig, headers::HeadersConfig, introspection::IntrospectionConfig,
    limits::LimitsConfig, listen::ListenConfig, persisted::PersistedConfig,
    subgraphs::SubgraphsConfig, supergraph::SupergraphConfig, telemetry::TelemetryConfig,
};

/// Environment variable naming the config file when `--config` is not given.
pub const CONFIG_PATH_ENV: &str = "ROUTER_CONFIG";

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {path} is not valid YAML for the router: {source}")]
    Parse {
        path: String,
        #[source]
        source: serde_yaml_ng::Error,
    },
    #[error("environment variable {var} has an invalid value: {reason}")]
    Env { var: String, reason: String },
    #[error("invalid configuration at `{key}`: {reason}")]
    Invalid { key: &'static str, reason: String },
}

impl ConfigError {
    pub(crate) fn invalid(key: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            key,
            reason: reason.into(),
        }
    }
}

/// Parses an environment variable with `FromStr`, naming the variable on failure.
pub(crate) fn env_parse<T>(env: &Env, var: &str) -> Result<Option<T>, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    match env.get(var) {
        None => Ok(None),
        Some(raw) => raw
            .trim()
            .parse()
            .map(Some)
            .map_err(|e: T::Err| ConfigError::Env {
                var: var.to_owned(),
                reason: e.to_string(),
            }),
    }
}

/// Parses `true/false/1/0/on/off` from an environment variable.
pub(crate) fn env_bool(env: &Env, var: &str) -> Result<Option<bool>, ConfigError> {
    match env.get(var) {
        None => Ok(None),
        Some(raw) => match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "on" | "yes" => Ok(Some(true)),
            "0" | "false" | "off" | "no" => Ok(Some(false)),
            _ => Err(ConfigError::Env {
                var: var.to_owned(),
                reason: format!("`{raw}` is not a boolean"),
            }),
        },
    }
}

/// The whole router configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouterConfig {
    pub profile: Profile,
    pub listen: ListenConfig,
    pub supergraph: SupergraphConfig,
    pub limits: LimitsConfig,
    pub csrf: CsrfConfig,
    pub cors: CorsConfig,
    pub introspection: IntrospectionConfig,
    pub auth: AuthConfig,
    pub headers: HeadersConfig,
    pub subgraphs: SubgraphsConfig,
    pub dedup: DedupConfig,
    pub persisted_operations: PersistedConfig,
    pub apq: ApqConfig,
    pub compression: CompressionConfig,
    pub cache_control: CacheControlConfig,
    pub graphiql: GraphiqlConfig,
    pub telemetry: TelemetryConfig,
}

impl RouterConfig {
    /// Loads the file at `path` (or only defaults when `None`), applies the environment and
    /// validates the result.
    pub fn load(path: Option<&Path>, env: &Env) -> Result<Self, ConfigError> {
        let config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                Self::from_yaml(&text).map_err(|source| ConfigError::Parse {
                    path: path.display().to_string(),
                    source,
                })?
            }
            None => Self::default(),
        };
        config.finish(env)
    }

    /// Parses YAML text without applying the environment or validating.
    pub fn from_yaml(text: &str) -> Result<Self, serde_yaml_ng::Error> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_yaml_ng::from_str(text)
    }

    /// Applies environment overrides and validates; the last step of [`RouterConfig::load`].
    pub fn finish(mut self, env: &Env) -> Result<Self, ConfigError> {
        if let Some(profile) = env_parse::<Profile>(env, "ROUTER_PROFILE")? {
            self.profile = profile;
        }
        self.listen.apply_env(env)?;
        self.supergraph.apply_env(env)?;
        self.limits.apply_env(env)?;
        self.csrf.apply_env(env)?;
        self.cors.apply_env(env)?;
        self.introspection.apply_env(env)?;
        self.auth.apply_env(env)?;
        self.headers.apply_env(env)?;
        self.subgraphs.apply_env(env)?;
        self.dedup.apply_env(env)?;
        self.persisted_operations.apply_env(env)?;
        self.apq.apply_env(env)?;
        self.compression.apply_env(env)?;
        self.cache_control.apply_env(env)?;
        self.graphiql.apply_env(env)?;
        self.telemetry.apply_env(env)?;
        self.validate()?;
        Ok(self)
    }

    /// Checks every section; the first problem found is reported.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.listen.validate()?;
        self.supergraph.validate()?;
        self.limits.validate()?;
        self.csrf.validate()?;
        self.cors.validate()?;
        self.introspection.validate()?;
        self.auth.validate()?;
        self.headers.validate()?;
        self.subgraphs.validate()?;
        self.subgraphs.validate_secret(self.profile)?;
        self.persisted_operations.validate()?;
        self.apq.validate()?;
        self.telemetry.validate()?;
        Ok(())
    }

    /// Whether introspection is answered, after applying the profile default.
    pub fn introspection_enabled(&self) -> bool {
        self.introspection.enabled_for(self.profile)
    }

    /// Whether GraphiQL is served, after applying the profile default.
    pub fn graphiql_enabled(&self) -> bool {
        self.graphiql.enabled_for(self.profile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_dev_defaults() {
        let config = RouterConfig::from_yaml("")
            .unwrap()
            .finish(&Env::from_pairs([("UNRELATED", "1")]))
            .unwrap();
        assert_eq!(config.profile, Profile::Dev);
        assert!(config.introspection_enabled());
        assert!(config.csrf.enabled);
    }

    /// Production needs the secret the router sends its subgraphs.
    const SECRET: (&str, &str) = ("ROUTER_SUBGRAPH_SECRET", "0123456789abcdef0123456789abcdef");

    #[test]
    fn production_profile_turns_introspection_off_unless_explicit() {
        let config = RouterConfig::from_yaml("profile: production\n")
            .unwrap()
            .finish(&Env::from_pairs([SECRET]))
            .unwrap();
        assert!(!config.introspection_enabled());

        let config =
            RouterConfig::from_yaml("profile: production\nintrospection:\n  enabled: true\n")
                .unwrap()
                .finish(&Env::from_pairs([SECRET]))
                .unwrap();
        assert!(config.introspection_enabled());
    }

    #[test]
    fn environment_overrides_the_file() {
        let config = RouterConfig::from_yaml("limits:\n  max_depth: 7\n")
            .unwrap()
            .finish(&Env::from_pairs([
                ("ROUTER_MAX_DEPTH", "9"),
                ("ROUTER_PROFILE", "production"),
                SECRET,
            ]))
            .unwrap();
        assert_eq!(config.limits.max_depth, 9);
        assert_eq!(config.profile, Profile::Production);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = RouterConfig::from_yaml("limitz: {}\n").unwrap_err();
        assert!(err.to_string().contains("limitz"), "{err}");
    }

    #[test]
    fn bad_environment_value_names_the_variable() {
        let err = RouterConfig::default()
            .finish(&Env::from_pairs([("ROUTER_MAX_DEPTH", "deep")]))
            .unwrap_err();
        assert!(err.to_string().contains("ROUTER_MAX_DEPTH"), "{err}");
    }

    #[test]
    fn shipped_example_configs_are_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let dev = RouterConfig::load(
            Some(&dir.join("dev.yaml")),
            &Env::from_pairs([("UNRELATED", "1")]),
        )
        .unwrap();
        assert!(dev.introspection_enabled() && dev.graphiql_enabled());
        let prod = RouterConfig::load(
            Some(&dir.join("production.yaml")),
            &Env::from_pairs([SECRET]),
        )
        .unwrap();
        let refused = RouterConfig::load(
            Some(&dir.join("production.yaml")),
            &Env::from_pairs([("UNRELATED", "1")]),
        )
        .unwrap_err();
        assert!(
            refused.to_string().contains("ROUTER_SUBGRAPH_SECRET"),
            "{refused}"
        );
        assert!(!prod.introspection_enabled() && !prod.graphiql_enabled());
        assert_eq!(prod.limits.max_depth, 10);
    }

    #[test]
    fn invalid_values_are_refused_at_load() {
        let cases = [
            ("limits:\n  max_depth: 0\n", "limits.max_depth"),
            (
                "cors:\n  allow_origins: [\"*\"]\n  allow_credentials: true\n",
                "cors.allow_credentials",
            ),
            ("headers:\n  allow: [\"content-length\"]\n", "headers.allow"),
            (
                "persisted_operations:\n  mode: safelist\n",
                "persisted_operations.manifest",
            ),
            ("auth:\n  jwks_url: ftp://x\n", "auth.jwks_url"),
        ];
        for (yaml, key) in cases {
            let err = RouterConfig::from_yaml(yaml)
                .unwrap()
                .finish(&Env::from_pairs([("UNRELATED", "1")]))
                .unwrap_err();
            assert!(err.to_string().contains(key), "{yaml}: {err}");
        }
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let config = RouterConfig::from_yaml("headers:\n  insert:\n    x-api-key: hunter2\n")
            .unwrap()
            .finish(&Env::from_pairs([("UNRELATED", "1")]))
            .unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("x-api-key"), "{printed}");
    }
}
