//! What the router and the subgraphs agree on to keep the subgraphs' surfaces internal.
//!
//! Clients reach the system through the router only, which enforces the edge limits. A
//! subgraph reachable on the internal network must not be a way around them, so where the
//! deployment says so, the router sends a shared secret in [`SUBGRAPH_SECRET_HEADER`] and
//! subgraphs refuse requests that do not carry it ([`carries_secret`], a constant-time
//! comparison). Both ends apply the same rule to the configured secret ([`check_secret`]):
//! long enough and printable when set, and set in the production profile.
//!
//! The router also tells subgraphs where its client connected from, in
//! [`CLIENT_IP_HEADER`], which it always overwrites.

use http::HeaderMap;
use subtle::ConstantTimeEq as _;

use crate::config::{ConfigError, Profile, Secret};

/// The header the router sends the shared secret in.
pub const SUBGRAPH_SECRET_HEADER: &str = "x-subgraph-secret";
/// The variable holding the secret a subgraph expects.
pub const SUBGRAPH_SECRET_VAR: &str = "SUBGRAPH_SHARED_SECRET";
/// Shorter secrets are refused: the secret is the only thing standing between the internal
/// network and the subgraphs.
pub const MIN_SECRET_LEN: usize = 32;

/// The header the router sets to the address its client connected from (after resolving
/// `X-Forwarded-For` through its trusted proxies). The router always overwrites it, so a
/// client cannot choose it; subgraphs take it as internal information, which holds as long
/// as they are reachable only through the router.
pub const CLIENT_IP_HEADER: &str = "x-commerce-client-ip";

/// The rule both ends apply: long enough when set, and set in production.
pub fn check_secret(
    name: &str,
    secret: Option<&Secret>,
    profile: Profile,
) -> Result<(), ConfigError> {
    match secret {
        Some(s) if s.expose().len() < MIN_SECRET_LEN => Err(ConfigError::Invalid {
            name: name.to_owned(),
            reason: format!("must be at least {MIN_SECRET_LEN} characters"),
        }),
        Some(s) if !s.expose().bytes().all(|b| b.is_ascii_graphic()) => Err(ConfigError::Invalid {
            name: name.to_owned(),
            reason: "must be printable ASCII without spaces (it travels in an HTTP header)".into(),
        }),
        None if profile.is_production() => Err(ConfigError::Invalid {
            name: name.to_owned(),
            reason:
                "required in the production profile, or subgraphs could be called around the router"
                    .into(),
        }),
        _ => Ok(()),
    }
}

/// Whether `headers` carry `expected`, compared in constant time.
pub fn carries_secret(headers: &HeaderMap, expected: &[u8]) -> bool {
    let presented = headers
        .get(SUBGRAPH_SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    // `ct_eq` answers false for different lengths without looking at the content.
    bool::from(presented.ct_eq(expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn the_header_must_match_exactly() {
        let mut headers = HeaderMap::new();
        assert!(!carries_secret(&headers, GOOD.as_bytes()));
        headers.insert(SUBGRAPH_SECRET_HEADER, GOOD[..31].parse().unwrap());
        assert!(!carries_secret(&headers, GOOD.as_bytes()));
        headers.insert(SUBGRAPH_SECRET_HEADER, format!("{GOOD}x").parse().unwrap());
        assert!(!carries_secret(&headers, GOOD.as_bytes()));
        headers.insert(SUBGRAPH_SECRET_HEADER, GOOD.parse().unwrap());
        assert!(carries_secret(&headers, GOOD.as_bytes()));
    }

    #[test]
    fn a_secret_must_be_long_printable_and_set_in_production() {
        let short = Secret::new("short");
        assert!(
            matches!(check_secret("S", Some(&short), Profile::Dev), Err(ConfigError::Invalid { name, .. }) if name == "S")
        );
        let spaced = Secret::new(format!("{GOOD} x"));
        assert!(check_secret("S", Some(&spaced), Profile::Dev).is_err());
        assert!(check_secret("S", None, Profile::Production).is_err());
        assert!(check_secret("S", None, Profile::Dev).is_ok());
        assert!(check_secret("S", Some(&Secret::new(GOOD)), Profile::Production).is_ok());
    }
}
