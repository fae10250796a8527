//! A login: one person, with their password and their live password-reset links.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::email::Email;
use super::ids::UserId;
use super::locale::Locale;
use super::phone::Phone;
use super::profile::{Profile, ProfileInput};
use super::totp::SecondFactor;

/// A login. The password hash is absent until the person sets one through an emailed link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<Phone>,
    pub locale: Option<Locale>,
    pub password_hash: Option<String>,
    /// Raised by a password change or reset; tokens minted under an older version stop working.
    pub token_version: u32,
    /// The password-reset links that may still work, oldest first, at most `LIVE_RESET_LINKS`
    /// unexpired: a new request never kills a link the person already holds.
    #[serde(default)]
    pub reset_links: Vec<ResetLink>,
    pub created_at: DateTime<Utc>,
    /// Raised by every change, so writes can require the state they read.
    #[serde(default)]
    pub version: u32,
    /// How many memberships the user has (a store keeps it, with `version`, in the same write as
    /// each membership it adds or removes), so a removal knows from this item alone whether it
    /// takes the user's last membership. `None` for a user stored before it was counted.
    #[serde(default)]
    pub memberships: Option<u32>,
    /// Two-step verification: on once confirmed with a first code (`SecondFactor::is_on`).
    #[serde(default)]
    pub second_factor: Option<SecondFactor>,
}

/// Why a change of a person's two-step verification is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecondFactorRefusal {
    #[error("two-step verification is already on")]
    AlreadyOn,
    #[error("no enrollment is in progress")]
    NotEnrolling,
    #[error("two-step verification is off")]
    NotOn,
    #[error("this code was already used")]
    Replayed,
    #[error("no such recovery code")]
    UnknownRecoveryCode,
}

/// One password-reset link: the SHA-256 of its secret and when it dies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetLink {
    pub hash: String,
    pub expires_at: DateTime<Utc>,
}

/// How many password-reset links of one person work at once. While that many are live a new
/// request mails nothing: so at most this many reset mails reach a person in a link's lifetime,
/// and nobody's requests can retire a link someone else holds.
pub const LIVE_RESET_LINKS: usize = 3;

impl User {
    /// The user with one more reset link, or `None` while `LIVE_RESET_LINKS` are live at `now`.
    pub fn with_reset_link(self, link: ResetLink, now: DateTime<Utc>) -> Option<Self> {
        let mut links: Vec<ResetLink> =
            self.reset_links.iter().filter(|l| l.expires_at > now).cloned().collect();
        if links.len() >= LIVE_RESET_LINKS {
            return None;
        }
        links.push(link);
        Some(Self { reset_links: links, version: self.version + 1, ..self })
    }

    /// The user with one more membership (an invitation into another account).
    pub fn joined(self) -> Self {
        Self { memberships: self.memberships.map(|n| n + 1), version: self.version + 1, ..self }
    }

    /// The user invited again into a membership they already have, one left waiting (the same
    /// membership, replaced: the count stays).
    pub fn reinvited(self) -> Self {
        Self { version: self.version + 1, ..self }
    }

    /// The user with one membership fewer.
    pub fn left_membership(self) -> Self {
        Self { memberships: self.memberships.map(|n| n.saturating_sub(1)), version: self.version + 1, ..self }
    }

    /// Whether the user's only membership is the one being removed: `None` when the user was
    /// stored before memberships were counted (the caller then asks the memberships themselves).
    pub fn has_one_membership(&self) -> Option<bool> {
        self.memberships.map(|n| n <= 1)
    }

    /// Whether `hash` is one of the user's reset links, still live at `now`.
    pub fn has_reset_link(&self, hash: &str, now: DateTime<Utc>) -> bool {
        self.reset_links.iter().any(|l| l.hash == hash && l.expires_at > now)
    }

    /// The user with a new password: every session and every reset link ends.
    pub fn with_password(self, phc: String) -> Self {
        Self {
            password_hash: Some(phc),
            token_version: self.token_version + 1,
            reset_links: Vec::new(),
            version: self.version + 1,
            ..self
        }
    }

    /// The user once they used an invitation link: the profile fields given and, when they had
    /// no password yet, their first one (which, like any password change, ends their reset links).
    pub fn accepting(self, profile: Profile, first_password: Option<String>) -> Self {
        let user = self.with_profile(profile, None);
        match first_password {
            Some(phc) => Self { password_hash: Some(phc), reset_links: Vec::new(), ..user },
            None => user,
        }
    }

