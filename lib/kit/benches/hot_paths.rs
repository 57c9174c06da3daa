//! Benchmarks of the shared code every request pays for: parsing money amounts from client
//! input, and verifying an access token against a fixed key set.
//!
//! Run with `cargo bench -p kit --bench hot_paths`. Token verification uses a static JWKS,
//! so no HTTP is involved: the numbers are header decoding, key lookup, the Ed25519 signature
//! check and claim validation.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use kit::auth::{AuthError, JwksVerifier, Role, SigningKey, TokenPolicy, jwks_of, new_claims};
use kit::money::{Currency, Money, MoneyError};
use uuid::Uuid;

/// Amounts as clients send them, one per exponent (2, 0, 3 decimals) plus a large one.
const AMOUNTS: &[(&str, &str, &str)] = &[
    ("eur_19.99", "19.99", "EUR"),
    ("jpy_1500", "1500", "JPY"),
    ("kwd_1.234", "1.234", "KWD"),
    ("usd_1234567.50", "1234567.50", "USD"),
];

fn money(c: &mut Criterion) {
    let mut group = c.benchmark_group("money");
    for (name, amount, code) in AMOUNTS {
        // What `MoneyInput::parse` does: the currency code, then the amount in it.
        group.bench_function(format!("parse/{name}"), |b| {
            b.iter(|| {
                let currency = Currency::parse(black_box(code)).expect("known currency");
                Money::parse_non_negative(black_box(amount), currency).expect("valid amount")
            });
        });
    }
    // The currency lookup alone: a linear scan over the ISO 4217 table, so a late code
    // (ZWL is last) shows its worst case.
    group.bench_function("currency/zwl_last_in_table", |b| {
        b.iter(|| Currency::parse(black_box("zwl")).expect("known currency"));
    });
    let eur = Currency::parse("EUR").expect("EUR is known");
    group.bench_function("reject/too_many_decimals", |b| {
        b.iter(|| {
            let error = Money::parse(black_box("19.999"), eur).expect_err("three decimals in EUR");
            assert!(matches!(error, MoneyError::TooManyDecimals { .. }));
            error
        });
    });
    group.bench_function("reject/not_a_number", |b| {
        b.iter(|| {
            let error = Money::parse(black_box("19,99"), eur).expect_err("a comma is not a point");
            assert!(matches!(error, MoneyError::InvalidAmount(_)));
            error
        });
    });
    group.finish();
}

fn jwt(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let policy = TokenPolicy::default();
    let key = SigningKey::generate();
    // Two trusted keys, as during a key rotation, so the lookup by `kid` has a choice.
    let previous = SigningKey::generate();
    let jwks = jwks_of([&previous, &key]).expect("generated keys have JWKs");
    let verifier = JwksVerifier::from_jwks(&jwks, policy.clone());

    let user = Uuid::now_v7();
    let claims = new_claims(&policy, user, Role::Customer, Duration::from_secs(3600));
    let valid = key.sign(&claims).expect("signs");
    // The same header and claims with a stranger's signature: same `kid`, same size, so the
    // rejection runs the whole signature check before failing.
    let stranger = SigningKey::generate();
    let foreign_signature = stranger
        .sign(&claims)
        .expect("signs")
        .rsplit_once('.')
        .map(|(_, signature)| signature.to_owned())
        .expect("three parts");
    let (signed_part, _) = valid.rsplit_once('.').expect("three parts");
    let forged = format!("{signed_part}.{foreign_signature}");

    // Both outcomes are checked once up front, so the loop measures what it claims to.
    let principal = runtime
        .block_on(verifier.verify(&valid))
        .expect("valid token");
    assert_eq!(principal.user_id, user);
    assert_eq!(
        runtime.block_on(verifier.verify(&forged)),
        Err(AuthError::InvalidSignature)
    );

    let mut group = c.benchmark_group("jwt");
    group.bench_function("verify/valid_eddsa", |b| {
        b.to_async(&runtime).iter(|| async {
            verifier
                .verify(black_box(&valid))
                .await
                .expect("valid token")
        });
    });
    group.bench_function("verify/bad_signature", |b| {
        b.to_async(&runtime).iter(|| async {
            let error = verifier
                .verify(black_box(&forged))
                .await
                .expect_err("forged token");
            assert_eq!(error, AuthError::InvalidSignature);
            error
        });
    });
    group.finish();
}

criterion_group!(benches, money, jwt);
criterion_main!(benches);
