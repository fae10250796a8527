//! The audit log: what happened to an account, by whom.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{AccountId, EventId, UserId};

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
    #[serde(rename = "invitation.bounced")]
    InvitationBounced,
    #[serde(rename = "invitation.complained")]
    InvitationComplained,
    #[serde(rename = "invitation.renewal_requested")]
    InvitationRenewalRequested,
    #[serde(rename = "member.roles_changed")]
    MemberRolesChanged,
    #[serde(rename = "member.blocked")]
    MemberBlocked,
    #[serde(rename = "member.unblocked")]
    MemberUnblocked,
    #[serde(rename = "member.deleted")]
    MemberDeleted,
    #[serde(rename = "member.sessions_ended")]
    MemberSessionsEnded,
    #[serde(rename = "member.mfa_reset")]
    MemberMfaReset,
    #[serde(rename = "account.ownership_transferred")]
    OwnershipTransferred,
    #[serde(rename = "account.settings_changed")]
    SettingsChanged,
    #[serde(rename = "account.owner_recovery_started")]
    OwnerRecoveryStarted,
    #[serde(rename = "account.seat_limit_changed")]
    SeatLimitChanged,
    #[serde(rename = "role.created")]
    RoleCreated,
    #[serde(rename = "role.changed")]
    RoleChanged,
    #[serde(rename = "role.deleted")]
    RoleDeleted,
    #[serde(rename = "api_key.created")]
    ApiKeyCreated,
    #[serde(rename = "api_key.rotated")]
    ApiKeyRotated,
    #[serde(rename = "api_key.revoked")]
    ApiKeyRevoked,
}

impl AuditAction {
    /// Every action, in the order the README's event catalogue lists them.
    pub const ALL: [AuditAction; 25] = [
        Self::AccountCreated,
        Self::InvitationCreated,
        Self::InvitationResent,
        Self::InvitationRevoked,
        Self::InvitationAccepted,
        Self::InvitationExpired,
        Self::InvitationBounced,
        Self::InvitationComplained,
        Self::InvitationRenewalRequested,
        Self::MemberRolesChanged,
        Self::MemberBlocked,
        Self::MemberUnblocked,
        Self::MemberDeleted,
        Self::MemberSessionsEnded,
        Self::MemberMfaReset,
        Self::OwnershipTransferred,
        Self::SettingsChanged,
        Self::OwnerRecoveryStarted,
        Self::SeatLimitChanged,
        Self::RoleCreated,
        Self::RoleChanged,
        Self::RoleDeleted,
        Self::ApiKeyCreated,
        Self::ApiKeyRotated,
        Self::ApiKeyRevoked,
    ];

    /// What the action's event is called on the event bus (its `detail-type`), which rules
    /// match on: README, "React to team changes".
    pub fn detail_type(self) -> &'static str {
        match self {
            Self::AccountCreated => "Account Created",
            Self::InvitationCreated => "Invitation Sent",
            Self::InvitationResent => "Invitation Resent",
            Self::InvitationRevoked => "Invitation Revoked",
            Self::InvitationAccepted => "Invitation Accepted",
            Self::InvitationExpired => "Invitation Expired",
            Self::InvitationBounced => "Invitation Bounced",
            Self::InvitationComplained => "Invitation Complained",
            Self::InvitationRenewalRequested => "Invitation Renewal Requested",
            Self::MemberRolesChanged => "Member Roles Changed",
            Self::MemberBlocked => "Member Blocked",
            Self::MemberUnblocked => "Member Unblocked",
            Self::MemberDeleted => "Member Deleted",
            Self::MemberSessionsEnded => "Member Sessions Ended",
            Self::MemberMfaReset => "Member Two-Step Verification Reset",
            Self::OwnershipTransferred => "Ownership Transferred",
            Self::SettingsChanged => "Settings Changed",
            Self::OwnerRecoveryStarted => "Owner Recovery Started",
            Self::SeatLimitChanged => "Seat Limit Changed",
            Self::RoleCreated => "Role Created",
            Self::RoleChanged => "Role Changed",
            Self::RoleDeleted => "Role Deleted",
            Self::ApiKeyCreated => "API Key Created",
            Self::ApiKeyRotated => "API Key Rotated",
            Self::ApiKeyRevoked => "API Key Revoked",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditTarget {
    Account,
    Invitation,
    Member,
    ApiKey,
    Role,
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
