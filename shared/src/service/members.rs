//! Administering members: roles and direct permissions, blocking, removal, ownership transfer,
//! and the account's settings. Every change is one conditional write with an audit event.

use serde_json::json;

use crate::domain::MailKind;
use crate::domain::role::GrantRefusal;
use crate::domain::{
    AuditAction, AuditEvent, AuditTarget, Invitation, InvitationStatus, Member, MemberStatus, User, UserId,
};
use crate::failure_codes;
use crate::ports::{Conflict, MemberRemoval, MemberUpdate, StoreError, StoreResult, UserAfterRemoval};
use crate::service::Teamgate;
use crate::service::caller::{Caller, CallerError, Claim, Untouchable};
use crate::service::support::failure::RateLimited;
use crate::service::support::failure::store_failed;
use crate::service::support::failure::{InternalError, Invalid};
use crate::service::support::views::MemberView;

#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    #[error("validation failed")]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Caller(#[from] CallerError),
    #[error("no such member in this account")]
    NotFound,
    #[error("the change grants or touches more than the caller holds")]
    RoleEscalation,
    #[error("only the owner can change the owner, and the owner cannot be blocked, demoted or deleted")]
    OwnerProtected,
    #[error("you cannot do this to yourself")]
    SelfActionForbidden,
    #[error("the new owner must be an active member")]
    MemberNotActive,
    #[error("the password is not correct")]
    InvalidCredentials,
    #[error("the member's two-step verification is off")]
    MfaNotEnabled,
    #[error("the member works in other accounts too")]
    MemberOfOtherAccounts,
    #[error("the member changed while this request was being handled; read it again and retry")]
    ConcurrentChange,
    #[error("rate limited")]
    RateLimited(#[from] RateLimited),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

failure_codes!(MemberError {
    Invalid(_) => ValidationFailed,
    NotFound => NotFound,
    RoleEscalation => RoleEscalation,
    OwnerProtected => OwnerProtected,
    SelfActionForbidden => SelfActionForbidden,
    MemberNotActive => MemberNotActive,
    InvalidCredentials => InvalidCredentials,
    MfaNotEnabled => MfaNotEnabled,
    MemberOfOtherAccounts => MemberOfOtherAccounts,
    ConcurrentChange => ConcurrentChange,
    RateLimited(_) => RateLimited,
    Internal(_) => Internal,
}
delegating { Caller });

impl From<Untouchable> for MemberError {
    fn from(refusal: Untouchable) -> Self {
        match refusal {
            Untouchable::Owner => Self::OwnerProtected,
            Untouchable::HoldsMore => Self::RoleEscalation,
        }
    }
}

/// A store error of a conditional write, as the member use cases answer it.
pub(crate) fn write_failed(error: StoreError) -> MemberError {
    match error {
        StoreError::Conflict(_) => MemberError::ConcurrentChange,
        other => InternalError::from(other).into(),
    }
}

impl From<GrantRefusal> for MemberError {
    fn from(refusal: GrantRefusal) -> Self {
        match refusal {
            GrantRefusal::Gone(errors) => Self::Invalid(Invalid(errors)),
            GrantRefusal::Escalation => Self::RoleEscalation,
        }
    }
}

impl Teamgate {
    /// Another member of the claimed account whom the caller may administer (not themselves,
    /// not the owner, nobody holding rights the caller lacks), read with the caller and with
    /// `also`, which the member's id is given to: one round trip.
    async fn administered<T>(
        &self,
        claim: &Claim,
        user_id: &str,
        also: impl AsyncFnOnce(&UserId) -> StoreResult<T>,
    ) -> Result<(Caller<'_>, Member, T), MemberError> {
        let account = claim.account()?;
        let user_id = UserId::parse(user_id).ok_or(MemberError::NotFound);
        let (caller, found) = self
            .caller_with(claim, async {
                match &user_id {
                    Ok(user_id) if user_id != claim.user_id() => {
                        let (member, also) =
                            tokio::join!(self.store().member(&account, user_id), also(user_id));
                        Ok(Some((member?, also?)))
                    }
                    _ => Ok(None),
                }
            })
            .await?;
        if user_id? == caller.user.id {
            return Err(MemberError::SelfActionForbidden);
        }
        let (member, also) = found.map_err(store_failed("member"))?.ok_or(MemberError::NotFound)?;
        let member = member.ok_or(MemberError::NotFound)?;
        caller.administers(&member)?;
        Ok((caller, member, also))
    }

    pub(crate) fn member_event(
        &self,
        caller: &Caller<'_>,
        member: &Member,
        action: AuditAction,
        details: serde_json::Value,
    ) -> crate::domain::AuditEvent {
        self.event(
            &caller.account.id,
            Some(&caller.user.id),
            action,
            AuditTarget::Member,
            member.user_id.as_str(),
            details,
        )
    }

    /// Replaces a member's roles and direct permissions; applies from their very next request.
    pub async fn set_roles(
        &self,
        claim: &Claim,
        user_id: &str,
        roles: &[String],
        permissions: &[String],
    ) -> Result<MemberView, MemberError> {
        let (caller, member, ()) = self.administered(claim, user_id, async |_| Ok(())).await?;
        let caller = &caller;
        let grant = caller.roles().parse_grant(roles, permissions).map_err(Invalid)?;
        caller.require_recent_second_step(self.now())?;
        let roles = caller.may_grant(&caller.account, &grant)?.or(caller.judged_under(&member));
        let details = json!({
            "from": { "roles": member.roles, "permissions": member.permissions },
            "to": { "roles": grant.roles, "permissions": grant.permissions },
        });
        let changed = member.regranted(grant);
        let event = self.member_event(caller, &changed, AuditAction::MemberRolesChanged, details);
        self.store()
            .update_member(&MemberUpdate { member: changed.clone(), event, roles })
            .await
            .map_err(write_failed)?;
        Ok(MemberView::new(&changed, &caller.roles()))
    }

    /// Blocks (or unblocks) a member; a blocked member's tokens stop working on the next request.
    pub async fn set_blocked(
        &self,
        claim: &Claim,
        user_id: &str,
        blocked: bool,
    ) -> Result<MemberView, MemberError> {
        let (caller, member, ()) = self.administered(claim, user_id, async |_| Ok(())).await?;
        let caller = &caller;
        if blocked == (member.status == MemberStatus::Blocked) {
            return Ok(MemberView::new(&member, &caller.roles()));
        }
        let (action, changed) = match blocked {
            true => (AuditAction::MemberBlocked, member.blocked(self.now())),
            false => (AuditAction::MemberUnblocked, member.unblocked()),
        };
        let event = self.member_event(caller, &changed, action, json!({}));
        self.store()
            .update_member(&MemberUpdate {
                roles: caller.judged_under(&changed),
                member: changed.clone(),
                event,
            })
            .await
            .map_err(write_failed)?;
        Ok(MemberView::new(&changed, &caller.roles()))
    }

    /// Ends every session the member has in this account (their other accounts are theirs):
    /// their tokens stop working here on the next request, and they sign in again.
    pub async fn end_member_sessions(&self, claim: &Claim, user_id: &str) -> Result<(), MemberError> {
        let (caller, member, ()) = self.administered(claim, user_id, async |_| Ok(())).await?;
        let roles = caller.judged_under(&member);
        let changed = member.sessions_ended(self.now());
        let event = self.member_event(&caller, &changed, AuditAction::MemberSessionsEnded, json!({}));
        self.store()
            .update_member(&MemberUpdate { member: changed, event, roles })
            .await
            .map_err(write_failed)
    }

    /// The owner turns a member's two-step verification off (a lost phone): every session of
    /// theirs ends, they are mailed, and they enroll again at their next sign-in. Only for a
    /// person who works in this account alone: another account's second step is not this
    /// owner's to remove.
    pub async fn reset_member_mfa(&self, claim: &Claim, user_id: &str) -> Result<(), MemberError> {
        let (caller, member, (login, user)) = self
            .administered(claim, user_id, async |user_id| {
                tokio::try_join!(self.store().login_by_id(user_id), self.store().user(user_id))
            })
            .await?;
        caller.require_recent_second_step(self.now())?;
        let (Some(login), Some(user)) = (login, user) else {
            return Err(MemberError::NotFound);
        };
        // The user's own count (read consistently, pending memberships included) decides; the
        // login's index copy only for a user stored before memberships were counted.
        let elsewhere = match user.has_one_membership() {
            Some(alone) => !alone,
            None => login.memberships.iter().any(|m| m.account.id != caller.account.id),
        };
        if elsewhere {
            return Err(MemberError::MemberOfOtherAccounts);
        }
        let user = user.second_factor_reset().map_err(|_| MemberError::MfaNotEnabled)?;
        let event = self.member_event(&caller, &member, AuditAction::MemberMfaReset, json!({}));
        self.store().save_user(&user, &[event], None).await.map_err(write_failed)?;
        let values = [("email", user.email.as_str()), ("account_name", caller.account.name.as_str())];
        let locale = user.locale.unwrap_or(caller.account.locale);
        let mail = self.mail().render(MailKind::SecondFactorReset, locale, &user.email, &values);
        if let Err(error) = self.ports.mailer.send(&mail).await {
            tracing::error!(%error, "the two-step reset notice was not sent");
        }
        Ok(())
    }

    /// Removes a member. Their email and phone become free again when this was their last
    /// account. The member and their user item are read with the caller (one round trip); a
    /// pending invitation's item, when the member has one, is read after them.
    pub async fn delete_member(&self, claim: &Claim, user_id: &str) -> Result<(), MemberError> {
        let (caller, member, user) =
            self.administered(claim, user_id, async |user_id| self.store().user(user_id).await).await?;
        let caller = &caller;
        caller.require_recent_second_step(self.now())?;
        let pending = match &member.invitation_id {
            Some(id) if member.status == MemberStatus::NotActivated => {
                self.store().invitation(&caller.account.id, id).await.map_err(store_failed("invitation"))?
            }
            _ => None,
        };
        let revoked = pending
            .filter(|i| i.status == InvitationStatus::Sent)
            .map(|i| i.revoked(Some(caller.user.id.clone()), self.now()));
        let event = self.member_event(
            caller,
            &member,
            AuditAction::MemberDeleted,
            json!({ "email": member.email.masked() }),
        );
        let roles = caller.judged_under(&member);
        let removal = self.removal_of(member, user, revoked, event).await.map_err(write_failed)?;
        self.store().remove_member(&MemberRemoval { roles, ..removal }).await.map_err(write_failed)
    }

    /// Removing `member` (and ending `invitation`, the one it came from): their user, read
    /// consistently, loses one membership, or goes when this was their last.
    pub(crate) async fn removal(
        &self,
        member: Member,
        invitation: Option<Invitation>,
        event: AuditEvent,
    ) -> Result<MemberRemoval, StoreError> {
        let user = self.store().user(&member.user_id).await?;
        self.removal_of(member, user, invitation, event).await
    }

    /// `removal`, with the user already read (consistently) beside the member.
    pub(crate) async fn removal_of(
        &self,
        member: Member,
        user: Option<User>,
        invitation: Option<Invitation>,
        event: AuditEvent,
    ) -> Result<MemberRemoval, StoreError> {
        let user = user.ok_or(StoreError::Conflict(Conflict::Stale))?;
        let last = match user.has_one_membership() {
            Some(last) => last,
            // A user stored before memberships were counted: ask their memberships.
            None => self
                .store()
                .login_by_id(&user.id)
                .await?
                .is_none_or(|login| login.memberships.iter().all(|m| m.account.id == member.account_id)),
        };
        let user = if last {
            UserAfterRemoval::Released(user)
        } else {
            UserAfterRemoval::Kept(user.left_membership())
        };
        Ok(MemberRemoval { user, member, end_invitation: invitation, event, roles: None })
    }
}
