//! Access tokens: EdDSA JWTs with a `kid`, the algorithm pinned, `iss`/`aud`/`sub`/`exp` required.
//! Expiry is judged against the application's clock, so the dev server's clock moves it too.

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

use crate::domain::UserId;

/// Lifetime of an access token, in seconds (API: `expires_in: 900`).
pub const ACCESS_TOKEN_SECONDS: i64 = 900;
const AUDIENCE: &str = "teamgate";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    iat: i64,
    exp: i64,
    /// The user's token version when issued.
    tv: u32,
}

/// Who a valid access token speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub token_version: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error("JWT_SIGNING_KEY is not a PEM-encoded PKCS#8 Ed25519 private key")]
    NotEd25519Pem,
}

/// Signs and verifies access tokens with one Ed25519 key.
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    kid: String,
    public_x: String,
    issuer: String,
}

impl AccessTokens {
    /// From a configured PEM (`-----BEGIN PRIVATE KEY-----`, PKCS#8 Ed25519).
    pub fn from_pem(pem: &str, issuer: &str) -> Result<Self, SigningKeyError> {
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
        let der = STANDARD.decode(body).map_err(|_| SigningKeyError::NotEd25519Pem)?;
        Self::from_pkcs8(&der, issuer)
    }

    /// A new key, for the dev server and tests (tokens die with the process).
    pub fn generate(issuer: &str) -> Self {
        let document = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new())
            .expect("the OS random source is available");
        Self::from_pkcs8(document.as_ref(), issuer).expect("a generated key is valid")
    }

    /// The PEM of a new key, for operators setting up `JWT_SIGNING_KEY`.
    pub fn generate_pem() -> String {
        let document = Ed25519KeyPair::generate_pkcs8(&aws_lc_rs::rand::SystemRandom::new())
            .expect("the OS random source is available");
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(document.as_ref())
        )
    }

    fn from_pkcs8(der: &[u8], issuer: &str) -> Result<Self, SigningKeyError> {
        let pair =
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(|_| SigningKeyError::NotEd25519Pem)?;
        let public_x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
        let thumb = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, public_x.as_bytes());
        let kid = URL_SAFE_NO_PAD.encode(&thumb.as_ref()[..12]);
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[AUDIENCE]);
        validation.required_spec_claims = HashSet::from(["exp", "iss", "aud", "sub"].map(String::from));
        validation.validate_exp = false;
        Ok(Self {
            encoding: EncodingKey::from_ed_der(der),
            decoding: DecodingKey::from_ed_components(&public_x)
                .map_err(|_| SigningKeyError::NotEd25519Pem)?,
            validation,
            kid,
            public_x,
            issuer: issuer.to_owned(),
        })
    }

    pub fn issue(&self, user: &UserId, token_version: u32, now: DateTime<Utc>) -> String {
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.to_owned(),
            sub: user.to_string(),
            iat: now.timestamp(),
            exp: now.timestamp() + ACCESS_TOKEN_SECONDS,
            tv: token_version,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding).expect("an Ed25519 key signs")
    }

    /// The principal of a token signed by our key, unexpired at `now`; `None` for anything else.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Option<Principal> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::EdDSA || header.kid.as_deref() != Some(self.kid.as_str()) {
            return None;
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?.claims;
        if claims.exp <= now.timestamp() {
            return None;
        }
        Some(Principal { user_id: UserId::parse(&claims.sub)?, token_version: claims.tv })
    }

    /// `GET /.well-known/jwks.json`.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({
            "keys": [{ "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": self.kid, "x": self.public_x }]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn a_token_verifies_until_it_expires() {
        let tokens = AccessTokens::generate("http://127.0.0.1:3000");
        let user = UserId::generate();
        let now = Utc::now();
        let token = tokens.issue(&user, 3, now);
        assert_eq!(tokens.verify(&token, now), Some(Principal { user_id: user, token_version: 3 }));
        assert_eq!(tokens.verify(&token, now + Duration::seconds(ACCESS_TOKEN_SECONDS)), None);
    }

    #[test]
    fn tokens_of_another_key_issuer_or_algorithm_are_refused() {
        let now = Utc::now();
        let ours = AccessTokens::generate("https://a.example");
        let theirs = AccessTokens::generate("https://a.example");
        let other_issuer =
            AccessTokens::from_pem(&AccessTokens::generate_pem(), "https://b.example").unwrap();
        let user = UserId::generate();
        assert_eq!(ours.verify(&theirs.issue(&user, 0, now), now), None);
        assert_eq!(
            other_issuer.verify(&other_issuer.issue(&user, 0, now), now).map(|p| p.token_version),
            Some(0)
        );
        let mut forged = ours.issue(&user, 0, now);
        forged.replace_range(forged.len() - 4.., "AAAA");
        assert_eq!(ours.verify(&forged, now), None);
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
            forged.split('.').nth(1).unwrap()
        );
        assert_eq!(ours.verify(&unsigned, now), None);
    }
}
