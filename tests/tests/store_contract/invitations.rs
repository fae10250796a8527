//! Invitations: creating, accepting, withdrawing and resending them, and acceptances or resends
//! based on what changed meanwhile.

use std::sync::Arc;

use futures::future::join_all;
use shared::domain::MailOutcome;
use shared::ports::{DeliveryReport, MemberUpdate, PasswordChange, RenewalRequest, Resend, Withdrawal};

use super::*;

pub(crate) async fn an_existing_membership_is_not_overwritten(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (person, written) = invite_new(store.as_ref(), &account, "member", now).await;

    let again = invitation(&account, &person.email, existing(store.as_ref(), &person.id).await, now);
    assert_eq!(conflict(store.create_invitation(&again).await), Conflict::AlreadyMember);
    assert_eq!(store.member(&account.id, &person.id).await.unwrap(), Some(written.member));
    assert!(store.invitation(&account.id, &again.invitation.id).await.unwrap().is_none());
    assert_eq!(store.user(&person.id).await.unwrap(), Some(person), "the user is not counted twice");
}

pub(crate) async fn an_invitation_needs_its_account_and_its_existing_user(store: Arc<dyn Store>) {
    let now = now();
    let address = unique_email("orphan");
    let nowhere = invitation(&account(now), &address, InviteeUser::New(user(&address, now)), now);
    assert_eq!(conflict(store.create_invitation(&nowhere).await), Conflict::Stale);

    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let nobody = user(&address, now).joined();
    let ghost = invitation(&account, &address, InviteeUser::Existing(nobody.clone()), now);
    assert_eq!(conflict(store.create_invitation(&ghost).await), Conflict::Stale);
    assert!(store.invitation(&account.id, &ghost.invitation.id).await.unwrap().is_none());
    assert!(store.user(&nobody.id).await.unwrap().is_none(), "no user is made up");

    // An existing user is written provided the stored version is one less than theirs.
    let elsewhere = found_account(store.as_ref(), now).await;
    let (person, _) = invite_new(store.as_ref(), &elsewhere.account, "counted", now).await;
    let before = seen(store.as_ref(), &account.id, &[&person.id]).await;
    for read in [person.clone(), person.clone().joined().joined()] {
        let stale = invitation(&account, &person.email, InviteeUser::Existing(read), now);
        assert_eq!(conflict(store.create_invitation(&stale).await), Conflict::Stale);
        assert!(store.redemption(&stale.token.hash, None).await.unwrap().is_none());
    }
    assert_eq!(seen(store.as_ref(), &account.id, &[&person.id]).await, before, "nothing was written");
    let current = invitation(&account, &person.email, existing(store.as_ref(), &person.id).await, now);
    store.create_invitation(&current).await.expect("written on the user as stored");
    let InviteeUser::Existing(joined) = &current.user else { unreachable!("an existing user") };
    assert_eq!(store.user(&person.id).await.unwrap().as_ref(), Some(joined));
    assert_eq!((joined.version, joined.memberships), (person.version + 1, Some(2)));
}

pub(crate) async fn a_lapsed_membership_is_superseded_once(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (person, old) = invite_new(store.as_ref(), &account, "lapsed", now - Duration::hours(100)).await;

    let mut renewal = invitation(&account, &person.email, reinvited(store.as_ref(), &person.id).await, now);
    renewal.supersedes = Some(old.invitation.id.clone());
    store.create_invitation(&renewal).await.expect("the lapsed membership is replaced");
    let stored_old = store.invitation(&account.id, &old.invitation.id).await.unwrap().expect("kept");
    assert_eq!(stored_old.status, InvitationStatus::Expired);
    assert_eq!(store.member(&account.id, &person.id).await.unwrap(), Some(renewal.member.clone()));
    let stored = stored_user(store.as_ref(), &person.id).await;
    assert_eq!((stored.version, stored.memberships), (person.version + 1, Some(1)), "the same membership");

    let mut twice = invitation(&account, &person.email, reinvited(store.as_ref(), &person.id).await, now);
    twice.supersedes = Some(old.invitation.id.clone());
    assert_eq!(conflict(store.create_invitation(&twice).await), Conflict::AlreadyMember);
}

