//! Users and their logins: one user per email and per phone, and profile updates that reach every
//! membership.

use std::sync::Arc;

use shared::ports::{MemberUpdate, ProfileUpdate};

use super::*;

pub(crate) async fn an_email_is_claimed_by_one_user(store: Arc<dyn Store>) {
    let now = now();
    let first = found_account(store.as_ref(), now).await;
    let second = found_account(store.as_ref(), now).await;
    let (person, _) = invite_new(store.as_ref(), &first.account, "shared", now).await;

    let again = invitation(&second.account, &person.email, InviteeUser::New(user(&person.email, now)), now);
    assert_eq!(conflict(store.create_invitation(&again).await), Conflict::EmailTaken);
    assert!(store.member(&second.account.id, &again.member.user_id).await.unwrap().is_none());
    assert!(store.invitation(&second.account.id, &again.invitation.id).await.unwrap().is_none());
    assert!(store.redemption(&again.token.hash, None).await.unwrap().is_none());
    let login = store.login_by_email(&person.email).await.unwrap().expect("the first claim stands");
    assert_eq!(login.user.id, person.id);

    let joining = invitation(&second.account, &person.email, existing(store.as_ref(), &person.id).await, now);
    store.create_invitation(&joining).await.expect("the same person joins a second account");
    let login = store.login_by_id(&person.id).await.unwrap().expect("the person");
    let mut accounts: Vec<_> = login.memberships.iter().map(|m| m.account.id.clone()).collect();
    let mut expected = vec![first.account.id.clone(), second.account.id.clone()];
    accounts.sort();
    expected.sort();
    assert_eq!(accounts, expected);
}

pub(crate) async fn a_phone_is_claimed_by_one_user(store: Arc<dyn Store>) {
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

pub(crate) async fn a_profile_update_reaches_every_membership_and_moves_the_phone_claim(
    store: Arc<dyn Store>,
) {
    let now = now();
    let first = found_account(store.as_ref(), now).await;
    let second = found_account(store.as_ref(), now).await;
    let old_number = phone(&format!("+38095{:07}", rand_digits()));
    let (person, new) = invite_new(store.as_ref(), &first.account, "renamed", now).await;
    let mut accepted = acceptance(&new, &person, now);
    accepted.claim_phone = Some(old_number.clone());
    accepted.user.phone = Some(old_number.clone());
    store.accept_invitation(&accepted).await.expect("accepted");
    let elsewhere =
        invitation(&second.account, &person.email, existing(store.as_ref(), &person.id).await, now);
    store.create_invitation(&elsewhere).await.expect("a second membership");

    let new_number = phone(&format!("+38096{:07}", rand_digits()));
    let mut renamed = stored_user(store.as_ref(), &person.id).await;
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

pub(crate) async fn a_profile_update_raises_every_membership_version(store: Arc<dyn Store>) {
    let now = now();
    let first = found_account(store.as_ref(), now).await;
    let second = found_account(store.as_ref(), now).await;
    let accepted = active_member(store.as_ref(), &first.account, "versioned", now).await;
    let elsewhere = invitation(
        &second.account,
        &accepted.user.email,
        existing(store.as_ref(), &accepted.user.id).await,
        now,
    );
    store.create_invitation(&elsewhere).await.expect("a second membership");
    let read = [accepted.member.clone(), elsewhere.member.clone()];
    let person = stored_user(store.as_ref(), &accepted.user.id).await;

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
            member: member.clone().blocked(now),
            event: event(&member.account_id, AuditAction::MemberBlocked, member.user_id.as_str(), now),
            roles: None,
        };
        assert_eq!(conflict(store.update_member(&blocked).await), Conflict::Stale, "based on the old copy");
        assert_eq!(store.member(&member.account_id, &member.user_id).await.unwrap(), Some(stored.clone()));
        let current = MemberUpdate { member: stored.blocked(now), ..blocked };
        store.update_member(&current).await.expect("based on the membership as stored");
    }
    let removal = MemberRemoval {
        member: read[1].clone(),
        user: UserAfterRemoval::Kept(stored_user(store.as_ref(), &person.id).await.left_membership()),
        end_invitation: Some(elsewhere.invitation.clone().revoked(None, now)),
        event: event(
            &second.account.id,
            AuditAction::InvitationRevoked,
            elsewhere.invitation.id.as_str(),
            now,
        ),
        roles: None,
    };
    assert_eq!(conflict(store.remove_member(&removal).await), Conflict::Stale, "removals too");
}

/// A profile update releases the old phone claim only while the user holds it, and needs every
/// membership it names.
pub(crate) async fn a_profile_update_releases_only_its_own_phone_and_needs_every_membership(
    store: Arc<dyn Store>,
) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let number = phone(&format!("+38099{:07}", rand_digits()));
    let holder = active_member(store.as_ref(), &account, "holder", now).await;
    let mut claimed = ProfileUpdate {
        user: User { phone: Some(number.clone()), version: holder.user.version + 1, ..holder.user.clone() },
        accounts: vec![account.id.clone()],
        claim_phone: Some(number.clone()),
        release_phone: None,
    };
    store.update_profile(&claimed).await.expect("the holder claims the number");

    // Someone whose profile names the same number without holding its claim (they set it where
    // phones need not be unique) moves to another number: the update succeeds, and the claim
    // stays with its holder.
    let (other, invited) = invite_new(store.as_ref(), &account, "other", now).await;
    let mut unclaimed = acceptance(&invited, &other, now);
    unclaimed.user.phone = Some(number.clone());
    store.accept_invitation(&unclaimed).await.expect("accepted without a claim");
    let next_number = phone(&format!("+38091{:07}", rand_digits()));
    let moving = ProfileUpdate {
        user: User {
            phone: Some(next_number.clone()),
            version: unclaimed.user.version + 1,
            ..unclaimed.user.clone()
        },
        accounts: vec![account.id.clone()],
        claim_phone: Some(next_number.clone()),
        release_phone: Some(number.clone()),
    };
    store.update_profile(&moving).await.expect("someone else's claim is not theirs to release");
    assert_eq!(store.user(&other.id).await.unwrap(), Some(moving.user.clone()));
    let (grabber, pending) = invite_new(store.as_ref(), &account, "grabber", now).await;
    let mut taken = acceptance(&pending, &grabber, now);
    taken.claim_phone = Some(number.clone());
    assert_eq!(conflict(store.accept_invitation(&taken).await), Conflict::PhoneTaken, "the holder keeps it");
    taken.claim_phone = Some(next_number);
    assert_eq!(
        conflict(store.accept_invitation(&taken).await),
        Conflict::PhoneTaken,
        "the mover holds theirs"
    );

    // A membership the update names but the user does not have: refused, nothing written.
    let elsewhere = found_account(store.as_ref(), now).await;
    claimed.user =
        User { first_name: Some("Iryna".into()), version: claimed.user.version + 1, ..claimed.user };
    claimed.claim_phone = None;
    let missing =
        ProfileUpdate { accounts: vec![account.id.clone(), elsewhere.account.id.clone()], ..claimed.clone() };
    let before = seen(store.as_ref(), &account.id, &[&holder.user.id]).await;
    assert_eq!(conflict(store.update_profile(&missing).await), Conflict::Stale);
    assert_eq!(seen(store.as_ref(), &account.id, &[&holder.user.id]).await, before, "nothing was written");
    assert!(store.member(&elsewhere.account.id, &holder.user.id).await.unwrap().is_none(), "none made up");
    store.update_profile(&claimed).await.expect("on the memberships the user has");
}
