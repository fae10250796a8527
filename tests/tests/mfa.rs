//! Two-step verification, end to end on both backends: enrolling an authenticator app, signing
//! in with a code (each accepted once) or a recovery code (each once), the presets' and accounts'
//! policy, the step-up before sensitive actions, and an owner's reset. Codes come from the
//! enrolled secret and the app's clock (`TestApp::code_of`), never from waiting.

use serde_json::json;
use shared::domain::{TotpSecret, UserId};
use tests::app::{PASSWORD, Reply, TestApp};

/// Signs in with the password alone: the challenge of a `202`.
async fn challenge(app: &TestApp, email: &str) -> String {
    let first = app.sign_in(email, PASSWORD).await;
    assert_eq!(first.status, 202, "{}", first.body);
    assert!(first.body.get("access_token").is_none(), "no token before the second step: {}", first.body);
    assert_eq!(first.body["methods"], json!(["totp", "recovery_code"]));
    first.str("challenge")
}

async fn complete(app: &TestApp, challenge: &str, step: serde_json::Value) -> Reply {
    let mut body = step;
    body["challenge"] = json!(challenge);
    app.post("/v1/sessions/mfa", body).await
}

async fn me(app: &TestApp, token: &str) -> Reply {
    app.get_as(token, "/v1/me").await
}

