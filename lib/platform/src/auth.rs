//! Access tokens: the claims every service agrees on, verification against a JWKS, and
//! the Ed25519 signing keys the users service issues tokens with.
//!
//! Verification never trusts the token header's algorithm: the key found by `kid` decides
//! it, and only EdDSA and ES256 keys are accepted (so `alg: none` and HMAC confusion are
//! impossible). A JWKS fetched over HTTP is cached and fetched again when a token names an
//! unknown `kid`, at most once per [`JwksVerifier::REFRESH_COOLDOWN`], so a flood of
//! forged `kid`s cannot turn into a flood of requests to the users service.
//!
//! The cool-down holds whatever the cache holds: with no keys at all (users down at start,
//! or a JWKS without a usable key) a failed fetch is remembered for the cool-down too, and
//! tokens are answered `KeysUnavailable` at once instead of each one waiting for another
//! fetch. While a fetch is running, every token that needs it waits for that one fetch
//! (no lock is held across the HTTP call, and the fetch runs to its end even if the
//! request that started it goes away). Requests without a token never look at the keys.
//!
//! Besides signature, issuer, audience and `exp`, a token's `nbf` (when present) and `iat`
//! must not lie in the future beyond the leeway: a token minted ahead of time, by a signer
//! with a wrong clock or by a stolen key, is refused.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use base64::Engine as _;
use futures::{
    FutureExt as _,
    future::{BoxFuture, Shared},
};
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation,
    jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a user may do; carried in the token's `role` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    Customer,
    Admin,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "CUSTOMER",
            Role::Admin => "ADMIN",
        }
    }
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub role: Role,
}

/// [`Claims`] with the optional `nbf`, as read during verification.
#[derive(Deserialize)]
struct TimedClaims {
    #[serde(flatten)]
    claims: Claims,
    #[serde(default)]
    nbf: Option<i64>,
}

/// The verified caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    pub role: Role,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the Authorization header must be `Bearer <token>`")]
    MalformedHeader,
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's algorithm is not accepted")]
    UnsupportedAlgorithm,
    #[error("the token was signed by an unknown key")]
    UnknownKey,
    #[error("the token's signature is invalid")]
    InvalidSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued in the future")]
    IssuedInFuture,
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    #[error("the token is meant for another audience")]
    WrongAudience,
    #[error("the signing keys could not be fetched")]
    KeysUnavailable,
}

/// Extracts the bearer token; `Ok(None)` when there is no header at all.
pub fn bearer_token(headers: &http::HeaderMap) -> Result<Option<&str>, AuthError> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| AuthError::MalformedHeader)?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or(AuthError::MalformedHeader)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::MalformedHeader);
    }
    Ok(Some(token.trim()))
}

/// Who tokens must come from and be meant for.
#[derive(Debug, Clone)]
pub struct TokenPolicy {
    pub issuer: String,
    pub audience: String,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
}

impl TokenPolicy {
    pub const DEFAULT_ISSUER: &'static str = "commerce-users";
    pub const DEFAULT_AUDIENCE: &'static str = "commerce";

    pub fn from_env(env: &crate::config::Env) -> Result<Self, crate::config::ConfigError> {
        Ok(Self {
            issuer: env.string_or("JWT_ISSUER", Self::DEFAULT_ISSUER),
            audience: env.string_or("JWT_AUDIENCE", Self::DEFAULT_AUDIENCE),
            leeway: env.duration_or("JWT_LEEWAY", Duration::from_secs(30))?,
        })
    }
}

impl Default for TokenPolicy {
    fn default() -> Self {
        Self {
            issuer: Self::DEFAULT_ISSUER.into(),
            audience: Self::DEFAULT_AUDIENCE.into(),
            leeway: Duration::from_secs(30),
        }
    }
}

struct VerifyKey {
    key: DecodingKey,
    algorithm: Algorithm,
}

/// Where verification keys come from.
enum KeySource {
    /// Fixed keys (tests, or a service that holds the keys itself).
    Static,
    /// A JWKS URL, fetched lazily and again when an unknown `kid` shows up.
    Remote(Arc<RemoteKeys>),
}

/// A fetch of the JWKS that every waiter shares; it yields whether it succeeded.
type SharedFetch = Shared<BoxFuture<'static, bool>>;

