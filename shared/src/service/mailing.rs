//! The outbox: every link's mail is written into the table in the same write as the change it
//! tells of (`ports::PendingMail`), and sent after it. So an SES outage never fails a request,
//! and no mail ever goes out for a change that was not written.
//!
//! In AWS the `mail-events` function sends each mail as the table's stream brings it, and sweeps the
//! outbox every few minutes for the mails whose send failed; the dev server sends right after
//! the write (`MailDispatch::Inline`) and sweeps every minute and on `POST /_dev/cleanup`. A
//! mail whose every attempt failed, or that SES refused, is given up: its invitation shows
//! `failed`. Delivery is at least once: a send whose answer was lost is sent again, with the
//! same link (SES's `SendEmail` takes no idempotency key).

use chrono::{DateTime, TimeDelta, Utc};
use futures::future::join_all;
use serde::Serialize;
use std::time::Instant;

use crate::domain::{Delivery, Invitation, InvitationId, InvitationStatus};
use crate::ports::{DeliveryReport, Letter, MailError, MailedLink, MailedReset, PendingMail, StoreError};
use crate::service::Teamgate;
use crate::service::support::failure::{InternalError, store_failed};
use crate::service::support::mail::MailTemplates;

/// Who sends a mail first, right after the write that put it in the outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailDispatch {
    /// The request itself, once written (the dev server, tests): a failure leaves the mail to
    /// the sweep, never fails the request.
    Inline,
    /// The `mail-events` function, as the table's stream brings the mail (AWS); tests that run
    /// the routes as they run there stand in for the stream themselves.
    Stream,
}

/// Attempts before a mail is given up.
pub const MAIL_ATTEMPTS: u32 = 8;
/// How long the sweep leaves a new mail to its first send (the request's, or the stream's),
/// past any request's end, so that the two never send it at once.
pub const SWEEP_GRACE: TimeDelta = TimeDelta::minutes(2);
/// The wait after the first failed attempt; it doubles after each, up to `LONGEST_WAIT`
/// (eight attempts span about two hours).
const FIRST_WAIT: TimeDelta = TimeDelta::minutes(1);
const LONGEST_WAIT: TimeDelta = TimeDelta::hours(1);
/// Mails the sweep sends at once.
const SWEEP_BATCH: usize = 25;
/// Mails one sweep reads from the outbox (the next run reads on).
const SWEEP_LIMIT: usize = 500;
/// Times the outcome of a send is written again when its invitation changed meanwhile.
const SETTLE_ATTEMPTS: usize = 3;

/// The outbox key of an invitation's mail: one per invitation, so a resend's mail replaces the
/// previous link's if that was not sent yet.
pub(crate) fn invitation_mail_key(id: &InvitationId) -> String {
    format!("INVITATION#{id}")
}

/// The outbox key of a reset link's mail: one per link (random: logs name it).
pub(crate) fn reset_mail_key() -> String {
    format!("RESET#{}", uuid::Uuid::new_v4())
}

/// What became of one mail of the outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Handed {
    Sent,
    /// The send failed; the sweep tries again later.
    Postponed,
    /// Refused by SES, out of attempts, or its link dead: nobody is mailed.
    GivenUp,
    /// Not in the outbox (sent already), replaced by a newer mail (sent on its own), or claimed
    /// by another sender.
    Gone,
}

#[derive(Debug, Default, Serialize)]
pub struct SweepReport {
    pub sent: usize,
    pub postponed: usize,
    pub given_up: usize,
    /// Mails whose attempt failed on the table's side (logged); the next run tries them again.
    pub failed: usize,
    /// False when the run stopped at its deadline or left mails unread; the next run goes on.
    pub complete: bool,
}

impl Teamgate {
    /// A mail into the outbox under `key`, carrying `link`'s invitation link or `reset`'s reset
    /// link when it has one, given up once `expires_at` passes; the sweep's once its first send
    /// had its chance.
    pub(crate) fn outbox_mail(
        &self,
        key: String,
        letter: Letter,
        link: Option<MailedLink>,
        reset: Option<MailedReset>,
        expires_at: DateTime<Utc>,
    ) -> PendingMail {
        let now = self.now();
        PendingMail {
            key,
            version: new_version(),
            letter,
            invitation: link,
            reset,
            created_at: now,
            attempts: 0,
            due_at: now + SWEEP_GRACE,
            expires_at,
        }
    }

