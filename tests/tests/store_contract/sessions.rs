//! Sessions: refresh chains rotate once per secret, and signing in stamps memberships.

use std::sync::Arc;

use super::*;
use shared::ports::{PasswordChange, SecondStepSpent};

pub(crate) async fn a_refresh_session_rotates_once_per_secret(store: Arc<dyn Store>) {
    let now = now();
    let Founded { owner, .. } = found_account(store.as_ref(), now).await;
    let first = session(&owner, now);
    store.record_sign_in(&sign_in(&first, &[], now)).await.expect("a chain starts");
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

pub(crate) async fn signing_in_stamps_the_given_memberships(store: Arc<dyn Store>) {
    let now = now();
    let founded = found_account(store.as_ref(), now).await;
    let Founded { account, owner, .. } = &founded;
    let accepted = owner_acceptance(&founded, now);
    store.accept_invitation(&accepted).await.expect("activated");
    let later = now + Duration::minutes(5);
    let chain = session(&accepted.user, later);
    store
        .record_sign_in(&sign_in(&chain, std::slice::from_ref(&account.id), later))
        .await
        .expect("signed in");

    let member = store.member(&account.id, &owner.id).await.unwrap().expect("the owner");
    assert_eq!(member.last_login_at, Some(later));
    assert_eq!(store.refresh_session(&chain.family_id).await.unwrap(), Some(chain));
    let login = store.login_by_id(&owner.id).await.unwrap().expect("the owner");
    assert_eq!(login.memberships[0].member.last_login_at, Some(later));

    // A membership the user does not have (any more): refused, nothing stamped, no session.
    let elsewhere = found_account(store.as_ref(), now).await;
    let stray = session(&accepted.user, later + Duration::minutes(1));
    let accounts = [account.id.clone(), elsewhere.account.id.clone()];
    assert_eq!(
        conflict(store.record_sign_in(&sign_in(&stray, &accounts, later + Duration::minutes(1))).await),
        Conflict::Stale
    );
    assert!(store.refresh_session(&stray.family_id).await.unwrap().is_none(), "no session");
    let member = store.member(&account.id, &owner.id).await.unwrap().expect("the owner");
    assert_eq!(member.last_login_at, Some(later), "nothing was stamped");
    assert!(store.member(&elsewhere.account.id, &owner.id).await.unwrap().is_none(), "no membership made up");
}

/// A challenge of `user`, stored, and its hash.
async fn challenged(store: &dyn Store, user: &User, now: DateTime<Utc>) -> String {
    let hash = token_hash();
    let challenge = OneTimeToken {
        hash: hash.clone(),
        user_id: user.id.clone(),
        purpose: TokenPurpose::SecondStep { token_version: user.token_version },
        expires_at: now + Duration::minutes(5),
    };
    store.issue_challenge(&challenge).await.expect("stored");
    hash
}

pub(crate) async fn a_second_step_is_spent_with_the_session_it_starts_once(store: Arc<dyn Store>) {
    // Given a user with a challenge waiting, read at one version
    let now = now();
    let Founded { owner, .. } = found_account(store.as_ref(), now).await;
    let hash = challenged(store.as_ref(), &owner, now).await;
    assert_eq!(store.challenge(&hash).await.unwrap().map(|c| c.user_id), Some(owner.id.clone()));
    let spent = User { version: owner.version + 1, ..owner.clone() };

    // When two sign-ins spend it from the same read, then one starts its session
    let (first, second) = (session(&owner, now), session(&owner, now));
    let with_step = |session: &RefreshSession| SignIn {
        second_step: Some(SecondStepSpent { user: spent.clone(), challenge_hash: hash.clone() }),
        ..sign_in(session, &[], now)
    };
    store.record_sign_in(&with_step(&first)).await.expect("the first spends it");
    assert_eq!(conflict(store.record_sign_in(&with_step(&second)).await), Conflict::Stale);

    // Then the challenge and the code are spent, and the loser started nothing
    assert!(store.challenge(&hash).await.unwrap().is_none());
    assert_eq!(stored_user(store.as_ref(), &owner.id).await.version, owner.version + 1);
    assert!(store.refresh_session(&first.family_id).await.unwrap().is_some());
    assert!(store.refresh_session(&second.family_id).await.unwrap().is_none(), "no session");
}

pub(crate) async fn only_a_challenge_reads_as_a_challenge(store: Arc<dyn Store>) {
    let now = now();
    let Founded { activation, .. } = found_account(store.as_ref(), now).await;
    // An invitation's token item is no challenge, nor is a hash nobody stored.
    assert!(store.challenge(&activation.invitation.token_hash).await.unwrap().is_none());
    assert!(store.challenge(&token_hash()).await.unwrap().is_none());
}

pub(crate) async fn a_users_sessions_are_listed_and_one_is_carried_over_a_new_token_version(
    store: Arc<dyn Store>,
) {
    // Given a user with three sessions and someone else with one
    let now = now();
    let Founded { owner, .. } = found_account(store.as_ref(), now).await;
    let other = found_account(store.as_ref(), now).await.owner;
    let mut chains = Vec::new();
    for minutes in 0..3 {
        let chain = session(&owner, now + Duration::minutes(minutes));
        store.record_sign_in(&sign_in(&chain, &[], chain.created_at)).await.expect("signed in");
        chains.push(chain);
    }
    let theirs = session(&other, now);
    store.record_sign_in(&sign_in(&theirs, &[], now)).await.expect("signed in");

    // Then the user's are listed newest first, and nobody else's
    let listed = store.sessions_of(&owner.id).await.unwrap();
    let ids: Vec<_> = listed.iter().map(|s| s.family_id.clone()).collect();
    assert_eq!(ids, chains.iter().rev().map(|c| c.family_id.clone()).collect::<Vec<_>>());

    // When the user moves to a new token version keeping one session, read after a refresh
    // rotated it, then nothing is written
    let changed = owner.clone().signed_out_everywhere();
    let kept_as_read = RefreshSession { token_version: changed.token_version, ..chains[0].clone() };
    let rotated = RefreshSession { secret_hash: token_hash(), ..chains[0].clone() };
    store.rotate_session(&chains[0].secret_hash, &rotated).await.expect("rotated");
    assert_eq!(conflict(store.save_user(&changed, &[], Some(&kept_as_read)).await), Conflict::Stale);
    assert_eq!(stored_user(store.as_ref(), &owner.id).await.token_version, owner.token_version);

    // And keeping it as it is now, the user and that session move together, the others stay
    // behind on the old version
    let kept = RefreshSession { token_version: changed.token_version, ..rotated };
    store.save_user(&changed, &[], Some(&kept)).await.expect("saved");
    assert_eq!(store.refresh_session(&kept.family_id).await.unwrap(), Some(kept.clone()));
    assert_eq!(stored_user(store.as_ref(), &owner.id).await.token_version, changed.token_version);
    let behind = store.refresh_session(&chains[1].family_id).await.unwrap().expect("still stored");
    assert_ne!(behind.token_version, changed.token_version, "it works no more");
    assert!(store.refresh_session(&theirs.family_id).await.unwrap().is_some());
}

pub(crate) async fn a_kept_session_is_carried_over_only_as_read(store: Arc<dyn Store>) {
    // Given a session read, then rotated by a refresh before the password change writes
    let now = now();
    let Founded { owner, .. } = found_account(store.as_ref(), now).await;
    let read = session(&owner, now);
    store.record_sign_in(&sign_in(&read, &[], now)).await.expect("signed in");
    let rotated = RefreshSession { secret_hash: token_hash(), ..read.clone() };
    store.rotate_session(&read.secret_hash, &rotated).await.expect("rotated");

    // When the change carries over the session as read, then it writes nothing
    let user = owner.clone().with_password("$argon2id$new".into());
    let kept = RefreshSession { token_version: user.token_version, ..read.clone() };
    let change = PasswordChange { user: user.clone(), spent_links: vec![], kept_session: Some(kept) };
    assert_eq!(conflict(store.change_password(&change).await), Conflict::Stale);
    assert_eq!(store.refresh_session(&read.family_id).await.unwrap(), Some(rotated.clone()));

    // And carried over as it is now, it moves to the new version
    let kept = RefreshSession { token_version: user.token_version, ..rotated };
    let change = PasswordChange { user, spent_links: vec![], kept_session: Some(kept.clone()) };
    store.change_password(&change).await.expect("changed");
    assert_eq!(store.refresh_session(&read.family_id).await.unwrap(), Some(kept));
}