async fn enrolling_turns_on_only_with_a_right_code_and_hands_out_ten_recovery_codes(app: TestApp) {
    // Given an owner without two-step verification
    let owner = app.owner("standard", "owner@mfa-enroll.example").await;
    assert_eq!(me(&app, &owner.token).await.body["mfa"], json!({"enabled": false, "recovery_codes_left": 0}));

    // When they start enrolling without their password, or a wrong one, then nothing starts
    let unconfirmed = app.post_as(&owner.token, "/v1/me/mfa/totp", json!({})).await;
    assert_eq!(
        unconfirmed.field_errors(),
        vec![("password".into(), "required".into())],
        "{}",
        unconfirmed.body
    );
    let wrong = app.post_as(&owner.token, "/v1/me/mfa/totp", json!({"password": "not-the-password-1"})).await;
    assert_eq!((wrong.status, wrong.code()), (401, "invalid_credentials"), "{}", wrong.body);

    // When they start with it, then they get the secret three ways, stored only sealed
    let started = app.post_as(&owner.token, "/v1/me/mfa/totp", json!({"password": PASSWORD})).await;
    assert_eq!(started.status, 200, "{}", started.body);
    let secret = started.str("secret");
    let uri = started.str("otpauth_uri");
    assert!(uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(uri.contains("owner%40mfa-enroll.example") && uri.contains("digits=6&period=30"), "{uri}");
    assert!(started.str("qr_svg").starts_with("<?xml") || started.str("qr_svg").contains("<svg"));
    let user_id = UserId::parse(&app.user_id(&owner.token).await).expect("an id");
    let stored = app.api.app.ports.store.user(&user_id).await.unwrap().expect("the user");
    let sealed = stored.second_factor.expect("an enrollment").sealed_secret;
    assert!(sealed.starts_with("local:") && !sealed.contains(&secret), "{sealed}");
    assert_eq!(me(&app, &owner.token).await.body["mfa"]["enabled"], false, "not on before a code");

    // When a wrong code is given, then it stays off
    let wrong = app.post_as(&owner.token, "/v1/me/mfa/totp/confirm", json!({"code": "000000x"})).await;
    assert_eq!((wrong.status, wrong.code()), (400, "invalid_mfa_code"), "{}", wrong.body);
    assert_eq!(me(&app, &owner.token).await.body["mfa"]["enabled"], false);

    // When the app's code is given, then it is on, with ten recovery codes shown once
    let app_secret = TotpSecret::from_base32(&secret).expect("base32");
    let code = app_secret.code_at(app.api.app.ports.clock.now());
    let confirmed = app.post_as(&owner.token, "/v1/me/mfa/totp/confirm", json!({"code": code})).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let codes = confirmed.body["recovery_codes"].as_array().expect("codes");
    assert_eq!(codes.len(), 10);
    assert_eq!(me(&app, &owner.token).await.status, 401, "the session's token of the old version");
    let token = confirmed.str("access_token");
    assert_eq!(me(&app, &token).await.body["mfa"], json!({"enabled": true, "recovery_codes_left": 10}));

    // And enrolling again, or confirming again, is refused: one app at a time
    let owner = tests::app::Owner { token, ..owner };
    let again = app.post_as(&owner.token, "/v1/me/mfa/totp", json!({"password": PASSWORD})).await;
    assert_eq!((again.status, again.code()), (409, "mfa_already_enabled"));
    let reconfirmed = app.post_as(&owner.token, "/v1/me/mfa/totp/confirm", json!({"code": code})).await;
    assert_eq!((reconfirmed.status, reconfirmed.code()), (409, "mfa_already_enabled"));
}

async fn sign_in_asks_for_the_second_step_and_each_code_and_challenge_works_once(app: TestApp) {
    // Given an owner with two-step verification on
    let email = "owner@mfa-sign-in.example";
    let owner = app.owner("standard", email).await;
    app.enroll(&owner.token).await;

    // When they sign in with the password, then they get a challenge, not a session
    let challenge = challenge(&app, email).await;

    // When the second step is a wrong code, neither or both fields, then it is refused
    let wrong = complete(&app, &challenge, json!({"code": "12345"})).await;
    assert_eq!((wrong.status, wrong.code()), (400, "invalid_mfa_code"), "{}", wrong.body);
    let neither = complete(&app, &challenge, json!({})).await;
    assert_eq!((neither.status, neither.field_errors()), (400, vec![("code".into(), "required".into())]));
    let both = complete(&app, &challenge, json!({"code": "123456", "recovery_code": "abcde-fghij"})).await;
    assert_eq!(both.status, 400, "{}", both.body);

    // When the app's code is given, then they are signed in
    let code = app.code_of(email).await;
    let session = complete(&app, &challenge, json!({"code": code})).await;
    assert_eq!(session.status, 200, "{}", session.body);
    assert_eq!(me(&app, &session.str("access_token")).await.status, 200);

    // And the same code on a new sign-in is refused (replay), and the spent challenge too
    let next = self::challenge(&app, email).await;
    let replayed = complete(&app, &next, json!({"code": code})).await;
    assert_eq!((replayed.status, replayed.code()), (400, "invalid_mfa_code"), "{}", replayed.body);
    let spent = complete(&app, &challenge, json!({"code": app.code_of(email).await})).await;
    assert_eq!((spent.status, spent.code()), (401, "invalid_mfa_challenge"), "{}", spent.body);

    // And a challenge dies five minutes after the password
    app.advance_clock(301).await;
    let late = complete(&app, &next, json!({"code": app.code_of(email).await})).await;
    assert_eq!((late.status, late.code()), (401, "invalid_mfa_challenge"), "{}", late.body);
    for made_up in ["", "not-a-challenge", &"A".repeat(43)] {
        let refused = complete(&app, made_up, json!({"code": "123456"})).await;
        assert_eq!((refused.status, refused.code()), (401, "invalid_mfa_challenge"), "{made_up:?}");
    }
}

async fn two_attempts_with_one_code_start_one_session(app: TestApp) {
    // Given two sign-ins waiting for their second step
    let email = "owner@mfa-race.example";
    let owner = app.owner("standard", email).await;
    app.enroll(&owner.token).await;
    let (first, second) = (challenge(&app, email).await, challenge(&app, email).await);

    // When both are answered with the same code at once
    let code = app.code_of(email).await;
    let (a, b) = tokio::join!(
        complete(&app, &first, json!({"code": code})),
        complete(&app, &second, json!({"code": code}))
    );

    // Then exactly one is signed in, and the other refused without a session
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses[0], 200, "{} / {}", a.body, b.body);
    assert!(matches!(statuses[1], 400 | 401), "{} / {}", a.body, b.body);
    let winner = if a.status == 200 { &a } else { &b };
    let sessions = app.get_as(&winner.str("access_token"), "/v1/me/sessions").await;
    // The owner's activation and this sign-in: the loser started none.
    assert_eq!(sessions.body["items"].as_array().map(Vec::len), Some(2), "{}", sessions.body);
}

