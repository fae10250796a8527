//! Access tokens: EdDSA JWTs with a `kid`, the algorithm pinned, `iss`/`aud`/`sub`/`exp` required.
//! Expiry is judged against the application's clock, so the dev server's clock moves it too.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

use crate::domain::{SessionFamilyId, UserId};
use crate::service::support::failure::InternalError;

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
    /// The session (refresh-token chain) the token was issued in: it works while that does.
    sid: String,
    /// When a second step (a TOTP or recovery code) last passed in this token's issuance:
    /// the sign-in itself or a step-up. Sensitive actions ask for one at most
    /// `STEP_UP_SECONDS` old.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mfa: Option<i64>,
}

/// The token of an `Authorization: Bearer <token>` header value (the scheme in any case); `None`
/// for another scheme or an empty token.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim()).filter(|t| !t.is_empty())
}

/// Who a valid access token speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub token_version: u32,
    pub session: SessionFamilyId,
    /// When a second step last passed for this token (`Claims::mfa`).
    pub second_step_at: Option<DateTime<Utc>>,
}

/// What an access token is issued for: whose, in which session, with which second step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grantee<'a> {
    pub user: &'a UserId,
    pub token_version: u32,
    pub session: &'a SessionFamilyId,
    pub second_step_at: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error("JWT_SIGNING_KEY is not a PEM-encoded PKCS#8 Ed25519 private key")]
    NotEd25519Pem,
    #[error(
        "JWT_PUBLIC_KEY is not a PEM-encoded Ed25519 public key (SubjectPublicKeyInfo, \
         `-----BEGIN PUBLIC KEY-----`: `openssl pkey -in jwt-signing-key.pem -pubout` prints it)"
    )]
    NotEd25519PublicPem,
}

