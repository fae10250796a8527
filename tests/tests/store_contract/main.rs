//! One contract for `Store`: every behaviour is a function over `dyn Store`, run against the
//! memory store (`memory::…`) and against DynamoDB Local (`dynamodb::…`), so the embedded default
//! cannot drift from production. DynamoDB-only checks follow: what failed writes leave behind, and
//! what every method costs in round trips.
//!
//! This file is the harness: the small world the behaviours write into and the macro that runs
//! each on both backends. The behaviours live in one module per kind of item.

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::json;

use shared::domain::{
    Account, AccountId, AccountSettings, AuditAction, AuditEvent, AuditTarget, Delivery, Email, EventId,
    Grant, Invitation, InvitationId, InvitationMode, InvitationStatus, Locale, MailKind, Member,
    MemberStatus, OneTimeToken, PermissionSet, Phone, Profile, RefreshSession, ResetLink, RoleName,
    SessionClient, SessionFamilyId, TokenPurpose, User, UserId, member::SEAT_GRACE,
};
use shared::ports::{
    Acceptance, AuditQuery, Conflict, EventKey, InvitationQuery, InviteeUser, Letter, MailedLink,
    MailedReset, MemberQuery, MemberRemoval, NamedEvent, NewInvitation, OwnerLinkChange, OwnershipTransfer,
    Page, PageRequest, PendingMail, SeatCheck, SignIn, SignsIn, Store, StoreError, UserAfterRemoval,
};
use tests::emulators::dynamo_store;

mod accounts;
mod api_keys;
mod audit;
mod dynamodb_only;
mod invitations;
mod listing;
mod members;
mod outbox;
mod owner_links;
mod rate_limits;
mod sessions;
mod tokens;
mod users;

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
        owner_version: 0,
        max_members: None,
        seat_version: 0,
        custom_roles: Vec::new(),
        roles_version: 0,
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
        memberships: Some(1),
        second_factor: None,
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
    let user_id = user.id().clone();
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
        delivery: Default::default(),
        address_refused: None,
        message: None,
        renewal_requested_at: None,
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
        sessions_ended_at: None,
        version: 0,
    };
    let token = OneTimeToken {
        hash,
        user_id,
        purpose: TokenPurpose::Invitation { account_id: account.id.clone(), invitation_id: id.clone() },
        expires_at,
    };
    NewInvitation {
        account: account.into(),
        event: event(&account.id, AuditAction::InvitationCreated, id.as_str(), now),
        mail: invitation_mail(&invitation, now),
        invitation,
        member,
        user,
        token,
        claim_phone: None,
        supersedes: None,
        remembered: None,
        seat: None,
        roles: None,
    }
}

/// The mail of `invitation`'s current link, as the service puts it in the outbox: under the
/// invitation's key, a fresh version, due at `now`, given up when the link dies.
fn invitation_mail(invitation: &Invitation, now: DateTime<Utc>) -> PendingMail {
    PendingMail {
        key: format!("INVITATION#{}", invitation.id),
        version: uuid::Uuid::new_v4().to_string(),
        letter: Letter {
            kind: MailKind::Invitation,
            locale: Locale::Uk,
            to: invitation.email.clone(),
            values: vec![
                ("account_name".into(), "Kvitka Ltd".into()),
                ("link".into(), format!("https://teamgate.test/activate#token={}", invitation.token_hash)),
            ],
            tags: vec![("teamgate-invitation".into(), invitation.id.to_string())],
        },
        invitation: Some(MailedLink {
            account_id: invitation.account_id.clone(),
            invitation_id: invitation.id.clone(),
            token_hash: invitation.token_hash.clone(),
        }),
        reset: None,
        created_at: now,
        attempts: 0,
        due_at: now,
        expires_at: invitation.expires_at,
    }
}

