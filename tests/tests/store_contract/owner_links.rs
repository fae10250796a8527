//! Owner links and ownership: one live owner link per account, recoveries, cancellations and
//! transfers.

use std::sync::Arc;

use futures::future::join_all;
use shared::ports::{AccountSummary, Withdrawal};

use super::*;

/// A new account whose owner accepted their link: as founded, the acceptance, the account then.
async fn owner_active(store: &dyn Store, now: DateTime<Utc>) -> (Founded, Acceptance, Account) {
    let founded = found_account(store, now).await;
    let owner_accepted = owner_acceptance(&founded, now);
    store.accept_invitation(&owner_accepted).await.expect("the owner is active");
    let active = owner_accepted.account.clone().expect("the account as the owner left it");
    (founded, owner_accepted, active)
}

pub(crate) async fn ownership_passes_once(store: Arc<dyn Store>) {
    let now = now();
    let (founded, owner_accepted, active) = owner_active(store.as_ref(), now).await;
    let Founded { account, owner, .. } = &founded;
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

pub(crate) async fn an_owner_recovery_acceptance_passes_the_account(store: Arc<dyn Store>) {
    let now = now();
    let (founded, owner_accepted, active) = owner_active(store.as_ref(), now).await;
    let Founded { account, owner, .. } = &founded;
    let recovery = owner_link(&active, "rescuer", now);
    let started = owner_link_change(&active, recovery.clone());
    store.change_owner_link(&started).await.expect("the recovery link is out");
    let InviteeUser::New(rescuer) = &recovery.user else { unreachable!("a new person") };

    let redemption = store.redemption(&recovery.token.hash, None).await.unwrap().expect("the link works");
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

pub(crate) async fn of_two_owner_link_changes_from_one_account_version_exactly_one_wins(
    store: Arc<dyn Store>,
) {
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
    assert!(store.redemption(&lost_link.token.hash, None).await.unwrap().is_none());
    assert!(store.login_by_email(&lost_link.invitation.email).await.unwrap().is_none(), "no claim is left");
    assert!(store.user(&lost_link.member.user_id).await.unwrap().is_none());
}

pub(crate) async fn an_owner_link_change_cancelling_a_link_used_meanwhile_writes_nothing(
    store: Arc<dyn Store>,
) {
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
    assert!(store.redemption(&next.token.hash, None).await.unwrap().is_none(), "no new token");
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
    assert!(store.redemption(&next.token.hash, None).await.unwrap().is_none(), "no new token");
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
pub(crate) async fn dropping_an_owner_link_candidate_frees_their_email(store: Arc<dyn Store>) {
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
    let dead =
        store.redemption(&first.token.hash, None).await.unwrap().expect("the dead link still says why");
    assert_eq!((dead.invitation.status, dead.user, dead.member), (InvitationStatus::Revoked, None, None));
    let redemption = store.redemption(&second.token.hash, None).await.unwrap().expect("the new link works");
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

/// A transfer by the owner does not cancel a recovery the operator started: the owner link stays
/// live (only `owner_version` moves), and its acceptance passes the account on from the new owner.
pub(crate) async fn a_transfer_keeps_a_pending_owner_link(store: Arc<dyn Store>) {
    let now = now();
    let (_, owner_accepted, active) = active_account(store.as_ref(), now).await;
    let heir = active_member(store.as_ref(), &active, "heir", now).await;
    let recovery = owner_link(&active, "rescuer", now);
    let started = owner_link_change(&active, recovery.clone());
    store.change_owner_link(&started).await.expect("the recovery link is out");

    // A transfer based on the account as it was before the recovery: refused.
    let stale = transfer(&active, &owner_accepted.member, &heir.member, now);
    let before = seen(store.as_ref(), &active.id, &[]).await;
    assert_eq!(conflict(store.transfer_ownership(&stale).await), Conflict::Stale);
    assert_eq!(seen(store.as_ref(), &active.id, &[]).await, before, "nothing was written");

    let handover = transfer(&started.account, &owner_accepted.member, &heir.member, now);
    store.transfer_ownership(&handover).await.expect("handed over");
    let stored = store.account(&active.id).await.unwrap().expect("the account");
    assert_eq!(stored, handover.account);
    assert_eq!(stored.owner_id, heir.user.id);
    assert_eq!(stored.owner_link, started.account.owner_link, "the recovery stays live");
    assert!(stored.owner_link_is(&recovery.invitation.id));
    assert_eq!(stored.owner_version, started.account.owner_version + 1);
    assert_eq!(stored.version, active.version, "the settings' version is not the owner's");

    // The recovery link still works: its acceptance passes the account on from the new owner.
    let redemption = store.redemption(&recovery.token.hash, None).await.unwrap().expect("the link works");
    assert_eq!(redemption.account, stored);
    let InviteeUser::New(rescuer) = &recovery.user else { unreachable!("a new person") };
    let mut accepted = acceptance(&recovery, rescuer, now);
    accepted.account = Some(redemption.account.clone().owned_by(rescuer.id.clone()));
    let former = handover.successor.clone();
    accepted.former_owner = Some(Member { is_owner: false, version: former.version + 1, ..former });
    store.accept_invitation(&accepted).await.expect("the rescuer owns the account");
    let stored = store.account(&active.id).await.unwrap().expect("the account");
    assert_eq!((&stored.owner_id, &stored.owner_link), (&rescuer.id, &None));
    assert_eq!(store.member(&active.id, &heir.user.id).await.unwrap(), accepted.former_owner);
}

/// An owner who never activated gets a fresh link that replaces their membership, whatever
/// became of its old link: live (the same change revokes it) or revoked already (left as it is;
/// only the membership's condition guards the replacement).
pub(crate) async fn a_never_activated_owner_gets_a_new_link_whatever_became_of_the_old_one(
    store: Arc<dyn Store>,
) {
    let now = now();
    let Founded { account, owner, activation } = found_account(store.as_ref(), now).await;

    // The activation link is live: the recovery revokes it and replaces the membership.
    let mut first = owner_link_to(&account, &owner.email, reinvited(store.as_ref(), &owner.id).await, now);
    first.supersedes = Some(activation.invitation.id.clone());
    let recovery = replacing_owner_link(&account, &activation, None, Some(first.clone()), now);
    store.change_owner_link(&recovery).await.expect("a fresh link replaces the live one");
    let old = store.invitation(&account.id, &activation.invitation.id).await.unwrap();
    assert_eq!(old, recovery.cancelled);
    assert_eq!(old.map(|i| i.status), Some(InvitationStatus::Revoked));
    assert_eq!(store.member(&account.id, &owner.id).await.unwrap(), Some(first.member.clone()));
    let stored = stored_user(store.as_ref(), &owner.id).await;
    assert_eq!((stored.version, stored.memberships), (owner.version + 1, Some(1)), "the same membership");

    // The operator cancels that link: none is left, the owner's membership waits on a revoked one.
    let cancel = replacing_owner_link(&recovery.account, &first, None, None, now);
    store.change_owner_link(&cancel).await.expect("cancelled");
    assert_eq!(store.account(&account.id).await.unwrap().and_then(|a| a.owner_link), None);

    // A new recovery to the owner replaces the membership and leaves the revoked link as it is.
    let mut second =
        owner_link_to(&cancel.account, &owner.email, reinvited(store.as_ref(), &owner.id).await, now);
    second.supersedes = Some(first.invitation.id.clone());
    let rerecovery = owner_link_change(&cancel.account, second.clone());
    store.change_owner_link(&rerecovery).await.expect("the revoked link is superseded, untouched");
    assert_eq!(store.invitation(&account.id, &first.invitation.id).await.unwrap(), cancel.cancelled);
    let stored_account = store.account(&account.id).await.unwrap().expect("the account");
    assert_eq!(stored_account, rerecovery.account);
    assert!(stored_account.owner_link_is(&second.invitation.id));
    assert_eq!(store.member(&account.id, &owner.id).await.unwrap(), Some(second.member.clone()));
    let stored = stored_user(store.as_ref(), &owner.id).await;
    assert_eq!((stored.version, stored.memberships), (owner.version + 2, Some(1)));

    // Superseding a membership that moved on is refused by the membership's condition.
    let mut third =
        owner_link_to(&rerecovery.account, &owner.email, reinvited(store.as_ref(), &owner.id).await, now);
    third.supersedes = Some(first.invitation.id.clone());
    let before = seen(store.as_ref(), &account.id, &[&owner.id]).await;
    let late = owner_link_change(&rerecovery.account, third.clone());
    assert_eq!(conflict(store.change_owner_link(&late).await), Conflict::AlreadyMember);
    assert_eq!(seen(store.as_ref(), &account.id, &[&owner.id]).await, before, "nothing was written");
    assert!(store.redemption(&third.token.hash, None).await.unwrap().is_none());

    // The old links are dead; the new one makes the owner active.
    let mut dead = acceptance(&first, &stored, now);
    dead.account = Some(rerecovery.account.clone().owned_by(owner.id.clone()));
    assert_eq!(conflict(store.accept_invitation(&dead).await), Conflict::TokenSpent);
    let mut accepted = acceptance(&second, &stored, now);
    accepted.account = Some(rerecovery.account.clone().owned_by(owner.id.clone()));
    store.accept_invitation(&accepted).await.expect("the owner is active");
    let stored_account = store.account(&account.id).await.unwrap().expect("the account");
    assert_eq!((&stored_account.owner_id, &stored_account.owner_link), (&owner.id, &None));
    assert_eq!(store.member(&account.id, &owner.id).await.unwrap(), Some(accepted.member));
}
