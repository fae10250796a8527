//! One contract for `Store`: every behaviour below is a function over `dyn Store`, run against the
//! memory store (`memory::…`) and against DynamoDB Local (`dynamodb::…`), so the embedded default
//! cannot drift from production. DynamoDB-only checks follow: what failed writes leave behind, and
//! what every method costs in round trips.

use chrono::{DateTime, Duration, DurationRound, Utc};
use futures::future::join_all;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;

use shared::domain::{
    Account, AccountId, AccountSettings, AuditAction, AuditEvent, AuditTarget, Email, EventId, Invitation,
    InvitationId, InvitationMode, InvitationStatus, Locale, Member, MemberStatus, OneTimeToken,
    PermissionSet, Phone, RefreshSession, RoleName, SessionFamilyId, TokenPurpose, User, UserId,
};
use shared::ports::{
    Acceptance, AccountSummary, Conflict, InvitationQuery, InviteeUser, MemberQuery, MemberRemoval,
    MemberUpdate, NewInvitation, OwnershipTransfer, Page, PageRequest, PasswordChange, ProfileUpdate,
    RateDecision, Resend, Store, StoreError, Withdrawal,
};
use tests::emulators::{DynamoCalls, counted_dynamo_store, dynamo_store, scan_table};

// ---------------------------------------------------------------------------------------------
// A small world to write into.

/// Now, to the millisecond (as a browser would see it), fixed for one test.
fn now() -> DateTime<Utc> {
    Utc::now().duration_trunc(Duration::milliseconds(1)).expect("now is representable")
}

fn email(address: &str) -> Email {
    Email::parse(address).expect("a valid test address")
}

/// A unique address, so tests sharing an emulator never collide.
fn unique_email(name: &str) -> Email {
    email(&format!("{name}.{}@example.com", uuid::Uuid::new_v4().simple()))
}

fn phone(number: &str) -> Phone {
    Phone::parse(number, None).expect("a valid test number")
}

/// 64 hex characters, like the SHA-256 the service stores.
fn token_hash() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

fn account(now: DateTime<Utc>) -> Account {
    Account {
        id: AccountId::generate(),
        name: "Kvitka Ltd".into(),
        preset: "standard".into(),
        locale: Locale::Uk,
        owner_id: UserId::generate(),
        settings: AccountSettings::default(),
        created_at: now,
    }
}

fn user(email: &Email, now: DateTime<Utc>) -> User {
    User {
        id: UserId::generate(),
        email: email.clone(),
        first_name: Some("Olena".into()),
        last_name: Some("Kovalenko".into()),
        phone: None,
        locale: None,
        password_hash: None,
        token_version: 0,
        reset_token_hash: None,
        created_at: now,
    }
}

fn event(account: &AccountId, action: AuditAction, target: &str, now: DateTime<Utc>) -> AuditEvent {
    AuditEvent {
        id: EventId::generate(),
        account_id: account.clone(),
        at: now,
        actor_id: None,
        action,
        target_type: AuditTarget::Invitation,
        target_id: target.to_owned(),
        details: json!({ "roles": ["support"], "count": 1 }),
    }
}

/// Everything an invitation of `user` (by `address`) into `account` writes.
fn invitation(account: &Account, address: &Email, user: InviteeUser, now: DateTime<Utc>) -> NewInvitation {
    let user_id = match &user {
        InviteeUser::New(u) => u.id.clone(),
        InviteeUser::Existing(id) => id.clone(),
    };
    let id = InvitationId::generate();
    let hash = token_hash();
    let expires_at = now + Duration::hours(72);
    let invitation = Invitation {
        id: id.clone(),
        account_id: account.id.clone(),
        user_id: user_id.clone(),
        email: address.clone(),
        roles: vec![RoleName::new("support")],
        permissions: PermissionSet::default(),
        status: InvitationStatus::Sent,
        mode: InvitationMode::Invitation,
        for_owner: false,
        invited_by: None,
        created_at: now,
        expires_at,
        accepted_at: None,
        revoked_at: None,
        revoked_by: None,
        send_count: 1,
        last_sent_at: now,
        recent_sends: vec![now],
        token_hash: hash.clone(),
    };
    let member = Member {
        account_id: account.id.clone(),
        user_id: user_id.clone(),
        email: address.clone(),
        first_name: None,
        last_name: None,
        phone: None,
        roles: vec![RoleName::new("support")],
        permissions: PermissionSet::default(),
        status: MemberStatus::NotActivated,
        is_owner: false,
        invited_by: None,
        created_at: now,
        activated_at: None,
        last_login_at: None,
        invitation_id: Some(id.clone()),
        pending_until: Some(expires_at),
        version: 0,
    };
    let token = OneTimeToken {
        hash,
        user_id,
        purpose: TokenPurpose::Invitation { account_id: account.id.clone(), invitation_id: id.clone() },
        expires_at,
    };
    NewInvitation {
        event: event(&account.id, AuditAction::InvitationCreated, id.as_str(), now),
        invitation,
        member,
        user,
        token,
        claim_phone: None,
        supersedes: None,
    }
}

/// An account with its owner's pending activation, written.
struct Founded {
    account: Account,
    owner: User,
    activation: NewInvitation,
}

async fn found_account(store: &dyn Store, now: DateTime<Utc>) -> Founded {
    let mut account = account(now);
    let created = event(&account.id, AuditAction::AccountCreated, account.id.as_str(), now);
    let owner_email = unique_email("owner");
    let owner = user(&owner_email, now);
    account.owner_id = owner.id.clone();
    let mut activation = invitation(&account, &owner_email, InviteeUser::New(owner.clone()), now);
    activation.invitation.for_owner = true;
    activation.member.is_owner = true;
    store.create_account(&account, &created, &activation).await.expect("the account is created");
    Founded { account, owner, activation }
}

/// A new person invited into `account`, written.
async fn invite_new(
    store: &dyn Store,
    account: &Account,
    name: &str,
    now: DateTime<Utc>,
) -> (User, NewInvitation) {
    let address = unique_email(name);
    let person = user(&address, now);
    let new = invitation(account, &address, InviteeUser::New(person.clone()), now);
    store.create_invitation(&new).await.expect("the invitation is written");
    (person, new)
}

fn session(user: &User, now: DateTime<Utc>) -> RefreshSession {
    RefreshSession {
        family_id: SessionFamilyId::generate(),
        user_id: user.id.clone(),
        secret_hash: token_hash(),
        token_version: user.token_version,
        created_at: now,
        expires_at: now + Duration::days(30),
    }
}

/// What the service writes when `user` accepts `new` at `now`.
fn acceptance(new: &NewInvitation, user: &User, now: DateTime<Utc>) -> Acceptance {
    let mut invitation = new.invitation.clone();
    invitation.status = InvitationStatus::Accepted;
    invitation.accepted_at = Some(now);
    let mut member = new.member.clone();
    member.status = MemberStatus::Active;
    member.activated_at = Some(now);
    member.pending_until = None;
    member.last_login_at = Some(now);
    member.version += 1;
    let mut user = user.clone();
    user.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());
    Acceptance {
        token_hash: new.token.hash.clone(),
        event: event(&invitation.account_id, AuditAction::InvitationAccepted, invitation.id.as_str(), now),
        session: session(&user, now),
        invitation,
        member: member.with_profile(&user),
        user,
        claim_phone: None,
        ownership: None,
    }
}

