//! The router's environment variables in one list: the YAML key each one overrides and
//! what it does.
//!
//! [`super::RouterConfig::load`] applies exactly these variables, each to its key, and the
//! README's configuration table is generated from the same list, so neither the
//! documentation nor the loader can drift from it.

/// One environment variable of the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    pub name: &'static str,
    /// The YAML key it overrides (empty when it has none).
    pub key: &'static str,
    pub meaning: &'static str,
}

const fn var(name: &'static str, key: &'static str, meaning: &'static str) -> Variable {
    Variable { name, key, meaning }
}

/// Every variable [`super::RouterConfig::load`] reads, plus `ROUTER_CONFIG` (read by the
/// binary to find the file), in the order of the YAML sections.
pub const VARIABLES: &[Variable] = &[
    var(
        "ROUTER_CONFIG",
        "",
        "the YAML file to load when `--config` is not given",
    ),
    var(
        "ROUTER_PROFILE",
        "profile",
        "`dev` (default: introspection and GraphiQL on) or `production`",
    ),
    var(
        "ROUTER_LISTEN_ADDR",
        "listen.addr",
        "address to accept clients on (default `127.0.0.1:4000`)",
    ),
    var(
        "ROUTER_METRICS_ADDR",
        "listen.metrics_addr",
        "internal listener of `/metrics`; unset means not served",
    ),
    var(
        "ROUTER_SHUTDOWN_GRACE_SECS",
        "listen.shutdown_grace_secs",
        "how long in-flight requests may finish after a stop signal",
    ),
    var(
        "ROUTER_SUPERGRAPH_PATH",
        "supergraph.path",
        "the composed supergraph file served (default `schema/supergraph.graphql`)",
    ),
    var(
        "ROUTER_SUPERGRAPH_POLL_SECS",
        "supergraph.poll_interval_secs",
        "hot-reload interval for that file; `0` turns it off",
    ),
    var(
        "ROUTER_SUPERGRAPH_COMPOSE_FROM",
        "supergraph.compose_from",
        "a `supergraph.yaml` to compose at start-up instead of reading the file",
    ),
    var(
        "ROUTER_MAX_BODY_BYTES",
        "limits.max_body_bytes",
        "largest request body or GET query string",
    ),
    var(
        "ROUTER_MAX_DISCARD_BYTES",
        "limits.max_discard_bytes",
        "how much of an oversized body is read and discarded so the client sees the 413",
    ),
    var(
        "ROUTER_MAX_DEPTH",
        "limits.max_depth",
        "deepest field nesting of an operation (at most 48)",
    ),
    var(
        "ROUTER_MAX_ALIASES",
        "limits.max_aliases",
        "most aliases in an operation",
    ),
    var(
        "ROUTER_MAX_ROOT_FIELDS",
        "limits.max_root_fields",
        "most root fields in an operation",
    ),
    var(
        "ROUTER_MAX_TOKENS",
        "limits.max_tokens",
        "most lexical tokens in a document, checked before parsing",
    ),
    var(
        "ROUTER_CSRF_ENABLED",
        "csrf.enabled",
        "refuse simple (non-preflighted) requests without a preflight header",
    ),
    var(
        "ROUTER_CORS_ALLOW_ORIGINS",
        "cors.allow_origins",
        "comma-separated origins allowed cross-origin; none by default",
    ),
    var(
        "ROUTER_INTROSPECTION",
        "introspection.enabled",
        "answer `__schema`/`__type` and serve `/schema.graphql` (default: on in `dev`, off in `production`)",
    ),
    var(
        "ROUTER_INTROSPECTION_MAX_DEPTH",
        "introspection.max_depth",
        "deepest nesting inside `__schema`/`__type`",
    ),
    var(
        "ROUTER_INTROSPECTION_MAX_OF_TYPE_DEPTH",
        "introspection.max_of_type_depth",
        "most directly nested `ofType` selections",
    ),
    var(
        "ROUTER_INTROSPECTION_MAX_LIST_DEPTH",
        "introspection.max_list_depth",
        "most introspection list fields nested in one another",
    ),
    var(
        "ROUTER_INTROSPECTION_MAX_TOKENS",
        "introspection.max_tokens",
        "token limit of documents that only introspect",
    ),
    var(
        "ROUTER_AUTH_ENABLED",
        "auth.enabled",
        "verify bearer tokens at the edge",
    ),
    var(
        "ROUTER_JWKS_URL",
        "auth.jwks_url",
        "where the users service publishes its signing keys",
    ),
    var(
        "ROUTER_JWT_ISSUER",
        "auth.issuer",
        "required `iss` of access tokens",
    ),
    var(
        "ROUTER_JWT_AUDIENCE",
        "auth.audience",
        "required `aud` of access tokens",
    ),
    var(
        "ROUTER_JWT_LEEWAY_SECS",
        "auth.leeway_secs",
        "clock skew allowed on `exp`",
    ),
    var(
        "ROUTER_HEADERS_ALLOW",
        "headers.allow",
        "comma-separated client headers forwarded to subgraphs",
    ),
    var(
        "ROUTER_TRUSTED_PROXIES",
        "headers.trusted_proxies",
        "comma-separated addresses or CIDR ranges of proxies whose `X-Forwarded-For` is believed",
    ),
    var(
        "ROUTER_SUBGRAPH_TIMEOUT_MS",
        "subgraphs.timeout_ms",
        "timeout of one subgraph request",
    ),
    var(
        "ROUTER_SUBGRAPH_URLS",
        "subgraphs.urls",
        "`name=url,...` overriding the supergraph's routing URLs",
    ),
    var(
        "ROUTER_SUBGRAPH_SECRET",
        "",
        "secret sent to every subgraph in `x-subgraph-secret` (environment or `_FILE` only; required in `production`)",
    ),
    var(
        "ROUTER_DEDUP_ENABLED",
        "dedup.enabled",
        "share identical in-flight queries and subgraph fetches",
    ),
    var(
        "ROUTER_PERSISTED_MODE",
        "persisted_operations.mode",
        "`off`, `allow` or `safelist`",
    ),
    var(
        "ROUTER_PERSISTED_MANIFEST",
        "persisted_operations.manifest",
        "the persisted-operation manifest (JSON)",
    ),
    var(
        "ROUTER_APQ_ENABLED",
        "apq.enabled",
        "keep automatically persisted queries (never in safelist mode)",
    ),
    var(
        "ROUTER_APQ_CACHE_SIZE",
        "apq.cache_size",
        "most automatically persisted queries kept",
    ),
    var(
        "ROUTER_COMPRESSION_ENABLED",
        "compression.enabled",
        "gzip, br or zstd responses by `Accept-Encoding`",
    ),
    var(
        "ROUTER_COMPRESSION_MIN_SIZE_BYTES",
        "compression.min_size_bytes",
        "smallest response that is compressed",
    ),
    var(
        "ROUTER_CACHE_CONTROL_ROOT_FIELDS",
        "cache_control.root_fields",
        "`field=seconds,...`: public `max-age` per root field for queries without credentials",
    ),
    var(
        "ROUTER_GRAPHIQL_ENABLED",
        "graphiql.enabled",
        "serve GraphiQL at `/` (default: on in `dev`, off in `production`)",
    ),
    var(
        "ROUTER_GRAPHIQL_ASSETS_DIR",
        "graphiql.assets_dir",
        "local GraphiQL bundles (see `router/graphiql/install.sh`)",
    ),
    var(
        "ROUTER_SERVICE_NAME",
        "telemetry.service_name",
        "the name in logs and traces",
    ),
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::config::{Env, RouterConfig};

    #[test]
    fn the_list_is_exactly_what_the_configuration_reads() {
        // An empty environment answers nothing and remembers every name asked for.
        let env = Env::from_pairs(Vec::<(String, String)>::new());
        RouterConfig::load(None, &env).unwrap();
        // A secret may come from `<VAR>_FILE` instead; the table documents that once.
        let read: BTreeSet<String> = env
            .names_read()
            .into_iter()
            .filter(|name| !name.ends_with("_FILE"))
            .collect();
        let listed: BTreeSet<String> = VARIABLES
            .iter()
            .map(|v| v.name.to_owned())
            .filter(|name| name != super::super::CONFIG_PATH_ENV)
            .collect();
        assert_eq!(read, listed);
        assert_eq!(VARIABLES.len(), listed.len() + 1, "no name is listed twice");
    }

    #[test]
    fn every_variable_sets_a_key_of_the_configuration() {
        // A key the configuration does not have would be refused as an unknown field; any
        // other error (the value is nonsense for most keys) shows the key exists.
        for variable in VARIABLES.iter().filter(|v| !v.key.is_empty()) {
            let env = Env::from_pairs([(variable.name, "x=y")]);
            if let Err(err) = RouterConfig::load(None, &env) {
                let text = err.to_string();
                assert!(!text.contains("unknown field"), "{}: {text}", variable.name);
            }
        }
    }
}
