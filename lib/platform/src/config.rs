//! Typed configuration read from a file and environment variables, validated at start-up.
//!
//! Services describe their settings as plain structs: serde structs filled by a [`Loader`]
//! (defaults, then a YAML file, then named environment variables, unknown keys refused), or
//! built with [`Env`] directly. A missing or malformed variable is a [`ConfigError`] naming
//! the variable, and a bad file entry one naming the file and the key, so a service refuses
//! to start instead of running half-configured. Secrets are wrapped in [`Secret`], whose
//! `Debug` and `Display` never print the value, so a logged config cannot leak them.
//!
//! Every secret may also come from a file: `<VAR>_FILE` names a file whose content (one
//! trailing newline removed) is the value, which is how container secrets are mounted
//! ([`Env::secret_var`]). Setting both, or naming an unreadable or empty file, stops the
//! service. [`Profile`] (`COMMERCE_PROFILE`) says whether a service runs in production, where
//! settings that are convenient on a laptop (the payment sandbox, subgraphs reachable
//! without the router) are refused.
//!
//! The router reads its YAML file and its `ROUTER_*` variables through the same [`Loader`].

use std::{
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use figment::{
    Figment, Metadata, Profile as FigmentProfile, Provider,
    providers::Serialized,
    value::{Dict, Map},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(String),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: String, reason: String },
    #[error("config file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("invalid configuration at `{key}` in {origin}: {reason}")]
    Key {
        key: String,
        origin: String,
        reason: String,
    },
}

/// A value that must never be printed: passwords, signing keys, webhook secrets.
///
/// In a configuration file it is a string; a bare integer or boolean (`x-api-version: 2` in
/// YAML) is taken as its text, since a header value or key that happens to be all digits is
/// still text. A bare decimal number is refused: YAML would already have changed `1.10` into
/// `1.1`, so it must be quoted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string (quote a decimal number)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
                Ok(Secret::new(v))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Secret, E> {
                Ok(Secret(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
        }
        deserializer.deserialize_any(Text)
    }
}

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The only way to read the value; grep for it to audit where secrets go.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Reads variables from the process environment, or from a fixed list in tests.
///
/// A program may set values of its own on top ([`Env::with_var`]), which is how a launcher
/// hands its services a setting from its command line without changing the process
/// environment. It remembers every name it was asked for ([`Env::names_read`]), so a test
/// can check a deployment file against what a service's configuration really reads.
#[derive(Debug, Clone, Default)]
pub struct Env {
    overrides: Option<Vec<(String, String)>>,
    set: Vec<(String, String)>,
    read: std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>,
}

impl Env {
    /// The real process environment.
    pub fn process() -> Self {
        Self::default()
    }

