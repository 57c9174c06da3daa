//! Registration and login: validation, duplicates, concurrency, uniform failures, lockout.

use chrono::{DateTime, Utc};
use mongodb::bson::{Document, doc};
use serde_json::Value;

use crate::support::{PASSWORD, TestApp, TestMongo, error_code, error_field, spawn_app, start_on};

async fn count(app: &TestApp, collection: &str) -> u64 {
    let db = app.db.as_ref().expect("mongo").database().await;
    db.collection::<Document>(collection).count_documents(doc! {}).await.expect("count")
}

#[tokio::test]
async fn register_returns_the_user_and_a_session() {
    let app = spawn_app().await;
    let resp = app.register("  Ada.Lovelace@Example.COM ", "  Ada Lovelace ", PASSWORD).await;
    assert!(resp["errors"].is_null(), "{resp}");
    let payload = &resp["data"]["register"];
    assert_eq!(payload["user"]["email"], "ada.lovelace@example.com");
    assert_eq!(payload["user"]["name"], "Ada Lovelace");
    assert_eq!(payload["user"]["role"], "CUSTOMER");
    let id = payload["user"]["id"].as_str().expect("id");
    assert_eq!(uuid::Uuid::parse_str(id).expect("uuid").get_version_num(), 7);

    let expires: DateTime<Utc> = payload["accessTokenExpiresAt"].as_str().expect("expiry").parse().expect("rfc3339");
    let ttl = expires - Utc::now();
    assert!(ttl > chrono::Duration::minutes(14) && ttl <= chrono::Duration::minutes(15), "{ttl}");
    let refresh_expires: DateTime<Utc> = payload["refreshTokenExpiresAt"].as_str().expect("expiry").parse().expect("rfc3339");
    assert!(refresh_expires - Utc::now() > chrono::Duration::days(29));

    let me = app.me(payload["accessToken"].as_str().expect("token")).await;
    assert_eq!(me["data"]["me"]["id"], id, "{me}");

    // Only hashes are stored: an argon2id PHC string at OWASP's cost, and the refresh
    // token's SHA-256.
    let db = app.db.as_ref().expect("mongo").database().await;
    let stored = db.collection::<Document>("users").find_one(doc! { "_id": id }).await.expect("find").expect("stored");
    let hash = stored.get_str("password_hash").expect("hash");
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
    let refresh = payload["refreshToken"].as_str().expect("refresh");
    let tokens = db.collection::<Document>("refresh_tokens");
    assert!(tokens.find_one(doc! { "_id": refresh }).await.expect("find").is_none());
    let hashed = users::sessions::hash_refresh_token(refresh);
    assert!(tokens.find_one(doc! { "_id": hashed }).await.expect("find").is_some());
}

#[tokio::test]
async fn rejected_registrations_name_the_field_and_write_nothing() {
    let app = spawn_app().await;
    let cases: [(&str, &str, &str, &str); 10] = [
        ("not-an-email", "Ada", PASSWORD, "input.email"),
        ("ada@localhost", "Ada", PASSWORD, "input.email"),
        ("ada@example.com", "   ", PASSWORD, "input.name"),
        ("ada@example.com", "Ada", "too short", "input.password"),
        ("ada@example.com", "Ada", &"x".repeat(129), "input.password"),
        ("grace.hopper@example.com", "Someone", "my grace.hopper password", "input.password"),
        ("ada@example.com", "Augusta Lovelace", "lovelace forever and ever", "input.password"),
        ("ada@example.com\u{0}x", "Ada", PASSWORD, "input.email"),
        ("ada@example.com", "Ada\u{0}Byron", PASSWORD, "input.name"),
        ("ada@example.com", "Ada", "correct horse\u{7} battery", "input.password"),
    ];
    for (email, name, password, field) in cases {
        let resp = app.register(email, name, password).await;
        assert_eq!(error_code(&resp), Some("BAD_USER_INPUT"), "{email}/{name}: {resp}");
        assert_eq!(error_field(&resp), Some(field), "{email}/{name}: {resp}");
    }
    assert_eq!(count(&app, "users").await, 0);
    assert_eq!(count(&app, "sessions").await, 0);
    assert_eq!(count(&app, "refresh_tokens").await, 0);
}

#[tokio::test]
async fn a_taken_email_is_a_conflict_whatever_its_case() {
    let app = spawn_app().await;
    app.register_ok("ada@example.com").await;
    let resp = app.register(" ADA@Example.com", "Another Ada", PASSWORD).await;
    assert_eq!(error_code(&resp), Some("CONFLICT"), "{resp}");
    assert!(resp["data"].is_null() || resp["data"]["register"].is_null());
    assert_eq!(count(&app, "users").await, 1);
    assert_eq!(count(&app, "sessions").await, 1, "the rejected registration started no session");
}

#[tokio::test]
async fn concurrent_registrations_with_one_email_let_exactly_one_through() {
    let app = spawn_app().await;
    let attempts = futures::future::join_all((0..6).map(|i| {
        let app = &app;
        async move { app.register("race@example.com", &format!("Racer {i}"), PASSWORD).await }
    }))
    .await;
    let ok = attempts.iter().filter(|r| r["errors"].is_null()).count();
    let conflicts = attempts.iter().filter(|r| error_code(r) == Some("CONFLICT")).count();
    assert_eq!((ok, conflicts), (1, 5), "{attempts:?}");
    assert_eq!(count(&app, "users").await, 1);
}

