//! Link and refresh secrets: random, sent once, stored only as SHA-256.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::{AccountId, InvitationId, LinkNames, SessionFamilyId, TokenPurpose, UserId};
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

/// A link's token: a fresh secret followed by the ids of what the link names (the person, then
/// for an invitation its account and id), base64url: 64 characters for a reset link, 107 for an
/// invitation. Its token item is stored under the hash of the whole token, so the ids cannot
/// be changed without losing the link.
pub fn link_token(rng: &dyn Rng, names: &LinkNames) -> String {
    let mut bytes = vec![0u8; SECRET_BYTES];
    rng.fill(&mut bytes);
    bytes.extend_from_slice(&uuid_bytes(names.user_id.as_str()));
    if let TokenPurpose::Invitation { account_id, invitation_id } = &names.purpose {
        bytes.extend_from_slice(&uuid_bytes(account_id.as_str()));
        bytes.extend_from_slice(&uuid_bytes(invitation_id.as_str()));
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A presented link token: the hash its token item is stored under, and what it names; `None`
/// when it cannot be one of ours. A bare secret of 43 characters (links mailed before links
/// named their records) names nothing: its token item says what it leads to.
pub fn read_link_token(token: &str) -> Option<(String, Option<LinkNames>)> {
    if !matches!(token.len(), 43 | 64 | 107) {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let id = |at: usize| uuid_at(&bytes, at);
    let user_id = || UserId::parse(&id(SECRET_BYTES)?);
    let names = match bytes.len() - SECRET_BYTES {
        0 => None,
        16 => Some(LinkNames { user_id: user_id()?, purpose: TokenPurpose::PasswordReset }),
        48 => Some(LinkNames {
            user_id: user_id()?,
            purpose: TokenPurpose::Invitation {
                account_id: AccountId::parse(&id(SECRET_BYTES + 16)?)?,
                invitation_id: InvitationId::parse(&id(SECRET_BYTES + 32)?)?,
            },
        }),
        _ => return None,
    };
    Some((hash_secret(token), names))
}

/// The 16 bytes of an id that is a UUID (every id this crate generates is one).
pub(crate) fn uuid_bytes(id: &str) -> [u8; 16] {
    *uuid::Uuid::parse_str(id).expect("ids are UUIDs").as_bytes()
}

/// The id whose 16 bytes `uuid_bytes` put at `at` in `bytes`, as text; `None` past their end.
pub(crate) fn uuid_at(bytes: &[u8], at: usize) -> Option<String> {
    uuid::Uuid::from_slice(bytes.get(at..at + 16)?).ok().map(|u| u.to_string())
}

/// Equality that takes the same time wherever the inputs differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()).into()
}

/// A refresh token names its chain and generation and carries that generation's secret:
/// `<family>.<generation>.<secret>` (`AccessTokens::refresh_secret`).
pub fn refresh_token(family: &SessionFamilyId, generation: u32, secret: &str) -> String {
    format!("{family}.{generation}.{secret}")
}

/// A refresh token as presented. One minted before tokens named their generation
/// (`<family>.<secret>`, a random secret) still reads, as `Legacy`.
#[derive(Debug, PartialEq, Eq)]
pub enum PresentedRefresh<'a> {
    Current { family: SessionFamilyId, generation: u32, secret: &'a str },
    Legacy { family: SessionFamilyId, secret: &'a str },
}

impl PresentedRefresh<'_> {
    pub fn family(&self) -> &SessionFamilyId {
        match self {
            Self::Current { family, .. } | Self::Legacy { family, .. } => family,
        }
    }

    pub fn secret(&self) -> &str {
        match self {
            Self::Current { secret, .. } | Self::Legacy { secret, .. } => secret,
        }
    }
}

pub fn parse_refresh_token(token: &str) -> Option<PresentedRefresh<'_>> {
    let mut parts = token.split('.');
    let family = SessionFamilyId::parse(parts.next()?)?;
    let (second, third, rest) = (parts.next()?, parts.next(), parts.next());
    match (third, rest) {
        (None, _) => is_well_formed(second).then_some(PresentedRefresh::Legacy { family, secret: second }),
        (Some(secret), None) => {
            let generation = second.parse().ok().filter(|_| second.bytes().all(|b| b.is_ascii_digit()))?;
            is_well_formed(secret).then_some(PresentedRefresh::Current { family, generation, secret })
        }
        _ => None,
    }
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
        let token = refresh_token(&family, 7, &secret);
        assert_eq!(
            parse_refresh_token(&token),
            Some(PresentedRefresh::Current { family: family.clone(), generation: 7, secret: &secret })
        );
        let legacy = format!("{family}.{secret}");
        assert_eq!(parse_refresh_token(&legacy), Some(PresentedRefresh::Legacy { family, secret: &secret }));
        assert_eq!(parse_refresh_token("nope"), None);
        assert_eq!(parse_refresh_token(&format!("{}.short", SessionFamilyId::generate())), None);
        for generation in ["", "-1", "+1", "x", "99999999999"] {
            let bad = format!("{}.{generation}.{secret}", SessionFamilyId::generate());
            assert_eq!(parse_refresh_token(&bad), None, "{generation:?}");
        }
        assert_eq!(parse_refresh_token(&format!("{token}.{secret}")), None);
    }

    #[test]
    fn a_link_token_names_what_it_leads_to_and_a_bare_secret_names_nothing() {
        // Given an invitation link, a reset link and a link mailed before links named anything
        let user_id = UserId::generate();
        let invitation = LinkNames {
            user_id: user_id.clone(),
            purpose: TokenPurpose::Invitation {
                account_id: AccountId::generate(),
                invitation_id: InvitationId::generate(),
            },
        };
        let reset = LinkNames { user_id, purpose: TokenPurpose::PasswordReset };
        let (invite_token, reset_token) = (link_token(&OsRng, &invitation), link_token(&OsRng, &reset));
        let bare = new_secret(&OsRng);

        // Then each reads back as what it names, under the hash of the whole token
        assert_eq!((invite_token.len(), reset_token.len()), (107, 64));
        assert_eq!(read_link_token(&invite_token), Some((hash_secret(&invite_token), Some(invitation))));
        assert_eq!(read_link_token(&reset_token), Some((hash_secret(&reset_token), Some(reset))));
        assert_eq!(read_link_token(&bare), Some((hash_secret(&bare), None)));
        // And anything else is not a link
        for garbage in ["", "nope", &invite_token[1..], &format!("{reset_token}="), &"*".repeat(64)] {
            assert_eq!(read_link_token(garbage), None, "{garbage}");
        }
    }
}
