//! The service's settings, read from the environment and validated before anything starts.
//!
//! Its own settings ([`Settings`]) go through the shared [`Loader`]; the parts every service
//! has (tokens, database, bus, internal listener) are read by their own `from_env`.

use std::net::{Ipv4Addr, SocketAddr};

use kit::{
    auth::TokenPolicy,
    config::{BusConfig, ConfigError, DatabaseConfig, Env, Loader},
    internal::InternalConfig,
};
use serde::Deserialize;

/// The port the service listens on (on the loopback interface) when `PRODUCTS_ADDR` is unset.
pub const DEFAULT_PORT: u16 = 4001;
/// The users service's key set when `JWKS_URL` is unset.
pub const DEFAULT_JWKS_URL: &str = "http://127.0.0.1:4004/.well-known/jwks.json";

#[derive(Debug, Clone)]
pub struct Config {
    /// `PRODUCTS_ADDR`.
    pub addr: SocketAddr,
    /// `JWKS_URL`: the public keys access tokens are verified with.
    pub jwks_url: String,
    /// What access tokens must say about themselves (issuer, audience).
    pub token_policy: TokenPolicy,
    /// `PRODUCTS_DATABASE_URL` or `DATABASE_URL`, else SQLite under `DATA_DIR`.
    pub database: DatabaseConfig,
    /// `NATS_URL` (unset: the in-process bus).
    pub bus: BusConfig,
    /// `COMMERCE_PROFILE`, `SUBGRAPH_SHARED_SECRET`, `PRODUCTS_METRICS_ADDR`.
    pub internal: InternalConfig,
}

/// The settings only this service has, with their defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub addr: SocketAddr,
    pub jwks_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)),
            jwks_url: DEFAULT_JWKS_URL.to_owned(),
        }
    }
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let Settings { addr, jwks_url } = Loader::new(env)
            .var("PRODUCTS_ADDR", "addr")
            .var("JWKS_URL", "jwks_url")
            .extract()?;
        if !(jwks_url.starts_with("http://") || jwks_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                name: "JWKS_URL".into(),
                reason: "expected an http(s) URL".into(),
            });
        }
        Ok(Self {
            addr,
            jwks_url,
            token_policy: TokenPolicy::from_env(env)?,
            database: DatabaseConfig::from_env(env, "products")?,
            bus: BusConfig::from_env(env)?,
            internal: InternalConfig::from_env(env, "products")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_embedded_mode_on_the_default_port() {
        let config = Config::from_env(&Env::from_pairs([("DATA_DIR", "state")])).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:4001");
        assert_eq!(config.jwks_url, DEFAULT_JWKS_URL);
        assert!(config.database.embedded);
        assert!(config.bus.nats_url.is_none());
    }

    #[test]
    fn reads_and_validates_overrides() {
        let env = Env::from_pairs([
            ("PRODUCTS_ADDR", "0.0.0.0:9001"),
            ("PRODUCTS_DATABASE_URL", "postgres://db/products"),
            ("NATS_URL", "nats://nats:4222"),
        ]);
        let config = Config::from_env(&env).unwrap();
        assert_eq!(config.addr.port(), 9001);
        assert!(!config.database.embedded);
        assert_eq!(config.bus.nats_url.as_deref(), Some("nats://nats:4222"));

        let bad_addr =
            Config::from_env(&Env::from_pairs([("PRODUCTS_ADDR", "localhost")])).unwrap_err();
        assert!(matches!(bad_addr, ConfigError::Invalid { name, .. } if name == "PRODUCTS_ADDR"));
        let bad_jwks =
            Config::from_env(&Env::from_pairs([("JWKS_URL", "file:///keys")])).unwrap_err();
        assert!(matches!(bad_jwks, ConfigError::Invalid { name, .. } if name == "JWKS_URL"));
    }
}
