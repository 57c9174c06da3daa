//! The service's settings, read from the environment and validated before anything starts.

use std::{net::SocketAddr, time::Duration};

use kit::{
    auth::TokenPolicy,
    config::{BusConfig, ConfigError, DatabaseConfig, Env, Loader},
};
use serde::Deserialize;

/// The settings only this service has, read through the shared [`Loader`]; unset ones take
/// the defaults of [`Config`].
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    addr: Option<SocketAddr>,
    jwks_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Where GraphQL, health and metrics are served (`ORDERS_ADDR`).
    pub addr: SocketAddr,
    /// The users service's key set (`JWKS_URL`).
    pub jwks_url: String,
    pub token_policy: TokenPolicy,
    pub database: DatabaseConfig,
    pub bus: BusConfig,
    /// How long to wait for the products service's prices (`ORDERS_PRICE_TIMEOUT`, default
    /// the bus request timeout).
    pub price_timeout: Duration,
    /// `COMMERCE_PROFILE`, `SUBGRAPH_SHARED_SECRET`, `ORDERS_METRICS_ADDR`.
    pub internal: kit::internal::InternalConfig,
}

impl Config {
    pub const DEFAULT_ADDR: &'static str = "127.0.0.1:4002";
    pub const DEFAULT_JWKS_URL: &'static str = "http://127.0.0.1:4004/.well-known/jwks.json";

    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let settings: Settings = Loader::new(env)
            .var("ORDERS_ADDR", "addr")
            .var("JWKS_URL", "jwks_url")
            .extract()?;
        let addr = match settings.addr {
            Some(addr) => addr,
            None => Self::DEFAULT_ADDR
                .parse::<SocketAddr>()
                .map_err(invalid_default)?,
        };
        let jwks_url = settings
            .jwks_url
            .unwrap_or_else(|| Self::DEFAULT_JWKS_URL.to_owned());
        if !(jwks_url.starts_with("http://") || jwks_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                name: "JWKS_URL".into(),
                reason: "expected an http(s) URL".into(),
            });
        }
        let bus = BusConfig::from_env(env)?;
        let price_timeout = env.duration_or("ORDERS_PRICE_TIMEOUT", bus.request_timeout)?;
        if price_timeout.is_zero() || price_timeout > Duration::from_secs(60) {
            return Err(ConfigError::Invalid {
                name: "ORDERS_PRICE_TIMEOUT".into(),
                reason: "must be between 1ms and 60s".into(),
            });
        }
        Ok(Self {
            addr,
            jwks_url,
            token_policy: TokenPolicy::from_env(env)?,
            database: DatabaseConfig::from_env(env, "orders")?,
            bus,
            price_timeout,
            internal: kit::internal::InternalConfig::from_env(env, "orders")?,
        })
    }
}

fn invalid_default(e: std::net::AddrParseError) -> ConfigError {
    ConfigError::Invalid {
        name: "ORDERS_ADDR".into(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_embedded_mode() {
        let config = Config::from_env(&Env::from_pairs([("DATA_DIR", "d")])).unwrap();
        assert_eq!(config.addr.port(), 4002);
        assert!(config.database.embedded);
        assert!(config.bus.nats_url.is_none());
        assert_eq!(config.price_timeout, config.bus.request_timeout);
    }

    #[test]
    fn rejects_bad_values_naming_them() {
        let bad_addr =
            Config::from_env(&Env::from_pairs([("ORDERS_ADDR", "nowhere")])).unwrap_err();
        assert!(matches!(bad_addr, ConfigError::Invalid { name, .. } if name == "ORDERS_ADDR"));
        let zero =
            Config::from_env(&Env::from_pairs([("ORDERS_PRICE_TIMEOUT", "0s")])).unwrap_err();
        assert!(
            matches!(zero, ConfigError::Invalid { name, .. } if name == "ORDERS_PRICE_TIMEOUT")
        );
        let jwks = Config::from_env(&Env::from_pairs([("JWKS_URL", "file:///keys")])).unwrap_err();
        assert!(matches!(jwks, ConfigError::Invalid { name, .. } if name == "JWKS_URL"));
        let timeout =
            Config::from_env(&Env::from_pairs([("ORDERS_PRICE_TIMEOUT", "1500ms")])).unwrap();
        assert_eq!(timeout.price_timeout, Duration::from_millis(1500));
    }
}
