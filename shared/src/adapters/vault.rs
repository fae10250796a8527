//! The vaults: AES-256-GCM under a local key (the dev server, tests), and AWS KMS (deployed).
//! Each sealed value says which vault sealed it (`local:` or `kms:`), so a value one cannot
//! open is refused as such rather than misread.

use async_trait::async_trait;
use aws_sdk_kms::config::http::HttpResponse;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::adapters::aws::sorted;
use crate::ports::{Rng, Vault, VaultError};

const LOCAL_PREFIX: &str = "local:";
const KMS_PREFIX: &str = "kms:";
/// The name of the encryption context entry KMS binds each value to.
const CONTEXT_KEY: &str = "teamgate:user";

/// AES-256-GCM with a key the process holds; the context is the associated data.
pub struct LocalVault {
    key: LessSafeKey,
    rng: Box<dyn Rng>,
}

impl LocalVault {
    /// A vault of a 32-byte key (`MFA_LOCAL_KEY`, base64); `None` for anything else.
    pub fn from_base64(key: &str, rng: Box<dyn Rng>) -> Option<Self> {
        let bytes = STANDARD.decode(key.trim()).ok().filter(|b| b.len() == 32)?;
        Some(Self::from_bytes(&bytes, rng))
    }

    /// A vault of a new key, for the dev server: what it seals dies with the process.
    pub fn generate(rng: Box<dyn Rng>) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes);
        Self::from_bytes(&bytes, rng)
    }

    fn from_bytes(bytes: &[u8], rng: Box<dyn Rng>) -> Self {
        let key = UnboundKey::new(&AES_256_GCM, bytes).expect("a 32-byte AES-256 key");
        Self { key: LessSafeKey::new(key), rng }
    }
}

#[async_trait]
impl Vault for LocalVault {
    async fn seal(&self, plaintext: &[u8], context: &str) -> Result<String, VaultError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce);
        let mut sealed = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut sealed)
            .map_err(|_| VaultError::Unopenable)?;
        Ok(format!("{LOCAL_PREFIX}{}", STANDARD.encode([nonce.as_slice(), &sealed].concat())))
    }

    async fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, VaultError> {
        let bytes = sealed
            .strip_prefix(LOCAL_PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .filter(|b| b.len() > NONCE_LEN)
            .ok_or(VaultError::Unopenable)?;
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| VaultError::Unopenable)?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context), &mut body)
            .map_err(|_| VaultError::Unopenable)?;
        Ok(plain.to_vec())
    }
}

/// AWS KMS: `Encrypt` and `Decrypt` with one symmetric key, each value bound to its user by
/// the encryption context (CloudTrail shows whose secret was opened).
pub struct KmsVault {
    client: aws_sdk_kms::Client,
    key_id: String,
}

impl KmsVault {
    pub fn new(config: aws_sdk_kms::config::Builder, key_id: String) -> Self {
        Self { client: aws_sdk_kms::Client::from_conf(config.build()), key_id }
    }
}

/// A failed KMS call: an outage (`Unavailable`) or a fault (`Failed`).
fn call_failed<E>(error: SdkError<E, HttpResponse>) -> VaultError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    sorted(error, VaultError::Unavailable, VaultError::Failed)
}

#[async_trait]
impl Vault for KmsVault {
    async fn seal(&self, plaintext: &[u8], context: &str) -> Result<String, VaultError> {
        let output = self
            .client
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(plaintext))
            .encryption_context(CONTEXT_KEY, context)
            .send()
            .await
            .map_err(call_failed)?;
        let blob = output.ciphertext_blob().ok_or(VaultError::Unopenable)?;
        Ok(format!("{KMS_PREFIX}{}", STANDARD.encode(blob.as_ref())))
    }

    async fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, VaultError> {
        let blob = sealed
            .strip_prefix(KMS_PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .ok_or(VaultError::Unopenable)?;
        let output = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(blob))
            .encryption_context(CONTEXT_KEY, context)
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(
                    aws_sdk_kms::operation::decrypt::DecryptError::InvalidCiphertextException(_)
                    | aws_sdk_kms::operation::decrypt::DecryptError::IncorrectKeyException(_),
                ) => VaultError::Unopenable,
                _ => call_failed(e),
            })?;
        output.plaintext().map(|p| p.as_ref().to_vec()).ok_or(VaultError::Unopenable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::system::OsRng;

    #[tokio::test]
    async fn a_locally_sealed_secret_opens_only_for_its_context_and_key() {
        let vault = LocalVault::generate(Box::new(OsRng));
        let sealed = vault.seal(b"secret", "user-1").await.unwrap();
        assert!(sealed.starts_with("local:") && !sealed.contains("secret"));
        assert_eq!(vault.open(&sealed, "user-1").await.unwrap(), b"secret");
        assert!(matches!(vault.open(&sealed, "user-2").await, Err(VaultError::Unopenable)));
        let other = LocalVault::generate(Box::new(OsRng));
        assert!(matches!(other.open(&sealed, "user-1").await, Err(VaultError::Unopenable)));
        assert!(matches!(vault.open("kms:AAAA", "user-1").await, Err(VaultError::Unopenable)));
        assert_ne!(vault.seal(b"secret", "user-1").await.unwrap(), sealed, "a fresh nonce each time");
    }

    #[test]
    fn a_local_key_is_32_bytes_of_base64() {
        assert!(LocalVault::from_base64(&STANDARD.encode([7u8; 32]), Box::new(OsRng)).is_some());
        assert!(LocalVault::from_base64(&STANDARD.encode([7u8; 16]), Box::new(OsRng)).is_none());
        assert!(LocalVault::from_base64("not base64!", Box::new(OsRng)).is_none());
    }
}