async fn two_step_ups_with_one_code_at_once_pass_one(app: TestApp) {
    // Given two sessions of one person with two-step verification
    let email = "owner@mfa-step-race.example";
    let owner = app.owner("standard", email).await;
    let (token, _) = app.enroll(&owner.token).await;
    let other = app.signed_in(email, PASSWORD).await.str("access_token");

    // When both step up with the same code at once (a code read over the person's shoulder)
    let code = app.code_of(email).await;
    let body = json!({"code": code});
    let (a, b) = tokio::join!(
        app.post_as(&token, "/v1/sessions/step-up", body.clone()),
        app.post_as(&other, "/v1/sessions/step-up", body.clone())
    );

    // Then the code passes once: the other is refused (the code spent, or the person changed
    // under its write)
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses[0], 200, "{} / {}", a.body, b.body);
    assert!(matches!(statuses[1], 400 | 409), "{} / {}", a.body, b.body);
}

async fn a_recovery_code_works_once_in_place_of_a_code(app: TestApp) {
    // Given an owner who lost their phone but kept their recovery codes
    let email = "owner@mfa-recovery.example";
    let owner = app.owner("standard", email).await;
    let (_, codes) = app.enroll(&owner.token).await;

    // When they sign in with one, typed in capitals with a space, then they are in
    let typed = codes[3].to_uppercase().replace('-', " ");
    let session = complete(&app, &challenge(&app, email).await, json!({"recovery_code": typed})).await;
    assert_eq!(session.status, 200, "{}", session.body);
    let token = session.str("access_token");
    assert_eq!(me(&app, &token).await.body["mfa"]["recovery_codes_left"], 9);

    // And the same recovery code never works again
    let again = complete(&app, &challenge(&app, email).await, json!({"recovery_code": codes[3]})).await;
    assert_eq!((again.status, again.code()), (400, "invalid_mfa_code"), "{}", again.body);
}

async fn a_password_reset_never_skips_the_second_step(app: TestApp) {
    // Given an owner with two-step verification on who forgot their password
    let email = "owner@mfa-reset.example";
    let owner = app.owner("standard", email).await;
    app.enroll(&owner.token).await;
    let before = challenge(&app, email).await;

    // When they reset it by the emailed link
    let requested = app.post("/v1/password-reset", json!({"email": email})).await;
    assert_eq!(requested.status, 202, "{}", requested.body);
    let token = app.link_token(email).await;
    let new_password = "A-Brand-New-Passphrase-58";
    let confirmed =
        app.post("/v1/password-reset/confirm", json!({"token": token, "new_password": new_password})).await;
    assert_eq!(confirmed.status, 204, "{}", confirmed.body);

    // Then signing in with the new password still asks for the code, and a sign-in the old
    // password started is over
    let signed = app.sign_in(email, new_password).await;
    assert_eq!(signed.status, 202, "{}", signed.body);
    let stale = complete(&app, &before, json!({"code": app.code_of(email).await})).await;
    assert_eq!((stale.status, stale.code()), (401, "invalid_mfa_challenge"), "{}", stale.body);
}

async fn accepting_another_accounts_invitation_waits_for_the_second_step(app: TestApp) {
    // Given a person with two-step verification on in one account, invited into another
    let email = "person@mfa-accept.example";
    let first = app.owner("standard", "owner@mfa-accept-a.example").await;
    let token = app.member(&first, email, &["viewer"], &[]).await;
    app.enroll(&token).await;
    let second = app.owner("standard", "owner@mfa-accept-b.example").await;
    app.invite(&second, email, &["viewer"]).await;

    // When they accept with their password, then the membership is theirs but the sign-in waits
    let accepted = app.accept(&app.link_token(email).await, PASSWORD).await;
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    let member = app.member_named(&second, email).await;
    assert_eq!(member["status"], "active", "{member}");

    // When they answer with the code, then they are signed in to both accounts
    let session = complete(&app, &accepted.str("challenge"), json!({"code": app.code_of(email).await})).await;
    assert_eq!(session.status, 200, "{}", session.body);
    assert_eq!(session.body["memberships"].as_array().map(Vec::len), Some(2), "{}", session.body);
}

