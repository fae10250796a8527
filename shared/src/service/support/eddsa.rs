//! `jsonwebtoken`'s cryptography, reduced to the one algorithm Teamgate's tokens use: EdDSA
//! (Ed25519) on ring, the library the AWS clients' TLS uses too. The binaries link no RSA, ECDSA
//! or HMAC code for tokens, and a token of any other algorithm is refused here as well as by the
//! pinned `Validation` in `access.rs`.

use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use ring::signature::{ED25519, Ed25519KeyPair, UnparsedPublicKey};

static EDDSA_ON_RING: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    jwk_utils: JwkUtils::new_unimplemented(),
};

/// Makes EdDSA on ring the process's JWT cryptography, before the first token is signed or read.
pub(super) fn install() {
    // Refused once a provider is in place: ours, by an earlier call, since every token is
    // signed or read through `AccessTokens`, which calls this before anything else can.
    let _ = EDDSA_ON_RING.install_default();
}

fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    if *algorithm != Algorithm::EdDSA || key.family() != AlgorithmFamily::Ed {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    let pair =
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(key.inner()).map_err(|_| ErrorKind::InvalidEddsaKey)?;
    Ok(Box::new(EdDsaSigner(pair)))
}

fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    if *algorithm != Algorithm::EdDSA || key.family() != AlgorithmFamily::Ed {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    Ok(Box::new(EdDsaVerifier(key.as_bytes().to_vec())))
}

struct EdDsaSigner(Ed25519KeyPair);

impl Signer<Vec<u8>> for EdDsaSigner {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        Ok(self.0.sign(message).as_ref().to_vec())
    }
}

impl JwtSigner for EdDsaSigner {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

/// The raw 32-byte public key.
struct EdDsaVerifier(Vec<u8>);

impl Verifier<Vec<u8>> for EdDsaVerifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(message, signature)
            .map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for EdDsaVerifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::EdDSA
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ed25519_keys_under_eddsa_sign_or_verify() {
        let secret = b"the public key bytes, tried as an HMAC secret";
        assert!(signer(&Algorithm::HS256, &EncodingKey::from_secret(secret)).is_err());
        assert!(signer(&Algorithm::EdDSA, &EncodingKey::from_secret(secret)).is_err());
        assert!(verifier(&Algorithm::HS256, &DecodingKey::from_secret(secret)).is_err());
        assert!(verifier(&Algorithm::EdDSA, &DecodingKey::from_secret(secret)).is_err());
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let ed25519 = DecodingKey::from_ed_components(x).expect("RFC 8032's first public key");
        assert!(verifier(&Algorithm::RS256, &ed25519).is_err());
        assert!(verifier(&Algorithm::EdDSA, &ed25519).is_ok());
    }
}