    /// Every variable name looked up so far, sorted.
    pub fn names_read(&self) -> Vec<String> {
        self.read
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// A fixed environment, so tests do not touch global process state.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            overrides: Some(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            ),
            set: Vec::new(),
            read: Default::default(),
        }
    }

    /// This environment with `name` set to `value`, whatever the environment itself says.
    pub fn with_var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.set.push((name.into(), value.into()));
        self
    }

    /// The raw value; an empty value counts as unset, as compose files often leave them so.
    pub fn get(&self, name: &str) -> Option<String> {
        if let Ok(mut read) = self.read.lock() {
            read.insert(name.to_owned());
        }
        let find = |pairs: &[(String, String)]| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let value = find(&self.set).or_else(|| match &self.overrides {
            Some(pairs) => find(pairs),
            None => std::env::var(name).ok(),
        });
        value.filter(|v| !v.trim().is_empty())
    }

    pub fn required(&self, name: &str) -> Result<String, ConfigError> {
        self.get(name)
            .ok_or_else(|| ConfigError::Missing(name.to_owned()))
    }

    pub fn string_or(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_owned())
    }

    pub fn secret(&self, name: &str) -> Option<Secret> {
        self.get(name).map(Secret)
    }

    /// A secret from `name`, or from the file named by `<name>_FILE`; `None` when neither is
    /// set. Both set, or a file that cannot be read or is empty, is an error naming the variable.
    pub fn secret_var(&self, name: &str) -> Result<Option<Secret>, ConfigError> {
        let file_var = format!("{name}_FILE");
        resolve_secret(name, self.get(name), &file_var, self.get(&file_var))
    }

    /// Like [`Env::secret_var`], but a missing secret is an error naming the variable.
    pub fn required_secret(&self, name: &str) -> Result<Secret, ConfigError> {
        self.secret_var(name)?
            .ok_or_else(|| ConfigError::Missing(format!("{name} (or {name}_FILE)")))
    }

    /// Parses a value with `FromStr`, falling back to `default` when unset.
    pub fn parse_or<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => parse_value(name, &raw),
        }
    }

    pub fn parse_opt<T>(&self, name: &str) -> Result<Option<T>, ConfigError>
    where
        T: FromStr,
        T::Err: fmt::Display,
    {
        self.get(name)
            .map(|raw| parse_value(name, &raw))
            .transpose()
    }

    /// A duration written in seconds with an optional unit: `30`, `30s`, `500ms`, `15m`, `2h`, `30d`.
    pub fn duration_or(&self, name: &str, default: Duration) -> Result<Duration, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => parse_duration(&raw).ok_or_else(|| ConfigError::Invalid {
                name: name.to_owned(),
                reason: format!("`{raw}` is not a duration such as 30s, 500ms, 15m, 2h or 30d"),
            }),
        }
    }

    pub fn bool_or(&self, name: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
            Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(false),
            Some(v) => Err(ConfigError::Invalid {
                name: name.to_owned(),
                reason: format!("`{v}` is not a boolean"),
            }),
        }
    }

    /// The folder for embedded-mode files (SQLite databases, generated keys).
    pub fn data_dir(&self) -> PathBuf {
        PathBuf::from(self.string_or("DATA_DIR", "data"))
    }
}

/// The one place a secret's value or file is turned into a [`Secret`].
fn resolve_secret(
    name: &str,
    value: Option<String>,
    file_var: &str,
    file: Option<String>,
) -> Result<Option<Secret>, ConfigError> {
    match (value, file) {
        (Some(_), Some(_)) => Err(ConfigError::Invalid {
            name: name.to_owned(),
            reason: format!("set either {name} or {file_var}, not both"),
        }),
        (Some(value), None) => Ok(Some(Secret(value))),
        (None, None) => Ok(None),
        (None, Some(path)) => {
            let content =
                std::fs::read_to_string(path.trim()).map_err(|e| ConfigError::Invalid {
                    name: file_var.to_owned(),
                    reason: format!("cannot read the file it names: {}", e.kind()),
                })?;
            let content = content.strip_suffix('\n').unwrap_or(&content);
            let content = content.strip_suffix('\r').unwrap_or(content);
            if content.trim().is_empty() {
                return Err(ConfigError::Invalid {
                    name: file_var.to_owned(),
                    reason: "the file it names is empty".into(),
                });
            }
            Ok(Some(Secret(content.to_owned())))
        }
    }
}

/// How a deployment runs: `dev` (the default; embedded mode, laptops) or `production`,
/// read from `COMMERCE_PROFILE` (the router: `profile` in its file or `ROUTER_PROFILE`).
/// Production refuses settings meant for a laptop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Developer machine: embedded mode, introspection and GraphiQL on.
    #[default]
    Dev,
    /// Internet-facing: laptop conveniences are refused, introspection is off unless enabled.
    Production,
}

impl Profile {
    pub const VAR: &'static str = "COMMERCE_PROFILE";

    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        match env.get(Self::VAR) {
            None => Ok(Self::Dev),
            Some(v) => v.trim().parse().map_err(|reason| ConfigError::Invalid {
                name: Self::VAR.into(),
                reason,
            }),
        }
    }

    pub fn is_production(self) -> bool {
        self == Self::Production
    }
}

impl FromStr for Profile {
    type Err = String;

    /// `dev`/`development` or `prod`/`production`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "dev" | "development" => Ok(Self::Dev),
            "prod" | "production" => Ok(Self::Production),
            other => Err(format!(
                "unknown profile `{other}` (expected dev or production)"
            )),
        }
    }
}