async fn the_required_policy_lets_a_member_do_nothing_but_enroll(app: TestApp) {
    // Given an amazon-seller account (the preset requires two-step verification) and a new user
    let owner = app.owner("amazon-seller", "owner@mfa-required.example").await;
    let invited = app
        .post_as(
            &owner.token,
            &format!("{}/invitations", owner.account_path()),
            json!({"email": "clerk@mfa-required.example", "permissions": ["orders:read"]}),
        )
        .await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let session = app.activate(&app.link_token("clerk@mfa-required.example").await).await;
    let clerk = session.str("access_token");

    // Then without a second step they can read themselves and enroll, nothing in the account
    let account = app.get_as(&clerk, &owner.account_path()).await;
    assert_eq!((account.status, account.code()), (403, "mfa_enrollment_required"), "{}", account.body);
    let asked = json!({"account_id": owner.account_id, "permissions": ["orders:read"]});
    let authorize = app.post_as(&clerk, "/v1/authorize", asked.clone()).await;
    assert_eq!((authorize.status, authorize.code()), (403, "mfa_enrollment_required"), "{}", authorize.body);
    assert_eq!(me(&app, &clerk).await.status, 200);

    // When they enroll, then the same session works in the account
    let (clerk, _) = app.enroll(&clerk).await;
    assert_eq!(app.get_as(&clerk, &owner.account_path()).await.body["mfa"], "required");
    assert_eq!(app.post_as(&clerk, "/v1/authorize", asked).await.body["allowed"], true);

    // And they cannot turn it off while the account requires it, nor can the owner lower it
    let off = app
        .post_as(
            &clerk,
            "/v1/me/mfa/totp/disable",
            json!({"password": PASSWORD, "code": app.code_of("clerk@mfa-required.example").await}),
        )
        .await;
    assert_eq!((off.status, off.code()), (409, "mfa_required_by_account"), "{}", off.body);
    let lowered = app
        .patch_as(&owner.token, &format!("{}/settings", owner.account_path()), json!({"mfa": "optional"}))
        .await;
    assert_eq!((lowered.status, lowered.field_errors()), (400, vec![("mfa".into(), "invalid_value".into())]));
}

async fn an_owner_may_raise_the_policy_once_they_have_it_themselves(app: TestApp) {
    // Given a standard account (optional) with a member without two-step verification
    let owner = app.owner("standard", "owner@mfa-raise.example").await;
    let viewer = app.member(&owner, "viewer@mfa-raise.example", &["viewer"], &[]).await;
    let settings = format!("{}/settings", owner.account_path());

    // When the owner requires it without having it, then it is refused: they would lock themselves out
    let early = app.patch_as(&owner.token, &settings, json!({"mfa": "required"})).await;
    assert_eq!((early.status, early.field_errors()), (400, vec![("mfa".into(), "invalid_value".into())]));
    let unknown = app.patch_as(&owner.token, &settings, json!({"mfa": "sometimes"})).await;
    assert_eq!(unknown.field_errors(), vec![("mfa".into(), "invalid_value".into())]);

    // When they enroll and require it, then the member can do nothing but enroll
    let (token, _) = app.enroll(&owner.token).await;
    let raised = app.patch_as(&token, &settings, json!({"mfa": "required"})).await;
    assert_eq!((raised.status, raised.body["mfa"].clone()), (200, json!("required")), "{}", raised.body);
    let refused = app.get_as(&viewer, &owner.account_path()).await;
    assert_eq!(refused.code(), "mfa_enrollment_required");

    // And it is never lowered again, and the change is audited
    let lowered = app.patch_as(&token, &settings, json!({"mfa": "off"})).await;
    assert_eq!(lowered.status, 400, "{}", lowered.body);
    let events = app.get_as(&token, &format!("{}/audit-events", owner.account_path())).await;
    let changed = &events.body["items"][0];
    assert_eq!(
        (changed["action"].clone(), changed["details"]["settings"]["mfa"].clone()),
        (json!("account.settings_changed"), json!("required"))
    );
}

