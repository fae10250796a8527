//! Passwords: reset by emailed link, change with the current one, the caller's
//! profile, and the rate limits that slow guessing without locking anyone else out.

use serde_json::json;
use tests::app::{PASSWORD, TestApp};

const NEW_PASSWORD: &str = "Another-Long-Passphrase-7";

async fn a_reset_request_answers_alike_for_known_unknown_and_blocked_emails(app: TestApp) {
    let owner = app.owner("standard", "owner@reset-alike.example").await;
    let member = app.member(&owner, "blocked@reset-alike.example", &["viewer"], &[]).await;
    let member_id = app.user_id(&member).await;
    app.post_as(
        &owner.token,
        &format!("/v1/accounts/{}/members/{member_id}/block", owner.account_id),
        json!({}),
    )
    .await;

    let known = app.post("/v1/password-reset", json!({"email": "owner@reset-alike.example"})).await;
    let unknown = app.post("/v1/password-reset", json!({"email": "nobody@reset-alike.example"})).await;
    let blocked = app.post("/v1/password-reset", json!({"email": "blocked@reset-alike.example"})).await;

    assert_eq!((known.status, unknown.status, blocked.status), (202, 202, 202));
    assert_eq!(known.body, unknown.body);
    assert_eq!(known.body, blocked.body);
    assert_eq!(app.mail_to("owner@reset-alike.example").await.len(), 2, "activation and reset");
    assert!(app.mail_to("nobody@reset-alike.example").await.is_empty());
    assert_eq!(app.mail_to("blocked@reset-alike.example").await.len(), 1, "only the invitation");
    let malformed = app.post("/v1/password-reset", json!({"email": "not an email"})).await;
    assert_eq!(malformed.field_errors(), [("email".to_owned(), "invalid_email".to_owned())]);
}

async fn a_reset_link_works_once_and_ends_every_session(app: TestApp) {
    let owner = app.owner("standard", "owner@reset-once.example").await;
    let session = app.sign_in("owner@reset-once.example", PASSWORD).await;
    app.post("/v1/password-reset", json!({"email": "owner@reset-once.example"})).await;
    let link = app.link_token("owner@reset-once.example").await;
    assert_eq!(app.get("/reset-password").await.status, 200);

    let weak = app.post("/v1/password-reset/confirm", json!({"token": link, "new_password": "short"})).await;
    assert_eq!(weak.field_errors(), [("new_password".to_owned(), "password_too_short".to_owned())]);
    let confirmed =
        app.post("/v1/password-reset/confirm", json!({"token": link, "new_password": NEW_PASSWORD})).await;

    assert_eq!(confirmed.status, 204, "{}", confirmed.body);
    let again =
        app.post("/v1/password-reset/confirm", json!({"token": link, "new_password": NEW_PASSWORD})).await;
    assert_eq!((again.status, again.code()), (400, "invalid_or_expired_token"));
    assert_eq!(app.get_as(&owner.token, "/v1/me").await.code(), "unauthenticated");
    let refreshed =
        app.post("/v1/sessions/refresh", json!({"refresh_token": session.str("refresh_token")})).await;
    assert_eq!(refreshed.code(), "invalid_refresh_token");
    assert_eq!(app.sign_in("owner@reset-once.example", PASSWORD).await.code(), "invalid_credentials");
    assert_eq!(app.sign_in("owner@reset-once.example", NEW_PASSWORD).await.status, 200);
    let notice = &app.mail_to("owner@reset-once.example").await[0];
    assert!(notice["links"].as_array().unwrap().is_empty(), "the password-changed notice carries no link");
}