/// The mail of `user`'s reset link `token`, as the service puts it in the outbox: one key per
/// link, due at `now`, given up when the link dies.
fn reset_mail(user: &User, token: &OneTimeToken, now: DateTime<Utc>) -> PendingMail {
    PendingMail {
        key: format!("RESET#{}", uuid::Uuid::new_v4()),
        version: uuid::Uuid::new_v4().to_string(),
        letter: Letter {
            kind: MailKind::PasswordReset,
            locale: Locale::En,
            to: user.email.clone(),
            values: vec![(
                "link".into(),
                format!("https://teamgate.test/reset-password#token={}", token.hash),
            )],
            tags: Vec::new(),
        },
        invitation: None,
        reset: Some(MailedReset { user_id: user.id.clone(), token_hash: token.hash.clone() }),
        created_at: now,
        attempts: 0,
        due_at: now,
        expires_at: token.expires_at,
    }
}

/// The stored user, as a test reads them before building a write on them.
async fn stored_user(store: &dyn Store, id: &UserId) -> User {
    store.user(id).await.expect("a user read").expect("the user is stored")
}

/// An existing user, read, as an invitation into one more account writes them: one membership
/// more, one version more.
async fn existing(store: &dyn Store, id: &UserId) -> InviteeUser {
    InviteeUser::Existing(stored_user(store, id).await.joined())
}

/// An existing user, read, as an invitation replacing their own stale membership writes them:
/// the same count, one version more.
async fn reinvited(store: &dyn Store, id: &UserId) -> InviteeUser {
    InviteeUser::Existing(stored_user(store, id).await.reinvited())
}

/// What a removal does to `user` (as read): released with their last membership, else kept
/// with one fewer, as the service decides it.
fn after_removal(user: &User) -> UserAfterRemoval {
    match user.has_one_membership() {
        Some(false) => UserAfterRemoval::Kept(user.clone().left_membership()),
        _ => UserAfterRemoval::Released(user.clone()),
    }
}

