//! The first whole flow: account → invitation email → activation → signed in, and
//! the ways it must refuse.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::future::join_all;
use serde_json::json;
use tests::app::{PASSWORD, TestApp};

async fn ozon_owner_invites_an_employee_who_activates_and_signs_in(app: TestApp) {
    // Given an Ozon account whose owner activated from the emailed link
    let owner = app.owner("ozon", "director@shop.example").await;
    let account = format!("/v1/accounts/{}", owner.account_id);
    let me = app.get_as(&owner.token, "/v1/me").await;
    assert_eq!(me.body["memberships"][0]["is_owner"], true);

    // When the owner invites Anna as a product manager
    let invited = app
        .post_as(
            &owner.token,
            &format!("{account}/invitations"),
            json!({"email": "anna@shop.example", "roles": ["product_manager"]}),
        )
        .await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    assert_eq!(invited.body["status"], "sent");

    // Then she is listed not_activated and the invitation sent
    let members = app.get_as(&owner.token, &format!("{account}/members?q=anna")).await;
    assert_eq!(members.body["items"][0]["status"], "not_activated");
    assert_eq!(
        members.body["items"][0]["effective_permissions"],
        json!(["analytics:read", "prices:write", "products:write"])
    );
    let invitations = app.get_as(&owner.token, &format!("{account}/invitations?email=ANNA")).await;
    assert_eq!(invitations.body["items"][0]["status"], "sent");
    assert_eq!(invitations.body["next_cursor"], json!(null));

    // When she opens the link from her email and sets a password
    let token = app.link_token("anna@shop.example").await;
    let inspected = app.post("/v1/invitations/inspect", json!({"token": token})).await;
    assert_eq!(inspected.status, 200);
    assert_eq!(inspected.body["account_name"], "ozon shop");
    assert_eq!(inspected.body["requires_password"], true);
    let accepted = app.accept(&token, PASSWORD).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(accepted.body["memberships"][0]["roles"], json!(["product_manager"]));

    // Then she can sign in, and the lists show her active and the invitation accepted
    let signed_in = app.sign_in("Anna@Shop.Example", PASSWORD).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    let anna = signed_in.str("user_id");
    let member = app.get_as(&owner.token, &format!("{account}/members/{anna}")).await;
    assert_eq!(member.body["status"], "active");
    assert!(member.body["last_login_at"].is_string());
    let invitation = app.get_as(&owner.token, &format!("{account}/invitations/{}", invited.str("id"))).await;
    assert_eq!(invitation.body["status"], "accepted");

    // And her refresh token rotates: the new one works, the old one is dead
    let refreshed =
        app.post("/v1/sessions/refresh", json!({"refresh_token": signed_in.str("refresh_token")})).await;
    assert_eq!(refreshed.status, 200);
    assert_ne!(refreshed.str("refresh_token"), signed_in.str("refresh_token"));
    let replayed =
        app.post("/v1/sessions/refresh", json!({"refresh_token": signed_in.str("refresh_token")})).await;
    assert_eq!((replayed.status, replayed.code()), (401, "invalid_refresh_token"));

    // And an invitation to an address at .su is refused with the field named
    let refused = app
        .post_as(
            &owner.token,
            &format!("{account}/invitations"),
            json!({"email": "ivan@shop.su", "roles": ["product_manager"]}),
        )
        .await;
    assert_eq!((refused.status, refused.code()), (400, "validation_failed"));
    assert_eq!(refused.field_errors(), [("email".to_owned(), "blocked_email_domain".to_owned())]);
}

async fn sixteen_concurrent_accepts_of_one_link_sign_in_exactly_one(app: TestApp) {
    app.create_account("standard", "owner@race.example").await;
    let token = app.link_token("owner@race.example").await;

    let replies = join_all((0..16).map(|_| app.accept(&token, PASSWORD))).await;

    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    let refusals: Vec<(u16, String)> =
        replies.iter().filter(|r| r.status != 200).map(|r| (r.status, r.code().to_owned())).collect();
    assert!(refusals.iter().all(|(_, code)| code == "invitation_already_accepted"), "{refusals:?}");
}