/// Loads a serde settings struct `T` from, lowest precedence first: its own defaults (so `T`
/// carries `#[serde(default)]`), a YAML file, and environment variables each mapped to a key.
/// `T` should also carry `#[serde(deny_unknown_fields)]`, so a misspelt file key stops the
/// service. Values from variables are text; numbers and booleans (`true`/`false`, `1`/`0`,
/// `yes`/`no`, `on`/`off`) are read from it, and anything else through `T`'s own
/// `Deserialize`. Errors name the variable ([`ConfigError::Invalid`]) or the file and key
/// ([`ConfigError::Key`]). Variables are read through [`Env`], so empty ones count as unset
/// and [`Env::names_read`] lists them.
#[derive(Debug)]
pub struct Loader<'a> {
    env: &'a Env,
    figment: Figment,
    /// Which variable set which dotted key, to name it in errors.
    vars: Vec<(String, String)>,
}

/// One source of settings, named so errors can say where a value came from.
struct Source {
    name: String,
    data: Serialized<serde_json::Value>,
}

impl Provider for Source {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name.clone())
    }

    fn data(&self) -> Result<Map<FigmentProfile, Dict>, figment::Error> {
        self.data.data()
    }
}

impl<'a> Loader<'a> {
    pub fn new(env: &'a Env) -> Self {
        Self {
            env,
            figment: Figment::new(),
            vars: Vec::new(),
        }
    }

    /// Merges the YAML file at `path`; an empty file sets nothing.
    pub fn file(self, path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.display().to_string(),
            reason: format!("cannot be read: {e}"),
        })?;
        self.yaml(&text, &path.display().to_string())
    }

    /// Merges YAML text; `origin` names it in errors.
    pub fn yaml(mut self, text: &str, origin: &str) -> Result<Self, ConfigError> {
        if text.trim().is_empty() {
            return Ok(self);
        }
        let value: serde_json::Value =
            serde_yaml_ng::from_str(text).map_err(|e| ConfigError::File {
                path: origin.to_owned(),
                reason: format!("not valid YAML: {e}"),
            })?;
        if !value.is_object() {
            return Err(ConfigError::File {
                path: origin.to_owned(),
                reason: "expected a mapping of settings".into(),
            });
        }
        self.figment = self.figment.merge(Source {
            name: format!("config file {origin}"),
            data: Serialized::defaults(value),
        });
        Ok(self)
    }

    /// Sets the dotted `key` from the variable `name` when it is set.
    pub fn var(self, name: &str, key: &str) -> Self {
        let value = self.env.get(name).map(|raw| raw.trim().to_owned());
        self.value(name, key, value.map(serde_json::Value::String))
    }

    /// Sets the list at `key` from the comma-separated variable `name` (blank items dropped).
    pub fn list_var(self, name: &str, key: &str) -> Self {
        let value = self.env.get(name).map(|raw| {
            raw.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| serde_json::Value::String(item.to_owned()))
                .collect()
        });
        self.value(name, key, value)
    }

    /// Sets `key` from the secret `name` or the file named by `<name>_FILE`
    /// ([`Env::secret_var`]).
    pub fn secret_var(self, name: &str, key: &str) -> Result<Self, ConfigError> {
        let value = self.env.secret_var(name)?;
        Ok(self.value(
            name,
            key,
            value.map(|secret| serde_json::Value::String(secret.0)),
        ))
    }

    /// Sets `key` from the variable `name` read with `T`'s `FromStr`, for values whose text
    /// form in a variable is more lenient than in the file (other spellings, any case). A value
    /// `FromStr` refuses is an error naming the variable.
    pub fn parsed_var<T>(self, name: &str, key: &str) -> Result<Self, ConfigError>
    where
        T: FromStr + Serialize,
        T::Err: fmt::Display,
    {
        let Some(raw) = self.env.get(name) else {
            return Ok(self);
        };
        let parsed: T = parse_value(name, &raw)?;
        let value = serde_json::to_value(parsed).map_err(|e| ConfigError::Invalid {
            name: name.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(self.value(name, key, Some(value)))
    }

    /// Sets entries of the map at `key` from the variable `name`, written `name=value,...`
    /// (blank items dropped). With `replace` the variable's entries are the whole map;
    /// otherwise they are added to those of the file, replacing entries of the same name. An
    /// item without `=` or with an empty name is an error naming the variable.
    pub fn map_var(mut self, name: &str, key: &str, replace: bool) -> Result<Self, ConfigError> {
        let Some(raw) = self.env.get(name) else {
            return Ok(self);
        };
        let mut map = serde_json::Map::new();
        for item in raw
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            match item.split_once('=') {
                Some((entry, value)) if !entry.trim().is_empty() => {
                    map.insert(
                        entry.trim().to_owned(),
                        serde_json::Value::String(value.trim().to_owned()),
                    );
                }
                _ => {
                    return Err(ConfigError::Invalid {
                        name: name.to_owned(),
                        reason: format!("`{item}` is not `name=value`"),
                    });
                }
            }
        }
        if replace {
            // Merging a non-map first drops the file's entries: maps merge key by key, any
            // other value replaces what was there.
            self.figment = self.figment.merge(Source {
                name: format!("environment variable {name}"),
                data: Serialized::default(key, serde_json::Value::Null),
            });
        }
        Ok(self.value(name, key, Some(serde_json::Value::Object(map))))
    }

    fn value(mut self, name: &str, key: &str, value: Option<serde_json::Value>) -> Self {
        if let Some(value) = value {
            self.figment = self.figment.merge(Source {
                name: format!("environment variable {name}"),
                data: Serialized::default(key, value),
            });
            self.vars.push((key.to_owned(), name.to_owned()));
        }
        self
    }

    /// The settings, or the first problem found.
    pub fn extract<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        self.figment.extract_lossy().map_err(|e| self.error(e))
    }

    fn error(&self, error: figment::Error) -> ConfigError {
        let key = error.path.join(".");
        let reason = error.kind.to_string();
        // The last variable merged for this key (or for a table holding it) set the value.
        let var = self
            .vars
            .iter()
            .rev()
            .find(|(k, _)| key == *k || key.starts_with(&format!("{k}.")));
        match var {
            Some((_, name)) if !key.is_empty() => ConfigError::Invalid {
                name: name.clone(),
                reason,
            },
            _ => ConfigError::Key {
                key: if key.is_empty() {
                    "(top level)".into()
                } else {
                    key
                },
                origin: error
                    .metadata
                    .map(|m| m.name.into_owned())
                    .unwrap_or_else(|| "the defaults".into()),
                reason,
            },
        }
    }
}

