//! The API's objects (`openapi.yaml`, `components.schemas`), built from the model.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{
    Account, AccountSettings, Delivery, Invitation, InvitationStatus, Locale, Member, MemberStatus,
    PermissionSet, Preset, RoleName, User,
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
    pub created_at: DateTime<Utc>,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        Self {
            id: a.id.to_string(),
            name: a.name.clone(),
            preset: a.preset.clone(),
            locale: a.locale,
            owner_id: a.owner_id.to_string(),
            settings: a.settings.clone(),
            created_at: a.created_at,
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
    pub fn new(m: &Member, preset: &Preset) -> Self {
        Self {
            user_id: m.user_id.to_string(),
            account_id: m.account_id.to_string(),
            email: m.email.to_string(),
            first_name: m.first_name.clone(),
            last_name: m.last_name.clone(),
            phone: m.phone.as_ref().map(|p| p.to_string()),
            roles: m.roles.clone(),
            permissions: m.permissions.clone(),
            effective_permissions: m.effective_permissions(preset),
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
    pub fn new(m: &Membership, preset: &Preset) -> Self {
        Self {
            account_id: m.account.id.to_string(),
            account_name: m.account.name.clone(),
            roles: m.member.roles.clone(),
            permissions: m.member.permissions.clone(),
            effective_permissions: m.member.effective_permissions(preset),
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
    pub memberships: Vec<MembershipView>,
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