fn conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) -> Conflict {
    match result {
        Err(StoreError::Conflict(conflict)) => conflict,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// Every page of a list, following `next` from the first page on.
async fn all_pages<T, F, Fut>(limit: usize, mut page: F) -> Vec<Vec<T>>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Page<T>, StoreError>>,
{
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let Page { items, next } = page(PageRequest { limit, after }).await.expect("a page");
        pages.push(items);
        match next {
            Some(position) => after = Some(position),
            None => return pages,
        }
        assert!(pages.len() < 100, "pagination does not end");
    }
}

// ---------------------------------------------------------------------------------------------
// The contract.

macro_rules! contract {
    ($($behaviour:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    super::$behaviour(std::sync::Arc::new(shared::adapters::memory::MemoryStore::new())).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    super::$behaviour(std::sync::Arc::new(super::dynamo_store().await)).await;
                }
            )*
        }
    };
}

contract!(
    a_new_account_reads_back_everywhere_it_is_written,
    an_email_is_claimed_by_one_user,
    a_phone_is_claimed_by_one_user,
    an_existing_membership_is_not_overwritten,
    an_invitation_needs_its_account_and_its_existing_user,
    a_lapsed_membership_is_superseded_once,
    of_sixteen_concurrent_acceptances_exactly_one_wins,
    an_accepted_token_is_spent,
    accepting_claims_a_phone_unless_someone_else_holds_it,
    an_unknown_token_redeems_to_nothing,
    invitations_list_newest_first_across_pages_and_filters,
    members_list_in_user_order_across_pages_and_filters,
    a_refresh_session_rotates_once_per_secret,
    signing_in_stamps_the_given_memberships,
    withdrawing_ends_the_invitation_and_its_waiting_membership,
    resending_replaces_the_link,
    a_discarded_invitation_leaves_nothing_behind,
    lapsed_invitations_come_oldest_expiry_first_across_pages,
    audit_events_list_newest_first_across_pages,
    a_member_update_needs_the_version_it_read,
    removing_a_member_frees_their_login_when_it_was_their_last,
    removing_a_waiting_member_revokes_their_invitation,
    ownership_passes_once,
    an_owner_recovery_acceptance_passes_the_account,
    a_settings_change_touches_only_settings_and_locale,
    a_password_change_needs_the_version_and_the_live_reset_link,
    a_profile_update_reaches_every_membership_and_moves_the_phone_claim,
    rate_limits_count_per_key_and_window,
);

async fn a_new_account_reads_back_everywhere_it_is_written(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, owner, activation } = found_account(store.as_ref(), now).await;

    assert_eq!(store.account(&account.id).await.unwrap(), Some(account.clone()));
    assert_eq!(
        store.invitation(&account.id, &activation.invitation.id).await.unwrap(),
        Some(activation.invitation.clone())
    );
    assert_eq!(store.member(&account.id, &owner.id).await.unwrap(), Some(activation.member.clone()));
    let caller = store.caller(&account.id, &owner.id).await.unwrap().expect("the owner's caller record");
    assert_eq!(
        (caller.account, caller.user, caller.member),
        (account.clone(), owner.clone(), activation.member.clone())
    );
    assert!(store.caller(&AccountId::generate(), &owner.id).await.unwrap().is_none());

    for login in [
        store.login_by_email(&owner.email).await.unwrap().expect("found by email"),
        store.login_by_id(&owner.id).await.unwrap().expect("found by id"),
    ] {
        assert_eq!(login.user, owner);
        let memberships: Vec<_> = login.memberships.iter().map(|m| (&m.member, &m.account)).collect();
        assert_eq!(memberships, vec![(&activation.member, &AccountSummary::from(&account))]);
    }
    assert!(store.login_by_email(&unique_email("nobody")).await.unwrap().is_none());
    assert!(store.login_by_id(&UserId::generate()).await.unwrap().is_none());

    let redemption =
        store.redemption(&activation.token.hash).await.unwrap().expect("the link leads somewhere");
    assert_eq!(redemption.token, activation.token);
    assert_eq!(redemption.invitation, activation.invitation);
    assert_eq!(redemption.account, account);
    assert_eq!(redemption.login.user, owner);
    assert_eq!(redemption.login.memberships.len(), 1);
}

async fn an_email_is_claimed_by_one_user(store: Arc<dyn Store>) {
    let now = now();
    let first = found_account(store.as_ref(), now).await;
    let second = found_account(store.as_ref(), now).await;
    let (person, _) = invite_new(store.as_ref(), &first.account, "shared", now).await;

    let again = invitation(&second.account, &person.email, InviteeUser::New(user(&person.email, now)), now);
    assert_eq!(conflict(store.create_invitation(&again).await), Conflict::EmailTaken);
    assert!(store.member(&second.account.id, &again.member.user_id).await.unwrap().is_none());
    assert!(store.invitation(&second.account.id, &again.invitation.id).await.unwrap().is_none());
    assert!(store.redemption(&again.token.hash).await.unwrap().is_none());
    let login = store.login_by_email(&person.email).await.unwrap().expect("the first claim stands");
    assert_eq!(login.user.id, person.id);

    let existing = invitation(&second.account, &person.email, InviteeUser::Existing(person.id.clone()), now);
    store.create_invitation(&existing).await.expect("the same person joins a second account");
    let login = store.login_by_id(&person.id).await.unwrap().expect("the person");
    let mut accounts: Vec<_> = login.memberships.iter().map(|m| m.account.id.clone()).collect();
    let mut expected = vec![first.account.id.clone(), second.account.id.clone()];
    accounts.sort();
    expected.sort();
    assert_eq!(accounts, expected);
}

async fn a_phone_is_claimed_by_one_user(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let number = phone(&format!("+38067{:07}", rand_digits()));
    let address = unique_email("first");
    let mut first = invitation(&account, &address, InviteeUser::New(user(&address, now)), now);
    first.claim_phone = Some(number.clone());
    store.create_invitation(&first).await.expect("the first claim");

    let address = unique_email("second");
    let mut second = invitation(&account, &address, InviteeUser::New(user(&address, now)), now);
    second.claim_phone = Some(number);
    assert_eq!(conflict(store.create_invitation(&second).await), Conflict::PhoneTaken);
    assert!(store.login_by_email(&address).await.unwrap().is_none(), "the refused user was not written");
}

/// Seven random digits for a phone number no other test uses.
fn rand_digits() -> u32 {
    (uuid::Uuid::new_v4().as_u128() % 10_000_000) as u32
}

