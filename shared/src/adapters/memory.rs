//! The embedded store for `make run` and fast tests: every operation under one lock, so each is
//! atomic, with the same conditions, ordering and paging as the DynamoDB store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use crate::domain::{
    Account, AccountId, ApiKey, ApiKeyId, AuditEvent, Delivery, Email, EventId, Invitation, InvitationId,
    InvitationStatus, LinkNames, Member, MemberStatus, OneTimeToken, RefreshSession, SessionFamilyId,
    TokenPurpose, User, UserId,
};
use crate::ports::{
    API_KEY_USE_RESOLUTION, Acceptance, AccountSummary, AuditQuery, CallerRecord, Conflict, DeliveryReport,
    EventKey, InvitationQuery, InviteeUser, Login, MemberQuery, MemberRemoval, MemberUpdate, Membership,
    NamedEvent, NewInvitation, OwnerLinkChange, OwnershipTransfer, Page, PageRequest, PasswordChange,
    PendingMail, ProfileUpdate, RateDecision, RateWindow, Redemption, Remembered, RenewalRequest, Resend,
    RolesCheck, SeatCheck, SignIn, SignsIn, Store, StoreError, StoreResult, UserAfterRemoval, Withdrawal,
};

#[derive(Default)]
struct State {
    accounts: HashMap<AccountId, Account>,
    users: HashMap<UserId, User>,
    emails: HashMap<String, UserId>,
    phones: HashMap<String, UserId>,
    members: BTreeMap<(AccountId, UserId), Member>,
    invitations: BTreeMap<(AccountId, InvitationId), Invitation>,
    tokens: HashMap<String, OneTimeToken>,
    sessions: HashMap<SessionFamilyId, RefreshSession>,
    events: BTreeMap<(AccountId, EventId), AuditEvent>,
    /// Where the audit events written since the stream was last taken are, in the order
    /// written: what the table's stream gives the publisher in AWS (`MemoryStore::take_stream`).
    stream: Vec<EventKey>,
    /// Counts per `key#window`; the windows of the past are dropped as new ones start.
    rates: HashMap<String, u32>,
    api_keys: BTreeMap<(AccountId, ApiKeyId), ApiKey>,
    remembered: HashMap<String, Remembered>,
    /// The outbox, by mail key.
    outbox: BTreeMap<String, PendingMail>,
}

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Where the audit events written since the last call are, in the order written; the stream
    /// starts over. The dev server publishes them as the publisher function does from the
    /// table's stream.
    pub fn take_stream(&self) -> Vec<EventKey> {
        self.with(|s| std::mem::take(&mut s.stream))
    }

    /// A store holding exactly `events`, as if their changes were written (the publisher's
    /// tests).
    #[cfg(test)]
    pub(crate) fn holding(events: &[AuditEvent]) -> Self {
        let store = Self::new();
        store.with(|s| events.iter().for_each(|e| s.record(e)));
        store
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut state)
    }
}

fn conflict<T>(kind: Conflict) -> StoreResult<T> {
    Err(StoreError::Conflict(kind))
}

impl State {
    fn login(&self, user: &User) -> Login {
        let memberships = self
            .members
            .values()
            .filter(|m| m.user_id == user.id)
            .filter_map(|m| {
                let account = AccountSummary::from(self.accounts.get(&m.account_id)?);
                Some(Membership { member: m.clone(), account })
            })
            .collect();
        Login { user: user.clone(), memberships }
    }

    /// Refuses to keep an answer under a key that holds a live one (`Repeated`), as the table's
    /// condition does.
    fn may_remember(&self, remembered: &Option<Remembered>) -> StoreResult<()> {
        match remembered.as_ref().and_then(|r| Some((r, self.remembered.get(&r.key_hash)?))) {
            Some((new, kept)) if kept.expires_at > new.created_at => conflict(Conflict::Repeated),
            _ => Ok(()),
        }
    }

