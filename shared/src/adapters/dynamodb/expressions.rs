//! The conditions that encode the rules, and the in-place changes that keep what an item holds
//! besides its record (a member's account copy, an invitation's pending-index keys).

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

use super::items::{self, s};
use super::keys;
use super::write::{Change, Condition};
use crate::domain::{
    AddressRefusal, Delivery, Invitation, InvitationId, InvitationStatus, Member, MemberStatus, UserId,
};
use crate::ports::{Conflict, StoreResult};

/// `#r` is the record attribute in every expression.
fn on_record(condition: Condition) -> Condition {
    condition.name("#r", keys::RECORD)
}

/// The invitation still has the link `hash`, `sent` (and lapsed, as its reader judged) or
/// recorded `expired`, and its invitee has not asked for a new one since: the guard of a
/// renewal request.
pub fn lapsed_unasked(hash: &str) -> StoreResult<Condition> {
    let condition = Condition::new(
        "#r.#status IN (:sent, :expired) AND #r.#token_hash = :hash AND attribute_not_exists(#r.#renewal)",
        Conflict::Stale,
    )
    .name("#status", "status")
    .name("#token_hash", "token_hash")
    .name("#renewal", "renewal_requested_at")
    .value(":sent", items::value(&InvitationStatus::Sent)?)
    .value(":expired", items::value(&InvitationStatus::Expired)?)
    .value(":hash", s(hash));
    Ok(on_record(condition))
}

/// `condition`, and the invitee's request for a new link is as read: a write of the whole record
/// (the cleanup's expiry of a lapsed invitation) must not undo one that came meanwhile.
pub fn renewal_as(condition: Condition, read: Option<DateTime<Utc>>) -> StoreResult<Condition> {
    let condition = condition.name("#renewal", "renewal_requested_at");
    Ok(match read {
        None => condition
            .and("(attribute_not_exists(#r.#renewal) OR attribute_type(#r.#renewal, :null))")
            .value(":null", s("NULL")),
        Some(at) => condition.and("#r.#renewal = :renewal").value(":renewal", items::value(&at)?),
    })
}

/// The invitation is still `sent` with the link `hash`, and SES's reports on its mail are as
/// read (`delivery`, `refusal`): the guard of accept, revoke, expiry and resend.
pub fn sent_with(hash: &str, delivery: Delivery, refusal: Option<AddressRefusal>) -> StoreResult<Condition> {
    let sent = Condition::new("#r.#status = :sent AND #r.#token_hash = :hash", Conflict::TokenSpent)
        .name("#status", "status")
        .name("#token_hash", "token_hash")
        .value(":sent", items::value(&InvitationStatus::Sent)?)
        .value(":hash", s(hash));
    reported_as(sent, delivery, refusal)
}

/// The invitation's mail count, delivery and refusal are `read`'s.
pub fn delivery_as(read: &Invitation) -> StoreResult<Condition> {
    let condition = reported_as(
        Condition::new("#r.#send_count = :send_count", Conflict::Stale),
        read.delivery,
        read.address_refused,
    )?;
    Ok(condition
        .name("#send_count", "send_count")
        .value(":send_count", AttributeValue::N(read.send_count.to_string())))
}

/// `condition`, and what SES reported of the invitation's mail is still `delivery` and
/// `refusal`: a write of the whole record must not undo a report that came meanwhile. An
/// invitation written before it carried them counts as `sent`, not refused (a refusal of `None`
/// is written as `NULL`).
fn reported_as(
    condition: Condition,
    delivery: Delivery,
    refusal: Option<AddressRefusal>,
) -> StoreResult<Condition> {
    let delivered = match delivery {
        Delivery::Sent => "(attribute_not_exists(#r.#delivery) OR #r.#delivery = :delivery)",
        _ => "#r.#delivery = :delivery",
    };
    let refused = match refusal {
        None => "(attribute_not_exists(#r.#refused) OR attribute_type(#r.#refused, :null))",
        Some(_) => "#r.#refused = :refused",
    };
    let mut condition = on_record(condition.and(&format!("{delivered} AND {refused}")))
        .name("#delivery", "delivery")
        .name("#refused", "address_refused")
        .value(":delivery", items::value(&delivery)?);
    condition = match refusal {
        None => condition.value(":null", s("NULL")),
        Some(refusal) => condition.value(":refused", items::value(&refusal)?),
    };
    Ok(condition)
}