/// What a function that holds no signing key answers when asked to mint: a misconfiguration,
/// logged and answered as an opaque 500 (`InternalError`).
#[derive(Debug, thiserror::Error)]
#[error("this function holds no signing key")]
pub struct NoSigningKey;

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { SEQUENCE { OID
/// 1.3.101.112 }, BIT STRING of 32 bytes }; the raw public key follows it.
const ED25519_SPKI_PREFIX: [u8; 12] =
    [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// Verifies access tokens with one Ed25519 public key and, where the private key is held,
/// signs them. Only the functions that mint tokens hold the private key; the others are built
/// verify-only from the public key, and their `issue` fails.
pub struct AccessTokens {
    /// Absent in a verify-only instance.
    encoding: Option<EncodingKey>,
    /// The MAC key of refresh tokens, derived from the private key (so rotating the signing key
    /// ends every refresh chain too); absent in a verify-only instance.
    refresh_key: Option<ring::hmac::Key>,
    decoding: DecodingKey,
    validation: Validation,
    kid: String,
    public_x: String,
    issuer: String,
}

/// The base64 body of a PEM, its armour lines left out.
fn pem_der(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
    STANDARD.decode(body).ok()
}

impl AccessTokens {
    /// A signer from a configured PEM (`-----BEGIN PRIVATE KEY-----`, PKCS#8 Ed25519).
    pub fn from_pem(pem: &str, issuer: &str) -> Result<Self, SigningKeyError> {
        let der = pem_der(pem).ok_or(SigningKeyError::NotEd25519Pem)?;
        Self::from_pkcs8(&der, issuer)
    }

    /// A verify-only instance from a configured public PEM (`-----BEGIN PUBLIC KEY-----`,
    /// SubjectPublicKeyInfo Ed25519, as `openssl pkey -pubout` prints it). It verifies the
    /// tokens of the matching private key and publishes the same JWKS, but never mints.
    pub fn verifier_from_pem(public_pem: &str, issuer: &str) -> Result<Self, SigningKeyError> {
        let der = pem_der(public_pem).ok_or(SigningKeyError::NotEd25519PublicPem)?;
        let public = der
            .strip_prefix(ED25519_SPKI_PREFIX.as_slice())
            .filter(|key| key.len() == 32)
            .ok_or(SigningKeyError::NotEd25519PublicPem)?;
        Self::with_keys(public, None, None, issuer).map_err(|_| SigningKeyError::NotEd25519PublicPem)
    }

    /// The same key, verify-only: what a function that mints nothing keeps of a private key.
    pub fn verifier(&self) -> Self {
        Self {
            encoding: None,
            refresh_key: None,
            decoding: self.decoding.clone(),
            validation: self.validation.clone(),
            kid: self.kid.clone(),
            public_x: self.public_x.clone(),
            issuer: self.issuer.clone(),
        }
    }

    /// Whether this instance holds the private key and so can mint.
    pub fn can_issue(&self) -> bool {
        self.encoding.is_some()
    }

    /// The public key as PEM (`-----BEGIN PUBLIC KEY-----`, SubjectPublicKeyInfo), the
    /// `JWT_PUBLIC_KEY` of the verify-only functions; the same text as
    /// `openssl pkey -in jwt-signing-key.pem -pubout` prints.
    pub fn public_pem(&self) -> String {
        let raw = URL_SAFE_NO_PAD.decode(&self.public_x).expect("our own encoding");
        let der = [ED25519_SPKI_PREFIX.as_slice(), &raw].concat();
        format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", STANDARD.encode(der))
    }

    /// A new key, for the dev server and tests (tokens die with the process).
    pub fn generate(issuer: &str) -> Self {
        let document = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .expect("the OS random source is available");
        Self::from_pkcs8(document.as_ref(), issuer).expect("a generated key is valid")
    }

    /// The PEM of a new key, for operators setting up `JWT_SIGNING_KEY`.
    pub fn generate_pem() -> String {
        let document = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .expect("the OS random source is available");
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(document.as_ref())
        )
    }

    fn from_pkcs8(der: &[u8], issuer: &str) -> Result<Self, SigningKeyError> {
        let pair =
            Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(|_| SigningKeyError::NotEd25519Pem)?;
        // A key of its own for refresh tokens, one way from the private key.
        let derived = ring::digest::digest(
            &ring::digest::SHA256,
            &[b"teamgate refresh tokens\0".as_slice(), der].concat(),
        );
        let refresh_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, derived.as_ref());
        Self::with_keys(
            pair.public_key().as_ref(),
            Some(EncodingKey::from_ed_der(der)),
            Some(refresh_key),
            issuer,
        )
        .map_err(|_| SigningKeyError::NotEd25519Pem)
    }

    /// `kid` and the JWKS's `x` derive from the raw public key alone, so a signer and the
    /// verifier of its public key agree on both.
    fn with_keys(
        public: &[u8],
        encoding: Option<EncodingKey>,
        refresh_key: Option<ring::hmac::Key>,
        issuer: &str,
    ) -> Result<Self, jsonwebtoken::errors::Error> {
        super::eddsa::install();
        let public_x = URL_SAFE_NO_PAD.encode(public);
        let thumb = ring::digest::digest(&ring::digest::SHA256, public_x.as_bytes());
        let kid = URL_SAFE_NO_PAD.encode(&thumb.as_ref()[..12]);
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[AUDIENCE]);
        validation.required_spec_claims = HashSet::from(["exp", "iss", "aud", "sub"].map(String::from));
        validation.validate_exp = false;
        Ok(Self {
            encoding,
            refresh_key,
            decoding: DecodingKey::from_ed_components(&public_x)?,
            validation,
            kid,
            public_x,
            issuer: issuer.to_owned(),
        })
    }

    /// A signed access token; an `InternalError` in a verify-only instance (a function
    /// configured without the signing key was asked to mint).
    pub fn issue(&self, grantee: &Grantee<'_>, now: DateTime<Utc>) -> Result<String, InternalError> {
        let encoding = self
            .encoding
            .as_ref()
            .ok_or_else(|| InternalError::new("issuing an access token", NoSigningKey))?;
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: AUDIENCE.to_owned(),
            sub: grantee.user.to_string(),
            iat: now.timestamp(),
            exp: now.timestamp() + ACCESS_TOKEN_SECONDS,
            tv: grantee.token_version,
            sid: grantee.session.to_string(),
            mfa: grantee.second_step_at.map(|at| at.timestamp()),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, encoding)
            .map_err(|e| InternalError::new("signing an access token", e))
    }

    /// The secret of the refresh token of `generation` in the chain `family`: a MAC under this
    /// deployment's key, so a token can be told genuine (and then, if old, copied) without the
    /// session's id being enough to forge one. An `InternalError` in a verify-only instance.
    pub fn refresh_secret(&self, family: &SessionFamilyId, generation: u32) -> Result<String, InternalError> {
        let key = self
            .refresh_key
            .as_ref()
            .ok_or_else(|| InternalError::new("making a refresh token", NoSigningKey))?;
        let tag = ring::hmac::sign(key, format!("{family}.{generation}").as_bytes());
        Ok(URL_SAFE_NO_PAD.encode(tag.as_ref()))
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
        Some(Principal {
            user_id: UserId::parse(&claims.sub)?,
            token_version: claims.tv,
            session: SessionFamilyId::parse(&claims.sid)?,
            second_step_at: claims.mfa.and_then(|at| DateTime::from_timestamp(at, 0)),
        })
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

    fn issued(tokens: &AccessTokens, user: &UserId, version: u32, now: DateTime<Utc>) -> String {
        let session = SessionFamilyId::generate();
        let grantee = Grantee { user, token_version: version, session: &session, second_step_at: None };
        tokens.issue(&grantee, now).unwrap()
    }

    #[test]
    fn a_token_verifies_until_it_expires_and_names_its_session_and_second_step() {
        let tokens = AccessTokens::generate("http://127.0.0.1:3000");
        let user = UserId::generate();
        let session = SessionFamilyId::generate();
        let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
        let grantee = Grantee { user: &user, token_version: 3, session: &session, second_step_at: Some(now) };
        let token = tokens.issue(&grantee, now).unwrap();
        assert_eq!(
            tokens.verify(&token, now),
            Some(Principal { user_id: user, token_version: 3, session, second_step_at: Some(now) })
        );
        assert_eq!(tokens.verify(&token, now + Duration::seconds(ACCESS_TOKEN_SECONDS)), None);
    }

    #[test]
    fn a_refresh_secret_is_the_signers_mac_of_its_chain_and_generation() {
        let signer = AccessTokens::from_pem(RFC8032_PRIVATE_PEM, "https://a.example").unwrap();
        let again = AccessTokens::from_pem(RFC8032_PRIVATE_PEM, "https://a.example").unwrap();
        let family = SessionFamilyId::generate();
        let secret = signer.refresh_secret(&family, 3).unwrap();
        assert_eq!(secret, again.refresh_secret(&family, 3).unwrap(), "any function holding the key agrees");
        assert_eq!(secret.len(), 43);
        assert_ne!(secret, signer.refresh_secret(&family, 4).unwrap());
        assert_ne!(secret, signer.refresh_secret(&SessionFamilyId::generate(), 3).unwrap());
        let other = AccessTokens::generate("https://a.example");
        assert_ne!(secret, other.refresh_secret(&family, 3).unwrap(), "another key, other secrets");
        assert!(signer.verifier().refresh_secret(&family, 3).is_err(), "a verifier makes none");
    }

    #[test]
    fn tokens_of_another_key_issuer_or_algorithm_are_refused() {
        let now = Utc::now();
        let ours = AccessTokens::generate("https://a.example");
        let theirs = AccessTokens::generate("https://a.example");
        let other_issuer =
            AccessTokens::from_pem(&AccessTokens::generate_pem(), "https://b.example").unwrap();
        let user = UserId::generate();
        assert_eq!(ours.verify(&issued(&theirs, &user, 0, now), now), None);
        assert_eq!(
            other_issuer.verify(&issued(&other_issuer, &user, 0, now), now).map(|p| p.token_version),
            Some(0)
        );
        let mut forged = issued(&ours, &user, 0, now);
        forged.replace_range(forged.len() - 4.., "AAAA");
        assert_eq!(ours.verify(&forged, now), None);
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
            forged.split('.').nth(1).unwrap()
        );
        assert_eq!(ours.verify(&unsigned, now), None);
    }

    /// RFC 8032's first test key, as `openssl` writes its private key and public key.
    const RFC8032_PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----\n\
        MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n\
        -----END PRIVATE KEY-----\n";
    const RFC8032_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----\n\
        MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n\
        -----END PUBLIC KEY-----\n";

    #[test]
    fn the_public_pem_is_what_openssl_derives_from_the_private_one() {
        let signer = AccessTokens::from_pem(RFC8032_PRIVATE_PEM, "https://a.example").unwrap();
        assert_eq!(signer.public_pem(), RFC8032_PUBLIC_PEM);
        let generated = AccessTokens::from_pem(&AccessTokens::generate_pem(), "https://a.example").unwrap();
        let verifier = AccessTokens::verifier_from_pem(&generated.public_pem(), "https://a.example").unwrap();
        assert_eq!(verifier.public_pem(), generated.public_pem());
    }

    #[test]
    fn a_verifier_of_the_public_key_accepts_the_signers_tokens_publishes_its_jwks_and_never_mints() {
        let now = Utc::now();
        let user = UserId::generate();
        let signer = AccessTokens::from_pem(RFC8032_PRIVATE_PEM, "https://a.example").unwrap();
        let verifier = AccessTokens::verifier_from_pem(RFC8032_PUBLIC_PEM, "https://a.example").unwrap();
        assert!(signer.can_issue() && !verifier.can_issue());
        let token = issued(&signer, &user, 7, now);
        assert_eq!(
            verifier.verify(&token, now).map(|p| (p.user_id, p.token_version)),
            Some((user.clone(), 7))
        );
        assert_eq!(verifier.jwks(), signer.jwks());
        assert_eq!(verifier.jwks()["keys"][0]["x"], "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
        let session = SessionFamilyId::generate();
        let grantee = Grantee { user: &user, token_version: 7, session: &session, second_step_at: None };
        let refused = verifier.issue(&grantee, now).unwrap_err();
        assert!(
            std::error::Error::source(&refused)
                .is_some_and(|e| e.to_string() == "this function holds no signing key"),
            "{refused:?}"
        );

        // The verify-only copy of a signer is the same key, and mints nothing either.
        let downgraded = signer.verifier();
        assert!(!downgraded.can_issue());
        assert_eq!(downgraded.verify(&token, now).map(|p| p.token_version), Some(7));
        assert_eq!(downgraded.jwks(), signer.jwks());

        // Another issuer's verifier of the same key refuses the token.
        let elsewhere = AccessTokens::verifier_from_pem(RFC8032_PUBLIC_PEM, "https://b.example").unwrap();
        assert_eq!(elsewhere.verify(&token, now), None);
    }

    #[test]
    fn only_an_ed25519_public_key_pem_makes_a_verifier() {
        let issuer = "https://a.example";
        for bad in [
            RFC8032_PRIVATE_PEM,
            "",
            "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n",
            // An X25519 key: the same length, another algorithm.
            "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VuAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n",
        ] {
            assert!(
                matches!(
                    AccessTokens::verifier_from_pem(bad, issuer),
                    Err(SigningKeyError::NotEd25519PublicPem)
                ),
                "{bad:?} was accepted"
            );
        }
        assert!(AccessTokens::from_pem(RFC8032_PUBLIC_PEM, issuer).is_err());
    }
}
