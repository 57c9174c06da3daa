//! `headers`: which client request headers reach the subgraphs, and under which names.
//!
//! `Authorization`, `x-request-id` and `traceparent` are always forwarded (the last two
//! generated when absent); these rules add to them:
//! - `allow`: client headers copied as they are;
//! - `rename`: client header `from` copied as `to`;
//! - `insert`: fixed headers set on every subgraph request (values are secrets: they are
//!   often API keys, so they never appear in logs).
//!
//! Hop-by-hop and framing headers cannot be configured: forwarding them would corrupt the
//! subgraph connection.
//!
//! The client's address reaches the subgraphs in `x-commerce-client-ip`, which the router
//! always sets itself (the users service throttles logins by it). It is the connection's
//! peer address, unless that peer is one of `trusted_proxies` (addresses or CIDR ranges of
//! the load balancers in front of the router): then `X-Forwarded-For` is read from the
//! right, skipping trusted proxies, and the first address that is not one is the client.
//! `X-Forwarded-For` from any other peer is ignored, so a client cannot choose its address.
//! The header cannot be the target of a rule.
//!
//! Environment: `ROUTER_HEADERS_ALLOW` (comma-separated names), `ROUTER_TRUSTED_PROXIES`
//! (comma-separated addresses or ranges).

use std::collections::BTreeMap;

use http::{HeaderName, HeaderValue};
use serde::Deserialize;

use super::{ConfigError, Secret};

/// Headers that describe the connection or the body framing, never a request's meaning.
const FORBIDDEN: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-type",
    "content-encoding",
    "accept-encoding",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameRule {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeadersConfig {
    pub allow: Vec<String>,
    pub rename: Vec<RenameRule>,
    pub insert: BTreeMap<String, Secret>,
    /// Peers whose `X-Forwarded-For` is believed (addresses or CIDR ranges).
    pub trusted_proxies: Vec<String>,
}

/// Parses one trusted-proxy entry: an address (a one-address range) or a CIDR range.
pub fn parse_proxy(entry: &str) -> Option<ipnet::IpNet> {
    let entry = entry.trim();
    entry.parse::<ipnet::IpNet>().ok().or_else(|| {
        entry
            .parse::<std::net::IpAddr>()
            .ok()
            .map(ipnet::IpNet::from)
    })
}

impl HeadersConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let names = self
            .allow
            .iter()
            .map(|n| ("headers.allow", n))
            .chain(
                self.rename
                    .iter()
                    .flat_map(|r| [("headers.rename", &r.from), ("headers.rename", &r.to)]),
            )
            .chain(self.insert.keys().map(|n| ("headers.insert", n)));
        for (key, name) in names {
            let parsed = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ConfigError::invalid(key, format!("`{name}` is not a header name")))?;
            if parsed.as_str() == platform::internal::CLIENT_IP_HEADER {
                return Err(ConfigError::invalid(
                    key,
                    format!("`{name}` is set by the router itself and cannot be propagated"),
                ));
            }
            if FORBIDDEN.contains(&parsed.as_str()) {
                return Err(ConfigError::invalid(
                    key,
                    format!("`{name}` is a connection-level header and cannot be propagated"),
                ));
            }
        }
        for proxy in &self.trusted_proxies {
            if parse_proxy(proxy).is_none() {
                return Err(ConfigError::invalid(
                    "headers.trusted_proxies",
                    format!("`{proxy}` is neither an IP address nor a CIDR range"),
                ));
            }
        }
        for (name, value) in &self.insert {
            // The value itself stays out of the message: it is a secret.
            HeaderValue::from_str(value.expose()).map_err(|_| {
                ConfigError::invalid(
                    "headers.insert",
                    format!("value for `{name}` is not a valid header value"),
                )
            })?;
        }
        Ok(())
    }
}
