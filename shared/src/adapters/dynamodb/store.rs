//! `Store` over the table. Each write lists its operations in the order the memory store judges
//! its rules, so that when several conditions fail the same conflict is reported.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

use super::expressions::{
    delivery_as, expire, free_or_held_by, held_by, invitation_change, lapsed_unasked, member_change,
    member_profile, no_member_but, not_taken_up, raising, raising_seat_version, renewal_as, sent_with, set,
    version_is, versions_are,
};
use super::items::{self, Item, s};
use super::write::{Change, Condition, Writes};
use super::{DynamoStore, Listing, call_failed, failed, keys, login, sort_key_position};
use crate::domain::{
    Account, AccountId, ApiKey, ApiKeyId, AuditEvent, Email, Invitation, InvitationId, InvitationStatus,
    LinkNames, Member, OneTimeToken, Phone, RefreshSession, SessionFamilyId, TokenPurpose, User, UserId,
};
use crate::ports::{
    API_KEY_USE_RESOLUTION, Acceptance, AuditQuery, CallerRecord, Conflict, DeliveryReport, EventKey,
    InvitationQuery, InviteeUser, Login, MemberQuery, MemberRemoval, MemberUpdate, NamedEvent, NewInvitation,
    OwnerLinkChange, OwnershipTransfer, Page, PageRequest, PasswordChange, PendingMail, ProfileUpdate,
    RateDecision, RateWindow, Redemption, Remembered, RenewalRequest, Resend, RolesCheck, SeatCheck, SignIn,
    SignsIn, Store, StoreError, StoreResult, UserAfterRemoval, Withdrawal,
};

/// The invitation is still `sent` with its link, and SES's reports on it and its invitee's
/// request for a new link are as `invitation` carries them: a write of its whole record that
/// changes none of them.
fn sent_as_read(invitation: &Invitation) -> StoreResult<Condition> {
    let sent = sent_with(&invitation.token_hash, invitation.delivery, invitation.address_refused)?;
    renewal_as(sent, invitation.renewal_requested_at)
}

/// The session's current secret is still `hash`: nothing rotated or ended it since it was read.
fn same_secret(hash: &str) -> Condition {
    Condition::new("#r.#secret_hash = :secret", Conflict::Stale)
        .name("#r", keys::RECORD)
        .name("#secret_hash", "secret_hash")
        .value(":secret", s(hash))
}

/// Keeps a request's answer under its key, unless a request with that key wrote first and is
/// not forgotten yet (`Repeated`). Listed first, so that a twin request's failure reads as a
/// repeat rather than as the conflicts its own writes meet.
fn remember(writes: &mut Writes, remembered: &Remembered) -> StoreResult<()> {
    let forgotten = Condition::absent(Conflict::Repeated)
        .or("#expires_at < :now")
        .name("#expires_at", keys::EXPIRES_AT)
        .value(":now", AttributeValue::N(remembered.created_at.timestamp().to_string()));
    writes.put(items::remembered(remembered)?, Some(forgotten));
    Ok(())
}

/// The account item's part of a write: it exists, its seats are as counted (`SeatCheck`,
/// raised when the grant takes one) and its own roles as judged (`RolesCheck`, raised by a grant).
fn account_guard(
    writes: &mut Writes,
    account: &AccountId,
    seat: Option<SeatCheck>,
    roles: Option<RolesCheck>,
) {
    let mut versions = Vec::new();
    let mut change = Change::default();
    if let Some(SeatCheck { read_version, takes_seat }) = seat {
        versions.push(("seat_version", read_version));
        if takes_seat {
            change = raising(change, "seat_version");
        }
    }
    if let Some(RolesCheck { read_version, raises }) = roles {
        versions.push(("roles_version", read_version));
        if raises {
            change = raising(change, "roles_version");
        }
    }
    let condition = versions_are(&versions, Conflict::Stale);
    match change.expression.is_empty() {
        true => writes.check(items::account_key(account), condition),
        false => writes.update(items::account_key(account), change, Some(condition)),
    };
}

/// Puts a mail in the outbox, replacing one under its key (a resend's, whose link is dead).
fn post(writes: &mut Writes, mail: &PendingMail) -> StoreResult<()> {
    writes.put(items::pending_mail(mail)?, None);
    Ok(())
}

/// The outbox's mail is still at `version`: no newer mail replaced it, no sender claimed it.
fn mail_at(version: &str) -> Condition {
    Condition::new("#r.#version = :version", Conflict::Stale)
        .name("#r", keys::RECORD)
        .name("#version", "version")
        .value(":version", s(version))
}

/// The item of `items` with this key.
fn find<'a>(items: &'a [Item], key: &Item) -> Option<&'a Item> {
    items.iter().find(|i| i.get(keys::PK) == key.get(keys::PK) && i.get(keys::SK) == key.get(keys::SK))
}

