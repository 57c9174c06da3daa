//! The payments service's settings, read from the environment and validated at start-up.
//!
//! Which payment provider runs is an explicit choice (`PAYMENTS_PROVIDER`), never the
//! consequence of a missing key: `stripe` (the default) refuses to start without
//! `STRIPE_SECRET_KEY` and at least one webhook secret, since an unverifiable webhook would
//! be a way to mark orders paid for free. `sandbox` serves its own checkout page, whose Pay
//! button completes a payment without money, so it is refused in the production profile
//! (`COMMERCE_PROFILE=production`, or a router in its production profile in the same
//! process). Only the embedded all-in-one launcher defaults to the sandbox.
//!
//! The webhook (and the sandbox pages) are served on a listener of their own
//! (`PAYMENTS_WEBHOOK_ADDR`), the only one meant to be published; `/graphql` and `/ready`
//! stay on `PAYMENTS_ADDR`, which only the router should reach.
//!
//! | variable | meaning |
//! |---|---|
//! | `PAYMENTS_ADDR` | GraphQL and probes, default `127.0.0.1:4003` (internal) |
//! | `PAYMENTS_WEBHOOK_ADDR` | the Stripe webhook and sandbox pages, default `127.0.0.1:4013` (public) |
//! | `PAYMENTS_METRICS_ADDR` | `/metrics`; unset = not served (internal) |
//! | `PAYMENTS_PROVIDER` | `stripe` (default) or `sandbox` |
//! | `COMMERCE_PROFILE` | `production` refuses the sandbox and requires `SUBGRAPH_SHARED_SECRET` |
//! | `SUBGRAPH_SHARED_SECRET` | the secret the router sends; required on `/graphql` when set |
//! | `JWKS_URL` | the users service's key set |
//! | `PAYMENTS_DATABASE_URL` / `DATABASE_URL` | PostgreSQL; unset = SQLite under `DATA_DIR` |
//! | `NATS_URL`, `NATS_PREFIX`, `NATS_REQUEST_TIMEOUT` | the bus; unset URL = in-process bus |
//! | `STRIPE_SECRET_KEY` | the Stripe API key; required with `stripe` |
//! | `STRIPE_WEBHOOK_SECRETS` | comma-separated `whsec_...`; several while rotating; required with `stripe` |
//!
//! Every secret (`STRIPE_SECRET_KEY`, `STRIPE_WEBHOOK_SECRETS`, `SUBGRAPH_SHARED_SECRET`,
//! the database URL) may instead be read from a file named by `<VAR>_FILE`.
//! | `STRIPE_API_BASE` | another base URL for the Stripe API (tests, proxies) |
//! | `CHECKOUT_SUCCESS_URL`, `CHECKOUT_CANCEL_URL` | where Stripe sends the customer back |
//! | `PUBLIC_URL` | how browsers reach this service (sandbox pages) |

use std::{net::SocketAddr, time::Duration};

use kit::{
    auth::TokenPolicy,
    config::{BusConfig, ConfigError, DatabaseConfig, Env, Loader, Profile, Secret},
    internal::InternalConfig,
};
use serde::Deserialize;

/// The listener addresses, read through the shared [`Loader`]; unset ones take the
/// defaults of [`Config`].
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Listeners {
    addr: Option<SocketAddr>,
    webhook_addr: Option<SocketAddr>,
}

/// The variable choosing the provider.
pub const PROVIDER_VAR: &str = "PAYMENTS_PROVIDER";

