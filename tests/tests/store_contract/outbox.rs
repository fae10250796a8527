//! The mail outbox: a link's mail is written in the same write as the change it tells of, waits
//! there until due, and leaves it only at the version that was read: settled (with what its
//! invitation records of it, in the same write) or postponed.

use std::sync::Arc;

use shared::domain::MailOutcome;
use shared::ports::{DeliveryReport, Remembered, Resend};

use super::*;

/// A new person invited into `account`, written as the service writes an invitation: its mail
/// waits in the outbox, so its delivery is `pending`.
async fn invite_pending(
    store: &dyn Store,
    account: &Account,
    name: &str,
    now: DateTime<Utc>,
) -> NewInvitation {
    let address = unique_email(name);
    let mut new = invitation(account, &address, InviteeUser::New(user(&address, now)), now);
    new.invitation.delivery = Delivery::Pending;
    store.create_invitation(&new).await.expect("the invitation is written");
    new
}

/// A new link for `read` (the invitation as read) at `at`, its mail replacing the previous one.
fn resend_of(read: &Invitation, token: &OneTimeToken, at: DateTime<Utc>) -> Resend {
    let token = OneTimeToken { hash: token_hash(), expires_at: at + Duration::hours(72), ..token.clone() };
    let renewed = Invitation {
        token_hash: token.hash.clone(),
        expires_at: token.expires_at,
        send_count: read.send_count + 1,
        last_sent_at: at,
        delivery: Delivery::Pending,
        ..read.clone()
    };
    let mut mail = invitation_mail(&renewed, at);
    mail.letter.values.push(("inviter".into(), "Olena".into()));
    Resend {
        event: event(&read.account_id, AuditAction::InvitationResent, read.id.as_str(), at),
        mail,
        invitation: renewed,
        previous_token_hash: read.token_hash.clone(),
        previous_delivery: read.delivery,
        token,
        member: None,
        remembered: None,
    }
}

/// The stored invitation of `new`.
async fn stored_invitation(store: &dyn Store, new: &NewInvitation) -> Invitation {
    let invitation = &new.invitation;
    store.invitation(&invitation.account_id, &invitation.id).await.expect("a read").expect("stored")
}

/// What the outbox records of `read`'s mail of link `token_hash` once handed to SES.
fn sent_report(read: &Invitation, token_hash: &str) -> DeliveryReport {
    let invitation = read.handed_over(token_hash, Delivery::Sent).expect("its mail is pending");
    DeliveryReport { read: read.clone(), invitation, event: None }
}

/// Every mail of the outbox, due or not, by key.
async fn whole_outbox(store: &dyn Store, now: DateTime<Utc>) -> Vec<PendingMail> {
    let mut mails = store.due_mail(now + Duration::days(3650), 1000).await.expect("the outbox");
    mails.sort_by(|a, b| a.key.cmp(&b.key));
    mails
}

/// The keys of the mails due at `at`, sorted.
async fn due_keys(store: &dyn Store, at: DateTime<Utc>) -> Vec<String> {
    let mut keys: Vec<_> =
        store.due_mail(at, 1000).await.expect("due mail").into_iter().map(|m| m.key).collect();
    keys.sort();
    keys
}

fn sorted(mut keys: Vec<String>) -> Vec<String> {
    keys.sort();
    keys
}

pub(crate) async fn an_invitations_mail_waits_in_the_outbox_until_it_is_due(store: Arc<dyn Store>) {
    // Given an account, whose owner's activation mail is due at once, and an invitation whose
    // mail is left two minutes to the stream first
    let now = now();
    let founded = found_account(store.as_ref(), now).await;
    let address = unique_email("outboxed");
    let mut new = invitation(&founded.account, &address, InviteeUser::New(user(&address, now)), now);
    new.invitation.delivery = Delivery::Pending;
    new.mail.due_at = now + Duration::minutes(2);
    store.create_invitation(&new).await.expect("written");

    // When the outbox is read by key, and swept before and once the mail is due
    let by_key = store.pending_mail(&new.mail.key).await.unwrap();
    let activation = store.pending_mail(&founded.activation.mail.key).await.unwrap();
    let due_now = due_keys(store.as_ref(), now).await;
    let due_before = due_keys(store.as_ref(), new.mail.due_at - Duration::milliseconds(1)).await;
    let due_then = due_keys(store.as_ref(), new.mail.due_at).await;
    let one = store.due_mail(new.mail.due_at, 1).await.unwrap();

    // Then each mail is there as written, listed only once it is due, and a sweep takes no more
    // than it asked for
    assert_eq!(by_key, Some(new.mail.clone()));
    assert_eq!(activation, Some(founded.activation.mail.clone()), "an account's first mail is its owner's");
    assert_eq!(due_now, vec![founded.activation.mail.key.clone()]);
    assert_eq!(due_before, due_now, "not before its due time");
    assert_eq!(due_then, sorted(vec![founded.activation.mail.key.clone(), new.mail.key.clone()]));
    assert_eq!(one.len(), 1);
    assert!(store.pending_mail("INVITATION#nothing").await.unwrap().is_none());
}

