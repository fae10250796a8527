//! The API's objects (`openapi.yaml`, `components.schemas`), built from the model.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{
    Account, AccountSettings, Delivery, Invitation, InvitationStatus, Locale, Member, MemberStatus,
    MfaPolicy, PermissionSet, Preset, RoleName, Roles, User,
};
use crate::ports::Membership;

#[derive(Debug, Serialize)]
pub struct AccountView {
    pub id: String,
    pub name: String,
    pub preset: String,
    pub locale: Locale,
    pub owner_id: String,
    pub settings: AccountSettings,
    /// The two-step policy in force: the preset's, or the account's own when it raised it.
    pub mfa: MfaPolicy,
    pub created_at: DateTime<Utc>,
    /// The operator's limit on the account's seats (`null`: none).
    pub max_members: Option<u32>,
}

impl AccountView {
    pub fn new(a: &Account, preset: &Preset) -> Self {
        Self {
            id: a.id.to_string(),
            name: a.name.clone(),
            preset: a.preset.clone(),
            locale: a.locale,
            owner_id: a.owner_id.to_string(),
            settings: a.settings.clone(),
            mfa: a.settings.mfa_policy(preset),
            created_at: a.created_at,
            max_members: a.max_members,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct MemberView {
    pub user_id: String,
    pub account_id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub roles: Vec<RoleName>,
    pub permissions: PermissionSet,
    pub effective_permissions: PermissionSet,
    pub status: MemberStatus,
    pub is_owner: bool,
    pub invited_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl MemberView {
    pub fn new(m: &Member, roles: &Roles<'_>) -> Self {
        Self {
            user_id: m.user_id.to_string(),
            account_id: m.account_id.to_string(),
            email: m.email.to_string(),
            first_name: m.first_name.clone(),
            last_name: m.last_name.clone(),
            phone: m.phone.as_ref().map(|p| p.to_string()),
            roles: m.roles.clone(),
            permissions: m.permissions.clone(),
            effective_permissions: m.effective_permissions(roles),
            status: m.status,
            is_owner: m.is_owner,
            invited_by: m.invited_by.as_ref().map(|u| u.to_string()),
            created_at: m.created_at,
            activated_at: m.activated_at,
            last_login_at: m.last_login_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct InvitationView {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub roles: Vec<RoleName>,
    pub permissions: PermissionSet,
    pub status: InvitationStatus,
    pub invited_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    pub send_count: u32,
    pub last_sent_at: DateTime<Utc>,
    pub delivery: Delivery,
    pub address_refused: bool,
    pub message: Option<String>,
    /// When the invitee asked for a new link after this one expired.
    pub renewal_requested_at: Option<DateTime<Utc>>,
}

impl InvitationView {
    pub fn new(i: &Invitation, now: DateTime<Utc>) -> Self {
        Self {
            id: i.id.to_string(),
            account_id: i.account_id.to_string(),
            email: i.email.to_string(),
            roles: i.roles.clone(),
            permissions: i.permissions.clone(),
            status: i.status_at(now),
            invited_by: i.invited_by.as_ref().map(|u| u.to_string()),
            created_at: i.created_at,
            expires_at: i.expires_at,
            accepted_at: i.accepted_at,
            revoked_at: i.revoked_at,
            revoked_by: i.revoked_by.as_ref().map(|u| u.to_string()),
            send_count: i.send_count,
            last_sent_at: i.last_sent_at,
            delivery: i.delivery,
            address_refused: i.address_refused.is_some(),
            message: i.message.as_ref().map(|m| m.as_str().to_owned()),
            renewal_requested_at: i.renewal_requested_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct MembershipView {
    pub account_id: String,
    pub account_name: String,
    pub roles: Vec<RoleName>,
    pub permissions: PermissionSet,
    pub effective_permissions: PermissionSet,
    pub is_owner: bool,
    pub status: MemberStatus,
}

impl MembershipView {
    pub fn new(m: &Membership, roles: &Roles<'_>) -> Self {
        Self {
            account_id: m.account.id.to_string(),
            account_name: m.account.name.clone(),
            roles: m.member.roles.clone(),
            permissions: m.member.permissions.clone(),
            effective_permissions: m.member.effective_permissions(roles),
            is_owner: m.member.is_owner,
            status: m.member.status,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SessionView {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    pub user_id: String,
    pub memberships: Vec<MembershipView>,
}

#[derive(Debug, Serialize)]
pub struct MeView {
    pub user_id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub locale: Option<Locale>,
    pub mfa: MfaStatusView,
    pub memberships: Vec<MembershipView>,
}

/// The person's two-step verification as they see it.
#[derive(Debug, Serialize)]
pub struct MfaStatusView {
    pub enabled: bool,
    /// Recovery codes not used yet; `0` while it is off.
    pub recovery_codes_left: usize,
}

/// One of the caller's sessions (`GET /v1/me/sessions`).
#[derive(Debug, Serialize)]
pub struct SessionInfoView {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub client_ip: Option<String>,
    pub user_agent: Option<String>,
    /// Whether it is the session the request was made in.
    pub current: bool,
}

impl MeView {
    pub fn new(user: &User, memberships: Vec<MembershipView>) -> Self {
        Self {
            user_id: user.id.to_string(),
            email: user.email.to_string(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            phone: user.phone.as_ref().map(|p| p.to_string()),
            locale: user.locale,
            mfa: MfaStatusView {
                enabled: user.has_second_factor(),
                recovery_codes_left: user
                    .second_factor
                    .as_ref()
                    .filter(|f| f.is_on())
                    .map_or(0, |f| f.recovery_hashes.len()),
            },
            memberships,
        }
    }
}

/// A list page as the API returns it.
#[derive(Debug, Serialize)]
pub struct PageView<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Memberships a person can use or needs to know about: not the ones still awaiting activation.
pub fn visible_memberships(memberships: &[Membership]) -> impl Iterator<Item = &Membership> {
    memberships.iter().filter(|m| m.member.status != MemberStatus::NotActivated)
}
