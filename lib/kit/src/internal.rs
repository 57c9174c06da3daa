//! What keeps a subgraph's internal surfaces internal.
//!
//! Clients reach the system through the router only, which enforces the edge limits (body
//! size, depth, aliases, persisted operations). A subgraph reachable on the internal
//! network must not be a way around them, so where the deployment says so
//! (`SUBGRAPH_SHARED_SECRET`, or `SUBGRAPH_SHARED_SECRET_FILE`) every subgraph's `/graphql`
//! refuses a request that does not carry the router's `x-subgraph-secret` header, before
//! the body is read or anything runs. The comparison takes the same time whatever the
//! header holds. The production profile refuses to start without the secret. The secret's
//! header and rules are the platform's ([`platform::internal`]), shared with the router.
//!
//! Metrics are internal too: `<SERVICE>_METRICS_ADDR` names a listener of their own (see
//! [`crate::health::serve_metrics`]), never the service's public port.
//!
//! Mutual TLS between router and subgraphs is not provided; the shared secret is the
//! control, and the network between them is trusted not to be sniffed.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Json, Router,
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
pub use platform::internal::{
    MIN_SECRET_LEN, SUBGRAPH_SECRET_HEADER, SUBGRAPH_SECRET_VAR, carries_secret, check_secret,
};
use serde_json::json;

use crate::{
    ErrorCode,
    config::{ConfigError, Env, Profile, Secret},
};

/// The error of a request refused for lacking the router's secret (`403`, `FORBIDDEN`).
pub const NOT_FROM_ROUTER: ErrorCode = ErrorCode::Forbidden;

/// The settings every subgraph reads for its internal surfaces.
#[derive(Debug, Clone, Default)]
pub struct InternalConfig {
    pub profile: Profile,
    /// `SUBGRAPH_SHARED_SECRET`: required on `/graphql` when set.
    pub subgraph_secret: Option<Secret>,
    /// `<SERVICE>_METRICS_ADDR`: where `/metrics` is served; unset = not served.
    pub metrics_addr: Option<SocketAddr>,
}

impl InternalConfig {
    /// Reads `COMMERCE_PROFILE`, `SUBGRAPH_SHARED_SECRET` (or `_FILE`) and
    /// `<SERVICE>_METRICS_ADDR`. The production profile requires the secret.
    pub fn from_env(env: &Env, service: &str) -> Result<Self, ConfigError> {
        let profile = Profile::from_env(env)?;
        let subgraph_secret = env.secret_var(SUBGRAPH_SECRET_VAR)?;
        check_secret(SUBGRAPH_SECRET_VAR, subgraph_secret.as_ref(), profile)?;
        let metrics_var = format!("{}_METRICS_ADDR", service.to_ascii_uppercase());
        let metrics_addr = env.parse_opt::<SocketAddr>(&metrics_var)?;
        Ok(Self {
            profile,
            subgraph_secret,
            metrics_addr,
        })
    }
}

/// Guards every route of `router` with the shared secret when one is configured.
pub fn require_router_secret(router: Router, secret: Option<&Secret>) -> Router {
    match secret {
        None => router,
        Some(secret) => {
            let expected: Arc<[u8]> = Arc::from(secret.expose().as_bytes());
            router.layer(axum::middleware::from_fn_with_state(expected, guard))
        }
    }
}

async fn guard(State(expected): State<Arc<[u8]>>, request: Request, next: Next) -> Response {
    if carries_secret(request.headers(), &expected) {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "refused a subgraph request that did not come through the router");
    let body = json!({ "errors": [{
        "message": "this service only answers the router",
        "extensions": { "code": NOT_FROM_ROUTER.as_str() },
    }]});
    let status =
        StatusCode::from_u16(NOT_FROM_ROUTER.http_status()).unwrap_or(StatusCode::FORBIDDEN);
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn production_needs_a_long_enough_secret() {
        let prod = Env::from_pairs([("COMMERCE_PROFILE", "production")]);
        let err = InternalConfig::from_env(&prod, "orders").unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { ref name, .. } if name == SUBGRAPH_SECRET_VAR),
            "{err}"
        );

        let short = Env::from_pairs([(SUBGRAPH_SECRET_VAR, "short")]);
        assert!(
            matches!(InternalConfig::from_env(&short, "orders"), Err(ConfigError::Invalid { name, .. }) if name == SUBGRAPH_SECRET_VAR)
        );

        let ok = Env::from_pairs([
            ("COMMERCE_PROFILE", "production"),
            (SUBGRAPH_SECRET_VAR, GOOD),
            ("ORDERS_METRICS_ADDR", "0.0.0.0:9002"),
        ]);
        let cfg = InternalConfig::from_env(&ok, "orders").unwrap();
        assert_eq!(cfg.subgraph_secret.unwrap().expose(), GOOD);
        assert_eq!(cfg.metrics_addr.unwrap().port(), 9002);

        let dev = InternalConfig::from_env(&Env::from_pairs([("X", "1")]), "orders").unwrap();
        assert!(dev.subgraph_secret.is_none() && dev.metrics_addr.is_none());
    }
}
