//! An invitation into one account, its emailed one-time link, and how it ends.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::email::Email;
use super::ids::{AccountId, InvitationId, UserId};
use super::permission::{PermissionSet, RoleName};
use super::preset::{Grant, InvitationMode};
use super::validation::FieldError;

/// A short personal note from the inviter: plain text, shown as written (never as markup) in the
/// invitation's mail and on its activation page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InvitationMessage(String);

impl InvitationMessage {
    pub const MAX_CHARS: usize = 500;

    /// The note trimmed, its line breaks as `\n`; `None` when nothing is left. Refused, as
    /// sent (the bounds openapi.yaml states), when longer than 500 characters, or holding a
    /// control character other than a line break or a tab, or a bidirectional control (text that
    /// reads differently from what it is). Emoji and their joiners are text.
    pub fn parse(raw: &str) -> Result<Option<Self>, FieldError> {
        if raw.chars().count() > Self::MAX_CHARS {
            let message = format!("Write at most {} characters.", Self::MAX_CHARS);
            return Err(FieldError::new("message", "invalid_value", message));
        }
        let line_break = |c: char| matches!(c, '\n' | '\r' | '\t');
        if raw.chars().any(|c| (c.is_control() && !line_break(c)) || is_bidi_control(c)) {
            let message = "Use plain text without control characters.";
            return Err(FieldError::new("message", "invalid_value", message));
        }
        let text = raw.replace("\r\n", "\n").replace('\r', "\n");
        let text = text.trim();
        Ok((!text.is_empty()).then(|| Self(text.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The marks and embeddings that reorder how text around them reads.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Sent,
    Accepted,
    Revoked,
    Expired,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: InvitationId,
    pub account_id: AccountId,
    pub user_id: UserId,
    pub email: Email,
    pub roles: Vec<RoleName>,
    pub permissions: PermissionSet,
    /// The stored status; `status_at` also reports a passed expiry the cleanup has not recorded yet.
    pub status: InvitationStatus,
    pub mode: InvitationMode,
    /// The owner's activation invitation, sent when the operator creates the account.
    pub for_owner: bool,
    pub invited_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<UserId>,
    pub send_count: u32,
    pub last_sent_at: DateTime<Utc>,
    /// When the link was sent within the last hour: the resend limit's sliding window.
    pub recent_sends: Vec<DateTime<Utc>>,
    /// SHA-256 of the one link that is currently valid.
    pub token_hash: String,
    /// What became of the last mail of it: waiting in the outbox, sent or given up
    /// (`service/mailing.rs`), then as SES reported it.
    #[serde(default)]
    pub delivery: Delivery,
    /// The address bounced for good, or its owner called the mail spam: it is mailed again
    /// only deliberately (`may_mail_again`).
    #[serde(default)]
    pub address_refused: Option<AddressRefusal>,
    /// The inviter's note to the invitee, kept across resends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<InvitationMessage>,
    /// When the invitee, holding the expired link, asked for a new one (`renewal_asked`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal_requested_at: Option<DateTime<Utc>>,
}

/// Why an address is not mailed again unless deliberately; a complaint outranks a bounce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressRefusal {
    /// It bounced for good: a later mail delivered to it shows it works again.
    Bounced,
    /// Its owner marked the mail as spam: a mailbox that complains still takes mail, so only a
    /// deliberate send reaches it again, and a delivery changes nothing.
    Complained,
}

/// What became of an invitation's last mail: in the outbox, then given up or handed to SES, then
/// as SES reported it. Each later state outranks the earlier ones, so a report that arrives late
/// or twice changes nothing, and SES's word on a mail outranks the outbox's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Written with the invitation, waiting in the outbox to be sent.
    Pending,
    /// Every attempt to hand it to SES failed, or SES refused it: nobody was mailed.
    Failed,
    /// Handed to SES; nothing heard since. (Invitations written before the outbox read so.)
    #[default]
    Sent,
    Delivered,
    Bounced,
    Complained,
}

/// What SES reported of one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailOutcome {
    Delivered,
    /// `permanent`: the address does not exist or refuses mail; otherwise SES gave up retrying
    /// a temporary failure (a full mailbox).
    Bounced {
        permanent: bool,
    },
    /// The recipient marked it as spam.
    Complained,
}

/// A refused address is not mailed again unless the sender says they mean it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the address bounced or complained; send deliberately to mail it again")]
pub struct AddressRefused;

impl Invitation {
    /// The status as of `now`: a `sent` invitation past its expiry is `expired`, whatever TTL did.
    pub fn status_at(&self, now: DateTime<Utc>) -> InvitationStatus {
        match self.status {
            InvitationStatus::Sent if now >= self.expires_at => InvitationStatus::Expired,
            status => status,
        }
    }

