//! docker-compose.yml cannot run here (no container engine), so this test holds it to the
//! code instead: every variable a subgraph's configuration reads is set, every variable set
//! is read (no stale or misspelt names), every service accepts its environment, ports
//! agree everywhere they appear, every healthcheck path answers on the real service, every
//! dependency waits for health, images are pinned, only the router and the payments
//! webhook are published, every secret is required (`${VAR:?...}`), the production profile
//! is on, and no service connects to a backing service as its superuser.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use kit::config::Env;
use serde_yaml_ng::Value;
use support::project_dir;

const APP_SERVICES: &[&str] = &["users", "products", "orders", "payments", "router"];

/// `.env.example` as the values compose substitutes for `${VAR}`.
/// The signing key is the one value `.env.example` cannot hold a usable example of; a fresh
/// key stands in for what an operator generates.
fn dotenv() -> BTreeMap<String, String> {
    let text =
        std::fs::read_to_string(project_dir().join(".env.example")).expect(".env.example exists");
    let mut vars: BTreeMap<String, String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
        .collect();
    assert!(
        vars.contains_key("JWT_SIGNING_KEYS"),
        ".env.example documents JWT_SIGNING_KEYS"
    );
    vars.insert(
        "JWT_SIGNING_KEYS".into(),
        kit::auth::SigningKey::generate().to_pem(),
    );
    vars
}

/// Every `${...}` of a compose value: the variable's name and whether it is required
/// (`${VAR:?message}`, which stops `docker compose up` when the variable is missing).
fn references(value: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let end = rest[start..]
            .find('}')
            .map(|e| start + e)
            .expect("closed ${...}");
        // `$${...}` is compose's escape for a literal `${...}` (expanded in the container).
        if rest[..start].ends_with('$') {
            rest = &rest[end + 1..];
            continue;
        }
        let inner = &rest[start + 2..end];
        let (name, required) = match inner.split_once(":?") {
            Some((name, message)) => (name, !message.trim().is_empty()),
            None => (inner, false),
        };
        out.push((name.to_owned(), required));
        rest = &rest[end + 1..];
    }
    out
}

fn substitute(value: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map(|e| start + e)
            .expect("closed ${...}");
        let inner = &rest[start + 2..end];
        let name = inner.split_once(":?").map_or(inner, |(name, _)| name);
        let value = vars
            .get(name)
            .unwrap_or_else(|| panic!("${{{name}}} is used but .env.example does not document it"));
        out.push_str(value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn compose() -> Value {
    let text = std::fs::read_to_string(project_dir().join("docker-compose.yml"))
        .expect("docker-compose.yml exists");
    serde_yaml_ng::from_str(&text).expect("docker-compose.yml is YAML")
}

fn service<'a>(compose: &'a Value, name: &str) -> &'a Value {
    compose
        .get("services")
        .and_then(|s| s.get(name))
        .unwrap_or_else(|| panic!("service {name} is defined"))
}

fn environment(compose: &Value, name: &str) -> BTreeMap<String, String> {
    let vars = dotenv();
    let env = service(compose, name)
        .get("environment")
        .and_then(Value::as_mapping)
        .expect("environment map");
    env.iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => String::new(),
                other => panic!("{name}: unexpected value {other:?}"),
            };
            (
                k.as_str().expect("string key").to_owned(),
                substitute(&v, &vars),
            )
        })
        .collect()
}

fn port_of(addr_or_url: &str) -> u16 {
    let after_host = addr_or_url.rsplit_once(':').expect("has a port").1;
    after_host
        .split(['/', '?'])
        .next()
        .unwrap_or_default()
        .parse()
        .expect("numeric port")
}

fn healthcheck_url(compose: &Value, name: &str) -> String {
    let test = service(compose, name)
        .get("healthcheck")
        .and_then(|h| h.get("test"))
        .and_then(Value::as_sequence)
        .unwrap_or_else(|| panic!("{name} has a healthcheck"));
    test.iter()
        .filter_map(Value::as_str)
        .find(|a| a.starts_with("http://"))
        .unwrap_or_else(|| panic!("{name}'s healthcheck calls an http URL"))
        .to_owned()
}

