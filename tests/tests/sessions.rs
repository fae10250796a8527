//! Sessions a person can see and end, on both backends: every access token names its session,
//! and a session ended (by its owner, by a password change, by a user manager of an account, by
//! a block) stops working on the very next request.

use serde_json::{Value, json};
use tests::app::{PASSWORD, TestApp};

async fn sessions(app: &TestApp, token: &str) -> Vec<Value> {
    let listed = app.get_as(token, "/v1/me/sessions").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    listed.body["items"].as_array().expect("items").clone()
}

async fn sessions_are_listed_and_ended_on_the_next_request(app: TestApp) {
    // Given an owner signed in on three devices (the activation is the first)
    let email = "owner@sessions-list.example";
    let owner = app.owner("standard", email).await;
    let laptop = app.sign_in(email, PASSWORD).await;
    let phone = app.sign_in(email, PASSWORD).await;

    // When they list their sessions, then each is there, newest first, this one marked
    let listed = sessions(&app, &owner.token).await;
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(listed.iter().filter(|s| s["current"] == true).count(), 1);
    assert_eq!(listed[2]["current"], true, "the activation's session is the oldest: {listed:?}");
    assert!(listed.iter().all(|s| s["client_ip"] == "127.0.0.1"), "{listed:?}");
    let phone_session = sessions(&app, &phone.str("access_token")).await;
    let phone_id = phone_session.iter().find(|s| s["current"] == true).expect("current")["id"].clone();

    // When they end the phone's session, then its tokens stop at once, and it is gone
    let ended = app.delete_as(&owner.token, &format!("/v1/me/sessions/{}", phone_id.as_str().unwrap())).await;
    assert_eq!(ended.status, 204, "{}", ended.body);
    assert_eq!(app.get_as(&phone.str("access_token"), "/v1/me").await.status, 401);
    let account = format!("/v1/accounts/{}", owner.account_id);
    assert_eq!(app.get_as(&phone.str("access_token"), &account).await.status, 401);
    let refreshed =
        app.post("/v1/sessions/refresh", json!({"refresh_token": phone.str("refresh_token")})).await;
    assert_eq!((refreshed.status, refreshed.code()), (401, "invalid_refresh_token"));
    assert_eq!(sessions(&app, &owner.token).await.len(), 2);

    // When they sign out everywhere else, then only this session works
    let others = app.post_as(&owner.token, "/v1/me/sessions/revoke-others", json!({})).await;
    assert_eq!(others.status, 200, "{}", others.body);
    assert_eq!(app.get_as(&laptop.str("access_token"), "/v1/me").await.status, 401);
    let refreshed =
        app.post("/v1/sessions/refresh", json!({"refresh_token": laptop.str("refresh_token")})).await;
    assert_eq!(refreshed.status, 401, "{}", refreshed.body);
    let token = others.str("access_token");
    assert_eq!(app.get_as(&owner.token, "/v1/me").await.status, 401, "the answer's token replaces it");
    assert_eq!(app.get_as(&token, "/v1/me").await.status, 200);
    let left = sessions(&app, &token).await;
    assert_eq!((left.len(), left[0]["current"].clone()), (1, json!(true)), "{left:?}");

    // And ending the current session signs out
    let own_id = left[0]["id"].as_str().expect("an id").to_owned();
    assert_eq!(app.delete_as(&token, &format!("/v1/me/sessions/{own_id}")).await.status, 204);
    assert_eq!(app.get_as(&token, "/v1/me").await.status, 401);
}

async fn nobody_ends_another_persons_session(app: TestApp) {
    // Given two people, each signed in
    let alice = app.owner("standard", "alice@sessions-other.example").await;
    let bob = app.owner("standard", "bob@sessions-other.example").await;
    let bobs = sessions(&app, &bob.token).await[0]["id"].as_str().expect("an id").to_owned();

    // When one names the other's session, or one that is no id, then it is not found
    for id in [bobs.as_str(), "not-an-id", "00000000-0000-7000-8000-000000000000"] {
        let refused = app.delete_as(&alice.token, &format!("/v1/me/sessions/{id}")).await;
        assert_eq!((refused.status, refused.code()), (404, "not_found"), "{id}: {}", refused.body);
    }

    // Then the other's session still works
    assert_eq!(app.get_as(&bob.token, "/v1/me").await.status, 200);
}