/// The writes of a new invitation: membership, the superseded invitation (when
/// `touch_superseded`: an owner-link change replaces a membership without it), claims, user,
/// invitation, token and event.
fn invitation_writes(writes: &mut Writes, new: &NewInvitation, touch_superseded: bool) -> StoreResult<()> {
    if let Some(remembered) = &new.remembered {
        remember(writes, remembered)?;
    }
    let account = &new.account;
    let member_condition = match &new.supersedes {
        None => Condition::absent(Conflict::AlreadyMember),
        Some(old) => no_member_but(old)?,
    };
    writes.put(items::member(&new.member, account)?, Some(member_condition));
    if let Some(old) = new.supersedes.as_ref().filter(|_| touch_superseded) {
        let key = items::key(keys::account(&account.id), keys::invitation(old));
        writes.update(key, expire()?, Some(not_taken_up(Conflict::AlreadyMember)?));
    }
    if let Some(phone) = &new.claim_phone {
        let claim = items::claim(keys::phone(phone), &new.member.user_id);
        writes.put(claim, Some(Condition::absent(Conflict::PhoneTaken)));
    }
    match &new.user {
        InviteeUser::New(user) => {
            let claim = items::claim(keys::email(&user.email), &user.id);
            writes.put(claim, Some(Condition::absent(Conflict::EmailTaken)));
            writes.put(items::user(user)?, None);
        }
        InviteeUser::Existing(user) => user_writes(writes, user)?,
    }
    writes.put(items::invitation(&new.invitation)?, None);
    writes.put(items::token(&new.token)?, None);
    writes.put(items::event(&new.event)?, None);
    post(writes, &new.mail)
}

/// What SES or the outbox reported of an invitation's mail, provided the invitation is as read.
fn delivery_writes(writes: &mut Writes, report: &DeliveryReport) -> StoreResult<()> {
    let (read, new) = (&report.read, &report.invitation);
    let change = set(
        &[
            ("delivery", items::value(&new.delivery)?),
            ("address_refused", items::value(&new.address_refused)?),
        ],
        &[],
    );
    writes.update(items::invitation_key(new), change, Some(delivery_as(read)?));
    if let Some(event) = &report.event {
        writes.put(items::event(event)?, None);
    }
    Ok(())
}

/// A membership's new state, provided the stored version is one less.
fn member_writes(writes: &mut Writes, member: &Member) -> StoreResult<()> {
    let unchanged = version_is("version", member.version.wrapping_sub(1), Conflict::Stale);
    writes.update(items::member_key(member), member_change(member)?, Some(unchanged));
    Ok(())
}

/// The account's owner and owner link in their new state, provided the stored `owner_version` is
/// one less; the rest of the account (settings, locale) is left as it is. `takes_seat`: a new
/// owner candidate joins, so the seats counted before it are stale.
fn owner_writes(writes: &mut Writes, account: &Account, takes_seat: bool) -> StoreResult<()> {
    let unchanged = version_is("owner_version", account.owner_version.wrapping_sub(1), Conflict::Stale);
    let change = set(
        &[
            ("owner_id", items::value(&account.owner_id)?),
            ("owner_link", items::value(&account.owner_link)?),
            ("owner_version", items::value(&account.owner_version)?),
        ],
        &[],
    );
    let change = if takes_seat { raising_seat_version(change) } else { change };
    writes.update(items::account_key(&account.id), change, Some(unchanged));
    Ok(())
}

/// A user's new state, provided the stored version is one less.
fn user_writes(writes: &mut Writes, user: &User) -> StoreResult<()> {
    let unchanged = version_is("version", user.version.wrapping_sub(1), Conflict::Stale);
    writes.put(items::user(user)?, Some(unchanged));
    Ok(())
}

/// The writes of a removal: the membership, the invitation it ends, the user (checked or
/// released with its claims) and the event. `released_phone` is the user's phone claim, when
/// it is theirs to release.
fn removal_writes(writes: &mut Writes, removal: &MemberRemoval, released_phone: bool) -> StoreResult<()> {
    let member = &removal.member;
    if removal.roles.is_some() {
        account_guard(writes, &member.account_id, None, removal.roles);
    }
    writes.delete(items::member_key(member), Some(version_is("version", member.version, Conflict::Stale)));
    if let Some(invitation) = &removal.end_invitation {
        let ended = invitation_change(invitation)?;
        writes.update(items::invitation_key(invitation), ended, Some(sent_as_read(invitation)?));
    }
    match &removal.user {
        UserAfterRemoval::Kept(user) => user_writes(writes, user)?,
        UserAfterRemoval::Released(user) => {
            writes.delete(
                items::user_key(&user.id),
                Some(version_is("version", user.version, Conflict::Stale)),
            );
            writes.delete(items::key(keys::email(&user.email), keys::CLAIM), None);
            if let (true, Some(phone)) = (released_phone, &user.phone) {
                writes.delete(items::key(keys::phone(phone), keys::CLAIM), Some(held_by(&user.id)));
            }
        }
    }
    writes.put(items::event(&removal.event)?, None);
    Ok(())
}