async fn used_tampered_unknown_and_expired_links_fail_with_their_codes(app: TestApp) {
    app.create_account("standard", "used@links.example").await;
    let used = app.link_token("used@links.example").await;
    assert_eq!(app.accept(&used, PASSWORD).await.status, 200);
    app.create_account("amazon-associates", "late@links.example").await;
    let late = app.link_token("late@links.example").await;

    let mut tampered = used.clone();
    tampered.replace_range(0..1, if used.starts_with('A') { "B" } else { "A" });
    for (token, status, code) in [
        (used.as_str(), 409, "invitation_already_accepted"),
        (tampered.as_str(), 404, "invitation_not_found"),
        ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 404, "invitation_not_found"),
        ("not-a-token", 404, "invitation_not_found"),
    ] {
        let inspected = app.post("/v1/invitations/inspect", json!({"token": token})).await;
        assert_eq!((inspected.status, inspected.code()), (status, code), "inspect {token}");
        let accepted = app.accept(token, PASSWORD).await;
        assert_eq!((accepted.status, accepted.code()), (status, code), "accept {token}");
    }

    // Amazon Associates links live 48 hours: alive a second before, dead at the boundary
    app.advance_clock(48 * 3600 - 5).await;
    assert_eq!(app.post("/v1/invitations/inspect", json!({"token": late})).await.status, 200);
    app.advance_clock(5).await;
    let expired = app.accept(&late, PASSWORD).await;
    assert_eq!((expired.status, expired.code()), (410, "invitation_expired"));
}

async fn a_product_manager_cannot_invite_and_nobody_grants_what_they_lack(app: TestApp) {
    let owner = app.owner("ozon", "boss@escalation.example").await;
    let invitations = format!("/v1/accounts/{}/invitations", owner.account_id);
    let manager = app.member(&owner, "pm@escalation.example", &["product_manager"], &[]).await;
    let recruiter = app.member(&owner, "hr@escalation.example", &["product_manager"], &["users:write"]).await;

    let by_manager = app
        .post_as(
            &manager,
            &invitations,
            json!({"email": "x@escalation.example", "roles": ["product_manager"]}),
        )
        .await;
    assert_eq!((by_manager.status, by_manager.code()), (403, "forbidden"));

    let beyond = app
        .post_as(
            &recruiter,
            &invitations,
            json!({"email": "y@escalation.example", "roles": ["financial_manager"]}),
        )
        .await;
    assert_eq!((beyond.status, beyond.code()), (403, "role_escalation"));
    let within = app
        .post_as(
            &recruiter,
            &invitations,
            json!({"email": "z@escalation.example", "roles": ["product_manager"]}),
        )
        .await;
    assert_eq!(within.status, 201, "{}", within.body);

    let listed = app.get_as(&manager, &format!("/v1/accounts/{}/members", owner.account_id)).await;
    assert_eq!((listed.status, listed.code()), (403, "forbidden"));
}

async fn another_accounts_owner_sees_404_everywhere(app: TestApp) {
    let ours = app.owner("standard", "ours@tenants.example").await;
    let theirs = app.owner("standard", "theirs@tenants.example").await;
    let account = format!("/v1/accounts/{}", ours.account_id);

    for path in [
        account.clone(),
        format!("{account}/members"),
        format!("{account}/invitations"),
        format!("{account}/roles"),
    ] {
        let reply = app.get_as(&theirs.token, &path).await;
        assert_eq!((reply.status, reply.code()), (404, "not_found"), "{path}");
    }
    let invite = app
        .post_as(
            &theirs.token,
            &format!("{account}/invitations"),
            json!({"email": "a@b.example", "roles": ["viewer"]}),
        )
        .await;
    assert_eq!((invite.status, invite.code()), (404, "not_found"));
    let unknown = app.get_as(&theirs.token, "/v1/accounts/not-an-id").await;
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
}