    pub fn grant(&self) -> Grant {
        Grant { roles: self.roles.clone(), permissions: self.permissions.clone() }
    }

    /// The invitation accepted at `now`.
    pub fn accepted(self, now: DateTime<Utc>) -> Self {
        Self { status: InvitationStatus::Accepted, accepted_at: Some(now), ..self }
    }

    /// The invitation revoked by `by` (`None`: the operator) at `now`.
    pub fn revoked(self, by: Option<UserId>, now: DateTime<Utc>) -> Self {
        Self { status: InvitationStatus::Revoked, revoked_at: Some(now), revoked_by: by, ..self }
    }

    /// The invitation past its link, as the cleanup records it.
    pub fn expired(self) -> Self {
        Self { status: InvitationStatus::Expired, ..self }
    }

    /// The invitation once its invitee asked at `now` for a new link, or `None` when there is
    /// nothing to ask: only a member's invitation whose link expired unused can be renewed (an
    /// owner's link is the operator's to renew, and in direct mode the member resets their
    /// password instead), and only once until someone sends it again.
    pub fn renewal_asked(&self, now: DateTime<Utc>) -> Option<Self> {
        let renewable = self.status_at(now) == InvitationStatus::Expired
            && !self.for_owner
            && self.mode == InvitationMode::Invitation
            && self.renewal_requested_at.is_none();
        renewable.then(|| Self { renewal_requested_at: Some(now), ..self.clone() })
    }

    /// The invitation as SES's report of its mail number `send` leaves it, or `None` when the
    /// report changes nothing (a report given twice, after a worse one, or of an earlier mail
    /// that says nothing new of the address). A report of an earlier mail than the last (a
    /// complaint days later) still refuses the address; only the last mail's reports move
    /// `delivery`.
    pub fn reported(&self, send: u32, outcome: MailOutcome) -> Option<Self> {
        let (delivery, refusal) = match outcome {
            MailOutcome::Delivered => (Delivery::Delivered, None),
            MailOutcome::Bounced { permanent } => {
                (Delivery::Bounced, permanent.then_some(AddressRefusal::Bounced))
            }
            MailOutcome::Complained => (Delivery::Complained, Some(AddressRefusal::Complained)),
        };
        let reported = match send.cmp(&self.send_count) {
            std::cmp::Ordering::Less => {
                Self { address_refused: refusal.max(self.address_refused), ..self.clone() }
            }
            std::cmp::Ordering::Equal => {
                // The first delivery of a mail to an address that bounced shows it works again.
                let works_again = delivery == Delivery::Delivered
                    && self.delivery <= Delivery::Sent
                    && self.address_refused == Some(AddressRefusal::Bounced);
                Self {
                    delivery: delivery.max(self.delivery),
                    address_refused: if works_again { None } else { refusal.max(self.address_refused) },
                    ..self.clone()
                }
            }
            std::cmp::Ordering::Greater => return None,
        };
        (reported != *self).then_some(reported)
    }

    /// Whether its address may be mailed again: not once it refused mail, unless `deliberately`.
    pub fn may_mail_again(&self, deliberately: bool) -> Result<(), AddressRefused> {
        match self.address_refused.is_some() && !deliberately {
            true => Err(AddressRefused),
            false => Ok(()),
        }
    }

    /// The invitation with a new link dying at `expires_at`, sent at `now`, unless `limit` sends
    /// happened in the hour before (then how long until one leaves the window).
    pub fn renewed(
        mut self,
        token_hash: String,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Self, chrono::Duration> {
        self.record_send(now, limit)?;
        // A new mail: nothing is known of it yet.
        Ok(Self { token_hash, expires_at, delivery: Delivery::Pending, ..self })
    }

    /// The invitation once the outbox handed the mail of link `token_hash` to SES (`Sent`) or
    /// gave it up (`Failed`); `None` when that is no longer its link, or SES spoke of it first.
    pub fn handed_over(&self, token_hash: &str, delivery: Delivery) -> Option<Self> {
        let settles = self.token_hash == token_hash && self.delivery == Delivery::Pending;
        settles.then(|| Self { delivery, ..self.clone() })
    }

    /// Records a send at `now` unless `limit` sends already happened in the hour before it;
    /// then answers how long until the oldest of them leaves the window.
    pub fn record_send(&mut self, now: DateTime<Utc>, limit: u32) -> Result<(), chrono::Duration> {
        let hour = chrono::Duration::hours(1);
        self.recent_sends.retain(|at| now - *at < hour);
        if self.recent_sends.len() >= limit as usize {
            let oldest = self.recent_sends.iter().min().copied().unwrap_or(now);
            return Err(oldest + hour - now);
        }
        self.recent_sends.push(now);
        self.send_count += 1;
        self.last_sent_at = now;
        Ok(())
    }
}

/// What a one-time emailed link lets its holder do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenPurpose {
    /// Accept an invitation (or, in direct mode, set the first password).
    Invitation { account_id: AccountId, invitation_id: InvitationId },
    /// Choose a new password.
    PasswordReset,
    /// Finish a sign-in with a second step (a TOTP or recovery code): never mailed, never a
    /// link, only answered to the password that started the sign-in, and good only while that
    /// password is (the user's token version then).
    SecondStep { token_version: u32 },
}

/// A one-time link token; only its SHA-256 is ever stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeToken {
    pub hash: String,
    pub user_id: UserId,
    pub purpose: TokenPurpose,
    pub expires_at: DateTime<Utc>,
}

