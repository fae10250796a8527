//! Password hashing with argon2id (OWASP parameters), off the async threads.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, LazyLock};

use crate::domain::Password;

use super::failure::InternalError;

/// argon2id with m = 19456 KiB, t = 2, p = 1.
#[derive(Clone)]
pub struct PasswordHasher {
    argon: Arc<Argon2<'static>>,
}

/// A hash of nothing anyone knows, verified when there is no real hash so that an unknown
/// email takes as long as a known one.
static DECOY: LazyLock<String> = LazyLock::new(|| {
    let hasher = PasswordHasher::default();
    let salt = SaltString::from_b64("ZGVjb3lkZWNveWRlY295").expect("valid salt");
    hasher.argon.hash_password(b"decoy password that nobody has", &salt).expect("hashable").to_string()
});

impl Default for PasswordHasher {
    fn default() -> Self {
        let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
        Self { argon: Arc::new(Argon2::new(Algorithm::Argon2id, Version::V0x13, params)) }
    }
}

impl PasswordHasher {
    /// A PHC string for a password that passed its policy.
    pub async fn hash(&self, password: &Password) -> Result<String, InternalError> {
        let argon = self.argon.clone();
        let raw = password.expose().to_owned();
        tokio::task::spawn_blocking(move || {
            let mut salt = [0u8; 16];
            aws_lc_rs::rand::fill(&mut salt)
                .map_err(|_| InternalError::new("random salt", "no randomness"))?;
            let salt =
                SaltString::encode_b64(&salt).map_err(|e| InternalError::new("salt", e.to_string()))?;
            argon
                .hash_password(raw.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| InternalError::new("password hash", e.to_string()))
        })
        .await
        .map_err(|e| InternalError::new("password hash task", e))?
    }

    /// Whether `raw` matches `phc`; with no hash, burns the same time and answers false.
    pub async fn verify(&self, raw: &str, phc: Option<&str>) -> bool {
        let argon = self.argon.clone();
        let known = phc.is_some();
        let phc = phc.map_or_else(|| DECOY.clone(), str::to_owned);
        let raw = raw
            .as_bytes()
            .iter()
            .take(crate::domain::password::MAX_PASSWORD_BYTES)
            .copied()
            .collect::<Vec<_>>();
        tokio::task::spawn_blocking(move || {
            PasswordHash::new(&phc).is_ok_and(|parsed| argon.verify_password(&raw, &parsed).is_ok())
        })
        .await
        .unwrap_or(false)
            && known
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PasswordPolicy;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let policy = PasswordPolicy {
            min_length: 6,
            max_length: 64,
            charset: Default::default(),
            refuse_common: false,
        };
        let password = Password::parse("password", "tulip-orbit-canvas", &policy).unwrap();
        let hasher = PasswordHasher::default();
        let phc = hasher.hash(&password).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify("tulip-orbit-canvas", Some(&phc)).await);
        assert!(!hasher.verify("tulip-orbit-canvaS", Some(&phc)).await);
        assert!(!hasher.verify("decoy password that nobody has", None).await);
    }
}