    /// The user with the profile fields given (the others kept) and, if given, a language.
    pub fn with_profile(self, profile: Profile, locale: Option<Option<Locale>>) -> Self {
        Self {
            first_name: profile.first_name.map(|n| n.to_string()).or(self.first_name),
            last_name: profile.last_name.map(|n| n.to_string()).or(self.last_name),
            phone: profile.phone.or(self.phone),
            locale: locale.unwrap_or(self.locale),
            version: self.version + 1,
            ..self
        }
    }

    /// Whether a second step guards this login.
    pub fn has_second_factor(&self) -> bool {
        self.second_factor.as_ref().is_some_and(SecondFactor::is_on)
    }

    /// The user with an enrollment in progress on a new secret (one begun before is replaced:
    /// only the secret last shown can be confirmed).
    pub fn enrolling(self, sealed_secret: String) -> Result<Self, SecondFactorRefusal> {
        if self.has_second_factor() {
            return Err(SecondFactorRefusal::AlreadyOn);
        }
        let factor =
            SecondFactor { sealed_secret, confirmed_at: None, last_step: 0, recovery_hashes: Vec::new() };
        Ok(Self { second_factor: Some(factor), version: self.version + 1, ..self })
    }

    /// The user with two-step verification on: the enrollment's first code (of `step`) was
    /// right, and these recovery codes (their hashes) are the ones that work. Every session
    /// ends (the token version rises): one begun with the password alone, by someone who had
    /// it, must not outlive the second step.
    pub fn confirming(
        self,
        step: u64,
        recovery_hashes: Vec<String>,
        now: DateTime<Utc>,
    ) -> Result<Self, SecondFactorRefusal> {
        match self.second_factor {
            Some(factor) if !factor.is_on() => Ok(Self {
                second_factor: Some(SecondFactor {
                    confirmed_at: Some(now),
                    last_step: step,
                    recovery_hashes,
                    ..factor
                }),
                version: self.version + 1,
                token_version: self.token_version + 1,
                ..self
            }),
            Some(_) => Err(SecondFactorRefusal::AlreadyOn),
            None => Err(SecondFactorRefusal::NotEnrolling),
        }
    }

    /// The user once a code of `step` passed: that step and every earlier one are spent, so
    /// a code is accepted once (a code seen over a shoulder or in a log opens nothing).
    pub fn passed_code(self, step: u64) -> Result<Self, SecondFactorRefusal> {
        match self.second_factor {
            Some(factor) if factor.is_on() && step > factor.last_step => Ok(Self {
                second_factor: Some(SecondFactor { last_step: step, ..factor }),
                version: self.version + 1,
                ..self
            }),
            Some(factor) if factor.is_on() => Err(SecondFactorRefusal::Replayed),
            _ => Err(SecondFactorRefusal::NotOn),
        }
    }

    /// The user once the recovery code of `hash` was used: it never works again.
    pub fn spent_recovery_code(self, hash: &str) -> Result<Self, SecondFactorRefusal> {
        match self.second_factor {
            Some(mut factor) if factor.is_on() => {
                let before = factor.recovery_hashes.len();
                factor.recovery_hashes.retain(|h| h != hash);
                if factor.recovery_hashes.len() == before {
                    return Err(SecondFactorRefusal::UnknownRecoveryCode);
                }
                Ok(Self { second_factor: Some(factor), version: self.version + 1, ..self })
            }
            _ => Err(SecondFactorRefusal::NotOn),
        }
    }

    /// The user with two-step verification off, turned off by the person themselves.
    pub fn without_second_factor(self) -> Result<Self, SecondFactorRefusal> {
        if !self.has_second_factor() {
            return Err(SecondFactorRefusal::NotOn);
        }
        Ok(Self { second_factor: None, version: self.version + 1, ..self })
    }

    /// The user whose two-step verification an owner reset (a lost phone): it is off and every
    /// session ends, so whoever holds one signs in again and the person enrolls anew.
    pub fn second_factor_reset(self) -> Result<Self, SecondFactorRefusal> {
        let user = self.without_second_factor()?;
        Ok(Self { token_version: user.token_version + 1, ..user })
    }

    /// The user with every session ended (signing out everywhere): the token version rises.
    pub fn signed_out_everywhere(self) -> Self {
        Self { token_version: self.token_version + 1, version: self.version + 1, ..self }
    }

