//! Records to items and back. An item is its keys, its index attributes and the domain record
//! under `record`, unchanged, so what is read back equals what was written.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::keys;
use crate::domain::{
    Account, AccountId, ApiKey, ApiKeyId, AuditEvent, EventId, Invitation, InvitationStatus, Member,
    OneTimeToken, RefreshSession, SessionFamilyId, TokenPurpose, User, UserId,
};
use crate::ports::{AccountSummary, Membership, PendingMail, Remembered, StoreError, StoreResult};

pub type Item = HashMap<String, AttributeValue>;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([(keys::PK.to_owned(), s(pk)), (keys::SK.to_owned(), s(sk))])
}

/// A value as a DynamoDB attribute; the model always serializes, so a failure is a bug reported
/// as `Failed` rather than a panic.
pub fn value<T: Serialize>(value: &T) -> StoreResult<AttributeValue> {
    serde_dynamo::aws_sdk_dynamodb_1::to_attribute_value(value).map_err(unreadable)
}

fn decode<T: DeserializeOwned>(item: &Item, attribute: &str) -> StoreResult<T> {
    let value = item
        .get(attribute)
        .cloned()
        .ok_or_else(|| StoreError::Failed(format!("an item lacks its `{attribute}` attribute").into()))?;
    serde_dynamo::aws_sdk_dynamodb_1::from_attribute_value(value).map_err(unreadable)
}

/// The domain record of an item.
pub fn record<T: DeserializeOwned>(item: &Item) -> StoreResult<T> {
    decode(item, keys::RECORD)
}

pub fn string(item: &Item, attribute: &str) -> Option<String> {
    match item.get(attribute) {
        Some(AttributeValue::S(value)) => Some(value.clone()),
        _ => None,
    }
}

fn unreadable(error: serde_dynamo::Error) -> StoreError {
    StoreError::Failed(Box::new(error))
}

fn with_record<T: Serialize>(mut item: Item, record: &T) -> StoreResult<Item> {
    item.insert(keys::RECORD.to_owned(), value(record)?);
    Ok(item)
}

pub fn account_key(account: &AccountId) -> Item {
    key(keys::account(account), keys::META)
}

pub fn account(account: &Account) -> StoreResult<Item> {
    with_record(account_key(&account.id), account)
}

pub fn member_key(member: &Member) -> Item {
    key(keys::account(&member.account_id), keys::member(&member.user_id))
}

