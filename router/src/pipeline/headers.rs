//! Header-propagation stage: the headers each subgraph request carries.
//!
//! Always forwarded: `Authorization` (already verified by the auth stage), `x-request-id`
//! (the client's when it is sane, otherwise a fresh UUID; tower-http's request-id layers,
//! see [`with_request_ids`]) and W3C `traceparent` (the client's trace id with a new parent
//! id for the router's hop, or a new trace; read and written by OpenTelemetry's
//! propagator), plus `tracestate` when the client's trace context is kept. Configured rules then add
//! allowed, renamed and inserted headers. Last, `x-commerce-client-ip` is set to the
//! client's address ([`HeaderRules::client_ip`]) or removed when it is unknown, so whatever
//! a client sends under that name never reaches a subgraph.
//!
//! When spans are exported over OpenTelemetry, the ids come from the request's span instead
//! ([`TraceContext::follow_span`]), and each subgraph request's `traceparent` is replaced by
//! its own fetch span's context just before sending (see `execute`).

use std::net::IpAddr;

use http::{HeaderMap, HeaderName, HeaderValue, header};
use opentelemetry::{
    Context,
    propagation::TextMapPropagator as _,
    trace::{SpanContext, TraceContextExt as _, TraceFlags, TraceState},
};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::{
    propagation::TraceContextPropagator,
    trace::{IdGenerator as _, RandomIdGenerator},
};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};

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
    /// Continues the client's W3C trace context when OpenTelemetry's propagator finds it
    /// valid (same trace id and flags, a new parent id for the router's hop, its
    /// `tracestate`), or starts a new sampled trace. The request id is the one
    /// [`with_request_ids`] put on the request; only a request that did not pass through it
    /// gets a fresh one here.
    pub fn from_headers(incoming: &HeaderMap) -> Self {
        let request_id = incoming
            .get(&REQUEST_ID)
            .cloned()
            .or_else(new_request_id)
            .unwrap_or_else(|| HeaderValue::from_static("unknown"));
        let propagator = TraceContextPropagator::new();
        let client = propagator.extract(&HeaderExtractor(incoming));
        let client = client.span().span_context().clone();
        let ids = RandomIdGenerator::default();
        let ours = if client.is_valid() {
            SpanContext::new(
                client.trace_id(),
                ids.new_span_id(),
                client.trace_flags(),
                false,
                client.trace_state().clone(),
            )
        } else {
            SpanContext::new(
                ids.new_trace_id(),
                ids.new_span_id(),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            )
        };
        let mut headers = HeaderMap::new();
        propagator.inject_context(
            &Context::new().with_remote_span_context(ours.clone()),
            &mut HeaderInjector(&mut headers),
        );
        Self {
            request_id,
            // Missing only if the generator made an all-zero id, which is invalid.
            traceparent: headers.get(&TRACEPARENT).cloned().unwrap_or_else(|| {
                HeaderValue::from_static("00-00000000000000000000000000000001-0000000000000001-01")
            }),
            tracestate: non_empty(headers.get(&TRACESTATE)),
            trace_id: ours.trace_id().to_string(),
        }
    }

    /// Takes the trace ids of `span` when an OpenTelemetry tracer records it, so logs, the
    /// forwarded headers and the exported trace agree; otherwise keeps those of
    /// [`TraceContext::from_headers`].
    pub fn follow_span(&mut self, span: &tracing::Span) {
        let mut injected = HeaderMap::new();
        if !platform::telemetry::inject(span, &mut injected) {
            return;
        }
        let (Some(traceparent), Some(trace_id)) = (
            injected.get(&TRACEPARENT).cloned(),
            platform::telemetry::trace_id(span),
        ) else {
            return;
        };
        self.trace_id = trace_id;
        self.tracestate = non_empty(injected.get(&TRACESTATE));
        self.traceparent = traceparent;
    }
}

/// The propagator writes an empty `tracestate` when there is none; nothing is forwarded then.
fn non_empty(value: Option<&HeaderValue>) -> Option<HeaderValue> {
    value.filter(|v| !v.is_empty()).cloned()
}

/// A fresh request id: a UUIDv7, so ids sort by arrival.
fn new_request_id() -> Option<HeaderValue> {
    HeaderValue::from_str(&uuid::Uuid::now_v7().to_string()).ok()
}

