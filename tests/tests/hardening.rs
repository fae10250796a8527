//! The account-takeover and access-control guarantees of the README's "Security" section, each
//! pinned on both backends: one live owner link per account, writes that never undo a concurrent
//! change, revocation that really removes a direct-mode login, password reset that a stranger
//! cannot lock, one ceiling for administering anyone, resends that pass every invitation rule,
//! and a sign-in limiter that counts people, not spellings.
//!
//! Races run several pairs of requests at once and accept any outcome that some serial order of
//! the requests that succeeded produces; what no serial order produces fails the test.

use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use tests::app::{Owner, PASSWORD, Reply, TestApp};

/// How many independent pairs each race runs at once.
const PAIRS: usize = 6;

fn recovery(account: &str) -> String {
    format!("/v1/operator/accounts/{account}/owner-recovery")
}

async fn member(app: &TestApp, owner: &Owner, user_id: &str) -> Reply {
    app.get_as(&owner.token, &format!("/v1/accounts/{}/members/{user_id}", owner.account_id)).await
}

/// The account's owner as its members list and the account both say: exactly one active member
/// flagged owner, and it is the account's `owner_id`.
async fn the_one_owner(app: &TestApp, owner: &Owner) -> String {
    let owners: Vec<String> = app
        .members(owner)
        .await
        .into_iter()
        .filter(|m| m["is_owner"] == true && m["status"] == "active")
        .map(|m| m["user_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(owners.len(), 1, "exactly one active owner: {owners:?}");
    let account = app.get_as(&owner.token, &format!("/v1/accounts/{}", owner.account_id)).await;
    assert_eq!(account.body["owner_id"], owners[0].as_str());
    owners[0].clone()
}

async fn an_older_owner_link_dies_when_a_newer_recovery_starts(app: TestApp) {
    // Given an active owner and a recovery to B, then one to C
    let owner = app.owner("amazon-seller", "owner@older-link.example").await;
    let path = recovery(&owner.account_id);
    assert_eq!(app.operator(&path, json!({"new_email": "b@older-link.example"})).await.status, 202);
    let b_link = app.link_token("b@older-link.example").await;
    assert_eq!(app.operator(&path, json!({"new_email": "c@older-link.example"})).await.status, 202);

    // Then B's link is dead and B's pending membership gone
    let accepted = app.activate(&b_link).await;
    assert_eq!((accepted.status, accepted.code()), (409, "invitation_revoked"), "{}", accepted.body);
    assert!(!app.members(&owner).await.iter().any(|m| m["email"] == "b@older-link.example"));

    // When C accepts, C is the owner and the former owner keeps the former-owner grant
    let c = app.activate(&app.link_token("c@older-link.example").await).await;
    assert_eq!(c.status, 200, "{}", c.body);
    let owner = app.signed_in_again(owner).await;
    assert_eq!(the_one_owner(&app, &owner).await, c.str("user_id"));

    // And B's address, freed, can be the target of a later recovery
    let again = app.operator(&path, json!({"new_email": "b@older-link.example"})).await;
    assert_eq!(again.status, 202, "{}", again.body);
}

async fn the_activation_link_of_an_owner_who_never_activated_dies_when_a_recovery_starts(app: TestApp) {
    // Given an account whose owner never used their activation link
    let created = app.create_account("standard", "lost@never-activated.example").await;
    let account = created.body["account"]["id"].as_str().unwrap().to_owned();
    let original = app.link_token("lost@never-activated.example").await;

    // When the operator sends an owner link to another address
    let path = recovery(&account);
    assert_eq!(app.operator(&path, json!({"new_email": "found@never-activated.example"})).await.status, 202);

    // Then the original activation link no longer works, and the new one makes its holder owner
    let old = app.activate(&original).await;
    assert_eq!((old.status, old.code()), (409, "invitation_revoked"), "{}", old.body);
    let new = app.activate(&app.link_token("found@never-activated.example").await).await;
    assert_eq!(new.status, 200, "{}", new.body);
    assert_eq!(new.body["memberships"][0]["is_owner"], true);
    let old = app.activate(&original).await;
    assert_eq!(old.status, 409, "{}", old.body);
}

async fn the_operator_sees_and_cancels_a_pending_owner_recovery(app: TestApp) {
    // Given a pending recovery
    let owner = app.owner("standard", "owner@cancel-recovery.example").await;
    let path = recovery(&owner.account_id);
    let none = app.operator_call(Method::GET, &path).await;
    assert_eq!((none.status, none.code()), (404, "not_found"));
    app.operator(&path, json!({"new_email": "helper@cancel-recovery.example"})).await;
    let link = app.link_token("helper@cancel-recovery.example").await;

    // When the operator looks, then cancels it
    let pending = app.operator_call(Method::GET, &path).await;
    assert_eq!(pending.status, 200, "{}", pending.body);
    assert_eq!(pending.body["email"], "helper@cancel-recovery.example");
    assert_eq!(pending.body["status"], "sent");
    let cancelled = app.operator_call(Method::DELETE, &path).await;
    assert_eq!(cancelled.status, 204, "{}", cancelled.body);

    // Then the link is dead, its candidate gone, nothing is pending and the owner unchanged
    assert_eq!(app.activate(&link).await.code(), "invitation_revoked");
    assert!(!app.members(&owner).await.iter().any(|m| m["email"] == "helper@cancel-recovery.example"));
    assert_eq!(app.operator_call(Method::GET, &path).await.status, 404);
    assert_eq!(app.operator_call(Method::DELETE, &path).await.status, 404);
    let me = app.get_as(&owner.token, "/v1/me").await;
    assert_eq!(the_one_owner(&app, &owner).await, me.str("user_id"));
    // And the operator key is required
    assert_eq!(app.send(Method::GET, &path, None, None).await.status, 401);
}

async fn the_cleanup_removes_a_lapsed_owner_candidate_but_never_the_owner(app: TestApp) {
    // Given a recovery whose link lapsed, and an account whose owner never activated
    let owner = app.owner("amazon-seller", "owner@lapsed-candidate.example").await;
    let path = recovery(&owner.account_id);
    app.operator(&path, json!({"new_email": "late@lapsed-candidate.example"})).await;
    let unactivated = app.create_account("amazon-seller", "sleepy@lapsed-candidate.example").await;
    let sleepy_account = unactivated.body["account"]["id"].as_str().unwrap().to_owned();
    app.advance_clock(49 * 3600).await;

    // When the cleanup runs
    let report = app.cleanup().await;
    assert_eq!(report.status, 200, "{}", report.body);

    // Then the candidate is gone but both owners stay, and the candidate's address can be used again
    let owner = app.signed_in_again(owner).await;
    assert!(!app.members(&owner).await.iter().any(|m| m["email"] == "late@lapsed-candidate.example"));
    the_one_owner(&app, &owner).await;
    let again = app.operator(&path, json!({"new_email": "late@lapsed-candidate.example"})).await;
    assert_eq!(again.status, 202, "{}", again.body);
    let fresh = app
        .operator(&recovery(&sleepy_account), json!({"new_email": "sleepy@lapsed-candidate.example"}))
        .await;
    assert_eq!(fresh.status, 202, "the never-activated owner is still the owner: {}", fresh.body);
    let activated = app.activate(&app.link_token("sleepy@lapsed-candidate.example").await).await;
    assert_eq!(activated.status, 200, "{}", activated.body);
    assert_eq!(activated.body["memberships"][0]["is_owner"], true);
}

async fn concurrent_recoveries_and_accepts_leave_exactly_one_owner(app: TestApp) {
    // Given an active owner and a pending recovery to B
    let owner = app.owner("standard", "owner@recovery-race.example").await;
    let path = recovery(&owner.account_id);
    app.operator(&path, json!({"new_email": "b@recovery-race.example"})).await;
    let b_link = app.link_token("b@recovery-race.example").await;

    // When B accepts while the operator starts recoveries to others
    let others =
        (0..4).map(|n| app.operator(&path, json!({"new_email": format!("o{n}@recovery-race.example")})));
    let (accepted, started) = futures::join!(app.activate(&b_link), join_all(others));

    // Then every answer is a clean one, and exactly one active owner exists
    assert!([200, 409].contains(&accepted.status), "{}", accepted.body);
    assert!(
        started.iter().all(|r| [202, 409].contains(&r.status)),
        "{:?}",
        started.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    let owner = app.signed_in_again(owner).await;
    let current = the_one_owner(&app, &owner).await;
    if accepted.status == 200 {
        assert_eq!(current, accepted.str("user_id"));
    }
    // And at most one owner link is live
    let candidates = app
        .members(&owner)
        .await
        .into_iter()
        .filter(|m| m["is_owner"] == true && m["status"] == "not_activated")
        .count();
    assert!(candidates <= 1, "{candidates} pending owner candidates");
}

async fn owner_recovery_is_rate_limited_per_account(app: TestApp) {
    let owner = app.owner("standard", "owner@recovery-limit.example").await;
    let path = recovery(&owner.account_id);
    for n in 0..10 {
        let started = app.operator(&path, json!({"new_email": format!("r{n}@recovery-limit.example")})).await;
        assert_eq!(started.status, 202, "{}", started.body);
    }
    let limited = app.operator(&path, json!({"new_email": "r10@recovery-limit.example"})).await;
    assert_eq!((limited.status, limited.code()), (429, "rate_limited"));
}

/// Invites `PAIRS` people and returns, for each, their user id and the link they were mailed.
async fn pending_invitees(app: &TestApp, owner: &Owner, race: &str) -> Vec<(String, String, String)> {
    let mut pending = Vec::new();
    for n in 0..PAIRS {
        let email = format!("p{n}@{race}.example");
        let invitation = app.invite(owner, &email, &["viewer"]).await;
        let user_id = app.member_id(owner, &email).await;
        pending.push((user_id, app.link_token(&email).await, invitation["id"].as_str().unwrap().to_owned()));
    }
    pending
}

async fn accept_racing_block_never_undoes_the_block(app: TestApp) {
    let owner = app.owner("standard", "owner@accept-block.example").await;
    let pending = pending_invitees(&app, &owner, "accept-block").await;
    let account = format!("/v1/accounts/{}", owner.account_id);

    let (app, owner, account) = (&app, &owner, &account);
    let races = pending.iter().map(|(user, link, _)| async move {
        let block = format!("{account}/members/{user}/block");
        futures::join!(app.activate(link), app.post_as(&owner.token, &block, json!({})))
    });
    let outcomes = join_all(races).await;

    for ((user, _, _), (accepted, blocked)) in pending.iter().zip(outcomes) {
        assert!([200, 403].contains(&accepted.status), "accept: {}", accepted.body);
        assert!([200, 409].contains(&blocked.status), "block: {}", blocked.body);
        if accepted.status == 403 {
            assert_eq!(accepted.code(), "member_blocked");
            assert!(accepted.body.get("access_token").is_none());
        }
        let stored = member(app, owner, user).await;
        let expected = if blocked.status == 200 { "blocked" } else { "active" };
        assert_eq!(stored.body["status"], expected, "accept {} / block {}", accepted.status, blocked.status);
    }
}

async fn accept_racing_a_role_change_never_undoes_it(app: TestApp) {
    let owner = app.owner("standard", "owner@accept-role.example").await;
    let pending = pending_invitees(&app, &owner, "accept-role").await;
    let account = format!("/v1/accounts/{}", owner.account_id);

    let (app, owner, account) = (&app, &owner, &account);
    let races = pending.iter().map(|(user, link, _)| async move {
        let roles = format!("{account}/members/{user}/roles");
        futures::join!(app.activate(link), app.put_as(&owner.token, &roles, json!({"roles": ["finance"]})))
    });
    let outcomes = join_all(races).await;

    for ((user, _, _), (accepted, changed)) in pending.iter().zip(outcomes) {
        assert_eq!(accepted.status, 200, "accept: {}", accepted.body);
        assert!([200, 409].contains(&changed.status), "set-role: {}", changed.body);
        let stored = member(app, owner, user).await;
        assert_eq!(stored.body["status"], "active");
        let expected = if changed.status == 200 { json!(["finance"]) } else { json!(["viewer"]) };
        assert_eq!(stored.body["roles"], expected, "set-role answered {}", changed.status);
    }
}

async fn accept_racing_delete_leaves_no_member_once_delete_succeeded(app: TestApp) {
    let owner = app.owner("standard", "owner@accept-delete.example").await;
    let pending = pending_invitees(&app, &owner, "accept-delete").await;
    let account = format!("/v1/accounts/{}", owner.account_id);

    let (app, owner, account) = (&app, &owner, &account);
    let races = pending.iter().map(|(user, link, _)| async move {
        let path = format!("{account}/members/{user}");
        futures::join!(app.activate(link), app.delete_as(&owner.token, &path))
    });
    let outcomes = join_all(races).await;

    for ((user, _, _), (accepted, deleted)) in pending.iter().zip(outcomes) {
        assert!([200, 404, 409].contains(&accepted.status), "accept: {}", accepted.body);
        assert!([204, 409].contains(&deleted.status), "delete: {}", deleted.body);
        let stored = member(app, owner, user).await;
        match deleted.status {
            204 => assert_eq!(stored.status, 404, "deleted, yet {}", stored.body),
            _ => assert_eq!((accepted.status, stored.body["status"].as_str()), (200, Some("active"))),
        }
    }
}

async fn accept_racing_a_resend_ends_in_one_of_their_orders(app: TestApp) {
    let owner = app.owner("standard", "owner@accept-resend.example").await;
    let pending = pending_invitees(&app, &owner, "accept-resend").await;
    let account = format!("/v1/accounts/{}", owner.account_id);

    let (app, owner, account) = (&app, &owner, &account);
    let races = pending.iter().map(|(_, link, invitation)| async move {
        let resend = format!("{account}/invitations/{invitation}/resend");
        futures::join!(app.activate(link), app.post_as(&owner.token, &resend, json!({})))
    });
    let outcomes = join_all(races).await;

    for ((user, _, invitation), (accepted, resent)) in pending.iter().zip(outcomes) {
        assert!([200, 404, 409].contains(&accepted.status), "accept: {}", accepted.body);
        assert!([200, 409].contains(&resent.status), "resend: {}", resent.body);
        let stored = app.get_as(&owner.token, &format!("{account}/invitations/{invitation}")).await;
        let person = member(app, owner, user).await;
        match accepted.status {
            200 => {
                assert_eq!(stored.body["status"], "accepted");
                assert_eq!(person.body["status"], "active");
            }
            _ => {
                assert_eq!(resent.status, 200, "the accept lost to the resend");
                assert_eq!(
                    (stored.body["status"].as_str(), person.body["status"].as_str()),
                    (Some("sent"), Some("not_activated"))
                );
            }
        }
    }
}

async fn two_concurrent_transfers_hand_the_account_to_one_person(app: TestApp) {
    let owner = app.owner("standard", "owner@transfer-race.example").await;
    app.member(&owner, "first@transfer-race.example", &["editor"], &[]).await;
    app.member(&owner, "second@transfer-race.example", &["editor"], &[]).await;
    let first = app.member_id(&owner, "first@transfer-race.example").await;
    let second = app.member_id(&owner, "second@transfer-race.example").await;
    let path = format!("/v1/accounts/{}/ownership-transfer", owner.account_id);

    let (a, b) = futures::join!(
        app.post_as(&owner.token, &path, json!({"user_id": first, "password": PASSWORD})),
        app.post_as(&owner.token, &path, json!({"user_id": second, "password": PASSWORD})),
    );

    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert!(statuses == [200, 409] || statuses == [200, 403], "{} / {}", a.body, b.body);
    let winner = if a.status == 200 { &first } else { &second };
    // The former owner keeps the preset's administrator role, so reads the result
    assert_eq!(&the_one_owner(&app, &owner).await, winner);
}

async fn reset_confirm_racing_a_profile_edit_keeps_both_or_one_cleanly(app: TestApp) {
    const NEW_PASSWORD: &str = "Another-Horse-Battery-77";
    let mut owners = Vec::new();
    for n in 0..PAIRS {
        let email = format!("o{n}@reset-profile.example");
        let owner = app.owner("standard", &email).await;
        app.post("/v1/password-reset", json!({"email": email})).await;
        let link = app.link_token(&email).await;
        owners.push((owner, link));
    }

    let app = &app;
    let races = owners.iter().map(|(owner, link)| async move {
        futures::join!(
            app.post("/v1/password-reset/confirm", json!({"token": link, "new_password": NEW_PASSWORD})),
            app.patch_as(&owner.token, "/v1/me", json!({"first_name": "Renamed"})),
        )
    });
    let outcomes = join_all(races).await;

    for ((owner, _), (confirmed, edited)) in owners.iter().zip(outcomes) {
        assert_eq!(confirmed.status, 204, "confirm: {}", confirmed.body);
        assert!([200, 401, 409].contains(&edited.status), "edit: {}", edited.body);
        let session = app.sign_in(&owner.email, NEW_PASSWORD).await;
        assert_eq!(session.status, 200, "the reset's password holds: {}", session.body);
        let me = app.get_as(&session.str("access_token"), "/v1/me").await;
        let expected = if edited.status == 200 { json!("Renamed") } else { json!(null) };
        assert_eq!(me.body["first_name"], expected, "edit answered {}", edited.status);
    }
}

async fn revoking_a_direct_mode_invitation_removes_the_login_unless_a_password_was_set(app: TestApp) {
    // Given a ua-marketplace owner who added two people (direct mode: active at once)
    let owner = app.owner("ua-marketplace", "owner@direct-revoke.example").await;
    let account = format!("/v1/accounts/{}", owner.account_id);
    let add = |email: &str, phone: &str| {
        let body = json!({
            "email": email, "roles": ["administrator"],
            "first_name": "Олена", "last_name": "Коваль", "phone": phone,
        });
        let (app, token, path) = (&app, owner.token.clone(), format!("{account}/invitations"));
        async move { app.post_as(&token, &path, body).await }
    };
    let quiet = add("quiet@direct-revoke.example", "0931234561").await;
    let eager = add("eager@direct-revoke.example", "0931234562").await;
    assert_eq!((quiet.status, eager.status), (201, 201), "{} / {}", quiet.body, eager.body);
    let (quiet, eager) = (quiet.body, eager.body);
    app.post("/v1/password-reset", json!({"email": "eager@direct-revoke.example"})).await;
    let reset = app.link_token("eager@direct-revoke.example").await;
    let set =
        app.post("/v1/password-reset/confirm", json!({"token": reset, "new_password": "Eager1!"})).await;
    assert_eq!(set.status, 204, "{}", set.body);

    // When the owner revokes both invitations
    let revoke = |id: &Value| {
        let path = format!("{account}/invitations/{}/revoke", id.as_str().unwrap());
        let token = owner.token.clone();
        let app = &app;
        async move { app.post_as(&token, &path, json!({})).await }
    };
    let quiet_revoked = revoke(&quiet["id"]).await;
    let eager_revoked = revoke(&eager["id"]).await;

    // Then the one who never set a password is gone, login and all: a reset mails nothing
    assert_eq!(quiet_revoked.status, 200, "{}", quiet_revoked.body);
    assert!(!app.members(&owner).await.iter().any(|m| m["email"] == "quiet@direct-revoke.example"));
    let before = app.mail_to("quiet@direct-revoke.example").await.len();
    assert_eq!(
        app.post("/v1/password-reset", json!({"email": "quiet@direct-revoke.example"})).await.status,
        202
    );
    assert_eq!(app.mail_to("quiet@direct-revoke.example").await.len(), before);
    // And the one who set a password is refused with a code that says what to do instead
    assert_eq!((eager_revoked.status, eager_revoked.code()), (409, "member_already_active"));
    assert!(app.members(&owner).await.iter().any(|m| m["email"] == "eager@direct-revoke.example"));
    // And the freed address can be added again
    assert_eq!(add("quiet@direct-revoke.example", "0931234561").await.status, 201);
}

async fn nobody_administers_a_person_or_invitation_granting_more_than_they_hold(app: TestApp) {
    // Given a user manager who can only read the other sections
    let owner = app.owner("standard", "owner@ceiling.example").await;
    let manager = app.member(&owner, "manager@ceiling.example", &["viewer"], &["users:write"]).await;
    let account = format!("/v1/accounts/{}", owner.account_id);
    let editor_invitation = app.invite(&owner, "pending-editor@ceiling.example", &["editor"]).await;
    let id = editor_invitation["id"].as_str().unwrap();
    let pending_editor = app.member_id(&owner, "pending-editor@ceiling.example").await;

    // When they try every administration of the editor and the editor's invitation
    let attempts = [
        app.post_as(&manager, &format!("{account}/invitations/{id}/revoke"), json!({})).await,
        app.post_as(&manager, &format!("{account}/invitations/{id}/resend"), json!({})).await,
        app.put_as(
            &manager,
            &format!("{account}/members/{pending_editor}/roles"),
            json!({"roles": ["viewer"]}),
        )
        .await,
        app.post_as(&manager, &format!("{account}/members/{pending_editor}/block"), json!({})).await,
        app.post_as(&manager, &format!("{account}/members/{pending_editor}/unblock"), json!({})).await,
        app.delete_as(&manager, &format!("{account}/members/{pending_editor}")).await,
    ];

    // Then every one is refused the same way, and the invitation is untouched
    for attempt in &attempts {
        assert_eq!((attempt.status, attempt.code()), (403, "role_escalation"), "{}", attempt.body);
    }
    let stored = app.get_as(&owner.token, &format!("{account}/invitations/{id}")).await;
    assert_eq!((stored.body["status"].as_str(), stored.body["send_count"].as_u64()), (Some("sent"), Some(1)));
}

async fn a_resend_that_replaces_an_invitation_passes_every_invitation_rule(app: TestApp) {
    let owner = app.owner("standard", "owner@resend-rules.example").await;
    let account = format!("/v1/accounts/{}", owner.account_id);
    let action = |id: &str, what: &str| {
        let path = format!("{account}/invitations/{id}/{what}");
        let (app, token) = (&app, owner.token.clone());
        async move { app.post_as(&token, &path, json!({})).await }
    };

    // Given a revoke→resend loop: the sends of the whole chain count against the hourly limit
    let first = app.invite(&owner, "target@resend-rules.example", &["viewer"]).await;
    let mut id = first["id"].as_str().unwrap().to_owned();
    let mut resent = 0;
    let limited = loop {
        assert_eq!(action(&id, "revoke").await.status, 200);
        let answer = action(&id, "resend").await;
        if answer.status != 201 {
            break answer;
        }
        resent += 1;
        id = answer.str("id");
    };
    assert_eq!((resent, limited.status, limited.code()), (4, 429, "rate_limited"), "{}", limited.body);
    let mails = app.mail_to("target@resend-rules.example").await;
    assert_eq!(mails.len(), 5, "five sends an hour, the chain together");

    // And an address in a domain the account refused since cannot be invited this way
    let other = app.invite(&owner, "someone@refused-later.example", &["viewer"]).await;
    let other = other["id"].as_str().unwrap();
    assert_eq!(action(other, "revoke").await.status, 200);
    let refused = app
        .patch_as(
            &owner.token,
            &format!("{account}/settings"),
            json!({"blocked_email_domains": ["refused-later.example"]}),
        )
        .await;
    assert_eq!(refused.status, 200, "{}", refused.body);
    let resent = action(other, "resend").await;
    assert_eq!((resent.status, resent.code()), (400, "validation_failed"), "{}", resent.body);
    assert_eq!(resent.field_errors(), [("email".to_owned(), "blocked_email_domain".to_owned())]);
}

async fn two_concurrent_resends_of_one_invitation_never_answer_500(app: TestApp) {
    let owner = app.owner("standard", "owner@resend-race.example").await;
    let account = format!("/v1/accounts/{}", owner.account_id);
    let sent = app.invite(&owner, "sent@resend-race.example", &["viewer"]).await;
    let lapsed = app.invite(&owner, "lapsed@resend-race.example", &["viewer"]).await;
    app.advance_clock(24 * 3600).await;
    let owner = app.signed_in_again(owner).await;
    let revoked = app.invite(&owner, "revoked@resend-race.example", &["viewer"]).await;
    app.advance_clock(25 * 3600).await;
    let owner = app.signed_in_again(owner).await;
    let revoked_id = revoked["id"].as_str().unwrap();
    app.post_as(&owner.token, &format!("{account}/invitations/{revoked_id}/revoke"), json!({})).await;

    for invitation in [&sent, &lapsed, &revoked] {
        let resend = format!("{account}/invitations/{}/resend", invitation["id"].as_str().unwrap());
        let answers = join_all((0..4).map(|_| app.post_as(&owner.token, &resend, json!({})))).await;
        for answer in &answers {
            assert!(answer.status < 500, "{}", answer.body);
            assert!([200, 201, 409].contains(&answer.status), "{}", answer.body);
        }
    }
}

async fn the_sign_in_limiter_counts_people_not_spellings(app: TestApp) {
    // Given a person whose sign-in attempts from one client were used up
    app.owner("standard", "victim@spelling.example").await;
    for _ in 0..10 {
        app.sign_in("victim@spelling.example", "wrong password guess").await;
    }

    // When the attacker spells the address another way that reaches the same person
    let full_width = app.sign_in("VICTIM@ｓｐｅｌｌｉｎｇ.example", PASSWORD).await;

    // Then the same budget applies
    assert_eq!((full_width.status, full_width.code()), (429, "rate_limited"));
    // And invisible characters do not reach the person at all: refused at parse
    let hidden = app.sign_in("victim@spel\u{00AD}ling.example", PASSWORD).await;
    assert_ne!(hidden.status, 200, "{}", hidden.body);
    let owner = app.owner("standard", "owner@spelling.example").await;
    let invited = app
        .post_as(
            &owner.token,
            &format!("/v1/accounts/{}/invitations", owner.account_id),
            json!({"email": "new\u{200B}hire@spelling.example", "roles": ["viewer"]}),
        )
        .await;
    assert_eq!(invited.field_errors(), [("email".to_owned(), "invalid_email".to_owned())]);
}

async fn editing_settings_in_a_loop_cannot_stop_an_owner_recovery(app: TestApp) {
    // Given a recovery link for C, and an owner who keeps editing the settings
    let owner = app.owner("standard", "owner@settings-loop.example").await;
    app.operator(&recovery(&owner.account_id), json!({"new_email": "c@settings-loop.example"})).await;
    let link = app.link_token("c@settings-loop.example").await;
    let settings = format!("/v1/accounts/{}/settings", owner.account_id);
    let edits =
        (1..=8).map(|hours| app.patch_as(&owner.token, &settings, json!({"invitation_ttl_hours": hours})));

    // When C accepts in the middle of them
    let (accepted, edited) = futures::join!(app.activate(&link), join_all(edits));

    // Then C is the owner and every edit stood
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert!(edited.iter().all(|e| [200, 409].contains(&e.status)));
    let c = Owner { token: accepted.str("access_token"), ..owner };
    assert_eq!(the_one_owner(&app, &c).await, accepted.str("user_id"));
}

async fn a_recovery_can_go_back_to_an_owner_who_never_activated(app: TestApp) {
    // Given an owner who never activated, whose link a recovery to someone else cancelled
    let created = app.create_account("amazon-seller", "sleepy@back-to-owner.example").await;
    let account = created.body["account"]["id"].as_str().unwrap().to_owned();
    let path = recovery(&account);
    assert_eq!(app.operator(&path, json!({"new_email": "other@back-to-owner.example"})).await.status, 202);

    // When the operator sends the owner a fresh link after all, and again after cancelling it
    let back = app.operator(&path, json!({"new_email": "sleepy@back-to-owner.example"})).await;
    assert_eq!(back.status, 202, "{}", back.body);
    assert_eq!(app.operator_call(Method::DELETE, &path).await.status, 204);
    let again = app.operator(&path, json!({"new_email": "sleepy@back-to-owner.example"})).await;
    assert_eq!(again.status, 202, "{}", again.body);

    // Then only the newest link works, and it makes them the active owner
    let other = app.activate(&app.link_token("other@back-to-owner.example").await).await;
    assert_eq!(other.code(), "invitation_revoked");
    let activated = app.activate(&app.link_token("sleepy@back-to-owner.example").await).await;
    assert_eq!(activated.status, 200, "{}", activated.body);
    assert_eq!(activated.body["memberships"][0]["is_owner"], true);
}

async fn a_transfer_does_not_cancel_a_pending_owner_recovery(app: TestApp) {
    // Given a recovery link for C, and an owner who hands the account to an accomplice
    let owner = app.owner("standard", "owner@transfer-dodge.example").await;
    app.member(&owner, "accomplice@transfer-dodge.example", &["editor"], &[]).await;
    let accomplice = app.member_id(&owner, "accomplice@transfer-dodge.example").await;
    app.operator(&recovery(&owner.account_id), json!({"new_email": "c@transfer-dodge.example"})).await;
    let link = app.link_token("c@transfer-dodge.example").await;
    let transfer = format!("/v1/accounts/{}/ownership-transfer", owner.account_id);
    let handed =
        app.post_as(&owner.token, &transfer, json!({"user_id": accomplice, "password": PASSWORD})).await;
    assert_eq!(handed.status, 200, "{}", handed.body);

    // When C accepts the recovery link
    let accepted = app.activate(&link).await;

    // Then C owns the account: the operator's recovery outranks the transfer
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let c = Owner { token: accepted.str("access_token"), ..owner };
    assert_eq!(the_one_owner(&app, &c).await, accepted.str("user_id"));
}

async fn revoke_and_resend_respect_what_a_pending_person_was_raised_to(app: TestApp) {
    // Given a pending invitee raised to administrator after their viewer invitation went out
    let owner = app.owner("standard", "owner@raised-pending.example").await;
    let manager = app.member(&owner, "manager@raised-pending.example", &["viewer"], &["users:write"]).await;
    let invitation = app.invite(&owner, "raised@raised-pending.example", &["viewer"]).await;
    let raised = app.member_id(&owner, "raised@raised-pending.example").await;
    let account = format!("/v1/accounts/{}", owner.account_id);
    let roles = format!("{account}/members/{raised}/roles");
    assert_eq!(app.put_as(&owner.token, &roles, json!({"roles": ["administrator"]})).await.status, 200);
    let id = invitation["id"].as_str().unwrap();

    // When the viewer-level manager resends or revokes it
    let resent = app.post_as(&manager, &format!("{account}/invitations/{id}/resend"), json!({})).await;
    let revoked = app.post_as(&manager, &format!("{account}/invitations/{id}/revoke"), json!({})).await;

    // Then both are refused as the member's own administration would be, and nothing changed
    assert_eq!((resent.status, resent.code()), (403, "role_escalation"), "{}", resent.body);
    assert_eq!((revoked.status, revoked.code()), (403, "role_escalation"), "{}", revoked.body);
    let stored = app.get_as(&owner.token, &format!("{account}/invitations/{id}")).await;
    assert_eq!((stored.body["status"].as_str(), stored.body["send_count"].as_u64()), (Some("sent"), Some(1)));
}

async fn resending_a_pending_invitation_to_a_domain_refused_since_is_refused(app: TestApp) {
    let owner = app.owner("standard", "owner@renew-refused.example").await;
    let invitation = app.invite(&owner, "someone@later-refused.example", &["viewer"]).await;
    let account = format!("/v1/accounts/{}", owner.account_id);
    let refuse = json!({"blocked_email_domains": ["later-refused.example"]});
    assert_eq!(app.patch_as(&owner.token, &format!("{account}/settings"), refuse).await.status, 200);

    let id = invitation["id"].as_str().unwrap();
    let resent = app.post_as(&owner.token, &format!("{account}/invitations/{id}/resend"), json!({})).await;

    assert_eq!((resent.status, resent.code()), (400, "validation_failed"), "{}", resent.body);
    assert_eq!(resent.field_errors(), [("email".to_owned(), "blocked_email_domain".to_owned())]);
}

/// A recovery whose mail SES refuses, to an owner who never activated, leaves them the owner,
/// shows its link's mail failed, and a later recovery to them works (the real mail service only:
/// the outbox mailer never refuses).
#[tokio::test]
async fn a_recovery_whose_mail_ses_refused_shows_it_failed_and_never_removes_the_owner() {
    use std::sync::Arc;
    use tests::app::{ses_mailer, spawn_app_on};
    use tests::emulators::{VERIFIED_SENDER, dynamo_store};
    let store = Arc::new(dynamo_store().await);
    let app = spawn_app_on(store.clone(), ses_mailer(VERIFIED_SENDER).await, |_| {}).await;
    let created = app.create_account("standard", "sleepy@rejected-recovery.example").await;
    let account = created.body["account"]["id"].as_str().unwrap().to_owned();
    let rejecting = spawn_app_on(store.clone(), ses_mailer("unverified@sender.example").await, |_| {}).await;

    let refused = rejecting
        .operator(&recovery(&account), json!({"new_email": "sleepy@rejected-recovery.example"}))
        .await;

    assert_eq!(refused.status, 202, "an SES refusal never fails the request: {}", refused.body);
    let live = app.operator_call(Method::GET, &recovery(&account)).await;
    assert_eq!((live.status, &live.body["delivery"]), (200, &json!("failed")), "{}", live.body);
    let again =
        app.operator(&recovery(&account), json!({"new_email": "sleepy@rejected-recovery.example"})).await;
    assert_eq!(again.status, 202, "{}", again.body);
    let activated = app.activate(&app.link_token("sleepy@rejected-recovery.example").await).await;
    assert_eq!(activated.status, 200, "{}", activated.body);
    assert_eq!(activated.body["memberships"][0]["is_owner"], true);
}

tests::scenarios!(
    an_older_owner_link_dies_when_a_newer_recovery_starts,
    the_activation_link_of_an_owner_who_never_activated_dies_when_a_recovery_starts,
    the_operator_sees_and_cancels_a_pending_owner_recovery,
    the_cleanup_removes_a_lapsed_owner_candidate_but_never_the_owner,
    concurrent_recoveries_and_accepts_leave_exactly_one_owner,
    owner_recovery_is_rate_limited_per_account,
    accept_racing_block_never_undoes_the_block,
    accept_racing_a_role_change_never_undoes_it,
    accept_racing_delete_leaves_no_member_once_delete_succeeded,
    accept_racing_a_resend_ends_in_one_of_their_orders,
    two_concurrent_transfers_hand_the_account_to_one_person,
    reset_confirm_racing_a_profile_edit_keeps_both_or_one_cleanly,
    revoking_a_direct_mode_invitation_removes_the_login_unless_a_password_was_set,
    nobody_administers_a_person_or_invitation_granting_more_than_they_hold,
    a_resend_that_replaces_an_invitation_passes_every_invitation_rule,
    two_concurrent_resends_of_one_invitation_never_answer_500,
    the_sign_in_limiter_counts_people_not_spellings,
    editing_settings_in_a_loop_cannot_stop_an_owner_recovery,
    a_recovery_can_go_back_to_an_owner_who_never_activated,
    a_transfer_does_not_cancel_a_pending_owner_recovery,
    revoke_and_resend_respect_what_a_pending_person_was_raised_to,
    resending_a_pending_invitation_to_a_domain_refused_since_is_refused,
);
