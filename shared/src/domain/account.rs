//! A seller account: its owner, its one live owner link, and its settings.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{AccountId, InvitationId, UserId};
use super::locale::Locale;
use super::preset::{MfaPolicy, Preset};
use super::validation::FieldError;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSettings {
    /// Overrides the preset's link lifetime (only ever shorter: `with_invitation_ttl_hours`).
    pub invitation_ttl_hours: Option<u32>,
    /// Refused in addition to the preset's refused domains.
    pub blocked_email_domains: Vec<String>,
    /// Raises the preset's two-step policy (`with_mfa`); `None` keeps the preset's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<MfaPolicy>,
}

impl AccountSettings {
    /// How long an invitation link of the account lives: its own setting, else the preset's.
    pub fn invitation_lifetime(&self, preset: &Preset) -> Duration {
        Duration::hours(i64::from(self.invitation_ttl_hours.unwrap_or(preset.invitation_ttl_hours)))
    }

    /// The settings with links living `hours`: from one hour up to the preset's lifetime, never
    /// longer (the marketplace's rule is the ceiling).
    pub fn with_invitation_ttl_hours(self, hours: u32, preset: &Preset) -> Result<Self, FieldError> {
        if !(1..=preset.invitation_ttl_hours).contains(&hours) {
            return Err(FieldError::new(
                "invitation_ttl_hours",
                "invalid_value",
                format!(
                    "Use 1 to {} hours: links may live shorter than the marketplace's, not longer.",
                    preset.invitation_ttl_hours
                ),
            ));
        }
        Ok(Self { invitation_ttl_hours: Some(hours), ..self })
    }

    /// The account's two-step policy: its own when it raised the preset's, else the preset's.
    pub fn mfa_policy(&self, preset: &Preset) -> MfaPolicy {
        self.mfa.map_or(preset.mfa, |own| own.max(preset.mfa))
    }

    /// The settings with two-step verification at `policy`: at or above the preset's (the
    /// marketplace's rule is the floor), and never below what the account already asks.
    pub fn with_mfa(self, policy: MfaPolicy, preset: &Preset) -> Result<Self, FieldError> {
        let floor = self.mfa_policy(preset);
        if policy < floor {
            return Err(FieldError::new(
                "mfa",
                "invalid_value",
                format!(
                    "Two-step verification can be raised, not lowered: it is at least \"{}\" here.",
                    floor.as_str()
                ),
            ));
        }
        Ok(Self { mfa: Some(policy), ..self })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub preset: String,
    pub locale: Locale,
    pub owner_id: UserId,
    pub settings: AccountSettings,
    pub created_at: DateTime<Utc>,
    /// The one owner link that may still be used: the owner's activation or the latest owner
    /// recovery. Starting a recovery cancels the link named here; accepting it clears it.
    #[serde(default)]
    pub owner_link: Option<InvitationId>,
    /// Raised by every change of the settings or language, so their writes can require the
    /// state they read.
    #[serde(default)]
    pub version: u32,
    /// Raised by every change of the owner or the owner link: kept apart from `version`, so
    /// that editing settings can never stand in the way of an owner recovery.
    #[serde(default)]
    pub owner_version: u32,
}

impl Account {
    /// Whether `invitation` is the account's live owner link.
    pub fn owner_link_is(&self, invitation: &InvitationId) -> bool {
        self.owner_link.as_ref() == Some(invitation)
    }

    /// The account with `link` as its only live owner link (`None`: no owner link at all).
    pub fn with_owner_link(self, link: Option<InvitationId>) -> Self {
        Self { owner_link: link, owner_version: self.owner_version + 1, ..self }
    }

    /// The account once its owner link was accepted by `owner` (the same owner, or a new one).
    pub fn owned_by(self, owner: UserId) -> Self {
        Self { owner_id: owner, owner_link: None, owner_version: self.owner_version + 1, ..self }
    }

    /// The account handed by its owner to `successor`. A pending owner recovery stays live: the
    /// operator's verified recovery outranks a transfer by the owner it may be replacing.
    pub fn handed_to(self, successor: UserId) -> Self {
        Self { owner_id: successor, owner_version: self.owner_version + 1, ..self }
    }

    /// The account with new settings and language.
    pub fn with_settings(self, settings: AccountSettings, locale: Locale) -> Self {
        Self { settings, locale, version: self.version + 1, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::at;

    #[test]
    fn two_step_verification_is_raised_above_the_presets_never_lowered() {
        let presets = crate::domain::Presets::compiled();
        let (standard, seller) = (presets.get("standard").unwrap(), presets.get("amazon-seller").unwrap());
        let settings = AccountSettings::default();
        assert_eq!(settings.mfa_policy(standard), MfaPolicy::Optional);
        assert_eq!(settings.mfa_policy(seller), MfaPolicy::Required);
        let raised = settings.clone().with_mfa(MfaPolicy::Required, standard).unwrap();
        assert_eq!(raised.mfa_policy(standard), MfaPolicy::Required);
        assert_eq!(raised.clone().with_mfa(MfaPolicy::Optional, standard).unwrap_err().field, "mfa");
        assert!(settings.clone().with_mfa(MfaPolicy::Off, standard).is_err());
        assert!(settings.with_mfa(MfaPolicy::Optional, seller).is_err(), "the preset is the floor");
    }

    #[test]
    fn accepting_an_owner_link_uses_it_up() {
        let owner = UserId::generate();
        let link = InvitationId::generate();
        let account = Account {
            id: AccountId::generate(),
            name: "Shop".into(),
            preset: "standard".into(),
            locale: Locale::default(),
            owner_id: owner.clone(),
            settings: AccountSettings::default(),
            created_at: at(0),
            owner_link: None,
            version: 3,
            owner_version: 7,
        }
        .with_owner_link(Some(link.clone()));
        assert!(account.owner_link_is(&link));
        let accomplice = UserId::generate();
        let handed = account.handed_to(accomplice.clone());
        assert!(handed.owner_link_is(&link), "a transfer does not cancel a recovery");
        let successor = UserId::generate();
        let recovered = handed.owned_by(successor.clone());
        assert_eq!((recovered.owner_id, recovered.owner_link), (successor, None));
        assert_eq!((recovered.owner_version, recovered.version), (10, 3), "settings are not the owner's");
    }

    #[test]
    fn an_account_may_shorten_its_invitation_lifetime_but_never_lengthen_it() {
        let presets = crate::domain::Presets::compiled();
        let standard = presets.get("standard").expect("standard");
        let settings = AccountSettings::default();
        assert_eq!(
            settings.invitation_lifetime(standard),
            Duration::hours(i64::from(standard.invitation_ttl_hours))
        );
        let shorter = settings.clone().with_invitation_ttl_hours(12, standard).expect("shorter is fine");
        assert_eq!(shorter.invitation_lifetime(standard), Duration::hours(12));
        for refused in [0, standard.invitation_ttl_hours + 1] {
            let error =
                settings.clone().with_invitation_ttl_hours(refused, standard).expect_err("out of bounds");
            assert_eq!((error.field.as_str(), error.code), ("invitation_ttl_hours", "invalid_value"));
        }
    }
}
