//! The README's configuration section is generated from the code's own lists, and those
//! lists are what the code reads: a service reading a variable the list lacks, a listed
//! variable nobody reads, or a README edited by hand all fail here.
//! `UPDATE_README=1 cargo test -p stack --test configuration` rewrites the section.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use kit::config::Env;
use stack::configuration::{SERVICE_VARIABLES, with_section};
use support::project_dir;

/// Runs `read` against an environment and returns every name it asked for.
fn names_read(pairs: &[(&str, String)], read: impl Fn(&Env)) -> BTreeSet<String> {
    let env = Env::from_pairs(pairs.iter().map(|(k, v)| (*k, v.clone())));
    read(&env);
    // Every secret may come from `<VAR>_FILE`; the README documents that once.
    env.names_read()
        .into_iter()
        .filter(|name| !name.ends_with("_FILE"))
        .collect()
}

/// Two environments per service: embedded (nothing set) and fully configured, so both
/// branches of every "this or that" setting are read.
fn environments() -> [Vec<(&'static str, String)>; 2] {
    let full = vec![
        ("DATABASE_URL", "postgres://db/x".to_owned()),
        ("NATS_URL", "nats://127.0.0.1:4222".to_owned()),
        ("MONGODB_URL", "mongodb://127.0.0.1:27018".to_owned()),
        (
            "JWT_SIGNING_KEYS",
            kit::auth::SigningKey::generate().to_pem(),
        ),
        (
            "USERS_BOOTSTRAP_ADMIN_EMAIL",
            "admin@example.com".to_owned(),
        ),
        (
            "USERS_BOOTSTRAP_ADMIN_PASSWORD",
            "a long enough password".to_owned(),
        ),
        ("STRIPE_SECRET_KEY", "sk_test_x".to_owned()),
        ("STRIPE_WEBHOOK_SECRETS", "whsec_x".to_owned()),
    ];
    let embedded = vec![
        ("DATA_DIR", "data".to_owned()),
        // What the `commerce` launcher chooses when no Stripe key is set.
        ("PAYMENTS_PROVIDER", "sandbox".to_owned()),
    ];
    [embedded, full]
}

#[test]
fn the_service_list_is_what_the_services_read() {
    let mut read: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for env in environments() {
        let mut add = |service: &'static str, names: BTreeSet<String>| {
            read.entry(service).or_default().extend(names);
        };
        add(
            "products",
            names_read(&env, |e| {
                drop(products::config::Config::from_env(e).expect("products config"))
            }),
        );
        add(
            "orders",
            names_read(&env, |e| {
                drop(orders::config::Config::from_env(e).expect("orders config"))
            }),
        );
        add(
            "payments",
            names_read(&env, |e| {
                drop(payments::config::Config::from_env(e).expect("payments config"))
            }),
        );
        add(
            "users",
            names_read(&env, |e| {
                drop(users::config::Config::from_env(e).expect("users config"))
            }),
        );
        // The launcher reads the bus settings once for all four.
        let bus = names_read(&env, |e| {
            drop(kit::config::BusConfig::from_env(e).expect("bus config"))
        });
        for service in ["products", "orders", "payments", "users"] {
            add(service, bus.clone());
        }
    }
    let mut listed: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for v in SERVICE_VARIABLES {
        for service in v.services {
            listed.entry(service).or_default().insert(v.name.to_owned());
        }
    }
    assert_eq!(
        read, listed,
        "stack::configuration::SERVICE_VARIABLES differs from what the services read"
    );
}

#[test]
fn the_readme_section_is_generated_from_the_lists() {
    let path = project_dir().join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let generated = with_section(&readme).expect("README.md has the configuration markers");
    if std::env::var("UPDATE_README").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("README.md writable");
        return;
    }
    assert!(
        readme == generated,
        "README.md's configuration section differs from the code's lists; run \
         `UPDATE_README=1 cargo test -p stack --test configuration` and commit the result"
    );
}

#[test]
fn the_readme_documents_every_router_variable_once() {
    let readme = std::fs::read_to_string(project_dir().join("README.md")).expect("README.md");
    for v in router::config::variables::VARIABLES {
        assert_eq!(
            readme.matches(&format!("| `{}` |", v.name)).count(),
            1,
            "{}",
            v.name
        );
    }
}
