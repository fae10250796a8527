//! SES's reports on the mail Teamgate sent (README, "React to team changes"). Every invitation
//! mail carries tags naming its account, invitation and send (`invitation_tags`), which SES gives
//! back with each delivery, bounce and complaint; the invitation records what became of its last
//! mail, a bounce or complaint is audited, and its inviter is told.

use serde_json::json;

use super::Teamgate;
use super::support::failure::{InternalError, store_failed};
use crate::domain::MailKind;
use crate::domain::{
    AccountId, AuditAction, AuditTarget, Invitation, InvitationId, InvitationStatus, Locale, MailOutcome,
    MemberStatus,
};
use crate::ports::{DeliveryReport, StoreError};

pub const TAG_ACCOUNT: &str = "teamgate-account";
pub const TAG_INVITATION: &str = "teamgate-invitation";
pub const TAG_SEND: &str = "teamgate-send";

/// The tags of an invitation's mail: what a report on it is matched by.
pub fn invitation_tags(invitation: &Invitation) -> Vec<(String, String)> {
    vec![
        (TAG_ACCOUNT.to_owned(), invitation.account_id.to_string()),
        (TAG_INVITATION.to_owned(), invitation.id.to_string()),
        (TAG_SEND.to_owned(), invitation.send_count.to_string()),
    ]
}

/// One report of SES on a message Teamgate tagged, as read from its tags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailEvent {
    pub account_id: String,
    pub invitation_id: String,
    pub send: u32,
    pub outcome: MailOutcome,
}

/// What a report did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reported {
    /// The invitation records it.
    Recorded,
    /// Nothing to record: no such invitation, a report of an earlier mail, or one already known.
    Ignored,
}

/// Each lost race means another report moved the invitation forward, which a mail's reports do
/// at most four times (to delivered, bounced, refused, complained); a resend makes the report
/// stale. So a report settles within this many reads.
const ATTEMPTS: usize = 6;

impl Teamgate {
    /// Records SES's report on an invitation's mail. Reports come at least once and in any
    /// order: one that changes nothing is ignored, and one that lost a race with another is
    /// judged again on what won.
    pub async fn record_mail_event(&self, report: &MailEvent) -> Result<Reported, InternalError> {
        let (Some(account), Some(id)) =
            (AccountId::parse(&report.account_id), InvitationId::parse(&report.invitation_id))
        else {
            return Ok(Reported::Ignored);
        };
        for _ in 0..ATTEMPTS {
            let read = self.store().invitation(&account, &id).await.map_err(store_failed("invitation"))?;
            let Some(read) = read else { return Ok(Reported::Ignored) };
            let Some(invitation) = read.reported(report.send, report.outcome) else {
                return Ok(Reported::Ignored);
            };
            let audited = match report.outcome {
                MailOutcome::Delivered => None,
                MailOutcome::Bounced { permanent } => {
                    Some((AuditAction::InvitationBounced, json!({ "permanent": permanent })))
                }
                MailOutcome::Complained => Some((AuditAction::InvitationComplained, json!({}))),
            };
            let audit = audited.map(|(action, details)| {
                self.event(&account, None, action, AuditTarget::Invitation, id.as_str(), details)
            });
            let told = audit.is_some();
            let delivery = DeliveryReport { read, invitation: invitation.clone(), event: audit };
            match self.store().record_delivery(&delivery).await {
                Ok(()) => {
                    if told {
                        self.tell_inviter(&invitation, report.outcome).await;
                    }
                    return Ok(Reported::Recorded);
                }
                // Another report (or a resend) changed it since it was read: judge again.
                Err(StoreError::Conflict(_)) => continue,
                Err(other) => return Err(store_failed("record_delivery")(other)),
            }
        }
        Err(InternalError::new("recording a mail report", "the invitation kept changing"))
    }

    /// Tells whoever sent a still pending invitation that it could not be delivered, while they
    /// are an active member of its account (someone removed or blocked since learns nothing of
    /// it). A failure is logged and left: the report stands, and SES's next report of that mail
    /// changes nothing.
    async fn tell_inviter(&self, invitation: &Invitation, outcome: MailOutcome) {
        let Some(inviter) = invitation.invited_by.as_ref() else { return };
        if invitation.status_at(self.now()) != InvitationStatus::Sent {
            return;
        }
        let account = &invitation.account_id;
        let (user, member, account) = tokio::join!(
            self.store().user(inviter),
            self.store().member(account, inviter),
            self.store().account(account)
        );
        let (inviter, account) = match (user, member, account) {
            (Ok(Some(user)), Ok(Some(member)), Ok(Some(account)))
                if member.status == MemberStatus::Active =>
            {
                (user, account)
            }
            (Ok(_), Ok(_), Ok(_)) => return,
            (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => {
                tracing::error!(%error, "reading whom to tell of an undelivered invitation");
                return;
            }
        };
        let locale = inviter.locale.unwrap_or(account.locale);
        let mail = self.mail().render(
            MailKind::InvitationUndelivered,
            locale,
            &inviter.email,
            &[
                ("email", invitation.email.as_str()),
                ("account_name", &account.name),
                ("marketplace", &self.preset(&account.preset).name),
                ("reason", reason(outcome, locale)),
                ("inviter_email", inviter.email.as_str()),
            ],
        );
        if let Err(error) = self.ports.mailer.send(&mail).await {
            tracing::error!(%error, "telling the inviter of an undelivered invitation");
        }
    }
}

/// What happened to the mail, in the inviter's language.
fn reason(outcome: MailOutcome, locale: Locale) -> &'static str {
    match (outcome, locale) {
        (MailOutcome::Bounced { permanent: true }, Locale::En) => {
            "the address does not exist or refuses mail."
        }
        (MailOutcome::Bounced { permanent: true }, Locale::Uk) => {
            "адреси не існує або вона не приймає листів."
        }
        (MailOutcome::Bounced { permanent: true }, Locale::Pl) => {
            "adres nie istnieje lub nie przyjmuje poczty."
        }
        (MailOutcome::Bounced { permanent: false }, Locale::En) => {
            "the mailbox is full or was unavailable for too long."
        }
        (MailOutcome::Bounced { permanent: false }, Locale::Uk) => {
            "скринька переповнена або надто довго була недоступна."
        }
        (MailOutcome::Bounced { permanent: false }, Locale::Pl) => {
            "skrzynka jest pełna lub zbyt długo była niedostępna."
        }
        (_, Locale::En) => "the recipient marked the invitation as spam.",
        (_, Locale::Uk) => "одержувач позначив запрошення як спам.",
        (_, Locale::Pl) => "odbiorca oznaczył zaproszenie jako spam.",
    }
}