/// The index attributes of a member: found by its user's id and by its email.
pub fn member_indexes(member: &Member) -> [(&'static str, String); 4] {
    [
        (keys::BY_USER_PK, keys::user(&member.user_id)),
        (keys::BY_USER_SK, keys::membership(&member.account_id)),
        (keys::BY_EMAIL_PK, keys::email(&member.email)),
        (keys::BY_EMAIL_SK, keys::membership(&member.account_id)),
    ]
}

/// The copy of its account a member item carries: what never changes (`AccountSummary`).
#[derive(Serialize, Deserialize)]
struct AccountCopy {
    id: AccountId,
    name: String,
    preset: String,
}

pub fn member(member: &Member, of: &AccountSummary) -> StoreResult<Item> {
    let mut item = with_record(member_key(member), member)?;
    item.extend(member_indexes(member).map(|(name, v)| (name.to_owned(), s(v))));
    let copy = AccountCopy { id: of.id.clone(), name: of.name.clone(), preset: of.preset.clone() };
    item.insert(keys::ACCOUNT.to_owned(), value(&copy)?);
    Ok(item)
}

pub fn membership(item: &Item) -> StoreResult<Membership> {
    let AccountCopy { id, name, preset } = decode(item, keys::ACCOUNT)?;
    Ok(Membership { member: record(item)?, account: AccountSummary { id, name, preset } })
}

pub fn user_key(id: &UserId) -> Item {
    key(keys::user(id), keys::PROFILE)
}

pub fn user(user: &User) -> StoreResult<Item> {
    let mut item = with_record(user_key(&user.id), user)?;
    item.extend([
        (keys::BY_USER_PK.to_owned(), s(keys::user(&user.id))),
        (keys::BY_USER_SK.to_owned(), s(keys::PROFILE)),
        (keys::BY_EMAIL_PK.to_owned(), s(keys::email(&user.email))),
        (keys::BY_EMAIL_SK.to_owned(), s(keys::PROFILE)),
    ]);
    Ok(item)
}

pub fn invitation_key(invitation: &Invitation) -> Item {
    key(keys::account(&invitation.account_id), keys::invitation(&invitation.id))
}

/// The pending-index attributes: present exactly while the invitation is stored as `sent`.
pub fn pending_index(invitation: &Invitation) -> Option<[(&'static str, String); 2]> {
    (invitation.status == InvitationStatus::Sent).then(|| {
        [
            (keys::PENDING_PK, keys::PENDING_PARTITION.to_owned()),
            (keys::PENDING_SK, keys::pending(invitation.expires_at, &invitation.id, &invitation.account_id)),
        ]
    })
}

pub fn invitation(invitation: &Invitation) -> StoreResult<Item> {
    let mut item = with_record(invitation_key(invitation), invitation)?;
    item.extend(pending_index(invitation).into_iter().flatten().map(|(name, v)| (name.to_owned(), s(v))));
    Ok(item)
}

pub fn api_key_key(account: &AccountId, id: &ApiKeyId) -> Item {
    key(keys::account(account), keys::api_key(id))
}

/// A key's item; the table forgets it by TTL `KEPT_AFTER_END_DAYS` after it ended.
pub fn api_key(key: &ApiKey) -> StoreResult<Item> {
    let mut item = with_record(api_key_key(&key.account_id, &key.id), key)?;
    item.insert(keys::EXPIRES_AT.to_owned(), AttributeValue::N(keys::ttl(key.forgotten_at())));
    Ok(item)
}

/// A key with when it was last used, which its item keeps beside the record.
pub fn api_key_record(item: &Item) -> StoreResult<ApiKey> {
    let mut key: ApiKey = record(item)?;
    key.last_used_at = match item.get(keys::LAST_USED_AT) {
        Some(AttributeValue::N(millis)) => {
            millis.parse().ok().and_then(chrono::DateTime::from_timestamp_millis)
        }
        _ => None,
    };
    Ok(key)
}

pub fn event_key(account: &AccountId, id: &EventId) -> Item {
    key(keys::account(account), keys::event(id))
}

pub fn event(event: &AuditEvent) -> StoreResult<Item> {
    with_record(event_key(&event.account_id, &event.id), event)
}

pub fn token_key(hash: &str) -> Item {
    key(keys::token(hash), keys::TOKEN)
}

/// How long an invitation's link item outlives the link: its holder can still be told it expired
/// (`inspect`) and ask for a new one (`service/renewal.rs`). The invitation decides what the
/// link is worth, never the item's presence.
pub const EXPIRED_INVITATION_LINK_KEPT: chrono::Duration = chrono::Duration::days(30);

/// A one-time token, collected by TTL once it is of no more use: an invitation's after
/// `EXPIRED_INVITATION_LINK_KEPT`, any other at its expiry.
pub fn token(token: &OneTimeToken) -> StoreResult<Item> {
    let mut item = with_record(token_key(&token.hash), token)?;
    let collected = match token.purpose {
        TokenPurpose::Invitation { .. } => token.expires_at + EXPIRED_INVITATION_LINK_KEPT,
        _ => token.expires_at,
    };
    item.insert(keys::EXPIRES_AT.to_owned(), AttributeValue::N(keys::ttl(collected)));
    Ok(item)
}

pub fn remembered_key(key_hash: &str) -> Item {
    key(keys::remembered(key_hash), keys::REMEMBERED)
}

/// A remembered answer, gone by TTL after it is forgotten.
pub fn remembered(remembered: &Remembered) -> StoreResult<Item> {
    let mut item = with_record(remembered_key(&remembered.key_hash), remembered)?;
    item.insert(keys::EXPIRES_AT.to_owned(), AttributeValue::N(keys::ttl(remembered.expires_at)));
    Ok(item)
}

pub fn pending_mail_key(mail_key: &str) -> Item {
    key(keys::outbox(mail_key), mail_key)
}

/// A mail of the outbox. TTL collects it a day after its link died, by when the sweep has given
/// it up (so its invitation shows `failed` rather than `pending` for ever).
pub fn pending_mail(mail: &PendingMail) -> StoreResult<Item> {
    let mut item = with_record(pending_mail_key(&mail.key), mail)?;
    let collected = mail.expires_at + chrono::TimeDelta::days(1);
    item.insert(keys::EXPIRES_AT.to_owned(), AttributeValue::N(keys::ttl(collected)));
    Ok(item)
}

pub fn session_key(family: &SessionFamilyId) -> Item {
    key(keys::session(family), keys::SESSION)
}

/// A session, listed in its user's `sessions_of` partition of `ByUser`.
pub fn session(session: &RefreshSession) -> StoreResult<Item> {
    let mut item = with_record(session_key(&session.family_id), session)?;
    item.insert(keys::EXPIRES_AT.to_owned(), AttributeValue::N(keys::ttl(session.expires_at)));
    item.insert(keys::BY_USER_PK.to_owned(), s(keys::sessions_of(&session.user_id)));
    item.insert(
        keys::BY_USER_SK.to_owned(),
        s(keys::session_position(session.created_at, &session.family_id)),
    );
    Ok(item)
}

/// A uniqueness claim (`EMAIL#…` or `PHONE#…`) held by `user`.
pub fn claim(pk: String, user: &UserId) -> Item {
    let mut item = key(pk, keys::CLAIM);
    item.insert(keys::HOLDER.to_owned(), s(user.as_str()));
    item
}

/// A rate counter: one item per key and window, collected by TTL once its window is over.
pub fn rate_key(key: &str, window: i64) -> Item {
    self::key(format!("RATE#{key}#{window}"), keys::RATE)
}
