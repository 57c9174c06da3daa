//! Test support for the router's and the services' tests (feature `testing`): a server on
//! a loopback port, polling for asynchronous outcomes, signing keys with a verifier that
//! trusts them, and a fake OTLP collector.

pub mod otlp;

pub use otlp::{ExportedSpan, FakeCollector};

use std::{sync::Arc, time::Duration};

use uuid::Uuid;

use crate::auth::{JwksVerifier, Role, SigningKey, TokenPolicy, jwks_of, new_claims};

/// Serves `app` on a free loopback port until the returned token is cancelled.
pub async fn serve_on_loopback(
    app: axum::Router,
) -> (std::net::SocketAddr, tokio_util::sync::CancellationToken) {
    let listener = tokio::net::TcpListener::bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("binding a loopback port");
    let addr = listener.local_addr().expect("the bound address");
    let shutdown = tokio_util::sync::CancellationToken::new();
    let token = shutdown.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move { token.cancelled().await })
            .await;
    });
    (addr, shutdown)
}

/// A signing key and a verifier that trusts it, for tests that need callers.
pub struct TestKeys {
    pub key: SigningKey,
    pub verifier: Arc<JwksVerifier>,
    pub policy: TokenPolicy,
}

impl Default for TestKeys {
    fn default() -> Self {
        Self::new()
    }
}

impl TestKeys {
    pub fn new() -> Self {
        let key = SigningKey::generate();
        let policy = TokenPolicy::default();
        let jwks = jwks_of([&key]).expect("a generated key has a JWK");
        Self {
            verifier: Arc::new(JwksVerifier::from_jwks(&jwks, policy.clone())),
            key,
            policy,
        }
    }

    /// A valid access token for `user_id` with `role`.
    pub fn token(&self, user_id: Uuid, role: Role) -> String {
        self.key
            .sign(&new_claims(
                &self.policy,
                user_id,
                role,
                Duration::from_secs(900),
            ))
            .expect("signing works")
    }

    /// `Authorization` header value for `user_id` with `role`.
    pub fn bearer(&self, user_id: Uuid, role: Role) -> String {
        format!("Bearer {}", self.token(user_id, role))
    }
}

/// What a check passed to [`eventually`] returns: `bool` (done or not yet) or `Option<T>`
/// (the value once it is there).
pub trait Outcome {
    /// What [`eventually`] returns once the check is done.
    type Value;
    /// `Some` once the check is done.
    fn done(self) -> Option<Self::Value>;
}

impl Outcome for bool {
    type Value = ();
    fn done(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Outcome for Option<T> {
    type Value = T;
    fn done(self) -> Option<T> {
        self
    }
}

/// Polls `check` every 50 ms until it holds (`true`, or `Some(value)`, which is returned),
/// failing the test after 30 seconds with `what`. It waits for asynchronous delivery; it does
/// not assert how fast anything is. `what` is only formatted on failure, so it may describe
/// the state at that moment (what was seen instead).
///
/// This is for waiting until something *happened*. To show that something did *not*
/// happen (no duplicate, no second delivery), wait for a later point instead — a marker, or
/// a consumer that has acknowledged everything in its stream ([`consumer_settled`]) — and
/// then look.
pub async fn eventually<O: Outcome>(
    what: impl std::fmt::Display,
    mut check: impl AsyncFnMut() -> O,
) -> O::Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = check().await.done() {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What [`check_command_line`] asks of a binary.
pub struct CommandLine<'a> {
    /// The binary (`env!("CARGO_BIN_EXE_<name>")`).
    pub binary: &'a str,
    /// What `--version` prints: `<name> <version>`.
    pub version: &'a str,
    /// What `--help` must mention (subcommands, options, `[env: …]`, `[default: …]`).
    pub help_mentions: &'a [&'a str],
    /// A command line that is valid but for a trailing `--bogus`.
    pub bogus: &'a [&'a str],
}

/// Runs a binary of ours with an empty environment and checks its command line: `--help`
/// succeeds and mentions what it must, `--version` prints the name and version, and an
/// unknown flag exits with status 2 and clap's message and usage.
pub fn check_command_line(expected: CommandLine<'_>) {
    let run = |args: &[&str]| {
        std::process::Command::new(expected.binary)
            .args(args)
            .env_clear()
            .output()
            .expect("the binary runs")
    };
    let out = run(&["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "--help failed: {help}");
    for mention in expected.help_mentions {
        assert!(
            help.contains(mention),
            "--help does not mention {mention}: {help}"
        );
    }
    let out = run(&["--version"]);
    assert!(out.status.success(), "--version failed");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        expected.version
    );
    let out = run(expected.bogus);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unexpected argument '--bogus'") && stderr.contains("Usage:"),
        "{stderr}"
    );
}

/// Runs `cleanup` (dropping a test's database, stream or roles) to completion from a guard's
/// `Drop`. Drop runs inside the test's runtime, which cannot be blocked on, so the future runs
/// on a thread with a runtime of its own and the drop waits for it. A cleanup that cannot
/// even start is skipped: tidying up never fails a test.
pub fn clean_up_on_drop(cleanup: impl std::future::Future<Output = ()> + Send + 'static) {
    let _ = std::thread::spawn(move || {
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            runtime.block_on(cleanup);
        }
    })
    .join();
}