async fn a_password_change_keeps_this_session_and_ends_the_others(app: TestApp) {
    // Given an owner signed in here and on another device
    let email = "owner@sessions-password.example";
    app.owner("standard", email).await;
    let here = app.sign_in(email, PASSWORD).await;
    let other = app.sign_in(email, PASSWORD).await;

    // When they change their password here
    let body = json!({"current_password": PASSWORD, "new_password": "Another-Long-Passphrase-77"});
    let changed = app.post_as(&here.str("access_token"), "/v1/me/password", body).await;
    assert_eq!(changed.status, 204, "{}", changed.body);

    // Then this session goes on (its access token renewed by its refresh token), only it
    assert_eq!(
        app.get_as(&here.str("access_token"), "/v1/me").await.status,
        401,
        "a token of the old version"
    );
    let renewed = app.post("/v1/sessions/refresh", json!({"refresh_token": here.str("refresh_token")})).await;
    assert_eq!(renewed.status, 200, "{}", renewed.body);
    let token = renewed.str("access_token");
    let left = sessions(&app, &token).await;
    assert_eq!((left.len(), left[0]["current"].clone()), (1, json!(true)), "{left:?}");
    assert_eq!(app.get_as(&other.str("access_token"), "/v1/me").await.status, 401);
    let refreshed =
        app.post("/v1/sessions/refresh", json!({"refresh_token": other.str("refresh_token")})).await;
    assert_eq!(refreshed.status, 401, "{}", refreshed.body);
}

async fn a_user_manager_ends_a_members_sessions_in_their_account_only(app: TestApp) {
    // Given a person working in two accounts, and a viewer without users:write in the first
    let email = "shared@sessions-member.example";
    let first = app.owner("standard", "owner@sessions-member-a.example").await;
    let token = app.member(&first, email, &["viewer"], &[]).await;
    let second = app.owner("standard", "owner@sessions-member-b.example").await;
    app.invite(&second, email, &["viewer"]).await;
    assert_eq!(app.accept(&app.link_token(email).await, PASSWORD).await.status, 200);
    let viewer = app.member(&first, "viewer@sessions-member.example", &["viewer"], &[]).await;
    let member = app.member_id(&first, email).await;
    let revoke = format!("{}/members/{member}/sessions/revoke", first.account_path());

    // When the viewer tries, or someone names a member of another account, then it is refused
    let forbidden = app.post_as(&viewer, &revoke, json!({})).await;
    assert_eq!((forbidden.status, forbidden.code()), (403, "forbidden"), "{}", forbidden.body);
    let foreign = app
        .post_as(
            &second.token,
            &format!("{}/members/{member}/sessions/revoke", first.account_path()),
            json!({}),
        )
        .await;
    assert_eq!(foreign.status, 404, "{}", foreign.body);
    assert_eq!(app.get_as(&token, &first.account_path()).await.status, 200);

    // When the first account's owner ends the member's sessions there
    let ended = app.post_as(&first.token, &revoke, json!({})).await;
    assert_eq!(ended.status, 204, "{}", ended.body);

    // Then the member's token stops in that account on the next request, not in the other
    assert_eq!(app.get_as(&token, &first.account_path()).await.status, 401);
    assert_eq!(app.get_as(&token, &second.account_path()).await.status, 200);
    let events = app.get_as(&first.token, &format!("{}/audit-events", first.account_path())).await;
    assert_eq!(events.body["items"][0]["action"], "member.sessions_ended", "{}", events.body);

    // And signing in again works there
    let again = app.sign_in(email, PASSWORD).await;
    assert_eq!(app.get_as(&again.str("access_token"), &first.account_path()).await.status, 200);
}

async fn a_copied_refresh_token_ends_the_chain_and_a_made_up_one_does_not(app: TestApp) {
    // Given a session whose refresh token a thief copied, then exchanged twice
    let email = "owner@sessions-reuse.example";
    app.owner("standard", email).await;
    let copied = app.sign_in(email, PASSWORD).await.str("refresh_token");
    let refresh = |token: &str| app.post("/v1/sessions/refresh", json!({ "refresh_token": token }));
    let once = refresh(&copied).await.str("refresh_token");
    let twice = refresh(&once).await;
    assert_eq!(twice.status, 200, "{}", twice.body);

    // When someone who read the session's id in an access token makes up tokens for it, any
    // generation, then each is refused, and the session goes on
    let family = copied.split('.').next().expect("<family>.<generation>.<secret>");
    for generation in [0, 1, 2, 3] {
        let made_up = format!("{family}.{generation}.{}", "A".repeat(43));
        assert_eq!(refresh(&made_up).await.code(), "invalid_refresh_token", "{generation}");
    }
    let legacy = format!("{family}.{}", "A".repeat(43));
    assert_eq!(refresh(&legacy).await.code(), "invalid_refresh_token");
    let thrice = refresh(&twice.str("refresh_token")).await;
    assert_eq!(thrice.status, 200, "{}", thrice.body);

    // When the person's own token, three generations old, is presented (the thief exchanged
    // it), then it is known for a copy: the whole chain ends, the thief's current token too
    assert_eq!(refresh(&copied).await.code(), "invalid_refresh_token");
    assert_eq!(refresh(&thrice.str("refresh_token")).await.code(), "invalid_refresh_token");
}

tests::scenarios!(
    a_copied_refresh_token_ends_the_chain_and_a_made_up_one_does_not,
    sessions_are_listed_and_ended_on_the_next_request,
    nobody_ends_another_persons_session,
    a_password_change_keeps_this_session_and_ends_the_others,
    a_user_manager_ends_a_members_sessions_in_their_account_only,
);