/// The invitation was neither accepted nor revoked: still `sent`, or already `expired`.
pub fn not_taken_up(conflict: Conflict) -> StoreResult<Condition> {
    Ok(on_record(Condition::new("#r.#status IN (:sent, :expired)", conflict))
        .name("#status", "status")
        .value(":sent", items::value(&InvitationStatus::Sent)?)
        .value(":expired", items::value(&InvitationStatus::Expired)?))
}

/// The stale membership waiting on `old`, which a new invitation replaces: it must still be
/// there (gone, its user's membership count moved on, and the invitation must count anew).
pub fn no_member_but(old: &InvitationId) -> StoreResult<Condition> {
    Ok(on_record(Condition::new(
        "#r.#status = :waiting AND #r.#invitation_id = :old",
        Conflict::AlreadyMember,
    ))
    .name("#status", "status")
    .name("#invitation_id", "invitation_id")
    .value(":waiting", items::value(&MemberStatus::NotActivated)?)
    .value(":old", s(old.as_str())))
}

/// The item exists and its record's `field` is `version`. A record written before it carried
/// versions counts as version 0.
pub fn version_is(field: &str, version: u32, conflict: Conflict) -> Condition {
    versions_are(&[(field, version)], conflict)
}

/// The item exists and each of its record's fields is the version given with it (`version_is`).
pub fn versions_are(versions: &[(&str, u32)], conflict: Conflict) -> Condition {
    let mut parts = vec!["attribute_exists(PK)".to_owned()];
    for (at, (_, version)) in versions.iter().enumerate() {
        parts.push(match version {
            0 => format!("(#r.#v{at} = :v{at} OR attribute_not_exists(#r.#v{at}))"),
            _ => format!("#r.#v{at} = :v{at}"),
        });
    }
    let mut condition = Condition::new(parts.join(" AND "), conflict);
    if !versions.is_empty() {
        // DynamoDB refuses a name the expression does not use.
        condition = on_record(condition);
    }
    for (at, (field, version)) in versions.iter().enumerate() {
        condition = condition
            .name(&format!("#v{at}"), field)
            .value(&format!(":v{at}"), AttributeValue::N(version.to_string()));
    }
    condition
}

/// A uniqueness claim that is free, or already held by `user`.
pub fn free_or_held_by(user: &UserId, conflict: Conflict) -> Condition {
    Condition::new("attribute_not_exists(PK) OR #holder = :holder", conflict)
        .name("#holder", keys::HOLDER)
        .value(":holder", s(user.as_str()))
}

/// A uniqueness claim held by `user`.
pub fn held_by(user: &UserId) -> Condition {
    Condition::new("#holder = :holder", Conflict::Stale)
        .name("#holder", keys::HOLDER)
        .value(":holder", s(user.as_str()))
}

/// Sets fields inside the record, and top-level attributes beside it, leaving the rest alone.
pub fn set(fields: &[(&str, AttributeValue)], attributes: &[(&str, AttributeValue)]) -> Change {
    let mut change = Change::default();
    let mut assignments = Vec::new();
    if !fields.is_empty() {
        change.names.insert("#r".to_owned(), keys::RECORD.to_owned());
    }
    for (at, (field, value)) in fields.iter().enumerate() {
        assignments.push(format!("#r.#f{at} = :f{at}"));
        change.names.insert(format!("#f{at}"), (*field).to_owned());
        change.values.insert(format!(":f{at}"), value.clone());
    }
    for (at, (attribute, value)) in attributes.iter().enumerate() {
        assignments.push(format!("#a{at} = :a{at}"));
        change.names.insert(format!("#a{at}"), (*attribute).to_owned());
        change.values.insert(format!(":a{at}"), value.clone());
    }
    change.expression = format!("SET {}", assignments.join(", "));
    change
}