fn parse_value<T>(name: &str, raw: &str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    raw.trim()
        .parse()
        .map_err(|e: T::Err| ConfigError::Invalid {
            name: name.to_owned(),
            reason: e.to_string(),
        })
}

fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let n: u64 = number.parse().ok()?;
    let secs = match unit {
        "ms" => return Some(Duration::from_millis(n)),
        "" | "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    mod loader {
        use std::net::SocketAddr;

        use serde::Deserialize;

        use super::*;

        #[derive(Debug, Deserialize, PartialEq)]
        #[serde(default, deny_unknown_fields)]
        struct Settings {
            addr: SocketAddr,
            workers: u32,
            verbose: bool,
            origins: Vec<String>,
            limits: Limits,
        }

        #[derive(Debug, Deserialize, PartialEq)]
        #[serde(default, deny_unknown_fields)]
        struct Limits {
            depth: usize,
        }

        impl Default for Settings {
            fn default() -> Self {
                Self {
                    addr: "127.0.0.1:4001".parse().unwrap(),
                    workers: 4,
                    verbose: false,
                    origins: vec!["https://a.example".into()],
                    limits: Limits::default(),
                }
            }
        }

        impl Default for Limits {
            fn default() -> Self {
                Self { depth: 12 }
            }
        }

        fn load(env: &[(&str, &str)], yaml: &str) -> Result<Settings, ConfigError> {
            let env = Env::from_pairs(env.iter().copied());
            Loader::new(&env)
                .yaml(yaml, "test.yaml")?
                .var("APP_ADDR", "addr")
                .var("APP_WORKERS", "workers")
                .var("APP_VERBOSE", "verbose")
                .list_var("APP_ORIGINS", "origins")
                .var("APP_MAX_DEPTH", "limits.depth")
                .extract()
        }

        #[test]
        fn defaults_then_file_then_variables() {
            assert_eq!(load(&[], "").unwrap(), Settings::default());
            let from_file = load(&[], "workers: 8\nlimits:\n  depth: 5\n").unwrap();
            assert_eq!((from_file.workers, from_file.limits.depth), (8, 5));
            assert_eq!(
                from_file.addr,
                Settings::default().addr,
                "untouched keys keep defaults"
            );
            let both = load(
                &[
                    ("APP_WORKERS", "16"),
                    ("APP_VERBOSE", "on"),
                    ("APP_ORIGINS", "https://b.example, ,https://c.example"),
                    ("APP_MAX_DEPTH", ""),
                ],
                "workers: 8\nlimits:\n  depth: 5\n",
            )
            .unwrap();
            assert_eq!(both.workers, 16, "a variable beats the file");
            assert!(both.verbose);
            assert_eq!(both.origins, ["https://b.example", "https://c.example"]);
            assert_eq!(both.limits.depth, 5, "an empty variable counts as unset");
        }

        #[test]
        fn a_bad_variable_is_named() {
            for (name, value) in [
                ("APP_ADDR", "localhost"),
                ("APP_WORKERS", "many"),
                ("APP_VERBOSE", "perhaps"),
                ("APP_MAX_DEPTH", "-1"),
            ] {
                match load(&[(name, value)], "workers: 8\n") {
                    Err(ConfigError::Invalid { name: named, .. }) => assert_eq!(named, name),
                    other => panic!("{name}={value}: {other:?}"),
                }
            }
        }

        #[derive(Debug, Deserialize, Default)]
        #[serde(default, deny_unknown_fields)]
        struct Routing {
            profile: Profile,
            urls: std::collections::BTreeMap<String, String>,
            ttls: std::collections::BTreeMap<String, u32>,
        }

        fn routing(env: &[(&str, &str)]) -> Result<Routing, ConfigError> {
            let env = Env::from_pairs(env.iter().copied());
            Loader::new(&env)
                .yaml(
                    "urls:\n  a: http://a\n  b: http://b\nttls:\n  x: 1\n",
                    "test.yaml",
                )?
                .parsed_var::<Profile>("APP_PROFILE", "profile")?
                .map_var("APP_URLS", "urls", false)?
                .map_var("APP_TTLS", "ttls", true)?
                .extract()
        }

        #[test]
        fn parsed_and_map_variables() {
            let loaded = routing(&[
                ("APP_PROFILE", "PROD"),
                ("APP_URLS", "b=http://b2, c = http://c"),
                ("APP_TTLS", "y=5,z=6"),
            ])
            .unwrap();
            assert_eq!(loaded.profile, Profile::Production);
            assert_eq!(
                loaded.urls.values().map(String::as_str).collect::<Vec<_>>(),
                ["http://a", "http://b2", "http://c"],
                "merged into the file's map"
            );
            assert_eq!(
                loaded.ttls.into_iter().collect::<Vec<_>>(),
                [("y".to_owned(), 5), ("z".to_owned(), 6)],
                "replacing the file's map"
            );
            let file_only = routing(&[]).unwrap();
            assert_eq!((file_only.profile, file_only.urls.len()), (Profile::Dev, 2));
            for (name, value) in [
                ("APP_PROFILE", "staging"),
                ("APP_URLS", "c"),
                ("APP_TTLS", "=5"),
                ("APP_TTLS", "y=soon"),
            ] {
                match routing(&[(name, value)]) {
                    Err(ConfigError::Invalid { name: named, .. }) => assert_eq!(named, name),
                    other => panic!("{name}={value}: {other:?}"),
                }
            }
        }

        #[test]
        fn a_bad_file_entry_names_the_file_and_the_key() {
            let unknown = load(&[], "limits:\n  dept: 3\n").unwrap_err();
            let text = unknown.to_string();
            assert!(
                text.contains("dept") && text.contains("limits") && text.contains("test.yaml"),
                "{text}"
            );
            let wrong_type = load(&[], "workers: lots\n").unwrap_err();
            assert!(
                matches!(&wrong_type, ConfigError::Key { key, .. } if key == "workers"),
                "{wrong_type:?}"
            );
            assert!(matches!(
                load(&[], "workers: [1"),
                Err(ConfigError::File { .. })
            ));
            assert!(matches!(load(&[], "- 1\n"), Err(ConfigError::File { .. })));
        }
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "Secret([redacted]) [redacted]");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn parses_typed_values_and_names_the_variable() {
        let env = Env::from_pairs([
            ("PORT", "80x"),
            ("TTL", "15m"),
            ("ON", "yes"),
            ("EMPTY", " "),
        ]);
        assert_eq!(
            env.parse_or("PORT", 1u16).unwrap_err(),
            ConfigError::Invalid {
                name: "PORT".into(),
                reason: "invalid digit found in string".into()
            }
        );
        assert_eq!(
            env.duration_or("TTL", Duration::ZERO).unwrap(),
            Duration::from_secs(900)
        );
        assert!(env.bool_or("ON", false).unwrap());
        assert_eq!(
            env.required("EMPTY").unwrap_err(),
            ConfigError::Missing("EMPTY".into())
        );
        assert!(env.duration_or("ON", Duration::ZERO).is_err());
        assert_eq!(env.names_read(), ["EMPTY", "ON", "PORT", "TTL"]);
    }

    #[test]
    fn secrets_come_from_files_and_both_or_unreadable_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("stripe_key");
        std::fs::write(&file, "sk_live_from_file\n").unwrap();
        let path = file.display().to_string();
        let env = Env::from_pairs([("STRIPE_SECRET_KEY_FILE", path.as_str())]);
        assert_eq!(
            env.secret_var("STRIPE_SECRET_KEY")
                .unwrap()
                .unwrap()
                .expose(),
            "sk_live_from_file"
        );
        assert_eq!(
            env.required_secret("STRIPE_SECRET_KEY").unwrap().expose(),
            "sk_live_from_file"
        );

        let both = Env::from_pairs([
            ("STRIPE_SECRET_KEY", "sk_env"),
            ("STRIPE_SECRET_KEY_FILE", path.as_str()),
        ]);
        assert!(
            matches!(both.secret_var("STRIPE_SECRET_KEY"), Err(ConfigError::Invalid { name, .. }) if name == "STRIPE_SECRET_KEY")
        );

        let missing = dir.path().join("absent").display().to_string();
        let unreadable = Env::from_pairs([("STRIPE_SECRET_KEY_FILE", missing.as_str())]);
        assert!(
            matches!(unreadable.secret_var("STRIPE_SECRET_KEY"), Err(ConfigError::Invalid { name, .. }) if name == "STRIPE_SECRET_KEY_FILE")
        );

        let blank = dir.path().join("blank");
        std::fs::write(&blank, "\n").unwrap();
        let blank = blank.display().to_string();
        let empty = Env::from_pairs([("STRIPE_SECRET_KEY_FILE", blank.as_str())]);
        assert!(
            matches!(empty.secret_var("STRIPE_SECRET_KEY"), Err(ConfigError::Invalid { name, .. }) if name == "STRIPE_SECRET_KEY_FILE")
        );

        assert_eq!(
            Env::default().required_secret("NOPE_UNSET_X").unwrap_err(),
            ConfigError::Missing("NOPE_UNSET_X (or NOPE_UNSET_X_FILE)".into())
        );
    }

    #[test]
    fn values_set_by_the_program_win_over_the_environment() {
        let env = Env::from_pairs([("DATA_DIR", "from-env"), ("OTHER", "kept")])
            .with_var("DATA_DIR", "from-flag");
        assert_eq!(env.data_dir(), PathBuf::from("from-flag"));
        assert_eq!(env.get("OTHER").as_deref(), Some("kept"));
        let unset = Env::from_pairs([("X", "1")]).with_var("DATA_DIR", "dir");
        assert_eq!(unset.data_dir(), PathBuf::from("dir"));
        assert_eq!(unset.names_read(), ["DATA_DIR"]);
    }

    #[test]
    fn profile_defaults_to_dev_and_rejects_unknown_names() {
        assert_eq!(
            Profile::from_env(&Env::from_pairs([("X", "1")])).unwrap(),
            Profile::Dev
        );
        assert!(
            Profile::from_env(&Env::from_pairs([("COMMERCE_PROFILE", "production")]))
                .unwrap()
                .is_production()
        );
        assert!(
            matches!(Profile::from_env(&Env::from_pairs([("COMMERCE_PROFILE", "staging")])), Err(ConfigError::Invalid { name, .. }) if name == "COMMERCE_PROFILE")
        );
    }
}
