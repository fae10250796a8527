//! The KMS vault against moto's KMS: a sealed TOTP secret opens for its user only, never in the
//! clear, and a value another vault sealed is refused as such.

use shared::adapters::system::OsRng;
use shared::adapters::vault::{KmsVault, LocalVault};
use shared::ports::{Vault, VaultError};
use tests::emulators::{kms_config, kms_key};

#[tokio::test]
async fn a_secret_sealed_by_kms_opens_for_its_user_only() {
    // Given the vault of a deployment and a secret sealed for one user
    let vault = KmsVault::new(kms_config(), kms_key().await);
    let sealed = vault.seal(b"12345678901234567890", "user-1").await.expect("sealed");
    assert!(sealed.starts_with("kms:") && !sealed.contains("12345678901234567890"), "{sealed}");

    // Then it opens for that user, and not for another (a value copied onto another record)
    assert_eq!(vault.open(&sealed, "user-1").await.expect("opened"), b"12345678901234567890");
    assert!(matches!(vault.open(&sealed, "user-2").await, Err(VaultError::Unopenable)));

    // And a value the dev server's vault sealed, or a damaged one, is refused as unopenable
    let local = LocalVault::generate(Box::new(OsRng)).seal(b"secret", "user-1").await.expect("sealed");
    assert!(matches!(vault.open(&local, "user-1").await, Err(VaultError::Unopenable)));
    assert!(matches!(vault.open("kms:not base64!", "user-1").await, Err(VaultError::Unopenable)));
}

#[tokio::test]
async fn an_unreachable_key_service_is_unavailable_not_unopenable() {
    let vault = KmsVault::new(kms_config().endpoint_url("http://127.0.0.1:9"), kms_key().await);
    assert!(matches!(vault.seal(b"secret", "user-1").await, Err(VaultError::Unavailable(_))));
}

#[tokio::test]
async fn a_throttling_key_service_is_unavailable_and_a_refusing_one_failed() {
    use tests::faults::{Fault, FaultProxy};
    let proxy = FaultProxy::start(&tests::emulators::emulators().moto).await;
    let config = kms_config()
        .endpoint_url(&proxy.endpoint)
        .retry_config(shared::adapters::aws::KMS.retries())
        .timeout_config(shared::adapters::aws::KMS.timeouts());
    let vault = KmsVault::new(config, kms_key().await);

    proxy.always(Fault::Throttled);
    assert!(matches!(vault.seal(b"secret", "user-1").await, Err(VaultError::Unavailable(_))));
    assert_eq!(proxy.faults().len(), shared::adapters::aws::KMS.max_attempts as usize, "retried");

    proxy.always(Fault::Refused);
    assert!(matches!(vault.seal(b"secret", "user-1").await, Err(VaultError::Failed(_))));
    assert_eq!(proxy.faults().len(), 4, "a refusal is not retried");
}