async fn bad_bodies_get_clear_4xx_problems(app: TestApp) {
    let unknown =
        app.post("/v1/sessions", json!({"email": "a@b.example", "password": "x", "is_admin": true})).await;
    assert_eq!((unknown.status, unknown.code()), (400, "validation_failed"));
    assert_eq!(unknown.field_errors(), [("is_admin".to_owned(), "unknown_field".to_owned())]);
    assert_eq!(unknown.headers["content-type"], "application/problem+json");

    let malformed = app.raw("/v1/sessions", "application/json", b"{\"email\":".to_vec()).await;
    assert_eq!(malformed.field_errors(), [("body".to_owned(), "malformed_json".to_owned())]);

    let oversized = app.raw("/v1/sessions", "application/json", vec![b' '; 64 * 1024]).await;
    assert_eq!((oversized.status, oversized.code()), (413, "payload_too_large"));

    let not_json = app.raw("/v1/sessions", "text/plain", b"email=a".to_vec()).await;
    assert_eq!(not_json.status, 415);

    let no_route = app.get("/v1/nowhere").await;
    assert_eq!((no_route.status, no_route.code()), (404, "not_found"));
    let wrong_method = app.get("/v1/sessions").await;
    assert_eq!((wrong_method.status, wrong_method.headers["allow"].to_str().unwrap()), (405, "POST"));
}

async fn sign_in_answers_the_same_for_unknown_emails_and_wrong_passwords(app: TestApp) {
    app.owner("standard", "known@signin.example").await;

    let wrong = app.sign_in("known@signin.example", "not the right password at all").await;
    let unknown = app.sign_in("nobody@signin.example", "not the right password at all").await;
    let garbage = app.sign_in("not an email", "x").await;

    for reply in [&wrong, &unknown, &garbage] {
        assert_eq!((reply.status, reply.code()), (401, "invalid_credentials"));
    }
    assert_eq!(wrong.body, unknown.body);
}

async fn access_tokens_are_required_and_checked(app: TestApp) {
    let owner = app.owner("standard", "tokens@access.example").await;

    assert_eq!(app.get("/v1/me").await.code(), "unauthenticated");
    assert_eq!(app.get_as("garbage", "/v1/me").await.code(), "unauthenticated");
    let mut forged = owner.token.clone();
    forged.push('x');
    assert_eq!(app.get_as(&forged, "/v1/me").await.code(), "unauthenticated");

    app.advance_clock(900).await;
    assert_eq!(
        app.get_as(&owner.token, "/v1/me").await.code(),
        "unauthenticated",
        "expired after 15 minutes"
    );

    let keys = app.get("/.well-known/jwks.json").await;
    assert_eq!(keys.body["keys"][0]["kty"], "OKP");
    let header = URL_SAFE_NO_PAD.decode(owner.token.split('.').next().unwrap()).unwrap();
    let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], keys.body["keys"][0]["kid"]);
}

async fn the_same_email_cannot_be_invited_twice_into_one_account(app: TestApp) {
    let owner = app.owner("standard", "owner@twice.example").await;
    let invitations = format!("/v1/accounts/{}/invitations", owner.account_id);
    let body = json!({"email": "sam@twice.example", "roles": ["viewer"]});

    assert_eq!(app.post_as(&owner.token, &invitations, body.clone()).await.status, 201);
    assert_eq!(app.post_as(&owner.token, &invitations, body.clone()).await.code(), "invitation_pending");
    app.accept(&app.link_token("sam@twice.example").await, PASSWORD).await;
    assert_eq!(app.post_as(&owner.token, &invitations, body).await.code(), "email_taken");
    let owner_again = app
        .post_as(&owner.token, &invitations, json!({"email": "owner@twice.example", "roles": ["viewer"]}))
        .await;
    assert_eq!(owner_again.code(), "email_taken");
}