/// What a link names besides its secret: the person, and what the link is for. A link's token
/// carries it after its secret (`service/support/secrets.rs`), so a store can read the records
/// it names together with its token item, which must name the same.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkNames {
    pub user_id: UserId,
    pub purpose: TokenPurpose,
}

impl Invitation {
    /// What this invitation's link names.
    pub fn link_names(&self) -> LinkNames {
        LinkNames {
            user_id: self.user_id.clone(),
            purpose: TokenPurpose::Invitation {
                account_id: self.account_id.clone(),
                invitation_id: self.id.clone(),
            },
        }
    }
}

impl OneTimeToken {
    /// What this token's link names.
    pub fn names(&self) -> LinkNames {
        LinkNames { user_id: self.user_id.clone(), purpose: self.purpose.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{at, sent_invitation};

    #[test]
    fn a_report_moves_delivery_only_forward_and_only_for_the_last_mail() {
        // Given an invitation mailed once
        let invitation = sent_invitation();
        assert_eq!((invitation.send_count, invitation.delivery), (1, Delivery::Sent));

        // When SES reports its delivery, then a bounce of it, then the delivery again
        let delivered = invitation.reported(1, MailOutcome::Delivered).expect("a change");
        let bounced = delivered.reported(1, MailOutcome::Bounced { permanent: false }).expect("a change");

        // Then each moved it forward, and nothing moves it back or repeats
        assert_eq!(delivered.delivery, Delivery::Delivered);
        assert_eq!((bounced.delivery, bounced.address_refused), (Delivery::Bounced, None));
        assert_eq!(bounced.reported(1, MailOutcome::Delivered), None);
        assert_eq!(bounced.reported(1, MailOutcome::Bounced { permanent: false }), None);
        // A report of a later mail than was sent changes nothing.
        assert_eq!(invitation.reported(2, MailOutcome::Complained), None);
    }

    #[test]
    fn a_hard_bounce_or_a_complaint_refuses_the_address_until_sent_deliberately() {
        let invitation = sent_invitation();
        assert_eq!(invitation.may_mail_again(false), Ok(()));
        for (outcome, refusal) in [
            (MailOutcome::Bounced { permanent: true }, AddressRefusal::Bounced),
            (MailOutcome::Complained, AddressRefusal::Complained),
        ] {
            let refused = invitation.reported(1, outcome).expect("a change");
            assert_eq!(refused.address_refused, Some(refusal), "{outcome:?}");
            assert_eq!(refused.may_mail_again(false), Err(AddressRefused));
            assert_eq!(refused.may_mail_again(true), Ok(()));
        }
        // A soft bounce, then a hard one: the second still refuses the address.
        let soft = invitation.reported(1, MailOutcome::Bounced { permanent: false }).unwrap();
        let hard = soft.reported(1, MailOutcome::Bounced { permanent: true }).unwrap();
        assert_eq!(hard.address_refused, Some(AddressRefusal::Bounced));
    }

    #[test]
    fn a_new_link_is_a_new_mail_nothing_is_known_of() {
        let bounced = sent_invitation().reported(1, MailOutcome::Bounced { permanent: true }).unwrap();
        let renewed = bounced.renewed("new".into(), at(7200), at(10), 5).unwrap();
        assert_eq!(
            (renewed.delivery, renewed.address_refused, renewed.send_count),
            (Delivery::Pending, Some(AddressRefusal::Bounced), 2)
        );
        // Until the new mail is delivered.
        let delivered = renewed.reported(2, MailOutcome::Delivered).unwrap();
        assert_eq!((delivered.delivery, delivered.address_refused), (Delivery::Delivered, None));
    }

    #[test]
    fn a_complaint_stays_after_a_delivery_and_a_late_one_still_counts() {
        // Given an invitation whose first mail was complained about, resent deliberately
        let complained = sent_invitation().reported(1, MailOutcome::Complained).unwrap();
        let renewed = complained.renewed("new".into(), at(7200), at(10), 5).unwrap();

        // When its second mail is delivered
        let delivered = renewed.reported(2, MailOutcome::Delivered).unwrap();

        // Then the address is still refused: a mailbox that complains takes mail
        assert_eq!(
            (delivered.delivery, delivered.address_refused),
            (Delivery::Delivered, Some(AddressRefusal::Complained))
        );

        // And a complaint about the first mail of an invitation resent since still refuses it,
        // without touching what became of the last mail
        let resent = sent_invitation().renewed("new".into(), at(7200), at(10), 5).unwrap();
        let late = resent.reported(1, MailOutcome::Complained).unwrap();
        assert_eq!(
            (late.delivery, late.address_refused),
            (Delivery::Pending, Some(AddressRefusal::Complained))
        );
        assert_eq!(late.reported(1, MailOutcome::Delivered), None);
    }

    #[test]
    fn a_sent_invitation_reads_expired_from_its_expiry_on() {
        let invitation = sent_invitation();
        assert_eq!(invitation.status_at(at(3599)), InvitationStatus::Sent);
        assert_eq!(invitation.status_at(at(3600)), InvitationStatus::Expired);
        assert_eq!(invitation.clone().expired().status, InvitationStatus::Expired);
    }

    #[test]
    fn accepting_and_revoking_record_when_and_by_whom() {
        let accepted = sent_invitation().accepted(at(10));
        assert_eq!((accepted.status, accepted.accepted_at), (InvitationStatus::Accepted, Some(at(10))));
        let by = UserId::generate();
        let revoked = sent_invitation().revoked(Some(by.clone()), at(20));
        assert_eq!(revoked.status, InvitationStatus::Revoked);
        assert_eq!((revoked.revoked_at, revoked.revoked_by), (Some(at(20)), Some(by)));
    }

    #[test]
    fn a_renewal_gets_a_new_link_within_the_hourly_limit_and_says_how_long_to_wait_past_it() {
        let renewed =
            sent_invitation().renewed("second".into(), at(7200), at(60), 2).expect("within the limit");
        assert_eq!((renewed.token_hash.as_str(), renewed.expires_at), ("second", at(7200)));
        assert_eq!((renewed.send_count, renewed.last_sent_at), (2, at(60)));
        let refused = renewed.clone().renewed("third".into(), at(7300), at(120), 2);
        assert_eq!(
            refused.err(),
            Some(chrono::Duration::seconds(3480)),
            "until the first send is an hour old"
        );
        assert!(
            renewed.renewed("third".into(), at(7300), at(3600), 2).is_ok(),
            "the first send left the window"
        );
    }
}

#[cfg(test)]
mod message_tests {
    use super::{Invitation, InvitationMessage, InvitationMode, InvitationStatus};

    #[test]
    fn a_message_is_kept_as_plain_trimmed_text_with_its_line_breaks() {
        let parsed = InvitationMessage::parse("  Привіт, Anna!\r\nSee you <b>Monday</b>.\r\n ").unwrap();
        assert_eq!(parsed.unwrap().as_str(), "Привіт, Anna!\nSee you <b>Monday</b>.");
        assert_eq!(InvitationMessage::parse(" \n ").unwrap(), None);
        assert!(InvitationMessage::parse(&"ї".repeat(500)).unwrap().is_some());
        let family = "Welcome! 👨\u{200D}👩\u{200D}👧 ❤\u{FE0F}";
        assert_eq!(InvitationMessage::parse(family).unwrap().unwrap().as_str(), family);
    }

    #[test]
    fn a_long_message_or_one_hiding_characters_is_refused() {
        for refused in
            ["ї".repeat(501), "pay \u{202E}gpj.exe".into(), "bell\u{7}".into(), "a\u{2066}b".into()]
        {
            let error = InvitationMessage::parse(&refused).unwrap_err();
            assert_eq!((error.field.as_str(), error.code), ("message", "invalid_value"), "{refused:?}");
        }
    }

    #[test]
    fn only_a_members_expired_invitation_is_renewed_and_only_once() {
        let invitation = crate::domain::fixtures::sent_invitation();
        let lapsed = invitation.expires_at;
        assert_eq!(invitation.renewal_asked(lapsed - chrono::Duration::seconds(1)), None, "still live");
        let asked = invitation.renewal_asked(lapsed).expect("renewable once lapsed");
        assert_eq!(asked.renewal_requested_at, Some(lapsed));
        assert_eq!(asked.renewal_asked(lapsed), None, "asked already");
        let owners = Invitation { for_owner: true, ..invitation.clone() };
        let direct = Invitation { mode: InvitationMode::Direct, ..invitation.clone() };
        let revoked = Invitation { status: InvitationStatus::Revoked, ..invitation };
        for not_renewable in [owners, direct, revoked] {
            assert_eq!(not_renewable.renewal_asked(lapsed), None);
        }
    }
}