    /// The profile the person already gave, as input to the preset's rules.
    pub fn profile(&self) -> ProfileInput {
        ProfileInput {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            phone: self.phone.as_ref().map(|p| p.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{at, user};
    use chrono::Duration;

    fn link(n: i64, expires_at: DateTime<Utc>) -> ResetLink {
        ResetLink { hash: format!("hash-{n}"), expires_at }
    }

    #[test]
    fn at_most_three_reset_links_live_and_a_fourth_request_retires_none() {
        let now = at(0);
        let mut person = user();
        for n in 0..LIVE_RESET_LINKS as i64 {
            person = person.with_reset_link(link(n, now + Duration::hours(1)), now).expect("room for it");
        }
        assert_eq!(person.version, 3);
        assert!(person.clone().with_reset_link(link(9, now + Duration::hours(1)), now).is_none());
        assert!(person.has_reset_link("hash-0", now), "the oldest still works");
        let later = now + Duration::hours(1);
        assert!(!person.has_reset_link("hash-0", later), "a link dies with its hour");
        assert!(person.with_reset_link(link(9, later + Duration::hours(1)), later).is_some());
    }

    #[test]
    fn a_new_password_ends_every_session_and_every_reset_link() {
        let now = at(0);
        let person = user().with_reset_link(link(1, now + Duration::hours(1)), now).expect("room");
        let changed = person.with_password("$argon2id$...".into());
        assert_eq!((changed.token_version, changed.version), (1, 2));
        assert!(!changed.has_reset_link("hash-1", now));
    }

    fn enrolled(now: DateTime<Utc>) -> User {
        let hashes = vec!["r1".to_owned(), "r2".to_owned()];
        user().enrolling("sealed".into()).unwrap().confirming(100, hashes, now).unwrap()
    }

    #[test]
    fn an_enrollment_turns_on_only_when_confirmed_and_never_over_a_working_one() {
        let now = at(0);
        let started = user().enrolling("sealed".into()).unwrap();
        assert!(!started.has_second_factor(), "an enrollment in progress guards nothing");
        let restarted = started.enrolling("sealed-2".into()).unwrap();
        assert_eq!(restarted.second_factor.as_ref().unwrap().sealed_secret, "sealed-2");
        let on = restarted.clone().confirming(100, vec!["r1".into()], now).unwrap();
        assert!(on.has_second_factor());
        assert_eq!(on.token_version, restarted.token_version + 1, "sessions begun before it end");
        assert_eq!(on.clone().enrolling("other".into()), Err(SecondFactorRefusal::AlreadyOn));
        assert_eq!(on.confirming(101, vec![], now), Err(SecondFactorRefusal::AlreadyOn));
        assert_eq!(user().confirming(1, vec![], now), Err(SecondFactorRefusal::NotEnrolling));
    }

    #[test]
    fn a_code_passes_once_and_never_one_of_an_earlier_step() {
        let person = enrolled(at(0));
        assert_eq!(
            person.clone().passed_code(100),
            Err(SecondFactorRefusal::Replayed),
            "the confirming code"
        );
        let passed = person.passed_code(102).unwrap();
        assert_eq!(passed.clone().passed_code(102), Err(SecondFactorRefusal::Replayed));
        assert_eq!(passed.clone().passed_code(101), Err(SecondFactorRefusal::Replayed));
        assert!(passed.passed_code(103).is_ok());
        assert_eq!(user().passed_code(5), Err(SecondFactorRefusal::NotOn));
    }

    #[test]
    fn a_recovery_code_works_once_and_an_owners_reset_ends_every_session() {
        let person = enrolled(at(0));
        let spent = person.clone().spent_recovery_code("r1").unwrap();
        assert_eq!(spent.second_factor.as_ref().unwrap().recovery_hashes, ["r2"]);
        assert_eq!(spent.clone().spent_recovery_code("r1"), Err(SecondFactorRefusal::UnknownRecoveryCode));
        let off = spent.clone().without_second_factor().unwrap();
        assert_eq!((off.has_second_factor(), off.token_version), (false, spent.token_version));
        let reset = spent.clone().second_factor_reset().unwrap();
        assert_eq!((reset.has_second_factor(), reset.token_version), (false, spent.token_version + 1));
        assert_eq!(off.without_second_factor(), Err(SecondFactorRefusal::NotOn));
    }

    #[test]
    fn the_membership_count_follows_each_membership_and_says_when_the_last_goes() {
        let person = user();
        assert_eq!(person.has_one_membership(), Some(true));
        let joined = person.clone().joined();
        assert_eq!(
            (joined.memberships, joined.version, joined.has_one_membership()),
            (Some(2), 1, Some(false))
        );
        assert_eq!(joined.clone().reinvited().memberships, Some(2), "the same membership, replaced");
        assert_eq!(joined.left_membership().memberships, Some(1));
        let uncounted = User { memberships: None, ..person };
        assert_eq!(uncounted.joined().has_one_membership(), None, "stored before it was counted");
    }
}
