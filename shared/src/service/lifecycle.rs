//! What owners and administrators do with invitations after sending them: revoke and resend.

use serde_json::json;

use crate::domain::{
    AuditAction, AuditTarget, Invitation, InvitationId, InvitationMode, InvitationStatus, OneTimeToken,
    TokenPurpose,
};
use crate::ports::{Conflict, InviteeUser, Resend, StoreError, Withdrawal};
use crate::service::Teamgate;
use crate::service::caller::{Caller, CallerError};
use crate::service::failure::{Code, Failure, InternalError, retry_after_of};
use crate::service::invite::{Draft, display_name};
use crate::service::limits::RateLimited;
use crate::service::secrets::{hash_secret, new_secret};
use crate::service::views::InvitationView;

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error(transparent)]
    Caller(#[from] CallerError),
    #[error("no such invitation in this account")]
    NotFound,
    #[error("the owner's activation is handled by the operator (owner recovery)")]
    OwnerProtected,
    #[error("the invitation grants more than the caller holds")]
    RoleEscalation,
    #[error("the invitation is {0}, not pending")]
    NotPending(&'static str),
    #[error("the invitation was already accepted")]
    AlreadyAccepted,
    #[error("this invitation was sent too often in the last hour")]
    RateLimited(#[from] RateLimited),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

impl Failure for LifecycleError {
    fn code(&self) -> Code {
        match self {
            Self::Caller(e) => e.code(),
            Self::NotFound => Code::NotFound,
            Self::OwnerProtected => Code::OwnerProtected,
            Self::RoleEscalation => Code::RoleEscalation,
            Self::NotPending(_) => Code::InvitationNotPending,
            Self::AlreadyAccepted => Code::InvitationAlreadyAccepted,
            Self::RateLimited(_) => Code::RateLimited,
            Self::Internal(_) => Code::Internal,
        }
    }

    fn retry_after(&self) -> Option<u64> {
        retry_after_of(self)
    }
}

/// A resend's outcome: the same invitation with a new link, or a new invitation replacing an
/// expired or revoked one.
pub enum Resent {
    Renewed(InvitationView),
    Replaced(InvitationView),
}

fn status_name(status: InvitationStatus) -> &'static str {
    match status {
        InvitationStatus::Sent => "sent",
        InvitationStatus::Accepted => "accepted",
        InvitationStatus::Revoked => "revoked",
        InvitationStatus::Expired => "expired",
    }
}

impl Teamgate {
    /// The invitation `id` of the caller's account, if the caller may manage it.
    async fn managed_invitation(&self, caller: &Caller<'_>, id: &str) -> Result<Invitation, LifecycleError> {
        if !caller.can_manage_users() {
            return Err(CallerError::Forbidden.into());
        }
        let id = InvitationId::parse(id).ok_or(LifecycleError::NotFound)?;
        let invitation = self
            .store()
            .invitation(&caller.account.id, &id)
            .await
            .map_err(InternalError::from)?
            .ok_or(LifecycleError::NotFound)?;
        if invitation.for_owner {
            return Err(LifecycleError::OwnerProtected);
        }
        Ok(invitation)
    }

    /// Revokes a `sent` invitation: its link dies at once and, in invitation mode, the
    /// `not_activated` member disappears, so the email can be invited again.
    pub async fn revoke_invitation(
        &self,
        caller: &Caller<'_>,
        id: &str,
    ) -> Result<InvitationView, LifecycleError> {
        let invitation = self.managed_invitation(caller, id).await?;
        let now = self.now();
        match invitation.status_at(now) {
            InvitationStatus::Sent => {}
            other => return Err(LifecycleError::NotPending(status_name(other))),
        }
        let revoked = Invitation {
            status: InvitationStatus::Revoked,
            revoked_at: Some(now),
            revoked_by: Some(caller.user.id.clone()),
            ..invitation
        };
        let withdrawal = Withdrawal {
            drop_member: revoked.mode == InvitationMode::Invitation,
            event: self.event(
                &revoked.account_id,
                Some(&caller.user.id),
                AuditAction::InvitationRevoked,
                AuditTarget::Invitation,
                revoked.id.as_str(),
                json!({ "email": revoked.email.masked() }),
            ),
            invitation: revoked,
        };
        self.store().withdraw_invitation(&withdrawal).await.map_err(|e| match e {
            StoreError::Conflict(_) => LifecycleError::NotPending("no longer sent"),
            other => InternalError::from(other).into(),
        })?;
        Ok(InvitationView::new(&withdrawal.invitation, now))
    }

    /// Sends an invitation again. A `sent` one gets a new link and expiry (every older link dies);
    /// an expired or revoked one is replaced by a new invitation with the same email and grant.
    pub async fn resend_invitation(&self, caller: &Caller<'_>, id: &str) -> Result<Resent, LifecycleError> {
        let invitation = self.managed_invitation(caller, id).await?;
        if !caller.permissions.covers(&caller.preset.effective(&invitation.grant())) {
            return Err(LifecycleError::RoleEscalation);
        }
        match invitation.status_at(self.now()) {
            InvitationStatus::Accepted => Err(LifecycleError::AlreadyAccepted),
            InvitationStatus::Sent => self.renew(caller, invitation).await.map(Resent::Renewed),
            _ if invitation.mode == InvitationMode::Direct => Err(LifecycleError::NotPending(
                "past its link; the member is active and sets a password through password reset",
            )),
            _ => self.replace(caller, invitation).await.map(Resent::Replaced),
        }
    }

    async fn renew(
        &self,
        caller: &Caller<'_>,
        invitation: Invitation,
    ) -> Result<InvitationView, LifecycleError> {
        let now = self.now();
        let previous_token_hash = invitation.token_hash.clone();
        let original = invitation.clone();
        let mut renewed = invitation;
        renewed.record_send(now, caller.preset.resend_limit_per_hour).map_err(|wait| {
            LifecycleError::RateLimited(RateLimited { retry_after: seconds_to_wait(wait) })
        })?;
        let secret = new_secret(self.ports.rng.as_ref());
        renewed.token_hash = hash_secret(&secret);
        renewed.expires_at = now + self.invitation_lifetime(&caller.account, caller.preset);
        let waiting = self
            .store()
            .member(&renewed.account_id, &renewed.user_id)
            .await
            .map_err(InternalError::from)?
            .filter(|m| m.invitation_id.as_ref() == Some(&renewed.id) && m.pending_until.is_some());
        let member = waiting.clone().map(|m| crate::domain::Member {
            pending_until: Some(renewed.expires_at),
            version: m.version + 1,
            ..m
        });
        let resend = Resend {
            token: OneTimeToken {
                hash: renewed.token_hash.clone(),
                user_id: renewed.user_id.clone(),
                purpose: TokenPurpose::Invitation {
                    account_id: renewed.account_id.clone(),
                    invitation_id: renewed.id.clone(),
                },
                expires_at: renewed.expires_at,
            },
            previous_token_hash,
            member,
            event: Some(self.event(
                &renewed.account_id,
                Some(&caller.user.id),
                AuditAction::InvitationResent,
                AuditTarget::Invitation,
                renewed.id.as_str(),
                json!({ "send_count": renewed.send_count }),
            )),
            invitation: renewed,
        };
        self.store().resend_invitation(&resend).await.map_err(|e| match e {
            StoreError::Conflict(_) => LifecycleError::NotPending("no longer sent"),
            other => InternalError::from(other).into(),
        })?;
        let inviter = display_name(&caller.user);
        let sent =
            self.mail_invitation(&caller.account, caller.preset, &resend.invitation, &secret, None, &inviter);
        if let Err(error) = sent.await {
            // The new link never reached anyone: the invitation goes back to its previous link.
            let restored = waiting.map(|m| crate::domain::Member { version: m.version + 2, ..m });
            let undo = Resend {
                token: OneTimeToken {
                    hash: original.token_hash.clone(),
                    expires_at: original.expires_at,
                    ..resend.token
                },
                previous_token_hash: resend.invitation.token_hash,
                member: restored,
                event: None,
                invitation: original,
            };
            self.store().resend_invitation(&undo).await.map_err(InternalError::from)?;
            return Err(error.into());
        }
        Ok(InvitationView::new(&resend.invitation, now))
    }

    async fn replace(&self, caller: &Caller<'_>, old: Invitation) -> Result<InvitationView, LifecycleError> {
        let now = self.now();
        let member = self.store().member(&old.account_id, &old.user_id).await.map_err(InternalError::from)?;
        let supersedes =
            member.filter(|m| m.invitation_id.as_ref() == Some(&old.id)).and_then(|m| m.invitation_id);
        let mut drafted = self.draft_invitation(Draft {
            account: &caller.account,
            preset: caller.preset,
            email: old.email.clone(),
            grant: old.grant(),
            user: InviteeUser::Existing(old.user_id.clone()),
            profile: Default::default(),
            invited_by: Some(caller.user.id.clone()),
            for_owner: false,
            supersedes,
        });
        drafted.new.invitation.send_count = old.send_count + 1;
        drafted.new.invitation.last_sent_at = now;
        self.store().create_invitation(&drafted.new).await.map_err(|e| match e {
            StoreError::Conflict(Conflict::AlreadyMember) => {
                LifecycleError::NotPending("superseded by a newer invitation")
            }
            other => InternalError::from(other).into(),
        })?;
        self.mail_or_discard(&caller.account, caller.preset, &drafted, None, &display_name(&caller.user))
            .await?;
        Ok(InvitationView::new(&drafted.new.invitation, now))
    }
}

/// Whole seconds, rounded up, so that retrying after `Retry-After` succeeds.
fn seconds_to_wait(wait: chrono::Duration) -> u64 {
    u64::try_from((wait.num_milliseconds() + 999) / 1000).unwrap_or(0).max(1)
}