    /// Writes a new invitation. `touch_superseded`: the invitation of a superseded membership
    /// must be neither accepted nor revoked, and becomes `expired` (an owner-link change
    /// supersedes without it: it cancels that invitation itself, or it ended already).
    fn insert_invitation(&mut self, new: &NewInvitation, touch_superseded: bool) -> StoreResult<()> {
        self.may_remember(&new.remembered)?;
        let member_key = (new.member.account_id.clone(), new.member.user_id.clone());
        match (self.members.get(&member_key), &new.supersedes) {
            (None, None) => {}
            // The membership to replace is gone: its user's count moved on, so this must count anew.
            (None, Some(_)) => return conflict(Conflict::AlreadyMember),
            (Some(stale), Some(old))
                if stale.status == MemberStatus::NotActivated
                    && stale.invitation_id.as_ref() == Some(old) => {}
            (Some(_), _) => return conflict(Conflict::AlreadyMember),
        }
        let superseded = match (&new.supersedes, touch_superseded) {
            (Some(old), true) => {
                let key = (member_key.0.clone(), old.clone());
                match self.invitations.get(&key) {
                    Some(old) if matches!(old.status, InvitationStatus::Sent | InvitationStatus::Expired) => {
                        Some(key)
                    }
                    _ => return conflict(Conflict::AlreadyMember),
                }
            }
            _ => None,
        };
        if let Some(phone) = &new.claim_phone
            && self.phones.contains_key(phone.as_str())
        {
            return conflict(Conflict::PhoneTaken);
        }
        match &new.user {
            InviteeUser::New(user) if self.emails.contains_key(user.email.as_str()) => {
                return conflict(Conflict::EmailTaken);
            }
            InviteeUser::New(user) => {
                self.emails.insert(user.email.as_str().to_owned(), user.id.clone());
            }
            InviteeUser::Existing(user) => self.user_at(user, user.version.wrapping_sub(1))?,
        }
        let (InviteeUser::New(user) | InviteeUser::Existing(user)) = &new.user;
        self.users.insert(user.id.clone(), user.clone());
        if let Some(key) = superseded
            && let Some(old) = self.invitations.get_mut(&key)
        {
            old.status = InvitationStatus::Expired;
        }
        if let Some(phone) = &new.claim_phone {
            self.phones.insert(phone.as_str().to_owned(), new.member.user_id.clone());
        }
        self.members.insert(member_key, new.member.clone());
        let invitation = &new.invitation;
        self.invitations.insert((invitation.account_id.clone(), invitation.id.clone()), invitation.clone());
        self.tokens.insert(new.token.hash.clone(), new.token.clone());
        self.record(&new.event);
        self.post(&new.mail);
        self.remember(&new.remembered);
        Ok(())
    }

    /// Keeps a remembered answer, once the write's checks passed.
    fn remember(&mut self, remembered: &Option<Remembered>) {
        if let Some(remembered) = remembered {
            self.remembered.insert(remembered.key_hash.clone(), remembered.clone());
        }
    }

    /// Puts a mail in the outbox, replacing one under its key.
    fn post(&mut self, mail: &PendingMail) {
        self.outbox.insert(mail.key.clone(), mail.clone());
    }

    /// The outbox's mail under `key` is still at `version`.
    fn mail_at(&self, key: &str, version: &str) -> StoreResult<()> {
        match self.outbox.get(key) {
            Some(stored) if stored.version == version => Ok(()),
            _ => conflict(Conflict::Stale),
        }
    }

    /// Writes what SES or the outbox reported of an invitation's mail, provided it is as read.
    fn report_delivery(&mut self, report: &DeliveryReport) -> StoreResult<()> {
        let (read, new) = (&report.read, &report.invitation);
        let stored = self.invitations.get_mut(&(read.account_id.clone(), read.id.clone()));
        let unchanged = |i: &Invitation| {
            (i.send_count, i.delivery, i.address_refused)
                == (read.send_count, read.delivery, read.address_refused)
        };
        match stored {
            Some(stored) if unchanged(stored) => {
                stored.delivery = new.delivery;
                stored.address_refused = new.address_refused;
            }
            _ => return conflict(Conflict::Stale),
        }
        if let Some(event) = &report.event {
            self.record(event);
        }
        Ok(())
    }

    fn record(&mut self, event: &AuditEvent) {
        self.events.insert((event.account_id.clone(), event.id.clone()), event.clone());
        self.stream.push(EventKey::from(event));
    }

    /// The stored invitation, provided it is still `sent` with the link `token_hash`, and SES's
    /// reports on its mail are still `delivery` and `invitation`'s refusal (as read).
    fn sent_invitation(
        &mut self,
        invitation: &Invitation,
        token_hash: &str,
        delivery: Delivery,
    ) -> StoreResult<&mut Invitation> {
        match self.invitations.get_mut(&(invitation.account_id.clone(), invitation.id.clone())) {
            Some(stored)
                if stored.status == InvitationStatus::Sent
                    && stored.token_hash == token_hash
                    && (stored.delivery, stored.address_refused)
                        == (delivery, invitation.address_refused) =>
            {
                Ok(stored)
            }
            _ => conflict(Conflict::TokenSpent),
        }
    }

    /// `sent_invitation` with its link as read, and the invitee's request for a new link as
    /// read too: the guard of a write of the whole record (the table's `sent_as_read`).
    fn sent_as_read(&mut self, invitation: &Invitation) -> StoreResult<&mut Invitation> {
        let stored = self.sent_invitation(invitation, &invitation.token_hash, invitation.delivery)?;
        if stored.renewal_requested_at != invitation.renewal_requested_at {
            return conflict(Conflict::TokenSpent);
        }
        Ok(stored)
    }

    /// The stored membership, provided its version is `version`.
    fn member_at(&mut self, member: &Member, version: u32) -> StoreResult<&mut Member> {
        match self.members.get_mut(&(member.account_id.clone(), member.user_id.clone())) {
            Some(stored) if stored.version == version => Ok(stored),
            _ => conflict(Conflict::Stale),
        }
    }