async fn an_existing_membership_is_not_overwritten(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (person, written) = invite_new(store.as_ref(), &account, "member", now).await;

    let again = invitation(&account, &person.email, InviteeUser::Existing(person.id.clone()), now);
    assert_eq!(conflict(store.create_invitation(&again).await), Conflict::AlreadyMember);
    assert_eq!(store.member(&account.id, &person.id).await.unwrap(), Some(written.member));
    assert!(store.invitation(&account.id, &again.invitation.id).await.unwrap().is_none());
}

async fn an_invitation_needs_its_account_and_its_existing_user(store: Arc<dyn Store>) {
    let now = now();
    let address = unique_email("orphan");
    let nowhere = invitation(&account(now), &address, InviteeUser::New(user(&address, now)), now);
    assert_eq!(conflict(store.create_invitation(&nowhere).await), Conflict::Stale);

    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let ghost = invitation(&account, &address, InviteeUser::Existing(UserId::generate()), now);
    assert_eq!(conflict(store.create_invitation(&ghost).await), Conflict::Stale);
    assert!(store.invitation(&account.id, &ghost.invitation.id).await.unwrap().is_none());
}

async fn a_lapsed_membership_is_superseded_once(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (person, old) = invite_new(store.as_ref(), &account, "lapsed", now - Duration::hours(100)).await;

    let mut renewal = invitation(&account, &person.email, InviteeUser::Existing(person.id.clone()), now);
    renewal.supersedes = Some(old.invitation.id.clone());
    store.create_invitation(&renewal).await.expect("the lapsed membership is replaced");
    let stored_old = store.invitation(&account.id, &old.invitation.id).await.unwrap().expect("kept");
    assert_eq!(stored_old.status, InvitationStatus::Expired);
    assert_eq!(store.member(&account.id, &person.id).await.unwrap(), Some(renewal.member.clone()));

    let mut twice = invitation(&account, &person.email, InviteeUser::Existing(person.id.clone()), now);
    twice.supersedes = Some(old.invitation.id.clone());
    assert_eq!(conflict(store.create_invitation(&twice).await), Conflict::AlreadyMember);
}

async fn of_sixteen_concurrent_acceptances_exactly_one_wins(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (person, new) = invite_new(store.as_ref(), &account, "racer", now).await;

    let attempts = (0..16).map(|_| {
        let store = store.clone();
        let acceptance = acceptance(&new, &person, now);
        tokio::spawn(async move { store.accept_invitation(&acceptance).await })
    });
    let outcomes: Vec<_> = join_all(attempts).await.into_iter().map(|r| r.expect("no panic")).collect();
    let wins = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(wins, 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|o| matches!(o, Ok(()) | Err(StoreError::Conflict(_)))), "{outcomes:?}");
    let stored = store.invitation(&account.id, &new.invitation.id).await.unwrap().expect("kept");
    assert_eq!(stored.status, InvitationStatus::Accepted);
}

async fn an_accepted_token_is_spent(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, owner, activation } = found_account(store.as_ref(), now).await;
    let accepted = acceptance(&activation, &owner, now);
    store.accept_invitation(&accepted).await.expect("the first acceptance");

    assert_eq!(
        conflict(store.accept_invitation(&acceptance(&activation, &owner, now)).await),
        Conflict::TokenSpent
    );
    let redemption =
        store.redemption(&activation.token.hash).await.unwrap().expect("the link still leads there");
    assert_eq!(redemption.invitation.status, InvitationStatus::Accepted);
    assert_eq!(redemption.login.user, accepted.user);
    let member = store.member(&account.id, &owner.id).await.unwrap().expect("the owner");
    assert_eq!(member, accepted.member);
    assert_eq!(store.refresh_session(&accepted.session.family_id).await.unwrap(), Some(accepted.session));
}

async fn accepting_claims_a_phone_unless_someone_else_holds_it(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let number = phone(&format!("+48600{:07}", rand_digits()));
    let (holder, held) = invite_new(store.as_ref(), &account, "holder", now).await;
    let mut first = acceptance(&held, &holder, now);
    first.claim_phone = Some(number.clone());
    first.user.phone = Some(number.clone());
    store.accept_invitation(&first).await.expect("the holder claims the number");

    let (other, pending) = invite_new(store.as_ref(), &account, "other", now).await;
    let mut taken = acceptance(&pending, &other, now);
    taken.claim_phone = Some(number.clone());
    assert_eq!(conflict(store.accept_invitation(&taken).await), Conflict::PhoneTaken);
    let still = store.invitation(&account.id, &pending.invitation.id).await.unwrap().expect("kept");
    assert_eq!(still.status, InvitationStatus::Sent, "nothing of the refused acceptance was written");

    let second = found_account(store.as_ref(), now).await;
    let rejoin = invitation(&second.account, &holder.email, InviteeUser::Existing(holder.id.clone()), now);
    store.create_invitation(&rejoin).await.expect("the holder is invited elsewhere");
    let mut again = acceptance(&rejoin, &first.user, now);
    again.claim_phone = Some(number);
    store.accept_invitation(&again).await.expect("their own number is theirs to claim again");
}

async fn an_unknown_token_redeems_to_nothing(store: Arc<dyn Store>) {
    assert!(store.redemption(&token_hash()).await.unwrap().is_none());
    let now = now();
    let Founded { activation, owner, .. } = found_account(store.as_ref(), now).await;
    let mut forged = acceptance(&activation, &owner, now);
    forged.token_hash = token_hash();
    assert_eq!(conflict(store.accept_invitation(&forged).await), Conflict::TokenSpent);
}

async fn invitations_list_newest_first_across_pages_and_filters(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, activation, .. } = found_account(store.as_ref(), now).await;
    let mut written = vec![activation.invitation.clone()];
    for n in 0..6 {
        let address = unique_email(if n % 2 == 0 { "even" } else { "odd" });
        let mut new = invitation(&account, &address, InviteeUser::New(user(&address, now)), now);
        if n % 3 == 0 {
            new.invitation.roles = vec![RoleName::new("accountant")];
        }
        store.create_invitation(&new).await.expect("written");
        written.push(new.invitation);
    }
    let revoked = written[2].clone();
    let mut ended = revoked.clone();
    ended.status = InvitationStatus::Revoked;
    let withdrawal = Withdrawal {
        invitation: ended.clone(),
        drop_member: true,
        event: event(&account.id, AuditAction::InvitationRevoked, ended.id.as_str(), now),
    };
    store.withdraw_invitation(&withdrawal).await.expect("revoked");
    written[2] = ended;
    written.sort_by(|a, b| b.id.cmp(&a.id));

    let everything = InvitationQuery { status: None, role: None, email: None, now };
    for limit in [1, 2, 3, 7, 50] {
        let pages = all_pages(limit, |page| {
            let (store, account, query) = (store.clone(), account.id.clone(), everything.clone());
            async move { store.invitations(&account, &query, &page).await }
        })
        .await;
        assert!(pages.iter().rev().skip(1).all(|p| p.len() == limit), "only the last page is short");
        assert_eq!(pages.concat(), written, "newest first with limit {limit}");
    }

    let queries = [
        InvitationQuery { status: Some(InvitationStatus::Sent), ..everything.clone() },
        InvitationQuery { status: Some(InvitationStatus::Revoked), ..everything.clone() },
        InvitationQuery { role: Some(RoleName::new("accountant")), ..everything.clone() },
        InvitationQuery { email: Some("odd.".into()), ..everything.clone() },
        InvitationQuery {
            status: Some(InvitationStatus::Expired),
            now: now + Duration::days(4),
            ..everything.clone()
        },
    ];
    for query in queries {
        let expected: Vec<_> = written.iter().filter(|i| matches(i, &query)).cloned().collect();
        assert!(!expected.is_empty(), "{query:?} selects something");
        let pages = all_pages(2, |page| {
            let (store, account, query) = (store.clone(), account.id.clone(), query.clone());
            async move { store.invitations(&account, &query, &page).await }
        })
        .await;
        assert_eq!(pages.concat(), expected, "{query:?}");
    }
}