/// The removal of `member` (ending `invitation`), its user read first, as the service drafts it.
async fn removal_of(
    store: &dyn Store,
    member: &Member,
    invitation: Option<Invitation>,
    now: DateTime<Utc>,
) -> MemberRemoval {
    let user = stored_user(store, &member.user_id).await;
    MemberRemoval {
        member: member.clone(),
        user: after_removal(&user),
        end_invitation: invitation,
        event: event(&member.account_id, AuditAction::MemberDeleted, member.user_id.as_str(), now),
        roles: None,
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

/// An account whose owner activated, with the account as they left it.
async fn active_account(store: &dyn Store, now: DateTime<Utc>) -> (Founded, Acceptance, Account) {
    let founded = found_account(store, now).await;
    let accepted = owner_acceptance(&founded, now);
    store.accept_invitation(&accepted).await.expect("the owner is active");
    let account = accepted.account.clone().expect("the account as the owner left it");
    (founded, accepted, account)
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
        last_used_at: Some(now),
        client: SessionClient::default(),
        generation: 0,
    }
}

/// A sign-in starting `session`, stamping `accounts` at `at`, with no second step.
fn sign_in(session: &RefreshSession, accounts: &[AccountId], at: DateTime<Utc>) -> SignIn {
    SignIn { session: session.clone(), accounts: accounts.to_vec(), at, second_step: None }
}

/// The session an acceptance signs in.
fn session_of(acceptance: &Acceptance) -> &RefreshSession {
    match &acceptance.signs_in {
        SignsIn::Session(session) => session,
        SignsIn::Challenge(_) => panic!("this acceptance waits for a second step"),
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
        signs_in: SignsIn::Session(session(&user, now)),
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
    owner_link_to(account, &address, InviteeUser::New(user(&address, now)), now)
}

/// A new owner link of `account` to `user` (by `address`), as owner recovery drafts it.
fn owner_link_to(account: &Account, address: &Email, user: InviteeUser, now: DateTime<Utc>) -> NewInvitation {
    let mut new = invitation(account, address, user, now);
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
                user: after_removal(user),
                end_invitation: None,
                event: revoked,
                roles: None,
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
    let any = InvitationQuery { status: None, role: None, email: None, delivery: None, now: now() };
    let mut found = Vec::new();
    for user in users {
        found.push(store.user(user).await.expect("a user read"));
    }
    Seen {
        account: store.account(account).await.expect("an account read"),
        members: store.members(account, &MemberQuery::default(), &everything).await.expect("members").items,
        invitations: store.invitations(account, &any, &everything).await.expect("invitations").items,
        events: store.audit_events(account, &AuditQuery::default(), &everything).await.expect("events").items,
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

/// Seven random digits for a phone number no other test uses.
fn rand_digits() -> u32 {
    (uuid::Uuid::new_v4().as_u128() % 10_000_000) as u32
}

/// An accepted, active member of a new account, with their acceptance written.
async fn active_member(store: &dyn Store, account: &Account, name: &str, now: DateTime<Utc>) -> Acceptance {
    let (person, new) = invite_new(store, account, name, now).await;
    let accepted = acceptance(&new, &person, now);
    store.accept_invitation(&accepted).await.expect("accepted");
    accepted
}

/// The grant every test re-grants to.
fn accountant() -> Grant {
    Grant { roles: vec![RoleName::new("accountant")], permissions: PermissionSet::default() }
}

/// The transfer of `account` (as read) from its owner `former` to `successor`, both as read.
fn transfer(account: &Account, former: &Member, successor: &Member, now: DateTime<Utc>) -> OwnershipTransfer {
    let account = account.clone().handed_to(successor.user_id.clone());
    let former = Member { is_owner: false, version: former.version + 1, ..former.clone() };
    let successor = successor.clone().made_owner();
    OwnershipTransfer {
        event: event(&account.id, AuditAction::OwnershipTransferred, successor.user_id.as_str(), now),
        account,
        former,
        successor,
    }
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

// ---------------------------------------------------------------------------------------------
// The contract.

/// Runs each behaviour `module::name(store: Arc<dyn Store>)` as the tests `memory::name` and
/// `dynamodb::name`.
macro_rules! contract {
    ($($module:ident: [$($behaviour:ident),* $(,)?]),* $(,)?) => {
        mod memory {
            $($(
                #[tokio::test]
                async fn $behaviour() {
                    super::$module::$behaviour(std::sync::Arc::new(shared::adapters::memory::MemoryStore::new())).await;
                }
            )*)*
        }
        mod dynamodb {
            $($(
                #[tokio::test]
                async fn $behaviour() {
                    super::$module::$behaviour(std::sync::Arc::new(super::dynamo_store().await)).await;
                }
            )*)*
        }
    };
}

contract! {
    accounts: [
        a_new_account_reads_back_everywhere_it_is_written,
        a_settings_change_needs_the_account_version_it_read,
        a_settings_change_and_an_owner_link_change_from_one_read_both_succeed,
        an_invitation_takes_a_seat_only_under_the_seat_version_it_counted,
        a_write_judged_under_the_accounts_own_roles_needs_them_as_read,
    ],
    users: [
        an_email_is_claimed_by_one_user,
        a_phone_is_claimed_by_one_user,
        a_profile_update_reaches_every_membership_and_moves_the_phone_claim,
        a_profile_update_raises_every_membership_version,
        a_profile_update_releases_only_its_own_phone_and_needs_every_membership,
    ],
    invitations: [
        an_existing_membership_is_not_overwritten,
        an_invitation_needs_its_account_and_its_existing_user,
        a_lapsed_membership_is_superseded_once,
        of_sixteen_concurrent_acceptances_exactly_one_wins,
        accepting_claims_a_phone_unless_someone_else_holds_it,
        withdrawing_ends_the_invitation_and_leaves_the_membership,
        resending_replaces_the_link,
        a_report_of_its_mail_is_never_undone_by_a_write_read_before_it,
        superseding_a_membership_that_went_meanwhile_fails,
        an_acceptance_or_resend_based_on_a_stale_membership_fails_and_writes_nothing,
        an_acceptance_based_on_a_stale_user_fails_and_writes_nothing,
        an_answer_is_remembered_with_its_invitation_or_resend_once,
        a_request_under_way_holds_its_key_until_it_answers_or_another_takes_over,
        a_renewal_request_is_written_once_and_survives_an_expiry_read_before_it,
    ],
    tokens: [
        an_accepted_token_is_spent,
        an_unknown_token_redeems_to_nothing,
        a_link_that_names_its_records_leads_only_where_its_token_does,
        a_password_change_needs_the_version_and_ends_every_live_reset_link,
    ],
    members: [
        a_member_update_needs_the_version_it_read,
        member_writes_based_on_a_stale_version_fail_and_write_nothing,
        removing_a_member_frees_their_login_when_it_was_their_last,
        removing_a_waiting_member_revokes_their_invitation,
        a_removal_based_on_a_stale_user_fails_and_writes_nothing,
        a_user_counts_memberships_and_goes_with_the_last,
        a_removal_racing_an_invitation_never_orphans_a_membership,
    ],
    owner_links: [
        ownership_passes_once,
        an_owner_recovery_acceptance_passes_the_account,
        of_two_owner_link_changes_from_one_account_version_exactly_one_wins,
        an_owner_link_change_cancelling_a_link_used_meanwhile_writes_nothing,
        dropping_an_owner_link_candidate_frees_their_email,
        a_transfer_keeps_a_pending_owner_link,
        a_never_activated_owner_gets_a_new_link_whatever_became_of_the_old_one,
    ],
    sessions: [
        a_refresh_session_rotates_once_per_secret,
        signing_in_stamps_the_given_memberships,
        a_second_step_is_spent_with_the_session_it_starts_once,
        only_a_challenge_reads_as_a_challenge,
        a_users_sessions_are_listed_and_one_is_carried_over_a_new_token_version,
        a_kept_session_is_carried_over_only_as_read,
    ],
    outbox: [
        an_invitations_mail_waits_in_the_outbox_until_it_is_due,
        a_resends_mail_replaces_the_one_not_sent_yet,
        settling_a_mail_takes_it_out_and_records_its_delivery_in_one_write,
        settling_a_mail_replaced_since_fails_and_changes_nothing,
        settling_with_a_stale_report_leaves_the_mail_in_the_outbox,
        postponing_a_mail_needs_the_version_it_read,
        a_password_resets_mail_is_written_with_its_token,
        no_mail_is_left_by_a_write_that_failed,
    ],
    rate_limits: [
        rate_limits_count_per_key_and_window,
    ],
    audit: [
        audit_events_list_newest_first_across_pages,
        a_filtered_audit_list_keeps_only_matching_events_across_pages,
        an_event_is_read_by_its_key_and_one_not_stored_is_gone,
    ],
    api_keys: [
        a_new_key_is_written_once_with_its_event,
        a_key_change_needs_the_version_it_read_and_keeps_the_last_use,
        a_keys_use_is_noted_at_most_once_per_resolution,
        an_accounts_keys_list_newest_first_with_their_last_use,
    ],
    listing: [
        invitations_list_newest_first_across_pages_and_filters,
        members_list_in_user_order_across_pages_and_filters,
        lapsed_invitations_come_oldest_expiry_first_across_pages,
    ],
}

// ---------------------------------------------------------------------------------------------
// DynamoDB only.

#[tokio::test]
async fn dynamodb_failed_writes_leave_no_orphan_items() {
    dynamodb_only::dynamodb_failed_writes_leave_no_orphan_items().await;
}

#[tokio::test]
async fn dynamodb_an_audit_item_this_version_cannot_read_is_named_alone() {
    dynamodb_only::dynamodb_an_audit_item_this_version_cannot_read_is_named_alone().await;
}

#[tokio::test]
async fn dynamodb_every_store_method_costs_at_most_one_read_and_one_write() {
    dynamodb_only::dynamodb_every_store_method_costs_at_most_one_read_and_one_write().await;
}

#[tokio::test]
async fn dynamodb_api_key_methods_cost_one_round_trip_each() {
    api_keys::dynamodb_key_methods_cost_one_round_trip_each().await;
}