    /// After the write that put `mail` in the outbox: sent now where dispatch is inline. Only
    /// the dev server and the tests link this (the `inline-mail` feature): a Lambda function's
    /// mail is the stream's, and its binary leaves the sending out. A failure is logged and
    /// left to the sweep; the request that wrote the mail succeeds regardless.
    pub(crate) async fn dispatch(&self, mail: &PendingMail) {
        #[cfg(feature = "inline-mail")]
        if self.settings.mail_dispatch == MailDispatch::Inline
            && let Err(error) = self.hand_over(mail).await
        {
            tracing::warn!(%error, key = mail.key, "an outbox mail was left to the sweep");
        }
        #[cfg(not(feature = "inline-mail"))]
        let _ = mail;
    }

    /// Sends the outbox's mail under `key` as the table's stream brings it (written, or replaced
    /// by a resend's), unless a sender already claimed it: that one's retries are the sweep's.
    pub async fn send_outbox_mail(&self, key: &str) -> Result<Handed, InternalError> {
        match self.store().pending_mail(key).await.map_err(store_failed("pending_mail"))? {
            Some(mail) if mail.attempts == 0 => self.hand_over(&mail).await,
            _ => Ok(Handed::Gone),
        }
    }

    /// Sends every mail of the outbox that is due, stopping early at `deadline`.
    pub async fn sweep_outbox(&self, deadline: Option<Instant>) -> Result<SweepReport, InternalError> {
        let due = self.store().due_mail(self.now(), SWEEP_LIMIT).await.map_err(store_failed("due_mail"))?;
        self.send_each(deadline, due).await
    }

    /// Sends every mail no sender has claimed yet, due or not, as the table's stream brings the
    /// mail function each one written: the dev server after each request, and tests that run
    /// the routes as they run in AWS (`MailDispatch`).
    pub async fn send_new_outbox_mail(&self) -> Result<SweepReport, InternalError> {
        let every = self.store().due_mail(DateTime::<Utc>::MAX_UTC, SWEEP_LIMIT);
        let new = every.await.map_err(store_failed("due_mail"))?.into_iter().filter(|m| m.attempts == 0);
        self.send_each(None, new.collect()).await
    }