/// The contract's reading of an invitation query, written out independently of both stores.
fn matches(invitation: &Invitation, query: &InvitationQuery) -> bool {
    query.status.is_none_or(|s| invitation.status_at(query.now) == s)
        && query.role.as_ref().is_none_or(|r| invitation.roles.contains(r))
        && query.email.as_deref().is_none_or(|t| invitation.email.as_str().contains(t))
}

async fn members_list_in_user_order_across_pages_and_filters(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, activation, .. } = found_account(store.as_ref(), now).await;
    let mut members = vec![activation.member.clone()];
    for n in 0..5 {
        let address = unique_email("staff");
        let mut person = user(&address, now);
        person.last_name = Some(if n % 2 == 0 { "Shevchenko".into() } else { "Nowak".into() });
        let mut new = invitation(&account, &address, InviteeUser::New(person.clone()), now);
        new.member = new.member.with_profile(&person);
        if n == 4 {
            new.member.status = MemberStatus::Active;
        }
        store.create_invitation(&new).await.expect("written");
        members.push(new.member);
    }
    members.sort_by(|a, b| a.user_id.cmp(&b.user_id));

    let everyone = MemberQuery::default();
    for limit in [1, 2, 6, 10] {
        let pages = all_pages(limit, |page| {
            let (store, account, query) = (store.clone(), account.id.clone(), everyone.clone());
            async move { store.members(&account, &query, &page).await }
        })
        .await;
        assert!(pages.iter().rev().skip(1).all(|p| p.len() == limit), "only the last page is short");
        assert_eq!(pages.concat(), members, "user order with limit {limit}");
    }

    let queries = [
        (MemberQuery { text: Some("shevch".into()), ..everyone.clone() }, 3),
        (MemberQuery { status: Some(MemberStatus::Active), ..everyone.clone() }, 1),
        (
            MemberQuery {
                role: Some(RoleName::new("support")),
                text: Some("nowak".into()),
                ..everyone.clone()
            },
            2,
        ),
    ];
    for (query, count) in queries {
        let pages = all_pages(1, |page| {
            let (store, account, query) = (store.clone(), account.id.clone(), query.clone());
            async move { store.members(&account, &query, &page).await }
        })
        .await;
        let found = pages.concat();
        assert_eq!(found.len(), count, "{query:?}");
        assert!(found.windows(2).all(|w| w[0].user_id < w[1].user_id));
    }
}

async fn a_refresh_session_rotates_once_per_secret(store: Arc<dyn Store>) {
    let now = now();
    let Founded { owner, .. } = found_account(store.as_ref(), now).await;
    let first = session(&owner, now);
    store.record_sign_in(&first, &[], now).await.expect("a chain starts");
    assert_eq!(store.refresh_session(&first.family_id).await.unwrap(), Some(first.clone()));

    let second = RefreshSession { secret_hash: token_hash(), ..first.clone() };
    store.rotate_session(&first.secret_hash, &second).await.expect("the current secret rotates");
    let replayed = RefreshSession { secret_hash: token_hash(), ..first.clone() };
    assert_eq!(conflict(store.rotate_session(&first.secret_hash, &replayed).await), Conflict::Stale);
    assert_eq!(store.refresh_session(&first.family_id).await.unwrap(), Some(second.clone()));

    store.end_session(&first.family_id).await.expect("the chain ends");
    assert!(store.refresh_session(&first.family_id).await.unwrap().is_none());
    assert_eq!(conflict(store.rotate_session(&second.secret_hash, &replayed).await), Conflict::Stale);
    store.end_session(&first.family_id).await.expect("ending twice is harmless");
}

async fn signing_in_stamps_the_given_memberships(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, owner, activation } = found_account(store.as_ref(), now).await;
    let accepted = acceptance(&activation, &owner, now);
    store.accept_invitation(&accepted).await.expect("activated");
    let later = now + Duration::minutes(5);
    let chain = session(&accepted.user, later);
    store.record_sign_in(&chain, std::slice::from_ref(&account.id), later).await.expect("signed in");

    let member = store.member(&account.id, &owner.id).await.unwrap().expect("the owner");
    assert_eq!(member.last_login_at, Some(later));
    assert_eq!(store.refresh_session(&chain.family_id).await.unwrap(), Some(chain));
    let login = store.login_by_id(&owner.id).await.unwrap().expect("the owner");
    assert_eq!(login.memberships[0].member.last_login_at, Some(later));
}

async fn withdrawing_ends_the_invitation_and_its_waiting_membership(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (person, new) = invite_new(store.as_ref(), &account, "leaver", now).await;
    let mut revoked = new.invitation.clone();
    revoked.status = InvitationStatus::Revoked;
    revoked.revoked_at = Some(now);
    let withdrawal = Withdrawal {
        invitation: revoked.clone(),
        drop_member: true,
        event: event(&account.id, AuditAction::InvitationRevoked, revoked.id.as_str(), now),
    };
    store.withdraw_invitation(&withdrawal).await.expect("revoked");
    assert_eq!(store.invitation(&account.id, &revoked.id).await.unwrap(), Some(revoked.clone()));
    assert!(store.member(&account.id, &person.id).await.unwrap().is_none());
    let redemption = store.redemption(&new.token.hash).await.unwrap().expect("the dead link still says why");
    assert_eq!(redemption.invitation.status, InvitationStatus::Revoked);

    let twice = Withdrawal {
        event: event(&account.id, AuditAction::InvitationRevoked, revoked.id.as_str(), now),
        ..withdrawal
    };
    assert_eq!(conflict(store.withdraw_invitation(&twice).await), Conflict::TokenSpent);
    assert_eq!(
        conflict(store.accept_invitation(&acceptance(&new, &person, now)).await),
        Conflict::TokenSpent
    );
}

