//! Refresh tokens: rotation, reuse detection, concurrency, expiry and logout.

use chrono::Utc;
use mongodb::bson::{Document, doc};
use serde_json::{Value, json};

use crate::support::{LOGOUT, PASSWORD, error_code, spawn_app};

fn tokens(payload: &Value) -> (String, String) {
    (
        payload["accessToken"]
            .as_str()
            .expect("access token")
            .to_owned(),
        payload["refreshToken"]
            .as_str()
            .expect("refresh token")
            .to_owned(),
    )
}

#[tokio::test]
async fn every_refresh_rotates_the_refresh_token() {
    let app = spawn_app().await;
    let registered = app.register_ok("ada@example.com").await;
    let (_, r1) = tokens(&registered);

    let first = app.refresh(&r1).await;
    assert!(first["errors"].is_null(), "{first}");
    let (a2, r2) = tokens(&first["data"]["refreshSession"]);
    assert_ne!(r1, r2);
    assert_eq!(
        first["data"]["refreshSession"]["user"]["id"],
        registered["user"]["id"]
    );
    assert_eq!(
        app.me(&a2).await["data"]["me"]["id"],
        registered["user"]["id"]
    );

    let second = app.refresh(&r2).await;
    assert!(second["errors"].is_null(), "{second}");
    assert_ne!(tokens(&second["data"]["refreshSession"]).1, r2);
}

#[tokio::test]
async fn reusing_a_rotated_token_revokes_the_whole_session() {
    let app = spawn_app().await;
    let (_, r1) = tokens(&app.register_ok("ada@example.com").await);
    let other_session = app.login("ada@example.com", PASSWORD).await;
    let (_, other) = tokens(&other_session["data"]["login"]);

    let rotated = app.refresh(&r1).await;
    let (_, r2) = tokens(&rotated["data"]["refreshSession"]);

    // The old token shows up again: someone else holds the chain.
    let reuse = app.refresh(&r1).await;
    assert_eq!(error_code(&reuse), Some("UNAUTHENTICATED"), "{reuse}");
    assert!(
        reuse["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("already used")
    );

    // The legitimate holder's newer token is dead too.
    let after = app.refresh(&r2).await;
    assert_eq!(error_code(&after), Some("UNAUTHENTICATED"), "{after}");

    // Another session of the same user is untouched.
    let unaffected = app.refresh(&other).await;
    assert!(unaffected["errors"].is_null(), "{unaffected}");
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_let_at_most_one_through() {
    let app = spawn_app().await;
    let (_, r1) = tokens(&app.register_ok("ada@example.com").await);
    let results = futures::future::join_all((0..5).map(|_| app.refresh(&r1))).await;
    let message = |r: &Value| {
        r["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    // One request consumed the token; the four others presented a used token.
    let reused = results
        .iter()
        .filter(|r| message(r).contains("already used"))
        .count();
    assert_eq!(reused, 4, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|r| !r["errors"].is_null())
            .all(|r| error_code(r) == Some("UNAUTHENTICATED"))
    );
    // The one that consumed it may still be refused, if a reuse revoked the session before
    // it finished; if it got through, the session it continues is revoked all the same.
    let winners: Vec<&Value> = results.iter().filter(|r| r["errors"].is_null()).collect();
    assert!(winners.len() <= 1, "{results:?}");
    if let Some(winner) = winners.first() {
        let (_, next) = tokens(&winner["data"]["refreshSession"]);
        let after = app.refresh(&next).await;
        assert_eq!(
            error_code(&after),
            Some("UNAUTHENTICATED"),
            "{results:?}\nthen {after}"
        );
    }
    let db = app.db.as_ref().expect("mongo").database().await;
    let revoked = db
        .collection::<Document>("sessions")
        .count_documents(doc! { "revoked_at": { "$ne": null } })
        .await
        .expect("count");
    assert_eq!(revoked, 1);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let (_, r1) = tokens(&app.register_ok("ada@example.com").await);
    let rotated = app.refresh(&r1).await;
    let (_, r2) = tokens(&rotated["data"]["refreshSession"]);

    let out = app
        .gql(LOGOUT, json!({ "input": { "refreshToken": r2 } }), None)
        .await;
    assert_eq!(out["data"]["logout"]["success"], true, "{out}");
    assert_eq!(error_code(&app.refresh(&r2).await), Some("UNAUTHENTICATED"));

    let db = app.db.as_ref().expect("mongo").database().await;
    let revoked = db
        .collection::<Document>("sessions")
        .count_documents(doc! { "revoked_at": { "$ne": null } })
        .await
        .expect("count");
    assert_eq!(revoked, 1);

    let unknown = app
        .gql(
            LOGOUT,
            json!({ "input": { "refreshToken": "not-a-token" } }),
            None,
        )
        .await;
    assert_eq!(error_code(&unknown), Some("UNAUTHENTICATED"), "{unknown}");
}

#[tokio::test]
async fn unknown_and_expired_refresh_tokens_are_refused() {
    let app = spawn_app().await;
    assert_eq!(
        error_code(&app.refresh("made-up-token").await),
        Some("UNAUTHENTICATED")
    );

    let (_, r1) = tokens(&app.register_ok("ada@example.com").await);
    let db = app.db.as_ref().expect("mongo").database().await;
    let past = mongodb::bson::DateTime::from_millis(
        (Utc::now() - chrono::Duration::seconds(5)).timestamp_millis(),
    );
    db.collection::<Document>("refresh_tokens")
        .update_one(
            doc! { "_id": users::sessions::hash_refresh_token(&r1) },
            doc! { "$set": { "expires_at": past } },
        )
        .await
        .expect("expire");
    let expired = app.refresh(&r1).await;
    assert_eq!(error_code(&expired), Some("UNAUTHENTICATED"), "{expired}");
}