    /// Sends `due`, `SWEEP_BATCH` at once, until none is left or `deadline`. A mail whose
    /// attempt failed is logged and left (its claim postponed it): one mail the table or SES
    /// keeps failing never holds up the others.
    async fn send_each(
        &self,
        deadline: Option<Instant>,
        due: Vec<PendingMail>,
    ) -> Result<SweepReport, InternalError> {
        let mut report = SweepReport { complete: due.len() < SWEEP_LIMIT, ..SweepReport::default() };
        for batch in due.chunks(SWEEP_BATCH) {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                report.complete = false;
                return Ok(report);
            }
            for (mail, handed) in
                batch.iter().zip(join_all(batch.iter().map(|mail| self.hand_over(mail))).await)
            {
                match handed {
                    Ok(Handed::Sent) => report.sent += 1,
                    Ok(Handed::Postponed) => report.postponed += 1,
                    Ok(Handed::GivenUp) => report.given_up += 1,
                    Ok(Handed::Gone) => {}
                    Err(error) => {
                        tracing::error!(%error, key = mail.key, "an outbox mail could not be sent or settled");
                        report.failed += 1;
                    }
                }
            }
        }
        Ok(report)
    }

    /// One attempt at `mail`, as read. What it tells of is read first: a mail whose link died
    /// (revoked, accepted, expired, used, renewed) is given up unsent. Otherwise the attempt is
    /// claimed (a new version, one attempt more, due again after the backoff), so that no other
    /// sender sends it meanwhile and a failure leaves it postponed; then it is sent and settled.
    async fn hand_over(&self, mail: &PendingMail) -> Result<Handed, InternalError> {
        let now = self.now();
        let invitation = self.mailed_invitation(mail).await?;
        let live = match (&mail.invitation, &invitation, &mail.reset) {
            (Some(link), Some(invitation), _) => {
                invitation.token_hash == link.token_hash
                    && invitation.status_at(now) == InvitationStatus::Sent
            }
            (Some(_), None, _) => false,
            (None, _, Some(reset)) => {
                let user = self.store().user(&reset.user_id).await.map_err(store_failed("user"))?;
                user.is_some_and(|user| user.has_reset_link(&reset.token_hash, now))
            }
            (None, _, None) => true,
        };
        if !live || mail.expires_at <= now {
            return self.settle(mail, invitation, Delivery::Failed).await;
        }
        let claimed = PendingMail {
            version: new_version(),
            attempts: mail.attempts + 1,
            due_at: now + wait_after(mail.attempts + 1),
            ..mail.clone()
        };
        match self.store().claim_mail(&mail.version, &claimed).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Ok(Handed::Gone),
            Err(other) => return Err(store_failed("claim_mail")(other)),
        }
        let failed =
            match self.ports.mailer.send(&MailTemplates::letters().render_letter(&claimed.letter)).await {
                Ok(()) => return self.settle(&claimed, invitation, Delivery::Sent).await,
                Err(refused @ MailError::Rejected(_)) => {
                    tracing::error!(error = %refused, key = mail.key, "SES refused an outbox mail: given up");
                    return self.settle(&claimed, invitation, Delivery::Failed).await;
                }
                Err(failed) => failed,
            };
        let attempts = claimed.attempts;
        if attempts >= MAIL_ATTEMPTS {
            tracing::error!(error = %failed, key = mail.key, attempts, "an outbox mail was given up");
            return self.settle(&claimed, invitation, Delivery::Failed).await;
        }
        tracing::warn!(error = %failed, key = mail.key, attempts, "an outbox mail was postponed");
        Ok(Handed::Postponed)
    }

    /// Takes `mail` out of the outbox, its invitation's `delivery` following (`Sent` or
    /// `Failed`) while it still has the link mailed; `read` is the invitation as read before
    /// sending, read again when it changed meanwhile (SES reported, the person accepted).
    async fn settle(
        &self,
        mail: &PendingMail,
        mut read: Option<Invitation>,
        delivery: Delivery,
    ) -> Result<Handed, InternalError> {
        let handed = if delivery == Delivery::Sent { Handed::Sent } else { Handed::GivenUp };
        for _ in 0..SETTLE_ATTEMPTS {
            let report = match (&mail.invitation, read) {
                (Some(link), Some(read)) => read
                    .handed_over(&link.token_hash, delivery)
                    .map(|invitation| DeliveryReport { read, invitation, event: None }),
                _ => None,
            };
            match self.store().settle_mail(mail, report.as_ref()).await {
                Ok(()) => return Ok(handed),
                Err(StoreError::Conflict(_)) => {
                    let stored =
                        self.store().pending_mail(&mail.key).await.map_err(store_failed("pending_mail"))?;
                    if stored.is_none_or(|stored| stored.version != mail.version) {
                        return Ok(Handed::Gone);
                    }
                    read = self.mailed_invitation(mail).await?;
                }
                Err(other) => return Err(store_failed("settle_mail")(other)),
            }
        }
        Err(InternalError::new("settling an outbox mail", "its invitation kept changing"))
    }

    /// The invitation whose link `mail` carries, as stored now; `None` for another mail.
    async fn mailed_invitation(&self, mail: &PendingMail) -> Result<Option<Invitation>, InternalError> {
        let Some(link) = &mail.invitation else { return Ok(None) };
        let stored = self.store().invitation(&link.account_id, &link.invitation_id).await;
        stored.map_err(store_failed("invitation"))
    }
}

/// A random version of a mail: which write made it.
fn new_version() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// How long after its `attempts`-th attempt a mail is due again: `FIRST_WAIT`, doubling, up to
/// `LONGEST_WAIT`.
fn wait_after(attempts: u32) -> TimeDelta {
    (FIRST_WAIT * 2i32.saturating_pow(attempts.saturating_sub(1).min(16))).min(LONGEST_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mail_is_retried_after_a_minute_doubling_to_an_hour_and_given_up_after_about_two_hours() {
        assert_eq!(wait_after(1), TimeDelta::minutes(1));
        assert_eq!(wait_after(2), TimeDelta::minutes(2));
        assert_eq!(wait_after(7), TimeDelta::hours(1));
        assert_eq!(wait_after(40), TimeDelta::hours(1));
        let span: TimeDelta = (1..MAIL_ATTEMPTS).map(wait_after).sum();
        assert!(span > TimeDelta::minutes(90) && span < TimeDelta::hours(3), "{span}");
    }
}