async fn three_reset_links_live_together_and_using_one_or_an_hour_kills_them(app: TestApp) {
    // Given four reset requests for one person
    app.owner("standard", "owner@reset-late.example").await;
    for _ in 0..4 {
        let requested = app.post("/v1/password-reset", json!({"email": "owner@reset-late.example"})).await;
        assert_eq!(requested.status, 202);
    }
    let confirm = |token: String| {
        app.post("/v1/password-reset/confirm", json!({"token": token, "new_password": NEW_PASSWORD}))
    };

    // Then three links were mailed (the fourth request mailed nothing) and all three work
    let mails = app.mail_to("owner@reset-late.example").await;
    let links: Vec<String> = mails[..3]
        .iter()
        .map(|m| m["links"][0].as_str().unwrap().split_once("#token=").unwrap().1.to_owned())
        .collect();
    assert_eq!(mails.len(), 1 + 3, "the activation mail and three reset mails");
    assert_eq!(confirm(links[2].clone()).await.status, 204, "the oldest still works");
    // And using one killed the others
    assert_eq!(confirm(links[0].clone()).await.code(), "invalid_or_expired_token");

    // And a link of a new request dies after an hour
    app.post("/v1/password-reset", json!({"email": "owner@reset-late.example"})).await;
    let late = app.link_token("owner@reset-late.example").await;
    app.advance_clock(3600).await;
    assert_eq!(confirm(late).await.code(), "invalid_or_expired_token");
    let garbage = app
        .post("/v1/password-reset/confirm", json!({"token": "garbage", "new_password": NEW_PASSWORD}))
        .await;
    assert_eq!(garbage.code(), "invalid_or_expired_token");
}

