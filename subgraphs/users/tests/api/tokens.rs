//! Access tokens: what the service refuses, the JWKS, and key rotation.

use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use kit::auth::{Claims, Role, SigningKey, TokenPolicy, new_claims};
use serde_json::Value;

use crate::support::{PASSWORD, TestMongo, error_code, start_on};

fn claims(user: uuid::Uuid, edit: impl FnOnce(&mut Claims)) -> Claims {
    let mut c = new_claims(
        &TokenPolicy::default(),
        user,
        Role::Customer,
        Duration::from_secs(600),
    );
    edit(&mut c);
    c
}

fn segment(json: &str) -> String {
    URL_SAFE_NO_PAD.encode(json)
}

#[tokio::test]
async fn bad_access_tokens_are_unauthenticated() {
    let db = TestMongo::new().await;
    let key = SigningKey::generate();
    let app = start_on(&db, vec![key.clone()], |_| {}).await;
    let registered = app.register_ok("ada@example.com").await;
    let user: uuid::Uuid = registered["user"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");

    // The service's own key accepts a well-formed token...
    let valid = key.sign(&claims(user, |_| {})).expect("sign");
    assert_eq!(
        app.me(&valid).await["data"]["me"]["id"],
        registered["user"]["id"]
    );

    let expired = key
        .sign(&claims(user, |c| {
            c.exp = chrono::Utc::now().timestamp() - 3600
        }))
        .expect("sign");
    let wrong_audience = key
        .sign(&claims(user, |c| c.aud = "another-api".into()))
        .expect("sign");
    let wrong_issuer = key
        .sign(&claims(user, |c| c.iss = "someone-else".into()))
        .expect("sign");
    let payload = valid.split('.').nth(1).expect("payload").to_owned();
    let alg_none = format!(
        "{}.{payload}.",
        segment(&format!(
            r#"{{"alg":"none","typ":"JWT","kid":"{}"}}"#,
            key.kid()
        ))
    );
    // A stranger's signature presented under the service's key id.
    let stranger = SigningKey::generate()
        .sign(&claims(user, |_| {}))
        .expect("sign");
    let mut parts: Vec<&str> = stranger.split('.').collect();
    let header = segment(&format!(
        r#"{{"typ":"JWT","alg":"EdDSA","kid":"{}"}}"#,
        key.kid()
    ));
    parts[0] = &header;
    let forged = parts.join(".");
    let tampered = {
        let mut role_admin = claims(user, |_| {});
        role_admin.role = Role::Admin;
        let body = segment(&serde_json::to_string(&role_admin).expect("json"));
        let mut p: Vec<&str> = valid.split('.').collect();
        p[1] = &body;
        p.join(".")
    };

    for (what, token) in [
        ("expired", expired),
        ("wrong audience", wrong_audience),
        ("wrong issuer", wrong_issuer),
        ("alg none", alg_none),
        ("forged", forged),
        ("tampered payload", tampered),
        ("garbage", "not.a.jwt".to_owned()),
    ] {
        let resp = app.me(&token).await;
        assert_eq!(error_code(&resp), Some("UNAUTHENTICATED"), "{what}: {resp}");
        assert!(resp["data"].is_null(), "{what}: {resp}");
    }
    let anonymous = app.gql("{ me { id } }", Value::Null, None).await;
    assert_eq!(error_code(&anonymous), Some("UNAUTHENTICATED"));
}

async fn jwks_kids(base: &str) -> Vec<String> {
    let jwks: Value = reqwest::get(format!("{base}/.well-known/jwks.json"))
        .await
        .expect("jwks")
        .json()
        .await
        .expect("json");
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| {
            assert_eq!(
                (k["kty"].as_str(), k["crv"].as_str(), k["alg"].as_str()),
                (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
            );
            assert!(k.get("d").is_none(), "no private part in the JWKS");
            k["kid"].as_str().expect("kid").to_owned()
        })
        .collect()
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .expect("header")
        .kid
        .expect("kid")
}

#[tokio::test]
async fn a_retired_key_verifies_while_listed_and_not_once_removed() {
    let db = TestMongo::new().await;
    let (old, new) = (SigningKey::generate(), SigningKey::generate());

    let before = start_on(&db, vec![old.clone()], |_| {}).await;
    assert_eq!(jwks_kids(&before.base).await, [old.kid()]);
    let registered = before.register_ok("ada@example.com").await;
    let old_token = registered["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(kid_of(&old_token), old.kid());
    before.service.stop().await;

    // Rotation: the new key signs, the old one still verifies.
    let during = start_on(&db, vec![new.clone(), old.clone()], |_| {}).await;
    assert_eq!(jwks_kids(&during.base).await, [new.kid(), old.kid()]);
    assert_eq!(
        during.me(&old_token).await["data"]["me"]["id"],
        registered["user"]["id"]
    );
    let login = during.login("ada@example.com", PASSWORD).await;
    let new_token = login["data"]["login"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(kid_of(&new_token), new.kid());
    during.service.stop().await;

    // The old key is removed: its tokens are refused, the new key's still work.
    let after = start_on(&db, vec![new.clone()], |_| {}).await;
    assert_eq!(jwks_kids(&after.base).await, [new.kid()]);
    assert_eq!(
        error_code(&after.me(&old_token).await),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        after.me(&new_token).await["data"]["me"]["id"],
        registered["user"]["id"]
    );
}

#[tokio::test]
async fn other_services_can_verify_tokens_from_the_published_jwks() {
    let db = TestMongo::new().await;
    let app = start_on(&db, vec![SigningKey::generate()], |_| {}).await;
    let registered = app.register_ok("ada@example.com").await;
    let verifier = kit::auth::JwksVerifier::remote(
        format!("{}/.well-known/jwks.json", app.base),
        TokenPolicy::default(),
    );
    let principal = verifier
        .verify(registered["accessToken"].as_str().expect("token"))
        .await
        .expect("verifies");
    assert_eq!(
        principal.user_id.to_string(),
        registered["user"]["id"].as_str().expect("id")
    );
    assert_eq!(principal.role, Role::Customer);
}