/// `change`, raising the account record's `seat_version` by one as it is written (from 0 for a
/// record written before seats were counted): whatever was counted under the version it had
/// fails its write (`ports::SeatCheck`).
pub fn raising_seat_version(change: Change) -> Change {
    raising(change, "seat_version")
}

/// `change`, raising the record's `field` by one as it is written (from 0 for a record written
/// before it had the field).
pub fn raising(mut change: Change, field: &str) -> Change {
    change.names.insert("#r".to_owned(), keys::RECORD.to_owned());
    change.names.insert(format!("#raise_{field}"), field.to_owned());
    change.values.insert(":raise_zero".to_owned(), AttributeValue::N("0".to_owned()));
    change.values.insert(":raise_one".to_owned(), AttributeValue::N("1".to_owned()));
    let raise = format!("#r.#raise_{field} = if_not_exists(#r.#raise_{field}, :raise_zero) + :raise_one");
    change.expression = match change.expression.as_str() {
        "" => format!("SET {raise}"),
        set => format!("{set}, {raise}"),
    };
    change
}

/// Rewrites an invitation's record in place, with the pending-index keys present exactly while
/// it is `sent`.
pub fn invitation_change(invitation: &Invitation) -> StoreResult<Change> {
    let mut change = Change {
        expression: "SET #r = :r".to_owned(),
        names: HashMap::from([("#r".to_owned(), keys::RECORD.to_owned())]),
        values: HashMap::from([(":r".to_owned(), items::value(invitation)?)]),
    };
    match items::pending_index(invitation) {
        Some([(pk_name, pk), (sk_name, sk)]) => {
            change.expression.push_str(&format!(", {pk_name} = :pending_pk, {sk_name} = :pending_sk"));
            change.values.extend([(":pending_pk".to_owned(), s(pk)), (":pending_sk".to_owned(), s(sk))]);
        }
        None => change.expression.push_str(&format!(" REMOVE {}, {}", keys::PENDING_PK, keys::PENDING_SK)),
    }
    Ok(change)
}

/// Marks a superseded invitation `expired` and takes it out of the pending index.
pub fn expire() -> StoreResult<Change> {
    let mut change = set(&[("status", items::value(&InvitationStatus::Expired)?)], &[]);
    change.expression.push_str(&format!(" REMOVE {}, {}", keys::PENDING_PK, keys::PENDING_SK));
    Ok(change)
}

/// Rewrites a member's record and index keys in place, keeping its account copy.
pub fn member_change(member: &Member) -> StoreResult<Change> {
    let indexes = items::member_indexes(member).map(|(name, value)| (name, s(value)));
    let mut change = set(&[], &indexes);
    change.names.insert("#r".to_owned(), keys::RECORD.to_owned());
    change.values.insert(":r".to_owned(), items::value(member)?);
    change.expression.push_str(", #r = :r");
    Ok(change)
}

/// Copies a user's profile onto a membership (what `Member::with_profile` copies) and raises
/// its version, so a write based on the membership as read before fails.
pub fn member_profile(user: &crate::domain::User) -> StoreResult<Change> {
    let mut change = set(
        &[
            ("email", items::value(&user.email)?),
            ("first_name", items::value(&user.first_name)?),
            ("last_name", items::value(&user.last_name)?),
            ("phone", items::value(&user.phone)?),
        ],
        &[(keys::BY_EMAIL_PK, s(keys::email(&user.email)))],
    );
    change.expression.push_str(", #r.#version = #r.#version + :one");
    change.names.insert("#version".to_owned(), "version".to_owned());
    change.values.insert(":one".to_owned(), AttributeValue::N("1".to_owned()));
    Ok(change)
}
