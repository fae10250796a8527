//! The outbox: every link's mail is written into the table in the same write as the change it
//! tells of (`ports::PendingMail`), and sent after it. So an SES outage never fails a request,
//! and no mail ever goes out for a change that was not written.
//!
//! In AWS the `mailer` function sends each mail as the table's stream brings it, and sweeps the
//! outbox every few minutes for the mails whose send failed; the dev server sends right after
//! the write (`MailDispatch::Inline`) and sweeps every minute and on `POST /_dev/cleanup`. A
//! mail whose every attempt failed, or that SES refused, is given up: its invitation shows
//! `failed`. Delivery is at least once: a send whose answer was lost is sent again, with the
//! same link (SES's `SendEmail` takes no idempotency key).

use futures::future::join_all;
use serde::Serialize;
use std::time::Instant;

use crate::domain::{Delivery, InvitationId};
use crate::ports::{DeliveryReport, MailError, MailedLink, OutgoingMail, PendingMail, StoreError};
use crate::service::Teamgate;
use crate::service::support::failure::{InternalError, store_failed};

/// Who sends a mail first, right after the write that put it in the outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailDispatch {
    /// The request itself, once written (the dev server, tests): a failure leaves the mail to
    /// the sweep, never fails the request.
    Inline,
    /// The `mailer` function, as the table's stream brings the mail (AWS).
    Stream,
}

/// Attempts before a mail is given up.
pub const MAIL_ATTEMPTS: u32 = 8;
/// How long the sweep leaves a new mail to its first send (the request's, or the stream's),
/// past any request's end, so that the two never send it at once.
pub const SWEEP_GRACE: chrono::TimeDelta = chrono::TimeDelta::minutes(2);
/// The wait after the first failed attempt; it doubles after each, up to `LONGEST_WAIT`
/// (eight attempts span about two hours).
const FIRST_WAIT: chrono::TimeDelta = chrono::TimeDelta::minutes(1);
const LONGEST_WAIT: chrono::TimeDelta = chrono::TimeDelta::hours(1);
/// Mails the sweep sends at once.
const SWEEP_BATCH: usize = 25;
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
    /// Not in the outbox (sent already), or replaced by a newer mail, which is sent on its own.
    Gone,
}

#[derive(Debug, Default, Serialize)]
pub struct SweepReport {
    pub sent: usize,
    pub postponed: usize,
    pub given_up: usize,
    /// False when the run stopped at its deadline; the next run goes on.
    pub complete: bool,
}

