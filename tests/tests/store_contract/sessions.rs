//! Sessions: refresh chains rotate once per secret, and signing in stamps memberships.

use std::sync::Arc;

use super::*;

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