async fn changing_the_password_needs_the_current_one_and_the_policy(app: TestApp) {
    let owner = app.owner("standard", "owner@change.example").await;

    let wrong = app
        .post_as(
            &owner.token,
            "/v1/me/password",
            json!({"current_password": "not it", "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!((wrong.status, wrong.code()), (401, "invalid_credentials"));
    let common = app
        .post_as(
            &owner.token,
            "/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "1qaz2wsx3edc4rfv"}),
        )
        .await;
    assert_eq!(common.field_errors(), [("new_password".to_owned(), "password_too_common".to_owned())]);
    let changed = app
        .post_as(
            &owner.token,
            "/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.body);
    assert_eq!(app.get_as(&owner.token, "/v1/me").await.status, 401, "the old access token is spent");
    assert_eq!(app.sign_in("owner@change.example", NEW_PASSWORD).await.status, 200);
}

async fn the_caller_edits_their_profile_under_their_accounts_rules(app: TestApp) {
    let owner = app.owner("ua-marketplace", "owner@profile.example").await;
    let other = app.owner("ua-marketplace", "other@profile.example").await;
    let set = app.patch_as(&other.token, "/v1/me", json!({"phone": "0671234567"})).await;
    assert_eq!(set.status, 200, "{}", set.body);

    let latin = app.patch_as(&owner.token, "/v1/me", json!({"first_name": "Olena"})).await;
    assert_eq!(latin.field_errors(), [("first_name".to_owned(), "invalid_name".to_owned())]);
    let taken = app.patch_as(&owner.token, "/v1/me", json!({"phone": "+380 67 123 45 67"})).await;
    assert_eq!((taken.status, taken.code()), (409, "phone_taken"));
    let updated = app
        .patch_as(
            &owner.token,
            "/v1/me",
            json!({"first_name": "Олена", "locale": "uk", "phone": "0501234567"}),
        )
        .await;
    assert_eq!(
        (updated.body["first_name"].clone(), updated.body["phone"].clone()),
        (json!("Олена"), json!("+380501234567"))
    );
    let listed = app.get_as(&owner.token, &format!("/v1/accounts/{}/members", owner.account_id)).await;
    assert_eq!(listed.body["items"][0]["first_name"], "Олена");
    let unknown = app.patch_as(&owner.token, "/v1/me", json!({"email": "new@profile.example"})).await;
    assert_eq!(unknown.field_errors(), [("email".to_owned(), "unknown_field".to_owned())]);
}

async fn guessing_a_password_is_slowed_without_locking_its_owner_out(app: TestApp) {
    app.owner("standard", "victim@guess.example").await;

    for _ in 0..10 {
        assert_eq!(
            app.sign_in("victim@guess.example", "a wrong guess at it").await.code(),
            "invalid_credentials"
        );
    }
    let limited = app.sign_in("victim@guess.example", PASSWORD).await;

    assert_eq!((limited.status, limited.code()), (429, "rate_limited"));
    let wait: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    let elsewhere = app.sign_in_from("127.0.0.2".parse().unwrap(), "victim@guess.example", PASSWORD).await;
    assert_eq!(elsewhere.status, 200, "another client still signs in: {}", elsewhere.body);
    app.advance_clock(wait).await;
    assert_eq!(app.sign_in("victim@guess.example", PASSWORD).await.status, 200);
}

async fn a_stranger_flooding_reset_requests_neither_locks_the_person_out_nor_kills_their_link(app: TestApp) {
    // Given the person holds a reset link
    app.owner("standard", "victim@reset-limit.example").await;
    let body = json!({"email": "victim@reset-limit.example"});
    assert_eq!(app.post("/v1/password-reset", body.clone()).await.status, 202);
    let held = app.link_token("victim@reset-limit.example").await;

    // When a stranger, from another client, asks for the person's reset until refused
    let stranger: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(app.post_from(stranger, "/v1/password-reset", body.clone()).await.status);
    }

    // Then the stranger is limited, the mail to the address is capped silently (three live
    // links at most), and the person's own client still gets 202 and their link still works
    assert_eq!(&statuses[..5], &[202; 5]);
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    let mails = app.mail_to("victim@reset-limit.example").await;
    assert_eq!(mails.len(), 1 + 3, "the activation mail and three reset mails");
    assert_eq!(app.post("/v1/password-reset", body.clone()).await.status, 202);
    let confirmed =
        app.post("/v1/password-reset/confirm", json!({"token": held, "new_password": NEW_PASSWORD})).await;
    assert_eq!(confirmed.status, 204, "{}", confirmed.body);
    let limited = app.post_from(stranger, "/v1/password-reset", body).await;
    assert_eq!((limited.status, limited.code()), (429, "rate_limited"));
    assert!(limited.headers.contains_key("retry-after"));
}

async fn a_new_password_satisfies_every_account_the_person_belongs_to(app: TestApp) {
    let ua = app.owner("ua-marketplace", "both@two-policies.example").await;
    let standard = app.owner("standard", "owner@two-policies.example").await;
    app.member(&standard, "both@two-policies.example", &["viewer"], &[]).await;

    let short = json!({"current_password": PASSWORD, "new_password": "Ab1!x_"});
    let refused = app.post_as(&ua.token, "/v1/me/password", short).await;
    assert_eq!(refused.field_errors(), [("new_password".to_owned(), "password_too_short".to_owned())]);
    let spaced = json!({"current_password": PASSWORD, "new_password": "long enough but with spaces"});
    let refused = app.post_as(&ua.token, "/v1/me/password", spaced).await;
    assert_eq!(
        refused.field_errors(),
        [("new_password".to_owned(), "password_invalid_characters".to_owned())]
    );
    let both = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    assert_eq!(app.post_as(&ua.token, "/v1/me/password", both).await.status, 204);
}

tests::scenarios!(
    a_new_password_satisfies_every_account_the_person_belongs_to,
    a_reset_request_answers_alike_for_known_unknown_and_blocked_emails,
    a_reset_link_works_once_and_ends_every_session,
    three_reset_links_live_together_and_using_one_or_an_hour_kills_them,
    changing_the_password_needs_the_current_one_and_the_policy,
    the_caller_edits_their_profile_under_their_accounts_rules,
    guessing_a_password_is_slowed_without_locking_its_owner_out,
    a_stranger_flooding_reset_requests_neither_locks_the_person_out_nor_kills_their_link,
);
