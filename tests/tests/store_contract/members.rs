//! Members: updates and removals on the version read, and what a removal frees.

use std::sync::Arc;

use shared::ports::MemberUpdate;

use super::*;

pub(crate) async fn a_member_update_needs_the_version_it_read(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let accepted = active_member(store.as_ref(), &account, "promoted", now).await;
    let promoted = accepted.member.clone().regranted(accountant());
    let update = MemberUpdate {
        member: promoted.clone(),
        event: event(&account.id, AuditAction::MemberRolesChanged, promoted.user_id.as_str(), now),
        roles: None,
    };
    store.update_member(&update).await.expect("the version read is current");
    assert_eq!(store.member(&account.id, &promoted.user_id).await.unwrap(), Some(promoted.clone()));
    let login = store.login_by_id(&promoted.user_id).await.unwrap().expect("the member");
    assert_eq!(login.memberships[0].member, promoted);

    let again = MemberUpdate { event: event(&account.id, AuditAction::MemberBlocked, "x", now), ..update };
    assert_eq!(conflict(store.update_member(&again).await), Conflict::Stale);
    let mut stranger = promoted.clone();
    stranger.user_id = UserId::generate();
    let ghost = MemberUpdate {
        member: stranger,
        event: event(&account.id, AuditAction::MemberBlocked, "x", now),
        roles: None,
    };
    assert_eq!(conflict(store.update_member(&ghost).await), Conflict::Stale);
}

pub(crate) async fn member_writes_based_on_a_stale_version_fail_and_write_nothing(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let accepted = active_member(store.as_ref(), &account, "raced", now).await;
    let read = accepted.member.clone();
    let blocked = MemberUpdate {
        member: read.clone().blocked(now),
        event: event(&account.id, AuditAction::MemberBlocked, read.user_id.as_str(), now),
        roles: None,
    };
    store.update_member(&blocked).await.expect("the first write of the version read");
    let before = seen(store.as_ref(), &account.id, &[&read.user_id]).await;

    let regrant = MemberUpdate {
        member: read.clone().regranted(accountant()),
        event: event(&account.id, AuditAction::MemberRolesChanged, read.user_id.as_str(), now),
        roles: None,
    };
    assert_eq!(conflict(store.update_member(&regrant).await), Conflict::Stale);
    let removal = MemberRemoval {
        member: read.clone(),
        user: UserAfterRemoval::Released(accepted.user.clone()),
        end_invitation: None,
        event: event(&account.id, AuditAction::MemberDeleted, read.user_id.as_str(), now),
        roles: None,
    };
    assert_eq!(conflict(store.remove_member(&removal).await), Conflict::Stale);
    assert_eq!(seen(store.as_ref(), &account.id, &[&read.user_id]).await, before, "nothing was written");
    assert!(store.login_by_email(&read.email).await.unwrap().is_some(), "the login stays");

    let current = MemberRemoval { member: blocked.member.clone(), ..removal };
    store.remove_member(&current).await.expect("the version stored is removed");
    assert!(store.member(&account.id, &read.user_id).await.unwrap().is_none());
}

