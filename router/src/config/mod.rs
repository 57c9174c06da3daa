//! Typed router configuration: a YAML file, then environment overrides, then validation.
//!
//! Every top-level key of the file has its own submodule that owns its defaults and its
//! validation rules, so a reader looking for "what does `limits.max_depth` do" finds one
//! file. Loading never prints secret values: types that hold them ([`Secret`]) redact
//! themselves in `Debug` output, and the whole config is logged at start-up through `Debug`.
//!
//! Precedence, lowest first: built-in defaults (which depend on the [`Profile`]), the YAML
//! file, environment variables (`ROUTER_*`, each listed with the key it sets in
//! [`variables::VARIABLES`]). The file and the variables are read by the platform's
//! [`Loader`], as the services' settings are, so unknown keys are refused and an error names
//! the file and key or the variable. [`Env`], [`Secret`] and [`Profile`] are the platform's
//! too.

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

use std::path::Path;

use platform::config::Loader;
pub use platform::config::{Env, Profile, Secret};
use serde::Deserialize;

use self::persisted::PersistedMode;

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
    /// The file or a variable could not be read: names the file and key, or the variable.
    #[error(transparent)]
    Load(#[from] platform::config::ConfigError),
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
        let loader = Loader::new(env);
        let loader = match path {
            Some(path) => loader.file(path)?,
            None => loader,
        };
        Self::finish(loader, env)
    }

    /// Like [`RouterConfig::load`], with the file's content given as text.
    pub fn load_yaml(text: &str, env: &Env) -> Result<Self, ConfigError> {
        let loader = Loader::new(env).yaml(text, "(inline)")?;
        Self::finish(loader, env)
    }

    /// Applies the variables of [`variables::VARIABLES`] on top of what `loader` holds, reads
    /// the subgraph secret and validates.
    fn finish(mut loader: Loader<'_>, env: &Env) -> Result<Self, ConfigError> {
        for variable in variables::VARIABLES {
            let (name, key) = (variable.name, variable.key);
            if key.is_empty() {
                // The file's own name, and the secret, which never comes from the file.
                continue;
            }
            loader = match name {
                "ROUTER_PROFILE" => loader.parsed_var::<Profile>(name, key)?,
                "ROUTER_PERSISTED_MODE" => loader.parsed_var::<PersistedMode>(name, key)?,
                "ROUTER_CORS_ALLOW_ORIGINS" | "ROUTER_HEADERS_ALLOW" | "ROUTER_TRUSTED_PROXIES" => {
                    loader.list_var(name, key)
                }
                "ROUTER_SUBGRAPH_URLS" => loader.map_var(name, key, false)?,
                "ROUTER_CACHE_CONTROL_ROOT_FIELDS" => loader.map_var(name, key, true)?,
                _ => loader.var(name, key),
            };
        }
        let mut config: Self = loader.extract()?;
        config.subgraphs.shared_secret = env.secret_var(subgraphs::SUBGRAPH_SECRET_ENV)?;
        config.validate()?;
        Ok(config)
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
        let config = RouterConfig::load_yaml("", &Env::from_pairs([("UNRELATED", "1")])).unwrap();
        assert_eq!(config.profile, Profile::Dev);
        assert!(config.introspection_enabled());
        assert!(config.csrf.enabled);
    }

    /// Production needs the secret the router sends its subgraphs.
    const SECRET: (&str, &str) = ("ROUTER_SUBGRAPH_SECRET", "0123456789abcdef0123456789abcdef");

    #[test]
    fn production_profile_turns_introspection_off_unless_explicit() {
        let config =
            RouterConfig::load_yaml("profile: production\n", &Env::from_pairs([SECRET])).unwrap();
        assert!(!config.introspection_enabled());

        let config = RouterConfig::load_yaml(
            "profile: production\nintrospection:\n  enabled: true\n",
            &Env::from_pairs([SECRET]),
        )
        .unwrap();
        assert!(config.introspection_enabled());
    }

    #[test]
    fn environment_overrides_the_file() {
        let config = RouterConfig::load_yaml(
            "limits:\n  max_depth: 7\n",
            &Env::from_pairs([
                ("ROUTER_MAX_DEPTH", "9"),
                ("ROUTER_PROFILE", "production"),
                SECRET,
            ]),
        )
        .unwrap();
        assert_eq!(config.limits.max_depth, 9);
        assert_eq!(config.profile, Profile::Production);
    }

    #[test]
    fn variables_take_lists_maps_and_lenient_spellings() {
        let file = "subgraphs:\n  urls:\n    products: http://products:4001/graphql\n    \
                    orders: http://orders:4002/graphql\ncors:\n  allow_origins: [\"https://a.example\"]\n";
        let config = RouterConfig::load_yaml(
            file,
            &Env::from_pairs([
                ("ROUTER_PROFILE", "Prod"),
                ("ROUTER_PERSISTED_MODE", "ALLOW"),
                ("ROUTER_PERSISTED_MANIFEST", "manifest.json"),
                ("ROUTER_CSRF_ENABLED", "off"),
                ("ROUTER_INTROSPECTION", "yes"),
                (
                    "ROUTER_CORS_ALLOW_ORIGINS",
                    "https://b.example, https://c.example",
                ),
                ("ROUTER_SUBGRAPH_URLS", "orders=http://o.internal/graphql"),
                SECRET,
            ]),
        )
        .unwrap();
        assert_eq!(config.profile, Profile::Production);
        assert_eq!(
            config.persisted_operations.mode,
            persisted::PersistedMode::Allow
        );
        assert!(!config.csrf.enabled);
        assert!(config.introspection_enabled(), "explicit beats the profile");
        assert_eq!(
            config.cors.allow_origins,
            ["https://b.example", "https://c.example"],
            "a list replaces the file's"
        );
        assert_eq!(
            config.subgraphs.urls.get("orders").map(String::as_str),
            Some("http://o.internal/graphql")
        );
        assert_eq!(
            config.subgraphs.urls.get("products").map(String::as_str),
            Some("http://products:4001/graphql"),
            "URLs from the variable are added to the file's"
        );
        for (name, value) in [
            ("ROUTER_PROFILE", "staging"),
            ("ROUTER_PERSISTED_MODE", "sometimes"),
            ("ROUTER_SUBGRAPH_URLS", "orders"),
            ("ROUTER_INTROSPECTION", "perhaps"),
            ("ROUTER_LISTEN_ADDR", "localhost"),
        ] {
            let err = RouterConfig::load(None, &Env::from_pairs([(name, value)])).unwrap_err();
            assert!(err.to_string().contains(name), "{name}={value}: {err}");
        }
    }

    #[test]
    fn the_secret_never_comes_from_the_file() {
        let err = RouterConfig::load_yaml(
            "subgraphs:\n  shared_secret: 0123456789abcdef0123456789abcdef\n",
            &Env::from_pairs([("UNRELATED", "1")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("shared_secret"), "{err}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = RouterConfig::load_yaml("limitz: {}\n", &Env::from_pairs([("UNRELATED", "1")]))
            .unwrap_err();
        assert!(err.to_string().contains("limitz"), "{err}");
    }

    #[test]
    fn bad_environment_value_names_the_variable() {
        let err =
            RouterConfig::load(None, &Env::from_pairs([("ROUTER_MAX_DEPTH", "deep")])).unwrap_err();
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
            let err =
                RouterConfig::load_yaml(yaml, &Env::from_pairs([("UNRELATED", "1")])).unwrap_err();
            assert!(err.to_string().contains(key), "{yaml}: {err}");
        }
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let config = RouterConfig::load_yaml(
            "headers:\n  insert:\n    x-api-key: hunter2\n",
            &Env::from_pairs([("UNRELATED", "1")]),
        )
        .unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("x-api-key"), "{printed}");
    }

    #[test]
    fn a_header_value_is_text_whether_or_not_yaml_sees_a_number() {
        let config = RouterConfig::load_yaml(
            "headers:\n  insert:\n    x-api-version: 2\n    x-flag: true\n    x-code: \"007\"\n",
            &Env::from_pairs([("UNRELATED", "1")]),
        )
        .unwrap();
        let value = |name: &str| config.headers.insert[name].expose().to_owned();
        assert_eq!(value("x-api-version"), "2");
        assert_eq!(value("x-flag"), "true");
        assert_eq!(value("x-code"), "007", "a quoted value is kept as written");
        let err = RouterConfig::load_yaml(
            "headers:\n  insert:\n    x-ratio: 1.10\n",
            &Env::from_pairs([("UNRELATED", "1")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("headers.insert"), "{err}");
    }
}