async fn the_activation_page_keeps_the_token_out_of_referrers(app: TestApp) {
    let page = app.get("/activate").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    assert!(page.headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    assert!(page.body.as_str().unwrap().contains("/v1/invitations/inspect"));
}

async fn sixteen_concurrent_invitations_of_one_email_create_exactly_one(app: TestApp) {
    let owner = app.owner("standard", "owner@invite-race.example").await;
    let path = format!("/v1/accounts/{}/invitations", owner.account_id);
    let body = json!({"email": "wanted@invite-race.example", "roles": ["viewer"]});

    let replies = join_all((0..16).map(|_| app.post_as(&owner.token, &path, body.clone()))).await;

    let created = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        created,
        1,
        "{:?}",
        replies.iter().map(|r| (r.status, r.code().to_owned())).collect::<Vec<_>>()
    );
    // Each other one met the winner (409), or, past the address's hourly mail limit, which
    // counts every attempt before anything is written, was refused (429)
    assert!(replies.iter().filter(|r| r.status != 201).all(|r| matches!(r.status, 409 | 429)));
    let listed = app.get_as(&owner.token, &format!("{path}?email=wanted")).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
}

async fn two_accounts_racing_for_one_never_used_email_leave_one_winner(app: TestApp) {
    let first = app.owner("amazon-seller", "first@email-race.example").await;
    let second = app.owner("amazon-seller", "second@email-race.example").await;
    let body = json!({"email": "contested@email-race.example", "permissions": ["reports:read"]});

    let (to_first, to_second) = (
        format!("/v1/accounts/{}/invitations", first.account_id),
        format!("/v1/accounts/{}/invitations", second.account_id),
    );
    let (a, b) = futures::join!(
        app.post_as(&first.token, &to_first, body.clone()),
        app.post_as(&second.token, &to_second, body.clone()),
    );

    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{} / {}", a.body, b.body);
    assert_eq!([a.code(), b.code()].iter().filter(|c| **c == "email_taken").count(), 1);
}

async fn two_accounts_inviting_one_new_email_at_once_both_succeed_where_emails_may_be_shared(app: TestApp) {
    let first = app.owner("standard", "first@shared-email.example").await;
    let second = app.owner("standard", "second@shared-email.example").await;
    let body = json!({"email": "freelancer@shared-email.example", "roles": ["viewer"]});

    let (to_first, to_second) = (
        format!("/v1/accounts/{}/invitations", first.account_id),
        format!("/v1/accounts/{}/invitations", second.account_id),
    );
    let (a, b) = futures::join!(
        app.post_as(&first.token, &to_first, body.clone()),
        app.post_as(&second.token, &to_second, body.clone()),
    );

    assert_eq!((a.status, b.status), (201, 201), "{} / {}", a.body, b.body);
    assert_eq!(app.mail_to("freelancer@shared-email.example").await.len(), 2);
}

tests::scenarios!(
    two_accounts_inviting_one_new_email_at_once_both_succeed_where_emails_may_be_shared,
    sixteen_concurrent_invitations_of_one_email_create_exactly_one,
    two_accounts_racing_for_one_never_used_email_leave_one_winner,
    ozon_owner_invites_an_employee_who_activates_and_signs_in,
    sixteen_concurrent_accepts_of_one_link_sign_in_exactly_one,
    used_tampered_unknown_and_expired_links_fail_with_their_codes,
    a_product_manager_cannot_invite_and_nobody_grants_what_they_lack,
    another_accounts_owner_sees_404_everywhere,
    bad_bodies_get_clear_4xx_problems,
    sign_in_answers_the_same_for_unknown_emails_and_wrong_passwords,
    access_tokens_are_required_and_checked,
    the_same_email_cannot_be_invited_twice_into_one_account,
    the_activation_page_keeps_the_token_out_of_referrers,
);