async fn sensitive_actions_ask_for_a_code_at_most_five_minutes_old(app: TestApp) {
    // Given an owner with two-step verification on, stepped up, and a member
    let email = "owner@mfa-step-up.example";
    let owner = app.owner("standard", email).await;
    let (token, _) = app.enroll(&owner.token).await;
    let owner = tests::app::Owner { token: token.clone(), ..owner };
    app.member(&owner, "editor@mfa-step-up.example", &["viewer"], &[]).await;
    let editor = app.member_id(&owner, "editor@mfa-step-up.example").await;
    let roles = format!("{}/members/{editor}/roles", owner.account_path());

    // When they change a role within five minutes of their code, then it is done
    let changed = app.put_as(&token, &roles, json!({"roles": ["editor"], "permissions": []})).await;
    assert_eq!(changed.status, 200, "{}", changed.body);

    // When five minutes have passed since the code, then every sensitive action asks for one
    // first (the token itself lives fifteen)
    app.advance_clock(301).await;
    let plain = token;
    let path = owner.account_path();
    let attempts = [
        app.put_as(&plain, &roles, json!({"roles": ["viewer"], "permissions": []})).await,
        app.delete_as(&plain, &format!("{path}/members/{editor}")).await,
        app.patch_as(&plain, &format!("{path}/settings"), json!({"invitation_ttl_hours": 12})).await,
        app.post_as(
            &plain,
            &format!("{path}/ownership-transfer"),
            json!({"user_id": editor, "password": PASSWORD}),
        )
        .await,
        app.delete_as(&plain, &format!("{path}/members/{editor}/mfa")).await,
        app.post_as(
            &plain,
            "/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "A-Thief-Chose-This-77"}),
        )
        .await,
    ];
    for attempt in &attempts {
        assert_eq!((attempt.status, attempt.code()), (403, "mfa_step_up_required"), "{}", attempt.body);
    }
    // Reads and ordinary changes do not ask
    assert_eq!(app.get_as(&plain, &format!("{path}/members")).await.status, 200);
    assert_eq!(app.post_as(&plain, &format!("{path}/members/{editor}/block"), json!({})).await.status, 200);

    // When they step up, then the fresh token does them
    let stepped = app.stepped_up(&plain, email).await;
    let done = app.put_as(&stepped, &roles, json!({"roles": ["viewer"], "permissions": []})).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let member = app.member_named(&owner, "editor@mfa-step-up.example").await;
    assert_eq!(member["roles"], json!(["viewer"]), "the refused changes changed nothing: {member}");
}

async fn turning_it_off_needs_the_password_and_a_code(app: TestApp) {
    // Given an owner with two-step verification on
    let email = "owner@mfa-off.example";
    let owner = app.owner("standard", email).await;
    let (token, _) = app.enroll(&owner.token).await;

    // When the password or the code is wrong, then it stays on
    let code = app.code_of(email).await;
    let bad_password = app
        .post_as(&token, "/v1/me/mfa/totp/disable", json!({"password": "wrong-password-123", "code": code}))
        .await;
    assert_eq!((bad_password.status, bad_password.code()), (401, "invalid_credentials"));
    let bad_code = app
        .post_as(&token, "/v1/me/mfa/totp/disable", json!({"password": PASSWORD, "code": "000000x"}))
        .await;
    assert_eq!((bad_code.status, bad_code.code()), (400, "invalid_mfa_code"));
    let no_code = app.post_as(&token, "/v1/me/mfa/totp/disable", json!({"password": PASSWORD})).await;
    assert_eq!(no_code.status, 400, "{}", no_code.body);
    assert_eq!(me(&app, &token).await.body["mfa"]["enabled"], true);

    // When both are right, then it is off and the password alone signs in
    let off = app
        .post_as(
            &token,
            "/v1/me/mfa/totp/disable",
            json!({"password": PASSWORD, "code": app.code_of(email).await}),
        )
        .await;
    assert_eq!(off.status, 204, "{}", off.body);
    assert_eq!(app.sign_in(email, PASSWORD).await.status, 200);
    let again =
        app.post_as(&token, "/v1/me/mfa/totp/disable", json!({"password": PASSWORD, "code": "123456"})).await;
    assert_eq!((again.status, again.code()), (409, "mfa_not_enabled"));
}

