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
    Account, AccountId, AccountSettings, AuditAction, AuditEvent, AuditTarget, Email, EventId, Grant,
    Invitation, InvitationId, InvitationMode, InvitationStatus, LIVE_RESET_LINKS, Locale, Member,
    MemberStatus, OneTimeToken, PermissionSet, Phone, Profile, RefreshSession, ResetLink, RoleName,
    SessionFamilyId, TokenPurpose, User, UserId,
};
use shared::ports::{
    Acceptance, AccountSummary, Conflict, InvitationQuery, InviteeUser, MemberQuery, MemberRemoval,
    MemberUpdate, NewInvitation, OwnerLinkChange, OwnershipTransfer, Page, PageRequest, PasswordChange,
    ProfileUpdate, RateDecision, Resend, Store, StoreError, Withdrawal,
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
        owner_link: None,
        version: 0,
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
        reset_links: Vec::new(),
        created_at: now,
        version: 0,
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

/// An account with its owner's pending activation, written: its only live owner link.
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
    account.owner_link = Some(activation.invitation.id.clone());
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

/// What the service writes when `user` accepts `new` at `now`, both as `new` wrote them.
fn acceptance(new: &NewInvitation, user: &User, now: DateTime<Utc>) -> Acceptance {
    acceptance_of(&new.invitation, &new.member, user, now)
}

/// What the service writes when `user` accepts `invitation` at `now`, the membership and the
/// user as read: both one version past what was read.
fn acceptance_of(invitation: &Invitation, member: &Member, user: &User, now: DateTime<Utc>) -> Acceptance {
    let first_password =
        user.password_hash.is_none().then(|| "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned());
    let user = user.clone().accepting(Profile::default(), first_password);
    let member = member.clone().activated(now).expect("the member is not blocked").with_profile(&user);
    Acceptance {
        token_hash: invitation.token_hash.clone(),
        events: vec![event(
            &invitation.account_id,
            AuditAction::InvitationAccepted,
            invitation.id.as_str(),
            now,
        )],
        session: session(&user, now),
        invitation: invitation.clone().accepted(now),
        member,
        user,
        claim_phone: None,
        account: None,
        former_owner: None,
    }
}

/// The owner's acceptance of their activation link: the account's owner link is used up.
fn owner_acceptance(founded: &Founded, now: DateTime<Utc>) -> Acceptance {
    let accepted = acceptance(&founded.activation, &founded.owner, now);
    Acceptance { account: Some(founded.account.clone().owned_by(founded.owner.id.clone())), ..accepted }
}

/// A new owner link of `account` to a new person, as owner recovery drafts it.
fn owner_link(account: &Account, name: &str, now: DateTime<Utc>) -> NewInvitation {
    let address = unique_email(name);
    let mut new = invitation(account, &address, InviteeUser::New(user(&address, now)), now);
    new.invitation.for_owner = true;
    new.member.is_owner = true;
    new.event.action = AuditAction::OwnerRecoveryStarted;
    new
}

/// The change that makes `new` the only owner link of `account` (as read).
fn owner_link_change(account: &Account, new: NewInvitation) -> OwnerLinkChange {
    OwnerLinkChange {
        account: account.clone().with_owner_link(Some(new.invitation.id.clone())),
        cancelled: None,
        dropped_candidate: None,
        new_link: Some(new),
        events: Vec::new(),
    }
}

/// The change that cancels `live` (the account's owner link, as read) and its candidate's
/// membership (as read, with their user as read), leaving `next` as the only owner link: what
/// owner recovery (`next`) and the operator's cancellation (no `next`) write.
fn replacing_owner_link(
    account: &Account,
    live: &NewInvitation,
    candidate: Option<(&Member, &User)>,
    next: Option<NewInvitation>,
    now: DateTime<Utc>,
) -> OwnerLinkChange {
    let cancelled = live.invitation.clone().revoked(None, now);
    let revoked = event(&account.id, AuditAction::InvitationRevoked, cancelled.id.as_str(), now);
    let (dropped_candidate, events) = match candidate {
        Some((member, user)) => (
            Some(MemberRemoval {
                member: member.clone(),
                user: Some(user.clone()),
                release_user: true,
                end_invitation: None,
                event: revoked,
            }),
            Vec::new(),
        ),
        None => (None, vec![revoked]),
    };
    OwnerLinkChange {
        account: account.clone().with_owner_link(next.as_ref().map(|n| n.invitation.id.clone())),
        cancelled: Some(cancelled),
        dropped_candidate,
        new_link: next,
        events,
    }
}

/// What the contract lets one read of an account and of some users: equal before and after a
/// refused write when it wrote nothing.
#[derive(Debug, PartialEq)]
struct Seen {
    account: Option<Account>,
    members: Vec<Member>,
    invitations: Vec<Invitation>,
    events: Vec<AuditEvent>,
    users: Vec<Option<User>>,
}

async fn seen(store: &dyn Store, account: &AccountId, users: &[&UserId]) -> Seen {
    let everything = PageRequest { limit: 1000, after: None };
    let any = InvitationQuery { status: None, role: None, email: None, now: now() };
    let mut found = Vec::new();
    for user in users {
        found.push(store.user(user).await.expect("a user read"));
    }
    Seen {
        account: store.account(account).await.expect("an account read"),
        members: store.members(account, &MemberQuery::default(), &everything).await.expect("members").items,
        invitations: store.invitations(account, &any, &everything).await.expect("invitations").items,
        events: store.audit_events(account, &everything).await.expect("events").items,
        users: found,
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
    withdrawing_ends_the_invitation_and_leaves_the_membership,
    resending_replaces_the_link,
    a_discarded_invitation_leaves_nothing_behind,
    lapsed_invitations_come_oldest_expiry_first_across_pages,
    audit_events_list_newest_first_across_pages,
    a_member_update_needs_the_version_it_read,
    member_writes_based_on_a_stale_version_fail_and_write_nothing,
    an_acceptance_or_resend_based_on_a_stale_membership_fails_and_writes_nothing,
    an_acceptance_based_on_a_stale_user_fails_and_writes_nothing,
    removing_a_member_frees_their_login_when_it_was_their_last,
    removing_a_waiting_member_revokes_their_invitation,
    a_removal_based_on_a_stale_user_fails_and_writes_nothing,
    ownership_passes_once,
    an_owner_recovery_acceptance_passes_the_account,
    of_two_owner_link_changes_from_one_account_version_exactly_one_wins,
    an_owner_link_change_cancelling_a_link_used_meanwhile_writes_nothing,
    dropping_an_owner_link_candidate_frees_their_email,
    a_settings_change_needs_the_account_version_it_read,
    a_password_change_needs_the_version_and_ends_every_live_reset_link,
    a_profile_update_reaches_every_membership_and_moves_the_phone_claim,
    a_profile_update_raises_every_membership_version,
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
    assert_eq!(redemption.user, Some(owner.clone()));
    assert_eq!(redemption.member, Some(activation.member.clone()));
    let memberships: Vec<_> = redemption.memberships.iter().map(|m| (&m.member, &m.account)).collect();
    assert_eq!(memberships, vec![(&activation.member, &AccountSummary::from(&account))]);
    assert_eq!(store.user(&owner.id).await.unwrap(), Some(owner.clone()));
    assert!(store.user(&UserId::generate()).await.unwrap().is_none());
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
    let founded = found_account(store.as_ref(), now).await;
    let Founded { account, owner, activation } = &founded;
    let accepted = owner_acceptance(&founded, now);
    store.accept_invitation(&accepted).await.expect("the first acceptance");

    assert_eq!(
        conflict(store.accept_invitation(&owner_acceptance(&founded, now)).await),
        Conflict::TokenSpent
    );
    let redemption =
        store.redemption(&activation.token.hash).await.unwrap().expect("the link still leads there");
    assert_eq!(redemption.invitation.status, InvitationStatus::Accepted);
    assert_eq!(redemption.user.as_ref(), Some(&accepted.user));
    assert_eq!(redemption.member.as_ref(), Some(&accepted.member));
    assert_eq!(Some(&redemption.account), accepted.account.as_ref(), "the owner link is used up");
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
    let founded = found_account(store.as_ref(), now).await;
    let Founded { account, owner, .. } = &founded;
    let accepted = owner_acceptance(&founded, now);
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

/// A withdrawal ends an invitation no membership waits on (a direct-mode member is active from
/// the start) and leaves the membership alone; a waiting one goes with `remove_member`.
async fn withdrawing_ends_the_invitation_and_leaves_the_membership(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let address = unique_email("direct");
    let person = user(&address, now);
    let mut new = invitation(&account, &address, InviteeUser::New(person.clone()), now);
    new.invitation.mode = InvitationMode::Direct;
    new.member.status = MemberStatus::Active;
    new.member.activated_at = Some(now);
    new.member.pending_until = None;
    store.create_invitation(&new).await.expect("written");

    let revoked = new.invitation.clone().revoked(None, now);
    let withdrawal = Withdrawal {
        invitation: revoked.clone(),
        event: event(&account.id, AuditAction::InvitationRevoked, revoked.id.as_str(), now),
    };
    store.withdraw_invitation(&withdrawal).await.expect("revoked");
    assert_eq!(store.invitation(&account.id, &revoked.id).await.unwrap(), Some(revoked.clone()));
    assert_eq!(store.member(&account.id, &person.id).await.unwrap(), Some(new.member.clone()));
    let redemption = store.redemption(&new.token.hash).await.unwrap().expect("the dead link still says why");
    assert_eq!(redemption.invitation.status, InvitationStatus::Revoked);

    let twice = Withdrawal {
        invitation: new.invitation.clone().expired(),
        event: event(&account.id, AuditAction::InvitationExpired, revoked.id.as_str(), now),
    };
    assert_eq!(conflict(store.withdraw_invitation(&twice).await), Conflict::TokenSpent);
    assert_eq!(store.invitation(&account.id, &revoked.id).await.unwrap(), Some(revoked));
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
    let member = new.member.clone().pending_until(token.expires_at);
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
    assert_eq!(store.member(&account.id, &person.id).await.unwrap(), Some(member.clone()));
    let again = Resend {
        event: Some(event(&account.id, AuditAction::InvitationResent, renewed.id.as_str(), later)),
        ..resend
    };
    assert_eq!(conflict(store.resend_invitation(&again).await), Conflict::TokenSpent);

    let mut accepted = acceptance_of(&renewed, &member, &person, later);
    accepted.token_hash = new.token.hash.clone();
    assert_eq!(conflict(store.accept_invitation(&accepted).await), Conflict::TokenSpent);
    accepted.token_hash = token.hash;
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
    let promoted = accepted.member.clone().regranted(accountant());
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

/// The grant every test re-grants to.
fn accountant() -> Grant {
    Grant { roles: vec![RoleName::new("accountant")], permissions: PermissionSet::default() }
}

async fn member_writes_based_on_a_stale_version_fail_and_write_nothing(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let accepted = active_member(store.as_ref(), &account, "raced", now).await;
    let read = accepted.member.clone();
    let blocked = MemberUpdate {
        member: read.clone().blocked(),
        event: event(&account.id, AuditAction::MemberBlocked, read.user_id.as_str(), now),
    };
    store.update_member(&blocked).await.expect("the first write of the version read");
    let before = seen(store.as_ref(), &account.id, &[&read.user_id]).await;

    let regrant = MemberUpdate {
        member: read.clone().regranted(accountant()),
        event: event(&account.id, AuditAction::MemberRolesChanged, read.user_id.as_str(), now),
    };
    assert_eq!(conflict(store.update_member(&regrant).await), Conflict::Stale);
    let removal = MemberRemoval {
        member: read.clone(),
        user: Some(accepted.user.clone()),
        release_user: true,
        end_invitation: None,
        event: event(&account.id, AuditAction::MemberDeleted, read.user_id.as_str(), now),
    };
    assert_eq!(conflict(store.remove_member(&removal).await), Conflict::Stale);
    assert_eq!(seen(store.as_ref(), &account.id, &[&read.user_id]).await, before, "nothing was written");
    assert!(store.login_by_email(&read.email).await.unwrap().is_some(), "the login stays");

    let current = MemberRemoval { member: blocked.member.clone(), ..removal };
    store.remove_member(&current).await.expect("the version stored is removed");
    assert!(store.member(&account.id, &read.user_id).await.unwrap().is_none());
}

async fn an_acceptance_or_resend_based_on_a_stale_membership_fails_and_writes_nothing(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (person, new) = invite_new(store.as_ref(), &account, "regranted", now).await;
    // The waiting membership gets another grant after the link's redemption read it.
    let regranted = new.member.clone().regranted(accountant());
    let update = MemberUpdate {
        member: regranted.clone(),
        event: event(&account.id, AuditAction::MemberRolesChanged, person.id.as_str(), now),
    };
    store.update_member(&update).await.expect("regranted");
    let before = seen(store.as_ref(), &account.id, &[&person.id]).await;

    let accepted = acceptance(&new, &person, now);
    assert_eq!(conflict(store.accept_invitation(&accepted).await), Conflict::Stale);
    assert!(store.refresh_session(&accepted.session.family_id).await.unwrap().is_none(), "no session");

    let later = now + Duration::hours(1);
    let token =
        OneTimeToken { hash: token_hash(), expires_at: later + Duration::hours(72), ..new.token.clone() };
    let renewed = Invitation {
        token_hash: token.hash.clone(),
        expires_at: token.expires_at,
        send_count: 2,
        last_sent_at: later,
        ..new.invitation.clone()
    };
    let resend = Resend {
        invitation: renewed.clone(),
        previous_token_hash: new.token.hash.clone(),
        token: token.clone(),
        member: Some(new.member.clone().pending_until(token.expires_at)),
        event: Some(event(&account.id, AuditAction::InvitationResent, renewed.id.as_str(), later)),
    };
    assert_eq!(conflict(store.resend_invitation(&resend).await), Conflict::Stale);
    assert!(store.redemption(&token.hash).await.unwrap().is_none(), "the new link was not written");
    let old = store.redemption(&new.token.hash).await.unwrap().expect("the old link still works");
    assert_eq!(old.invitation, new.invitation);
    assert_eq!(seen(store.as_ref(), &account.id, &[&person.id]).await, before, "nothing was written");

    let waiting = regranted.pending_until(token.expires_at);
    let resend = Resend { member: Some(waiting.clone()), ..resend };
    store.resend_invitation(&resend).await.expect("resent on the membership as stored");
    let accepted = acceptance_of(&renewed, &waiting, &person, later);
    store.accept_invitation(&accepted).await.expect("accepted on the membership as stored");
    assert_eq!(store.member(&account.id, &person.id).await.unwrap(), Some(accepted.member));
}

async fn an_acceptance_based_on_a_stale_user_fails_and_writes_nothing(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (person, new) = invite_new(store.as_ref(), &account, "hurried", now).await;
    let accepted = acceptance(&new, &person, now);
    // Between the link's redemption and its acceptance, the person set a password elsewhere.
    let change = PasswordChange {
        user: person.clone().with_password("$argon2id$meanwhile".into()),
        spent_links: vec![],
    };
    store.change_password(&change).await.expect("changed");
    let before = seen(store.as_ref(), &account.id, &[&person.id]).await;

    assert_eq!(conflict(store.accept_invitation(&accepted).await), Conflict::Stale);
    assert_eq!(seen(store.as_ref(), &account.id, &[&person.id]).await, before, "nothing was written");
    assert!(store.refresh_session(&accepted.session.family_id).await.unwrap().is_none(), "no session");
    let still = store.invitation(&account.id, &new.invitation.id).await.unwrap().expect("kept");
    assert_eq!(still.status, InvitationStatus::Sent, "the invitation was not accepted");
    assert_eq!(store.user(&person.id).await.unwrap(), Some(change.user.clone()), "the password stays");

    let fresh = acceptance(&new, &change.user, now);
    store.accept_invitation(&fresh).await.expect("accepted on the user as stored");
    assert_eq!(
        store.user(&person.id).await.unwrap().and_then(|u| u.password_hash),
        change.user.password_hash
    );
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
        user: Some(accepted.user.clone()),
        release_user: true,
        end_invitation: None,
        event: event(&account.id, AuditAction::MemberDeleted, person.id.as_str(), now),
    };
    assert_eq!(conflict(store.remove_member(&stale).await), Conflict::Stale);
    assert!(store.login_by_id(&person.id).await.unwrap().is_some(), "nothing of a refused removal happened");

    let removal = MemberRemoval { member: accepted.member.clone(), ..stale };
    store.remove_member(&removal).await.expect("removed");
    assert!(store.member(&account.id, &person.id).await.unwrap().is_none());
    assert!(store.login_by_email(&person.email).await.unwrap().is_none());
    assert!(store.login_by_id(&person.id).await.unwrap().is_none());
    assert!(store.user(&person.id).await.unwrap().is_none());

    let address = person.email.clone();
    let mut again = invitation(&account, &address, InviteeUser::New(user(&address, now)), now);
    again.claim_phone = Some(number);
    store.create_invitation(&again).await.expect("the email and the phone are free again");
}

async fn removing_a_waiting_member_revokes_their_invitation(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (person, new) = invite_new(store.as_ref(), &account, "waiting", now).await;
    let revoked = new.invitation.clone().revoked(None, now);
    let removal = MemberRemoval {
        member: new.member.clone(),
        user: Some(person.clone()),
        release_user: false,
        end_invitation: Some(revoked.clone()),
        event: event(&account.id, AuditAction::MemberDeleted, person.id.as_str(), now),
    };
    store.remove_member(&removal).await.expect("removed");
    assert_eq!(store.invitation(&account.id, &revoked.id).await.unwrap(), Some(revoked));
    assert!(store.login_by_id(&person.id).await.unwrap().is_some_and(|l| l.memberships.is_empty()));
    let lapsed = store.lapsed_invitations(now + Duration::days(30), &PageRequest { limit: 10, after: None });
    let lapsed = lapsed.await.unwrap().items;
    assert!(lapsed.iter().all(|i| i.id != new.invitation.id), "a revoked invitation is not pending");

    // A removal whose invitation was used or ended meanwhile writes nothing.
    let (other, pending) = invite_new(store.as_ref(), &account, "accepting", now).await;
    let expiring = MemberRemoval {
        member: pending.member.clone(),
        user: Some(other.clone()),
        release_user: true,
        end_invitation: Some(pending.invitation.clone().expired()),
        event: event(&account.id, AuditAction::InvitationExpired, pending.invitation.id.as_str(), now),
    };
    let accepted = acceptance(&pending, &other, now);
    store.accept_invitation(&accepted).await.expect("accepted");
    let refused =
        MemberRemoval { member: accepted.member.clone(), user: Some(accepted.user.clone()), ..expiring };
    assert_eq!(conflict(store.remove_member(&refused).await), Conflict::TokenSpent);
    assert_eq!(store.member(&account.id, &other.id).await.unwrap(), Some(accepted.member));
}

async fn a_removal_based_on_a_stale_user_fails_and_writes_nothing(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (person, new) = invite_new(store.as_ref(), &account, "resetting", now).await;
    let removal = MemberRemoval {
        member: new.member.clone(),
        user: Some(person.clone()),
        release_user: true,
        end_invitation: Some(new.invitation.clone().revoked(None, now)),
        event: event(&account.id, AuditAction::InvitationRevoked, new.invitation.id.as_str(), now),
    };
    // Between the read and the removal, the person asked for a password reset.
    let reset = reset_token(&person, now);
    let resetting = with_reset_link(&person, &reset, now);
    store.issue_password_reset(&resetting, &reset).await.expect("issued");
    let before = seen(store.as_ref(), &account.id, &[&person.id]).await;

    assert_eq!(conflict(store.remove_member(&removal).await), Conflict::Stale);
    assert_eq!(seen(store.as_ref(), &account.id, &[&person.id]).await, before, "nothing was written");
    assert!(store.login_by_email(&person.email).await.unwrap().is_some(), "the login stays");
    assert!(store.redemption(&new.token.hash).await.unwrap().is_some_and(|r| r.invitation == new.invitation));

    let current = MemberRemoval { user: Some(resetting), ..removal };
    store.remove_member(&current).await.expect("removed on the user as stored");
    assert!(store.user(&person.id).await.unwrap().is_none());
    assert!(store.login_by_email(&person.email).await.unwrap().is_none());
}

/// The transfer of `account` (as read) from its owner `former` to `successor`, both as read.
fn transfer(account: &Account, former: &Member, successor: &Member, now: DateTime<Utc>) -> OwnershipTransfer {
    let account = account.clone().owned_by(successor.user_id.clone());
    let former = Member { is_owner: false, version: former.version + 1, ..former.clone() };
    let successor = successor.clone().made_owner();
    OwnershipTransfer {
        event: event(&account.id, AuditAction::OwnershipTransferred, successor.user_id.as_str(), now),
        account,
        former,
        successor,
    }
}

async fn ownership_passes_once(store: Arc<dyn Store>) {
    let now = now();
    let founded = found_account(store.as_ref(), now).await;
    let Founded { account, owner, .. } = &founded;
    let owner_accepted = owner_acceptance(&founded, now);
    store.accept_invitation(&owner_accepted).await.expect("the owner is active");
    let active = owner_accepted.account.clone().expect("the account as the owner left it");
    let heir = active_member(store.as_ref(), account, "heir", now).await;

    let handover = transfer(&active, &owner_accepted.member, &heir.member, now);
    store.transfer_ownership(&handover).await.expect("handed over");
    assert_eq!(store.account(&account.id).await.unwrap(), Some(handover.account.clone()));
    assert_eq!(store.member(&account.id, &owner.id).await.unwrap(), Some(handover.former.clone()));
    assert_eq!(store.member(&account.id, &heir.user.id).await.unwrap(), Some(handover.successor.clone()));
    let login = store.login_by_id(&heir.user.id).await.unwrap().expect("the heir");
    assert_eq!(login.memberships[0].account, AccountSummary::from(account));

    assert_eq!(conflict(store.transfer_ownership(&handover).await), Conflict::Stale);
    let back = transfer(&active, &handover.successor, &handover.former, now);
    assert_eq!(conflict(store.transfer_ownership(&back).await), Conflict::Stale, "the account moved on");
}

async fn an_owner_recovery_acceptance_passes_the_account(store: Arc<dyn Store>) {
    let now = now();
    let founded = found_account(store.as_ref(), now).await;
    let Founded { account, owner, .. } = &founded;
    let owner_accepted = owner_acceptance(&founded, now);
    store.accept_invitation(&owner_accepted).await.expect("the owner is active");
    let active = owner_accepted.account.clone().expect("the account as the owner left it");
    let recovery = owner_link(&active, "rescuer", now);
    let started = owner_link_change(&active, recovery.clone());
    store.change_owner_link(&started).await.expect("the recovery link is out");
    let InviteeUser::New(rescuer) = &recovery.user else { unreachable!("a new person") };

    let redemption = store.redemption(&recovery.token.hash).await.unwrap().expect("the link works");
    assert_eq!(redemption.account, started.account);
    assert!(redemption.account.owner_link_is(&recovery.invitation.id));
    let mut accepted = acceptance(&recovery, rescuer, now);
    accepted.account = Some(redemption.account.clone().owned_by(rescuer.id.clone()));
    let former = owner_accepted.member.clone();
    accepted.former_owner = Some(Member { is_owner: false, version: former.version + 1, ..former });
    store.accept_invitation(&accepted).await.expect("the rescuer owns the account");
    assert_eq!(store.account(&account.id).await.unwrap(), accepted.account.clone());
    assert_eq!(store.member(&account.id, &owner.id).await.unwrap(), accepted.former_owner.clone());
    assert_eq!(store.member(&account.id, &rescuer.id).await.unwrap(), Some(accepted.member.clone()));

    // A second owner link accepted on the account as read before the first: refused.
    let (late, pending) = invite_new(store.as_ref(), account, "late", now).await;
    let mut stale = acceptance(&pending, &late, now);
    stale.account = Some(redemption.account.clone().owned_by(late.id.clone()));
    let before = seen(store.as_ref(), &account.id, &[&late.id]).await;
    assert_eq!(conflict(store.accept_invitation(&stale).await), Conflict::Stale);
    assert_eq!(seen(store.as_ref(), &account.id, &[&late.id]).await, before, "nothing was written");
    let still = store.invitation(&account.id, &pending.invitation.id).await.unwrap().expect("kept");
    assert_eq!(still.status, InvitationStatus::Sent);
}

/// An account whose owner activated, with the account as they left it.
async fn active_account(store: &dyn Store, now: DateTime<Utc>) -> (Founded, Acceptance, Account) {
    let founded = found_account(store, now).await;
    let accepted = owner_acceptance(&founded, now);
    store.accept_invitation(&accepted).await.expect("the owner is active");
    let account = accepted.account.clone().expect("the account as the owner left it");
    (founded, accepted, account)
}

async fn of_two_owner_link_changes_from_one_account_version_exactly_one_wins(store: Arc<dyn Store>) {
    let now = now();
    let (_, _, account) = active_account(store.as_ref(), now).await;
    let changes: Vec<_> = ["first", "second"]
        .into_iter()
        .map(|name| owner_link_change(&account, owner_link(&account, name, now)))
        .collect();
    let attempts = changes.iter().cloned().map(|change| {
        let store = store.clone();
        tokio::spawn(async move { store.change_owner_link(&change).await })
    });
    let outcomes: Vec<_> = join_all(attempts).await.into_iter().map(|r| r.expect("no panic")).collect();
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{outcomes:?}");
    let winner = usize::from(outcomes[1].is_ok());
    let (won, lost) = (&changes[winner], &changes[1 - winner]);
    assert!(matches!(outcomes[1 - winner], Err(StoreError::Conflict(Conflict::Stale))), "{outcomes:?}");

    assert_eq!(store.account(&account.id).await.unwrap(), Some(won.account.clone()));
    let won_link = won.new_link.as_ref().expect("a new link");
    let stored = store.invitation(&account.id, &won_link.invitation.id).await.unwrap();
    assert_eq!(stored, Some(won_link.invitation.clone()));
    let lost_link = lost.new_link.as_ref().expect("a new link");
    assert!(store.invitation(&account.id, &lost_link.invitation.id).await.unwrap().is_none());
    assert!(store.member(&account.id, &lost_link.member.user_id).await.unwrap().is_none());
    assert!(store.redemption(&lost_link.token.hash).await.unwrap().is_none());
    assert!(store.login_by_email(&lost_link.invitation.email).await.unwrap().is_none(), "no claim is left");
    assert!(store.user(&lost_link.member.user_id).await.unwrap().is_none());
}

async fn an_owner_link_change_cancelling_a_link_used_meanwhile_writes_nothing(store: Arc<dyn Store>) {
    let now = now();
    // The owner never activated; the operator reads the account to send a recovery link.
    let founded = found_account(store.as_ref(), now).await;
    let Founded { account, activation, .. } = &founded;
    let recovery =
        replacing_owner_link(account, activation, None, Some(owner_link(account, "late", now)), now);
    let next = recovery.new_link.clone().expect("a new link");
    let users = [&founded.owner.id, &next.member.user_id];

    // Meanwhile the owner activates: the account moves on with the link, which the store sees first.
    let accepted = owner_acceptance(&founded, now);
    store.accept_invitation(&accepted).await.expect("the owner is active");
    let before = seen(store.as_ref(), &account.id, &users).await;
    assert_eq!(conflict(store.change_owner_link(&recovery).await), Conflict::Stale);
    assert_eq!(seen(store.as_ref(), &account.id, &users).await, before, "nothing was written");
    assert!(store.redemption(&next.token.hash).await.unwrap().is_none(), "no new token");
    assert!(store.login_by_email(&next.invitation.email).await.unwrap().is_none(), "no new claim");

    // A link used up by a write that left the account as read: the link's condition fails.
    let founded = found_account(store.as_ref(), now).await;
    let Founded { account, activation, owner } = &founded;
    let recovery =
        replacing_owner_link(account, activation, None, Some(owner_link(account, "late", now)), now);
    let next = recovery.new_link.clone().expect("a new link");
    let users = [&owner.id, &next.member.user_id];
    store.accept_invitation(&acceptance(activation, owner, now)).await.expect("the link is used");
    let before = seen(store.as_ref(), &account.id, &users).await;
    assert_eq!(before.account.as_ref(), Some(account), "the account is as read");
    assert_eq!(conflict(store.change_owner_link(&recovery).await), Conflict::TokenSpent);
    assert_eq!(seen(store.as_ref(), &account.id, &users).await, before, "nothing was written");
    assert!(store.redemption(&next.token.hash).await.unwrap().is_none(), "no new token");
    assert!(store.login_by_email(&next.invitation.email).await.unwrap().is_none(), "no new claim");

    // The same for a link the cleanup ended meanwhile.
    let founded = found_account(store.as_ref(), now).await;
    let Founded { account, activation, .. } = &founded;
    let cancel = replacing_owner_link(account, activation, None, None, now);
    let expired = Withdrawal {
        invitation: activation.invitation.clone().expired(),
        event: event(&account.id, AuditAction::InvitationExpired, activation.invitation.id.as_str(), now),
    };
    store.withdraw_invitation(&expired).await.expect("expired");
    let before = seen(store.as_ref(), &account.id, &[]).await;
    assert_eq!(conflict(store.change_owner_link(&cancel).await), Conflict::TokenSpent);
    assert_eq!(seen(store.as_ref(), &account.id, &[]).await, before, "nothing was written");
}

/// A recovery replacing an owner link drops its candidate, who had no other membership: their
/// login goes, so their email can be invited as a new person again; so does the operator's
/// cancellation.
async fn dropping_an_owner_link_candidate_frees_their_email(store: Arc<dyn Store>) {
    let now = now();
    let (founded, _, account) = active_account(store.as_ref(), now).await;
    let first = owner_link(&account, "candidate", now);
    let started = owner_link_change(&account, first.clone());
    store.change_owner_link(&started).await.expect("a recovery link is out");
    let InviteeUser::New(candidate) = &first.user else { unreachable!("a new person") };

    let second = owner_link(&started.account, "successor", now);
    let replaced = replacing_owner_link(
        &started.account,
        &first,
        Some((&first.member, candidate)),
        Some(second.clone()),
        now,
    );
    store.change_owner_link(&replaced).await.expect("replaced");
    let stored = store.account(&account.id).await.unwrap().expect("the account");
    assert_eq!(stored, replaced.account);
    assert!(stored.owner_link_is(&second.invitation.id));
    assert_eq!(stored.owner_id, founded.owner.id, "the owner stays");
    assert_eq!(store.invitation(&account.id, &first.invitation.id).await.unwrap(), replaced.cancelled);
    assert!(store.member(&account.id, &candidate.id).await.unwrap().is_none());
    assert!(store.user(&candidate.id).await.unwrap().is_none());
    assert!(store.login_by_email(&candidate.email).await.unwrap().is_none());
    let dead = store.redemption(&first.token.hash).await.unwrap().expect("the dead link still says why");
    assert_eq!((dead.invitation.status, dead.user, dead.member), (InvitationStatus::Revoked, None, None));
    let redemption = store.redemption(&second.token.hash).await.unwrap().expect("the new link works");
    assert_eq!(redemption.invitation, second.invitation);
    assert_eq!(conflict(store.change_owner_link(&replaced).await), Conflict::Stale, "once");
    let again = invitation(&account, &candidate.email, InviteeUser::New(user(&candidate.email, now)), now);
    store.create_invitation(&again).await.expect("the candidate's email is free again");

    // The operator cancels the second link: no owner link is left, its candidate goes too.
    let InviteeUser::New(successor) = &second.user else { unreachable!("a new person") };
    let cancelled = replacing_owner_link(&stored, &second, Some((&second.member, successor)), None, now);
    store.change_owner_link(&cancelled).await.expect("cancelled");
    let stored = store.account(&account.id).await.unwrap().expect("the account");
    assert_eq!(stored, cancelled.account);
    assert_eq!(stored.owner_link, None);
    assert!(store.user(&successor.id).await.unwrap().is_none());
    assert!(store.login_by_email(&successor.email).await.unwrap().is_none());
    let again = invitation(&account, &successor.email, InviteeUser::New(user(&successor.email, now)), now);
    store.create_invitation(&again).await.expect("the successor's email is free again");
}

async fn a_settings_change_needs_the_account_version_it_read(store: Arc<dyn Store>) {
    let now = now();
    let founded = found_account(store.as_ref(), now).await;
    let read = founded.account.clone();
    let mut settings = read.settings.clone();
    settings.invitation_ttl_hours = Some(24);
    settings.blocked_email_domains = vec!["mailinator.com".into()];
    let settings_changed = event(&read.id, AuditAction::SettingsChanged, read.id.as_str(), now);

    // The owner activates after the settings were read: the change must not write back the
    // owner link it read.
    let accepted = owner_acceptance(&founded, now);
    store.accept_invitation(&accepted).await.expect("the owner is active");
    let stale = read.clone().with_settings(settings.clone(), Locale::Pl);
    assert_eq!(conflict(store.update_account_settings(&stale, &settings_changed).await), Conflict::Stale);
    assert_eq!(store.account(&read.id).await.unwrap(), accepted.account);
    let events = store.audit_events(&read.id, &PageRequest { limit: 100, after: None }).await.unwrap().items;
    assert!(events.iter().all(|e| e.id != settings_changed.id), "no event of a refused change");

    let current = accepted.account.clone().expect("the account").with_settings(settings, Locale::Pl);
    store.update_account_settings(&current, &settings_changed).await.expect("saved");
    let stored = store.account(&read.id).await.unwrap().expect("the account");
    assert_eq!(stored, current);
    assert_eq!((stored.owner_link, stored.locale), (None, Locale::Pl));

    let nowhere = Account {
        id: AccountId::generate(),
        ..current.clone().with_settings(AccountSettings::default(), Locale::En)
    };
    assert_eq!(conflict(store.update_account_settings(&nowhere, &settings_changed).await), Conflict::Stale);
}

/// A password-reset link of `user`, dying an hour after `now`.
fn reset_token(user: &User, now: DateTime<Utc>) -> OneTimeToken {
    OneTimeToken {
        hash: token_hash(),
        user_id: user.id.clone(),
        purpose: TokenPurpose::PasswordReset,
        expires_at: now + Duration::hours(1),
    }
}

/// `user` (as read) with one more live reset link: `token`'s.
fn with_reset_link(user: &User, token: &OneTimeToken, now: DateTime<Utc>) -> User {
    let link = ResetLink { hash: token.hash.clone(), expires_at: token.expires_at };
    user.clone().with_reset_link(link, now).expect("fewer than the most live reset links")
}

async fn a_password_change_needs_the_version_and_ends_every_live_reset_link(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let accepted = active_member(store.as_ref(), &account, "forgetful", now).await;
    let read = accepted.user.clone();
    // A newer link never kills an older one: every live link works.
    let links: Vec<_> = (0..LIVE_RESET_LINKS).map(|_| reset_token(&read, now)).collect();
    let mut current = read.clone();
    for link in &links {
        let next = with_reset_link(&current, link, now);
        store.issue_password_reset(&next, link).await.expect("issued");
        current = next;
    }
    let stale_link = reset_token(&read, now);
    let stale = with_reset_link(&read, &stale_link, now);
    assert_eq!(conflict(store.issue_password_reset(&stale, &stale_link).await), Conflict::Stale);
    assert!(store.password_reset(&stale_link.hash).await.unwrap().is_none(), "its token was not written");
    let nobody = User { id: UserId::generate(), ..current.clone() };
    assert_eq!(
        conflict(store.issue_password_reset(&nobody, &reset_token(&read, now)).await),
        Conflict::Stale
    );

    assert_eq!(store.user(&read.id).await.unwrap(), Some(current.clone()));
    for link in &links {
        let (token, login) = store.password_reset(&link.hash).await.unwrap().expect("a live link");
        assert_eq!(&token, link);
        assert_eq!(login.user, current);
        assert!(login.user.has_reset_link(&link.hash, now));
    }
    assert!(
        store.password_reset(&accepted.token_hash).await.unwrap().is_none(),
        "an invitation link is no reset"
    );
    assert!(store.password_reset(&token_hash()).await.unwrap().is_none());

    let outdated =
        PasswordChange { user: read.clone().with_password("$argon2id$old".into()), spent_links: vec![] };
    assert_eq!(conflict(store.change_password(&outdated).await), Conflict::Stale);
    let spent_links = current.reset_links.iter().map(|l| l.hash.clone()).collect();
    let change = PasswordChange { user: current.clone().with_password("$argon2id$new".into()), spent_links };
    store.change_password(&change).await.expect("a live link sets the password");
    for link in &links {
        assert!(store.password_reset(&link.hash).await.unwrap().is_none(), "every live link is spent");
    }
    let stored = store.login_by_id(&read.id).await.unwrap().map(|l| l.user);
    assert_eq!(stored, Some(change.user.clone()));
    assert_eq!(change.user.token_version, read.token_version + 1);
    assert!(change.user.reset_links.is_empty());

    assert_eq!(conflict(store.change_password(&change).await), Conflict::Stale);
    let next = PasswordChange {
        user: change.user.clone().with_password("$argon2id$next".into()),
        spent_links: vec![],
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
    renamed.version += 1;
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
    assert_eq!(conflict(store.update_profile(&update).await), Conflict::Stale, "once per version");

    let (other, pending) = invite_new(store.as_ref(), &first.account, "other", now).await;
    let mut taken = acceptance(&pending, &other, now);
    taken.claim_phone = Some(new_number);
    assert_eq!(conflict(store.accept_invitation(&taken).await), Conflict::PhoneTaken);
    let mut freed = acceptance(&pending, &other, now);
    freed.claim_phone = Some(old_number);
    store.accept_invitation(&freed).await.expect("the released number is free");
    let grab = ProfileUpdate {
        user: User { version: freed.user.version + 1, ..freed.user.clone() },
        accounts: vec![],
        claim_phone: update.claim_phone,
        release_phone: None,
    };
    assert_eq!(conflict(store.update_profile(&grab).await), Conflict::PhoneTaken);
    let stale_grab = ProfileUpdate { user: freed.user.clone(), ..grab };
    assert_eq!(
        conflict(store.update_profile(&stale_grab).await),
        Conflict::Stale,
        "the version is judged first"
    );
}

async fn a_profile_update_raises_every_membership_version(store: Arc<dyn Store>) {
    let now = now();
    let first = found_account(store.as_ref(), now).await;
    let second = found_account(store.as_ref(), now).await;
    let accepted = active_member(store.as_ref(), &first.account, "versioned", now).await;
    let person = accepted.user.clone();
    let elsewhere = invitation(&second.account, &person.email, InviteeUser::Existing(person.id.clone()), now);
    store.create_invitation(&elsewhere).await.expect("a second membership");
    let read = [accepted.member.clone(), elsewhere.member.clone()];

    let renamed = User { last_name: Some("Melnyk".into()), version: person.version + 1, ..person.clone() };
    let update = ProfileUpdate {
        user: renamed.clone(),
        accounts: vec![first.account.id.clone(), second.account.id.clone()],
        claim_phone: None,
        release_phone: None,
    };
    store.update_profile(&update).await.expect("updated");
    for member in &read {
        let stored = store.member(&member.account_id, &member.user_id).await.unwrap().expect("kept");
        let expected = Member { version: member.version + 1, ..member.clone().with_profile(&renamed) };
        assert_eq!(stored, expected);

        let blocked = MemberUpdate {
            member: member.clone().blocked(),
            event: event(&member.account_id, AuditAction::MemberBlocked, member.user_id.as_str(), now),
        };
        assert_eq!(conflict(store.update_member(&blocked).await), Conflict::Stale, "based on the old copy");
        assert_eq!(store.member(&member.account_id, &member.user_id).await.unwrap(), Some(stored.clone()));
        let current = MemberUpdate { member: stored.blocked(), ..blocked };
        store.update_member(&current).await.expect("based on the membership as stored");
    }
    let removal = MemberRemoval {
        member: read[1].clone(),
        user: None,
        release_user: false,
        end_invitation: Some(elsewhere.invitation.clone().revoked(None, now)),
        event: event(
            &second.account.id,
            AuditAction::InvitationRevoked,
            elsewhere.invitation.id.as_str(),
            now,
        ),
    };
    assert_eq!(conflict(store.remove_member(&removal).await), Conflict::Stale, "removals too");
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

    // Writes based on versions no longer stored, each with items that only it would create.
    let read_later = Account { version: account.version + 3, ..account.clone() };
    let mut ahead = acceptance(&activation, &owner, now);
    ahead.account = Some(read_later.clone().owned_by(owner.id.clone()));
    assert_eq!(conflict(store.accept_invitation(&ahead).await), Conflict::Stale);
    let mut new_link = owner_link(&account, "stale", now);
    new_link.claim_phone = Some(phone(&format!("+38068{:07}", rand_digits())));
    let recovery = replacing_owner_link(&read_later, &activation, None, Some(new_link), now);
    assert_eq!(conflict(store.change_owner_link(&recovery).await), Conflict::Stale);
    let removal = MemberRemoval {
        member: Member { version: activation.member.version + 2, ..activation.member.clone() },
        user: Some(owner.clone()),
        release_user: true,
        end_invitation: Some(activation.invitation.clone().revoked(None, now)),
        event: event(&account.id, AuditAction::MemberDeleted, owner.id.as_str(), now),
    };
    assert_eq!(conflict(store.remove_member(&removal).await), Conflict::Stale);
    let mut holder_read = holder.member.clone();
    holder_read.version += 4;
    let update = MemberUpdate {
        member: holder_read.clone().blocked(),
        event: event(&account.id, AuditAction::MemberBlocked, holder_read.user_id.as_str(), now),
    };
    assert_eq!(conflict(store.update_member(&update).await), Conflict::Stale);

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

    let founded = found_account(&store, now).await;
    record("create_account", &calls);
    let Founded { account, owner, .. } = &founded;
    store.account(&account.id).await.unwrap();
    record("account", &calls);
    let address = unique_email("counted");
    let person = user(&address, now);
    let new = invitation(account, &address, InviteeUser::New(person.clone()), now);
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
    store.user(&owner.id).await.unwrap();
    record("user", &calls);

    let token = OneTimeToken { hash: token_hash(), ..new.token.clone() };
    let mut renewed = new.invitation.clone();
    renewed.token_hash = token.hash.clone();
    let resend = Resend {
        invitation: renewed.clone(),
        previous_token_hash: new.token.hash.clone(),
        token: token.clone(),
        member: Some(new.member.clone().pending_until(token.expires_at)),
        event: Some(event(&account.id, AuditAction::InvitationResent, renewed.id.as_str(), now)),
    };
    store.resend_invitation(&resend).await.unwrap();
    record("resend_invitation", &calls);
    let withdrawal = Withdrawal {
        invitation: renewed.clone().revoked(None, now),
        event: event(&account.id, AuditAction::InvitationRevoked, renewed.id.as_str(), now),
    };
    store.withdraw_invitation(&withdrawal).await.unwrap();
    record("withdraw_invitation", &calls);
    let address = unique_email("gone");
    let discarded = invitation(account, &address, InviteeUser::New(user(&address, now)), now);
    store.create_invitation(&discarded).await.unwrap();
    calls.take();
    store.discard_invitation(&discarded).await.unwrap();
    record("discard_invitation", &calls);

    let accepted = owner_acceptance(&founded, now);
    store.accept_invitation(&accepted).await.unwrap();
    record("accept_invitation", &calls);
    let active = accepted.account.clone().expect("the account as the owner left it");
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

    let heir = active_member(&store, account, "heir", now).await;
    calls.take();
    let promoted = heir.member.clone().regranted(accountant());
    let promotion = event(&account.id, AuditAction::MemberRolesChanged, promoted.user_id.as_str(), now);
    store.update_member(&MemberUpdate { member: promoted.clone(), event: promotion }).await.unwrap();
    record("update_member", &calls);
    let handover = transfer(&active, &accepted.member, &promoted, now);
    store.transfer_ownership(&handover).await.unwrap();
    record("transfer_ownership", &calls);
    let settings = event(&account.id, AuditAction::SettingsChanged, account.id.as_str(), now);
    let changed_settings = handover.account.clone().with_settings(AccountSettings::default(), Locale::Pl);
    store.update_account_settings(&changed_settings, &settings).await.unwrap();
    record("update_account_settings", &calls);
    let first_link = owner_link(&changed_settings, "candidate", now);
    let started = owner_link_change(&changed_settings, first_link.clone());
    store.change_owner_link(&started).await.unwrap();
    calls.take();
    let InviteeUser::New(candidate) = &first_link.user else { unreachable!("a new person") };
    let candidate = User { phone: Some(phone(&format!("+38098{:07}", rand_digits()))), ..candidate.clone() };
    let next_link = owner_link(&started.account, "next", now);
    let replaced = replacing_owner_link(
        &started.account,
        &first_link,
        Some((&first_link.member, &candidate)),
        Some(next_link),
        now,
    );
    store.change_owner_link(&replaced).await.unwrap();
    record("change_owner_link", &calls);
    let reset = reset_token(&accepted.user, now);
    let resetting = with_reset_link(&accepted.user, &reset, now);
    store.issue_password_reset(&resetting, &reset).await.unwrap();
    record("issue_password_reset", &calls);
    store.password_reset(&reset.hash).await.unwrap();
    record("password_reset", &calls);
    let changed = resetting.clone().with_password("$argon2id$counted".into());
    store
        .change_password(&PasswordChange { user: changed.clone(), spent_links: vec![reset.hash.clone()] })
        .await
        .unwrap();
    record("change_password", &calls);
    let profile = ProfileUpdate {
        user: User { first_name: Some("Oksana".into()), version: changed.version + 1, ..changed },
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
        user: Some(leaving),
        release_user: true,
        end_invitation: None,
        event: event(&account.id, AuditAction::MemberDeleted, heir.user.id.as_str(), now),
    };
    store.remove_member(&removal).await.unwrap();
    record("remove_member", &calls);

    let mut over_budget = Vec::new();
    for (method, operations) in &costs {
        let (reads, writes) = round_trips(operations);
        // A link is known only by its hash: the token names the user and account the rest is
        // read from, in a second round trip (for an invitation: its account, invitation, user
        // and membership in one consistent `BatchGetItem`; for a reset: the user's own item;
        // each alongside the login's `Query`).
        let allowed_reads = match *method {
            "redemption" | "password_reset" => 3,
            _ => 1,
        };
        if reads > allowed_reads || writes > 1 {
            over_budget.push(format!("{method}: {operations:?}"));
        }
        println!("{method:<24} reads {reads}  writes {writes}  {operations:?}");
    }
    assert!(over_budget.is_empty(), "over budget:\n{}", over_budget.join("\n"));
    let methods: BTreeSet<_> = costs.iter().map(|(m, _)| m.split(' ').next().unwrap_or(m)).collect();
    assert_eq!(methods.len(), 32, "every Store method but `discard_account` is measured: {methods:?}");
}
