//! The pages in a real browser: Debian's Chromium driven by playwright-core, with axe-core on
//! every screen (the scripts and their pinned packages are in tests/browser/, installed by
//! `make test` through tests/browser/install.sh). Screenshots are kept in
//! target/browser-artifacts/.

use serde_json::{Value, json};
use tests::app::{PASSWORD, TestApp};
use tests::browser::{artifacts, browse};

async fn a_new_owner_of_an_account_requiring_two_step_verification_enrolls_on_the_activation_page(
    app: TestApp,
) {
    // Given an amazon-seller account (its preset requires two-step verification) and its
    // owner's emailed link
    let email = "owner@browser-mfa.example";
    assert_eq!(app.create_account("amazon-seller", email).await.status, 201);
    let token = app.link_token(email).await;

    // When the owner opens it in Chromium, chooses a password, mistypes the app's code once,
    // then types it
    let port = app.base.rsplit(':').next().unwrap_or_default();
    let seen =
        browse("activate-mfa.mjs", &[&app.base, &token, &artifacts(&format!("activate-mfa-{port}"))]).await;

    // Then the page asked for the code, said the wrong one was wrong, and ended on ten recovery
    // codes; the link is used; no screen has an accessibility violation
    assert_eq!(seen["heading"], "Turn on two-step verification", "{seen}");
    assert_eq!(seen["qr"], true, "{seen}");
    assert!(seen["wrong"].as_str().is_some_and(|w| w.contains("isn't right")), "{seen}");
    assert_eq!(seen["done"], "Two-step verification is on.", "{seen}");
    assert_eq!(seen["recovery_codes"].as_array().map(Vec::len), Some(10), "{seen}");
    assert_eq!(seen["used"], "This invitation has already been used", "{seen}");
    assert_eq!(seen["violations"], json!([]), "{seen}");

    // And the server agrees: the owner's sign-in asks for a code
    assert_eq!(app.sign_in(email, PASSWORD).await.status, 202);
}

async fn an_invitees_activation_page_shows_the_inviters_note_as_text(app: TestApp) {
    // Given an invitation whose note has two lines and markup in it
    let owner = app.owner("standard", "owner@browser-note.example").await;
    let note = "Welcome, Anna!\nStart with <img src=x onerror=alert(1)> the <b>returns</b> queue.";
    let path = format!("{}/invitations", owner.account_path());
    let invited = app
        .post_as(
            &owner.token,
            &path,
            json!({"email": "anna@browser-note.example", "roles": ["viewer"], "message": note}),
        )
        .await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let token = app.link_token("anna@browser-note.example").await;

    // When Anna opens her link in Chromium, wide and narrow
    let port = app.base.rsplit(':').next().unwrap_or_default();
    let seen =
        browse("activate-note.mjs", &[&app.base, &token, &artifacts(&format!("activate-note-{port}"))]).await;

    // Then each time the note shows under its label as she would read it: two lines, the markup
    // as text and no element made of it; no screen has an accessibility violation
    for shown in seen["notes"].as_array().expect("notes") {
        assert_eq!(shown["label"], "A note from whoever invited you:", "{seen}");
        assert_eq!(shown["text"], note, "{seen}");
        assert_eq!((&shown["elements"], &shown["visible"]), (&json!(0), &json!(true)), "{seen}");
    }
    assert_eq!(seen["notes"].as_array().map(Vec::len), Some(2), "{seen}");
    assert_eq!(seen["violations"], json!([]), "{seen}");
}

async fn an_invitee_asks_for_a_new_link_from_the_page_of_an_expired_one(app: TestApp) {
    // Given Anna's invitation, two days past its link
    let owner = app.owner("standard", "owner@browser-renew.example").await;
    app.invite(&owner, "anna@browser-renew.example", &["viewer"]).await;
    let token = app.link_token("anna@browser-renew.example").await;
    app.advance_clock(49 * 3600).await;

    // When she opens the link in Chromium and, with the keyboard, asks for a new one (wide,
    // then narrow)
    let port = app.base.rsplit(':').next().unwrap_or_default();
    let seen =
        browse("activate-renewal.mjs", &[&app.base, &token, &artifacts(&format!("activate-renewal-{port}"))])
            .await;

    // Then the page said the link expired and that her request is on its way, with no
    // accessibility violation
    for screen in seen["screens"].as_array().expect("screens") {
        assert_eq!(screen["expired"], "This invitation has expired", "{seen}");
        assert_eq!(screen["asked"], "Your request is on its way", "{seen}");
    }
    assert_eq!(seen["screens"].as_array().map(Vec::len), Some(2), "{seen}");
    assert_eq!(seen["violations"], json!([]), "{seen}");

    // And the owner was mailed once, whatever the second click did
    let asked: Vec<Value> = app
        .mail_to("owner@browser-renew.example")
        .await
        .into_iter()
        .filter(|m| m["subject"].as_str().is_some_and(|s| s.contains("asks for a new")))
        .collect();
    assert_eq!(asked.len(), 1, "{asked:?}");
}

async fn an_owner_signs_in_to_the_console_finds_a_member_and_signs_out(app: TestApp) {
    // Given an owner whose account has an active member and a pending invitation
    let owner = app.owner("standard", "owner@browser-console.example").await;
    let path = format!("{}/invitations", owner.account_path());
    let anna = json!({"email": "anna@browser-console.example", "roles": ["viewer"], "first_name": "Anna"});
    assert_eq!(app.post_as(&owner.token, &path, anna).await.status, 201);
    app.member(&owner, "bohdan@browser-console.example", &["editor"], &[]).await;

    // When the owner opens the console in Chromium, signs in, searches for Anna, reloads and
    // signs out (wide, then narrow)
    let port = app.base.rsplit(':').next().unwrap_or_default();
    let artifacts = artifacts(&format!("console-{port}"));
    let seen = browse("console-members.mjs", &[&app.base, &owner.email, PASSWORD, &artifacts]).await;

    // Then each time the members were listed, the search found Anna alone, a reload kept the
    // session and signing out ended it, with no script error and no accessibility violation
    for screen in seen["screens"].as_array().expect("screens") {
        assert_eq!(screen["heading"], "Members", "{seen}");
        let listed: Vec<&str> =
            screen["listed"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert_eq!(listed.len(), 3, "{seen}");
        assert!(
            listed.iter().any(|r| r.contains("owner@browser-console.example") && r.contains("Owner")),
            "{seen}"
        );
        let searched = screen["searched"][0].as_str().unwrap_or_default();
        assert!(
            searched.contains("anna@browser-console.example") && searched.contains("Not activated"),
            "{seen}"
        );
        assert_eq!((&screen["after_reload"], &screen["signed_out"]), (&json!(true), &json!(true)), "{seen}");
    }
    assert_eq!(seen["screens"].as_array().map(Vec::len), Some(2), "{seen}");
    assert_eq!((&seen["errors"], &seen["violations"]), (&json!([]), &json!([])), "{seen}");
}

tests::scenarios!(
    an_owner_signs_in_to_the_console_finds_a_member_and_signs_out,
    a_new_owner_of_an_account_requiring_two_step_verification_enrolls_on_the_activation_page,
    an_invitees_activation_page_shows_the_inviters_note_as_text,
    an_invitee_asks_for_a_new_link_from_the_page_of_an_expired_one,
);
