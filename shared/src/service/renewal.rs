//! An invitee whose link expired asks for a new one (`POST /v1/invitations/renewal-requests`):
//! the people who manage the team are mailed, the invitation's history and the audit log show
//! it, and a manager sends the invitation again in one action (`…/resend`). The answer is the
//! same whatever the link was, so the request tells a stranger nothing about any account.

use serde_json::json;

use crate::domain::permission::USERS_WRITE;
use crate::domain::{Account, AuditAction, AuditTarget, Invitation, MailKind, Member, MemberStatus};
use crate::failure_codes;
use crate::ports::{Letter, MemberQuery, PageRequest, PendingMail, Redemption, RenewalRequest, StoreError};
use crate::service::Teamgate;
use crate::service::support::failure::{InternalError, RateLimited, store_failed};
use crate::service::support::secrets::read_link_token;

/// The most people one request mails: the inviter and the owner first, then other managers.
const MOST_RECIPIENTS: usize = 10;
/// How many pages of members are read to find the managers (an account's managers are few,
/// and mostly its first members).
const MEMBER_PAGES: usize = 10;
/// How long a request's mail may wait in the outbox.
const MAIL_LIFETIME: chrono::Duration = chrono::Duration::days(7);

/// What became of one attempt to write a request.
enum Asked {
    /// Written, or nothing to ask.
    Done,
    LostARace,
}

#[derive(Debug, thiserror::Error)]
pub enum RenewalError {
    #[error("rate limited")]
    RateLimited(#[from] RateLimited),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

failure_codes!(RenewalError {
    RateLimited(_) => RateLimited,
    Internal(_) => Internal,
});

impl Teamgate {
    /// Records the request and mails the managers when `token` is the last link of a member's
    /// invitation that lapsed unused and no one asked since; does nothing otherwise. Counted per
    /// client, whatever the token, while the link is read; then the managers are read, and the
    /// request written with their mail.
    pub async fn request_renewal(&self, token: &str, client: &str) -> Result<(), RenewalError> {
        let limit = self.settings.limits.renewal_per_client;
        let rule = [(format!("renewal-client:{client}"), limit)];
        let (counted, redemption) = tokio::join!(self.throttle(&rule), self.link_of(token));
        counted??;
        let mut redemption = redemption?;
        // A write that lost a race to the cleanup or a report of the mail is tried once more.
        for _ in 0..2 {
            match self.ask_for_renewal(redemption).await? {
                Asked::Done => return Ok(()),
                Asked::LostARace => redemption = self.link_of(token).await?,
            }
        }
        Ok(())
    }

    /// Writes the request for `redemption`'s invitation, if it is one to ask for, and mails it.
    async fn ask_for_renewal(&self, redemption: Option<Redemption>) -> Result<Asked, RenewalError> {
        let Some(Redemption { invitation, account, member, .. }) = redemption else { return Ok(Asked::Done) };
        // A link the invitation was sent again since (its invitee waits on the new one, or joined
        // with it) asks for nothing.
        if member.is_some_and(|m| !m.waits_on(&invitation.id)) {
            return Ok(Asked::Done);
        }
        let Some(asked) = invitation.renewal_asked(self.now()) else { return Ok(Asked::Done) };
        let mails = self.renewal_mails(&account, &asked).await?;
        let event = self.event(
            &account.id,
            Some(&asked.user_id),
            AuditAction::InvitationRenewalRequested,
            AuditTarget::Invitation,
            asked.id.as_str(),
            json!({ "email": asked.email.masked(), "expired_at": asked.expires_at, "managers_mailed": mails.len() }),
        );
        let request = RenewalRequest { invitation: asked, event, mails };
        match self.store().request_renewal(&request).await {
            // Someone asked, sent it again or wrote it otherwise meanwhile: read it again.
            Err(StoreError::Conflict(_)) => return Ok(Asked::LostARace),
            written => written.map_err(store_failed("request_renewal"))?,
        }
        for mail in &request.mails {
            self.dispatch(mail).await;
        }
        Ok(Asked::Done)
    }

    /// What `token` is the last link of, if anything.
    async fn link_of(&self, token: &str) -> Result<Option<Redemption>, InternalError> {
        let Some((hash, names)) = read_link_token(token) else { return Ok(None) };
        let redemption =
            self.store().redemption(&hash, names.as_ref()).await.map_err(store_failed("redemption"))?;
        Ok(redemption.filter(|r| r.invitation.token_hash == hash))
    }

    /// A mail to each active member who manages the team, the inviter and the owner first.
    async fn renewal_mails(
        &self,
        account: &Account,
        invitation: &Invitation,
    ) -> Result<Vec<PendingMail>, InternalError> {
        let preset = self.preset(&account.preset);
        let roles = account.roles(preset);
        let mut managers: Vec<Member> = Vec::new();
        let query = MemberQuery { status: Some(MemberStatus::Active), ..MemberQuery::default() };
        let mut after = None;
        for _ in 0..MEMBER_PAGES {
            let page = self
                .store()
                .members(&account.id, &query, &PageRequest { limit: 100, after })
                .await
                .map_err(store_failed("members"))?;
            managers.extend(
                page.items.into_iter().filter(|m| m.effective_permissions(&roles).allows(&USERS_WRITE)),
            );
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let first = |m: &Member| (invitation.invited_by.as_ref() != Some(&m.user_id), !m.is_owner);
        managers.sort_by_key(first);
        let values = |manager: &Member| {
            [
                ("email", invitation.email.to_string()),
                ("account_name", account.name.clone()),
                ("marketplace", preset.name.clone()),
                ("manager_email", manager.email.to_string()),
            ]
        };
        Ok(managers
            .iter()
            .take(MOST_RECIPIENTS)
            .map(|manager| {
                let letter =
                    Letter::new(MailKind::RenewalRequested, account.locale, &manager.email, values(manager));
                let key = format!("renewal:{}:{}", invitation.id, manager.user_id);
                self.outbox_mail(key, letter, None, None, self.now() + MAIL_LIFETIME)
            })
            .collect())
    }
}
