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
    /// SHA-256 of the one password-reset link that still works; a newer request replaces it.
    pub reset_token_hash: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl User {
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

    /// Copies the user's current profile onto the membership.
    pub fn with_profile(mut self, user: &User) -> Self {
        self.email = user.email.clone();
        self.first_name = user.first_name.clone();
        self.last_name = user.last_name.clone();
        self.phone = user.phone.clone();
        self
    }
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
