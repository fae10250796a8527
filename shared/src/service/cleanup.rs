//! The scheduled cleanup: every `sent` invitation past its expiry becomes `expired`. In invitation
//! mode its `not_activated` member goes too, so the email can be invited again; direct mode keeps
//! the (active) user, who sets a password through password reset.

use futures::future::join_all;
use serde::Serialize;
use serde_json::json;
use std::time::Instant;

use crate::domain::{AuditAction, AuditTarget, Invitation, InvitationMode, Member};
use crate::ports::{PageRequest, StoreError, Withdrawal};
use crate::service::Teamgate;
use crate::service::support::failure::InternalError;

/// Invitations expired concurrently, one page at a time.
const BATCH: usize = 100;

#[derive(Debug, Default, Serialize)]
pub struct CleanupReport {
    pub expired: usize,
    /// Invitations accepted, revoked or expired by someone else while this run looked at them.
    pub already_handled: usize,
    /// False when the run stopped at its deadline; the next run goes on where it stopped.
    pub complete: bool,
}

impl Teamgate {
    /// Expires every lapsed invitation, stopping early at `deadline`. Safe to run twice at once:
    /// each expiry is conditional on the invitation still being `sent` with the same link.
    pub async fn expire_invitations(
        &self,
        deadline: Option<Instant>,
    ) -> Result<CleanupReport, InternalError> {
        let now = self.now();
        let mut report = CleanupReport::default();
        let mut after = None;
        loop {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(report);
            }
            let page = self.store().lapsed_invitations(now, &PageRequest { limit: BATCH, after }).await?;
            for outcome in join_all(page.items.into_iter().map(|i| self.expire(i))).await {
                match outcome {
                    Ok(()) => report.expired += 1,
                    Err(StoreError::Conflict(_)) => report.already_handled += 1,
                    Err(other) => return Err(other.into()),
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => {
                    report.complete = true;
                    return Ok(report);
                }
            }
        }
    }

    async fn expire(&self, invitation: Invitation) -> Result<(), StoreError> {
        let event = self.event(
            &invitation.account_id,
            None,
            AuditAction::InvitationExpired,
            AuditTarget::Invitation,
            invitation.id.as_str(),
            json!({ "expires_at": invitation.expires_at }),
        );
        match self.lapsed_member(&invitation).await? {
            Some(member) => {
                let removal = self.removal(member, Some(invitation.expired()), event).await?;
                self.store().remove_member(&removal).await
            }
            None => {
                let withdrawal = Withdrawal { invitation: invitation.expired(), event };
                self.store().withdraw_invitation(&withdrawal).await
            }
        }
    }

    /// Who leaves with a lapsed invitation: the invitee who never activated (invitation mode),
    /// an owner link's candidate included, but never the owner: an account is never left
    /// without its owner, who gets a fresh link through owner recovery.
    async fn lapsed_member(&self, invitation: &Invitation) -> Result<Option<Member>, StoreError> {
        if invitation.mode == InvitationMode::Direct {
            return Ok(None);
        }
        if invitation.for_owner {
            let account = self.store().account(&invitation.account_id).await?;
            if account.is_none_or(|a| a.owner_id == invitation.user_id) {
                return Ok(None);
            }
        }
        let member = self.store().member(&invitation.account_id, &invitation.user_id).await?;
        Ok(member.filter(|m| m.waits_on(&invitation.id)))
    }
}
