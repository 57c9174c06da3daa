//! Registration and login: validation, duplicates, concurrency, uniform failures, lockout.

use chrono::{DateTime, Utc};
use mongodb::bson::{Document, doc};
use serde_json::Value;

use crate::support::{PASSWORD, TestApp, TestMongo, error_code, error_field, spawn_app, start_on};

async fn count(app: &TestApp, collection: &str) -> u64 {
    let db = app.db.as_ref().expect("mongo").database().await;
    db.collection::<Document>(collection)
        .count_documents(doc! {})
        .await
        .expect("count")
}

#[tokio::test]
async fn register_returns_the_user_and_a_session() {
    let app = spawn_app().await;
    let resp = app
        .register("  Ada.Lovelace@Example.COM ", "  Ada Lovelace ", PASSWORD)
        .await;
    assert!(resp["errors"].is_null(), "{resp}");
    let payload = &resp["data"]["register"];
    assert_eq!(payload["user"]["email"], "ada.lovelace@example.com");
    assert_eq!(payload["user"]["name"], "Ada Lovelace");
    assert_eq!(payload["user"]["role"], "CUSTOMER");
    let id = payload["user"]["id"].as_str().expect("id");
    assert_eq!(
        uuid::Uuid::parse_str(id).expect("uuid").get_version_num(),
        7
    );

    let expires: DateTime<Utc> = payload["accessTokenExpiresAt"]
        .as_str()
        .expect("expiry")
        .parse()
        .expect("rfc3339");
    let ttl = expires - Utc::now();
    assert!(
        ttl > chrono::Duration::minutes(14) && ttl <= chrono::Duration::minutes(15),
        "{ttl}"
    );
    let refresh_expires: DateTime<Utc> = payload["refreshTokenExpiresAt"]
        .as_str()
        .expect("expiry")
        .parse()
        .expect("rfc3339");
    assert!(refresh_expires - Utc::now() > chrono::Duration::days(29));

    let me = app
        .me(payload["accessToken"].as_str().expect("token"))
        .await;
    assert_eq!(me["data"]["me"]["id"], id, "{me}");

    // Only hashes are stored: an argon2id PHC string at OWASP's cost, and the refresh
    // token's SHA-256.
    let db = app.db.as_ref().expect("mongo").database().await;
    let stored = db
        .collection::<Document>("users")
        .find_one(doc! { "_id": id })
        .await
        .expect("find")
        .expect("stored");
    let hash = stored.get_str("password_hash").expect("hash");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));
    let refresh = payload["refreshToken"].as_str().expect("refresh");
    let tokens = db.collection::<Document>("refresh_tokens");
    assert!(
        tokens
            .find_one(doc! { "_id": refresh })
            .await
            .expect("find")
            .is_none()
    );
    let hashed = users::sessions::hash_refresh_token(refresh);
    assert!(
        tokens
            .find_one(doc! { "_id": hashed })
            .await
            .expect("find")
            .is_some()
    );
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
        (
            "grace.hopper@example.com",
            "Someone",
            "my grace.hopper password",
            "input.password",
        ),
        (
            "ada@example.com",
            "Augusta Lovelace",
            "lovelace forever and ever",
            "input.password",
        ),
        ("ada@example.com\u{0}x", "Ada", PASSWORD, "input.email"),
        ("ada@example.com", "Ada\u{0}Byron", PASSWORD, "input.name"),
        (
            "ada@example.com",
            "Ada",
            "correct horse\u{7} battery",
            "input.password",
        ),
    ];
    for (email, name, password, field) in cases {
        let resp = app.register(email, name, password).await;
        assert_eq!(
            error_code(&resp),
            Some("BAD_USER_INPUT"),
            "{email}/{name}: {resp}"
        );
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
    let resp = app
        .register(" ADA@Example.com", "Another Ada", PASSWORD)
        .await;
    assert_eq!(error_code(&resp), Some("CONFLICT"), "{resp}");
    assert!(resp["data"].is_null() || resp["data"]["register"].is_null());
    assert_eq!(count(&app, "users").await, 1);
    assert_eq!(
        count(&app, "sessions").await,
        1,
        "the rejected registration started no session"
    );
}

#[tokio::test]
async fn concurrent_registrations_with_one_email_let_exactly_one_through() {
    let app = spawn_app().await;
    let attempts = futures::future::join_all((0..6).map(|i| {
        let app = &app;
        async move {
            app.register("race@example.com", &format!("Racer {i}"), PASSWORD)
                .await
        }
    }))
    .await;
    let ok = attempts.iter().filter(|r| r["errors"].is_null()).count();
    let conflicts = attempts
        .iter()
        .filter(|r| error_code(r) == Some("CONFLICT"))
        .count();
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
    assert_ne!(
        ok["data"]["login"]["refreshToken"],
        registered["refreshToken"]
    );

    let wrong = app.login("ada@example.com", "not the right password").await;
    let unknown = app.login("nobody@example.com", PASSWORD).await;
    let malformed = app.login("nobody", PASSWORD).await;
    assert_eq!(error_code(&wrong), Some("UNAUTHENTICATED"), "{wrong}");
    assert_eq!(error_shape(&wrong), error_shape(&unknown));
    assert_eq!(error_shape(&wrong), error_shape(&malformed));
    assert_eq!(
        wrong["errors"][0]["extensions"],
        unknown["errors"][0]["extensions"]
    );
}

