//! Accounts, users, members and invitations, with the state transitions the rules allow.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use super::email::Email;
use super::locale::Locale;
use super::permission::{PermissionSet, RoleName};
use super::phone::Phone;
use super::preset::{Grant, InvitationMode};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A new, time-ordered id (UUIDv7), so keys sort by creation.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }

            /// Accepts only the shape ids are minted in; anything else cannot name a record.
            pub fn parse(raw: &str) -> Option<Self> {
                uuid::Uuid::try_parse(raw).ok().map(|u| Self(u.to_string()))
            }

            /// Sorts before every real id: where a key range starts.
            pub fn lowest() -> Self {
                Self(String::new())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A seller account.
    AccountId
);
id_type!(
    /// A person with one login, possibly a member of several accounts.
    UserId
);
id_type!(
    /// One invitation into one account.
    InvitationId
);
id_type!(
    /// A chain of rotated refresh tokens from one sign-in.
    SessionFamilyId
);
id_type!(
    /// One entry of an account's audit log.
    EventId
);

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSettings {
    /// Overrides the preset's link lifetime.
    pub invitation_ttl_hours: Option<u32>,
    /// Refused in addition to the preset's refused domains.
    pub blocked_email_domains: Vec<String>,
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
    /// Raised by every change, so writes can require the state they read.
    #[serde(default)]
    pub version: u32,
}

impl Account {
    /// Whether `invitation` is the account's live owner link.
    pub fn owner_link_is(&self, invitation: &InvitationId) -> bool {
        self.owner_link.as_ref() == Some(invitation)
    }

    /// The account with `link` as its only live owner link (`None`: no owner link at all).
    pub fn with_owner_link(self, link: Option<InvitationId>) -> Self {
        Self { owner_link: link, version: self.version + 1, ..self }
    }

    /// The account once its owner link was accepted by `owner` (the same owner, or a new one).
    pub fn owned_by(self, owner: UserId) -> Self {
        Self { owner_id: owner, owner_link: None, version: self.version + 1, ..self }
    }

