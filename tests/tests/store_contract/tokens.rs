//! Tokens and password resets: a link's token is spent once, an unknown one leads nowhere, and a
//! password change ends every live reset link.

use std::sync::Arc;

use shared::domain::{LIVE_RESET_LINKS, LinkNames};
use shared::ports::PasswordChange;

use super::*;

pub(crate) async fn an_accepted_token_is_spent(store: Arc<dyn Store>) {
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
        store.redemption(&activation.token.hash, None).await.unwrap().expect("the link still leads there");
    assert_eq!(redemption.invitation.status, InvitationStatus::Accepted);
    assert_eq!(redemption.user.as_ref(), Some(&accepted.user));
    assert_eq!(redemption.member.as_ref(), Some(&accepted.member));
    assert_eq!(Some(&redemption.account), accepted.account.as_ref(), "the owner link is used up");
    let member = store.member(&account.id, &owner.id).await.unwrap().expect("the owner");
    assert_eq!(member, accepted.member);
    assert_eq!(
        store.refresh_session(&session_of(&accepted).family_id).await.unwrap(),
        Some(session_of(&accepted).clone())
    );
}

pub(crate) async fn an_unknown_token_redeems_to_nothing(store: Arc<dyn Store>) {
    assert!(store.redemption(&token_hash(), None).await.unwrap().is_none());
    let now = now();
    let Founded { activation, owner, .. } = found_account(store.as_ref(), now).await;
    let mut forged = acceptance(&activation, &owner, now);
    forged.token_hash = token_hash();
    assert_eq!(conflict(store.accept_invitation(&forged).await), Conflict::TokenSpent);
}

pub(crate) async fn a_link_that_names_its_records_leads_only_where_its_token_does(store: Arc<dyn Store>) {
    // Given an owner's activation link and a member's reset link
    let now = now();
    let founded = found_account(store.as_ref(), now).await;
    let activation = &founded.activation.token;
    let member = active_member(store.as_ref(), &founded.account, "named", now).await.user;
    let reset = reset_token(&member, now);
    let mail = reset_mail(&member, &reset, now);
    store.issue_password_reset(&with_reset_link(&member, &reset, now), &reset, &mail).await.expect("issued");

    // When each is looked up with what it names, then with what another link names
    let named = store.redemption(&activation.hash, Some(&activation.names())).await.unwrap();
    let unnamed = store.redemption(&activation.hash, None).await.unwrap();
    let someone_else = |names: LinkNames| LinkNames { user_id: UserId::generate(), ..names };
    let another_invitation = LinkNames {
        purpose: TokenPurpose::Invitation {
            account_id: founded.account.id.clone(),
            invitation_id: InvitationId::generate(),
        },
        ..activation.names()
    };
    let mut misnamed = Vec::new();
    for names in [reset.names(), someone_else(activation.names()), another_invitation] {
        misnamed.push(store.redemption(&activation.hash, Some(&names)).await.unwrap().is_some());
    }
    let named_reset = store.password_reset(&reset.hash, Some(&reset.names())).await.unwrap();
    for names in [activation.names(), someone_else(reset.names())] {
        misnamed.push(store.password_reset(&reset.hash, Some(&names)).await.unwrap().is_some());
    }

    // Then what it names leads where its token does, and anything else leads nowhere
    let invitation = |r: Option<shared::ports::Redemption>| r.map(|r| r.invitation);
    assert_eq!(invitation(named), invitation(unnamed).or_else(|| panic!("the link works")));
    assert_eq!(named_reset.map(|(token, login)| (token, login.user.id)), Some((reset.clone(), member.id)));
    assert_eq!(misnamed, [false; 5], "misnamed links lead nowhere");
}

pub(crate) async fn a_password_change_needs_the_version_and_ends_every_live_reset_link(
    store: Arc<dyn Store>,
) {
    let now = now();
    let Founded { account, .. } = found_account(store.as_ref(), now).await;
    let accepted = active_member(store.as_ref(), &account, "forgetful", now).await;
    let read = accepted.user.clone();
    // A newer link never kills an older one: every live link works.
    let links: Vec<_> = (0..LIVE_RESET_LINKS).map(|_| reset_token(&read, now)).collect();
    let mut current = read.clone();
    for link in &links {
        let next = with_reset_link(&current, link, now);
        store.issue_password_reset(&next, link, &reset_mail(&read, link, now)).await.expect("issued");
        current = next;
    }
    let stale_link = reset_token(&read, now);
    let stale = with_reset_link(&read, &stale_link, now);
    let stale_mail = reset_mail(&read, &stale_link, now);
    assert_eq!(conflict(store.issue_password_reset(&stale, &stale_link, &stale_mail).await), Conflict::Stale);
    assert!(
        store.password_reset(&stale_link.hash, None).await.unwrap().is_none(),
        "its token was not written"
    );
    let nobody = User { id: UserId::generate(), ..current.clone() };
    assert_eq!(
        conflict(store.issue_password_reset(&nobody, &reset_token(&read, now), &stale_mail).await),
        Conflict::Stale
    );

    assert_eq!(store.user(&read.id).await.unwrap(), Some(current.clone()));
    for link in &links {
        let (token, login) = store.password_reset(&link.hash, None).await.unwrap().expect("a live link");
        assert_eq!(&token, link);
        assert_eq!(login.user, current);
        assert!(login.user.has_reset_link(&link.hash, now));
    }
    assert!(
        store.password_reset(&accepted.token_hash, None).await.unwrap().is_none(),
        "an invitation link is no reset"
    );
    assert!(store.password_reset(&token_hash(), None).await.unwrap().is_none());

    let outdated = PasswordChange {
        user: read.clone().with_password("$argon2id$old".into()),
        spent_links: vec![],
        kept_session: None,
    };
    assert_eq!(conflict(store.change_password(&outdated).await), Conflict::Stale);
    let spent_links = current.reset_links.iter().map(|l| l.hash.clone()).collect();
    let change = PasswordChange {
        user: current.clone().with_password("$argon2id$new".into()),
        spent_links,
        kept_session: None,
    };
    store.change_password(&change).await.expect("a live link sets the password");
    for link in &links {
        assert!(store.password_reset(&link.hash, None).await.unwrap().is_none(), "every live link is spent");
    }
    let stored = store.login_by_id(&read.id).await.unwrap().map(|l| l.user);
    assert_eq!(stored, Some(change.user.clone()));
    assert_eq!(change.user.token_version, read.token_version + 1);
    assert!(change.user.reset_links.is_empty());

    assert_eq!(conflict(store.change_password(&change).await), Conflict::Stale);
    let next = PasswordChange {
        user: change.user.clone().with_password("$argon2id$next".into()),
        spent_links: vec![],
        kept_session: None,
    };
    store.change_password(&next).await.expect("a signed-in change needs only the version");
}
