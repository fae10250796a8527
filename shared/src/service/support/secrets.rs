//! Link and refresh secrets: random, sent once, stored only as SHA-256.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::SessionFamilyId;
use crate::ports::Rng;

/// Bytes of randomness in every link and refresh secret.
const SECRET_BYTES: usize = 32;

/// A fresh secret: 32 random bytes, base64url without padding (43 characters).
pub fn new_secret(rng: &dyn Rng) -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rng.fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a secret: lowercase hex SHA-256.
pub fn hash_secret(secret: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a presented string has the shape of a secret we minted; other input is not looked up.
pub fn is_well_formed(secret: &str) -> bool {
    secret.len() == 43 && URL_SAFE_NO_PAD.decode(secret).is_ok_and(|b| b.len() == SECRET_BYTES)
}

/// Equality that takes the same time wherever the inputs differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()).into()
}

/// A refresh token names its chain and carries the chain's current secret: `<family>.<secret>`.
pub fn refresh_token(family: &SessionFamilyId, secret: &str) -> String {
    format!("{family}.{secret}")
}

pub fn parse_refresh_token(token: &str) -> Option<(SessionFamilyId, &str)> {
    let (family, secret) = token.split_once('.')?;
    let family = SessionFamilyId::parse(family)?;
    is_well_formed(secret).then_some((family, secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::system::OsRng;

    #[test]
    fn secrets_are_distinct_well_formed_and_hash_to_hex() {
        let (a, b) = (new_secret(&OsRng), new_secret(&OsRng));
        assert_ne!(a, b);
        assert!(is_well_formed(&a));
        assert!(!is_well_formed(&a[1..]));
        assert_eq!(hash_secret(&a).len(), 64);
        assert_eq!(hash_secret(&a), hash_secret(&a));
    }

    #[test]
    fn refresh_tokens_round_trip_and_reject_garbage() {
        let family = SessionFamilyId::generate();
        let secret = new_secret(&OsRng);
        let token = refresh_token(&family, &secret);
        assert_eq!(parse_refresh_token(&token), Some((family, secret.as_str())));
        assert_eq!(parse_refresh_token("nope"), None);
        assert_eq!(parse_refresh_token(&format!("{}.short", SessionFamilyId::generate())), None);
    }
}