pub(crate) async fn a_resends_mail_replaces_the_one_not_sent_yet(store: Arc<dyn Store>) {
    // Given an invitation whose mail was not sent yet
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let new = invite_pending(store.as_ref(), &account, "resent-unsent", now).await;

    // When it is resent with a new link
    let later = now + Duration::minutes(5);
    let resend = resend_of(&new.invitation, &new.token, later);
    store.resend_invitation(&resend).await.expect("resent");

    // Then the outbox holds the new link's mail under the same key, in place of the first
    assert_eq!(resend.mail.key, new.mail.key);
    let stored = store.pending_mail(&new.mail.key).await.unwrap().expect("a mail waits");
    assert_eq!(stored, resend.mail);
    assert_ne!(stored.version, new.mail.version);
    assert_eq!(
        stored.invitation.as_ref().map(|link| link.token_hash.as_str()),
        Some(resend.token.hash.as_str())
    );
    let outbox = whole_outbox(store.as_ref(), now).await;
    assert_eq!(outbox.iter().filter(|m| m.key == new.mail.key).collect::<Vec<_>>(), vec![&resend.mail]);
}

pub(crate) async fn settling_a_mail_takes_it_out_and_records_its_delivery_in_one_write(
    store: Arc<dyn Store>,
) {
    // Given an invitation whose mail the outbox read, and sent
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let new = invite_pending(store.as_ref(), &account, "settled", now).await;
    let mail = store.pending_mail(&new.mail.key).await.unwrap().expect("a mail waits");
    let read = stored_invitation(store.as_ref(), &new).await;

    // When it settles the mail with the invitation's delivery
    let report = sent_report(&read, &new.token.hash);
    store.settle_mail(&mail, Some(&report)).await.expect("settled");

    // Then the mail is out of the outbox, and the invitation shows it sent
    assert!(store.pending_mail(&mail.key).await.unwrap().is_none());
    assert!(!due_keys(store.as_ref(), now).await.contains(&mail.key));
    let settled = stored_invitation(store.as_ref(), &new).await;
    assert_eq!(settled.delivery, Delivery::Sent);
    assert_eq!(settled, report.invitation);

    // And a second settle of it (a send repeated) finds nothing to settle, and changes nothing
    assert_eq!(conflict(store.settle_mail(&mail, None).await), Conflict::Stale);
    assert_eq!(
        conflict(store.settle_mail(&mail, Some(&sent_report(&read, &new.token.hash))).await),
        Conflict::Stale
    );
    assert_eq!(stored_invitation(store.as_ref(), &new).await, settled);
}

pub(crate) async fn settling_a_mail_replaced_since_fails_and_changes_nothing(store: Arc<dyn Store>) {
    // Given an invitation whose mail the outbox read, then resent before that send settled
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let new = invite_pending(store.as_ref(), &account, "replaced", now).await;
    let first = store.pending_mail(&new.mail.key).await.unwrap().expect("a mail waits");
    let resend = resend_of(&new.invitation, &new.token, now + Duration::minutes(1));
    store.resend_invitation(&resend).await.expect("resent");
    let read = stored_invitation(store.as_ref(), &new).await;

    // When the first send settles its mail, with a report that would hold on its own, or none
    let report = sent_report(&read, &resend.token.hash);
    let with_report = store.settle_mail(&first, Some(&report)).await;
    let without = store.settle_mail(&first, None).await;

    // Then both are stale, and the new link's mail and the invitation stay as the resend wrote them
    assert_eq!(conflict(with_report), Conflict::Stale);
    assert_eq!(conflict(without), Conflict::Stale);
    assert_eq!(store.pending_mail(&new.mail.key).await.unwrap(), Some(resend.mail.clone()));
    assert_eq!(stored_invitation(store.as_ref(), &new).await, read);
    assert_eq!(read.delivery, Delivery::Pending);

    // And the new mail settles on its own
    store.settle_mail(&resend.mail, Some(&sent_report(&read, &resend.token.hash))).await.expect("settled");
    assert!(store.pending_mail(&new.mail.key).await.unwrap().is_none());
}

