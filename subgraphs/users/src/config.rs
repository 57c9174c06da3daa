//! The service's settings, read from the environment and validated before start-up.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `USERS_ADDR` | `127.0.0.1:4004` | listen address |
//! | `MONGODB_URL` | unset | MongoDB connection string; unset = embedded store in `DATA_DIR` |
//! | `MONGODB_DATABASE` | `users` | database name |
//! | `DATA_DIR` | `data` | embedded store and generated signing key |
//! | `JWT_SIGNING_KEYS` | unset | PKCS#8 Ed25519 PEM keys, concatenated; the first signs, all verify. Unset = one key generated once in `DATA_DIR` (fine for one replica; replicas must share configured keys) |
//! | `JWT_ISSUER`, `JWT_AUDIENCE`, `JWT_LEEWAY` | see [`TokenPolicy`] | token claims |
//! | `ACCESS_TOKEN_TTL` / `REFRESH_TOKEN_TTL` | `15m` / `30d` | token lifetimes |
//! | `PASSWORD_HASH_MEMORY_KIB` / `PASSWORD_HASH_ITERATIONS` | `19456` / `2` | argon2id cost, never below OWASP's minimum |
//! | `PASSWORD_HASH_CONCURRENCY` / `PASSWORD_HASH_QUEUE` | 2 / 16 per core | hashes running at once / running or waiting (beyond: `SERVICE_UNAVAILABLE`) |
//! | `LOGIN_LOCK_THRESHOLD` / `LOGIN_LOCK_BASE` / `LOGIN_LOCK_MAX` | `5` / `30s` / `15m` | login throttling per account and client address (see [`crate::accounts::lockout`]) |
//! | `USERS_BOOTSTRAP_ADMIN_EMAIL` / `USERS_BOOTSTRAP_ADMIN_PASSWORD` / `USERS_BOOTSTRAP_ADMIN_NAME` | unset / unset / `Administrator` | an admin created at start-up when no account has the email (never a promotion); the password must pass the policy and not be an example's |

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use kit::{
    auth::{SigningKey, TokenPolicy},
    config::{ConfigError, Env, Loader, Secret},
};
use serde::Deserialize;

use crate::{
    accounts::LockoutPolicy,
    keys::{self, KeysError},
    passwords::{self, HashCost, HashLimits},
    sessions::TokenLifetimes,
};

/// The listener address, read through the shared [`Loader`]; unset, it is [`DEFAULT_ADDR`].
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Listeners {
    addr: Option<SocketAddr>,
}

/// Where accounts are kept.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    Mongo {
        url: Secret,
        database: String,
    },
    /// The file store in this folder.
    Embedded {
        dir: PathBuf,
    },
}

/// Where signing keys come from.
#[derive(Clone)]
pub enum KeySource {
    Configured(Vec<SigningKey>),
    /// Generated once and kept in this folder.
    Generated {
        dir: PathBuf,
    },
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Configured(keys) => f
                .debug_tuple("Configured")
                .field(&keys.iter().map(SigningKey::kid).collect::<Vec<_>>())
                .finish(),
            Self::Generated { dir } => f.debug_struct("Generated").field("dir", dir).finish(),
        }
    }
}

impl KeySource {
    pub fn load(&self) -> Result<Vec<SigningKey>, KeysError> {
        match self {
            Self::Configured(keys) => Ok(keys.clone()),
            Self::Generated { dir } => keys::load_or_generate(dir),
        }
    }
}

/// The admin ensured at start-up.
#[derive(Debug, Clone)]
pub struct BootstrapAdmin {
    pub email: String,
    pub name: String,
    pub password: Secret,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub store: StoreConfig,
    pub keys: KeySource,
    pub token_policy: TokenPolicy,
    pub lifetimes: TokenLifetimes,
    pub hash_cost: HashCost,
    pub hash_limits: HashLimits,
    pub lockout: LockoutPolicy,
    pub bootstrap_admin: Option<BootstrapAdmin>,
    /// `COMMERCE_PROFILE`, `SUBGRAPH_SHARED_SECRET`, `USERS_METRICS_ADDR`.
    pub internal: kit::internal::InternalConfig,
}

pub const DEFAULT_ADDR: &str = "127.0.0.1:4004";

