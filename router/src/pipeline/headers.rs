//! Header-propagation stage: the headers each subgraph request carries.
//!
//! Always forwarded: `Authorization` (already verified by the auth stage), `x-request-id`
//! (the client's when it is sane, otherwise a fresh UUID) and W3C `traceparent` (the
//! client's trace id with a new parent id for the router's hop, or a new trace), plus
//! `tracestate` when the client's trace context is kept. Configured rules then add
//! allowed, renamed and inserted headers. Last, `x-commerce-client-ip` is set to the
//! client's address ([`HeaderRules::client_ip`]) or removed when it is unknown, so whatever
//! a client sends under that name never reaches a subgraph.
//!
//! When spans are exported over OpenTelemetry, the ids come from the request's span instead
//! ([`TraceContext::follow_span`]), and each subgraph request's `traceparent` is replaced by
//! its own fetch span's context just before sending (see `execute`).

use std::net::IpAddr;

use http::{HeaderMap, HeaderName, HeaderValue, header};

use crate::config::HeadersConfig;

/// The client's address as the router determined it (see the module doc).
pub const CLIENT_IP: HeaderName = HeaderName::from_static(platform::internal::CLIENT_IP_HEADER);
pub const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
pub const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// Why configured header rules are unusable (normally caught by config validation).
#[derive(Debug, thiserror::Error)]
pub enum HeaderRuleError {
    #[error("`{0}` is not a valid header name")]
    Name(String),
    #[error("the value configured for `{0}` is not a valid header value")]
    Value(String),
    #[error("`{0}` is neither an IP address nor a CIDR range")]
    Proxy(String),
}

/// Compiled propagation rules.
#[derive(Debug, Clone, Default)]
pub struct HeaderRules {
    allow: Vec<HeaderName>,
    rename: Vec<(HeaderName, HeaderName)>,
    insert: Vec<(HeaderName, HeaderValue)>,
    trusted_proxies: Vec<ipnet::IpNet>,
}

fn name(raw: &str) -> Result<HeaderName, HeaderRuleError> {
    HeaderName::from_bytes(raw.as_bytes()).map_err(|_| HeaderRuleError::Name(raw.to_owned()))
}

