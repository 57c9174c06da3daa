//! The Ed25519 keys access tokens are signed with, and the JWKS that publishes them.
//!
//! Rotation is done through configuration: the key list's first key signs, every listed
//! key verifies. To rotate, put a new key first and keep the old one listed until the
//! tokens it signed have expired (the access-token lifetime), then remove it. This service
//! verifies its own tokens against the same list, in process, rather than fetching its own
//! JWKS over HTTP.
//!
//! Without configured keys (embedded mode, or a single-replica deployment) one key is
//! generated on first start and kept in the data folder, readable by its owner only.

use std::{path::Path, sync::Arc};

use jsonwebtoken::jwk::JwkSet;
use kit::auth::{Claims, JwksVerifier, KeyError, SigningKey, TokenPolicy, jwks_of};

const PEM_BEGIN: &str = "-----BEGIN PRIVATE KEY-----";

/// The file generated keys are kept in, inside the data folder.
pub const KEY_FILE: &str = "users-signing-keys.pem";

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("no signing key configured")]
    Empty,
    #[error("signing key #{index} is invalid: {source}")]
    InvalidKey { index: usize, source: KeyError },
    #[error("key file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl From<KeysError> for kit::ApiError {
    fn from(err: KeysError) -> Self {
        kit::ApiError::internal(err)
    }
}

/// Splits a text holding one or more PKCS#8 PEM blocks into keys. Literal `\n` sequences
/// are accepted as line breaks, since environment files often cannot hold real ones.
pub fn parse_pem_list(text: &str) -> Result<Vec<SigningKey>, KeysError> {
    let text = text.replace("\\n", "\n");
    let keys = text
        .split(PEM_BEGIN)
        .map(str::trim)
        .filter(|block| !block.is_empty())
        .enumerate()
        .map(|(index, block)| {
            SigningKey::from_pem(&format!("{PEM_BEGIN}\n{block}"))
                .map_err(|source| KeysError::InvalidKey { index, source })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(KeysError::Empty);
    }
    Ok(keys)
}

/// Reads the generated keys from `dir`, creating one key on first use.
pub fn load_or_generate(dir: &Path) -> Result<Vec<SigningKey>, KeysError> {
    let path = dir.join(KEY_FILE);
    let file_err = |source| KeysError::File {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_pem_list(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(file_err)?;
            let key = SigningKey::generate();
            match write_private(&path, key.to_pem().as_bytes()) {
                Ok(()) => {
                    tracing::info!(kid = key.kid(), "generated a token signing key");
                    Ok(vec![key])
                }
                // Another process starting at the same time wrote its key first: use that one.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    parse_pem_list(&std::fs::read_to_string(&path).map_err(file_err)?)
                }
                Err(e) => Err(file_err(e)),
            }
        }
        Err(e) => Err(file_err(e)),
    }
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// The keys in use: the first signs, all verify.
#[derive(Clone)]
pub struct KeyRing {
    keys: Arc<[SigningKey]>,
    jwks: Arc<JwkSet>,
    verifier: Arc<JwksVerifier>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(SigningKey::kid).collect();
        f.debug_struct("KeyRing").field("kids", &kids).finish()
    }
}

impl KeyRing {
    pub fn new(keys: Vec<SigningKey>, policy: TokenPolicy) -> Result<Self, KeysError> {
        if keys.is_empty() {
            return Err(KeysError::Empty);
        }
        let jwks = jwks_of(&keys)?;
        let verifier = JwksVerifier::from_jwks(&jwks, policy);
        Ok(Self {
            keys: keys.into(),
            jwks: Arc::new(jwks),
            verifier: Arc::new(verifier),
        })
    }

    /// The key new tokens are signed with.
    pub fn current(&self) -> &SigningKey {
        // The constructor refuses an empty list.
        &self.keys[0]
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, KeysError> {
        Ok(self.current().sign(claims)?)
    }

    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    pub fn verifier(&self) -> Arc<JwksVerifier> {
        self.verifier.clone()
    }

    pub fn policy(&self) -> &TokenPolicy {
        self.verifier.policy()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_several_pem_blocks_in_order() {
        let (a, b) = (SigningKey::generate(), SigningKey::generate());
        let text = format!("{}{}", a.to_pem(), b.to_pem());
        let keys = parse_pem_list(&text).expect("two keys");
        assert_eq!(
            keys.iter().map(SigningKey::kid).collect::<Vec<_>>(),
            [a.kid(), b.kid()]
        );
        let escaped = a.to_pem().replace('\n', "\\n");
        assert_eq!(parse_pem_list(&escaped).expect("escaped")[0].kid(), a.kid());
        assert!(matches!(parse_pem_list("  "), Err(KeysError::Empty)));
        assert!(matches!(
            parse_pem_list(&format!(
                "{}{PEM_BEGIN}\nAAAA\n-----END PRIVATE KEY-----",
                a.to_pem()
            )),
            Err(KeysError::InvalidKey { index: 1, .. })
        ));
    }

    #[test]
    fn generated_keys_are_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = load_or_generate(dir.path()).expect("generated");
        let again = load_or_generate(dir.path()).expect("loaded");
        assert_eq!(first[0].kid(), again[0].kid());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "only the owner may read the key file");
        }
    }

    #[tokio::test]
    async fn first_key_signs_and_every_key_verifies() {
        let (new, old) = (SigningKey::generate(), SigningKey::generate());
        let policy = TokenPolicy::default();
        let ring = KeyRing::new(vec![new.clone(), old.clone()], policy.clone()).expect("ring");
        assert_eq!(ring.current().kid(), new.kid());
        assert_eq!(ring.jwks().keys.len(), 2);
        let claims = kit::auth::new_claims(
            &policy,
            uuid::Uuid::now_v7(),
            kit::auth::Role::Customer,
            std::time::Duration::from_secs(60),
        );
        let by_old = old.sign(&claims).expect("sign");
        assert!(ring.verifier().verify(&by_old).await.is_ok());
        let without_old = KeyRing::new(vec![new], policy).expect("ring");
        assert!(without_old.verifier().verify(&by_old).await.is_err());
    }
}