#[async_trait]
impl Store for DynamoStore {
    async fn create_account(
        &self,
        account: &Account,
        created: &AuditEvent,
        owner: &NewInvitation,
    ) -> StoreResult<()> {
        let mut writes = Writes::default();
        writes.put(items::account(account)?, Some(Condition::absent(Conflict::Stale)));
        writes.put(items::event(created)?, None);
        invitation_writes(&mut writes, owner, true)?;
        self.send(writes).await
    }

    async fn account(&self, id: &AccountId) -> StoreResult<Option<Account>> {
        self.get_record(items::account_key(id)).await
    }

    /// The new member item carries the account's summary, which comes with the invitation; the
    /// write checks the account still exists, with the seats as counted (`SeatCheck`).
    async fn create_invitation(&self, new: &NewInvitation) -> StoreResult<()> {
        let mut writes = Writes::default();
        account_guard(&mut writes, &new.account.id, new.seat, new.roles);
        invitation_writes(&mut writes, new, true)?;
        self.send(writes).await
    }

    async fn remembered(&self, key_hash: &str) -> StoreResult<Option<Remembered>> {
        self.get_record(items::remembered_key(key_hash)).await
    }

    async fn remember(&self, remembered: &Remembered) -> StoreResult<()> {
        let mut writes = Writes::default();
        remember(&mut writes, remembered)?;
        self.send(writes).await
    }

    async fn replace_under_way(&self, record: &Remembered, held_by: &str) -> StoreResult<()> {
        let under_way = Condition::new("#r.#request = :held_by AND #r.#status = :under_way", Conflict::Stale)
            .name("#r", keys::RECORD)
            .name("#request", "request")
            .name("#status", "status")
            .value(":held_by", s(held_by))
            .value(":under_way", AttributeValue::N(Remembered::UNDER_WAY.to_string()));
        let mut writes = Writes::default();
        writes.put(items::remembered(record)?, Some(under_way));
        self.send(writes).await
    }

    async fn withdraw_invitation(&self, withdrawal: &Withdrawal) -> StoreResult<()> {
        let invitation = &withdrawal.invitation;
        let mut writes = Writes::default();
        let ended = invitation_change(invitation)?;
        writes.update(items::invitation_key(invitation), ended, Some(sent_as_read(invitation)?));
        writes.put(items::event(&withdrawal.event)?, None);
        self.send(writes).await
    }

    async fn record_delivery(&self, report: &DeliveryReport) -> StoreResult<()> {
        let mut writes = Writes::default();
        delivery_writes(&mut writes, report)?;
        self.send(writes).await
    }

    async fn pending_mail(&self, key: &str) -> StoreResult<Option<PendingMail>> {
        self.get_record(items::pending_mail_key(key)).await
    }