async fn the_owner_resets_a_members_lost_second_step(app: TestApp) {
    // Given a member who enrolled and lost their phone, and a manager who is not the owner
    let owner = app.owner("standard", "owner@mfa-owner-reset.example").await;
    let email = "lost@mfa-owner-reset.example";
    let lost = app.member(&owner, email, &["viewer"], &[]).await;
    let (lost, _) = app.enroll(&lost).await;
    let lost_id = app.member_id(&owner, email).await;
    let admin = app.member(&owner, "admin@mfa-owner-reset.example", &["administrator"], &[]).await;
    let reset = format!("{}/members/{lost_id}/mfa", owner.account_path());

    // When a manager other than the owner tries, then it is forbidden
    let forbidden = app.delete_as(&admin, &reset).await;
    assert_eq!((forbidden.status, forbidden.code()), (403, "forbidden"), "{}", forbidden.body);
    let own = app
        .delete_as(
            &owner.token,
            &format!("{}/members/{}/mfa", owner.account_path(), app.user_id(&owner.token).await),
        )
        .await;
    assert_eq!((own.status, own.code()), (409, "self_action_forbidden"), "{}", own.body);

    // When the owner resets it, then it is off, their sessions end, they are told, it is audited
    let done = app.delete_as(&owner.token, &reset).await;
    assert_eq!(done.status, 204, "{}", done.body);
    assert_eq!(me(&app, &lost).await.status, 401, "every session of theirs ended");
    let told = app.mail_to(email).await;
    assert!(told[0]["subject"].as_str().unwrap_or_default().contains("two-step"), "{}", told[0]);
    let signed = app.sign_in(email, PASSWORD).await;
    assert_eq!(signed.status, 200, "the password alone signs in again: {}", signed.body);
    let events = app.get_as(&owner.token, &format!("{}/audit-events", owner.account_path())).await;
    assert_eq!(events.body["items"][0]["action"], "member.mfa_reset", "{}", events.body);
    let twice = app.delete_as(&owner.token, &reset).await;
    assert_eq!((twice.status, twice.code()), (409, "mfa_not_enabled"));

    // And a person who works in another account too is theirs to manage, not this owner's
    let elsewhere = app.owner("standard", "owner@mfa-owner-reset-b.example").await;
    let shared_email = "shared@mfa-owner-reset.example";
    let shared = app.member(&owner, shared_email, &["viewer"], &[]).await;
    app.enroll(&shared).await;
    app.invite(&elsewhere, shared_email, &["viewer"]).await;
    let accepted = app.accept(&app.link_token(shared_email).await, PASSWORD).await;
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    let shared_id = app.member_id(&owner, shared_email).await;
    let refused =
        app.delete_as(&owner.token, &format!("{}/members/{shared_id}/mfa", owner.account_path())).await;
    assert_eq!((refused.status, refused.code()), (409, "member_of_other_accounts"), "{}", refused.body);
}