impl HeaderRules {
    pub fn from_config(config: &HeadersConfig) -> Result<Self, HeaderRuleError> {
        let allow = config
            .allow
            .iter()
            .map(|n| name(n))
            .collect::<Result<_, _>>()?;
        let rename = config
            .rename
            .iter()
            .map(|r| Ok((name(&r.from)?, name(&r.to)?)))
            .collect::<Result<_, HeaderRuleError>>()?;
        let insert = config
            .insert
            .iter()
            .map(|(n, v)| {
                let mut value = HeaderValue::from_str(v.expose())
                    .map_err(|_| HeaderRuleError::Value(n.clone()))?;
                value.set_sensitive(true);
                Ok((name(n)?, value))
            })
            .collect::<Result<_, HeaderRuleError>>()?;
        let trusted_proxies = config
            .trusted_proxies
            .iter()
            .map(|p| {
                crate::config::headers::parse_proxy(p)
                    .ok_or_else(|| HeaderRuleError::Proxy(p.clone()))
            })
            .collect::<Result<_, HeaderRuleError>>()?;
        Ok(Self {
            allow,
            rename,
            insert,
            trusted_proxies,
        })
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the connection's `peer`, or, when the peer is a trusted proxy,
    /// the right-most `X-Forwarded-For` entry that is not a trusted proxy (the left-most one
    /// when every entry is). A malformed entry stops the walk at the last address known good.
    pub fn client_ip(&self, peer: Option<IpAddr>, incoming: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?.to_canonical();
        if !self.is_trusted(peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = incoming
            .get_all(&X_FORWARDED_FOR)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.parse::<IpAddr>() else { break };
            client = ip.to_canonical();
            if !self.is_trusted(client) {
                break;
            }
        }
        Some(client)
    }

    /// Replaces whatever the client sent as [`CLIENT_IP`] with the address the router
    /// determined from the connection's `peer` (or removes it when that is unknown). Runs on
    /// every request before anything reads the headers.
    pub fn stamp_client_ip(&self, headers: &mut HeaderMap, peer: Option<IpAddr>) {
        let client = self
            .client_ip(peer, headers)
            .and_then(|ip| HeaderValue::from_str(&ip.to_string()).ok());
        headers.remove(CLIENT_IP);
        if let Some(value) = client {
            headers.insert(CLIENT_IP, value);
        }
    }

    /// Builds the subgraph request headers from the client's headers and the trace ids
    /// chosen for this request.
    pub fn forward(&self, incoming: &HeaderMap, trace: &TraceContext) -> HeaderMap {
        let mut out = HeaderMap::new();
        if let Some(auth) = incoming.get(header::AUTHORIZATION) {
            out.insert(header::AUTHORIZATION, auth.clone());
        }
        out.insert(REQUEST_ID, trace.request_id.clone());
        out.insert(TRACEPARENT, trace.traceparent.clone());
        if let Some(state) = &trace.tracestate {
            out.insert(TRACESTATE, state.clone());
        }
        for allowed in &self.allow {
            for value in incoming.get_all(allowed) {
                out.append(allowed.clone(), value.clone());
            }
        }
        for (from, to) in &self.rename {
            for value in incoming.get_all(from) {
                out.append(to.clone(), value.clone());
            }
        }
        for (n, v) in &self.insert {
            out.insert(n.clone(), v.clone());
        }
        // Set by the router in `stamp_client_ip`; no rule can name it.
        if let Some(client) = incoming.get(CLIENT_IP) {
            out.insert(CLIENT_IP, client.clone());
        }
        out
    }
}

/// The request id and trace context of one client request.
#[derive(Debug, Clone)]
pub struct TraceContext {
    pub request_id: HeaderValue,
    pub traceparent: HeaderValue,
    pub tracestate: Option<HeaderValue>,
    /// The 32-hex-digit trace id, for logs.
    pub trace_id: String,
}

impl TraceContext {
    /// Takes the client's ids when they are well formed, generating what is missing.
    pub fn from_headers(incoming: &HeaderMap) -> Self {
        let request_id = incoming
            .get(&REQUEST_ID)
            .filter(|v| is_sane_request_id(v))
            .cloned()
            .unwrap_or_else(|| {
                HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
                    .unwrap_or_else(|_| HeaderValue::from_static("unknown"))
            });
        let parent = incoming
            .get(&TRACEPARENT)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_traceparent);
        let span_id = loop {
            // An all-zero id is invalid in W3C trace context.
            let id: u64 = rand::random();
            if id != 0 {
                break id;
            }
        };
        let (trace_id, flags, keep_state) = match parent {
            Some((trace_id, flags)) => (trace_id.to_owned(), flags.to_owned(), true),
            None => {
                let id = loop {
                    let id: u128 = rand::random();
                    if id != 0 {
                        break id;
                    }
                };
                (format!("{id:032x}"), "01".to_owned(), false)
            }
        };
        let traceparent = HeaderValue::from_str(&format!("00-{trace_id}-{span_id:016x}-{flags}"))
            .unwrap_or_else(|_| {
                HeaderValue::from_static("00-00000000000000000000000000000001-0000000000000001-01")
            });
        let tracestate = keep_state
            .then(|| incoming.get(&TRACESTATE).cloned())
            .flatten();
        Self {
            request_id,
            traceparent,
            tracestate,
            trace_id,
        }
    }