pub(crate) async fn settling_with_a_stale_report_leaves_the_mail_in_the_outbox(store: Arc<dyn Store>) {
    // Given an invitation whose mail the outbox read and handed to SES, with the invitation read
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let new = invite_pending(store.as_ref(), &account, "quick-report", now).await;
    let mail = store.pending_mail(&new.mail.key).await.unwrap().expect("a mail waits");
    let read = stored_invitation(store.as_ref(), &new).await;

    // When SES's delivery report is recorded before the outbox settles on what it read
    let delivered = read.reported(1, MailOutcome::Delivered).expect("a change");
    store
        .record_delivery(&DeliveryReport { read: read.clone(), invitation: delivered.clone(), event: None })
        .await
        .expect("recorded");
    let stale = store.settle_mail(&mail, Some(&sent_report(&read, &new.token.hash))).await;

    // Then the settle is stale: the mail stays in the outbox, and SES's word stands
    assert_eq!(conflict(stale), Conflict::Stale);
    assert_eq!(store.pending_mail(&mail.key).await.unwrap(), Some(mail.clone()));
    assert_eq!(stored_invitation(store.as_ref(), &new).await, delivered);

    // And read again, the invitation has nothing more to record: the mail settles alone
    let again = stored_invitation(store.as_ref(), &new).await;
    assert_eq!(again.handed_over(&new.token.hash, Delivery::Sent), None);
    store.settle_mail(&mail, None).await.expect("settled");
    assert!(store.pending_mail(&mail.key).await.unwrap().is_none());
    assert_eq!(stored_invitation(store.as_ref(), &new).await, delivered);
}

pub(crate) async fn postponing_a_mail_needs_the_version_it_read(store: Arc<dyn Store>) {
    // Given an invitation whose mail's first send failed
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let new = invite_pending(store.as_ref(), &account, "postponed", now).await;
    let read = store.pending_mail(&new.mail.key).await.unwrap().expect("a mail waits");

    // When it is postponed a minute
    let postponed = PendingMail { attempts: 1, due_at: now + Duration::minutes(1), ..read.clone() };
    store.claim_mail(&postponed.version, &postponed).await.expect("postponed");

    // Then it waits with its attempt counted, due only a minute on
    assert_eq!(store.pending_mail(&new.mail.key).await.unwrap(), Some(postponed.clone()));
    assert!(!due_keys(store.as_ref(), now).await.contains(&new.mail.key));
    assert!(due_keys(store.as_ref(), postponed.due_at).await.contains(&new.mail.key));

    // And once a resend replaced it, a postpone of it is stale and writes nothing
    let resend = resend_of(&new.invitation, &new.token, now);
    store.resend_invitation(&resend).await.expect("resent");
    let again = PendingMail { attempts: 2, due_at: now + Duration::minutes(3), ..postponed.clone() };
    assert_eq!(conflict(store.claim_mail(&again.version, &again).await), Conflict::Stale);
    assert_eq!(store.pending_mail(&new.mail.key).await.unwrap(), Some(resend.mail.clone()));

    // And once settled, a late postpone does not bring it back
    let read = stored_invitation(store.as_ref(), &new).await;
    store.settle_mail(&resend.mail, Some(&sent_report(&read, &resend.token.hash))).await.expect("settled");
    let late = PendingMail { attempts: 1, due_at: now + Duration::minutes(1), ..resend.mail.clone() };
    assert_eq!(conflict(store.claim_mail(&late.version, &late).await), Conflict::Stale);
    assert!(store.pending_mail(&new.mail.key).await.unwrap().is_none());
}