async fn throttle(app: &TestApp, key: &str) -> Option<Document> {
    let db = app.db.as_ref().expect("mongo").database().await;
    db.collection::<Document>("login_throttles")
        .find_one(doc! { "_id": key })
        .await
        .expect("find")
}

async fn user_id(app: &TestApp, email: &str) -> String {
    let users = app.users_collection().await;
    users
        .find_one(doc! { "email": email })
        .await
        .expect("find")
        .expect("user")
        .get_str("_id")
        .expect("id")
        .to_owned()
}

async fn push_back(app: &TestApp, key: &str) {
    let db = app.db.as_ref().expect("mongo").database().await;
    let past = mongodb::bson::DateTime::from_millis(
        (Utc::now() - chrono::Duration::seconds(1)).timestamp_millis(),
    );
    db.collection::<Document>("login_throttles")
        .update_one(
            doc! { "_id": key },
            doc! { "$set": { "next_allowed": past } },
        )
        .await
        .expect("move the wait into the past");
}

#[tokio::test]
async fn repeated_failures_from_one_client_wait_longer_and_longer_until_a_success() {
    let app = spawn_app().await;
    app.register_ok("ada@example.com").await;
    let id = user_id(&app, "ada@example.com").await;
    let key = format!("client/{id}/203.0.113.9");
    let (_, _, wrong) = app
        .login_from("ada@example.com", "not the right password", "203.0.113.9")
        .await;
    for _ in 1..5 {
        let (_, _, again) = app
            .login_from("ada@example.com", "not the right password", "203.0.113.9")
            .await;
        assert_eq!(error_shape(&again), error_shape(&wrong));
    }
    let doc = throttle(&app, &key).await.expect("throttle");
    assert_eq!(doc.get_i64("attempts").expect("count"), 5);
    let next = millis(doc.get_datetime("next_allowed").expect("wait"));
    assert!(
        next > Utc::now() + chrono::Duration::seconds(15),
        "the fifth failure sets the base wait of 30 s"
    );

    // Waiting: even the right password is refused, with the very same error.
    let (_, _, waiting) = app
        .login_from("ada@example.com", PASSWORD, "203.0.113.9")
        .await;
    assert_eq!(error_shape(&waiting), error_shape(&wrong));

    // Once the wait has passed, a further failure waits twice as long (never a hard lock).
    push_back(&app, &key).await;
    app.login_from("ada@example.com", "still the wrong password", "203.0.113.9")
        .await;
    let doc = throttle(&app, &key).await.expect("throttle");
    assert_eq!(doc.get_i64("attempts").expect("count"), 6);
    let next = millis(doc.get_datetime("next_allowed").expect("wait"));
    assert!(
        next > Utc::now() + chrono::Duration::seconds(45),
        "the second wait is longer"
    );

    // A success after the wait clears the client's count.
    push_back(&app, &key).await;
    let (_, _, ok) = app
        .login_from("ada@example.com", PASSWORD, "203.0.113.9")
        .await;
    assert!(ok["errors"].is_null(), "{ok}");
    assert!(throttle(&app, &key).await.is_none(), "count cleared");
}

#[tokio::test]
async fn parallel_wrong_passwords_verify_exactly_the_threshold() {
    let app = spawn_app().await;
    app.register_ok("ada@example.com").await;
    let hasher = app.service.accounts().hasher().clone();
    let before = hasher.verifications();
    let attempts =
        (0..20).map(|_| app.login_from("ada@example.com", "not the right password", "203.0.113.9"));
    let answers = futures::future::join_all(attempts).await;
    for (_, _, answer) in &answers {
        assert_eq!(error_code(answer), Some("UNAUTHENTICATED"), "{answer}");
    }
    // Five reservations (the default threshold) won; the other fifteen were refused before
    // their password was looked at.
    assert_eq!(hasher.verifications() - before, 5);
    // The right password from that client now waits too, and is not verified either.
    let (_, _, refused) = app
        .login_from("ada@example.com", PASSWORD, "203.0.113.9")
        .await;
    assert_eq!(error_code(&refused), Some("UNAUTHENTICATED"), "{refused}");
    assert_eq!(hasher.verifications() - before, 5);
}