struct RemoteKeys {
    url: String,
    http: reqwest::Client,
    cooldown: Duration,
    /// Held only to read or change the fields, never across an await.
    state: std::sync::Mutex<FetchState>,
}

#[derive(Default)]
struct FetchState {
    /// When the last fetch started; the cool-down counts from it.
    last_attempt: Option<Instant>,
    /// Whether the last finished fetch failed (cached like a success).
    last_failed: bool,
    in_flight: Option<SharedFetch>,
}

/// What a token whose `kid` is not cached should do now.
enum NextStep {
    Wait(SharedFetch),
    /// Within the cool-down: answer from what is known.
    Refuse {
        last_failed: bool,
    },
}

/// Verifies access tokens against a set of public keys.
pub struct JwksVerifier {
    policy: TokenPolicy,
    keys: Arc<RwLock<HashMap<String, Arc<VerifyKey>>>>,
    source: KeySource,
}

impl fmt::Debug for JwksVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<String> = self
            .keys
            .read()
            .map(|k| k.keys().cloned().collect())
            .unwrap_or_default();
        f.debug_struct("JwksVerifier")
            .field("policy", &self.policy)
            .field("kids", &kids)
            .finish()
    }
}

/// The usable keys of `jwks` by `kid`: only EdDSA and P-256 ES256 keys.
fn usable_keys(jwks: &JwkSet) -> HashMap<String, Arc<VerifyKey>> {
    let mut fresh = HashMap::new();
    for jwk in &jwks.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        let algorithm = match &jwk.algorithm {
            jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(_) => Algorithm::EdDSA,
            jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(p)
                if p.curve == jsonwebtoken::jwk::EllipticCurve::P256 =>
            {
                Algorithm::ES256
            }
            // Symmetric and RSA keys are never accepted, whatever a JWKS contains.
            _ => continue,
        };
        if let Ok(key) = DecodingKey::from_jwk(jwk) {
            fresh.insert(kid, Arc::new(VerifyKey { key, algorithm }));
        }
    }
    fresh
}

fn install(keys: &RwLock<HashMap<String, Arc<VerifyKey>>>, jwks: &JwkSet) {
    let fresh = usable_keys(jwks);
    if let Ok(mut keys) = keys.write() {
        *keys = fresh;
    }
}

impl RemoteKeys {
    fn lock(&self) -> std::sync::MutexGuard<'_, FetchState> {
        // The state is plain data; a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Joins the running fetch, starts one, or refuses within the cool-down.
    fn next_step(
        self: &Arc<Self>,
        keys: &Arc<RwLock<HashMap<String, Arc<VerifyKey>>>>,
    ) -> NextStep {
        let mut state = self.lock();
        if let Some(fetch) = &state.in_flight {
            return NextStep::Wait(fetch.clone());
        }
        if state
            .last_attempt
            .is_some_and(|t| t.elapsed() < self.cooldown)
        {
            return NextStep::Refuse {
                last_failed: state.last_failed,
            };
        }
        state.last_attempt = Some(Instant::now());
        let (remote, keys) = (self.clone(), keys.clone());
        // Spawned, so the fetch finishes (and clears `in_flight`) even when every request
        // waiting for it is cancelled.
        let task = tokio::spawn(async move {
            let fetched = async {
                let resp = remote
                    .http
                    .get(&remote.url)
                    .send()
                    .await
                    .ok()?
                    .error_for_status()
                    .ok()?;
                resp.json::<JwkSet>().await.ok()
            }
            .await;
            let ok = fetched.is_some();
            match &fetched {
                Some(jwks) => install(&keys, jwks),
                None => {
                    tracing::warn!(url = %remote.url, "JWKS fetch failed; keeping the cached keys")
                }
            }
            let mut state = remote.lock();
            state.last_failed = !ok;
            state.in_flight = None;
            ok
        });
        let fetch: SharedFetch = async move { task.await.unwrap_or(false) }.boxed().shared();
        state.in_flight = Some(fetch.clone());
        NextStep::Wait(fetch)
    }
}

impl JwksVerifier {
    /// The default shortest time between two JWKS fetches triggered by unknown `kid`s.
    pub const REFRESH_COOLDOWN: Duration = Duration::from_secs(10);

