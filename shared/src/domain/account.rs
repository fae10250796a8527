//! A seller account: its owner, its one live owner link, and its settings.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{AccountId, InvitationId, UserId};
use super::locale::Locale;
use super::permission::RoleName;
use super::preset::{MfaPolicy, Preset};
use super::role::{CustomRole, MAX_CUSTOM_ROLES, RoleContent, Roles};
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
    /// The most members the operator lets the account have, the owner and every pending
    /// invitation included; `None`: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_members: Option<u32>,
    /// Raised by every invitation that takes a seat of a limited account, by every change of the
    /// limit and by every new owner candidate (the stores raise it as they write): an invitation
    /// is written only if it is still the one its count of the seats was made under, so two
    /// invitations never both take the last seat (`service/seats.rs`).
    #[serde(default)]
    pub seat_version: u32,
    /// The roles the account named itself (`role.rs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_roles: Vec<CustomRole>,
    /// Raised by every change of `custom_roles` and by every write that grants one of them: a
    /// role is deleted only if no grant of it came since its holders were counted, and a grant
    /// is written only if its roles are still as read.
    #[serde(default)]
    pub roles_version: u32,
}

/// The most seats an operator may give one account.
pub const MAX_SEAT_LIMIT: u32 = 10_000;

/// A seat limit as the operator may set it: from 1 (the owner) to `MAX_SEAT_LIMIT`, or none.
pub fn seat_limit(max: Option<u32>) -> Result<Option<u32>, FieldError> {
    if max.is_some_and(|max| !(1..=MAX_SEAT_LIMIT).contains(&max)) {
        let message = format!("Use 1 to {MAX_SEAT_LIMIT} members, or null for no limit.");
        return Err(FieldError::new("max_members", "invalid_value", message));
    }
    Ok(max)
}

/// Why the account's roles cannot change so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleRefusal {
    /// The preset grants its own roles only.
    NotOffered,
    /// The name is a role already, the preset's or the account's.
    NameTaken,
    /// The account has `MAX_CUSTOM_ROLES` already.
    TooMany,
    /// No role of the account's own has this name.
    Unknown,
}

impl Account {
    /// What the account grants: its preset's roles and its own.
    pub fn roles<'a>(&'a self, preset: &'a Preset) -> Roles<'a> {
        Roles { preset, custom: &self.custom_roles }
    }

    /// The account with a new role of its own, `name`, made `at`.
    pub fn with_new_role(
        mut self,
        preset: &Preset,
        name: RoleName,
        content: RoleContent,
        at: DateTime<Utc>,
    ) -> Result<Self, RoleRefusal> {
        if !preset.custom_roles {
            return Err(RoleRefusal::NotOffered);
        }
        if self.roles(preset).knows(&name) {
            return Err(RoleRefusal::NameTaken);
        }
        if self.custom_roles.len() >= MAX_CUSTOM_ROLES {
            return Err(RoleRefusal::TooMany);
        }
        let RoleContent { title, description, permissions } = content;
        self.custom_roles.push(CustomRole {
            name,
            title,
            description,
            permissions,
            created_at: at,
            updated_at: at,
        });
        Ok(Self { roles_version: self.roles_version + 1, ..self })
    }

    /// The account with its role `name` retitled, redescribed and regranted `at`: its holders
    /// hold the new permissions from the next request on.
    pub fn with_changed_role(
        mut self,
        name: &RoleName,
        content: RoleContent,
        at: DateTime<Utc>,
    ) -> Result<Self, RoleRefusal> {
        let role = self.custom_roles.iter_mut().find(|r| &r.name == name).ok_or(RoleRefusal::Unknown)?;
        let RoleContent { title, description, permissions } = content;
        *role = CustomRole { title, description, permissions, updated_at: at, ..role.clone() };
        Ok(Self { roles_version: self.roles_version + 1, ..self })
    }

    /// The account without its role `name`; who held it is the caller's to have moved first.
    pub fn without_role(mut self, name: &RoleName) -> Result<Self, RoleRefusal> {
        let before = self.custom_roles.len();
        self.custom_roles.retain(|r| &r.name != name);
        if self.custom_roles.len() == before {
            return Err(RoleRefusal::Unknown);
        }
        Ok(Self { roles_version: self.roles_version + 1, ..self })
    }

    /// Whether `invitation` is the account's live owner link.
    pub fn owner_link_is(&self, invitation: &InvitationId) -> bool {
        self.owner_link.as_ref() == Some(invitation)
    }

    /// The account with `link` as its only live owner link (`None`: no owner link at all). A
    /// new link's candidate takes a seat: the seats counted before it are stale.
    pub fn with_owner_link(self, link: Option<InvitationId>) -> Self {
        let seat_version = self.seat_version + u32::from(link.is_some());
        Self { owner_link: link, owner_version: self.owner_version + 1, seat_version, ..self }
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

    /// Whether one more member may join while `used` seats are taken.
    pub fn has_free_seat(&self, used: u32) -> bool {
        self.max_members.is_none_or(|max| used < max)
    }

    /// The account with at most `max` members (`seat_limit`). A limit below the seats taken
    /// keeps every member and refuses new ones.
    pub fn with_seat_limit(self, max: Option<u32>) -> Result<Self, FieldError> {
        Ok(Self { max_members: seat_limit(max)?, ..self })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::account;

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
    fn a_seat_limit_counts_the_owner_and_refuses_the_seat_past_it() {
        let unlimited = account();
        assert!(unlimited.has_free_seat(u32::MAX));
        let limited = unlimited.clone().with_seat_limit(Some(3)).unwrap();
        assert_eq!(limited.max_members, Some(3));
        assert!(limited.has_free_seat(2) && !limited.has_free_seat(3) && !limited.has_free_seat(7));
        for refused in [0, MAX_SEAT_LIMIT + 1] {
            assert_eq!(unlimited.clone().with_seat_limit(Some(refused)).unwrap_err().field, "max_members");
        }
        assert_eq!(limited.with_seat_limit(None).unwrap().max_members, None);
    }

    #[test]
    fn accepting_an_owner_link_uses_it_up() {
        let owner = UserId::generate();
        let link = InvitationId::generate();
        let account = Account { owner_id: owner.clone(), version: 3, owner_version: 7, ..account() }
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
