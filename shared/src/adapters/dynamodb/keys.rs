//! Every key, index key and attribute name of the single table, so the layout is read in one
//! place (the table itself is defined by `infra/table.json`).

use chrono::{DateTime, Utc};

use crate::domain::{AccountId, ApiKeyId, Email, EventId, InvitationId, Phone, SessionFamilyId, UserId};

pub const PK: &str = "PK";
pub const SK: &str = "SK";
/// The domain record, exactly as `serde` writes it: keys and index attributes stay outside it.
pub const RECORD: &str = "record";
/// On member items: what never changes of their account, so a whole login is one read.
pub const ACCOUNT: &str = "account";
/// On uniqueness claims: who holds the email or phone.
pub const HOLDER: &str = "user_id";
/// Epoch seconds on tokens, sessions and rate counters: the TTL attribute (garbage collection only).
pub const EXPIRES_AT: &str = "expires_at";

pub const BY_USER: &str = "ByUser";
pub const BY_USER_PK: &str = "ByUserPK";
pub const BY_USER_SK: &str = "ByUserSK";
pub const BY_EMAIL: &str = "ByEmail";
pub const BY_EMAIL_PK: &str = "ByEmailPK";
pub const BY_EMAIL_SK: &str = "ByEmailSK";
pub const PENDING: &str = "PendingByExpiry";
pub const PENDING_PK: &str = "PendingPK";
pub const PENDING_SK: &str = "PendingSK";

pub const META: &str = "META";
pub const PROFILE: &str = "PROFILE";
pub const CLAIM: &str = "CLAIM";
pub const TOKEN: &str = "TOKEN";
pub const SESSION: &str = "SESSION";
pub const RATE: &str = "RATE";
pub const REMEMBERED: &str = "REMEMBERED";
/// On rate counters: how many events their window has seen.
pub const COUNT: &str = "count";
/// On an item a conditional `PutItem` wrote: which call wrote it (`write::already_put`).
pub const WRITE_ID: &str = "write_id";
pub const MEMBER_PREFIX: &str = "MEMBER#";
pub const INVITATION_PREFIX: &str = "INVITATION#";
pub const EVENT_PREFIX: &str = "EVENT#";
pub const API_KEY_PREFIX: &str = "APIKEY#";
/// On API key items: when the key was last used, epoch milliseconds (outside the record: it is
/// written apart from every other change).
pub const LAST_USED_AT: &str = "last_used_at";
/// The one partition of the pending index: every `sent` invitation, sorted by expiry.
pub const PENDING_PARTITION: &str = "INVITATION#sent";

pub const ACCOUNT_PREFIX: &str = "ACCOUNT#";

pub fn account(id: &AccountId) -> String {
    format!("{ACCOUNT_PREFIX}{id}")
}

pub fn user(id: &UserId) -> String {
    format!("USER#{id}")
}

pub fn member(user: &UserId) -> String {
    format!("{MEMBER_PREFIX}{user}")
}

pub fn invitation(id: &InvitationId) -> String {
    format!("{INVITATION_PREFIX}{id}")
}

pub fn api_key(id: &ApiKeyId) -> String {
    format!("{API_KEY_PREFIX}{id}")
}

pub fn event(id: &EventId) -> String {
    format!("{EVENT_PREFIX}{id}")
}

/// Sort key of a membership in its user's partition of `ByUser` and `ByEmail`.
pub fn membership(account: &AccountId) -> String {
    format!("{MEMBER_PREFIX}{account}")
}

pub fn email(email: &Email) -> String {
    format!("EMAIL#{}", email.as_str())
}

pub fn phone(phone: &Phone) -> String {
    format!("PHONE#{}", phone.as_str())
}

pub fn token(hash: &str) -> String {
    format!("TOKEN#{hash}")
}

/// How many partitions the outbox spreads its mails over; the sweep reads each.
pub const OUTBOX_SHARDS: u32 = 4;

/// The outbox partition of the mail under `key`: `MAIL#0` to `MAIL#3`, by a stable hash of it.
pub fn outbox(key: &str) -> String {
    let hash = key.bytes().fold(0u32, |hash, byte| hash.wrapping_mul(31).wrapping_add(u32::from(byte)));
    outbox_shard(hash % OUTBOX_SHARDS)
}

pub fn outbox_shard(shard: u32) -> String {
    format!("{OUTBOX_PREFIX}{shard}")
}

/// What every outbox partition key starts with (the mail function's stream filter).
pub const OUTBOX_PREFIX: &str = "MAIL#";

/// A remembered answer, under the hash of whose `Idempotency-Key` it is.
pub fn remembered(key_hash: &str) -> String {
    format!("IDEMPOTENCY#{key_hash}")
}

pub fn session(family: &SessionFamilyId) -> String {
    format!("SESSION#{family}")
}

/// The partition of `ByUser` that lists a user's sessions (apart from their memberships, whose
/// partition is `user`).
pub fn sessions_of(user: &UserId) -> String {
    format!("USER#{user}#SESSIONS")
}

/// Sort key of a session in its user's `sessions_of` partition: oldest first.
pub fn session_position(created_at: DateTime<Utc>, family: &SessionFamilyId) -> String {
    format!("SESSION#{}#{family}", sortable(created_at))
}

/// Nanoseconds since the epoch, zero-padded so that string order is time order.
fn sortable(at: DateTime<Utc>) -> String {
    format!("{:019}", at.timestamp_nanos_opt().unwrap_or(i64::MAX).max(0))
}

/// `<expiry>#<invitation>#<account>`: expiry order, and enough to rebuild the item's key.
pub fn pending(expires_at: DateTime<Utc>, id: &InvitationId, account: &AccountId) -> String {
    format!("{}#{id}#{account}", sortable(expires_at))
}

/// The smallest pending sort key of an invitation that expires after `now`.
pub fn pending_after(now: DateTime<Utc>) -> String {
    sortable(now + chrono::Duration::nanoseconds(1))
}

/// The base-table key of the invitation behind a pending sort key.
pub fn parse_pending(sort_key: &str) -> Option<(AccountId, InvitationId)> {
    let mut parts = sort_key.splitn(3, '#');
    let (_, id, account) = (parts.next()?, parts.next()?, parts.next()?);
    Some((AccountId::parse(account)?, InvitationId::parse(id)?))
}

/// Epoch seconds for the TTL attribute, rounded up so TTL never collects an item early.
pub fn ttl(at: DateTime<Utc>) -> String {
    let seconds = at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0);
    seconds.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_sort_keys_sort_by_expiry_and_name_their_invitation() {
        let (account, id) = (AccountId::generate(), InvitationId::generate());
        let early = DateTime::from_timestamp(1_700_000_000, 5).expect("a valid instant");
        let late = DateTime::from_timestamp(1_700_000_001, 0).expect("a valid instant");
        assert!(pending(early, &id, &account) < pending(late, &id, &account));
        assert!(pending(early, &id, &account) < pending_after(early));
        assert!(pending(late, &id, &account) > pending_after(early));
        assert_eq!(parse_pending(&pending(late, &id, &account)), Some((account, id)));
        assert_eq!(parse_pending("garbage"), None);
    }

    #[test]
    fn ttl_rounds_up_to_whole_seconds() {
        let exact = DateTime::from_timestamp(1_700_000_000, 0).expect("a valid instant");
        let later = DateTime::from_timestamp(1_700_000_000, 1).expect("a valid instant");
        assert_eq!(ttl(exact), "1700000000");
        assert_eq!(ttl(later), "1700000001");
    }
}