/// Makes the request ids of tower-http's [`SetRequestIdLayer`].
#[derive(Debug, Clone, Copy, Default)]
pub struct MakeRequestUuidV7;

impl MakeRequestId for MakeRequestUuidV7 {
    fn make_request_id<B>(&mut self, _request: &http::Request<B>) -> Option<RequestId> {
        new_request_id().map(RequestId::new)
    }
}

/// Gives every request through `router` an `x-request-id`, echoed on the response: the
/// client's when it is sane (1 to 128 visible ASCII characters), otherwise a fresh UUIDv7.
pub fn with_request_ids(router: axum::Router) -> axum::Router {
    router.layer(
        tower::ServiceBuilder::new()
            .map_request(drop_unsound_request_id::<axum::body::Body>)
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuidV7))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
    )
}

/// Removes a client's `x-request-id` that would be unsafe to log and forward, so
/// [`SetRequestIdLayer`] replaces it.
fn drop_unsound_request_id<B>(mut request: http::Request<B>) -> http::Request<B> {
    let sane = |value: &HeaderValue| {
        let bytes = value.as_bytes();
        !bytes.is_empty() && bytes.len() <= 128 && bytes.iter().all(|b| b.is_ascii_graphic())
    };
    let headers = request.headers_mut();
    if headers.get(&REQUEST_ID).is_some_and(|v| !sane(v)) {
        headers.remove(&REQUEST_ID);
    }
    request
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
        let parts: Vec<&str> = tp.split('-').collect();
        let hex = |s: &str, len: usize| {
            s.len() == len
                && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                && s.bytes().any(|b| b != b'0')
        };
        assert!(
            parts.len() == 4
                && parts[0] == "00"
                && hex(parts[1], 32)
                && hex(parts[2], 16)
                && parts[3] == "01",
            "{tp}"
        );
        assert!(trace.tracestate.is_none());
        assert_eq!(
            uuid::Uuid::parse_str(trace.request_id.to_str().unwrap())
                .unwrap()
                .get_version_num(),
            7
        );
    }

    #[test]
    fn the_trace_flags_and_state_of_the_client_are_kept() {
        let mut incoming = HeaderMap::new();
        incoming.insert(
            TRACEPARENT,
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
                .parse()
                .unwrap(),
        );
        let trace = TraceContext::from_headers(&incoming);
        let tp = trace.traceparent.to_str().unwrap();
        assert!(
            tp.ends_with("-00"),
            "an unsampled trace stays unsampled: {tp}"
        );
        assert!(trace.tracestate.is_none(), "no tracestate is made up");
        // Malformed: upper-case hex, a short id, an unknown layout.
        for bad in [
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "4bf92f3577b34da6a3ce929d0e0e4736",
        ] {
            incoming.insert(TRACEPARENT, bad.parse().unwrap());
            let trace = TraceContext::from_headers(&incoming);
            assert_ne!(trace.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736", "{bad}");
        }
    }

    async fn request_id_round_trip(sent: Option<&str>) -> (String, String) {
        use tower::ServiceExt as _;
        let app = with_request_ids(axum::Router::new().route(
            "/",
            axum::routing::get(|headers: HeaderMap| async move {
                headers[&REQUEST_ID].to_str().unwrap().to_owned()
            }),
        ));
        let mut request = http::Request::get("/");
        if let Some(id) = sent {
            request = request.header(&REQUEST_ID, id);
        }
        let response = app
            .oneshot(request.body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap();
        let echoed = response.headers()[&REQUEST_ID].to_str().unwrap().to_owned();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        (String::from_utf8(body.to_vec()).unwrap(), echoed)
    }

    #[tokio::test]
    async fn sane_request_ids_are_kept_and_others_replaced_by_a_uuid_v7() {
        assert_eq!(
            request_id_round_trip(Some("req-1")).await,
            ("req-1".to_owned(), "req-1".to_owned())
        );
        let too_long = "x".repeat(129);
        for sent in [None, Some(""), Some("two words"), Some(too_long.as_str())] {
            let (seen, echoed) = request_id_round_trip(sent).await;
            assert_eq!(seen, echoed, "{sent:?}");
            let id = uuid::Uuid::parse_str(&seen).unwrap_or_else(|e| panic!("{seen}: {e}"));
            assert_eq!(id.get_version_num(), 7, "{sent:?}");
        }
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