async fn resending_replaces_the_link(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (person, new) = invite_new(store.as_ref(), &account, "resent", now).await;
    let later = now + Duration::hours(1);
    let token =
        OneTimeToken { hash: token_hash(), expires_at: later + Duration::hours(72), ..new.token.clone() };
    let mut renewed = new.invitation.clone();
    renewed.token_hash = token.hash.clone();
    renewed.expires_at = token.expires_at;
    renewed.send_count = 2;
    renewed.last_sent_at = later;
    let mut member = new.member.clone();
    member.pending_until = Some(token.expires_at);
    let resend = Resend {
        invitation: renewed.clone(),
        previous_token_hash: new.token.hash.clone(),
        token: token.clone(),
        member: Some(member.clone()),
        event: Some(event(&account.id, AuditAction::InvitationResent, renewed.id.as_str(), later)),
    };
    store.resend_invitation(&resend).await.expect("resent");

    assert!(store.redemption(&new.token.hash).await.unwrap().is_none(), "the old link leads nowhere");
    let redemption = store.redemption(&token.hash).await.unwrap().expect("the new link works");
    assert_eq!(redemption.invitation, renewed);
    assert_eq!(store.member(&account.id, &person.id).await.unwrap(), Some(member));
    let again = Resend {
        event: Some(event(&account.id, AuditAction::InvitationResent, renewed.id.as_str(), later)),
        ..resend
    };
    assert_eq!(conflict(store.resend_invitation(&again).await), Conflict::TokenSpent);

    let mut accepted = acceptance(&new, &person, later);
    assert_eq!(conflict(store.accept_invitation(&accepted).await), Conflict::TokenSpent);
    accepted.token_hash = token.hash.clone();
    accepted.invitation.token_hash = token.hash;
    store.accept_invitation(&accepted).await.expect("the new link is accepted");
}

async fn a_discarded_invitation_leaves_nothing_behind(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let address = unique_email("unmailable");
    let mut new = invitation(&account, &address, InviteeUser::New(user(&address, now)), now);
    new.claim_phone = Some(phone(&format!("+38050{:07}", rand_digits())));
    let events_before =
        store.audit_events(&account.id, &PageRequest { limit: 100, after: None }).await.unwrap().items;
    store.create_invitation(&new).await.expect("written");
    store.discard_invitation(&new).await.expect("taken back");

    assert!(store.invitation(&account.id, &new.invitation.id).await.unwrap().is_none());
    assert!(store.member(&account.id, &new.member.user_id).await.unwrap().is_none());
    assert!(store.redemption(&new.token.hash).await.unwrap().is_none());
    assert!(store.login_by_email(&address).await.unwrap().is_none());
    let events_after =
        store.audit_events(&account.id, &PageRequest { limit: 100, after: None }).await.unwrap().items;
    assert_eq!(events_after, events_before);
    store.create_invitation(&new).await.expect("the email and phone are free again");
}

async fn lapsed_invitations_come_oldest_expiry_first_across_pages(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let mut lapsed = Vec::new();
    for hours_ago in [80, 200, 75, 300] {
        let (_, new) =
            invite_new(store.as_ref(), &account, "lapsing", now - Duration::hours(hours_ago)).await;
        lapsed.push(new.invitation);
    }
    invite_new(store.as_ref(), &account, "current", now).await;
    let (_, revoked) = invite_new(store.as_ref(), &account, "revoked", now - Duration::hours(90)).await;
    let mut ended = revoked.invitation.clone();
    ended.status = InvitationStatus::Revoked;
    let withdrawal = Withdrawal {
        invitation: ended,
        drop_member: false,
        event: event(&account.id, AuditAction::InvitationRevoked, revoked.invitation.id.as_str(), now),
    };
    store.withdraw_invitation(&withdrawal).await.expect("revoked");
    lapsed.sort_by_key(|i| i.expires_at);

    for limit in [1, 3, 100] {
        let pages = all_pages(limit, |page| {
            let store = store.clone();
            async move { store.lapsed_invitations(now, &page).await }
        })
        .await;
        assert_eq!(pages.concat(), lapsed, "oldest expiry first with limit {limit}");
    }
}

async fn audit_events_list_newest_first_across_pages(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    for name in ["a", "b", "c"] {
        invite_new(store.as_ref(), &account, name, now).await;
    }
    let pages = all_pages(2, |page| {
        let (store, account) = (store.clone(), account.id.clone());
        async move { store.audit_events(&account, &page).await }
    })
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2, 1]);
    let events = pages.concat();
    assert!(events.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    assert_eq!(events.last().map(|e| e.action), Some(AuditAction::AccountCreated));
}

/// An accepted, active member of a new account, with their acceptance written.
async fn active_member(store: &dyn Store, account: &Account, name: &str, now: DateTime<Utc>) -> Acceptance {
    let (person, new) = invite_new(store, account, name, now).await;
    let accepted = acceptance(&new, &person, now);
    store.accept_invitation(&accepted).await.expect("accepted");
    accepted
}

async fn a_member_update_needs_the_version_it_read(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let accepted = active_member(store.as_ref(), &account, "promoted", now).await;
    let mut promoted = accepted.member.clone();
    promoted.roles = vec![RoleName::new("accountant")];
    promoted.version += 1;
    let update = MemberUpdate {
        member: promoted.clone(),
        event: event(&account.id, AuditAction::MemberRolesChanged, promoted.user_id.as_str(), now),
    };
    store.update_member(&update).await.expect("the version read is current");
    assert_eq!(store.member(&account.id, &promoted.user_id).await.unwrap(), Some(promoted.clone()));
    let login = store.login_by_id(&promoted.user_id).await.unwrap().expect("the member");
    assert_eq!(login.memberships[0].member, promoted);

    let again = MemberUpdate { event: event(&account.id, AuditAction::MemberBlocked, "x", now), ..update };
    assert_eq!(conflict(store.update_member(&again).await), Conflict::Stale);
    let mut stranger = promoted.clone();
    stranger.user_id = UserId::generate();
    let ghost =
        MemberUpdate { member: stranger, event: event(&account.id, AuditAction::MemberBlocked, "x", now) };
    assert_eq!(conflict(store.update_member(&ghost).await), Conflict::Stale);
}

async fn removing_a_member_frees_their_login_when_it_was_their_last(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let number = phone(&format!("+38093{:07}", rand_digits()));
    let (person, held) = invite_new(store.as_ref(), &account, "leaving", now).await;
    let mut accepted = acceptance(&held, &person, now);
    accepted.claim_phone = Some(number.clone());
    accepted.user.phone = Some(number.clone());
    store.accept_invitation(&accepted).await.expect("accepted with a phone");

    let stale = MemberRemoval {
        member: Member { version: accepted.member.version + 1, ..accepted.member.clone() },
        release_user: Some(accepted.user.clone()),
        revoke_invitation: None,
        event: event(&account.id, AuditAction::MemberDeleted, person.id.as_str(), now),
    };
    assert_eq!(conflict(store.remove_member(&stale).await), Conflict::Stale);
    assert!(store.login_by_id(&person.id).await.unwrap().is_some(), "nothing of a refused removal happened");

    let removal = MemberRemoval { member: accepted.member.clone(), ..stale };
    store.remove_member(&removal).await.expect("removed");
    assert!(store.member(&account.id, &person.id).await.unwrap().is_none());
    assert!(store.login_by_email(&person.email).await.unwrap().is_none());
    assert!(store.login_by_id(&person.id).await.unwrap().is_none());

    let address = person.email.clone();
    let mut again = invitation(&account, &address, InviteeUser::New(user(&address, now)), now);
    again.claim_phone = Some(number);
    store.create_invitation(&again).await.expect("the email and the phone are free again");
}

