//! What authentication costs: login latency, dominated by argon2id at the configured cost
//! (the same for a known and an unknown email, by design), and how many access tokens one
//! core verifies per second, which is what every authenticated request pays.
//!
//! Run with `cargo bench -p users --bench auth`. Logins use the embedded store, so the
//! numbers are the service's own work without a network round trip to MongoDB.

use std::{sync::Arc, time::Duration};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kit::auth::{Role, SigningKey, TokenPolicy, new_claims};
use users::{
    accounts::{Accounts, LockoutPolicy},
    keys::KeyRing,
    passwords::{HashCost, PasswordHasher},
    store::file::FileStore,
};

const PASSWORD: &str = "correct horse battery staple";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn login(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let (accounts, hasher, phc) = rt.block_on(async {
        let store = Arc::new(FileStore::open(dir.path()).await.expect("store"));
        let hasher = PasswordHasher::new(HashCost::OWASP_MINIMUM)
            .await
            .expect("hasher");
        let accounts = Accounts::new(store, hasher.clone(), LockoutPolicy::default());
        accounts
            .register("bench@example.com", "Bench", PASSWORD, Role::Customer)
            .await
            .expect("register");
        let phc = hasher.hash(PASSWORD).await.expect("hash");
        (accounts, hasher, phc)
    });

    let mut group = c.benchmark_group("login");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("argon2id_verify_19MiB_t2_p1", |b| {
        b.to_async(&rt)
            .iter(|| async { assert!(hasher.verify(PASSWORD, &phc).await.expect("verify")) });
    });
    group.bench_function("login_known_email", |b| {
        b.to_async(&rt).iter(|| async {
            accounts
                .login(
                    "bench@example.com",
                    PASSWORD,
                    users::accounts::ClientAddress::default(),
                )
                .await
                .expect("login")
        });
    });
    group.bench_function("login_unknown_email", |b| {
        b.to_async(&rt).iter(|| async {
            assert!(
                accounts
                    .login(
                        "nobody@example.com",
                        PASSWORD,
                        users::accounts::ClientAddress::default()
                    )
                    .await
                    .is_err()
            )
        });
    });
    group.finish();
}

fn tokens(c: &mut Criterion) {
    let rt = runtime();
    let policy = TokenPolicy::default();
    let ring = KeyRing::new(
        vec![SigningKey::generate(), SigningKey::generate()],
        policy.clone(),
    )
    .expect("ring");
    let verifier = ring.verifier();
    let claims = new_claims(
        &policy,
        uuid::Uuid::now_v7(),
        Role::Customer,
        Duration::from_secs(900),
    );
    let token = ring.sign(&claims).expect("sign");

    let mut group = c.benchmark_group("access_token");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify", |b| {
        b.to_async(&rt)
            .iter(|| async { verifier.verify(&token).await.expect("valid") });
    });
    group.bench_function("sign", |b| b.iter(|| ring.sign(&claims).expect("sign")));
    group.finish();
}

criterion_group!(benches, login, tokens);
criterion_main!(benches);
