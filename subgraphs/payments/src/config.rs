//! The payments service's settings, read from the environment and validated at start-up.
//!
//! Which payment provider runs is decided here: with `STRIPE_SECRET_KEY` the real Stripe
//! API is used (and webhook secrets are then mandatory, since an unverifiable webhook
//! would be a way to mark orders paid for free); without it the sandbox provider serves
//! its own checkout page and signs its events with a secret generated at start-up.
//!
//! | variable | meaning |
//! |---|---|
//! | `PAYMENTS_ADDR` | listen address, default `127.0.0.1:4003` |
//! | `JWKS_URL` | the users service's key set |
//! | `PAYMENTS_DATABASE_URL` / `DATABASE_URL` | PostgreSQL; unset = SQLite under `DATA_DIR` |
//! | `NATS_URL`, `NATS_PREFIX`, `NATS_REQUEST_TIMEOUT` | the bus; unset URL = in-process bus |
//! | `STRIPE_SECRET_KEY` | enables Stripe; unset = sandbox provider |
//! | `STRIPE_WEBHOOK_SECRETS` | comma-separated `whsec_...`; several while rotating |
//! | `STRIPE_API_BASE` | another base URL for the Stripe API (tests, proxies) |
//! | `CHECKOUT_SUCCESS_URL`, `CHECKOUT_CANCEL_URL` | where Stripe sends the customer back |
//! | `PUBLIC_URL` | how browsers reach this service (sandbox pages) |

use std::{net::SocketAddr, time::Duration};

use common::{
    auth::TokenPolicy,
    config::{BusConfig, ConfigError, DatabaseConfig, Env, Secret},
};

/// Where checkout sessions are made.
#[derive(Debug, Clone)]
pub enum ProviderConfig {
    /// The real Stripe API (or a stand-in at `api_base`).
    Stripe {
        secret_key: Secret,
        /// `STRIPE_API_BASE`; `None` means Stripe's own endpoint.
        api_base: Option<String>,
    },
    /// The built-in checkout page, for local use and the embedded mode.
    Sandbox,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    /// Where the users service publishes its signing keys (`JWKS_URL`).
    pub jwks_url: String,
    pub token_policy: TokenPolicy,
    pub database: DatabaseConfig,
    pub bus: BusConfig,
    pub provider: ProviderConfig,
    /// Every secret a webhook signature may be made with (several while rotating). Empty
    /// only for the sandbox, which then generates one at start-up.
    pub webhook_secrets: Vec<Secret>,
    /// Where Stripe sends the customer after paying; defaults to the sandbox's return page.
    pub success_url: Option<String>,
    pub cancel_url: Option<String>,
    /// The address browsers reach this service at, for the sandbox checkout links;
    /// defaults to the address the service listens on.
    pub public_url: Option<String>,
    /// How long to wait for the orders service to say what an order costs.
    pub orders_timeout: Duration,
}

impl Config {
    pub const DEFAULT_ADDR: &'static str = "127.0.0.1:4003";
    pub const DEFAULT_JWKS_URL: &'static str = "http://127.0.0.1:4004/.well-known/jwks.json";

    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let addr: SocketAddr = env.parse_or("PAYMENTS_ADDR", Self::DEFAULT_ADDR.parse().expect("a valid default address"))?;
        let bus = BusConfig::from_env(env)?;
        let webhook_secrets: Vec<Secret> = env
            .get("STRIPE_WEBHOOK_SECRETS")
            .map(|raw| raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(Secret::new).collect())
            .unwrap_or_default();
        let provider = match env.secret("STRIPE_SECRET_KEY") {
            Some(secret_key) => {
                if webhook_secrets.is_empty() {
                    return Err(ConfigError::Invalid {
                        name: "STRIPE_WEBHOOK_SECRETS".into(),
                        reason: "required when STRIPE_SECRET_KEY is set, or webhooks could not be verified".into(),
                    });
                }
                let api_base = env.get("STRIPE_API_BASE").map(|base| normalize_base(&base)).transpose()?;
                ProviderConfig::Stripe { secret_key, api_base }
            }
            None => ProviderConfig::Sandbox,
        };
        let url_var = |name: &str| env.get(name).map(|url| absolute_url(name, &url)).transpose();
        let public_url = url_var("PUBLIC_URL")?.map(|url| url.trim_end_matches('/').to_owned());
        let success_url = url_var("CHECKOUT_SUCCESS_URL")?;
        let cancel_url = url_var("CHECKOUT_CANCEL_URL")?;
        Ok(Self {
            addr,
            jwks_url: url_var("JWKS_URL")?.unwrap_or_else(|| Self::DEFAULT_JWKS_URL.to_owned()),
            token_policy: TokenPolicy::from_env(env)?,
            database: DatabaseConfig::from_env(env, "payments")?,
            orders_timeout: bus.request_timeout,
            bus,
            provider,
            webhook_secrets,
            success_url,
            cancel_url,
            public_url,
        })
    }

    pub fn uses_sandbox(&self) -> bool {
        matches!(self.provider, ProviderConfig::Sandbox)
    }
}

fn absolute_url(name: &str, url: &str) -> Result<String, ConfigError> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url.to_owned())
    } else {
        Err(ConfigError::Invalid { name: name.into(), reason: "must be an absolute http(s) URL".into() })
    }
}

/// The Stripe client joins `v1/...` to its base, so a base with a path must end in `/`.
fn normalize_base(base: &str) -> Result<String, ConfigError> {
    let base = absolute_url("STRIPE_API_BASE", base)?;
    Ok(if base.ends_with('/') { base } else { format!("{base}/") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_without_stripe_keys() {
        let cfg = Config::from_env(&Env::from_pairs([("DATA_DIR", "data")])).unwrap();
        assert!(cfg.uses_sandbox());
        assert!(cfg.webhook_secrets.is_empty());
        assert_eq!(cfg.addr.to_string(), Config::DEFAULT_ADDR);
        assert_eq!(cfg.public_url, None);
    }

    #[test]
    fn stripe_needs_webhook_secrets() {
        let env = Env::from_pairs([("STRIPE_SECRET_KEY", "sk_test_x")]);
        let err = Config::from_env(&env).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { ref name, .. } if name == "STRIPE_WEBHOOK_SECRETS"));
    }

    #[test]
    fn stripe_with_rotating_secrets_and_base() {
        let env = Env::from_pairs([
            ("STRIPE_SECRET_KEY", "sk_test_x"),
            ("STRIPE_WEBHOOK_SECRETS", "whsec_new, whsec_old,"),
            ("STRIPE_API_BASE", "http://127.0.0.1:9999/stripe"),
            ("CHECKOUT_SUCCESS_URL", "https://shop.example/ok"),
        ]);
        let cfg = Config::from_env(&env).unwrap();
        let secrets: Vec<&str> = cfg.webhook_secrets.iter().map(Secret::expose).collect();
        assert_eq!(secrets, ["whsec_new", "whsec_old"]);
        match cfg.provider {
            ProviderConfig::Stripe { api_base, .. } => assert_eq!(api_base.as_deref(), Some("http://127.0.0.1:9999/stripe/")),
            ProviderConfig::Sandbox => panic!("expected Stripe"),
        }
        assert_eq!(cfg.success_url.as_deref(), Some("https://shop.example/ok"));
    }

    #[test]
    fn rejects_relative_urls() {
        let env = Env::from_pairs([("CHECKOUT_CANCEL_URL", "/cancel")]);
        assert!(matches!(Config::from_env(&env), Err(ConfigError::Invalid { name, .. }) if name == "CHECKOUT_CANCEL_URL"));
    }
}