    /// Takes the trace ids of `span` when an OpenTelemetry tracer records it, so logs, the
    /// forwarded headers and the exported trace agree; otherwise keeps the hand-made ones.
    pub fn follow_span(&mut self, span: &tracing::Span) {
        let mut injected = HeaderMap::new();
        if !platform::telemetry::inject(span, &mut injected) {
            return;
        }
        let Some(traceparent) = injected.get(&TRACEPARENT).cloned() else {
            return;
        };
        let Some((trace_id, _)) = traceparent.to_str().ok().and_then(parse_traceparent) else {
            return;
        };
        self.trace_id = trace_id.to_owned();
        self.tracestate = injected.get(&TRACESTATE).cloned();
        self.traceparent = traceparent;
    }
}

fn is_sane_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty() && bytes.len() <= 128 && bytes.iter().all(|b| b.is_ascii_graphic())
}

/// Returns the trace id and flags of a version-00 `traceparent`.
fn parse_traceparent(value: &str) -> Option<(&str, &str)> {
    let mut parts = value.trim().split('-');
    let (version, trace_id, parent_id, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let valid = version == "00"
        && parts.next().is_none()
        && hex(trace_id, 32)
        && hex(parent_id, 16)
        && hex(flags, 2)
        && trace_id.bytes().any(|b| b != b'0')
        && parent_id.bytes().any(|b| b != b'0');
    valid.then_some((trace_id, flags))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Secret, headers::RenameRule};

    fn rules_trusting(proxies: &[&str]) -> HeaderRules {
        let config = HeadersConfig {
            trusted_proxies: proxies.iter().map(|p| (*p).to_owned()).collect(),
            ..HeadersConfig::default()
        };
        HeaderRules::from_config(&config).unwrap()
    }

    fn xff(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(X_FORWARDED_FOR, value.parse().unwrap());
        h
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn x_forwarded_for_from_an_untrusted_peer_is_ignored() {
        let rules = rules_trusting(&["10.0.0.0/8"]);
        let spoofed = xff("198.51.100.23");
        assert_eq!(
            rules.client_ip(ip("203.0.113.7"), &spoofed),
            ip("203.0.113.7")
        );
        // No proxies configured: the peer, always.
        assert_eq!(
            rules_trusting(&[]).client_ip(ip("10.0.0.5"), &spoofed),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn x_forwarded_for_is_walked_from_the_right_through_trusted_proxies() {
        let rules = rules_trusting(&["10.0.0.0/8", "192.0.2.1"]);
        // client -> (spoofed entry) -> 203.0.113.7 -> 192.0.2.1 -> 10.1.2.3 -> router
        let chain = xff("198.51.100.23, 203.0.113.7, 192.0.2.1");
        assert_eq!(rules.client_ip(ip("10.1.2.3"), &chain), ip("203.0.113.7"));
        // Everything trusted: the left-most entry.
        assert_eq!(
            rules.client_ip(ip("10.1.2.3"), &xff("10.9.9.9, 192.0.2.1")),
            ip("10.9.9.9")
        );
        // Garbage stops the walk at the last good address.
        assert_eq!(
            rules.client_ip(ip("10.1.2.3"), &xff("not-an-ip, 192.0.2.1")),
            ip("192.0.2.1")
        );
        // IPv4-mapped IPv6 peers match IPv4 ranges.
        assert_eq!(
            rules.client_ip(ip("::ffff:10.1.2.3"), &xff("203.0.113.9")),
            ip("203.0.113.9")
        );
        assert_eq!(rules.client_ip(None, &chain), None);
    }

    #[test]
    fn the_client_ip_header_is_always_the_routers() {
        let rules = rules_trusting(&[]);
        let mut incoming = HeaderMap::new();
        incoming.insert(CLIENT_IP, "198.51.100.23".parse().unwrap());
        let trace = TraceContext::from_headers(&incoming);
        let mut stamped = incoming.clone();
        rules.stamp_client_ip(&mut stamped, ip("203.0.113.7"));
        let out = rules.forward(&stamped, &trace);
        assert_eq!(
            out.get_all(&CLIENT_IP).iter().collect::<Vec<_>>(),
            vec!["203.0.113.7"]
        );
        let mut unknown = incoming.clone();
        rules.stamp_client_ip(&mut unknown, None);
        assert!(rules.forward(&unknown, &trace).get(&CLIENT_IP).is_none());
        // No rule may forward a client's value under that name.
        let config = HeadersConfig {
            allow: vec![CLIENT_IP.as_str().to_owned()],
            ..HeadersConfig::default()
        };
        assert!(config.validate().is_err());
        let bad = HeadersConfig {
            trusted_proxies: vec!["10.0.0.0/33".into()],
            ..HeadersConfig::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn keeps_client_trace_id_with_a_new_parent() {
        let mut incoming = HeaderMap::new();
        incoming.insert(
            TRACEPARENT,
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        incoming.insert(TRACESTATE, "vendor=1".parse().unwrap());
        incoming.insert(REQUEST_ID, "req-1".parse().unwrap());
        let trace = TraceContext::from_headers(&incoming);
        let tp = trace.traceparent.to_str().unwrap();
        assert!(
            tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
            "{tp}"
        );
        assert!(!tp.contains("00f067aa0ba902b7"), "{tp}");
        assert!(tp.ends_with("-01"));
        assert_eq!(trace.request_id, "req-1");
        assert_eq!(trace.tracestate.as_ref().unwrap(), "vendor=1");
    }

    #[test]
    fn without_a_tracer_following_the_span_keeps_the_hand_made_ids() {
        let mut incoming = HeaderMap::new();
        incoming.insert(
            TRACEPARENT,
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        let mut trace = TraceContext::from_headers(&incoming);
        let before = trace.clone();
        trace.follow_span(&tracing::info_span!("graphql"));
        assert_eq!(trace.traceparent, before.traceparent);
        assert_eq!(trace.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    }

    #[test]
    fn generates_ids_when_missing_or_invalid() {
        let mut incoming = HeaderMap::new();
        incoming.insert(
            TRACEPARENT,
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        incoming.insert(TRACESTATE, "vendor=1".parse().unwrap());
        let trace = TraceContext::from_headers(&incoming);
        let tp = trace.traceparent.to_str().unwrap().to_owned();
        assert!(parse_traceparent(&tp).is_some(), "{tp}");
        assert!(!tp.contains("00000000000000000000000000000000"));
        assert!(trace.tracestate.is_none());
        assert_eq!(
            uuid::Uuid::parse_str(trace.request_id.to_str().unwrap())
                .unwrap()
                .get_version_num(),
            7
        );
    }

    #[test]
    fn applies_allow_rename_and_insert_rules() {
        let config = HeadersConfig {
            allow: vec!["x-tenant".into()],
            rename: vec![RenameRule {
                from: "x-client".into(),
                to: "x-client-name".into(),
            }],
            insert: [("x-api-key".to_owned(), Secret::new("k"))]
                .into_iter()
                .collect(),
            trusted_proxies: Vec::new(),
        };
        let rules = HeaderRules::from_config(&config).unwrap();
        let mut incoming = HeaderMap::new();
        incoming.insert("x-tenant", "t1".parse().unwrap());
        incoming.insert("x-client", "web".parse().unwrap());
        incoming.insert("cookie", "secret".parse().unwrap());
        incoming.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        let out = rules.forward(&incoming, &TraceContext::from_headers(&incoming));
        assert_eq!(out["x-tenant"], "t1");
        assert_eq!(out["x-client-name"], "web");
        assert_eq!(out["x-api-key"], "k");
        assert_eq!(out[header::AUTHORIZATION], "Bearer abc");
        assert!(out.get("cookie").is_none());
        assert!(out.get("x-client").is_none());
        assert!(out.contains_key(REQUEST_ID) && out.contains_key(TRACEPARENT));
    }
}
