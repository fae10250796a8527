//! Owner recovery, the support path to restore an owner's access: at most one live owner link
//! per account, started, read and cancelled by the operator.

use crate::domain::{
    Account, AccountId, AuditAction, AuditTarget, Email, FieldError, Invitation, InvitationId,
    InvitationStatus, Member, MemberStatus,
};
use crate::ports::{Conflict, InviteeUser, OwnerLinkChange, StoreError};
use crate::service::Teamgate;
use crate::service::accounts::OperatorError;
use crate::service::idempotency::Once;
use crate::service::support::failure::store_failed;
use crate::service::support::failure::{InternalError, Invalid};
use crate::service::support::views::InvitationView;

/// An owner-link change's conflict, as the operator's routes answer it.
fn link_change_failed(error: StoreError) -> OperatorError {
    match error {
        StoreError::Conflict(Conflict::EmailTaken | Conflict::AlreadyMember | Conflict::PhoneTaken) => {
            OperatorError::EmailTaken
        }
        StoreError::Conflict(_) => OperatorError::ConcurrentChange,
        other => store_failed("change_owner_link")(other).into(),
    }
}

impl Teamgate {
    /// The support path to restore an owner's access (after the marketplace verified the
    /// person): a fresh owner link goes to `new_email` and every other owner link dies with its
    /// pending candidate, in one write. Whoever accepts it becomes the owner, and the former owner
    /// keeps the preset's former-owner grant.
    ///
    /// The account, the new email's login and the attempt's count go in one round trip; the
    /// live owner link and its candidate are read after, as the account names them.
    pub async fn recover_owner(
        &self,
        account_id: &str,
        new_email: &str,
        once: Option<&Once>,
    ) -> Result<(), OperatorError> {
        let email = Email::parse(new_email).map_err(|e| {
            let mut error = FieldError::from(e);
            error.field = "new_email".into();
            Invalid::from(error)
        });
        let limit = self.settings.limits.owner_recovery_per_account;
        let id = AccountId::parse(account_id).ok_or(OperatorError::NotFound)?;
        let rule = [(format!("owner-recovery:{id}"), limit)];
        let login = async {
            match &email {
                Ok(email) => self.store().login_by_email(email).await,
                Err(_) => Ok(None),
            }
        };
        let (account, counted, login) =
            tokio::join!(self.operated_account(account_id), self.throttle(&rule), login);
        let account = account?;
        let email = email?;
        counted??;
        let login = login.map_err(store_failed("login_by_email"))?;
        let preset = self.preset(&account.preset);
        let live = self.live_owner_link(&account).await?;
        let candidate = self.owner_candidate(&account, live.as_ref()).await?;
        let (user, supersedes) = match login {
            // The owner never activated: a fresh link replaces theirs, live or ended.
            Some(login) if login.user.id == account.owner_id => {
                let member =
                    self.store().member(&account.id, &login.user.id).await.map_err(store_failed("member"))?;
                match member {
                    Some(member) if member.status == MemberStatus::NotActivated => (
                        InviteeUser::Existing(self.invitee(&login.user.id, true).await?),
                        member.invitation_id,
                    ),
                    _ => return Err(OperatorError::EmailTaken),
                }
            }
            // The same candidate again: their new link replaces their old one.
            Some(login) if candidate.as_ref().is_some_and(|c| c.user_id == login.user.id) => {
                let supersedes = candidate.as_ref().and_then(|c| c.invitation_id.clone());
                (InviteeUser::Existing(self.invitee(&login.user.id, true).await?), supersedes)
            }
            other => (self.owner_invitee(other, &email, &account.id, account.locale, preset).await?, None),
        };
        // The pending member is marked owner from the start, so nobody but the owner can touch it.
        let mut drafted = self.draft_owner_invitation(&account, preset, email, user);
        drafted.new.supersedes = supersedes;
        drafted.new.event.action = AuditAction::OwnerRecoveryStarted;
        let accepted = http::StatusCode::ACCEPTED;
        drafted.new.remembered = once.map(|once| once.remember(accepted, &serde_json::json!({}), self.now()));
        let candidate = candidate.filter(|c| c.user_id != drafted.new.member.user_id);
        let mut change =
            self.owner_link_cancellation(&account, live, candidate, Some(&drafted.new.invitation.id)).await?;
        change.new_link = Some(drafted.new.clone());
        self.store().change_owner_link(&change).await.map_err(link_change_failed)?;
        self.dispatch(&drafted.new.mail).await;
        Ok(())
    }