/// Which provider runs when `PAYMENTS_PROVIDER` is unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultProvider {
    /// Every stand-alone deployment.
    Stripe,
    /// The embedded all-in-one launcher only.
    Sandbox,
}

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
    /// GraphQL and probes (internal).
    pub addr: SocketAddr,
    /// The webhook and the sandbox pages (the one listener to publish).
    pub webhook_addr: SocketAddr,
    /// Profile, router secret and metrics listener.
    pub internal: InternalConfig,
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
    pub const DEFAULT_WEBHOOK_ADDR: &'static str = "127.0.0.1:4013";
    pub const DEFAULT_JWKS_URL: &'static str = "http://127.0.0.1:4004/.well-known/jwks.json";

    /// A stand-alone deployment: Stripe unless `PAYMENTS_PROVIDER=sandbox`.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Self::from_env_with(env, DefaultProvider::Stripe, Profile::Dev)
    }

    /// `default` applies when `PAYMENTS_PROVIDER` is unset; `host_profile` is the profile of
    /// whatever runs the service in the same process (the router in the launcher), which
    /// refuses the sandbox when it is production just as this service's own profile does.
    pub fn from_env_with(
        env: &Env,
        default: DefaultProvider,
        host_profile: Profile,
    ) -> Result<Self, ConfigError> {
        let listeners: Listeners = Loader::new(env)
            .var("PAYMENTS_ADDR", "addr")
            .var("PAYMENTS_WEBHOOK_ADDR", "webhook_addr")
            .extract()?;
        let addr: SocketAddr = match listeners.addr {
            Some(addr) => addr,
            None => Self::DEFAULT_ADDR.parse().expect("a valid default address"),
        };
        let webhook_addr: SocketAddr = match listeners.webhook_addr {
            Some(addr) => addr,
            None => Self::DEFAULT_WEBHOOK_ADDR
                .parse()
                .expect("a valid default address"),
        };
        let internal = InternalConfig::from_env(env, "payments")?;
        let bus = BusConfig::from_env(env)?;
        let webhook_secrets: Vec<Secret> = env
            .secret_var("STRIPE_WEBHOOK_SECRETS")?
            .map(|raw| {
                raw.expose()
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(Secret::new)
                    .collect()
            })
            .unwrap_or_default();
        let choice = match env.get(PROVIDER_VAR).map(|v| v.trim().to_ascii_lowercase()) {
            None => default,
            Some(v) if v == "stripe" => DefaultProvider::Stripe,
            Some(v) if v == "sandbox" => DefaultProvider::Sandbox,
            Some(v) => {
                return Err(ConfigError::Invalid {
                    name: PROVIDER_VAR.into(),
                    reason: format!("`{v}` is not a provider (expected stripe or sandbox)"),
                });
            }
        };
        let provider = match choice {
            DefaultProvider::Stripe => {
                let secret_key = env.required_secret("STRIPE_SECRET_KEY")?;
                if webhook_secrets.is_empty() {
                    return Err(ConfigError::Missing(
                        "STRIPE_WEBHOOK_SECRETS (or STRIPE_WEBHOOK_SECRETS_FILE): without it webhooks could not be verified"
                            .into(),
                    ));
                }
                let api_base = env
                    .get("STRIPE_API_BASE")
                    .map(|base| normalize_base(&base))
                    .transpose()?;
                ProviderConfig::Stripe {
                    secret_key,
                    api_base,
                }
            }
            DefaultProvider::Sandbox => {
                if internal.profile.is_production() || host_profile.is_production() {
                    return Err(ConfigError::Invalid {
                        name: PROVIDER_VAR.into(),
                        reason: "the sandbox completes payments without money and is refused in the production profile"
                            .into(),
                    });
                }
                ProviderConfig::Sandbox
            }
        };
        let url_var = |name: &str| {
            env.get(name)
                .map(|url| absolute_url(name, &url))
                .transpose()
        };
        let public_url = url_var("PUBLIC_URL")?.map(|url| url.trim_end_matches('/').to_owned());
        let success_url = url_var("CHECKOUT_SUCCESS_URL")?;
        let cancel_url = url_var("CHECKOUT_CANCEL_URL")?;
        Ok(Self {
            addr,
            webhook_addr,
            internal,
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
        Err(ConfigError::Invalid {
            name: name.into(),
            reason: "must be an absolute http(s) URL".into(),
        })
    }
}

/// The Stripe client joins `v1/...` to its base, so a base with a path must end in `/`.
fn normalize_base(base: &str) -> Result<String, ConfigError> {
    let base = absolute_url("STRIPE_API_BASE", base)?;
    Ok(if base.ends_with('/') {
        base
    } else {
        format!("{base}/")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missing_names(err: ConfigError, var: &str) -> bool {
        matches!(err, ConfigError::Missing(ref name) if name.starts_with(var))
    }

    #[test]
    fn no_keys_is_a_refusal_naming_the_key_not_a_sandbox() {
        let err = Config::from_env(&Env::from_pairs([("DATA_DIR", "data")])).unwrap_err();
        assert!(missing_names(err, "STRIPE_SECRET_KEY"));
        // Empty values, as a compose file leaves them, count as unset.
        let empty = Env::from_pairs([("STRIPE_SECRET_KEY", ""), ("STRIPE_WEBHOOK_SECRETS", "")]);
        assert!(missing_names(
            Config::from_env(&empty).unwrap_err(),
            "STRIPE_SECRET_KEY"
        ));
        let explicit = Env::from_pairs([("PAYMENTS_PROVIDER", "stripe")]);
        assert!(missing_names(
            Config::from_env(&explicit).unwrap_err(),
            "STRIPE_SECRET_KEY"
        ));
    }

    #[test]
    fn stripe_needs_webhook_secrets() {
        let env = Env::from_pairs([("STRIPE_SECRET_KEY", "sk_test_x")]);
        assert!(missing_names(
            Config::from_env(&env).unwrap_err(),
            "STRIPE_WEBHOOK_SECRETS"
        ));
    }

    #[test]
    fn the_sandbox_only_when_chosen_and_never_in_production() {
        let cfg = Config::from_env(&Env::from_pairs([("PAYMENTS_PROVIDER", "sandbox")])).unwrap();
        assert!(cfg.uses_sandbox());
        assert!(cfg.webhook_secrets.is_empty());
        assert_eq!(cfg.addr.to_string(), Config::DEFAULT_ADDR);
        assert_eq!(cfg.webhook_addr.to_string(), Config::DEFAULT_WEBHOOK_ADDR);
        assert_eq!(cfg.public_url, None);

        let embedded = Config::from_env_with(
            &Env::from_pairs([("DATA_DIR", "d")]),
            DefaultProvider::Sandbox,
            Profile::Dev,
        );
        assert!(embedded.unwrap().uses_sandbox());

        let secret = ("SUBGRAPH_SHARED_SECRET", "0123456789abcdef0123456789abcdef");
        let prod = Env::from_pairs([
            ("PAYMENTS_PROVIDER", "sandbox"),
            ("COMMERCE_PROFILE", "production"),
            secret,
        ]);
        assert!(
            matches!(Config::from_env(&prod), Err(ConfigError::Invalid { name, .. }) if name == PROVIDER_VAR)
        );
        let under_prod_router = Config::from_env_with(
            &Env::from_pairs([("DATA_DIR", "d")]),
            DefaultProvider::Sandbox,
            Profile::Production,
        );
        assert!(
            matches!(under_prod_router, Err(ConfigError::Invalid { name, .. }) if name == PROVIDER_VAR)
        );

        let typo = Env::from_pairs([("PAYMENTS_PROVIDER", "sandbx")]);
        assert!(
            matches!(Config::from_env(&typo), Err(ConfigError::Invalid { name, .. }) if name == PROVIDER_VAR)
        );
    }

    #[test]
    fn stripe_keys_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        let hooks = dir.path().join("hooks");
        std::fs::write(&key, "sk_live_file\n").unwrap();
        std::fs::write(&hooks, "whsec_a,whsec_b\n").unwrap();
        let env = Env::from_pairs([
            ("STRIPE_SECRET_KEY_FILE", key.display().to_string()),
            ("STRIPE_WEBHOOK_SECRETS_FILE", hooks.display().to_string()),
        ]);
        let cfg = Config::from_env(&env).unwrap();
        let secrets: Vec<&str> = cfg.webhook_secrets.iter().map(Secret::expose).collect();
        assert_eq!(secrets, ["whsec_a", "whsec_b"]);
        assert!(
            matches!(cfg.provider, ProviderConfig::Stripe { ref secret_key, .. } if secret_key.expose() == "sk_live_file")
        );
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
            ProviderConfig::Stripe { api_base, .. } => {
                assert_eq!(api_base.as_deref(), Some("http://127.0.0.1:9999/stripe/"))
            }
            ProviderConfig::Sandbox => panic!("expected Stripe"),
        }
        assert_eq!(cfg.success_url.as_deref(), Some("https://shop.example/ok"));
    }

    #[test]
    fn rejects_relative_urls() {
        let env = Env::from_pairs([
            ("PAYMENTS_PROVIDER", "sandbox"),
            ("CHECKOUT_CANCEL_URL", "/cancel"),
        ]);
        assert!(
            matches!(Config::from_env(&env), Err(ConfigError::Invalid { name, .. }) if name == "CHECKOUT_CANCEL_URL")
        );
    }
}