    /// Verifies against keys fetched from `url` (the users service's `/.well-known/jwks.json`).
    pub fn remote(url: impl Into<String>, policy: TokenPolicy) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            policy,
            keys: Arc::new(RwLock::new(HashMap::new())),
            source: KeySource::Remote(Arc::new(RemoteKeys {
                url: url.into(),
                http,
                cooldown: Self::REFRESH_COOLDOWN,
                state: std::sync::Mutex::new(FetchState::default()),
            })),
        }
    }

    /// Changes the shortest time between two fetches of a remote JWKS.
    pub fn with_refresh_cooldown(mut self, cooldown: Duration) -> Self {
        if let KeySource::Remote(remote) = &mut self.source
            && let Some(remote) = Arc::get_mut(remote)
        {
            remote.cooldown = cooldown;
        }
        self
    }

    /// Verifies against a fixed key set.
    pub fn from_jwks(jwks: &JwkSet, policy: TokenPolicy) -> Self {
        let verifier = Self {
            policy,
            keys: Arc::new(RwLock::new(HashMap::new())),
            source: KeySource::Static,
        };
        install(&verifier.keys, jwks);
        verifier
    }

    pub fn policy(&self) -> &TokenPolicy {
        &self.policy
    }

    fn cached(&self, kid: &str) -> Option<Arc<VerifyKey>> {
        self.keys.read().ok().and_then(|k| k.get(kid).cloned())
    }

    fn have_keys(&self) -> bool {
        self.keys.read().map(|k| !k.is_empty()).unwrap_or(false)
    }

    async fn key_for(&self, kid: &str) -> Result<Arc<VerifyKey>, AuthError> {
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let KeySource::Remote(remote) = &self.source else {
            return Err(AuthError::UnknownKey);
        };
        let fetched = match remote.next_step(&self.keys) {
            NextStep::Wait(fetch) => fetch.await,
            NextStep::Refuse { last_failed } => !last_failed,
        };
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        // Without any key, nothing can be verified: that is an outage, not a bad token.
        if !fetched && !self.have_keys() {
            Err(AuthError::KeysUnavailable)
        } else {
            Err(AuthError::UnknownKey)
        }
    }

    /// Verifies signature, algorithm, expiry, issuer and audience, and returns the caller.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        if !matches!(header.alg, Algorithm::EdDSA | Algorithm::ES256) {
            return Err(AuthError::UnsupportedAlgorithm);
        }
        let kid = header.kid.ok_or(AuthError::UnknownKey)?;
        let key = self.key_for(&kid).await?;
        if key.algorithm != header.alg {
            return Err(AuthError::UnsupportedAlgorithm);
        }
        let mut validation = Validation::new(key.algorithm);
        validation.set_issuer(&[&self.policy.issuer]);
        validation.set_audience(&[&self.policy.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.policy.leeway.as_secs();
        validation.validate_nbf = true;
        let data =
            jsonwebtoken::decode::<TimedClaims>(token, &key.key, &validation).map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                match e.kind() {
                    K::ExpiredSignature => AuthError::Expired,
                    K::ImmatureSignature => AuthError::NotYetValid,
                    K::InvalidIssuer => AuthError::WrongIssuer,
                    K::InvalidAudience => AuthError::WrongAudience,
                    K::InvalidSignature => AuthError::InvalidSignature,
                    K::InvalidAlgorithm => AuthError::UnsupportedAlgorithm,
                    _ => AuthError::Malformed,
                }
            })?;
        let latest = chrono::Utc::now()
            .timestamp()
            .saturating_add(i64::try_from(self.policy.leeway.as_secs()).unwrap_or(i64::MAX));
        if data.claims.nbf.is_some_and(|nbf| nbf > latest) {
            return Err(AuthError::NotYetValid);
        }
        if data.claims.claims.iat > latest {
            return Err(AuthError::IssuedInFuture);
        }
        let user_id = Uuid::parse_str(&data.claims.claims.sub).map_err(|_| AuthError::Malformed)?;
        Ok(Principal {
            user_id,
            role: data.claims.claims.role,
        })
    }

    /// The caller an `Authorization` header names: `Ok(None)` without the header, which never
    /// looks at the keys (so anonymous requests do not wait for a JWKS fetch).
    pub async fn caller(&self, headers: &http::HeaderMap) -> Result<Option<Principal>, AuthError> {
        match bearer_token(headers)? {
            None => Ok(None),
            Some(token) => self.verify(token).await.map(Some),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the private key is not a PKCS#8 Ed25519 key in PEM form")]
    InvalidPem,
    #[error("token signing failed: {0}")]
    Signing(String),
}

/// The DER prefix of a PKCS#8 v1 Ed25519 private key (RFC 8410); the 32-byte seed follows.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// An Ed25519 key that signs access tokens, identified by its `kid`.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    pkcs8_der: Vec<u8>,
    encoding: EncodingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let seed: [u8; 32] = rand::random();
        let mut der = ED25519_PKCS8_PREFIX.to_vec();
        der.extend_from_slice(&seed);
        let kid = Self::kid_for(&der);
        Self {
            kid,
            encoding: EncodingKey::from_ed_der(&der),
            pkcs8_der: der,
        }
    }

    /// Loads a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), as `openssl genpkey -algorithm ed25519` writes.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let body: String = pem
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("-----") && !l.is_empty())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| KeyError::InvalidPem)?;
        if der.len() != 48 || der[..16] != ED25519_PKCS8_PREFIX {
            return Err(KeyError::InvalidPem);
        }
        let kid = Self::kid_for(&der);
        Ok(Self {
            kid,
            encoding: EncodingKey::from_ed_der(&der),
            pkcs8_der: der,
        })
    }

    pub fn to_pem(&self) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.pkcs8_der);
        format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n")
    }

    /// A stable id derived from the key, so the same PEM always has the same `kid`.
    fn kid_for(der: &[u8]) -> String {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(der);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..12])
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half as a JWK with `kid`, `alg` and `use`.
    pub fn public_jwk(&self) -> Result<Jwk, KeyError> {
        let mut jwk = Jwk::from_encoding_key(&self.encoding, Algorithm::EdDSA)
            .map_err(|e| KeyError::Signing(e.to_string()))?;
        jwk.common.key_id = Some(self.kid.clone());
        jwk.common.key_algorithm = Some(KeyAlgorithm::EdDSA);
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(jwk)
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, KeyError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| KeyError::Signing(e.to_string()))
    }
}