pub(crate) async fn a_password_resets_mail_is_written_with_its_token(store: Arc<dyn Store>) {
    // Given an active member
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let member = active_member(store.as_ref(), &account, "reset-mailed", now).await.user;

    // When a reset link is issued, and another on the user as they were read before it
    let token = reset_token(&member, now);
    let mail = reset_mail(&member, &token, now);
    store.issue_password_reset(&with_reset_link(&member, &token, now), &token, &mail).await.expect("issued");
    let stale_token = reset_token(&member, now);
    let stale_mail = reset_mail(&member, &stale_token, now);
    let stale = store
        .issue_password_reset(&with_reset_link(&member, &stale_token, now), &stale_token, &stale_mail)
        .await;

    // Then the link's mail waits with its token, due, and the stale one left neither behind
    assert_eq!(store.pending_mail(&mail.key).await.unwrap(), Some(mail.clone()));
    assert!(due_keys(store.as_ref(), now).await.contains(&mail.key));
    assert!(store.password_reset(&token.hash, None).await.unwrap().is_some());
    assert_eq!(conflict(stale), Conflict::Stale);
    assert!(store.pending_mail(&stale_mail.key).await.unwrap().is_none());
    assert!(store.password_reset(&stale_token.hash, None).await.unwrap().is_none());

    // And its mail settles with no invitation to record anything of
    store.settle_mail(&mail, None).await.expect("settled");
    assert!(store.pending_mail(&mail.key).await.unwrap().is_none());
}

pub(crate) async fn no_mail_is_left_by_a_write_that_failed(store: Arc<dyn Store>) {
    // Given an account with a member, a person invited elsewhere, and an answer remembered
    let now = now();
    let home = found_account(store.as_ref(), now).await.account;
    let elsewhere = found_account(store.as_ref(), now).await;
    let (person, held) = invite_new(store.as_ref(), &elsewhere.account, "taken", now).await;
    let answer = Remembered {
        key_hash: format!("outbox-{}", uuid::Uuid::now_v7()),
        fingerprint: "asked".into(),
        status: 201,
        body: "{}".into(),
        request: "the first request".into(),
        created_at: now,
        expires_at: now + Duration::hours(24),
        held_until: None,
    };
    let address = unique_email("answered");
    let mut answered = invitation(&home, &address, InviteeUser::New(user(&address, now)), now);
    answered.remembered = Some(answer.clone());
    store.create_invitation(&answered).await.expect("written with its answer");
    let before = whole_outbox(store.as_ref(), now).await;

    // When invitations that conflict are written
    let email_taken = invitation(&home, &person.email, InviteeUser::New(user(&person.email, now)), now);
    let already_member =
        invitation(&elsewhere.account, &person.email, existing(store.as_ref(), &person.id).await, now);
    let address = unique_email("repeated");
    let mut repeated = invitation(&home, &address, InviteeUser::New(user(&address, now)), now);
    repeated.remembered = Some(answer);
    let address = unique_email("nowhere");
    let nowhere = invitation(&account(now), &address, InviteeUser::New(user(&address, now)), now);
    let mut outcomes = Vec::new();
    for new in [&email_taken, &already_member, &repeated, &nowhere] {
        outcomes.push((
            conflict(store.create_invitation(new).await),
            store.pending_mail(&new.mail.key).await.unwrap(),
        ));
    }
    // And a resend of a link replaced already
    let stale_resend = resend_of(&held.invitation, &held.token, now);
    store.resend_invitation(&stale_resend).await.expect("resent once");
    let after_resend = whole_outbox(store.as_ref(), now).await;
    let twice = resend_of(&held.invitation, &held.token, now);
    let resent_twice = conflict(store.resend_invitation(&twice).await);

    // Then each failed, and no mail went into the outbox without its record
    let expected = [Conflict::EmailTaken, Conflict::AlreadyMember, Conflict::Repeated, Conflict::Stale];
    assert_eq!(outcomes, expected.into_iter().map(|c| (c, None)).collect::<Vec<_>>());
    let with_resend: Vec<_> = {
        let mut mails = before.clone();
        mails.retain(|m| m.key != stale_resend.mail.key);
        mails.push(stale_resend.mail.clone());
        mails.sort_by(|a, b| a.key.cmp(&b.key));
        mails
    };
    assert_eq!(after_resend, with_resend, "the resend that was written replaced its mail");
    assert_eq!(resent_twice, Conflict::TokenSpent);
    assert_eq!(
        whole_outbox(store.as_ref(), now).await,
        with_resend,
        "the failed resend left the outbox alone"
    );
}