    /// Reads every outbox partition (a handful of mails in each, normally none), consistently.
    async fn due_mail(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<PendingMail>> {
        let shards = (0..keys::OUTBOX_SHARDS).map(|shard| {
            let values = HashMap::from([(":pk".to_owned(), s(keys::outbox_shard(shard)))]);
            self.query_all(None, "PK = :pk", values)
        });
        let mut due = Vec::new();
        for items in futures::future::try_join_all(shards).await? {
            for item in &items {
                let mail: PendingMail = items::record(item)?;
                if mail.due_at <= now && due.len() < limit {
                    due.push(mail);
                }
            }
        }
        Ok(due)
    }

    async fn settle_mail(&self, mail: &PendingMail, invitation: Option<&DeliveryReport>) -> StoreResult<()> {
        let mut writes = Writes::default();
        writes.delete(items::pending_mail_key(&mail.key), Some(mail_at(&mail.version)));
        if let Some(report) = invitation {
            delivery_writes(&mut writes, report)?;
        }
        self.send(writes).await
    }

    async fn claim_mail(&self, read_version: &str, mail: &PendingMail) -> StoreResult<()> {
        let mut writes = Writes::default();
        writes.put(items::pending_mail(mail)?, Some(mail_at(read_version)));
        self.send(writes).await
    }

    /// Reads the dropped candidate's phone claim first, as `remove_member` does.
    async fn change_owner_link(&self, change: &OwnerLinkChange) -> StoreResult<()> {
        let released_phone = match &change.dropped_candidate {
            Some(removal) => self.phone_to_release(removal).await?,
            None => false,
        };
        let mut writes = Writes::default();
        owner_writes(&mut writes, &change.account, change.new_link.is_some())?;
        if let Some(cancelled) = &change.cancelled {
            let revoked = invitation_change(cancelled)?;
            writes.update(items::invitation_key(cancelled), revoked, Some(sent_as_read(cancelled)?));
        }
        if let Some(removal) = &change.dropped_candidate {
            removal_writes(&mut writes, removal, released_phone)?;
        }
        if let Some(new) = &change.new_link {
            invitation_writes(&mut writes, new, false)?;
        }
        for event in &change.events {
            writes.put(items::event(event)?, None);
        }
        self.send(writes).await
    }

    async fn resend_invitation(&self, resend: &Resend) -> StoreResult<()> {
        let invitation = &resend.invitation;
        let mut writes = Writes::default();
        if let Some(remembered) = &resend.remembered {
            remember(&mut writes, remembered)?;
        }
        let renewed = invitation_change(invitation)?;
        writes.update(
            items::invitation_key(invitation),
            renewed,
            Some(sent_with(
                &resend.previous_token_hash,
                resend.previous_delivery,
                invitation.address_refused,
            )?),
        );
        writes.delete(items::token_key(&resend.previous_token_hash), None);
        writes.put(items::token(&resend.token)?, None);
        if let Some(member) = &resend.member {
            member_writes(&mut writes, member)?;
        }
        writes.put(items::event(&resend.event)?, None);
        post(&mut writes, &resend.mail)?;
        self.send(writes).await
    }

    async fn lapsed_invitations(
        &self,
        now: DateTime<Utc>,
        page: &PageRequest,
    ) -> StoreResult<Page<Invitation>> {
        let start = match &page.after {
            None => None,
            Some(after) => {
                let (account, id) = keys::parse_pending(after)
                    .ok_or_else(|| failed("not a position of the lapsed invitations"))?;
                let mut key = items::key(keys::account(&account), keys::invitation(&id));
                key.insert(keys::PENDING_PK.to_owned(), s(keys::PENDING_PARTITION));
                key.insert(keys::PENDING_SK.to_owned(), s(after.as_str()));
                Some(key)
            }
        };
        let listing = Listing {
            index: Some(keys::PENDING),
            key_condition: "PendingPK = :pending AND PendingSK < :after_now",
            values: HashMap::from([
                (":pending".to_owned(), s(keys::PENDING_PARTITION)),
                (":after_now".to_owned(), s(keys::pending_after(now))),
            ]),
            newest_first: false,
            filtered: false,
            start,
            position: |item| items::string(item, keys::PENDING_SK),
        };
        self.list(listing, page, |i: &Invitation| i.status == InvitationStatus::Sent && i.expires_at <= now)
            .await
    }

    /// One consistent `BatchGetItem` of the token item with the invitation, account, user and
    /// membership the link names. A link that names nothing is read first for what it leads to.
    async fn redemption(
        &self,
        token_hash: &str,
        names: Option<&LinkNames>,
    ) -> StoreResult<Option<Redemption>> {
        let Some(names) = self.link_names(token_hash, names).await? else {
            return Ok(None);
        };
        let TokenPurpose::Invitation { account_id, invitation_id } = &names.purpose else {
            return Ok(None);
        };
        let token_key = items::token_key(token_hash);
        let account_key = items::account_key(account_id);
        let invitation_key = items::key(keys::account(account_id), keys::invitation(invitation_id));
        let user_key = items::user_key(&names.user_id);
        let member_key = items::key(keys::account(account_id), keys::member(&names.user_id));
        let wanted = vec![
            token_key.clone(),
            account_key.clone(),
            invitation_key.clone(),
            user_key.clone(),
            member_key.clone(),
        ];
        let found = self.batch_get(wanted).await?;
        let token = find(&found, &token_key).map(items::record::<OneTimeToken>).transpose()?;
        let (Some(token), Some(account), Some(invitation)) =
            (token.filter(|t| t.names() == names), find(&found, &account_key), find(&found, &invitation_key))
        else {
            return Ok(None);
        };
        Ok(Some(Redemption {
            invitation: items::record(invitation)?,
            account: items::record(account)?,
            user: find(&found, &user_key).map(items::record).transpose()?,
            member: find(&found, &member_key).map(items::record).transpose()?,
            token,
        }))
    }

    async fn accept_invitation(&self, acceptance: &Acceptance) -> StoreResult<()> {
        let mut writes = Writes::default();
        writes.check(items::token_key(&acceptance.token_hash), Condition::present(Conflict::TokenSpent));
        let accepted = invitation_change(&acceptance.invitation)?;
        writes.update(
            items::invitation_key(&acceptance.invitation),
            accepted,
            Some(sent_with(
                &acceptance.token_hash,
                acceptance.invitation.delivery,
                acceptance.invitation.address_refused,
            )?),
        );
        member_writes(&mut writes, &acceptance.member)?;
        if let Some(account) = &acceptance.account {
            owner_writes(&mut writes, account, false)?;
        }
        if let Some(former) = &acceptance.former_owner {
            member_writes(&mut writes, former)?;
        }
        user_writes(&mut writes, &acceptance.user)?;
        if let Some(phone) = &acceptance.claim_phone {
            let claim = items::claim(keys::phone(phone), &acceptance.user.id);
            writes.put(claim, Some(free_or_held_by(&acceptance.user.id, Conflict::PhoneTaken)));
        }
        match &acceptance.signs_in {
            SignsIn::Session(session) => writes.put(items::session(session)?, None),
            SignsIn::Challenge(challenge) => writes.put(items::token(challenge)?, None),
        };
        for event in &acceptance.events {
            writes.put(items::event(event)?, None);
        }
        self.send(writes).await
    }

    async fn invitation(&self, account: &AccountId, id: &InvitationId) -> StoreResult<Option<Invitation>> {
        self.get_record(items::key(keys::account(account), keys::invitation(id))).await
    }

    async fn invitations(
        &self,
        account: &AccountId,
        query: &InvitationQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Invitation>> {
        let filtered = query.is_filtered();
        let listing = Self::account_listing(account, keys::INVITATION_PREFIX, true, filtered, page, |item| {
            sort_key_position(item, keys::INVITATION_PREFIX)
        });
        self.list(listing, page, |i| query.matches(i)).await
    }

    async fn login_by_email(&self, email: &Email) -> StoreResult<Option<Login>> {
        let found = self
            .query_all(
                Some(keys::BY_EMAIL),
                "ByEmailPK = :email",
                HashMap::from([(":email".to_owned(), s(keys::email(email)))]),
            )
            .await?;
        login(&found, keys::BY_EMAIL_SK)
    }

    async fn login_by_id(&self, user: &UserId) -> StoreResult<Option<Login>> {
        self.login_of(user).await
    }

    /// One transaction, so at most 97 memberships (DynamoDB's limit is 100 items).
    async fn record_sign_in(&self, sign_in: &SignIn) -> StoreResult<()> {
        let mut writes = Writes::default();
        let session = &sign_in.session;
        for account in &sign_in.accounts {
            let stamp = set(&[("last_login_at", items::value(&sign_in.at)?)], &[]);
            let key = items::key(keys::account(account), keys::member(&session.user_id));
            writes.update(key, stamp, Some(Condition::present(Conflict::Stale)));
        }
        if let Some(spent) = &sign_in.second_step {
            user_writes(&mut writes, &spent.user)?;
            writes.delete(items::token_key(&spent.challenge_hash), Some(Condition::present(Conflict::Stale)));
        }
        writes.put(items::session(session)?, None);
        self.send(writes).await
    }

    async fn issue_challenge(&self, challenge: &OneTimeToken) -> StoreResult<()> {
        let mut writes = Writes::default();
        writes.put(items::token(challenge)?, None);
        self.send(writes).await
    }

    async fn challenge(&self, hash: &str) -> StoreResult<Option<OneTimeToken>> {
        let token: Option<OneTimeToken> = self.get_record(items::token_key(hash)).await?;
        Ok(token.filter(|t| matches!(t.purpose, TokenPurpose::SecondStep { .. })))
    }

    async fn sessions_of(&self, user: &UserId) -> StoreResult<Vec<RefreshSession>> {
        let found = self
            .query_all(
                Some(keys::BY_USER),
                "ByUserPK = :sessions",
                HashMap::from([(":sessions".to_owned(), s(keys::sessions_of(user)))]),
            )
            .await?;
        let mut sessions = found.iter().map(items::record).collect::<StoreResult<Vec<RefreshSession>>>()?;
        sessions.sort_by_key(|s| std::cmp::Reverse(s.created_at));
        Ok(sessions)
    }

    async fn refresh_session(&self, family: &SessionFamilyId) -> StoreResult<Option<RefreshSession>> {
        self.get_record(items::session_key(family)).await
    }

    /// Conditioned on the token version too: a rotation read before a password change (which
    /// carried the session over to the new version) must not carry it back.
    async fn rotate_session(&self, previous_hash: &str, next: &RefreshSession) -> StoreResult<()> {
        let condition = same_secret(previous_hash)
            .and("#r.#token_version = :token_version")
            .name("#token_version", "token_version")
            .value(":token_version", AttributeValue::N(next.token_version.to_string()));
        let mut writes = Writes::default();
        writes.put(items::session(next)?, Some(condition));
        self.send(writes).await
    }

    async fn end_session(&self, family: &SessionFamilyId) -> StoreResult<()> {
        let mut writes = Writes::default();
        writes.delete(items::session_key(family), None);
        self.send(writes).await
    }

    async fn caller(
        &self,
        account: &AccountId,
        user: &UserId,
        session: &SessionFamilyId,
    ) -> StoreResult<Option<CallerRecord>> {
        let keys = [
            items::account_key(account),
            items::user_key(user),
            items::key(keys::account(account), keys::member(user)),
            items::session_key(session),
        ];
        let found = self.batch_get(keys.to_vec()).await?;
        let (Some(account), Some(user), Some(member)) =
            (find(&found, &keys[0]), find(&found, &keys[1]), find(&found, &keys[2]))
        else {
            return Ok(None);
        };
        Ok(Some(CallerRecord {
            account: items::record(account)?,
            user: items::record(user)?,
            member: items::record(member)?,
            session: find(&found, &keys[3]).map(items::record).transpose()?,
        }))
    }

    async fn member(&self, account: &AccountId, user: &UserId) -> StoreResult<Option<Member>> {
        self.stored_member(account, user).await
    }

    async fn user(&self, user: &UserId) -> StoreResult<Option<User>> {
        self.get_record(items::user_key(user)).await
    }

    async fn save_user(
        &self,
        user: &User,
        events: &[AuditEvent],
        kept: Option<&RefreshSession>,
    ) -> StoreResult<()> {
        let mut writes = Writes::default();
        user_writes(&mut writes, user)?;
        if let Some(kept) = kept {
            writes.put(items::session(kept)?, Some(same_secret(&kept.secret_hash)));
        }
        for event in events {
            writes.put(items::event(event)?, None);
        }
        self.send(writes).await
    }

    async fn update_member(&self, update: &MemberUpdate) -> StoreResult<()> {
        let mut writes = Writes::default();
        if update.roles.is_some() {
            account_guard(&mut writes, &update.member.account_id, None, update.roles);
        }
        member_writes(&mut writes, &update.member)?;
        writes.put(items::event(&update.event)?, None);
        self.send(writes).await
    }

    /// Reads the released user's phone claim first: it goes only if it is theirs.
    async fn remove_member(&self, removal: &MemberRemoval) -> StoreResult<()> {
        let released_phone = self.phone_to_release(removal).await?;
        let mut writes = Writes::default();
        removal_writes(&mut writes, removal, released_phone)?;
        self.send(writes).await
    }

    async fn transfer_ownership(&self, transfer: &OwnershipTransfer) -> StoreResult<()> {
        let mut writes = Writes::default();
        owner_writes(&mut writes, &transfer.account, false)?;
        member_writes(&mut writes, &transfer.former)?;
        member_writes(&mut writes, &transfer.successor)?;
        writes.put(items::event(&transfer.event)?, None);
        self.send(writes).await
    }

    async fn save_roles(&self, account: &Account, event: &AuditEvent) -> StoreResult<()> {
        let unchanged = version_is("roles_version", account.roles_version.wrapping_sub(1), Conflict::Stale);
        let change = set(
            &[
                ("custom_roles", items::value(&account.custom_roles)?),
                ("roles_version", items::value(&account.roles_version)?),
            ],
            &[],
        );
        let mut writes = Writes::default();
        writes.update(items::account_key(&account.id), change, Some(unchanged));
        writes.put(items::event(event)?, None);
        self.send(writes).await
    }

    async fn update_account_settings(&self, account: &Account, event: &AuditEvent) -> StoreResult<()> {
        let unchanged = version_is("version", account.version.wrapping_sub(1), Conflict::Stale);
        let change = set(
            &[
                ("settings", items::value(&account.settings)?),
                ("locale", items::value(&account.locale)?),
                ("version", items::value(&account.version)?),
            ],
            &[],
        );
        let mut writes = Writes::default();
        writes.update(items::account_key(&account.id), change, Some(unchanged));
        writes.put(items::event(event)?, None);
        self.send(writes).await
    }

    async fn request_renewal(&self, request: &RenewalRequest) -> StoreResult<()> {
        let invitation = &request.invitation;
        let asked = set(&[("renewal_requested_at", items::value(&invitation.renewal_requested_at)?)], &[]);
        let mut writes = Writes::default();
        writes.update(
            items::invitation_key(invitation),
            asked,
            Some(lapsed_unasked(&invitation.token_hash)?),
        );
        writes.put(items::event(&request.event)?, None);
        for mail in &request.mails {
            post(&mut writes, mail)?;
        }
        self.send(writes).await
    }

    async fn set_seat_limit(&self, account: &Account, event: &AuditEvent) -> StoreResult<()> {
        let change = raising_seat_version(set(&[("max_members", items::value(&account.max_members)?)], &[]));
        let mut writes = Writes::default();
        writes.update(items::account_key(&account.id), change, Some(Condition::present(Conflict::Stale)));
        writes.put(items::event(event)?, None);
        self.send(writes).await
    }

    /// Every member item of the account, read whole: an account's members fit in a few pages.
    async fn seats_used(&self, account: &AccountId, now: DateTime<Utc>) -> StoreResult<u32> {
        let values = HashMap::from([
            (":pk".to_owned(), s(keys::account(account))),
            (":prefix".to_owned(), s(keys::MEMBER_PREFIX)),
        ]);
        let found = self.query_all(None, "PK = :pk AND begins_with(SK, :prefix)", values).await?;
        let mut used = 0;
        for item in &found {
            used += u32::from(items::record::<Member>(item)?.holds_seat(now));
        }
        Ok(used)
    }

    async fn change_password(&self, change: &PasswordChange) -> StoreResult<()> {
        let mut writes = Writes::default();
        user_writes(&mut writes, &change.user)?;
        if let Some(kept) = &change.kept_session {
            writes.put(items::session(kept)?, Some(same_secret(&kept.secret_hash)));
        }
        for hash in &change.spent_links {
            writes.delete(items::token_key(hash), None);
        }
        self.send(writes).await
    }

    async fn issue_password_reset(
        &self,
        user: &User,
        token: &OneTimeToken,
        mail: &PendingMail,
    ) -> StoreResult<()> {
        let mut writes = Writes::default();
        user_writes(&mut writes, user)?;
        writes.put(items::token(token)?, None);
        post(&mut writes, mail)?;
        self.send(writes).await
    }

    /// One round trip when the link names its user, as `redemption`.
    async fn password_reset(
        &self,
        token_hash: &str,
        names: Option<&LinkNames>,
    ) -> StoreResult<Option<(OneTimeToken, Login)>> {
        let Some(names) = self.link_names(token_hash, names).await? else {
            return Ok(None);
        };
        if names.purpose != TokenPurpose::PasswordReset {
            return Ok(None);
        }
        let (token_key, user_key) = (items::token_key(token_hash), items::user_key(&names.user_id));
        let wanted = vec![token_key.clone(), user_key.clone()];
        let (found, login) = tokio::try_join!(self.batch_get(wanted), self.login_of(&names.user_id))?;
        let token = find(&found, &token_key).map(items::record::<OneTimeToken>).transpose()?;
        let token = token.filter(|t| t.names() == names);
        let user = find(&found, &user_key).map(items::record::<User>).transpose()?;
        Ok(token.zip(user).zip(login).map(|((token, user), login)| (token, Login { user, ..login })))
    }

    /// One transaction, so at most 97 memberships (DynamoDB's limit is 100 items). Reads the
    /// released phone's claim first: it goes only if the user holds it (a phone set where phones
    /// need not be unique may be someone else's claim, which stays).
    async fn update_profile(&self, update: &ProfileUpdate) -> StoreResult<()> {
        let user = &update.user;
        let released = update.release_phone.as_ref().filter(|p| update.claim_phone.as_ref() != Some(*p));
        let released = match released {
            Some(phone) => self.holds_phone(&user.id, phone).await?.then_some(phone),
            None => None,
        };
        let mut writes = Writes::default();
        // The user first: a stale update is `Stale` even when its phone is taken too.
        user_writes(&mut writes, user)?;
        if let Some(phone) = &update.claim_phone {
            let claim = items::claim(keys::phone(phone), &user.id);
            writes.put(claim, Some(free_or_held_by(&user.id, Conflict::PhoneTaken)));
        }
        if let Some(phone) = released {
            writes.delete(items::key(keys::phone(phone), keys::CLAIM), Some(held_by(&user.id)));
        }
        for account in &update.accounts {
            let key = items::key(keys::account(account), keys::member(&user.id));
            writes.update(key, member_profile(user)?, Some(Condition::present(Conflict::Stale)));
        }
        self.send(writes).await
    }

    /// One `UpdateItem` that counts and answers the new count; the counter expires (TTL) with
    /// its window.
    async fn hit_rate_limit(
        &self,
        key: &str,
        limit: u32,
        window_seconds: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<RateDecision> {
        let window = RateWindow::containing(now, window_seconds);
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(items::rate_key(key, window.index)))
            .update_expression("ADD #count :one SET #expires_at = :ends")
            .expression_attribute_names("#count", keys::COUNT)
            .expression_attribute_names("#expires_at", keys::EXPIRES_AT)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":ends", AttributeValue::N(window.ends_at.to_string()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(call_failed)?;
        let count = match output.attributes().and_then(|a| a.get(keys::COUNT)) {
            Some(AttributeValue::N(n)) => n.parse::<u64>().map_err(failed)?,
            _ => return Err(failed("a rate counter without its count")),
        };
        Ok(window.decide(count, limit))
    }

    /// A new key is put; a changed one has its record replaced in place, so the use noted
    /// beside it stays.
    async fn save_api_key(&self, key: &ApiKey, event: &AuditEvent) -> StoreResult<()> {
        let mut writes = Writes::default();
        if key.version == 1 {
            writes
                .put(items::api_key(key)?, Some(Condition::new("attribute_not_exists(PK)", Conflict::Stale)));
        } else {
            let unchanged = version_is("version", key.version.wrapping_sub(1), Conflict::Stale);
            let forgotten_at = AttributeValue::N(keys::ttl(key.forgotten_at()));
            let change = set(&[], &[(keys::RECORD, items::value(key)?), (keys::EXPIRES_AT, forgotten_at)]);
            writes.update(items::api_key_key(&key.account_id, &key.id), change, Some(unchanged));
        }
        writes.put(items::event(event)?, None);
        self.send(writes).await
    }

    async fn api_key(&self, account: &AccountId, id: &ApiKeyId) -> StoreResult<Option<ApiKey>> {
        self.get(items::api_key_key(account, id)).await?.as_ref().map(items::api_key_record).transpose()
    }

    async fn api_keys(&self, account: &AccountId) -> StoreResult<Vec<ApiKey>> {
        let found = self
            .query_all(
                None,
                "PK = :pk AND begins_with(SK, :prefix)",
                HashMap::from([
                    (":pk".to_owned(), s(keys::account(account))),
                    (":prefix".to_owned(), s(keys::API_KEY_PREFIX)),
                ]),
            )
            .await?;
        found.iter().rev().map(items::api_key_record).collect()
    }

    /// One conditional `UpdateItem`; a use noted within the resolution already fails its
    /// condition and is not an error.
    async fn note_api_key_use(
        &self,
        account: &AccountId,
        id: &ApiKeyId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let millis = |t: DateTime<Utc>| AttributeValue::N(t.timestamp_millis().to_string());
        let stale = Condition::new(
            "attribute_exists(PK) AND (attribute_not_exists(#used) OR #used <= :cutoff)",
            Conflict::Stale,
        )
        .name("#used", keys::LAST_USED_AT)
        .value(":cutoff", millis(at - API_KEY_USE_RESOLUTION));
        let change = set(&[], &[(keys::LAST_USED_AT, millis(at))]);
        let mut writes = Writes::default();
        writes.update(items::api_key_key(account, id), change, Some(stale));
        match self.send(writes).await {
            Err(StoreError::Conflict(_)) => Ok(()),
            other => other,
        }
    }

    async fn audit_events_named(&self, keys: &[EventKey]) -> StoreResult<Vec<NamedEvent>> {
        let item_key = |k: &EventKey| items::event_key(&k.account_id, &k.event_id);
        let mut found = Vec::new();
        // `BatchGetItem` reads at most 100 keys.
        for chunk in keys.chunks(100) {
            found.extend(self.batch_get(chunk.iter().map(item_key).collect()).await?);
        }
        let named = |k: &EventKey| match find(&found, &item_key(k)).map(items::record) {
            None => NamedEvent::Gone,
            Some(Ok(event)) => NamedEvent::Found(event),
            Some(Err(error)) => NamedEvent::Unreadable(format!("{error:?}")),
        };
        Ok(keys.iter().map(named).collect())
    }

    async fn audit_events(
        &self,
        account: &AccountId,
        query: &AuditQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<AuditEvent>> {
        let filtered = query.is_filtered();
        let listing = Self::account_listing(account, keys::EVENT_PREFIX, true, filtered, page, |item| {
            sort_key_position(item, keys::EVENT_PREFIX)
        });
        self.list(listing, page, |e| query.matches(e)).await
    }

    async fn members(
        &self,
        account: &AccountId,
        query: &MemberQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Member>> {
        let filtered = query.is_filtered();
        let listing = Self::account_listing(account, keys::MEMBER_PREFIX, false, filtered, page, |item| {
            sort_key_position(item, keys::MEMBER_PREFIX)
        });
        self.list(listing, page, |m| query.matches(m)).await
    }
}

impl DynamoStore {
    /// Whether a removal releases its user's phone claim: only when it is the user's own.
    async fn phone_to_release(&self, removal: &MemberRemoval) -> StoreResult<bool> {
        let UserAfterRemoval::Released(user) = &removal.user else {
            return Ok(false);
        };
        match &user.phone {
            Some(phone) => self.holds_phone(&user.id, phone).await,
            None => Ok(false),
        }
    }

    /// Whether `user` holds the uniqueness claim of `phone` (a phone set where phones need not
    /// be unique may be someone else's claim).
    async fn holds_phone(&self, user: &UserId, phone: &Phone) -> StoreResult<bool> {
        let claim = self.get(items::key(keys::phone(phone), keys::CLAIM)).await?;
        Ok(claim.and_then(|c| items::string(&c, keys::HOLDER)).as_deref() == Some(user.as_str()))
    }
}
