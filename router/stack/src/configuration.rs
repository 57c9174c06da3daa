//! Every setting of the system in one place, for the README's configuration section.
//!
//! [`SERVICE_VARIABLES`] lists what the subgraphs read (each service reads its own from the
//! environment, through `kit::config::Env`); the router's list is
//! [`router::config::variables::VARIABLES`]. [`readme_section`] renders both as the tables
//! between the README's `configuration` markers, and the `configuration` test fails when
//! the README differs from them or when a service reads a variable this list lacks (or
//! lists one it does not read). `UPDATE_README=1 cargo test -p stack --test configuration`
//! rewrites the section.

/// One environment variable of the subgraphs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceVariable {
    pub name: &'static str,
    /// The services that read it.
    pub services: &'static [&'static str],
    pub meaning: &'static str,
}

const ALL: &[&str] = &["products", "users", "orders", "payments"];

const fn var(
    name: &'static str,
    services: &'static [&'static str],
    meaning: &'static str,
) -> ServiceVariable {
    ServiceVariable {
        name,
        services,
        meaning,
    }
}

/// What the subgraphs read, grouped by concern.
pub const SERVICE_VARIABLES: &[ServiceVariable] = &[
    var(
        "PRODUCTS_ADDR",
        &["products"],
        "listen address (default `127.0.0.1:4001`)",
    ),
    var(
        "ORDERS_ADDR",
        &["orders"],
        "listen address (default `127.0.0.1:4002`)",
    ),
    var(
        "PAYMENTS_ADDR",
        &["payments"],
        "listen address (default `127.0.0.1:4003`)",
    ),
    var(
        "USERS_ADDR",
        &["users"],
        "listen address (default `127.0.0.1:4004`)",
    ),
    var(
        "PRODUCTS_METRICS_ADDR",
        &["products"],
        "internal listener of `/metrics`; unset means not served",
    ),
    var(
        "ORDERS_METRICS_ADDR",
        &["orders"],
        "internal listener of `/metrics`; unset means not served",
    ),
    var(
        "PAYMENTS_METRICS_ADDR",
        &["payments"],
        "internal listener of `/metrics`; unset means not served",
    ),
    var(
        "USERS_METRICS_ADDR",
        &["users"],
        "internal listener of `/metrics`; unset means not served",
    ),
    var(
        "COMMERCE_PROFILE",
        ALL,
        "`production` refuses the payment sandbox and requires `SUBGRAPH_SHARED_SECRET`",
    ),
    var(
        "SUBGRAPH_SHARED_SECRET",
        ALL,
        "secret (32 characters or more) the router sends in `x-subgraph-secret`; when set, `/graphql` refuses requests without it",
    ),
    var(
        "DATA_DIR",
        ALL,
        "folder of the embedded-mode files (SQLite databases, user store, keys); default `./data`",
    ),
    var(
        "PRODUCTS_DATABASE_URL",
        &["products"],
        "PostgreSQL URL of the products database (falls back to `DATABASE_URL`, then SQLite in `DATA_DIR`)",
    ),
    var(
        "ORDERS_DATABASE_URL",
        &["orders"],
        "PostgreSQL URL of the orders database (same fallbacks)",
    ),
    var(
        "PAYMENTS_DATABASE_URL",
        &["payments"],
        "PostgreSQL URL of the payments database (same fallbacks)",
    ),
    var(
        "DATABASE_URL",
        &["products", "orders", "payments"],
        "shared fallback database URL",
    ),
    var(
        "DATABASE_MAX_CONNECTIONS",
        &["products", "orders", "payments"],
        "pool size (default 10; 1 for SQLite)",
    ),
    var(
        "NATS_URL",
        ALL,
        "NATS JetStream; unset means the in-process bus (one process only)",
    ),
    var(
        "NATS_PREFIX",
        ALL,
        "prefix of every subject and stream (letters, digits, `-`, `_`)",
    ),
    var(
        "NATS_REQUEST_TIMEOUT",
        ALL,
        "timeout of requests between services over the bus (default `3s`)",
    ),
    var(
        "ORDERS_PRICE_TIMEOUT",
        &["orders"],
        "how long orders waits for prices from products (default: `NATS_REQUEST_TIMEOUT`)",
    ),
    var(
        "JWKS_URL",
        &["products", "orders", "payments"],
        "where the users service publishes its signing keys",
    ),
    var(
        "JWT_ISSUER",
        ALL,
        "`iss` of access tokens (issued by users, required by everyone)",
    ),
    var("JWT_AUDIENCE", ALL, "`aud` of access tokens"),
    var(
        "JWT_LEEWAY",
        ALL,
        "clock skew allowed on `exp` (default `30s`)",
    ),
    var(
        "MONGODB_URL",
        &["users"],
        "MongoDB for accounts and sessions; unset means the file-backed store in `DATA_DIR`",
    ),
    var(
        "MONGODB_DATABASE",
        &["users"],
        "database name (default `users`)",
    ),
    var(
        "JWT_SIGNING_KEYS",
        &["users"],
        "PEM private keys, newest first; unset means a key generated once and kept in `DATA_DIR`",
    ),
    var(
        "ACCESS_TOKEN_TTL",
        &["users"],
        "access-token lifetime (default `15m`)",
    ),
    var(
        "REFRESH_TOKEN_TTL",
        &["users"],
        "refresh-token lifetime (default `30d`)",
    ),
    var(
        "PASSWORD_HASH_MEMORY_KIB",
        &["users"],
        "argon2id memory (never below OWASP's 19 MiB)",
    ),
    var(
        "PASSWORD_HASH_ITERATIONS",
        &["users"],
        "argon2id passes (never below 2)",
    ),
    var(
        "PASSWORD_HASH_CONCURRENCY",
        &["users"],
        "password hashes running at once (default twice the cores)",
    ),
    var(
        "PASSWORD_HASH_QUEUE",
        &["users"],
        "hashes running or waiting (default 16 per core); beyond it a login is refused with `SERVICE_UNAVAILABLE`",
    ),
    var(
        "LOGIN_LOCK_THRESHOLD",
        &["users"],
        "failed logins before an account is locked for a while",
    ),
    var(
        "LOGIN_LOCK_BASE",
        &["users"],
        "first lock duration; doubles with each further failure",
    ),
    var("LOGIN_LOCK_MAX", &["users"], "longest lock"),
    var(
        "USERS_BOOTSTRAP_ADMIN_EMAIL",
        &["users"],
        "with the password: an admin account created at start-up if missing",
    ),
    var(
        "USERS_BOOTSTRAP_ADMIN_PASSWORD",
        &["users"],
        "that admin's password",
    ),
    var(
        "USERS_BOOTSTRAP_ADMIN_NAME",
        &["users"],
        "that admin's name (default `Administrator`)",
    ),
    var(
        "PAYMENTS_PROVIDER",
        &["payments"],
        "`stripe` (default) or `sandbox` (a Pay page that completes payments without money; refused in production); the `commerce` launcher picks `sandbox` when no Stripe key is set",
    ),
    var(
        "PAYMENTS_WEBHOOK_ADDR",
        &["payments"],
        "listen address of the Stripe webhook and the sandbox pages, the one port to publish (default `127.0.0.1:4013`)",
    ),
    var(
        "STRIPE_SECRET_KEY",
        &["payments"],
        "the Stripe API key; required with `PAYMENTS_PROVIDER=stripe`",
    ),
    var(
        "STRIPE_WEBHOOK_SECRETS",
        &["payments"],
        "comma-separated `whsec_...` secrets webhooks are verified with (several while rotating); required with `PAYMENTS_PROVIDER=stripe`",
    ),
    var(
        "STRIPE_API_BASE",
        &["payments"],
        "another base URL for the Stripe API (tests, proxies)",
    ),
    var(
        "CHECKOUT_SUCCESS_URL",
        &["payments"],
        "where Checkout sends the customer after paying",
    ),
    var(
        "CHECKOUT_CANCEL_URL",
        &["payments"],
        "where Checkout sends the customer on cancel",
    ),
    var(
        "PUBLIC_URL",
        &["payments"],
        "how browsers reach payments (sandbox checkout links); default: its listen address",
    ),
];

