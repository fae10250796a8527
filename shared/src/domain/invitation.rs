//! An invitation into one account, its emailed one-time link, and how it ends.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::email::Email;
use super::ids::{AccountId, InvitationId, UserId};
use super::permission::{PermissionSet, RoleName};
use super::preset::{Grant, InvitationMode};

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
}

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
        Ok(Self { token_hash, expires_at, ..self })
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