pub(crate) async fn removing_a_member_frees_their_login_when_it_was_their_last(store: Arc<dyn Store>) {
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
        user: UserAfterRemoval::Released(accepted.user.clone()),
        end_invitation: None,
        event: event(&account.id, AuditAction::MemberDeleted, person.id.as_str(), now),
        roles: None,
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

pub(crate) async fn removing_a_waiting_member_revokes_their_invitation(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (person, new) = invite_new(store.as_ref(), &account, "waiting", now).await;
    // They were invited elsewhere too, so their login stays.
    let elsewhere = found_account(store.as_ref(), now).await;
    let other_membership =
        invitation(&elsewhere.account, &person.email, existing(store.as_ref(), &person.id).await, now);
    store.create_invitation(&other_membership).await.expect("invited elsewhere");
    let revoked = new.invitation.clone().revoked(None, now);
    let removal = removal_of(store.as_ref(), &new.member, Some(revoked.clone()), now).await;
    assert!(matches!(removal.user, UserAfterRemoval::Kept(_)), "not their last membership");
    store.remove_member(&removal).await.expect("removed");
    assert_eq!(store.invitation(&account.id, &revoked.id).await.unwrap(), Some(revoked));
    assert!(store.member(&account.id, &person.id).await.unwrap().is_none());
    let login = store.login_by_id(&person.id).await.unwrap().expect("the login stays");
    assert_eq!(login.user, removal.user.user().clone());
    let accounts: Vec<_> = login.memberships.iter().map(|m| m.account.id.clone()).collect();
    assert_eq!(accounts, vec![elsewhere.account.id.clone()]);
    let lapsed = store.lapsed_invitations(now + Duration::days(30), &PageRequest { limit: 10, after: None });
    let lapsed = lapsed.await.unwrap().items;
    assert!(lapsed.iter().all(|i| i.id != new.invitation.id), "a revoked invitation is not pending");

    // A removal whose invitation was used or ended meanwhile writes nothing.
    let (other, pending) = invite_new(store.as_ref(), &account, "accepting", now).await;
    let expiring = MemberRemoval {
        member: pending.member.clone(),
        user: UserAfterRemoval::Released(other.clone()),
        end_invitation: Some(pending.invitation.clone().expired()),
        event: event(&account.id, AuditAction::InvitationExpired, pending.invitation.id.as_str(), now),
        roles: None,
    };
    let accepted = acceptance(&pending, &other, now);
    store.accept_invitation(&accepted).await.expect("accepted");
    let refused = MemberRemoval {
        member: accepted.member.clone(),
        user: UserAfterRemoval::Released(accepted.user.clone()),
        ..expiring
    };
    assert_eq!(conflict(store.remove_member(&refused).await), Conflict::TokenSpent);
    assert_eq!(store.member(&account.id, &other.id).await.unwrap(), Some(accepted.member));
}

pub(crate) async fn a_removal_based_on_a_stale_user_fails_and_writes_nothing(store: Arc<dyn Store>) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let (person, new) = invite_new(store.as_ref(), &account, "resetting", now).await;
    let removal = MemberRemoval {
        member: new.member.clone(),
        user: UserAfterRemoval::Released(person.clone()),
        end_invitation: Some(new.invitation.clone().revoked(None, now)),
        event: event(&account.id, AuditAction::InvitationRevoked, new.invitation.id.as_str(), now),
        roles: None,
    };
    // Between the read and the removal, the person asked for a password reset.
    let reset = reset_token(&person, now);
    let resetting = with_reset_link(&person, &reset, now);
    store.issue_password_reset(&resetting, &reset, &reset_mail(&person, &reset, now)).await.expect("issued");
    let before = seen(store.as_ref(), &account.id, &[&person.id]).await;

    assert_eq!(conflict(store.remove_member(&removal).await), Conflict::Stale);
    assert_eq!(seen(store.as_ref(), &account.id, &[&person.id]).await, before, "nothing was written");
    assert!(store.login_by_email(&person.email).await.unwrap().is_some(), "the login stays");
    assert!(
        store
            .redemption(&new.token.hash, None)
            .await
            .unwrap()
            .is_some_and(|r| r.invitation == new.invitation)
    );

    let current = MemberRemoval { user: UserAfterRemoval::Released(resetting), ..removal };
    store.remove_member(&current).await.expect("removed on the user as stored");
    assert!(store.user(&person.id).await.unwrap().is_none());
    assert!(store.login_by_email(&person.email).await.unwrap().is_none());
}

/// The user item counts its memberships: an invitation of an existing user raises the count, a
/// removal lowers it, and only the removal of the last membership releases the user.
pub(crate) async fn a_user_counts_memberships_and_goes_with_the_last(store: Arc<dyn Store>) {
    let now = now();
    let first = found_account(store.as_ref(), now).await;
    let second = found_account(store.as_ref(), now).await;
    let third = found_account(store.as_ref(), now).await;
    let accepted = active_member(store.as_ref(), &first.account, "counted", now).await;
    let person = accepted.user.clone();
    assert_eq!(stored_user(store.as_ref(), &person.id).await.memberships, Some(1));
    let mut invited = Vec::new();
    for (n, founded) in [&second, &third].into_iter().enumerate() {
        let new =
            invitation(&founded.account, &person.email, existing(store.as_ref(), &person.id).await, now);
        store.create_invitation(&new).await.expect("invited into one more account");
        let stored = stored_user(store.as_ref(), &person.id).await;
        assert_eq!((stored.memberships, stored.version), (Some(n as u32 + 2), person.version + n as u32 + 1));
        invited.push(new);
    }
    let login = store.login_by_id(&person.id).await.unwrap().expect("the person");
    assert_eq!(login.memberships.len(), 3);

    // A kept user is written provided the stored version is one less.
    let read = stored_user(store.as_ref(), &person.id).await;
    let stale = MemberRemoval {
        member: invited[0].member.clone(),
        user: UserAfterRemoval::Kept(person.clone().left_membership()),
        end_invitation: Some(invited[0].invitation.clone().revoked(None, now)),
        event: event(&second.account.id, AuditAction::MemberDeleted, person.id.as_str(), now),
        roles: None,
    };
    let before = seen(store.as_ref(), &second.account.id, &[&person.id]).await;
    assert_eq!(conflict(store.remove_member(&stale).await), Conflict::Stale);
    assert_eq!(seen(store.as_ref(), &second.account.id, &[&person.id]).await, before, "nothing was written");

    // Two removals, each of a membership that is not the last: the user stays, one fewer each.
    for (new, founded) in invited.iter().zip([&second, &third]) {
        let ended = Some(new.invitation.clone().revoked(None, now));
        let removal = removal_of(store.as_ref(), &new.member, ended, now).await;
        assert!(matches!(removal.user, UserAfterRemoval::Kept(_)), "{:?}", removal.user);
        store.remove_member(&removal).await.expect("removed");
        assert!(store.member(&founded.account.id, &person.id).await.unwrap().is_none());
        assert_eq!(store.user(&person.id).await.unwrap().as_ref(), Some(removal.user.user()));
    }
    let stored = stored_user(store.as_ref(), &person.id).await;
    assert_eq!((stored.memberships, stored.version), (Some(1), read.version + 2));
    let login = store.login_by_email(&person.email).await.unwrap().expect("the login stays");
    assert_eq!(login.memberships.len(), 1);

    // A release based on a user read before the last change: refused.
    let late = MemberRemoval {
        member: accepted.member.clone(),
        user: UserAfterRemoval::Released(read),
        end_invitation: None,
        event: event(&first.account.id, AuditAction::MemberDeleted, person.id.as_str(), now),
        roles: None,
    };
    assert_eq!(conflict(store.remove_member(&late).await), Conflict::Stale);
    assert!(store.member(&first.account.id, &person.id).await.unwrap().is_some());

    // The last membership: the user goes, and their email is free.
    let last = removal_of(store.as_ref(), &accepted.member, None, now).await;
    assert!(matches!(last.user, UserAfterRemoval::Released(_)), "{:?}", last.user);
    store.remove_member(&last).await.expect("removed");
    assert!(store.user(&person.id).await.unwrap().is_none());
    assert!(store.login_by_email(&person.email).await.unwrap().is_none());
    let again = invitation(&first.account, &person.email, InviteeUser::New(user(&person.email, now)), now);
    store.create_invitation(&again).await.expect("the email is free again");
}

