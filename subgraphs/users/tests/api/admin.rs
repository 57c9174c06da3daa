//! Admin-only operations, who may read personal fields, and the first admin.

use kit::config::Secret;
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestMongo, error_code, error_field, spawn_app, start_on};

const USERS: &str = r#"query($first: Int, $after: String, $last: Int, $before: String) {
  users(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id email role } }
  }
}"#;

const SET_ROLE: &str =
    r#"mutation($input: SetUserRoleInput!) { setUserRole(input: $input) { user { id role } } }"#;

fn emails(resp: &Value) -> Vec<String> {
    resp["data"]["users"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("edges in {resp}"))
        .iter()
        .map(|e| e["node"]["email"].as_str().expect("email").to_owned())
        .collect()
}

#[tokio::test]
async fn admins_page_through_users_both_ways() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@example.com").await;
    for i in 0..5 {
        app.register_ok(&format!("user{i}@example.com")).await;
    }
    let all =
        ["admin", "user0", "user1", "user2", "user3", "user4"].map(|u| format!("{u}@example.com"));

    let first = app.gql(USERS, json!({ "first": 2 }), Some(&admin)).await;
    assert_eq!(emails(&first), all[..2]);
    let info = &first["data"]["users"]["pageInfo"];
    assert_eq!(
        (
            info["hasNextPage"].as_bool(),
            info["hasPreviousPage"].as_bool()
        ),
        (Some(true), Some(false))
    );
    assert_eq!(first["data"]["users"]["totalCount"], 6);
    assert_eq!(
        info["endCursor"],
        first["data"]["users"]["edges"][1]["cursor"]
    );

    let second = app
        .gql(
            USERS,
            json!({ "first": 2, "after": info["endCursor"] }),
            Some(&admin),
        )
        .await;
    assert_eq!(emails(&second), all[2..4]);
    let third = app
        .gql(
            USERS,
            json!({ "first": 10, "after": second["data"]["users"]["pageInfo"]["endCursor"] }),
            Some(&admin),
        )
        .await;
    assert_eq!(emails(&third), all[4..]);
    assert_eq!(third["data"]["users"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(third["data"]["users"]["pageInfo"]["hasPreviousPage"], true);

    let last = app.gql(USERS, json!({ "last": 2 }), Some(&admin)).await;
    assert_eq!(emails(&last), all[4..]);
    assert_eq!(last["data"]["users"]["pageInfo"]["hasPreviousPage"], true);
    let before = app
        .gql(
            USERS,
            json!({ "last": 3, "before": last["data"]["users"]["pageInfo"]["startCursor"] }),
            Some(&admin),
        )
        .await;
    assert_eq!(emails(&before), all[1..4]);
    assert_eq!(before["data"]["users"]["pageInfo"]["hasNextPage"], true);

    let too_many = app.gql(USERS, json!({ "first": 101 }), Some(&admin)).await;
    assert_eq!(
        (error_code(&too_many), error_field(&too_many)),
        (Some("BAD_USER_INPUT"), Some("first"))
    );
    let bad_cursor = app
        .gql(USERS, json!({ "after": "nonsense" }), Some(&admin))
        .await;
    assert_eq!(
        (error_code(&bad_cursor), error_field(&bad_cursor)),
        (Some("BAD_USER_INPUT"), Some("after"))
    );
}

#[tokio::test]
async fn only_admins_list_users() {
    let app = spawn_app().await;
    let customer = app.register_ok("ada@example.com").await;
    let token = customer["accessToken"].as_str().expect("token");
    assert_eq!(
        error_code(&app.gql(USERS, json!({}), Some(token)).await),
        Some("FORBIDDEN")
    );
    assert_eq!(
        error_code(&app.gql(USERS, json!({}), None).await),
        Some("UNAUTHENTICATED")
    );
}

#[tokio::test]
async fn admins_set_roles_and_the_next_refresh_carries_them() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@example.com").await;
    let customer = app.register_ok("ada@example.com").await;
    let customer_id = customer["user"]["id"].as_str().expect("id");
    let customer_token = customer["accessToken"].as_str().expect("token");

    let by_customer = app
        .gql(
            SET_ROLE,
            json!({ "input": { "userId": customer_id, "role": "ADMIN" } }),
            Some(customer_token),
        )
        .await;
    assert_eq!(error_code(&by_customer), Some("FORBIDDEN"), "{by_customer}");

    let promoted = app
        .gql(
            SET_ROLE,
            json!({ "input": { "userId": customer_id, "role": "ADMIN" } }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        promoted["data"]["setUserRole"]["user"]["role"], "ADMIN",
        "{promoted}"
    );

    let refreshed = app
        .refresh(customer["refreshToken"].as_str().expect("refresh"))
        .await;
    assert_eq!(
        refreshed["data"]["refreshSession"]["user"]["role"], "ADMIN",
        "{refreshed}"
    );
    let new_token = refreshed["data"]["refreshSession"]["accessToken"]
        .as_str()
        .expect("token");
    assert!(app.gql(USERS, json!({}), Some(new_token)).await["errors"].is_null());

    let me = app.me(&admin).await;
    let admin_id = me["data"]["me"]["id"].as_str().expect("id");
    let own = app
        .gql(
            SET_ROLE,
            json!({ "input": { "userId": admin_id, "role": "CUSTOMER" } }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        (error_code(&own), error_field(&own)),
        (Some("BAD_USER_INPUT"), Some("input.userId"))
    );
    let unknown = app
        .gql(
            SET_ROLE,
            json!({ "input": { "userId": uuid::Uuid::now_v7().to_string(), "role": "ADMIN" } }),
            Some(&admin),
        )
        .await;
    assert_eq!(error_code(&unknown), Some("NOT_FOUND"), "{unknown}");
    let malformed = app
        .gql(
            SET_ROLE,
            json!({ "input": { "userId": "42", "role": "ADMIN" } }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        (error_code(&malformed), error_field(&malformed)),
        (Some("BAD_USER_INPUT"), Some("input.userId"))
    );
}

#[tokio::test]
async fn personal_fields_are_for_the_user_and_admins() {
    let app = spawn_app().await;
    let admin = app.admin_token("admin@example.com").await;
    let ada = app.register_ok("ada@example.com").await;
    let grace = app.register_ok("grace@example.com").await;
    let query = r#"query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id role email } } }"#;
    let reps = json!({ "reps": [{ "__typename": "User", "id": ada["user"]["id"] }] });

    let by_grace = app
        .gql(query, reps.clone(), grace["accessToken"].as_str())
        .await;
    assert_eq!(error_code(&by_grace), Some("FORBIDDEN"), "{by_grace}");
    let by_ada = app
        .gql(query, reps.clone(), ada["accessToken"].as_str())
        .await;
    assert_eq!(
        by_ada["data"]["_entities"][0]["email"], "ada@example.com",
        "{by_ada}"
    );
    let by_admin = app.gql(query, reps.clone(), Some(&admin)).await;
    assert_eq!(
        by_admin["data"]["_entities"][0]["email"], "ada@example.com",
        "{by_admin}"
    );
    let anonymous = app.gql(query, reps, None).await;
    assert_eq!(
        error_code(&anonymous),
        Some("UNAUTHENTICATED"),
        "{anonymous}"
    );
}

fn bootstrap(email: &str, password: &str) -> impl FnOnce(&mut users::Config) {
    let (email, password) = (email.to_owned(), password.to_owned());
    move |cfg: &mut users::Config| {
        cfg.bootstrap_admin = Some(users::config::BootstrapAdmin {
            email,
            name: "Root".into(),
            password: Secret::new(password),
        });
    }
}

#[tokio::test]
async fn the_bootstrap_admin_is_created_once_and_kept_on_restart() {
    let db = TestMongo::new().await;
    let keys = vec![kit::auth::SigningKey::generate()];
    let first = start_on(&db, keys.clone(), bootstrap("root@example.com", PASSWORD)).await;
    let login = first.login("root@example.com", PASSWORD).await;
    assert_eq!(login["data"]["login"]["user"]["role"], "ADMIN", "{login}");
    first.service.stop().await;

    // A restart finds the admin in place and changes nothing.
    let again = start_on(&db, keys, bootstrap("root@example.com", PASSWORD)).await;
    again.service.stop().await;
    let users = db
        .database()
        .await
        .collection::<mongodb::bson::Document>("users");
    assert_eq!(
        users
            .count_documents(mongodb::bson::doc! {})
            .await
            .expect("count"),
        1
    );
}

#[tokio::test]
async fn an_existing_account_is_never_promoted_by_the_bootstrap() {
    let db = TestMongo::new().await;
    let keys = vec![kit::auth::SigningKey::generate()];
    // Someone registered the admin's email first (registration is open and unverified).
    let app = start_on(&db, keys.clone(), |_| {}).await;
    app.register_ok("root@example.com").await;
    app.service.stop().await;

    let mut config = crate::support::config(
        users::config::StoreConfig::Mongo {
            url: Secret::new(db.url.clone()),
            database: db.name.clone(),
        },
        keys,
    );
    bootstrap("ROOT@example.com", "another strong passphrase")(&mut config);
    let refused = users::start(config, users::Deps::default())
        .await
        .err()
        .expect("the start is refused");
    let message = format!("{refused:#}");
    assert!(message.contains("USERS_BOOTSTRAP_ADMIN_EMAIL"), "{message}");
    // The account is still a customer, with its own password.
    let users = db
        .database()
        .await
        .collection::<mongodb::bson::Document>("users");
    let doc = users
        .find_one(mongodb::bson::doc! { "email": "root@example.com" })
        .await
        .expect("find")
        .expect("user");
    assert_eq!(doc.get_str("role").expect("role"), "CUSTOMER");
    assert_eq!(
        users
            .count_documents(mongodb::bson::doc! {})
            .await
            .expect("count"),
        1
    );
}

#[tokio::test]
async fn a_weak_or_example_bootstrap_password_stops_the_start_and_creates_nothing() {
    let db = TestMongo::new().await;
    for password in ["change-me-admin-password", "root password", "short"] {
        let mut config = crate::support::config(
            users::config::StoreConfig::Mongo {
                url: Secret::new(db.url.clone()),
                database: db.name.clone(),
            },
            vec![kit::auth::SigningKey::generate()],
        );
        bootstrap("root@example.com", password)(&mut config);
        let refused = users::start(config, users::Deps::default())
            .await
            .err()
            .expect("the start is refused");
        let message = format!("{refused:#}");
        assert!(
            message.contains("USERS_BOOTSTRAP_ADMIN_PASSWORD"),
            "{password}: {message}"
        );
    }
    let users = db
        .database()
        .await
        .collection::<mongodb::bson::Document>("users");
    assert_eq!(
        users
            .count_documents(mongodb::bson::doc! {})
            .await
            .expect("count"),
        0
    );
}