fn invalid(name: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name: name.to_owned(),
        reason: reason.into(),
    }
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let listeners: Listeners = Loader::new(env).var("USERS_ADDR", "addr").extract()?;
        let addr = match listeners.addr {
            Some(addr) => addr,
            None => DEFAULT_ADDR
                .parse()
                .map_err(|_| invalid("USERS_ADDR", "bad default"))?,
        };
        let data_dir = env.data_dir();
        let store = match env.secret_var("MONGODB_URL")? {
            Some(url) => {
                if !(url.expose().starts_with("mongodb://")
                    || url.expose().starts_with("mongodb+srv://"))
                {
                    return Err(invalid(
                        "MONGODB_URL",
                        "expected a mongodb:// or mongodb+srv:// URL",
                    ));
                }
                let database = env.string_or("MONGODB_DATABASE", "users");
                if database.is_empty() || database.contains(['/', '\\', '.', ' ', '"', '$']) {
                    return Err(invalid("MONGODB_DATABASE", "not a valid database name"));
                }
                StoreConfig::Mongo { url, database }
            }
            None => StoreConfig::Embedded {
                dir: data_dir.clone(),
            },
        };
        let keys = match env.secret_var("JWT_SIGNING_KEYS")? {
            Some(pems) => KeySource::Configured(
                keys::parse_pem_list(pems.expose())
                    .map_err(|e| invalid("JWT_SIGNING_KEYS", e.to_string()))?,
            ),
            None => KeySource::Generated { dir: data_dir },
        };
        let lifetimes = TokenLifetimes {
            access: env.duration_or("ACCESS_TOKEN_TTL", TokenLifetimes::default().access)?,
            refresh: env.duration_or("REFRESH_TOKEN_TTL", TokenLifetimes::default().refresh)?,
        };
        if lifetimes.access < Duration::from_secs(1)
            || lifetimes.access > Duration::from_secs(24 * 3600)
        {
            return Err(invalid("ACCESS_TOKEN_TTL", "must be between 1s and 24h"));
        }
        if lifetimes.refresh <= lifetimes.access {
            return Err(invalid(
                "REFRESH_TOKEN_TTL",
                "must be longer than ACCESS_TOKEN_TTL",
            ));
        }
        let hash_cost = HashCost::new(
            env.parse_or(
                "PASSWORD_HASH_MEMORY_KIB",
                HashCost::OWASP_MINIMUM.memory_kib,
            )?,
            env.parse_or(
                "PASSWORD_HASH_ITERATIONS",
                HashCost::OWASP_MINIMUM.iterations,
            )?,
        )
        .map_err(|reason| invalid("PASSWORD_HASH_MEMORY_KIB/PASSWORD_HASH_ITERATIONS", reason))?;
        let default_limits = HashLimits::default();
        let concurrency = env.parse_or("PASSWORD_HASH_CONCURRENCY", default_limits.concurrency)?;
        let queue = env.parse_or("PASSWORD_HASH_QUEUE", default_limits.queue.max(concurrency))?;
        let hash_limits = HashLimits::new(concurrency, queue)
            .map_err(|reason| invalid("PASSWORD_HASH_CONCURRENCY/PASSWORD_HASH_QUEUE", reason))?;
        let defaults = LockoutPolicy::default();
        let lockout = LockoutPolicy {
            threshold: env.parse_or("LOGIN_LOCK_THRESHOLD", defaults.threshold)?,
            base: env.duration_or("LOGIN_LOCK_BASE", defaults.base)?,
            max: env.duration_or("LOGIN_LOCK_MAX", defaults.max)?,
        };
        if lockout.threshold == 0 {
            return Err(invalid("LOGIN_LOCK_THRESHOLD", "must be at least 1"));
        }
        if lockout.max < lockout.base {
            return Err(invalid(
                "LOGIN_LOCK_MAX",
                "must not be shorter than LOGIN_LOCK_BASE",
            ));
        }
        let bootstrap_admin = match (
            env.get("USERS_BOOTSTRAP_ADMIN_EMAIL"),
            env.secret("USERS_BOOTSTRAP_ADMIN_PASSWORD"),
        ) {
            (Some(email), Some(password)) => {
                let name = env.string_or("USERS_BOOTSTRAP_ADMIN_NAME", "Administrator");
                if crate::accounts::is_example_password(password.expose()) {
                    return Err(invalid(
                        "USERS_BOOTSTRAP_ADMIN_PASSWORD",
                        "is the example's placeholder; choose a password of your own",
                    ));
                }
                let normalised = crate::accounts::email::normalise(&email);
                passwords::check_policy(password.expose(), &normalised, &name)
                    .map_err(|e| invalid("USERS_BOOTSTRAP_ADMIN_PASSWORD", e.to_string()))?;
                Some(BootstrapAdmin {
                    email,
                    name,
                    password,
                })
            }
            (None, None) => None,
            (Some(_), None) => {
                return Err(ConfigError::Missing(
                    "USERS_BOOTSTRAP_ADMIN_PASSWORD".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::Missing("USERS_BOOTSTRAP_ADMIN_EMAIL".into()));
            }
        };
        Ok(Self {
            addr,
            store,
            keys,
            token_policy: TokenPolicy::from_env(env)?,
            lifetimes,
            hash_cost,
            hash_limits,
            lockout,
            bootstrap_admin,
            internal: kit::internal::InternalConfig::from_env(env, "users")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_keys_from_a_file() {
        let key = SigningKey::generate();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt.pem");
        std::fs::write(&path, key.to_pem()).unwrap();
        let cfg = Config::from_env(&Env::from_pairs([(
            "JWT_SIGNING_KEYS_FILE",
            path.display().to_string(),
        )]))
        .expect("config");
        assert!(matches!(cfg.keys, KeySource::Configured(ref keys) if keys.len() == 1));
        let unreadable = Env::from_pairs([(
            "JWT_SIGNING_KEYS_FILE",
            dir.path().join("absent").display().to_string(),
        )]);
        assert!(
            matches!(Config::from_env(&unreadable), Err(ConfigError::Invalid { name, .. }) if name == "JWT_SIGNING_KEYS_FILE")
        );
    }

    #[test]
    fn defaults_are_embedded_with_generated_keys() {
        let cfg = Config::from_env(&Env::from_pairs([("DATA_DIR", "somewhere")])).expect("config");
        assert_eq!(cfg.addr.to_string(), DEFAULT_ADDR);
        assert!(
            matches!(&cfg.store, StoreConfig::Embedded { dir } if dir == &PathBuf::from("somewhere"))
        );
        assert!(matches!(cfg.keys, KeySource::Generated { .. }));
        assert_eq!(cfg.lifetimes, TokenLifetimes::default());
        assert_eq!(cfg.hash_cost, HashCost::OWASP_MINIMUM);
        assert!(cfg.bootstrap_admin.is_none());
    }

    #[test]
    fn reads_mongo_keys_and_admin() {
        let key = SigningKey::generate();
        let env = Env::from_pairs([
            ("MONGODB_URL", "mongodb://db:27017"),
            ("MONGODB_DATABASE", "accounts"),
            ("JWT_SIGNING_KEYS", key.to_pem().as_str()),
            ("ACCESS_TOKEN_TTL", "5m"),
            ("USERS_BOOTSTRAP_ADMIN_EMAIL", "root@example.com"),
            ("USERS_BOOTSTRAP_ADMIN_PASSWORD", "a long enough secret"),
        ]);
        let cfg = Config::from_env(&env).expect("config");
        assert!(
            matches!(&cfg.store, StoreConfig::Mongo { database, .. } if database == "accounts")
        );
        assert!(matches!(&cfg.keys, KeySource::Configured(k) if k[0].kid() == key.kid()));
        assert_eq!(cfg.lifetimes.access, Duration::from_secs(300));
        let admin = cfg.bootstrap_admin.expect("admin");
        assert_eq!(admin.email, "root@example.com");
        assert!(
            !format!("{admin:?}").contains("secret"),
            "the password is never printed"
        );
    }

    #[test]
    fn refuses_weak_or_inconsistent_settings() {
        let fails = |pairs: &[(&str, &str)]| {
            Config::from_env(&Env::from_pairs(pairs.iter().copied())).is_err()
        };
        assert!(fails(&[("MONGODB_URL", "postgres://x")]));
        assert!(fails(&[("JWT_SIGNING_KEYS", "not a key")]));
        assert!(fails(&[("PASSWORD_HASH_MEMORY_KIB", "4096")]));
        assert!(fails(&[("PASSWORD_HASH_ITERATIONS", "1")]));
        assert!(fails(&[
            ("ACCESS_TOKEN_TTL", "1h"),
            ("REFRESH_TOKEN_TTL", "30m")
        ]));
        assert!(fails(&[("USERS_BOOTSTRAP_ADMIN_EMAIL", "a@b.co")]));
        assert!(fails(&[("LOGIN_LOCK_THRESHOLD", "0")]));
        assert!(fails(&[("PASSWORD_HASH_CONCURRENCY", "0")]));
        assert!(fails(&[
            ("PASSWORD_HASH_CONCURRENCY", "4"),
            ("PASSWORD_HASH_QUEUE", "2")
        ]));
    }

    #[test]
    fn a_bootstrap_admin_password_from_the_example_or_against_the_policy_stops_the_start() {
        let refused = |password: &str| {
            let env = Env::from_pairs([
                ("USERS_BOOTSTRAP_ADMIN_EMAIL", "root@example.com"),
                ("USERS_BOOTSTRAP_ADMIN_PASSWORD", password),
            ]);
            match Config::from_env(&env) {
                Err(e) => e.to_string(),
                Ok(_) => String::new(),
            }
        };
        // The value `.env.example` ships.
        let example = refused("change-me-admin-password");
        assert!(
            example.contains("USERS_BOOTSTRAP_ADMIN_PASSWORD"),
            "{example}"
        );
        let short = refused("short");
        assert!(short.contains("USERS_BOOTSTRAP_ADMIN_PASSWORD"), "{short}");
        let own_email = refused("root-is-my-password");
        assert!(
            own_email.contains("USERS_BOOTSTRAP_ADMIN_PASSWORD"),
            "{own_email}"
        );
        assert_eq!(
            refused("a long enough secret"),
            "",
            "a good password is accepted"
        );
    }
}