/// Marks the start of the generated section in the README.
pub const BEGIN_MARKER: &str = "<!-- configuration: generated from the code, `UPDATE_README=1 cargo test -p stack --test configuration` rewrites it -->";
/// Marks its end.
pub const END_MARKER: &str = "<!-- configuration: end -->";

/// The README's configuration tables (between the markers, markers excluded).
pub fn readme_section() -> String {
    let mut out = String::new();
    out.push_str("\nSubgraphs (each reads its own; `cargo run -p <service>` or the `commerce` launcher):\n\n");
    out.push_str("| variable | read by | meaning |\n|---|---|---|\n");
    for v in SERVICE_VARIABLES {
        let services = if v.services == ALL {
            "all four".to_owned()
        } else {
            v.services.join(", ")
        };
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            v.name, services, v.meaning
        ));
    }
    out.push_str(
        "\nRouter (`cargo run -p router -- serve --config router/config/dev.yaml`; YAML first, \
         then these variables, which win):\n\n",
    );
    out.push_str("| variable | YAML key | meaning |\n|---|---|---|\n");
    for v in router::config::variables::VARIABLES {
        let key = if v.key.is_empty() {
            "–".to_owned()
        } else {
            format!("`{}`", v.key)
        };
        out.push_str(&format!("| `{}` | {} | {} |\n", v.name, key, v.meaning));
    }
    out.push('\n');
    out
}

/// `readme` with its section between the markers replaced by [`readme_section`]; `None`
/// when the markers are missing.
pub fn with_section(readme: &str) -> Option<String> {
    let start = readme.find(BEGIN_MARKER)? + BEGIN_MARKER.len();
    let end = readme[start..].find(END_MARKER)? + start;
    Some(format!(
        "{}{}{}",
        &readme[..start],
        readme_section(),
        &readme[end..]
    ))
}