#[tokio::test]
async fn an_attacker_address_cannot_lock_the_owner_out() {
    let app = spawn_app().await;
    app.register_ok("ada@example.com").await;
    // The owner signs in from home, which makes it her usual client.
    let (_, _, home) = app
        .login_from("ada@example.com", PASSWORD, "198.51.100.10")
        .await;
    assert!(home["errors"].is_null(), "{home}");

    // Someone who knows the email guesses from elsewhere, far beyond every threshold.
    for _ in 0..30 {
        app.login_from("ada@example.com", "a guess of some kind", "203.0.113.66")
            .await;
    }
    let (_, _, attacker) = app
        .login_from("ada@example.com", PASSWORD, "203.0.113.66")
        .await;
    assert_eq!(
        error_code(&attacker),
        Some("UNAUTHENTICATED"),
        "the guessing address waits: {attacker}"
    );

    // The owner's usual client is not affected.
    let (_, _, owner) = app
        .login_from("ada@example.com", PASSWORD, "198.51.100.10")
        .await;
    assert!(owner["errors"].is_null(), "{owner}");
    assert_eq!(owner["data"]["login"]["user"]["email"], "ada@example.com");
}

#[tokio::test]
async fn many_guessing_addresses_share_one_budget_for_unknown_clients() {
    let app = spawn_app().await;
    app.register_ok("ada@example.com").await;
    let id = user_id(&app, "ada@example.com").await;
    // Four addresses, five guesses each: the shared budget of twenty unknown-client attempts.
    for n in 1..=4 {
        for _ in 0..5 {
            app.login_from(
                "ada@example.com",
                "a guess of some kind",
                &format!("203.0.113.{n}"),
            )
            .await;
        }
    }
    let shared = throttle(&app, &format!("account/{id}"))
        .await
        .expect("shared throttle");
    assert_eq!(shared.get_i64("attempts").expect("count"), 20);
    // A fifth new address, even with the right password, waits.
    let (_, _, fresh) = app
        .login_from("ada@example.com", PASSWORD, "203.0.113.5")
        .await;
    assert_eq!(error_code(&fresh), Some("UNAUTHENTICATED"), "{fresh}");
}

#[tokio::test]
async fn a_login_flood_sheds_load_and_never_runs_more_hashes_than_the_bound() {
    let app = crate::support::spawn_with(|cfg| {
        cfg.hash_limits = users::passwords::HashLimits::new(2, 4).expect("limits");
        // Hashes long enough (tens of passes) that the flood arrives while the first ones
        // still run, however slowly the requests reach the hasher on a busy machine.
        cfg.hash_cost = users::passwords::HashCost::new(19 * 1024, 40).expect("cost");
        // Every login from an unknown address also draws on the account's shared budget
        // (four times the threshold, 20 by default), shed ones included: with 30 addresses
        // the throttle would answer some of them. A budget of 40 keeps it out of this test.
        cfg.lockout.threshold = 10;
    })
    .await;
    app.register_ok("ada@example.com").await;
    let hasher = app.service.accounts().hasher().clone();
    // Thirty logins at once, each from its own address so no per-address throttle interferes.
    let addresses: Vec<String> = (0..30).map(|n| format!("192.0.2.{n}")).collect();
    let flood = addresses
        .iter()
        .map(|ip| app.login_from("ada@example.com", PASSWORD, ip));
    let answers = futures::future::join_all(flood).await;
    let shed: Vec<_> = answers
        .iter()
        .filter(|(_, _, a)| error_code(a) == Some("SERVICE_UNAVAILABLE"))
        .collect();
    let served = answers
        .iter()
        .filter(|(_, _, a)| a["errors"].is_null())
        .count();
    assert!(
        !shed.is_empty(),
        "beyond the queue of four, logins are refused"
    );
    assert!(served >= 1, "the queue is served");
    assert_eq!(shed.len() + served, 30, "every login either served or shed");
    for (status, retry, body) in &shed {
        assert_eq!(*status, 503, "{body}");
        assert_eq!(retry.as_deref(), Some("1"));
        assert!(body["data"].is_null());
    }
    assert!(
        hasher.peak_in_flight() <= 2,
        "{} hashes ran at once",
        hasher.peak_in_flight()
    );
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
    let keys = vec![kit::auth::SigningKey::generate()];
    let before = start_on(&db, keys.clone(), |_| {}).await;
    before.register_ok("ada@example.com").await;
    before.service.stop().await;

    let after = start_on(&db, keys, |cfg| {
        cfg.hash_cost = users::passwords::HashCost::new(19 * 1024, 3).expect("cost");
    })
    .await;
    let users = db.database().await.collection::<Document>("users");
    let stored = |doc: Option<Document>| {
        doc.expect("user")
            .get_str("password_hash")
            .expect("hash")
            .to_owned()
    };
    let old = stored(
        users
            .find_one(doc! { "email": "ada@example.com" })
            .await
            .expect("find"),
    );
    assert!(old.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{old}");

    let login = after.login("ada@example.com", PASSWORD).await;
    assert!(
        login["errors"].is_null(),
        "the old hash still verifies: {login}"
    );
    let new = stored(
        users
            .find_one(doc! { "email": "ada@example.com" })
            .await
            .expect("find"),
    );
    assert!(new.starts_with("$argon2id$v=19$m=19456,t=3,p=1$"), "{new}");
    assert!(
        after.login("ada@example.com", PASSWORD).await["errors"].is_null(),
        "the new hash verifies"
    );
}