async fn removing_a_waiting_member_revokes_their_invitation(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (person, new) = invite_new(store.as_ref(), &account, "waiting", now).await;
    let mut revoked = new.invitation.clone();
    revoked.status = InvitationStatus::Revoked;
    revoked.revoked_at = Some(now);
    let removal = MemberRemoval {
        member: new.member.clone(),
        release_user: None,
        revoke_invitation: Some(revoked.clone()),
        event: event(&account.id, AuditAction::MemberDeleted, person.id.as_str(), now),
    };
    store.remove_member(&removal).await.expect("removed");
    assert_eq!(store.invitation(&account.id, &revoked.id).await.unwrap(), Some(revoked));
    assert!(store.login_by_id(&person.id).await.unwrap().is_some_and(|l| l.memberships.is_empty()));
    let lapsed = store.lapsed_invitations(now + Duration::days(30), &PageRequest { limit: 10, after: None });
    let lapsed = lapsed.await.unwrap().items;
    assert!(lapsed.iter().all(|i| i.id != new.invitation.id), "a revoked invitation is not pending");
}

/// The transfer of `account` from its owner `former` (an accepted member) to `successor`.
fn transfer(account: &Account, former: &Member, successor: &Member, now: DateTime<Utc>) -> OwnershipTransfer {
    let mut account = account.clone();
    account.owner_id = successor.user_id.clone();
    let mut former = former.clone();
    former.is_owner = false;
    former.version += 1;
    let mut successor = successor.clone();
    successor.is_owner = true;
    successor.version += 1;
    OwnershipTransfer {
        event: event(&account.id, AuditAction::OwnershipTransferred, successor.user_id.as_str(), now),
        account,
        former,
        successor,
    }
}

async fn ownership_passes_once(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, owner, activation } = found_account(store.as_ref(), now).await;
    let owner_accepted = acceptance(&activation, &owner, now);
    store.accept_invitation(&owner_accepted).await.expect("the owner is active");
    let heir = active_member(store.as_ref(), &account, "heir", now).await;

    let handover = transfer(&account, &owner_accepted.member, &heir.member, now);
    store.transfer_ownership(&handover).await.expect("handed over");
    assert_eq!(store.account(&account.id).await.unwrap(), Some(handover.account.clone()));
    assert_eq!(store.member(&account.id, &owner.id).await.unwrap(), Some(handover.former.clone()));
    assert_eq!(store.member(&account.id, &heir.user.id).await.unwrap(), Some(handover.successor.clone()));
    let login = store.login_by_id(&heir.user.id).await.unwrap().expect("the heir");
    assert_eq!(login.memberships[0].account, AccountSummary::from(&account));

    assert_eq!(conflict(store.transfer_ownership(&handover).await), Conflict::Stale);
}

async fn an_owner_recovery_acceptance_passes_the_account(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, owner, activation } = found_account(store.as_ref(), now).await;
    let owner_accepted = acceptance(&activation, &owner, now);
    store.accept_invitation(&owner_accepted).await.expect("the owner is active");
    let (rescuer, recovery) = invite_new(store.as_ref(), &account, "rescuer", now).await;

    let mut accepted = acceptance(&recovery, &rescuer, now);
    let handover = transfer(&account, &owner_accepted.member, &accepted.member, now);
    accepted.member = handover.successor.clone();
    accepted.ownership = Some(handover.clone());
    store.accept_invitation(&accepted).await.expect("the rescuer owns the account");
    assert_eq!(store.account(&account.id).await.unwrap(), Some(handover.account.clone()));
    assert_eq!(store.member(&account.id, &owner.id).await.unwrap(), Some(handover.former.clone()));

    let (late, pending) = invite_new(store.as_ref(), &account, "late", now).await;
    let mut stale = acceptance(&pending, &late, now);
    stale.ownership = Some(transfer(&account, &owner_accepted.member, &stale.member, now));
    assert_eq!(conflict(store.accept_invitation(&stale).await), Conflict::Stale);
    let still = store.invitation(&account.id, &pending.invitation.id).await.unwrap().expect("kept");
    assert_eq!(still.status, InvitationStatus::Sent);
}

async fn a_settings_change_touches_only_settings_and_locale(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let mut changed = account.clone();
    changed.settings.invitation_ttl_hours = Some(24);
    changed.settings.blocked_email_domains = vec!["mailinator.com".into()];
    changed.locale = Locale::Pl;
    changed.name = "Not this".into();
    changed.owner_id = UserId::generate();
    let settings_changed = event(&account.id, AuditAction::SettingsChanged, account.id.as_str(), now);
    store.update_account_settings(&changed, &settings_changed).await.expect("saved");
    let stored = store.account(&account.id).await.unwrap().expect("the account");
    assert_eq!(stored, Account { settings: changed.settings, locale: Locale::Pl, ..account });

    let nowhere = Account { id: AccountId::generate(), ..stored };
    assert_eq!(conflict(store.update_account_settings(&nowhere, &settings_changed).await), Conflict::Stale);
}

async fn a_password_change_needs_the_version_and_the_live_reset_link(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let accepted = active_member(store.as_ref(), &account, "forgetful", now).await;
    let user = accepted.user.clone();
    let reset = |hash: String| OneTimeToken {
        hash,
        user_id: user.id.clone(),
        purpose: TokenPurpose::PasswordReset,
        expires_at: now + Duration::hours(1),
    };
    let (older, newer) = (reset(token_hash()), reset(token_hash()));
    store.issue_password_reset(&older).await.expect("issued");
    store.issue_password_reset(&newer).await.expect("issued again");
    let (token, login) = store.password_reset(&newer.hash).await.unwrap().expect("the live link");
    assert_eq!(token, newer);
    assert_eq!(login.user.reset_token_hash.as_deref(), Some(newer.hash.as_str()));
    assert!(
        store.password_reset(&accepted.token_hash).await.unwrap().is_none(),
        "an invitation link is no reset"
    );
    assert!(store.password_reset(&token_hash()).await.unwrap().is_none());
    let nobody = OneTimeToken { user_id: UserId::generate(), ..reset(token_hash()) };
    assert_eq!(conflict(store.issue_password_reset(&nobody).await), Conflict::Stale);

    let mut changed = login.user.clone();
    changed.password_hash = Some("$argon2id$new".into());
    changed.token_version += 1;
    changed.reset_token_hash = None;
    let with_older = PasswordChange { user: changed.clone(), reset_token_hash: Some(older.hash.clone()) };
    assert_eq!(conflict(store.change_password(&with_older).await), Conflict::TokenSpent);
    let with_newer = PasswordChange { user: changed.clone(), reset_token_hash: Some(newer.hash.clone()) };
    store.change_password(&with_newer).await.expect("the live link sets the password");
    assert!(store.password_reset(&newer.hash).await.unwrap().is_none(), "the link is spent");
    assert_eq!(store.login_by_id(&user.id).await.unwrap().map(|l| l.user), Some(changed.clone()));

    assert_eq!(conflict(store.change_password(&with_newer).await), Conflict::Stale);
    let replayed = PasswordChange { user: changed.clone(), reset_token_hash: None };
    assert_eq!(conflict(store.change_password(&replayed).await), Conflict::Stale);
    let next = PasswordChange {
        user: User { token_version: changed.token_version + 1, ..changed },
        reset_token_hash: None,
    };
    store.change_password(&next).await.expect("a signed-in change needs only the version");
}