fn millis(t: &mongodb::bson::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).expect("valid time")
}

fn error_shape(resp: &Value) -> (Option<&str>, Option<&str>) {
    (error_code(resp), resp["errors"][0]["message"].as_str())
}

#[tokio::test]
async fn login_fails_alike_for_an_unknown_email_and_a_wrong_password() {
    let app = spawn_app().await;
    let registered = app.register_ok("ada@example.com").await;

    let ok = app.login(" ADA@example.com ", PASSWORD).await;
    assert!(ok["errors"].is_null(), "{ok}");
    assert_eq!(ok["data"]["login"]["user"]["id"], registered["user"]["id"]);
    assert!(ok["data"]["login"]["accessToken"].is_string());
    assert!(ok["data"]["login"]["refreshToken"].is_string());
    assert_ne!(ok["data"]["login"]["refreshToken"], registered["refreshToken"]);

    let wrong = app.login("ada@example.com", "not the right password").await;
    let unknown = app.login("nobody@example.com", PASSWORD).await;
    let malformed = app.login("nobody", PASSWORD).await;
    assert_eq!(error_code(&wrong), Some("UNAUTHENTICATED"), "{wrong}");
    assert_eq!(error_shape(&wrong), error_shape(&unknown));
    assert_eq!(error_shape(&wrong), error_shape(&malformed));
    assert_eq!(wrong["errors"][0]["extensions"], unknown["errors"][0]["extensions"]);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_until_a_later_success() {
    let app = spawn_app().await;
    app.register_ok("ada@example.com").await;
    let users = app.users_collection().await;
    let wrong = app.login("ada@example.com", "not the right password").await;
    for _ in 1..5 {
        assert_eq!(error_shape(&app.login("ada@example.com", "not the right password").await), error_shape(&wrong));
    }
    let doc = users.find_one(doc! { "email": "ada@example.com" }).await.expect("find").expect("user");
    assert_eq!(doc.get_i64("failed_logins").expect("count"), 5);
    let locked_until = millis(doc.get_datetime("locked_until").expect("locked"));
    assert!(locked_until > Utc::now() + chrono::Duration::seconds(15), "locked for the base duration");

    // Locked: even the right password is refused, with the very same error.
    let locked = app.login("ada@example.com", PASSWORD).await;
    assert_eq!(error_shape(&locked), error_shape(&wrong));

    // Once the lock has passed, a further failure locks for longer (the lock grows).
    let past = mongodb::bson::DateTime::from_millis((Utc::now() - chrono::Duration::seconds(1)).timestamp_millis());
    users.update_one(doc! { "email": "ada@example.com" }, doc! { "$set": { "locked_until": past } }).await.expect("expire");
    app.login("ada@example.com", "still the wrong password").await;
    let doc = users.find_one(doc! { "email": "ada@example.com" }).await.expect("find").expect("user");
    assert_eq!(doc.get_i64("failed_logins").expect("count"), 6);
    let locked_until = millis(doc.get_datetime("locked_until").expect("locked"));
    assert!(locked_until > Utc::now() + chrono::Duration::seconds(45), "the second lock is longer");

    // A success after the lock resets the count and lifts the lock.
    users.update_one(doc! { "email": "ada@example.com" }, doc! { "$set": { "locked_until": past } }).await.expect("expire");
    let ok = app.login("ada@example.com", PASSWORD).await;
    assert!(ok["errors"].is_null(), "{ok}");
    let doc = users.find_one(doc! { "email": "ada@example.com" }).await.expect("find").expect("user");
    assert_eq!(doc.get_i64("failed_logins").expect("count"), 0);
    assert!(doc.get_datetime("locked_until").is_err(), "lock lifted: {doc}");
}

#[tokio::test]
async fn an_overlong_login_password_is_refused_before_hashing() {
    let app = spawn_app().await;
    let resp = app.login("ada@example.com", &"x".repeat(10_000)).await;
    assert_eq!(error_code(&resp), Some("BAD_USER_INPUT"), "{resp}");
    assert_eq!(error_field(&resp), Some("input.password"));
}

#[tokio::test]
async fn a_raised_hash_cost_applies_at_the_next_login() {
    let db = TestMongo::new().await;
    let keys = vec![common::auth::SigningKey::generate()];
    let before = start_on(&db, keys.clone(), |_| {}).await;
    before.register_ok("ada@example.com").await;
    before.service.stop().await;

    let after = start_on(&db, keys, |cfg| {
        cfg.hash_cost = users::passwords::HashCost::new(19 * 1024, 3).expect("cost");
    })
    .await;
    let users = db.database().await.collection::<Document>("users");
    let stored = |doc: Option<Document>| doc.expect("user").get_str("password_hash").expect("hash").to_owned();
    let old = stored(users.find_one(doc! { "email": "ada@example.com" }).await.expect("find"));
    assert!(old.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{old}");

    let login = after.login("ada@example.com", PASSWORD).await;
    assert!(login["errors"].is_null(), "the old hash still verifies: {login}");
    let new = stored(users.find_one(doc! { "email": "ada@example.com" }).await.expect("find"));
    assert!(new.starts_with("$argon2id$v=19$m=19456,t=3,p=1$"), "{new}");
    assert!(after.login("ada@example.com", PASSWORD).await["errors"].is_null(), "the new hash verifies");
}