    /// Fails with `Stale` unless the stored session's secret is still `session`'s.
    fn session_as_read(&self, session: &RefreshSession) -> StoreResult<()> {
        match self.sessions.get(&session.family_id) {
            Some(stored) if stored.secret_hash == session.secret_hash => Ok(()),
            _ => conflict(Conflict::Stale),
        }
    }

    /// Fails with `Stale` unless the stored user's version is `version`.
    fn user_at(&self, user: &User, version: u32) -> StoreResult<()> {
        match self.users.get(&user.id) {
            Some(stored) if stored.version == version => Ok(()),
            _ => conflict(Conflict::Stale),
        }
    }

    /// Fails with `Stale` unless the stored account's `owner_version` is one less than `account`'s.
    fn owner_unchanged(&self, account: &Account) -> StoreResult<()> {
        match self.accounts.get(&account.id) {
            Some(stored) if stored.owner_version == account.owner_version.wrapping_sub(1) => Ok(()),
            _ => conflict(Conflict::Stale),
        }
    }

    /// The account's own roles as a write judged under them requires (`RolesCheck`); as in
    /// DynamoDB, a write without the check does not look at the account.
    fn roles_as_judged(&self, account: &AccountId, roles: Option<RolesCheck>) -> StoreResult<()> {
        let Some(check) = roles else { return Ok(()) };
        match self.accounts.get(account) {
            Some(stored) if stored.roles_version == check.read_version => Ok(()),
            _ => conflict(Conflict::Stale),
        }
    }

    /// A grant of the account's own roles raises its `roles_version` (`RolesCheck`).
    fn raise_roles_version(&mut self, account: &AccountId, roles: Option<RolesCheck>) {
        if let (Some(stored), Some(RolesCheck { raises: true, .. })) = (self.accounts.get_mut(account), roles)
        {
            stored.roles_version += 1;
        }
    }

    /// What the table's `raising_seat_version` does: seats counted before are stale.
    fn raise_seat_version(&mut self, account: &AccountId) {
        if let Some(stored) = self.accounts.get_mut(account) {
            stored.seat_version += 1;
        }
    }

    /// Writes the account's owner and owner link (checked by `owner_unchanged`).
    fn set_owner(&mut self, account: &Account) {
        if let Some(stored) = self.accounts.get_mut(&account.id) {
            stored.owner_id = account.owner_id.clone();
            stored.owner_link = account.owner_link.clone();
            stored.owner_version = account.owner_version;
        }
    }

    /// Checks every condition of a removal, writing nothing.
    fn check_removal(&mut self, removal: &MemberRemoval) -> StoreResult<()> {
        let member = &removal.member;
        self.roles_as_judged(&member.account_id, removal.roles)?;
        self.member_at(member, member.version)?;
        if let Some(invitation) = &removal.end_invitation {
            self.sent_as_read(invitation)?;
        }
        match &removal.user {
            UserAfterRemoval::Kept(user) => self.user_at(user, user.version.wrapping_sub(1)),
            UserAfterRemoval::Released(user) => self.user_at(user, user.version),
        }
    }

    /// Applies a removal whose conditions `check_removal` found true.
    fn apply_removal(&mut self, removal: &MemberRemoval) {
        let member = &removal.member;
        self.raise_roles_version(&member.account_id, removal.roles);
        if let Some(invitation) = &removal.end_invitation {
            self.invitations
                .insert((invitation.account_id.clone(), invitation.id.clone()), invitation.clone());
        }
        self.members.remove(&(member.account_id.clone(), member.user_id.clone()));
        match &removal.user {
            UserAfterRemoval::Kept(user) => {
                self.users.insert(user.id.clone(), user.clone());
            }
            UserAfterRemoval::Released(user) => {
                self.users.remove(&user.id);
                self.emails.remove(user.email.as_str());
                if let Some(phone) = &user.phone
                    && self.phones.get(phone.as_str()) == Some(&user.id)
                {
                    self.phones.remove(phone.as_str());
                }
            }
        }
        self.record(&removal.event);
    }
}

/// One account's records of a map keyed by (account, id), in id order, with their positions.
fn of_account<'a, K: Ord + Clone + std::fmt::Display, V>(
    map: &'a BTreeMap<(AccountId, K), V>,
    account: &'a AccountId,
    lowest: K,
) -> impl Iterator<Item = (String, &'a V)> {
    map.range((account.clone(), lowest)..)
        .take_while(move |((a, _), _)| a == account)
        .map(|((_, id), v)| (id.to_string(), v))
}

/// The order a list is read in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    Ascending,
    Descending,
}