impl Teamgate {
    /// A mail into the outbox under `key`, carrying `link`'s invitation link when it has one,
    /// given up once `expires_at` passes; the sweep's once its first send had its chance.
    pub(crate) fn outbox_mail(
        &self,
        key: String,
        mail: OutgoingMail,
        link: Option<MailedLink>,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> PendingMail {
        let now = self.now();
        let due_at = now + SWEEP_GRACE;
        let version = uuid::Uuid::new_v4().to_string();
        PendingMail { key, version, mail, invitation: link, created_at: now, attempts: 0, due_at, expires_at }
    }

    /// After the write that put `mail` in the outbox: sent now when dispatch is inline. A
    /// failure is logged and left to the sweep; the request that wrote it succeeds regardless.
    pub(crate) async fn dispatch(&self, mail: &PendingMail) {
        if self.settings.mail_dispatch != MailDispatch::Inline {
            return;
        }
        if let Err(error) = self.hand_over(mail).await {
            tracing::warn!(%error, key = mail.key, "an outbox mail was left to the sweep");
        }
    }

    /// Sends the outbox's mail under `key`, if it is still there (the mailer's stream handler).
    pub async fn send_outbox_mail(&self, key: &str) -> Result<Handed, InternalError> {
        match self.store().pending_mail(key).await.map_err(store_failed("pending_mail"))? {
            Some(mail) => self.hand_over(&mail).await,
            None => Ok(Handed::Gone),
        }
    }

    /// Sends every mail of the outbox that is due, stopping early at `deadline`.
    pub async fn sweep_outbox(&self, deadline: Option<Instant>) -> Result<SweepReport, InternalError> {
        self.send_due(deadline, None).await
    }

    /// Sends every mail of the outbox, due or not, as the table's stream gives the mail function
    /// each one written: tests that run the routes as they run in AWS (`MailDispatch::Stream`).
    pub async fn send_whole_outbox(&self) -> Result<SweepReport, InternalError> {
        self.send_due(None, Some(chrono::DateTime::<chrono::Utc>::MAX_UTC)).await
    }

    /// Sends the mails due by `due_by` (else now), stopping early at `deadline`.
    async fn send_due(
        &self,
        deadline: Option<Instant>,
        due_by: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<SweepReport, InternalError> {
        let mut report = SweepReport::default();
        loop {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(report);
            }
            let due_by = due_by.unwrap_or_else(|| self.now());
            let due = self.store().due_mail(due_by, SWEEP_BATCH).await.map_err(store_failed("due_mail"))?;
            let full = due.len() == SWEEP_BATCH;
            for handed in join_all(due.iter().map(|mail| self.hand_over(mail))).await {
                match handed? {
                    Handed::Sent => report.sent += 1,
                    Handed::Postponed => report.postponed += 1,
                    Handed::GivenUp => report.given_up += 1,
                    Handed::Gone => {}
                }
            }
            if !full {
                report.complete = true;
                return Ok(report);
            }
        }
    }

    /// One attempt at `mail`: sent and settled, postponed, or given up.
    async fn hand_over(&self, mail: &PendingMail) -> Result<Handed, InternalError> {
        if mail.expires_at <= self.now() {
            return self.settle(mail, Delivery::Failed).await;
        }
        let failed = match self.ports.mailer.send(&mail.mail).await {
            Ok(()) => return self.settle(mail, Delivery::Sent).await,
            Err(refused @ MailError::Rejected(_)) => {
                tracing::error!(error = %refused, key = mail.key, "SES refused an outbox mail: given up");
                return self.settle(mail, Delivery::Failed).await;
            }
            Err(failed) => failed,
        };
        let attempts = mail.attempts + 1;
        if attempts >= MAIL_ATTEMPTS {
            tracing::error!(error = %failed, key = mail.key, attempts, "an outbox mail was given up");
            return self.settle(mail, Delivery::Failed).await;
        }
        tracing::warn!(error = %failed, key = mail.key, attempts, "an outbox mail was postponed");
        let wait = (FIRST_WAIT * 2i32.saturating_pow(mail.attempts.min(16))).min(LONGEST_WAIT);
        let postponed = PendingMail { attempts, due_at: self.now() + wait, ..mail.clone() };
        match self.store().postpone_mail(&postponed).await {
            Ok(()) => Ok(Handed::Postponed),
            Err(StoreError::Conflict(_)) => Ok(Handed::Gone),
            Err(other) => Err(store_failed("postpone_mail")(other)),
        }
    }

    /// Takes `mail` out of the outbox, its invitation's `delivery` following (`Sent` or
    /// `Failed`) while it still has the link mailed; read again when it changed meanwhile.
    async fn settle(&self, mail: &PendingMail, delivery: Delivery) -> Result<Handed, InternalError> {
        let handed = if delivery == Delivery::Sent { Handed::Sent } else { Handed::GivenUp };
        for _ in 0..SETTLE_ATTEMPTS {
            let report = match &mail.invitation {
                Some(link) => self.delivery_report(link, delivery).await?,
                None => None,
            };
            match self.store().settle_mail(mail, report.as_ref()).await {
                Ok(()) => return Ok(handed),
                Err(StoreError::Conflict(_)) => {
                    let stored =
                        self.store().pending_mail(&mail.key).await.map_err(store_failed("pending_mail"))?;
                    if stored.is_none_or(|stored| stored.version != mail.version) {
                        return Ok(Handed::Gone);
                    }
                }
                Err(other) => return Err(store_failed("settle_mail")(other)),
            }
        }
        Err(InternalError::new("settling an outbox mail", "its invitation kept changing"))
    }

    /// What `link`'s invitation records of its mail: `None` when it no longer has that link or
    /// SES already reported on it.
    async fn delivery_report(
        &self,
        link: &MailedLink,
        delivery: Delivery,
    ) -> Result<Option<DeliveryReport>, InternalError> {
        let read = self
            .store()
            .invitation(&link.account_id, &link.invitation_id)
            .await
            .map_err(store_failed("invitation"))?;
        Ok(read.and_then(|read| {
            let invitation = read.handed_over(&link.token_hash, delivery)?;
            Some(DeliveryReport { read, invitation, event: None })
        }))
    }
}