    /// The account with new settings and language.
    pub fn with_settings(self, settings: AccountSettings, locale: Locale) -> Self {
        Self { settings, locale, version: self.version + 1, ..self }
    }
}

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
    pub fn accepting(self, profile: super::preset::Profile, first_password: Option<String>) -> Self {
        let user = self.with_profile(profile, None);
        match first_password {
            Some(phc) => Self { password_hash: Some(phc), reset_links: Vec::new(), ..user },
            None => user,
        }
    }

    /// The user with the profile fields given (the others kept) and, if given, a language.
    pub fn with_profile(self, profile: super::preset::Profile, locale: Option<Option<Locale>>) -> Self {
        Self {
            first_name: profile.first_name.map(|n| n.to_string()).or(self.first_name),
            last_name: profile.last_name.map(|n| n.to_string()).or(self.last_name),
            phone: profile.phone.or(self.phone),
            locale: locale.unwrap_or(self.locale),
            version: self.version + 1,
            ..self
        }
    }

    /// The profile the person already gave, as input to the preset's rules.
    pub fn profile(&self) -> super::preset::ProfileInput {
        super::preset::ProfileInput {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            phone: self.phone.as_ref().map(|p| p.to_string()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    Active,
    NotActivated,
    Blocked,
}

/// A user's access to one account. Profile fields are copied here so a list is one query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub account_id: AccountId,
    pub user_id: UserId,
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<Phone>,
    pub roles: Vec<RoleName>,
    pub permissions: PermissionSet,
    pub status: MemberStatus,
    pub is_owner: bool,
    pub invited_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// The invitation this membership waits on while `not_activated`.
    pub invitation_id: Option<InvitationId>,
    /// When that invitation's link dies; a `not_activated` member past it is stale.
    pub pending_until: Option<DateTime<Utc>>,
    /// Raised by every change, so writes can require the state they read.
    pub version: u32,
}

impl Member {
    pub fn grant(&self) -> Grant {
        Grant { roles: self.roles.clone(), permissions: self.permissions.clone() }
    }

    /// The membership after its owner handed the account over: no longer owner, keeping the
    /// preset's former-owner role or direct grants.
    pub fn former_owner(self, preset: &super::preset::Preset) -> Self {
        Self {
            is_owner: false,
            roles: preset.former_owner_role.iter().cloned().collect(),
            permissions: preset.former_owner_permissions.clone(),
            version: self.version + 1,
            ..self
        }
    }

    /// The membership once its invitation link was used at `now`: active (a direct-mode member
    /// already is) and signed in. A blocked member stays blocked: the link cannot undo a block.
    pub fn activated(self, now: DateTime<Utc>) -> Result<Self, Refusal> {
        if self.status == MemberStatus::Blocked {
            return Err(Refusal::MemberBlocked);
        }
        Ok(Self {
            status: MemberStatus::Active,
            activated_at: self.activated_at.or(Some(now)),
            pending_until: None,
            last_login_at: Some(now),
            version: self.version + 1,
            ..self
        })
    }

    /// The membership blocked: its tokens stop working on the next request.
    pub fn blocked(self) -> Self {
        Self { status: MemberStatus::Blocked, version: self.version + 1, ..self }
    }

    /// The membership unblocked: active again, or still waiting if it never activated.
    pub fn unblocked(self) -> Self {
        let status =
            if self.activated_at.is_some() { MemberStatus::Active } else { MemberStatus::NotActivated };
        Self { status, version: self.version + 1, ..self }
    }

    /// The membership with a new grant.
    pub fn regranted(self, grant: Grant) -> Self {
        Self { roles: grant.roles, permissions: grant.permissions, version: self.version + 1, ..self }
    }

    /// The membership as the account's owner.
    pub fn made_owner(self) -> Self {
        Self { is_owner: true, version: self.version + 1, ..self }
    }

    /// The waiting membership, its invitation's link now dying at `until`.
    pub fn pending_until(self, until: DateTime<Utc>) -> Self {
        Self { pending_until: Some(until), version: self.version + 1, ..self }
    }

    /// Whether the membership exists because of `invitation` and has not been activated.
    pub fn waits_on(&self, invitation: &InvitationId) -> bool {
        self.invitation_id.as_ref() == Some(invitation) && self.status == MemberStatus::NotActivated
    }

    /// Copies the user's current profile onto the membership.
    pub fn with_profile(mut self, user: &User) -> Self {
        self.email = user.email.clone();
        self.first_name = user.first_name.clone();
        self.last_name = user.last_name.clone();
        self.phone = user.phone.clone();
        self
    }
}

/// Why the model refuses a transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the member is blocked")]
    MemberBlocked,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Sent,
    Accepted,
    Revoked,
    Expired,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: InvitationId,
    pub account_id: AccountId,
    pub user_id: UserId,
    pub email: Email,
    pub roles: Vec<RoleName>,
    pub permissions: PermissionSet,
    /// The stored status; `status_at` also reports a passed expiry the cleanup has not recorded yet.
    pub status: InvitationStatus,
    pub mode: InvitationMode,
    /// The owner's activation invitation, sent when the operator creates the account.
    pub for_owner: bool,
    pub invited_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<UserId>,
    pub send_count: u32,
    pub last_sent_at: DateTime<Utc>,
    /// When the link was sent within the last hour: the resend limit's sliding window.
    pub recent_sends: Vec<DateTime<Utc>>,
    /// SHA-256 of the one link that is currently valid.
    pub token_hash: String,
}

impl Invitation {
    /// The status as of `now`: a `sent` invitation past its expiry is `expired`, whatever TTL did.
    pub fn status_at(&self, now: DateTime<Utc>) -> InvitationStatus {
        match self.status {
            InvitationStatus::Sent if now >= self.expires_at => InvitationStatus::Expired,
            status => status,
        }
    }

    pub fn grant(&self) -> Grant {
        Grant { roles: self.roles.clone(), permissions: self.permissions.clone() }
    }

    /// The invitation accepted at `now`.
    pub fn accepted(self, now: DateTime<Utc>) -> Self {
        Self { status: InvitationStatus::Accepted, accepted_at: Some(now), ..self }
    }

    /// The invitation revoked by `by` (`None`: the operator) at `now`.
    pub fn revoked(self, by: Option<UserId>, now: DateTime<Utc>) -> Self {
        Self { status: InvitationStatus::Revoked, revoked_at: Some(now), revoked_by: by, ..self }
    }

    /// The invitation past its link, as the cleanup records it.
    pub fn expired(self) -> Self {
        Self { status: InvitationStatus::Expired, ..self }
    }

    /// Records a send at `now` unless `limit` sends already happened in the hour before it;
    /// then answers how long until the oldest of them leaves the window.
    pub fn record_send(&mut self, now: DateTime<Utc>, limit: u32) -> Result<(), chrono::Duration> {
        let hour = chrono::Duration::hours(1);
        self.recent_sends.retain(|at| now - *at < hour);
        if self.recent_sends.len() >= limit as usize {
            let oldest = self.recent_sends.iter().min().copied().unwrap_or(now);
            return Err(oldest + hour - now);
        }
        self.recent_sends.push(now);
        self.send_count += 1;
        self.last_sent_at = now;
        Ok(())
    }
}