async fn a_profile_update_reaches_every_membership_and_moves_the_phone_claim(store: Arc<dyn Store>) {
    let now = now();
    let first = found_account(store.as_ref(), now).await;
    let second = found_account(store.as_ref(), now).await;
    let old_number = phone(&format!("+38095{:07}", rand_digits()));
    let (person, new) = invite_new(store.as_ref(), &first.account, "renamed", now).await;
    let mut accepted = acceptance(&new, &person, now);
    accepted.claim_phone = Some(old_number.clone());
    accepted.user.phone = Some(old_number.clone());
    store.accept_invitation(&accepted).await.expect("accepted");
    let elsewhere = invitation(&second.account, &person.email, InviteeUser::Existing(person.id.clone()), now);
    store.create_invitation(&elsewhere).await.expect("a second membership");

    let new_number = phone(&format!("+38096{:07}", rand_digits()));
    let mut renamed = accepted.user.clone();
    renamed.first_name = Some("Olha".into());
    renamed.phone = Some(new_number.clone());
    let update = ProfileUpdate {
        user: renamed.clone(),
        accounts: vec![first.account.id.clone(), second.account.id.clone()],
        claim_phone: Some(new_number.clone()),
        release_phone: Some(old_number.clone()),
    };
    store.update_profile(&update).await.expect("updated");
    let login = store.login_by_email(&person.email).await.unwrap().expect("the person");
    assert_eq!(login.user, renamed);
    assert_eq!(login.memberships.len(), 2);
    for membership in &login.memberships {
        let expected = membership.member.clone().with_profile(&renamed);
        assert_eq!(membership.member, expected);
        assert_eq!(membership.member.first_name.as_deref(), Some("Olha"));
    }

    let (other, pending) = invite_new(store.as_ref(), &first.account, "other", now).await;
    let mut taken = acceptance(&pending, &other, now);
    taken.claim_phone = Some(new_number);
    assert_eq!(conflict(store.accept_invitation(&taken).await), Conflict::PhoneTaken);
    let mut freed = acceptance(&pending, &other, now);
    freed.claim_phone = Some(old_number);
    store.accept_invitation(&freed).await.expect("the released number is free");
    let grab = ProfileUpdate {
        user: freed.user.clone(),
        accounts: vec![],
        claim_phone: update.claim_phone,
        release_phone: None,
    };
    assert_eq!(conflict(store.update_profile(&grab).await), Conflict::PhoneTaken);
}

async fn rate_limits_count_per_key_and_window(store: Arc<dyn Store>) {
    let start = DateTime::from_timestamp(1_800_000_000, 0).expect("a valid instant");
    let key = format!("sign-in:{}", uuid::Uuid::new_v4());
    let hit = |at: DateTime<Utc>, key: String| {
        let store = store.clone();
        async move { store.hit_rate_limit(&key, 2, 60, at).await.expect("counted") }
    };
    assert_eq!(hit(start, key.clone()).await, RateDecision::Allowed);
    assert_eq!(hit(start + Duration::seconds(10), key.clone()).await, RateDecision::Allowed);
    let limited = hit(start + Duration::seconds(15), key.clone()).await;
    assert_eq!(limited, RateDecision::Limited { retry_after_seconds: 45 });
    assert_eq!(hit(start + Duration::seconds(15), format!("{key}-other")).await, RateDecision::Allowed);
    assert_eq!(hit(start + Duration::seconds(60), key).await, RateDecision::Allowed, "a new window");
}

// ---------------------------------------------------------------------------------------------
// DynamoDB only.

