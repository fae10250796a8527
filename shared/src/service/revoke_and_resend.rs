//! What owners and administrators do with invitations after sending them: revoke and resend.

use serde_json::json;

use crate::domain::{
    AddressRefused, AuditAction, AuditTarget, Invitation, InvitationId, InvitationMode, InvitationStatus,
    OneTimeToken, TokenPurpose,
};
use crate::failure_codes;
use crate::ports::{Conflict, MemberRemoval, Resend, StoreError, Withdrawal};
use crate::service::Teamgate;
use crate::service::caller::{Caller, CallerError, Claim, Untouchable};
use crate::service::idempotency::Once;
use crate::service::invite::{
    InvitationRequest, InviteError, Invitee, display_name, refused_domain, seconds_to_wait,
};
use crate::service::support::failure::InternalError;
use crate::service::support::failure::Invalid;
use crate::service::support::failure::RateLimited;
use crate::service::support::failure::store_failed;
use crate::service::support::secrets::{hash_secret, link_token};
use crate::service::support::views::InvitationView;

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
    #[error("the person has already set a password; block or delete the member instead")]
    MemberAlreadyActive,
    #[error("the invitation or its member changed meanwhile")]
    ConcurrentChange,
    #[error(transparent)]
    AddressRefused(#[from] AddressRefused),
    #[error(transparent)]
    Invite(#[from] InviteError),
    #[error("this invitation was sent too often in the last hour")]
    RateLimited(#[from] RateLimited),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

failure_codes!(LifecycleError {
    NotFound => NotFound,
    OwnerProtected => OwnerProtected,
    RoleEscalation => RoleEscalation,
    NotPending(_) => InvitationNotPending,
    AlreadyAccepted => InvitationAlreadyAccepted,
    MemberAlreadyActive => MemberAlreadyActive,
    ConcurrentChange => ConcurrentChange,
    AddressRefused(_) => AddressRefused,
    RateLimited(_) => RateLimited,
    Internal(_) => Internal,
}
delegating { Caller, Invite });

impl From<Untouchable> for LifecycleError {
    fn from(refusal: Untouchable) -> Self {
        match refusal {
            Untouchable::Owner => Self::OwnerProtected,
            Untouchable::HoldsMore => Self::RoleEscalation,
        }
    }
}

/// A conditional write's conflict, as revoke and resend answer it: the invitation left `sent`
/// (accepted, revoked, renewed) or its member changed meanwhile.
fn write_failed(error: StoreError) -> LifecycleError {
    match error {
        StoreError::Conflict(Conflict::TokenSpent) => LifecycleError::NotPending("no longer sent"),
        StoreError::Conflict(_) => LifecycleError::ConcurrentChange,
        other => InternalError::from(other).into(),
    }
}

impl LifecycleError {
    /// Whether the write lost to what a mail's send or SES's report records on the invitation
    /// (its `delivery`), seconds after each invitation: then the change is made once more from
    /// a fresh read, which tells a real change (accepted, revoked, renewed) from that.
    fn may_be_a_report(&self) -> bool {
        matches!(self, Self::NotPending("no longer sent") | Self::ConcurrentChange)
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
    /// The invitation `id` of the claimed account, if the caller may manage it (they hold
    /// `users:write` and at least everything it grants; the owner holds everything), read with
    /// the caller: one round trip.
    async fn managed_invitation(
        &self,
        claim: &Claim,
        id: &str,
    ) -> Result<(Caller<'_>, Invitation), LifecycleError> {
        let account = claim.account()?;
        let id = InvitationId::parse(id);
        let (caller, invitation) = self
            .caller_with_some(claim, id.as_ref(), async |id| self.store().invitation(&account, id).await)
            .await?;
        let invitation =
            invitation.map_err(store_failed("invitation"))?.flatten().ok_or(LifecycleError::NotFound)?;
        if invitation.for_owner {
            return Err(LifecycleError::OwnerProtected);
        }
        if !caller.permissions.covers(&caller.roles().effective(&invitation.grant())) {
            return Err(LifecycleError::RoleEscalation);
        }
        Ok((caller, invitation))
    }

    /// Revokes a `sent` invitation: its link dies at once and the person it let in goes (their
    /// login too, if it was their only one), so the email can be invited again. A direct-mode
    /// member who already set a password is refused: they are in, and are blocked or deleted.
    ///
    /// The invitation is read with the caller; the person it names (member and user item) only
    /// then, as its id is on the invitation: two reads, then the write.
    pub async fn revoke_invitation(&self, claim: &Claim, id: &str) -> Result<InvitationView, LifecycleError> {
        match self.revoke_as_read(claim, id).await {
            Err(lost) if lost.may_be_a_report() => self.revoke_as_read(claim, id).await,
            other => other,
        }
    }

    async fn revoke_as_read(&self, claim: &Claim, id: &str) -> Result<InvitationView, LifecycleError> {
        let (caller, invitation) = self.managed_invitation(claim, id).await?;
        let caller = &caller;
        let now = self.now();
        match invitation.status_at(now) {
            InvitationStatus::Sent => {}
            other => return Err(LifecycleError::NotPending(status_name(other))),
        }
        let (member, user) = tokio::join!(
            self.store().member(&invitation.account_id, &invitation.user_id),
            self.store().user(&invitation.user_id)
        );
        let member = member
            .map_err(store_failed("member"))?
            .filter(|m| m.invitation_id.as_ref() == Some(&invitation.id));
        let revoked = invitation.revoked(Some(caller.user.id.clone()), now);
        let event = self.event(
            &revoked.account_id,
            Some(&caller.user.id),
            AuditAction::InvitationRevoked,
            AuditTarget::Invitation,
            revoked.id.as_str(),
            json!({ "email": revoked.email.masked() }),
        );
        let written = match member {
            None => {
                let withdrawal = Withdrawal { invitation: revoked.clone(), event };
                self.store().withdraw_invitation(&withdrawal).await
            }
            Some(member) => {
                // Their grant may have been raised past the invitation's since it was sent.
                caller.administers(&member)?;
                let roles = caller.judged_under(&member);
                let user = user.map_err(store_failed("user"))?;
                let removal = self
                    .removal_of(member, user, Some(revoked.clone()), event)
                    .await
                    .map_err(write_failed)?;
                let removal = MemberRemoval { roles, ..removal };
                if removal.user.user().password_hash.is_some() && revoked.mode == InvitationMode::Direct {
                    return Err(LifecycleError::MemberAlreadyActive);
                }
                self.store().remove_member(&removal).await
            }
        };
        written.map_err(write_failed)?;
        Ok(InvitationView::new(&revoked, now))
    }

    /// Sends an invitation again. A `sent` one gets a new link and expiry (every older link dies);
    /// a revoked or expired one is replaced by a new invitation with the same email and grant,
    /// which passes every check a new invitation passes.
    /// Sends an invitation again; to an address that refused mail (a hard bounce, a complaint)
    /// only `deliberately`.
    pub async fn resend_invitation(
        &self,
        claim: &Claim,
        id: &str,
        deliberately: bool,
        once: Option<&Once>,
    ) -> Result<Resent, LifecycleError> {
        match self.resend_as_read(claim, id, deliberately, once).await {
            Err(lost) if lost.may_be_a_report() => self.resend_as_read(claim, id, deliberately, once).await,
            other => other,
        }
    }

    async fn resend_as_read(
        &self,
        claim: &Claim,
        id: &str,
        deliberately: bool,
        once: Option<&Once>,
    ) -> Result<Resent, LifecycleError> {
        let (caller, invitation) = self.managed_invitation(claim, id).await?;
        let caller = &caller;
        let status = invitation.status_at(self.now());
        if status != InvitationStatus::Accepted {
            invitation.may_mail_again(deliberately)?;
        }
        match status {
            InvitationStatus::Accepted => Err(LifecycleError::AlreadyAccepted),
            InvitationStatus::Sent => self.renew(caller, invitation, once).await.map(Resent::Renewed),
            InvitationStatus::Expired if invitation.mode == InvitationMode::Direct => {
                Err(LifecycleError::NotPending(
                    "past its link; the member is active and sets a password through password reset",
                ))
            }
            _ => {
                let request = InvitationRequest {
                    email: invitation.email.clone(),
                    grant: invitation.grant(),
                    profile: Default::default(),
                    locale: None,
                    message: invitation.message.clone(),
                    replaces: Some(&invitation),
                    once,
                };
                Ok(Resent::Replaced(self.send_invitation(caller, &request, Invitee::Unread).await?))
            }
        }
    }

    async fn renew(
        &self,
        caller: &Caller<'_>,
        invitation: Invitation,
        once: Option<&Once>,
    ) -> Result<InvitationView, LifecycleError> {
        let now = self.now();
        let previous_token_hash = invitation.token_hash.clone();
        let previous_delivery = invitation.delivery;
        if let Some(refused) = refused_domain(caller, &invitation.email) {
            return Err(InviteError::Invalid(Invalid::from(refused)).into());
        }
        let secret = link_token(self.ports.rng.as_ref(), &invitation.link_names());
        let expires_at = now + caller.account.settings.invitation_lifetime(caller.preset);
        let limit = caller.preset.resend_limit_per_hour;
        let renewed = invitation.renewed(hash_secret(&secret), expires_at, now, limit).map_err(|wait| {
            LifecycleError::RateLimited(RateLimited { retry_after: seconds_to_wait(wait) })
        })?;
        // The member waiting on the invitation is read while the mail is counted.
        let (waiting, counted) = tokio::join!(
            self.store().member(&renewed.account_id, &renewed.user_id),
            self.throttle_invitation_mail(caller, &renewed.email)
        );
        let waiting = waiting
            .map_err(store_failed("member"))?
            .filter(|m| m.invitation_id.as_ref() == Some(&renewed.id));
        if let Some(member) = &waiting {
            caller.administers(member)?;
        }
        counted??;
        let member =
            waiting.filter(|m| m.pending_until.is_some()).map(|m| m.pending_until(renewed.expires_at));
        let resent = self.event(
            &renewed.account_id,
            Some(&caller.user.id),
            AuditAction::InvitationResent,
            AuditTarget::Invitation,
            renewed.id.as_str(),
            json!({ "send_count": renewed.send_count }),
        );
        let inviter = display_name(&caller.user);
        let mail = self.invitation_mail(&caller.account, caller.preset, &renewed, &secret, None, &inviter);
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
            previous_delivery,
            member,
            event: resent,
            mail,
            remembered: once
                .map(|once| once.remember(http::StatusCode::OK, &InvitationView::new(&renewed, now), now)),
            invitation: renewed,
        };
        self.store().resend_invitation(&resend).await.map_err(write_failed)?;
        self.dispatch(&resend.mail).await;
        Ok(InvitationView::new(&resend.invitation, now))
    }
}