/// What a one-time emailed link lets its holder do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenPurpose {
    /// Accept an invitation (or, in direct mode, set the first password).
    Invitation { account_id: AccountId, invitation_id: InvitationId },
    /// Choose a new password.
    PasswordReset,
}

/// A one-time link token; only its SHA-256 is ever stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeToken {
    pub hash: String,
    pub user_id: UserId,
    pub purpose: TokenPurpose,
    pub expires_at: DateTime<Utc>,
}

/// The live end of a chain of refresh tokens. Presenting an older token of the chain
/// (its secret no longer matches) is treated as theft and ends the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshSession {
    pub family_id: SessionFamilyId,
    pub user_id: UserId,
    pub secret_hash: String,
    pub token_version: u32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What happened, as the audit log names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditAction {
    #[serde(rename = "account.created")]
    AccountCreated,
    #[serde(rename = "invitation.created")]
    InvitationCreated,
    #[serde(rename = "invitation.resent")]
    InvitationResent,
    #[serde(rename = "invitation.revoked")]
    InvitationRevoked,
    #[serde(rename = "invitation.accepted")]
    InvitationAccepted,
    #[serde(rename = "invitation.expired")]
    InvitationExpired,
    #[serde(rename = "member.roles_changed")]
    MemberRolesChanged,
    #[serde(rename = "member.blocked")]
    MemberBlocked,
    #[serde(rename = "member.unblocked")]
    MemberUnblocked,
    #[serde(rename = "member.deleted")]
    MemberDeleted,
    #[serde(rename = "account.ownership_transferred")]
    OwnershipTransferred,
    #[serde(rename = "account.settings_changed")]
    SettingsChanged,
    #[serde(rename = "account.owner_recovery_started")]
    OwnerRecoveryStarted,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditTarget {
    Account,
    Invitation,
    Member,
}

/// One entry of an account's audit log, written in the same transaction as the change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: EventId,
    pub account_id: AccountId,
    pub at: DateTime<Utc>,
    /// `None` for the system (the scheduled cleanup, the operator).
    pub actor_id: Option<UserId>,
    pub action: AuditAction,
    pub target_type: AuditTarget,
    pub target_id: String,
    pub details: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).expect("a valid instant")
    }

    fn user() -> User {
        User {
            id: UserId::generate(),
            email: Email::parse("anna@shop.example").expect("valid"),
            first_name: None,
            last_name: None,
            phone: None,
            locale: None,
            password_hash: None,
            token_version: 0,
            reset_links: Vec::new(),
            created_at: at(0),
            version: 0,
        }
    }

    fn waiting_member() -> Member {
        let invitation = InvitationId::generate();
        Member {
            account_id: AccountId::generate(),
            user_id: UserId::generate(),
            email: Email::parse("anna@shop.example").expect("valid"),
            first_name: None,
            last_name: None,
            phone: None,
            roles: Vec::new(),
            permissions: PermissionSet::default(),
            status: MemberStatus::NotActivated,
            is_owner: false,
            invited_by: None,
            created_at: at(0),
            activated_at: None,
            last_login_at: None,
            invitation_id: Some(invitation),
            pending_until: Some(at(3600)),
            version: 4,
        }
    }

    fn link(n: i64, expires_at: DateTime<Utc>) -> ResetLink {
        ResetLink { hash: format!("hash-{n}"), expires_at }
    }

    #[test]
    fn activation_makes_a_waiting_member_active_once_and_advances_its_version() {
        let activated = waiting_member().activated(at(10)).expect("a waiting member activates");
        assert_eq!(activated.status, MemberStatus::Active);
        assert_eq!((activated.activated_at, activated.last_login_at), (Some(at(10)), Some(at(10))));
        assert_eq!((activated.pending_until, activated.version), (None, 5));
    }

    #[test]
    fn a_link_cannot_undo_a_block() {
        let blocked = waiting_member().blocked();
        assert_eq!(blocked.version, 5);
        assert_eq!(blocked.clone().activated(at(10)), Err(Refusal::MemberBlocked));
        assert_eq!(blocked.unblocked().status, MemberStatus::NotActivated, "it never activated");
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
            version: 7,
        }
        .with_owner_link(Some(link.clone()));
        assert!(account.owner_link_is(&link));
        let successor = UserId::generate();
        let handed = account.owned_by(successor.clone());
        assert_eq!((handed.owner_id, handed.owner_link, handed.version), (successor, None, 9));
    }
}