/// The JWKS publishing the public halves of `keys`.
pub fn jwks_of<'a>(keys: impl IntoIterator<Item = &'a SigningKey>) -> Result<JwkSet, KeyError> {
    Ok(JwkSet {
        keys: keys
            .into_iter()
            .map(SigningKey::public_jwk)
            .collect::<Result<_, _>>()?,
    })
}

/// Claims for a new access token, valid for `ttl` from now.
pub fn new_claims(policy: &TokenPolicy, user_id: Uuid, role: Role, ttl: Duration) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        iss: policy.issuer.clone(),
        aud: policy.audience.clone(),
        sub: user_id.to_string(),
        exp: now + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2),
        iat: now,
        jti: Uuid::now_v7().to_string(),
        role,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (SigningKey, JwksVerifier) {
        let key = SigningKey::generate();
        let verifier = JwksVerifier::from_jwks(&jwks_of([&key]).unwrap(), TokenPolicy::default());
        (key, verifier)
    }

    fn token(key: &SigningKey, f: impl FnOnce(&mut Claims)) -> String {
        let mut claims = new_claims(
            &TokenPolicy::default(),
            Uuid::now_v7(),
            Role::Customer,
            Duration::from_secs(60),
        );
        f(&mut claims);
        key.sign(&claims).unwrap()
    }

    #[tokio::test]
    async fn accepts_a_valid_token() {
        let (key, verifier) = setup();
        let user = Uuid::now_v7();
        let t = token(&key, |c| {
            c.sub = user.to_string();
            c.role = Role::Admin;
        });
        assert_eq!(
            verifier.verify(&t).await.unwrap(),
            Principal {
                user_id: user,
                role: Role::Admin
            }
        );
    }

    #[tokio::test]
    async fn rejects_expired_foreign_and_forged_tokens() {
        let (key, verifier) = setup();
        let expired = token(&key, |c| c.exp = chrono::Utc::now().timestamp() - 3600);
        assert_eq!(verifier.verify(&expired).await, Err(AuthError::Expired));
        let other_iss = token(&key, |c| c.iss = "someone-else".into());
        assert_eq!(
            verifier.verify(&other_iss).await,
            Err(AuthError::WrongIssuer)
        );
        let other_aud = token(&key, |c| c.aud = "another-api".into());
        assert_eq!(
            verifier.verify(&other_aud).await,
            Err(AuthError::WrongAudience)
        );
        let stranger = SigningKey::generate();
        assert_eq!(
            verifier.verify(&token(&stranger, |_| {})).await,
            Err(AuthError::UnknownKey)
        );
        // A stranger's signature under a trusted kid.
        let mut forged = token(&stranger, |_| {});
        forged = forged.replacen(&base64_header(stranger.kid()), &base64_header(key.kid()), 1);
        assert!(matches!(
            verifier.verify(&forged).await,
            Err(AuthError::InvalidSignature | AuthError::Malformed)
        ));
    }

    /// Signs arbitrary claims (for claims [`Claims`] has no field for).
    fn sign_json(key: &SigningKey, claims: &serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid().to_owned());
        jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
    }

    fn json_claims(key: &SigningKey, f: impl FnOnce(&mut serde_json::Value)) -> String {
        let claims = new_claims(
            &TokenPolicy::default(),
            Uuid::now_v7(),
            Role::Customer,
            Duration::from_secs(3600),
        );
        let mut value = serde_json::to_value(claims).unwrap();
        f(&mut value);
        sign_json(key, &value)
    }

    #[tokio::test]
    async fn refuses_tokens_not_valid_yet_or_issued_in_the_future() {
        let (key, verifier) = setup();
        let now = chrono::Utc::now().timestamp();
        // The default leeway is 30 s: ten minutes ahead is beyond it.
        let not_yet = json_claims(&key, |c| c["nbf"] = (now + 600).into());
        assert_eq!(verifier.verify(&not_yet).await, Err(AuthError::NotYetValid));
        let from_the_future = token(&key, |c| c.iat = now + 600);
        assert_eq!(
            verifier.verify(&from_the_future).await,
            Err(AuthError::IssuedInFuture)
        );
        // Within the leeway, and in the past, both are fine.
        let skewed = json_claims(&key, |c| {
            c["nbf"] = (now + 10).into();
            c["iat"] = (now + 10).into();
        });
        assert!(verifier.verify(&skewed).await.is_ok());
        let started = json_claims(&key, |c| c["nbf"] = (now - 60).into());
        assert!(verifier.verify(&started).await.is_ok());
    }

    fn base64_header(kid: &str) -> String {
        let json = format!(r#"{{"typ":"JWT","alg":"EdDSA","kid":"{kid}"}}"#);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    #[tokio::test]
    async fn rejects_alg_none_and_hmac() {
        let (key, verifier) = setup();
        let valid = token(&key, |_| {});
        let payload = valid.split('.').nth(1).unwrap();
        let none_header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!(r#"{{"alg":"none","kid":"{}"}}"#, key.kid()));
        assert!(
            verifier
                .verify(&format!("{none_header}.{payload}."))
                .await
                .is_err()
        );
        let hs_header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!(r#"{{"alg":"HS256","kid":"{}"}}"#, key.kid()));
        assert_eq!(
            verifier
                .verify(&format!("{hs_header}.{payload}.c2ln"))
                .await,
            Err(AuthError::UnsupportedAlgorithm)
        );
    }

    #[test]
    fn pem_round_trip_keeps_kid() {
        let key = SigningKey::generate();
        let again = SigningKey::from_pem(&key.to_pem()).unwrap();
        assert_eq!(key.kid(), again.kid());
        assert!(
            SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
                .is_err()
        );
    }

    #[test]
    fn bearer_header_parsing() {
        let mut h = http::HeaderMap::new();
        assert_eq!(bearer_token(&h), Ok(None));
        h.insert(http::header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer_token(&h), Err(AuthError::MalformedHeader));
        h.insert(
            http::header::AUTHORIZATION,
            "Bearer abc.def".parse().unwrap(),
        );
        assert_eq!(bearer_token(&h), Ok(Some("abc.def")));
    }
}