fn assert_all_read_are_set(name: &str, env: &Env, set: &BTreeMap<String, String>) {
    // `<VAR>_FILE` is looked up for every secret as the alternative to `<VAR>`.
    let missing: Vec<String> = env
        .names_read()
        .into_iter()
        .filter(|n| !set.contains_key(n))
        .filter(|n| {
            !n.strip_suffix("_FILE")
                .is_some_and(|base| set.contains_key(base))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "{name} reads {missing:?}, which docker-compose.yml does not set"
    );
}

#[test]
fn every_variable_a_service_reads_is_set_and_valid() {
    let compose = compose();
    for &name in APP_SERVICES {
        let mut vars = environment(&compose, name);
        if name == "users" {
            // The example's admin password is a placeholder users refuses to start with; the
            // operator sets one of their own, and then the environment is accepted.
            let example = Env::from_pairs(vars.clone());
            let refused = users::config::Config::from_env(&example)
                .expect_err("the example admin password is refused");
            assert!(
                refused
                    .to_string()
                    .contains("USERS_BOOTSTRAP_ADMIN_PASSWORD"),
                "{refused}"
            );
            vars.insert(
                "USERS_BOOTSTRAP_ADMIN_PASSWORD".to_owned(),
                "an operator's own passphrase".to_owned(),
            );
        }
        let env = Env::from_pairs(vars.clone());
        match name {
            "users" => drop(
                users::config::Config::from_env(&env)
                    .expect("users accepts its compose environment"),
            ),
            "products" => drop(
                products::config::Config::from_env(&env)
                    .expect("products accepts its compose environment"),
            ),
            "orders" => drop(
                orders::config::Config::from_env(&env)
                    .expect("orders accepts its compose environment"),
            ),
            "payments" => drop(
                payments::config::Config::from_env(&env)
                    .expect("payments accepts its compose environment"),
            ),
            "router" => {
                // The image holds the repository's router/config at /app/router/config.
                let file = vars["ROUTER_CONFIG"]
                    .strip_prefix("/app/")
                    .expect("ROUTER_CONFIG in /app");
                let config = router::RouterConfig::load(Some(&project_dir().join(file)), &env)
                    .expect("the router accepts its compose environment and config file");
                assert_eq!(config.profile, router::config::Profile::Production);
                assert!(
                    config.subgraphs.shared_secret.is_some(),
                    "the router sends the subgraph secret"
                );
                assert!(
                    config.listen.metrics_addr.is_some(),
                    "the router's metrics are on their own listener"
                );
            }
            _ => unreachable!(),
        }
        // The router's many tuning knobs have defaults in its own typed config (file or
        // built-in); the subgraphs are configured by the environment alone, so for them every
        // variable read must be set explicitly.
        if name != "router" {
            assert_all_read_are_set(name, &env, &vars);
        }
        let unused: Vec<&String> = vars
            .keys()
            .filter(|k| !env.names_read().contains(k) && k.as_str() != "ROUTER_CONFIG")
            .collect();
        assert!(
            unused.is_empty(),
            "{name}: docker-compose.yml sets {unused:?}, which the service never reads"
        );
    }
}

#[test]
fn ports_agree_and_only_the_edge_is_published() {
    let compose = compose();
    let listen = |name: &str, var: &str| port_of(&environment(&compose, name)[var]);
    let ports: BTreeMap<&str, u16> = [
        ("users", listen("users", "USERS_ADDR")),
        ("products", listen("products", "PRODUCTS_ADDR")),
        ("orders", listen("orders", "ORDERS_ADDR")),
        ("payments", listen("payments", "PAYMENTS_ADDR")),
        ("router", listen("router", "ROUTER_LISTEN_ADDR")),
    ]
    .into();
    let webhook = listen("payments", "PAYMENTS_WEBHOOK_ADDR");
    let metrics: BTreeMap<&str, u16> = [
        ("users", listen("users", "USERS_METRICS_ADDR")),
        ("products", listen("products", "PRODUCTS_METRICS_ADDR")),
        ("orders", listen("orders", "ORDERS_METRICS_ADDR")),
        ("payments", listen("payments", "PAYMENTS_METRICS_ADDR")),
        ("router", listen("router", "ROUTER_METRICS_ADDR")),
    ]
    .into();
    for (name, port) in &metrics {
        assert_ne!(
            *port, ports[name],
            "{name}'s metrics are not on its service port"
        );
        assert_ne!(*port, webhook);
    }
    assert_ne!(
        webhook, ports["payments"],
        "the webhook has a listener of its own"
    );
    for (name, port) in &ports {
        assert_eq!(
            port_of(&healthcheck_url(&compose, name)),
            *port,
            "{name}'s healthcheck port"
        );
    }
    let router = environment(&compose, "router");
    for pair in router["ROUTER_SUBGRAPH_URLS"].split(',') {
        let (name, url) = pair.split_once('=').expect("name=url");
        assert!(
            url.starts_with(&format!("http://{name}:")),
            "{pair} uses the service's host name"
        );
        assert_eq!(
            port_of(url),
            ports[name],
            "the router reaches {name} on its port"
        );
    }
    assert_eq!(port_of(&router["ROUTER_JWKS_URL"]), ports["users"]);
    for name in ["products", "orders", "payments"] {
        let jwks = &environment(&compose, name)["JWKS_URL"];
        assert!(
            jwks.starts_with("http://users:"),
            "{name} fetches keys from users"
        );
        assert_eq!(port_of(jwks), ports["users"]);
    }

    let services = compose
        .get("services")
        .and_then(Value::as_mapping)
        .expect("services");
    let published: BTreeMap<String, Vec<String>> = services
        .iter()
        .filter_map(|(k, v)| {
            let ports = v.get("ports")?.as_sequence()?;
            Some((
                k.as_str()?.to_owned(),
                ports
                    .iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect(),
            ))
        })
        .collect();
    assert_eq!(
        published,
        BTreeMap::from([
            ("payments".to_owned(), vec![format!("{0}:{0}", webhook)]),
            (
                "router".to_owned(),
                vec![format!("{0}:{0}", ports["router"])]
            ),
        ])
    );
}

#[test]
fn dependencies_wait_for_health_and_images_are_pinned() {
    let compose = compose();
    let services = compose
        .get("services")
        .and_then(Value::as_mapping)
        .expect("services");
    let names: BTreeSet<&str> = services.keys().filter_map(Value::as_str).collect();
    for (name, svc) in services {
        let name = name.as_str().expect("name");
        assert!(svc.get("healthcheck").is_some(), "{name} has a healthcheck");
        let image = svc.get("image").and_then(Value::as_str).expect("image");
        if APP_SERVICES.contains(&name) {
            assert_eq!(
                image, "commerce:latest",
                "{name} runs the image built from the Dockerfile"
            );
            assert!(svc.get("build").is_some(), "{name} can build the image");
        } else {
            let tag = image.split_once(':').map(|(_, t)| t).unwrap_or("");
            assert!(
                !tag.is_empty() && tag != "latest" && tag.contains('.'),
                "{name} pins a version: {image}"
            );
        }
        if let Some(deps) = svc.get("depends_on").and_then(Value::as_mapping) {
            for (dep, cond) in deps {
                let dep = dep.as_str().expect("dep");
                assert!(
                    names.contains(dep),
                    "{name} depends on a defined service {dep}"
                );
                assert_eq!(
                    cond.get("condition").and_then(Value::as_str),
                    Some("service_healthy"),
                    "{name} -> {dep}"
                );
            }
        }
    }
    let dockerfile = std::fs::read_to_string(project_dir().join("Dockerfile")).expect("Dockerfile");
    for name in APP_SERVICES {
        let command = service(&compose, name)
            .get("command")
            .and_then(Value::as_sequence)
            .expect("command");
        let binary = command[0].as_str().expect("binary");
        assert!(
            dockerfile.contains(&format!("target/release/{binary}")),
            "the image contains {binary}"
        );
    }
}

#[tokio::test]
async fn every_healthcheck_path_answers_on_the_real_services() {
    let compose = compose();
    let data = tempfile::tempdir().unwrap();
    let env = Env::from_pairs([("DATA_DIR", data.path().to_string_lossy().into_owned())]);
    let options = stack::Options {
        demo: false,
        project_dir: project_dir(),
        ephemeral_ports: true,
    };
    let stack = stack::start(&env, &options)
        .await
        .expect("the embedded stack starts");
    let urls = stack.urls();
    for (name, addr) in [
        ("users", urls.users),
        ("products", urls.products),
        ("orders", urls.orders),
        ("payments", urls.payments),
        ("router", urls.router),
    ] {
        let url = healthcheck_url(&compose, name);
        let path = &url[url
            .find(&format!(":{}", port_of(&url)))
            .expect("port in url")
            + port_of(&url).to_string().len()
            + 1..];
        let resp = reqwest::get(format!("http://{addr}{path}"))
            .await
            .expect("the service answers");
        assert_eq!(resp.status(), 200, "{name} {path}");
    }
    stack.stop().await;
}

#[test]
fn every_secret_is_required_and_no_service_is_a_superuser() {
    let text = std::fs::read_to_string(project_dir().join("docker-compose.yml"))
        .expect("docker-compose.yml exists");
    let refs = references(&text);
    assert!(!refs.is_empty());
    let optional: Vec<&String> = refs
        .iter()
        .filter(|(_, required)| !required)
        .map(|(name, _)| name)
        .collect();
    assert!(
        optional.is_empty(),
        "compose must stop with a message when these are missing: {optional:?}"
    );

    let compose = compose();
    let dotenv = dotenv();
    for name in ["users", "products", "orders", "payments"] {
        let env = environment(&compose, name);
        assert_eq!(
            env["COMMERCE_PROFILE"], "production",
            "{name} runs the production profile"
        );
        assert!(
            env.contains_key("SUBGRAPH_SHARED_SECRET"),
            "{name} answers only the router"
        );
    }
    assert_eq!(
        environment(&compose, "payments")["PAYMENTS_PROVIDER"],
        "stripe"
    );
    // Each service logs in as itself: never the PostgreSQL superuser or MongoDB root.
    let user_of = |url: &str| {
        url.split_once("://")
            .and_then(|(_, rest)| rest.split_once(':'))
            .map(|(u, _)| u.to_owned())
    };
    for name in ["products", "orders", "payments"] {
        let env = environment(&compose, name);
        let db = &env[&format!("{}_DATABASE_URL", name.to_ascii_uppercase())];
        assert_eq!(user_of(db).as_deref(), Some(name), "{name}'s database role");
        assert_ne!(user_of(db), Some(dotenv["POSTGRES_USER"].clone()));
        assert!(
            db.ends_with(&format!("/{name}")),
            "{name} uses its own database"
        );
        assert_eq!(
            user_of(&env["NATS_URL"]).as_deref(),
            Some(name),
            "{name}'s NATS user"
        );
    }
    let mongo = &environment(&compose, "users")["MONGODB_URL"];
    assert_eq!(user_of(mongo).as_deref(), Some("users"));
    assert_ne!(user_of(mongo), Some(dotenv["MONGO_USER"].clone()));
    assert!(
        mongo.contains("authSource=users"),
        "the users user lives in the users database"
    );
}

#[test]
fn the_image_runs_as_a_service_user_that_owns_app_and_carries_the_router_config() {
    let dockerfile = std::fs::read_to_string(project_dir().join("Dockerfile")).expect("Dockerfile");
    let runtime = dockerfile
        .split("AS runtime")
        .nth(1)
        .expect("a runtime stage");
    let lines: Vec<&str> = runtime.lines().map(str::trim).collect();
    let chown = lines
        .iter()
        .position(|l| l.contains("chown -R commerce:commerce /app"))
        .expect("/app is chowned to commerce");
    let user = lines
        .iter()
        .position(|l| *l == "USER commerce")
        .expect("runs as commerce");
    assert!(
        chown < user,
        "chown runs (as root) before switching to the service user"
    );
    assert!(
        !lines[user..]
            .iter()
            .any(|l| l.starts_with("USER ") && *l != "USER commerce"),
        "never back to root"
    );
    assert!(
        runtime.contains("COPY router/config/ /app/router/config/"),
        "the production router config is in the image"
    );
    let compose = compose();
    let data_dir = &environment(&compose, "users")["DATA_DIR"];
    assert!(
        data_dir.starts_with("/app/"),
        "DATA_DIR lies under the owned /app"
    );
}