pub(crate) async fn of_sixteen_concurrent_acceptances_exactly_one_wins(store: Arc<dyn Store>) {
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

pub(crate) async fn accepting_claims_a_phone_unless_someone_else_holds_it(store: Arc<dyn Store>) {
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
    let rejoin = invitation(&second.account, &holder.email, existing(store.as_ref(), &holder.id).await, now);
    store.create_invitation(&rejoin).await.expect("the holder is invited elsewhere");
    let mut again = acceptance(&rejoin, &stored_user(store.as_ref(), &holder.id).await, now);
    again.claim_phone = Some(number);
    store.accept_invitation(&again).await.expect("their own number is theirs to claim again");
}

/// A withdrawal ends an invitation no membership waits on (a direct-mode member is active from
/// the start) and leaves the membership alone; a waiting one goes with `remove_member`.
pub(crate) async fn withdrawing_ends_the_invitation_and_leaves_the_membership(store: Arc<dyn Store>) {
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
    let redemption =
        store.redemption(&new.token.hash, None).await.unwrap().expect("the dead link still says why");
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

pub(crate) async fn resending_replaces_the_link(store: Arc<dyn Store>) {
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
        previous_delivery: Delivery::Sent,
        token: token.clone(),
        member: Some(member.clone()),
        event: event(&account.id, AuditAction::InvitationResent, renewed.id.as_str(), later),
        mail: invitation_mail(&renewed, later),
        remembered: None,
    };
    store.resend_invitation(&resend).await.expect("resent");

    assert!(store.redemption(&new.token.hash, None).await.unwrap().is_none(), "the old link leads nowhere");
    let redemption = store.redemption(&token.hash, None).await.unwrap().expect("the new link works");
    assert_eq!(redemption.invitation, renewed);
    assert_eq!(store.member(&account.id, &person.id).await.unwrap(), Some(member.clone()));
    let again = Resend {
        event: event(&account.id, AuditAction::InvitationResent, renewed.id.as_str(), later),
        mail: invitation_mail(&renewed, later),
        ..resend
    };
    assert_eq!(conflict(store.resend_invitation(&again).await), Conflict::TokenSpent);

    let mut accepted = acceptance_of(&renewed, &member, &person, later);
    accepted.token_hash = new.token.hash.clone();
    assert_eq!(conflict(store.accept_invitation(&accepted).await), Conflict::TokenSpent);
    accepted.token_hash = token.hash;
    store.accept_invitation(&accepted).await.expect("the new link is accepted");
}

pub(crate) async fn a_report_of_its_mail_is_never_undone_by_a_write_read_before_it(store: Arc<dyn Store>) {
    // Given an invitation read for a revoke, an acceptance and a resend
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (person, new) = invite_new(store.as_ref(), &account, "bounced-meanwhile", now).await;
    let read = new.invitation.clone();

    // When SES's hard bounce is recorded before they write
    let bounced = read.reported(1, MailOutcome::Bounced { permanent: true }).expect("a change");
    let report = DeliveryReport { read: read.clone(), invitation: bounced.clone(), event: None };
    store.record_delivery(&report).await.expect("recorded");
    assert_eq!(conflict(store.record_delivery(&report).await), Conflict::Stale, "a report is recorded once");

    // Then each of them conflicts, and the refusal stands
    let revoked = Withdrawal {
        invitation: read.clone().revoked(None, now),
        event: event(&account.id, AuditAction::InvitationRevoked, read.id.as_str(), now),
    };
    assert_eq!(conflict(store.withdraw_invitation(&revoked).await), Conflict::TokenSpent);
    let accepted = acceptance_of(&read, &new.member, &person, now);
    assert_eq!(conflict(store.accept_invitation(&accepted).await), Conflict::TokenSpent);
    let token = OneTimeToken { hash: token_hash(), ..new.token.clone() };
    let renewed = Invitation { token_hash: token.hash.clone(), send_count: 2, ..read.clone() };
    let resend = Resend {
        mail: invitation_mail(&renewed, now),
        invitation: renewed,
        previous_token_hash: read.token_hash.clone(),
        previous_delivery: read.delivery,
        token,
        member: None,
        event: event(&account.id, AuditAction::InvitationResent, read.id.as_str(), now),
        remembered: None,
    };
    assert_eq!(conflict(store.resend_invitation(&resend).await), Conflict::TokenSpent);
    assert_eq!(store.invitation(&account.id, &read.id).await.unwrap(), Some(bounced));
}

pub(crate) async fn an_acceptance_or_resend_based_on_a_stale_membership_fails_and_writes_nothing(
    store: Arc<dyn Store>,
) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (person, new) = invite_new(store.as_ref(), &account, "regranted", now).await;
    // The waiting membership gets another grant after the link's redemption read it.
    let regranted = new.member.clone().regranted(accountant());
    let update = MemberUpdate {
        member: regranted.clone(),
        event: event(&account.id, AuditAction::MemberRolesChanged, person.id.as_str(), now),
        roles: None,
    };
    store.update_member(&update).await.expect("regranted");
    let before = seen(store.as_ref(), &account.id, &[&person.id]).await;

    let accepted = acceptance(&new, &person, now);
    assert_eq!(conflict(store.accept_invitation(&accepted).await), Conflict::Stale);
    assert!(store.refresh_session(&session_of(&accepted).family_id).await.unwrap().is_none(), "no session");

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
        previous_delivery: Delivery::Sent,
        token: token.clone(),
        member: Some(new.member.clone().pending_until(token.expires_at)),
        event: event(&account.id, AuditAction::InvitationResent, renewed.id.as_str(), later),
        mail: invitation_mail(&renewed, later),
        remembered: None,
    };
    assert_eq!(conflict(store.resend_invitation(&resend).await), Conflict::Stale);
    assert!(store.redemption(&token.hash, None).await.unwrap().is_none(), "the new link was not written");
    let old = store.redemption(&new.token.hash, None).await.unwrap().expect("the old link still works");
    assert_eq!(old.invitation, new.invitation);
    assert_eq!(seen(store.as_ref(), &account.id, &[&person.id]).await, before, "nothing was written");

    let waiting = regranted.pending_until(token.expires_at);
    let resend = Resend { member: Some(waiting.clone()), ..resend };
    store.resend_invitation(&resend).await.expect("resent on the membership as stored");
    let accepted = acceptance_of(&renewed, &waiting, &person, later);
    store.accept_invitation(&accepted).await.expect("accepted on the membership as stored");
    assert_eq!(store.member(&account.id, &person.id).await.unwrap(), Some(accepted.member));
}