/// Walks `items` (already in `order`) from just past the position `after`, which need not exist
/// any more (as with DynamoDB's `ExclusiveStartKey`), keeping up to `limit` matches.
fn paginate<'a, T: Clone + 'a>(
    items: impl Iterator<Item = (String, &'a T)>,
    order: Order,
    page: &PageRequest,
    matches: impl Fn(&T) -> bool,
) -> Page<T> {
    let past = |key: &str| match (&page.after, order) {
        (None, _) => true,
        (Some(after), Order::Ascending) => key > after.as_str(),
        (Some(after), Order::Descending) => key < after.as_str(),
    };
    let mut found = Vec::new();
    let mut last_key = None;
    for (key, item) in items.filter(|(key, _)| past(key)) {
        if !matches(item) {
            continue;
        }
        if found.len() == page.limit {
            return Page { items: found, next: last_key };
        }
        found.push(item.clone());
        last_key = Some(key);
    }
    Page { items: found, next: None }
}

#[async_trait]
impl Store for MemoryStore {
    async fn create_account(
        &self,
        account: &Account,
        created: &AuditEvent,
        owner: &NewInvitation,
    ) -> StoreResult<()> {
        self.with(|s| {
            if s.accounts.contains_key(&account.id) {
                return conflict(Conflict::Stale);
            }
            s.accounts.insert(account.id.clone(), account.clone());
            if let Err(refused) = s.insert_invitation(owner, true) {
                s.accounts.remove(&account.id);
                return Err(refused);
            }
            s.record(created);
            Ok(())
        })
    }

    async fn account(&self, id: &AccountId) -> StoreResult<Option<Account>> {
        Ok(self.with(|s| s.accounts.get(id).cloned()))
    }

    async fn create_invitation(&self, new: &NewInvitation) -> StoreResult<()> {
        self.with(|s| {
            let Some(account) = s.accounts.get(&new.invitation.account_id) else {
                return conflict(Conflict::Stale);
            };
            if new.seat.is_some_and(|seat| seat.read_version != account.seat_version) {
                return conflict(Conflict::Stale);
            }
            s.roles_as_judged(&new.invitation.account_id, new.roles)?;
            s.insert_invitation(new, true)?;
            if let Some(SeatCheck { takes_seat: true, .. }) = new.seat {
                s.raise_seat_version(&new.invitation.account_id);
            }
            s.raise_roles_version(&new.invitation.account_id, new.roles);
            Ok(())
        })
    }

    async fn remembered(&self, key_hash: &str) -> StoreResult<Option<Remembered>> {
        Ok(self.with(|s| s.remembered.get(key_hash).cloned()))
    }

    async fn remember(&self, remembered: &Remembered) -> StoreResult<()> {
        let remembered = Some(remembered.clone());
        self.with(|s| {
            s.may_remember(&remembered)?;
            s.remember(&remembered);
            Ok(())
        })
    }

    async fn replace_under_way(&self, record: &Remembered, held_by: &str) -> StoreResult<()> {
        self.with(|s| match s.remembered.get(&record.key_hash) {
            Some(kept) if kept.is_under_way() && kept.request == held_by => {
                s.remembered.insert(record.key_hash.clone(), record.clone());
                Ok(())
            }
            _ => conflict(Conflict::Stale),
        })
    }

    async fn record_delivery(&self, report: &DeliveryReport) -> StoreResult<()> {
        self.with(|s| s.report_delivery(report))
    }

    async fn pending_mail(&self, key: &str) -> StoreResult<Option<PendingMail>> {
        Ok(self.with(|s| s.outbox.get(key).cloned()))
    }

    async fn due_mail(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<PendingMail>> {
        Ok(self.with(|s| s.outbox.values().filter(|m| m.due_at <= now).take(limit).cloned().collect()))
    }

    async fn settle_mail(&self, mail: &PendingMail, invitation: Option<&DeliveryReport>) -> StoreResult<()> {
        self.with(|s| {
            s.mail_at(&mail.key, &mail.version)?;
            if let Some(report) = invitation {
                s.report_delivery(report)?;
            }
            s.outbox.remove(&mail.key);
            Ok(())
        })
    }

    async fn claim_mail(&self, read_version: &str, mail: &PendingMail) -> StoreResult<()> {
        self.with(|s| {
            s.mail_at(&mail.key, read_version)?;
            s.post(mail);
            Ok(())
        })
    }

    async fn withdraw_invitation(&self, withdrawal: &Withdrawal) -> StoreResult<()> {
        self.with(|s| {
            let invitation = &withdrawal.invitation;
            *s.sent_as_read(invitation)? = invitation.clone();
            s.record(&withdrawal.event);
            Ok(())
        })
    }

    async fn change_owner_link(&self, change: &OwnerLinkChange) -> StoreResult<()> {
        self.with(|s| {
            s.owner_unchanged(&change.account)?;
            if let Some(cancelled) = &change.cancelled {
                s.sent_as_read(cancelled)?;
            }
            if let Some(removal) = &change.dropped_candidate {
                s.check_removal(removal)?;
            }
            if let Some(new) = &change.new_link {
                s.insert_invitation(new, false)?;
            }
            if let Some(cancelled) = &change.cancelled {
                s.invitations.insert((cancelled.account_id.clone(), cancelled.id.clone()), cancelled.clone());
            }
            if let Some(removal) = &change.dropped_candidate {
                s.apply_removal(removal);
            }
            s.set_owner(&change.account);
            if change.new_link.is_some() {
                s.raise_seat_version(&change.account.id);
            }
            change.events.iter().for_each(|event| s.record(event));
            Ok(())
        })
    }

    async fn resend_invitation(&self, resend: &Resend) -> StoreResult<()> {
        self.with(|s| {
            s.may_remember(&resend.remembered)?;
            s.sent_invitation(&resend.invitation, &resend.previous_token_hash, resend.previous_delivery)?;
            if let Some(member) = &resend.member {
                s.member_at(member, member.version.wrapping_sub(1))?;
                s.members.insert((member.account_id.clone(), member.user_id.clone()), member.clone());
            }
            *s.sent_invitation(&resend.invitation, &resend.previous_token_hash, resend.previous_delivery)? =
                resend.invitation.clone();
            s.tokens.remove(&resend.previous_token_hash);
            s.tokens.insert(resend.token.hash.clone(), resend.token.clone());
            s.record(&resend.event);
            s.post(&resend.mail);
            s.remember(&resend.remembered);
            Ok(())
        })
    }

    async fn lapsed_invitations(
        &self,
        now: DateTime<Utc>,
        page: &PageRequest,
    ) -> StoreResult<Page<Invitation>> {
        Ok(self.with(|s| {
            let mut lapsed: Vec<(String, &Invitation)> = s
                .invitations
                .values()
                .filter(|i| i.status == InvitationStatus::Sent && i.expires_at <= now)
                .map(|i| {
                    (
                        format!(
                            "{}#{}",
                            i.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
                            i.id
                        ),
                        i,
                    )
                })
                .collect();
            lapsed.sort_by(|a, b| a.0.cmp(&b.0));
            paginate(lapsed.into_iter(), Order::Ascending, page, |_| true)
        }))
    }

    async fn redemption(
        &self,
        token_hash: &str,
        names: Option<&LinkNames>,
    ) -> StoreResult<Option<Redemption>> {
        Ok(self.with(|s| {
            let token = s.tokens.get(token_hash).filter(|t| names.is_none_or(|n| *n == t.names()))?.clone();
            let crate::domain::TokenPurpose::Invitation { account_id, invitation_id } = &token.purpose else {
                return None;
            };
            let invitation = s.invitations.get(&(account_id.clone(), invitation_id.clone()))?.clone();
            let account = s.accounts.get(account_id)?.clone();
            let user = s.users.get(&token.user_id).cloned();
            let member = s.members.get(&(account_id.clone(), token.user_id.clone())).cloned();
            Some(Redemption { token, invitation, account, user, member })
        }))
    }

    async fn accept_invitation(&self, acceptance: &Acceptance) -> StoreResult<()> {
        self.with(|s| {
            let invitation = &acceptance.invitation;
            let key = (invitation.account_id.clone(), invitation.id.clone());
            if !s.tokens.contains_key(&acceptance.token_hash) {
                return conflict(Conflict::TokenSpent);
            }
            s.sent_invitation(invitation, &acceptance.token_hash, invitation.delivery)?;
            let member = &acceptance.member;
            s.member_at(member, member.version.wrapping_sub(1))?;
            if let Some(account) = &acceptance.account {
                s.owner_unchanged(account)?;
            }
            if let Some(former) = &acceptance.former_owner {
                s.member_at(former, former.version.wrapping_sub(1))?;
            }
            s.user_at(&acceptance.user, acceptance.user.version.wrapping_sub(1))?;
            if let Some(phone) = &acceptance.claim_phone {
                match s.phones.get(phone.as_str()) {
                    Some(owner) if owner != &acceptance.user.id => {
                        return conflict(Conflict::PhoneTaken);
                    }
                    _ => {
                        s.phones.insert(phone.as_str().to_owned(), acceptance.user.id.clone());
                    }
                }
            }
            s.invitations.insert(key, invitation.clone());
            s.members.insert((member.account_id.clone(), member.user_id.clone()), member.clone());
            s.users.insert(acceptance.user.id.clone(), acceptance.user.clone());
            match &acceptance.signs_in {
                SignsIn::Session(session) => {
                    s.sessions.insert(session.family_id.clone(), session.clone());
                }
                SignsIn::Challenge(challenge) => {
                    s.tokens.insert(challenge.hash.clone(), challenge.clone());
                }
            }
            acceptance.events.iter().for_each(|event| s.record(event));
            if let Some(account) = &acceptance.account {
                s.set_owner(account);
            }
            if let Some(former) = &acceptance.former_owner {
                s.members.insert((former.account_id.clone(), former.user_id.clone()), former.clone());
            }
            Ok(())
        })
    }

    async fn invitation(&self, account: &AccountId, id: &InvitationId) -> StoreResult<Option<Invitation>> {
        Ok(self.with(|s| s.invitations.get(&(account.clone(), id.clone())).cloned()))
    }

    async fn invitations(
        &self,
        account: &AccountId,
        query: &InvitationQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Invitation>> {
        Ok(self.with(|s| {
            let items: Vec<_> = of_account(&s.invitations, account, InvitationId::lowest()).collect();
            paginate(items.into_iter().rev(), Order::Descending, page, |i| query.matches(i))
        }))
    }

    async fn login_by_email(&self, email: &Email) -> StoreResult<Option<Login>> {
        Ok(self.with(|s| {
            let user = s.emails.get(email.as_str()).and_then(|id| s.users.get(id))?;
            Some(s.login(user))
        }))
    }

    async fn login_by_id(&self, user: &UserId) -> StoreResult<Option<Login>> {
        Ok(self.with(|s| s.users.get(user).map(|u| s.login(u))))
    }

    async fn record_sign_in(&self, sign_in: &SignIn) -> StoreResult<()> {
        self.with(|s| {
            let session = &sign_in.session;
            let key = |account: &AccountId| (account.clone(), session.user_id.clone());
            if !sign_in.accounts.iter().all(|account| s.members.contains_key(&key(account))) {
                return conflict(Conflict::Stale);
            }
            if let Some(spent) = &sign_in.second_step {
                s.user_at(&spent.user, spent.user.version.wrapping_sub(1))?;
                if !s.tokens.contains_key(&spent.challenge_hash) {
                    return conflict(Conflict::Stale);
                }
                s.tokens.remove(&spent.challenge_hash);
                s.users.insert(spent.user.id.clone(), spent.user.clone());
            }
            for account in &sign_in.accounts {
                if let Some(member) = s.members.get_mut(&key(account)) {
                    member.last_login_at = Some(sign_in.at);
                }
            }
            s.sessions.insert(session.family_id.clone(), session.clone());
            Ok(())
        })
    }

    async fn issue_challenge(&self, challenge: &OneTimeToken) -> StoreResult<()> {
        self.with(|s| s.tokens.insert(challenge.hash.clone(), challenge.clone()));
        Ok(())
    }

    async fn challenge(&self, hash: &str) -> StoreResult<Option<OneTimeToken>> {
        Ok(self.with(|s| {
            s.tokens.get(hash).filter(|t| matches!(t.purpose, TokenPurpose::SecondStep { .. })).cloned()
        }))
    }

    async fn sessions_of(&self, user: &UserId) -> StoreResult<Vec<RefreshSession>> {
        let mut sessions: Vec<RefreshSession> =
            self.with(|s| s.sessions.values().filter(|session| &session.user_id == user).cloned().collect());
        sessions.sort_by_key(|s| std::cmp::Reverse(s.created_at));
        Ok(sessions)
    }

    async fn refresh_session(&self, family: &SessionFamilyId) -> StoreResult<Option<RefreshSession>> {
        Ok(self.with(|s| s.sessions.get(family).cloned()))
    }

    async fn rotate_session(&self, previous_hash: &str, next: &RefreshSession) -> StoreResult<()> {
        self.with(|s| match s.sessions.get_mut(&next.family_id) {
            Some(current)
                if current.secret_hash == previous_hash && current.token_version == next.token_version =>
            {
                *current = next.clone();
                Ok(())
            }
            _ => conflict(Conflict::Stale),
        })
    }

    async fn end_session(&self, family: &SessionFamilyId) -> StoreResult<()> {
        self.with(|s| s.sessions.remove(family));
        Ok(())
    }

    async fn caller(
        &self,
        account: &AccountId,
        user: &UserId,
        session: &SessionFamilyId,
    ) -> StoreResult<Option<CallerRecord>> {
        Ok(self.with(|s| {
            Some(CallerRecord {
                account: s.accounts.get(account)?.clone(),
                user: s.users.get(user)?.clone(),
                member: s.members.get(&(account.clone(), user.clone()))?.clone(),
                session: s.sessions.get(session).cloned(),
            })
        }))
    }

    async fn save_api_key(&self, key: &ApiKey, event: &AuditEvent) -> StoreResult<()> {
        self.with(|s| {
            let id = (key.account_id.clone(), key.id.clone());
            let last_used_at = match (s.api_keys.get(&id), key.version) {
                (None, 1) => None,
                (Some(stored), version) if stored.version == version.wrapping_sub(1) => stored.last_used_at,
                _ => return conflict(Conflict::Stale),
            };
            s.api_keys.insert(id, ApiKey { last_used_at, ..key.clone() });
            s.record(event);
            Ok(())
        })
    }

    async fn api_key(&self, account: &AccountId, id: &ApiKeyId) -> StoreResult<Option<ApiKey>> {
        Ok(self.with(|s| s.api_keys.get(&(account.clone(), id.clone())).cloned()))
    }

    async fn api_keys(&self, account: &AccountId) -> StoreResult<Vec<ApiKey>> {
        Ok(self.with(|s| {
            let keys: Vec<ApiKey> =
                of_account(&s.api_keys, account, ApiKeyId::lowest()).map(|(_, k)| k.clone()).collect();
            keys.into_iter().rev().collect()
        }))
    }

    async fn note_api_key_use(
        &self,
        account: &AccountId,
        id: &ApiKeyId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.with(|s| {
            if let Some(key) = s.api_keys.get_mut(&(account.clone(), id.clone()))
                && key.last_used_at.is_none_or(|last| last <= at - API_KEY_USE_RESOLUTION)
            {
                key.last_used_at = Some(at);
            }
        });
        Ok(())
    }

    async fn audit_events_named(&self, keys: &[EventKey]) -> StoreResult<Vec<NamedEvent>> {
        Ok(self.with(|s| {
            let named = |k: &EventKey| s.events.get(&(k.account_id.clone(), k.event_id.clone())).cloned();
            keys.iter().map(|k| named(k).map_or(NamedEvent::Gone, NamedEvent::Found)).collect()
        }))
    }

    async fn audit_events(
        &self,
        account: &AccountId,
        query: &AuditQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<AuditEvent>> {
        Ok(self.with(|s| {
            let events: Vec<_> = of_account(&s.events, account, EventId::lowest()).collect();
            paginate(events.into_iter().rev(), Order::Descending, page, |e| query.matches(e))
        }))
    }

    async fn update_member(&self, update: &MemberUpdate) -> StoreResult<()> {
        self.with(|s| {
            let member = &update.member;
            s.roles_as_judged(&member.account_id, update.roles)?;
            *s.member_at(member, member.version.wrapping_sub(1))? = member.clone();
            s.raise_roles_version(&member.account_id, update.roles);
            s.record(&update.event);
            Ok(())
        })
    }

    async fn remove_member(&self, removal: &MemberRemoval) -> StoreResult<()> {
        self.with(|s| {
            s.check_removal(removal)?;
            s.apply_removal(removal);
            Ok(())
        })
    }

    async fn transfer_ownership(&self, transfer: &OwnershipTransfer) -> StoreResult<()> {
        self.with(|s| {
            let (former, successor) = (&transfer.former, &transfer.successor);
            s.owner_unchanged(&transfer.account)?;
            s.member_at(former, former.version.wrapping_sub(1))?;
            s.member_at(successor, successor.version.wrapping_sub(1))?;
            s.set_owner(&transfer.account);
            s.members.insert((former.account_id.clone(), former.user_id.clone()), former.clone());
            s.members.insert((successor.account_id.clone(), successor.user_id.clone()), successor.clone());
            s.record(&transfer.event);
            Ok(())
        })
    }

    async fn save_roles(&self, account: &Account, event: &AuditEvent) -> StoreResult<()> {
        self.with(|s| {
            let stored = match s.accounts.get_mut(&account.id) {
                Some(stored) if stored.roles_version == account.roles_version.wrapping_sub(1) => stored,
                _ => return conflict(Conflict::Stale),
            };
            stored.custom_roles = account.custom_roles.clone();
            stored.roles_version = account.roles_version;
            s.record(event);
            Ok(())
        })
    }

    async fn update_account_settings(&self, account: &Account, event: &AuditEvent) -> StoreResult<()> {
        self.with(|s| {
            let stored = match s.accounts.get_mut(&account.id) {
                Some(stored) if stored.version == account.version.wrapping_sub(1) => stored,
                _ => return conflict(Conflict::Stale),
            };
            stored.settings = account.settings.clone();
            stored.locale = account.locale;
            stored.version = account.version;
            s.record(event);
            Ok(())
        })
    }

    async fn request_renewal(&self, request: &RenewalRequest) -> StoreResult<()> {
        self.with(|s| {
            let invitation = &request.invitation;
            let key = (invitation.account_id.clone(), invitation.id.clone());
            let Some(stored) = s.invitations.get_mut(&key) else { return conflict(Conflict::Stale) };
            if !matches!(stored.status, InvitationStatus::Sent | InvitationStatus::Expired)
                || stored.token_hash != invitation.token_hash
                || stored.renewal_requested_at.is_some()
            {
                return conflict(Conflict::Stale);
            }
            stored.renewal_requested_at = invitation.renewal_requested_at;
            s.record(&request.event);
            request.mails.iter().for_each(|mail| s.post(mail));
            Ok(())
        })
    }

    async fn set_seat_limit(&self, account: &Account, event: &AuditEvent) -> StoreResult<()> {
        self.with(|s| {
            let Some(stored) = s.accounts.get_mut(&account.id) else { return conflict(Conflict::Stale) };
            stored.max_members = account.max_members;
            s.raise_seat_version(&account.id);
            s.record(event);
            Ok(())
        })
    }

    async fn seats_used(&self, account: &AccountId, now: DateTime<Utc>) -> StoreResult<u32> {
        Ok(self.with(|s| {
            let members =
                of_account(&s.members, account, UserId::lowest()).filter(|(_, m)| m.holds_seat(now));
            u32::try_from(members.count()).unwrap_or(u32::MAX)
        }))
    }

    async fn change_password(&self, change: &PasswordChange) -> StoreResult<()> {
        self.with(|s| {
            let user = &change.user;
            s.user_at(user, user.version.wrapping_sub(1))?;
            if let Some(kept) = &change.kept_session {
                s.session_as_read(kept)?;
                s.sessions.insert(kept.family_id.clone(), kept.clone());
            }
            s.users.insert(user.id.clone(), user.clone());
            for hash in &change.spent_links {
                s.tokens.remove(hash);
            }
            Ok(())
        })
    }

    async fn issue_password_reset(
        &self,
        user: &User,
        token: &OneTimeToken,
        mail: &PendingMail,
    ) -> StoreResult<()> {
        self.with(|s| {
            s.user_at(user, user.version.wrapping_sub(1))?;
            s.users.insert(user.id.clone(), user.clone());
            s.tokens.insert(token.hash.clone(), token.clone());
            s.post(mail);
            Ok(())
        })
    }

    async fn password_reset(
        &self,
        token_hash: &str,
        names: Option<&LinkNames>,
    ) -> StoreResult<Option<(OneTimeToken, Login)>> {
        Ok(self.with(|s| {
            let token = s.tokens.get(token_hash).filter(|t| {
                t.purpose == TokenPurpose::PasswordReset && names.is_none_or(|n| *n == t.names())
            })?;
            let user = s.users.get(&token.user_id)?;
            Some((token.clone(), s.login(user)))
        }))
    }

    async fn update_profile(&self, update: &ProfileUpdate) -> StoreResult<()> {
        self.with(|s| {
            let user = &update.user;
            s.user_at(user, user.version.wrapping_sub(1))?;
            if !update.accounts.iter().all(|a| s.members.contains_key(&(a.clone(), user.id.clone()))) {
                return conflict(Conflict::Stale);
            }
            if let Some(phone) = &update.claim_phone
                && s.phones.get(phone.as_str()).is_some_and(|owner| owner != &user.id)
            {
                return conflict(Conflict::PhoneTaken);
            }
            if let Some(phone) = &update.release_phone
                && s.phones.get(phone.as_str()) == Some(&user.id)
            {
                s.phones.remove(phone.as_str());
            }
            if let Some(phone) = &update.claim_phone {
                s.phones.insert(phone.as_str().to_owned(), user.id.clone());
            }
            for account in &update.accounts {
                if let Some(member) = s.members.get_mut(&(account.clone(), user.id.clone())) {
                    *member = Member { version: member.version + 1, ..member.clone().with_profile(user) };
                }
            }
            s.users.insert(user.id.clone(), user.clone());
            Ok(())
        })
    }

    async fn hit_rate_limit(
        &self,
        key: &str,
        limit: u32,
        window_seconds: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<RateDecision> {
        let window = RateWindow::containing(now, window_seconds);
        Ok(self.with(|s| {
            let current = window.index.to_string();
            s.rates.retain(|k, _| k.rsplit_once('#').is_none_or(|(name, w)| name != key || w == current));
            let count = s.rates.entry(format!("{key}#{current}")).or_insert(0);
            *count += 1;
            window.decide(u64::from(*count), limit)
        }))
    }

    async fn member(&self, account: &AccountId, user: &UserId) -> StoreResult<Option<Member>> {
        Ok(self.with(|s| s.members.get(&(account.clone(), user.clone())).cloned()))
    }

    async fn user(&self, user: &UserId) -> StoreResult<Option<User>> {
        Ok(self.with(|s| s.users.get(user).cloned()))
    }

    async fn save_user(
        &self,
        user: &User,
        events: &[AuditEvent],
        kept: Option<&RefreshSession>,
    ) -> StoreResult<()> {
        self.with(|s| {
            s.user_at(user, user.version.wrapping_sub(1))?;
            if let Some(kept) = kept {
                s.session_as_read(kept)?;
                s.sessions.insert(kept.family_id.clone(), kept.clone());
            }
            s.users.insert(user.id.clone(), user.clone());
            events.iter().for_each(|event| s.record(event));
            Ok(())
        })
    }

    async fn members(
        &self,
        account: &AccountId,
        query: &MemberQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Member>> {
        Ok(self.with(|s| {
            let items = of_account(&s.members, account, UserId::lowest());
            paginate(items, Order::Ascending, page, |m| query.matches(m))
        }))
    }
}
