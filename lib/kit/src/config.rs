//! Service configuration: the platform's [`Env`], [`Secret`] and [`Profile`] (re-exported
//! from [`platform::config`]) and the settings of what only services have: a relational
//! store ([`DatabaseConfig`]) and the event bus ([`BusConfig`]).

use std::time::Duration;

pub use platform::config::*;

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
            return Err(ConfigError::Invalid {
                name: "DATABASE_MAX_CONNECTIONS".into(),
                reason: "must be at least 1".into(),
            });
        }
        // The URL carries the password, so it may come from a file like any other secret.
        let url = match env.secret_var(&specific)? {
            Some(url) => Some(url.expose().to_owned()),
            None => env
                .secret_var("DATABASE_URL")?
                .map(|s| s.expose().to_owned()),
        };
        Ok(match url {
            Some(url) => {
                if !(url.starts_with("postgres://")
                    || url.starts_with("postgresql://")
                    || url.starts_with("sqlite:"))
                {
                    return Err(ConfigError::Invalid {
                        name: specific,
                        reason: "expected a postgres:// or sqlite: URL".into(),
                    });
                }
                let embedded = url.starts_with("sqlite:");
                Self {
                    url: Secret::new(url),
                    max_connections,
                    embedded,
                }
            }
            None => {
                let path = env.data_dir().join(format!("{service}.sqlite"));
                Self {
                    url: Secret::new(format!("sqlite://{}?mode=rwc", path.display())),
                    max_connections: 1,
                    embedded: true,
                }
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
        if !prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(ConfigError::Invalid {
                name: "NATS_PREFIX".into(),
                reason: "letters, digits, - and _ only".into(),
            });
        }
        Ok(Self {
            // It carries the service's NATS password, so it may come from a file too.
            nats_url: env
                .secret_var("NATS_URL")?
                .map(|url| url.expose().to_owned()),
            prefix,
            request_timeout: env.duration_or("NATS_REQUEST_TIMEOUT", Duration::from_secs(3))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_defaults_to_sqlite_in_data_dir() {
        let cfg =
            DatabaseConfig::from_env(&Env::from_pairs([("DATA_DIR", "/tmp/x")]), "orders").unwrap();
        assert!(cfg.embedded);
        assert_eq!(cfg.url.expose(), "sqlite:///tmp/x/orders.sqlite?mode=rwc");
        let pg = Env::from_pairs([
            ("DATABASE_URL", "postgres://a/b"),
            ("ORDERS_DATABASE_URL", "postgres://a/orders"),
        ]);
        assert_eq!(
            DatabaseConfig::from_env(&pg, "orders")
                .unwrap()
                .url
                .expose(),
            "postgres://a/orders"
        );
        let bad = Env::from_pairs([("DATABASE_URL", "mysql://a/b")]);
        assert!(DatabaseConfig::from_env(&bad, "orders").is_err());
    }

    #[test]
    fn a_database_url_may_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db_url");
        std::fs::write(&db, "postgres://orders:pw@db/orders\n").unwrap();
        let db = db.display().to_string();
        let cfg = DatabaseConfig::from_env(
            &Env::from_pairs([("ORDERS_DATABASE_URL_FILE", db.as_str())]),
            "orders",
        )
        .unwrap();
        assert_eq!(cfg.url.expose(), "postgres://orders:pw@db/orders");
    }
}