/// A removal of a user's last membership and an invitation of the same user into another
/// account, both based on one read of the user, race: exactly one wins, and no membership is
/// ever left without its user.
pub(crate) async fn a_removal_racing_an_invitation_never_orphans_a_membership(store: Arc<dyn Store>) {
    let now = now();
    let mut winners = (0, 0);
    for round in 0..8 {
        let first = found_account(store.as_ref(), now).await;
        let second = found_account(store.as_ref(), now).await;
        let accepted = active_member(store.as_ref(), &first.account, "raced", now).await;
        let person = accepted.user.clone();
        let removal = removal_of(store.as_ref(), &accepted.member, None, now).await;
        assert!(matches!(removal.user, UserAfterRemoval::Released(_)), "their only membership");
        let new = invitation(&second.account, &person.email, existing(store.as_ref(), &person.id).await, now);

        // Started in turn one before the other, on a runtime that runs them interleaved.
        let (a, b) = (store.clone(), store.clone());
        let (removing, inviting) = (removal.clone(), new.clone());
        let remove = async move { a.remove_member(&removing).await };
        let invite = async move { b.create_invitation(&inviting).await };
        let (removed, invited) = if round % 2 == 0 {
            let removed = tokio::spawn(remove);
            let invited = tokio::spawn(invite);
            (removed.await, invited.await)
        } else {
            let invited = tokio::spawn(invite);
            let removed = tokio::spawn(remove);
            (removed.await, invited.await)
        };
        let (removed, invited) = (removed.expect("no panic"), invited.expect("no panic"));
        let user = store.user(&person.id).await.unwrap();
        let in_first = store.member(&first.account.id, &person.id).await.unwrap();
        let in_second = store.member(&second.account.id, &person.id).await.unwrap();
        match (&removed, &invited) {
            (Ok(()), Err(StoreError::Conflict(Conflict::Stale))) => {
                winners.0 += 1;
                assert_eq!((&user, &in_first, &in_second), (&None, &None, &None));
                assert!(store.login_by_email(&person.email).await.unwrap().is_none());
                assert!(store.redemption(&new.token.hash, None).await.unwrap().is_none());
            }
            (Err(StoreError::Conflict(Conflict::Stale)), Ok(())) => {
                winners.1 += 1;
                let InviteeUser::Existing(joined) = &new.user else { unreachable!("an existing user") };
                assert_eq!(user.as_ref(), Some(joined), "the user is kept, counting both");
                assert_eq!(user.and_then(|u| u.memberships), Some(2));
                assert_eq!(in_first, Some(accepted.member.clone()));
                assert_eq!(in_second, Some(new.member.clone()));
            }
            other => panic!("exactly one of the removal and the invitation wins: {other:?}"),
        }
    }
    println!("removal won {} times, the invitation {} times", winners.0, winners.1);
}