    /// `GET /v1/operator/accounts/{id}/owner-recovery`: the account's live owner link (a
    /// recovery, or the activation of an owner who never activated).
    pub async fn owner_recovery(&self, account_id: &str) -> Result<InvitationView, OperatorError> {
        let account = self.operated_account(account_id).await?;
        let now = self.now();
        let live = self.live_owner_link(&account).await?;
        let link =
            live.filter(|i| i.status_at(now) == InvitationStatus::Sent).ok_or(OperatorError::NotFound)?;
        Ok(InvitationView::new(&link, now))
    }

    /// `DELETE /v1/operator/accounts/{id}/owner-recovery`: the live owner link dies with its
    /// candidate (never the owner); no owner link is left.
    pub async fn cancel_owner_recovery(&self, account_id: &str) -> Result<(), OperatorError> {
        let account = self.operated_account(account_id).await?;
        let live = self.live_owner_link(&account).await?.ok_or(OperatorError::NotFound)?;
        let candidate = self.owner_candidate(&account, Some(&live)).await?;
        let change = self.owner_link_cancellation(&account, Some(live), candidate, None).await?;
        self.store().change_owner_link(&change).await.map_err(link_change_failed)
    }

    pub(crate) async fn operated_account(&self, account_id: &str) -> Result<Account, OperatorError> {
        let account_id = AccountId::parse(account_id).ok_or(OperatorError::NotFound)?;
        self.store()
            .account(&account_id)
            .await
            .map_err(store_failed("account"))?
            .ok_or(OperatorError::NotFound)
    }

    /// The account's owner link, while it is stored as `sent` (past its expiry included: the
    /// cleanup may not have recorded that yet).
    async fn live_owner_link(&self, account: &Account) -> Result<Option<Invitation>, InternalError> {
        let Some(id) = &account.owner_link else {
            return Ok(None);
        };
        let link = self.store().invitation(&account.id, id).await?;
        Ok(link.filter(|i| i.status == InvitationStatus::Sent))
    }

    /// The person an owner link waits on, unless that is the owner (who never activated).
    async fn owner_candidate(
        &self,
        account: &Account,
        link: Option<&Invitation>,
    ) -> Result<Option<Member>, InternalError> {
        let Some(link) = link.filter(|l| l.user_id != account.owner_id) else {
            return Ok(None);
        };
        let member = self.store().member(&account.id, &link.user_id).await?;
        Ok(member.filter(|m| m.waits_on(&link.id)))
    }

    /// The change that ends `live` (revoked by the operator) and removes `candidate`, leaving
    /// `next` as the account's owner link.
    async fn owner_link_cancellation(
        &self,
        account: &Account,
        live: Option<Invitation>,
        candidate: Option<Member>,
        next: Option<&InvitationId>,
    ) -> Result<OwnerLinkChange, StoreError> {
        let cancelled = live.map(|link| link.revoked(None, self.now()));
        let revoked_event = cancelled.as_ref().map(|link| {
            self.event(
                &account.id,
                None,
                AuditAction::InvitationRevoked,
                AuditTarget::Invitation,
                link.id.as_str(),
                serde_json::json!({ "email": link.email.masked(), "owner_link": true }),
            )
        });
        let (dropped_candidate, events) = match (candidate, revoked_event) {
            (Some(member), Some(event)) => (Some(self.removal(member, None, event).await?), Vec::new()),
            (_, event) => (None, event.into_iter().collect()),
        };
        Ok(OwnerLinkChange {
            account: account.clone().with_owner_link(next.cloned()),
            cancelled,
            dropped_candidate,
            new_link: None,
            events,
        })
    }
}