/// Every item with every attribute, as a set.
async fn snapshot(store: &shared::adapters::dynamodb::DynamoStore) -> BTreeSet<String> {
    scan_table(store).await.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn dynamodb_failed_writes_leave_no_orphan_items() {
    let store = dynamo_store().await;
    let now = now();
    let Founded { account, owner, activation } = found_account(&store, now).await;
    let number = phone(&format!("+38063{:07}", rand_digits()));
    let address = unique_email("holder");
    let mut holder = invitation(&account, &address, InviteeUser::New(user(&address, now)), now);
    holder.claim_phone = Some(number.clone());
    store.create_invitation(&holder).await.expect("written");
    let before = snapshot(&store).await;

    let other = found_account(&store, now).await;
    let before_other = snapshot(&store).await;
    assert!(before.is_subset(&before_other));

    let mut duplicate_email =
        invitation(&other.account, &address, InviteeUser::New(user(&address, now)), now);
    duplicate_email.claim_phone = Some(phone(&format!("+38066{:07}", rand_digits())));
    let address = unique_email("phone");
    let mut duplicate_phone =
        invitation(&other.account, &address, InviteeUser::New(user(&address, now)), now);
    duplicate_phone.claim_phone = Some(number);
    let duplicate_member = invitation(&account, &owner.email, InviteeUser::Existing(owner.id.clone()), now);
    let ghost_user =
        invitation(&other.account, &unique_email("ghost"), InviteeUser::Existing(UserId::generate()), now);
    for (new, expected) in [
        (duplicate_email, Conflict::EmailTaken),
        (duplicate_phone, Conflict::PhoneTaken),
        (duplicate_member, Conflict::AlreadyMember),
        (ghost_user, Conflict::Stale),
    ] {
        assert_eq!(conflict(store.create_invitation(&new).await), expected);
    }
    let mut forged = acceptance(&activation, &owner, now);
    forged.token_hash = token_hash();
    assert_eq!(conflict(store.accept_invitation(&forged).await), Conflict::TokenSpent);
    let stale = session(&owner, now);
    assert_eq!(conflict(store.rotate_session(&token_hash(), &stale).await), Conflict::Stale);

    assert_eq!(snapshot(&store).await, before_other, "a failed write left or changed an item");
}

/// Read and write operations as the budget counts them.
fn round_trips(operations: &[String]) -> (usize, usize) {
    let reads = ["GetItem", "BatchGetItem", "Query"];
    let writes = ["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"];
    for operation in operations {
        assert!(
            reads.contains(&operation.as_str()) || writes.contains(&operation.as_str()),
            "{operation} is not allowed"
        );
    }
    let count = |kinds: &[&str]| operations.iter().filter(|o| kinds.contains(&o.as_str())).count();
    (count(&reads), count(&writes))
}

#[tokio::test]
async fn dynamodb_every_store_method_costs_at_most_one_read_and_one_write() {
    let calls = DynamoCalls::default();
    let store = counted_dynamo_store(&calls).await;
    let now = now();
    calls.take();
    let mut costs: Vec<(&str, Vec<String>)> = Vec::new();
    let mut record = |name: &'static str, calls: &DynamoCalls| costs.push((name, calls.take()));

    let Founded { account, owner, activation } = found_account(&store, now).await;
    record("create_account", &calls);
    store.account(&account.id).await.unwrap();
    record("account", &calls);
    let address = unique_email("counted");
    let person = user(&address, now);
    let new = invitation(&account, &address, InviteeUser::New(person.clone()), now);
    store.create_invitation(&new).await.unwrap();
    record("create_invitation", &calls);
    store.redemption(&new.token.hash).await.unwrap();
    record("redemption", &calls);
    store.invitation(&account.id, &new.invitation.id).await.unwrap();
    record("invitation", &calls);
    let everything = InvitationQuery { status: None, role: None, email: None, now };
    store.invitations(&account.id, &everything, &PageRequest { limit: 1, after: None }).await.unwrap();
    record("invitations", &calls);
    let filtered = InvitationQuery { status: Some(InvitationStatus::Sent), ..everything };
    store.invitations(&account.id, &filtered, &PageRequest { limit: 1, after: None }).await.unwrap();
    record("invitations (filtered)", &calls);
    store
        .members(&account.id, &MemberQuery::default(), &PageRequest { limit: 1, after: None })
        .await
        .unwrap();
    record("members", &calls);
    store.audit_events(&account.id, &PageRequest { limit: 1, after: None }).await.unwrap();
    record("audit_events", &calls);
    store.lapsed_invitations(now, &PageRequest { limit: 10, after: None }).await.unwrap();
    record("lapsed_invitations", &calls);
    store.login_by_email(&address).await.unwrap();
    record("login_by_email", &calls);
    store.login_by_id(&person.id).await.unwrap();
    record("login_by_id", &calls);
    store.caller(&account.id, &owner.id).await.unwrap();
    record("caller", &calls);
    store.member(&account.id, &owner.id).await.unwrap();
    record("member", &calls);

    let token = OneTimeToken { hash: token_hash(), ..new.token.clone() };
    let mut renewed = new.invitation.clone();
    renewed.token_hash = token.hash.clone();
    let resend = Resend {
        invitation: renewed.clone(),
        previous_token_hash: new.token.hash.clone(),
        token: token.clone(),
        member: Some(new.member.clone()),
        event: Some(event(&account.id, AuditAction::InvitationResent, renewed.id.as_str(), now)),
    };
    store.resend_invitation(&resend).await.unwrap();
    record("resend_invitation", &calls);
    let mut revoked = renewed.clone();
    revoked.status = InvitationStatus::Revoked;
    let withdrawal = Withdrawal {
        invitation: revoked,
        drop_member: true,
        event: event(&account.id, AuditAction::InvitationRevoked, renewed.id.as_str(), now),
    };
    store.withdraw_invitation(&withdrawal).await.unwrap();
    record("withdraw_invitation", &calls);
    let address = unique_email("gone");
    let discarded = invitation(&account, &address, InviteeUser::New(user(&address, now)), now);
    store.create_invitation(&discarded).await.unwrap();
    calls.take();
    store.discard_invitation(&discarded).await.unwrap();
    record("discard_invitation", &calls);

    let accepted = acceptance(&activation, &owner, now);
    store.accept_invitation(&accepted).await.unwrap();
    record("accept_invitation", &calls);
    let chain = session(&accepted.user, now);
    store.record_sign_in(&chain, std::slice::from_ref(&account.id), now).await.unwrap();
    record("record_sign_in", &calls);
    store.refresh_session(&chain.family_id).await.unwrap();
    record("refresh_session", &calls);
    let next = RefreshSession { secret_hash: token_hash(), ..chain.clone() };
    store.rotate_session(&chain.secret_hash, &next).await.unwrap();
    record("rotate_session", &calls);
    store.end_session(&chain.family_id).await.unwrap();
    record("end_session", &calls);

    let heir = active_member(&store, &account, "heir", now).await;
    calls.take();
    let promoted = Member { version: heir.member.version + 1, ..heir.member.clone() };
    let promotion = event(&account.id, AuditAction::MemberRolesChanged, promoted.user_id.as_str(), now);
    store.update_member(&MemberUpdate { member: promoted.clone(), event: promotion }).await.unwrap();
    record("update_member", &calls);
    let handover = transfer(&account, &accepted.member, &promoted, now);
    store.transfer_ownership(&handover).await.unwrap();
    record("transfer_ownership", &calls);
    let settings = event(&account.id, AuditAction::SettingsChanged, account.id.as_str(), now);
    store.update_account_settings(&handover.account, &settings).await.unwrap();
    record("update_account_settings", &calls);
    let reset = OneTimeToken {
        hash: token_hash(),
        user_id: accepted.user.id.clone(),
        purpose: TokenPurpose::PasswordReset,
        expires_at: now + Duration::hours(1),
    };
    store.issue_password_reset(&reset).await.unwrap();
    record("issue_password_reset", &calls);
    store.password_reset(&reset.hash).await.unwrap();
    record("password_reset", &calls);
    let changed = User { token_version: accepted.user.token_version + 1, ..accepted.user.clone() };
    store
        .change_password(&PasswordChange { user: changed.clone(), reset_token_hash: Some(reset.hash) })
        .await
        .unwrap();
    record("change_password", &calls);
    let profile = ProfileUpdate {
        user: User { first_name: Some("Oksana".into()), ..changed },
        accounts: vec![account.id.clone()],
        claim_phone: None,
        release_phone: None,
    };
    store.update_profile(&profile).await.unwrap();
    record("update_profile", &calls);
    store.hit_rate_limit("sign-in:counted", 5, 60, now).await.unwrap();
    record("hit_rate_limit", &calls);
    let leaving = User { phone: Some(phone(&format!("+38097{:07}", rand_digits()))), ..heir.user.clone() };
    let removal = MemberRemoval {
        member: handover.successor.clone(),
        release_user: Some(leaving),
        revoke_invitation: None,
        event: event(&account.id, AuditAction::MemberDeleted, heir.user.id.as_str(), now),
    };
    store.remove_member(&removal).await.unwrap();
    record("remove_member", &calls);

    let mut over_budget = Vec::new();
    for (method, operations) in &costs {
        let (reads, writes) = round_trips(operations);
        // A link is known only by its hash: the token names the user and account the rest is
        // read from, in a second round trip (for an invitation: its account and invitation in
        // one `BatchGetItem` alongside the login's `Query`).
        let allowed_reads = match *method {
            "redemption" => 3,
            "password_reset" => 2,
            _ => 1,
        };
        if reads > allowed_reads || writes > 1 {
            over_budget.push(format!("{method}: {operations:?}"));
        }
        println!("{method:<24} reads {reads}  writes {writes}  {operations:?}");
    }
    assert!(over_budget.is_empty(), "over budget:\n{}", over_budget.join("\n"));
    let methods: BTreeSet<_> = costs.iter().map(|(m, _)| m.split(' ').next().unwrap_or(m)).collect();
    assert_eq!(methods.len(), 30, "every Store method is measured: {methods:?}");
}