pub(crate) async fn an_acceptance_based_on_a_stale_user_fails_and_writes_nothing(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (person, new) = invite_new(store.as_ref(), &account, "hurried", now).await;
    let accepted = acceptance(&new, &person, now);
    // Between the link's redemption and its acceptance, the person set a password elsewhere.
    let change = PasswordChange {
        user: person.clone().with_password("$argon2id$meanwhile".into()),
        spent_links: vec![],
        kept_session: None,
    };
    store.change_password(&change).await.expect("changed");
    let before = seen(store.as_ref(), &account.id, &[&person.id]).await;

    assert_eq!(conflict(store.accept_invitation(&accepted).await), Conflict::Stale);
    assert_eq!(seen(store.as_ref(), &account.id, &[&person.id]).await, before, "nothing was written");
    assert!(store.refresh_session(&session_of(&accepted).family_id).await.unwrap().is_none(), "no session");
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

/// A lapsed membership that went meanwhile (the cleanup) cannot be "replaced": the user's count
/// moved on with it, so the new invitation must count anew, from a fresh read.
pub(crate) async fn superseding_a_membership_that_went_meanwhile_fails(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let elsewhere = found_account(store.as_ref(), now).await;
    let (person, old) = invite_new(store.as_ref(), &account, "gone", now - Duration::hours(100)).await;
    let other =
        invitation(&elsewhere.account, &person.email, existing(store.as_ref(), &person.id).await, now);
    store.create_invitation(&other).await.expect("a membership elsewhere");
    let renewal_read = reinvited(store.as_ref(), &person.id).await;
    let lapsed = store.member(&account.id, &person.id).await.unwrap().expect("the lapsed membership");
    let expiry = removal_of(store.as_ref(), &lapsed, Some(old.invitation.clone().expired()), now).await;
    store.remove_member(&expiry).await.expect("the cleanup removes it");

    let mut renewal = invitation(&account, &person.email, renewal_read, now);
    renewal.supersedes = Some(old.invitation.id.clone());
    assert_eq!(conflict(store.create_invitation(&renewal).await), Conflict::AlreadyMember);
    assert_eq!(stored_user(store.as_ref(), &person.id).await.memberships, Some(1));
    let fresh = invitation(&account, &person.email, existing(store.as_ref(), &person.id).await, now);
    store.create_invitation(&fresh).await.expect("invited anew, counted");
    assert_eq!(stored_user(store.as_ref(), &person.id).await.memberships, Some(2));
}

pub(crate) async fn an_answer_is_remembered_with_its_invitation_or_resend_once(store: Arc<dyn Store>) {
    use shared::ports::Remembered;
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let remembered = |key: &str, at: DateTime<Utc>| Remembered {
        key_hash: format!("{key}-{}", uuid::Uuid::now_v7()),
        fingerprint: "asked".into(),
        status: 201,
        body: "{\"id\":\"first\"}".into(),
        request: format!("request-{key}"),
        created_at: at,
        expires_at: at + Duration::hours(24),
        held_until: None,
    };
    // Given an invitation written with the answer to its request
    let first_answer = remembered("key", now);
    let address = unique_email("once");
    let mut first = invitation(&account, &address, InviteeUser::New(user(&address, now)), now);
    first.remembered = Some(first_answer.clone());
    store.create_invitation(&first).await.expect("written with its answer");
    assert_eq!(store.remembered(&first_answer.key_hash).await.unwrap(), Some(first_answer.clone()));

    // When another invitation comes with the same key, it is a repeat and writes nothing
    let other = unique_email("twin");
    let mut twin = invitation(&account, &other, InviteeUser::New(user(&other, now)), now);
    twin.remembered = Some(Remembered { body: "{}".into(), ..first_answer.clone() });
    assert_eq!(conflict(store.create_invitation(&twin).await), Conflict::Repeated);
    assert!(store.invitation(&account.id, &twin.invitation.id).await.unwrap().is_none());
    assert_eq!(store.remembered(&first_answer.key_hash).await.unwrap(), Some(first_answer.clone()));

    // But once the answer is forgotten (a day on), the key may be used again
    let later = now + Duration::hours(25);
    let mut after_a_day = invitation(&account, &other, InviteeUser::New(user(&other, later)), later);
    after_a_day.remembered = Some(Remembered {
        created_at: later,
        expires_at: later + Duration::hours(24),
        ..first_answer.clone()
    });
    store.create_invitation(&after_a_day).await.expect("a forgotten key is free");
    assert_eq!(store.remembered(&first_answer.key_hash).await.unwrap(), after_a_day.remembered);

    // And a resend keeps its answer, unless the key's answer is there
    let read = store.invitation(&account.id, &first.invitation.id).await.unwrap().expect("the first");
    let token = OneTimeToken { hash: token_hash(), ..first.token.clone() };
    let renewed = Invitation { token_hash: token.hash.clone(), send_count: 2, ..read.clone() };
    let mut resend = Resend {
        mail: invitation_mail(&renewed, now),
        invitation: renewed,
        previous_token_hash: read.token_hash.clone(),
        previous_delivery: read.delivery,
        token: token.clone(),
        member: None,
        event: event(&account.id, AuditAction::InvitationResent, read.id.as_str(), now),
        remembered: None,
    };
    let taken = remembered("resend-taken", now);
    store
        .create_invitation(&{
            let address = unique_email("resend-key");
            let mut other = invitation(&account, &address, InviteeUser::New(user(&address, now)), now);
            other.remembered = Some(taken.clone());
            other
        })
        .await
        .expect("another request's answer");
    resend.remembered = Some(taken.clone());
    assert_eq!(conflict(store.resend_invitation(&resend).await), Conflict::Repeated);
    let answer = remembered("resend", now);
    resend.remembered = Some(answer.clone());
    store.resend_invitation(&resend).await.expect("resent with its answer");
    assert_eq!(store.remembered(&answer.key_hash).await.unwrap(), Some(answer.clone()));
    assert!(store.redemption(&token.hash, None).await.unwrap().is_some(), "the resend was written");
}

pub(crate) async fn a_request_under_way_holds_its_key_until_it_answers_or_another_takes_over(
    store: Arc<dyn Store>,
) {
    use shared::ports::Remembered;
    // Given a bulk request that took its key, under way
    let now = now();
    let under_way = |request: &str| Remembered {
        key_hash: "bulk-key".to_owned() + &uuid::Uuid::now_v7().to_string(),
        fingerprint: "asked".into(),
        status: Remembered::UNDER_WAY,
        body: String::new(),
        request: request.into(),
        created_at: now,
        expires_at: now + Duration::hours(24),
        held_until: Some(now + Duration::seconds(20)),
    };
    let first = under_way("request-first");
    store.remember(&first).await.expect("taken");
    assert_eq!(store.remembered(&first.key_hash).await.unwrap(), Some(first.clone()));

    // When a twin tries to take it, it is a repeat and the first stays
    let twin = Remembered { request: "request-twin".into(), ..first.clone() };
    assert_eq!(conflict(store.remember(&twin).await), Conflict::Repeated);

    // And only the request that holds it replaces it: another's replacement is stale
    let answer =
        Remembered { status: 200, body: "{\"created\":1}".into(), held_until: None, ..first.clone() };
    assert_eq!(conflict(store.replace_under_way(&answer, "request-twin").await), Conflict::Stale);
    assert_eq!(store.remembered(&first.key_hash).await.unwrap(), Some(first.clone()));

    // A retry takes over from the first, and then the first's answer is stale
    store.replace_under_way(&twin, "request-first").await.expect("taken over");
    assert_eq!(conflict(store.replace_under_way(&answer, "request-first").await), Conflict::Stale);

    // The retry answers; an answer is never replaced
    let retry_answer =
        Remembered { status: 200, body: "{\"created\":1}".into(), held_until: None, ..twin.clone() };
    store.replace_under_way(&retry_answer, "request-twin").await.expect("answered");
    assert_eq!(store.remembered(&first.key_hash).await.unwrap(), Some(retry_answer.clone()));
    assert_eq!(conflict(store.replace_under_way(&twin, "request-twin").await), Conflict::Stale);

    // But a day on, the key is free again
    let later = now + Duration::hours(25);
    let again = Remembered { created_at: later, expires_at: later + Duration::hours(24), ..first };
    store.remember(&again).await.expect("a forgotten key is free");
}

pub(crate) async fn a_renewal_request_is_written_once_and_survives_an_expiry_read_before_it(
    store: Arc<dyn Store>,
) {
    // Given an invitation whose link lapsed, as the cleanup read it before the invitee asked
    let now = now();
    let (_, _, account) = active_account(store.as_ref(), now).await;
    let (_, new) = invite_new(store.as_ref(), &account, "renew", now).await;
    let lapsed = new.invitation.expires_at;
    let read_by_the_cleanup = new.invitation.clone();

    // When the invitee asks for a new link, twice
    let asked = new.invitation.renewal_asked(lapsed).expect("renewable");
    let request = |invitation: &Invitation| RenewalRequest {
        invitation: invitation.clone(),
        event: event(&account.id, AuditAction::InvitationRenewalRequested, invitation.id.as_str(), lapsed),
        mails: Vec::new(),
    };
    store.request_renewal(&request(&asked)).await.expect("the first request is written");
    assert_eq!(conflict(store.request_renewal(&request(&asked)).await), Conflict::Stale);

    // Then the cleanup's expiry, read before, does not undo it; read after, it keeps it
    let expiry = |invitation: Invitation| Withdrawal {
        event: event(&account.id, AuditAction::InvitationExpired, invitation.id.as_str(), lapsed),
        invitation: invitation.expired(),
    };
    assert!(store.withdraw_invitation(&expiry(read_by_the_cleanup)).await.is_err());
    let stored = store.invitation(&account.id, &new.invitation.id).await.unwrap().expect("the invitation");
    assert_eq!(stored.renewal_requested_at, Some(lapsed));
    store.withdraw_invitation(&expiry(stored)).await.expect("the expiry as read now");
    let expired = store.invitation(&account.id, &new.invitation.id).await.unwrap().expect("the invitation");
    assert_eq!((expired.status, expired.renewal_requested_at), (InvitationStatus::Expired, Some(lapsed)));
}
