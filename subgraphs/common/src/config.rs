//! Typed configuration read from environment variables, validated at start-up.
//!
//! Services describe their settings as plain structs built with [`Env`]; a missing or
//! malformed variable is a [`ConfigError`] naming the variable, so a service refuses to
//! start instead of running half-configured. Secrets are wrapped in [`Secret`], whose
//! `Debug` and `Display` never print the value, so a logged config cannot leak them.

use std::{fmt, path::PathBuf, str::FromStr, time::Duration};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(String),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: String, reason: String },
}

/// A value that must never be printed: passwords, signing keys, webhook secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

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
/// It remembers every name it was asked for ([`Env::names_read`]), so a test can check a
/// deployment file against what a service's configuration really reads.
#[derive(Debug, Clone, Default)]
pub struct Env {
    overrides: Option<Vec<(String, String)>>,
    read: std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<String>>>,
}

impl Env {
    /// The real process environment.
    pub fn process() -> Self {
        Self::default()
    }

    /// Every variable name looked up so far, sorted.
    pub fn names_read(&self) -> Vec<String> {
        self.read.lock().map(|r| r.iter().cloned().collect()).unwrap_or_default()
    }

    /// A fixed environment, so tests do not touch global process state.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            overrides: Some(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect()),
            read: Default::default(),
        }
    }

    /// The raw value; an empty value counts as unset, as compose files often leave them so.
    pub fn get(&self, name: &str) -> Option<String> {
        if let Ok(mut read) = self.read.lock() {
            read.insert(name.to_owned());
        }
        let value = match &self.overrides {
            Some(pairs) => pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            None => std::env::var(name).ok(),
        };
        value.filter(|v| !v.trim().is_empty())
    }

    pub fn required(&self, name: &str) -> Result<String, ConfigError> {
        self.get(name).ok_or_else(|| ConfigError::Missing(name.to_owned()))
    }

    pub fn string_or(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_owned())
    }

    pub fn secret(&self, name: &str) -> Option<Secret> {
        self.get(name).map(Secret)
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
        self.get(name).map(|raw| parse_value(name, &raw)).transpose()
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
            Some(v) => Err(ConfigError::Invalid { name: name.to_owned(), reason: format!("`{v}` is not a boolean") }),
        }
    }

    /// The folder for embedded-mode files (SQLite databases, generated keys).
    pub fn data_dir(&self) -> PathBuf {
        PathBuf::from(self.string_or("DATA_DIR", "data"))
    }
}

fn parse_value<T>(name: &str, raw: &str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    raw.trim()
        .parse()
        .map_err(|e: T::Err| ConfigError::Invalid { name: name.to_owned(), reason: e.to_string() })
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

/// Where a service keeps its relational data: PostgreSQL when `DATABASE_URL` is set,
/// otherwise a SQLite file in the data folder (embedded mode).
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: Secret,
    pub max_connections: u32,
    pub embedded: bool,
}

impl DatabaseConfig {
    /// Reads `<PREFIX>_DATABASE_URL`, then `DATABASE_URL`, else `sqlite://<DATA_DIR>/<service>.sqlite`.
    pub fn from_env(env: &Env, service: &str) -> Result<Self, ConfigError> {
        let specific = format!("{}_DATABASE_URL", service.to_ascii_uppercase());
        let max_connections = env.parse_or("DATABASE_MAX_CONNECTIONS", 10u32)?;
        if max_connections == 0 {
            return Err(ConfigError::Invalid { name: "DATABASE_MAX_CONNECTIONS".into(), reason: "must be at least 1".into() });
        }
        let url = env.get(&specific).or_else(|| env.get("DATABASE_URL"));
        Ok(match url {
            Some(url) => {
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://") || url.starts_with("sqlite:")) {
                    return Err(ConfigError::Invalid {
                        name: specific,
                        reason: "expected a postgres:// or sqlite: URL".into(),
                    });
                }
                let embedded = url.starts_with("sqlite:");
                Self { url: Secret(url), max_connections, embedded }
            }
            None => {
                let path = env.data_dir().join(format!("{service}.sqlite"));
                Self { url: Secret(format!("sqlite://{}?mode=rwc", path.display())), max_connections: 1, embedded: true }
            }
        })
    }
}

/// How a service reaches the event bus: NATS JetStream when `NATS_URL` is set,
/// otherwise the in-process bus (embedded mode, one process).
#[derive(Debug, Clone)]
pub struct BusConfig {
    pub nats_url: Option<String>,
    /// Prepended to every subject and stream name; lets tests share one NATS server.
    pub prefix: String,
    pub request_timeout: Duration,
}

impl BusConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let prefix = env.string_or("NATS_PREFIX", "");
        if !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(ConfigError::Invalid { name: "NATS_PREFIX".into(), reason: "letters, digits, - and _ only".into() });
        }
        Ok(Self {
            nats_url: env.get("NATS_URL"),
            prefix,
            request_timeout: env.duration_or("NATS_REQUEST_TIMEOUT", Duration::from_secs(3))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "Secret([redacted]) [redacted]");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn parses_typed_values_and_names_the_variable() {
        let env = Env::from_pairs([("PORT", "80x"), ("TTL", "15m"), ("ON", "yes"), ("EMPTY", " ")]);
        assert_eq!(
            env.parse_or("PORT", 1u16).unwrap_err(),
            ConfigError::Invalid { name: "PORT".into(), reason: "invalid digit found in string".into() }
        );
        assert_eq!(env.duration_or("TTL", Duration::ZERO).unwrap(), Duration::from_secs(900));
        assert!(env.bool_or("ON", false).unwrap());
        assert_eq!(env.required("EMPTY").unwrap_err(), ConfigError::Missing("EMPTY".into()));
        assert!(env.duration_or("ON", Duration::ZERO).is_err());
        assert_eq!(env.names_read(), ["EMPTY", "ON", "PORT", "TTL"]);
    }

    #[test]
    fn database_defaults_to_sqlite_in_data_dir() {
        let cfg = DatabaseConfig::from_env(&Env::from_pairs([("DATA_DIR", "/tmp/x")]), "orders").unwrap();
        assert!(cfg.embedded);
        assert_eq!(cfg.url.expose(), "sqlite:///tmp/x/orders.sqlite?mode=rwc");
        let pg = Env::from_pairs([("DATABASE_URL", "postgres://a/b"), ("ORDERS_DATABASE_URL", "postgres://a/orders")]);
        assert_eq!(DatabaseConfig::from_env(&pg, "orders").unwrap().url.expose(), "postgres://a/orders");
        let bad = Env::from_pairs([("DATABASE_URL", "mysql://a/b")]);
        assert!(DatabaseConfig::from_env(&bad, "orders").is_err());
    }
}