async fn every_code_tried_counts_against_the_person_whatever_the_route(app: TestApp) {
    // Given an owner with two-step verification on, whose access token was stolen
    let email = "owner@mfa-guess.example";
    let owner = app.owner("standard", email).await;
    let (token, _) = app.enroll(&owner.token).await;

    // When the thief guesses step-up codes, then after ten tries (one counted at enrollment)
    // every try is refused with a wait, the right code too
    let mut statuses = Vec::new();
    for guess in 0..10 {
        let code = format!("{:06}", 100_000 + guess);
        statuses.push(app.post_as(&token, "/v1/sessions/step-up", json!({"code": code})).await.status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 1, "{statuses:?}");
    let right = app.post_as(&token, "/v1/sessions/step-up", json!({"code": app.code_of(email).await})).await;
    assert_eq!((right.status, right.code()), (429, "rate_limited"), "{}", right.body);
    assert!(right.headers.get("retry-after").is_some());

    // And the person's own sign-in is held to the same count until the window passes
    let challenge = challenge(&app, email).await;
    let held = complete(&app, &challenge, json!({"code": app.code_of(email).await})).await;
    assert_eq!(held.status, 429, "{}", held.body);
    app.advance_clock(900).await;
    let challenge = self::challenge(&app, email).await;
    let later = complete(&app, &challenge, json!({"code": app.code_of(email).await})).await;
    assert_eq!(later.status, 200, "{}", later.body);
}

async fn turning_it_on_ends_the_sessions_begun_with_the_password_alone_and_tells_the_person(app: TestApp) {
    // Given an owner signed in here, and someone who had their password signed in elsewhere
    let email = "owner@mfa-on.example";
    let owner = app.owner("standard", email).await;
    let intruder = app.sign_in(email, PASSWORD).await;

    // When the owner turns two-step verification on here
    let (token, _) = app.enroll(&owner.token).await;

    // Then the other session is over, this one goes on, and the owner is told
    assert_eq!(me(&app, &intruder.str("access_token")).await.status, 401);
    let refreshed =
        app.post("/v1/sessions/refresh", json!({"refresh_token": intruder.str("refresh_token")})).await;
    assert_eq!(refreshed.status, 401, "{}", refreshed.body);
    assert_eq!(me(&app, &token).await.status, 200);
    let told = app.mail_to(email).await;
    assert_eq!(told[0]["subject"], "Two-step verification is on", "{}", told[0]);

    // And turning it off tells them too
    let off = json!({"password": PASSWORD, "code": app.code_of(email).await});
    assert_eq!(app.post_as(&token, "/v1/me/mfa/totp/disable", off).await.status, 204);
    assert_eq!(app.mail_to(email).await[0]["subject"], "Two-step verification is off");
}

async fn a_stolen_token_alone_mints_no_api_key(app: TestApp) {
    // Given an owner with two-step verification on whose code is more than five minutes old
    let owner = app.owner("standard", "owner@mfa-keys.example").await;
    let (token, _) = app.enroll(&owner.token).await;
    let keys = format!("{}/api-keys", owner.account_path());
    let made = app.post_as(&token, &keys, json!({"name": "script", "permissions": ["orders:read"]})).await;
    assert_eq!(made.status, 201, "{}", made.body);
    app.advance_clock(301).await;

    // When the token alone creates or rotates a key, then it is asked for a code
    let create = app.post_as(&token, &keys, json!({"name": "thief", "permissions": ["orders:read"]})).await;
    assert_eq!((create.status, create.code()), (403, "mfa_step_up_required"), "{}", create.body);
    let rotate = format!("{keys}/{}/rotate", made.str("id"));
    let rotated = app.post_as(&token, &rotate, json!({"grace_hours": 0})).await;
    assert_eq!((rotated.status, rotated.code()), (403, "mfa_step_up_required"), "{}", rotated.body);
}

tests::scenarios!(
    every_code_tried_counts_against_the_person_whatever_the_route,
    turning_it_on_ends_the_sessions_begun_with_the_password_alone_and_tells_the_person,
    a_stolen_token_alone_mints_no_api_key,
    enrolling_turns_on_only_with_a_right_code_and_hands_out_ten_recovery_codes,
    sign_in_asks_for_the_second_step_and_each_code_and_challenge_works_once,
    two_attempts_with_one_code_start_one_session,
    two_step_ups_with_one_code_at_once_pass_one,
    a_recovery_code_works_once_in_place_of_a_code,
    a_password_reset_never_skips_the_second_step,
    accepting_another_accounts_invitation_waits_for_the_second_step,
    the_required_policy_lets_a_member_do_nothing_but_enroll,
    an_owner_may_raise_the_policy_once_they_have_it_themselves,
    sensitive_actions_ask_for_a_code_at_most_five_minutes_old,
    turning_it_off_needs_the_password_and_a_code,
    the_owner_resets_a_members_lost_second_step,
);
