//! A user's access to one account, and the transitions an administrator or a link makes to it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::email::Email;
use super::ids::{AccountId, InvitationId, UserId};
use super::permission::{PermissionSet, RoleName};
use super::phone::Phone;
use super::preset::{Grant, Preset};
use super::role::Roles;
use super::user::User;

/// How long a lapsed invitee keeps their seat (`Member::holds_seat`).
pub const SEAT_GRACE: chrono::Duration = chrono::Duration::minutes(5);

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
    /// Sessions begun at or before this no longer work in this account (a block, or someone
    /// with `users:write` ending them); the person's other accounts are not touched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions_ended_at: Option<DateTime<Utc>>,
    /// Raised by every change, so writes can require the state they read.
    pub version: u32,
}

impl Member {
    pub fn grant(&self) -> Grant {
        Grant { roles: self.roles.clone(), permissions: self.permissions.clone() }
    }

    /// What the member may do: everything for the owner, else their roles' and direct grants'
    /// union under the account's roles.
    pub fn effective_permissions(&self, roles: &Roles<'_>) -> PermissionSet {
        if self.is_owner { roles.preset.catalog() } else { roles.effective(&self.grant()) }
    }

    /// The membership after its owner handed the account over: no longer owner, keeping the
    /// preset's former-owner role or direct grants.
    pub fn former_owner(self, preset: &Preset) -> Self {
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

    /// The membership blocked at `now`: its sessions end here, so unblocking later does not
    /// revive a token issued before the block.
    pub fn blocked(self, now: DateTime<Utc>) -> Self {
        Self { status: MemberStatus::Blocked, ..self.sessions_ended(now) }
    }

    /// The membership with every session begun until `now` ended in this account.
    pub fn sessions_ended(self, now: DateTime<Utc>) -> Self {
        Self { sessions_ended_at: Some(now), version: self.version + 1, ..self }
    }

    /// Whether a session begun at `began` still works in this account.
    pub fn admits_session(&self, began: DateTime<Utc>) -> bool {
        self.sessions_ended_at.is_none_or(|ended| began > ended)
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

    /// Whether the member takes one of the account's seats at `now`: everyone does but an
    /// invitee whose link lapsed more than `SEAT_GRACE` ago (the cleanup removes them, or a new
    /// invitation replaces them). The grace covers an acceptance or a renewal that read the link
    /// live just before it lapsed, and the clocks of the functions that judge it.
    pub fn holds_seat(&self, now: DateTime<Utc>) -> bool {
        let lapsed = |until: DateTime<Utc>| until + SEAT_GRACE <= now;
        !(self.status == MemberStatus::NotActivated && self.pending_until.is_some_and(lapsed))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{at, waiting_member};
    use crate::domain::permission::{PermissionSet, RoleName};

    #[test]
    fn activation_makes_a_waiting_member_active_once_and_advances_its_version() {
        let activated = waiting_member().activated(at(10)).expect("a waiting member activates");
        assert_eq!(activated.status, MemberStatus::Active);
        assert_eq!((activated.activated_at, activated.last_login_at), (Some(at(10)), Some(at(10))));
        assert_eq!((activated.pending_until, activated.version), (None, 5));
    }

    #[test]
    fn a_link_cannot_undo_a_block() {
        let blocked = waiting_member().blocked(at(0));
        assert_eq!(blocked.version, 5);
        assert_eq!(blocked.clone().activated(at(10)), Err(Refusal::MemberBlocked));
        assert_eq!(blocked.unblocked().status, MemberStatus::NotActivated, "it never activated");
    }

    #[test]
    fn a_regrant_a_promotion_and_a_renewal_each_advance_the_version() {
        let member = waiting_member();
        let grant = Grant { roles: vec![RoleName::new("viewer")], permissions: PermissionSet::default() };
        let regranted = member.clone().regranted(grant.clone());
        assert_eq!((regranted.grant(), regranted.version), (grant, 5));
        let owner = member.clone().made_owner();
        assert!(owner.is_owner && owner.version == 5);
        let renewed = member.clone().pending_until(at(7200));
        assert_eq!((renewed.pending_until, renewed.version), (Some(at(7200)), 5));
        assert!(member.waits_on(member.invitation_id.as_ref().expect("it waits")));
        assert!(!member.activated(at(1)).expect("activates").waits_on(&InvitationId::generate()));
    }

    #[test]
    fn a_lapsed_invitee_keeps_their_seat_for_the_grace_only() {
        let member = waiting_member().pending_until(at(3600));
        assert!(member.holds_seat(at(3600) + SEAT_GRACE - chrono::Duration::seconds(1)));
        assert!(!member.holds_seat(at(3600) + SEAT_GRACE));
        assert!(member.activated(at(0)).unwrap().holds_seat(at(999_999)), "an active member always does");
    }
}
