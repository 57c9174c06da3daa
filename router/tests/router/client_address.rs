//! The client address subgraphs receive (`x-commerce-client-ip`): always the router's own
//! finding, `X-Forwarded-For` believed only from configured trusted proxies.

use serde_json::{Value, json};

use crate::common::{GRAPHQL_RESPONSE, Harness};

const ECHO: &str = "{ ip: requestHeader(name: \"x-commerce-client-ip\") }";

async fn seen_address(h: &Harness, headers: &[(&str, &str)]) -> Value {
    let mut all = vec![("accept", GRAPHQL_RESPONSE)];
    all.extend_from_slice(headers);
    let reply = h.post_with(json!({ "query": ECHO }), &all).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json()["data"]["ip"].clone()
}

#[tokio::test]
async fn a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let h = Harness::start().await;
    let spoofed = [
        ("x-forwarded-for", "198.51.100.23"),
        ("x-commerce-client-ip", "198.51.100.24"),
    ];
    // The test connects from loopback, which no proxy list names: the peer is the client.
    assert_eq!(seen_address(&h, &spoofed).await, json!("127.0.0.1"));
    assert_eq!(seen_address(&h, &[]).await, json!("127.0.0.1"));
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_used() {
    let h = Harness::with(|config, _| config.headers.trusted_proxies = vec!["127.0.0.0/8".into()])
        .await;
    // A client-supplied entry on the left, the address the proxy saw on the right.
    let forwarded = [
        ("x-forwarded-for", "198.51.100.23, 203.0.113.7"),
        ("x-commerce-client-ip", "198.51.100.24"),
    ];
    assert_eq!(seen_address(&h, &forwarded).await, json!("203.0.113.7"));
    // A proxy that sent no X-Forwarded-For is itself the client.
    assert_eq!(seen_address(&h, &[]).await, json!("127.0.0.1"));
}
