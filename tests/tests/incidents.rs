//! Incident replays: one scenario per class of failure that hit peer products (team and
//! invitation systems of other marketplaces and SaaS tools), replayed against Teamgate over HTTP.
//! Each test's doc comment names the incident class; the test drives the attack or the race the
//! way it happened and then reads the resulting state back through the API, so a regression
//! shows as the incident itself, not as a changed implementation detail.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tests::app::{Owner, PASSWORD, Reply, TestApp};

/// A second password satisfying the standard policy.
const OTHER_PASSWORD: &str = "Another-Horse-Battery-77";
/// A third one.
const THIRD_PASSWORD: &str = "Yet-Another-Staple-Battery-93";

/// What a forged or mistyped host would be.
const HOSTILE_HOST: &str = "evil.example";

/// Every member's email in the account, sorted.
async fn member_emails(app: &TestApp, token: &str, account_id: &str) -> Vec<String> {
    let mut emails: Vec<String> = app
        .members_as(token, account_id)
        .await
        .iter()
        .map(|m| m["email"].as_str().expect("email").to_owned())
        .collect();
    emails.sort();
    emails
}

/// The user ids of the members flagged `is_owner`.
async fn owners(app: &TestApp, token: &str, account_id: &str) -> Vec<String> {
    app.members_as(token, account_id)
        .await
        .iter()
        .filter(|m| m["is_owner"] == true)
        .map(|m| m["user_id"].as_str().expect("user_id").to_owned())
        .collect()
}

/// `POST /v1/invitations/accept` with a bearer token, as a signed-in person's browser would send it.
async fn accept_signed_in(app: &TestApp, bearer: &str, body: Value) -> Reply {
    app.send(reqwest::Method::POST, "/v1/invitations/accept", Some(bearer), Some(body)).await
}

async fn inspect(app: &TestApp, token: &str) -> Reply {
    app.post("/v1/invitations/inspect", json!({"token": token})).await
}

fn carries_no_tokens(reply: &Reply) -> bool {
    reply.body.get("access_token").is_none()
        && reply.body.get("refresh_token").is_none()
        && !reply.body.to_string().contains("eyJ")
        && !reply.headers.contains_key("set-cookie")
}

/// A string of the exact shape of a link secret (32 random bytes, base64url) that nobody minted.
fn random_well_formed_token() -> String {
    let mut bytes = uuid::Uuid::new_v4().as_bytes().to_vec();
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `token` with the character at `at` replaced by another base64url character.
fn flipped(token: &str, at: usize) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    chars[at] = if chars[at] == 'Q' { 'R' } else { 'Q' };
    chars.into_iter().collect()
}

/// Incident class: invitation token forgery — a link token altered or re-signed must not lead
/// anywhere, and probing with forgeries must not consume or activate the real invitation.
async fn tampered_and_forged_invitation_tokens_lead_nowhere(app: TestApp) {
    // Given a pending invitation and its mailed token
    let owner = app.owner("standard", "owner@inc-forgery.example").await;
    let invited = app.invite(&owner, "target@inc-forgery.example", &["viewer"]).await;
    let token = app.link_token("target@inc-forgery.example").await;
    let session = app.sign_in("owner@inc-forgery.example", PASSWORD).await;
    let b64 = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let claims = json!({"sub": invited["id"].as_str().unwrap(), "account_id": owner.account_id, "purpose": "invitation"});
    let unsigned_jwt = format!("{}.{}.", b64(json!({"alg": "none", "typ": "JWT"})), b64(claims.clone()));
    let hmac_jwt = format!(
        "{}.{}.{}",
        b64(json!({"alg": "HS256", "typ": "JWT"})),
        b64(claims),
        URL_SAFE_NO_PAD.encode([7u8; 32])
    );
    let swapped_case: String = token
        .chars()
        .map(|c| if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
        .collect();
    let forgeries = [
        ("first character flipped", flipped(&token, 0)),
        ("middle character flipped", flipped(&token, 21)),
        ("last character flipped", flipped(&token, 42)),
        ("case swapped", swapped_case),
        ("reversed", token.chars().rev().collect()),
        ("one character short", token[..42].to_owned()),
        ("one character long", format!("{token}A")),
        ("random of the right shape", random_well_formed_token()),
        ("all A", "A".repeat(43)),
        ("the stored SHA-256 of the token", shared::service::support::secrets::hash_secret(&token)),
        ("the invitation id", invited["id"].as_str().unwrap().to_owned()),
        ("an unsigned JWT naming the invitation", unsigned_jwt),
        ("an HS256 JWT naming the invitation", hmac_jwt),
        ("the owner's real, EdDSA-signed access token", owner.token.clone()),
        ("the owner's refresh token", session.str("refresh_token")),
    ];

    for (what, forged) in &forgeries {
        // When someone presents the forgery
        let inspected = inspect(&app, forged).await;
        let accepted = app.accept(forged, PASSWORD).await;

        // Then it is unknown
        assert_eq!((inspected.status, inspected.code()), (404, "invitation_not_found"), "inspect: {what}");
        assert_eq!((accepted.status, accepted.code()), (404, "invitation_not_found"), "accept: {what}");
        assert!(carries_no_tokens(&accepted), "{what}: {}", accepted.body);
    }

    // And nothing was activated or consumed: the invitee is still pending, with no password
    let account = owner.account_path();
    let invitation =
        app.get_as(&owner.token, &format!("{account}/invitations/{}", invited["id"].as_str().unwrap())).await;
    assert_eq!(invitation.body["status"], "sent");
    let target = app.member_named(&owner, "target@inc-forgery.example").await;
    assert_eq!(target["status"], "not_activated");
    let signed_in = app.sign_in("target@inc-forgery.example", PASSWORD).await;
    assert_eq!((signed_in.status, signed_in.code()), (401, "invalid_credentials"));
    // And the real link still works, exactly once
    assert_eq!(inspect(&app, &token).await.status, 200);
    let accepted = app.accept(&token, PASSWORD).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(accepted.body["memberships"][0]["roles"], json!(["viewer"]));
}

/// Incident class: membership granted from an email-domain pattern — someone whose address is
/// at the owner's domain must get nothing from the account for it: no membership, no view of
/// the account, no one else's link, and no mail for addresses nobody invited.
async fn an_address_at_the_owners_domain_gets_nothing_from_the_account(app: TestApp) {
    // Given a shop whose owner and employee have addresses at inc-shop.example, and a pending
    // invitation of a colleague there
    let shop = app.owner("standard", "owner@inc-shop.example").await;
    app.member(&shop, "anna@inc-shop.example", &["editor"], &[]).await;
    let pending = app.invite(&shop, "bob@inc-shop.example", &["viewer"]).await;
    // And a stranger at the same domain, a member of another account only
    let elsewhere = app.owner("standard", "owner@inc-elsewhere.example").await;
    app.member(&elsewhere, "mallory@inc-shop.example", &["viewer"], &[]).await;

    // When an address at the domain that nobody invited tries to sign in or reset a password
    let unknown = app.sign_in("ceo@inc-shop.example", PASSWORD).await;
    let reset = app.post("/v1/password-reset", json!({"email": "ceo@inc-shop.example"})).await;

    // Then it gets nothing: no session, and no mail goes out
    assert_eq!((unknown.status, unknown.code()), (401, "invalid_credentials"));
    assert_eq!(reset.status, 202, "{}", reset.body);
    assert!(app.mail_to("ceo@inc-shop.example").await.is_empty());

    // When the stranger resets her own password and signs in
    let reset = app.post("/v1/password-reset", json!({"email": "mallory@inc-shop.example"})).await;
    assert_eq!(reset.status, 202, "{}", reset.body);
    let link = app.link_token("mallory@inc-shop.example").await;
    let confirmed =
        app.post("/v1/password-reset/confirm", json!({"token": link, "new_password": OTHER_PASSWORD})).await;
    assert_eq!(confirmed.status, 204, "{}", confirmed.body);
    let session = app.sign_in("mallory@inc-shop.example", OTHER_PASSWORD).await;
    assert_eq!(session.status, 200, "{}", session.body);
    let mallory = session.str("access_token");

    // Then her session and profile name only the other account
    let accounts = |body: &Value| -> Vec<String> {
        body["memberships"]
            .as_array()
            .expect("memberships")
            .iter()
            .map(|m| m["account_id"].as_str().expect("account_id").to_owned())
            .collect()
    };
    assert_eq!(accounts(&session.body), std::slice::from_ref(&elsewhere.account_id));
    let me = app.get_as(&mallory, "/v1/me").await;
    assert_eq!(accounts(&me.body), std::slice::from_ref(&elsewhere.account_id));

    // And every route of the shop answers her 404
    let account = shop.account_path();
    let bob = app.member_named(&shop, "bob@inc-shop.example").await;
    for path in [
        account.clone(),
        format!("{account}/members"),
        format!("{account}/members/{}", bob["user_id"].as_str().unwrap()),
        format!("{account}/invitations"),
        format!("{account}/invitations/{}", pending["id"].as_str().unwrap()),
        format!("{account}/roles"),
        format!("{account}/audit-events"),
        format!("{account}/audit-events/export"),
    ] {
        let reply = app.get_as(&mallory, &path).await;
        assert_eq!((reply.status, reply.code()), (404, "not_found"), "{path}");
    }
    let invited = app
        .post_as(
            &mallory,
            &format!("{account}/invitations"),
            json!({"email": "mallory2@inc-shop.example", "roles": ["viewer"]}),
        )
        .await;
    assert_eq!((invited.status, invited.code()), (404, "not_found"));

    // And she cannot take over the colleague's pending invitation without its link
    let guessed = accept_signed_in(
        &app,
        &mallory,
        json!({"token": random_well_formed_token(), "password": OTHER_PASSWORD}),
    )
    .await;
    assert_eq!((guessed.status, guessed.code()), (404, "invitation_not_found"));
    // And no mail about anyone else at the domain reached her
    let others =
        ["anna@inc-shop.example", "bob@inc-shop.example", "ceo@inc-shop.example", "owner@inc-shop.example"];
    for mail in app.mail_to("mallory@inc-shop.example").await {
        let text = mail.to_string();
        assert!(others.iter().all(|other| !text.contains(other)), "{mail}");
    }

    // And the shop is exactly what its owner made it
    assert_eq!(
        member_emails(&app, &shop.token, &shop.account_id).await,
        ["anna@inc-shop.example", "bob@inc-shop.example", "owner@inc-shop.example"]
    );
    let bob_invitation =
        app.get_as(&shop.token, &format!("{account}/invitations/{}", pending["id"].as_str().unwrap())).await;
    assert_eq!(bob_invitation.body["status"], "sent");
    let bob = app.member_named(&shop, "bob@inc-shop.example").await;
    assert_eq!(bob["status"], "not_activated");
}

/// Incident class: role-name confusion — a role name with padding, other case, look-alike or
/// zero-width characters (" owner", "Owner", "owner\u{200b}", "administrator ") must be an
/// unknown role, never matched to a real one; and "owner" is a flag, not a grantable role.
async fn role_names_with_padding_case_or_invisible_characters_are_unknown_roles(app: TestApp) {
    // Given a standard account whose presets have no role called "owner"
    let owner = app.owner("standard", "owner@inc-rolename.example").await;
    let account = owner.account_path();
    let roles = app.get_as(&owner.token, &format!("{account}/roles")).await;
    let names: Vec<&str> =
        roles.body["items"].as_array().expect("roles").iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["administrator", "editor", "viewer", "finance"]);
    app.member(&owner, "staff@inc-rolename.example", &["viewer"], &[]).await;
    let staff = app.member_named(&owner, "staff@inc-rolename.example").await;
    let set_roles = format!("{account}/members/{}/roles", staff["user_id"].as_str().unwrap());

    let confusable = [
        "owner",
        " owner",
        "Owner",
        "OWNER",
        "owner\u{200b}",
        "is_owner",
        "viewer ",
        " viewer",
        "Viewer",
        "VIEWER",
        "view\u{200b}er",
        "\u{feff}viewer",
        "viewer\u{00a0}",
        "v\u{0456}ewer",
        "administrator ",
        " administrator",
        "Administrator",
        "ADMINISTRATOR",
        "administrator\u{200b}",
        "admin\u{200d}istrator",
        "\u{2060}administrator",
        "administrator\t",
        "administrator\n",
        "\u{0430}dministrator",
        "administrator\u{0301}",
        "administrator\0",
    ];
    for name in confusable {
        // When the owner invites with it, alone or next to a real role
        for grant in [json!([name]), json!(["viewer", name])] {
            let invited = app
                .post_as(
                    &owner.token,
                    &format!("{account}/invitations"),
                    json!({"email": "probe@inc-rolename.example", "roles": grant}),
                )
                .await;
            // Then it is refused on `roles`
            assert_eq!((invited.status, invited.code()), (400, "validation_failed"), "invite {name:?}");
            assert_eq!(
                invited.field_errors(),
                [("roles".to_owned(), "unknown_role".to_owned())],
                "invite {name:?}"
            );
        }
        // When a member's roles are set to it
        let set = app.put_as(&owner.token, &set_roles, json!({"roles": [name]})).await;
        // Then it is refused on `roles` too
        assert_eq!((set.status, set.code()), (400, "validation_failed"), "set-role {name:?}");
        assert_eq!(
            set.field_errors(),
            [("roles".to_owned(), "unknown_role".to_owned())],
            "set-role {name:?}"
        );
    }
    // And ownership cannot ride in as a field either
    let flagged = app.put_as(&owner.token, &set_roles, json!({"roles": ["viewer"], "is_owner": true})).await;
    assert_eq!((flagged.status, flagged.code()), (400, "validation_failed"));
    assert_eq!(flagged.field_errors(), [("is_owner".to_owned(), "unknown_field".to_owned())]);

    // And nothing was granted: no invitation, no mail, the member's grant unchanged
    let probes = app.get_as(&owner.token, &format!("{account}/invitations?email=probe")).await;
    assert_eq!(probes.body["items"], json!([]));
    assert!(app.mail_to("probe@inc-rolename.example").await.is_empty());
    let staff = app.member_named(&owner, "staff@inc-rolename.example").await;
    assert_eq!((staff["roles"].clone(), staff["is_owner"].clone()), (json!(["viewer"]), json!(false)));
    assert_eq!(owners(&app, &owner.token, &owner.account_id).await, [app.user_id(&owner.token).await]);
}

/// Incident class: accepting without the mailed secret — an invitation accepted by its id, or
/// with a session (access or refresh token) in place of the emailed link, must be refused and
/// leave the invitation `sent`.
async fn an_invitation_cannot_be_accepted_by_its_id_or_with_a_session(app: TestApp) {
    // Given a pending invitation whose id the inviter knows, and the inviter's session
    let owner = app.owner("standard", "owner@inc-byid.example").await;
    let account = owner.account_path();
    let invited = app.invite(&owner, "newbie@inc-byid.example", &["editor"]).await;
    let id = invited["id"].as_str().unwrap().to_owned();
    let session = app.sign_in("owner@inc-byid.example", PASSWORD).await;

    // When the invitation is accepted by its id, or with a session's tokens as the link
    for (what, token) in [
        ("the invitation id", id.clone()),
        ("an access token", owner.token.clone()),
        ("a refresh token", session.str("refresh_token")),
        ("nothing, with a bearer session", String::new()),
    ] {
        let accepted =
            accept_signed_in(&app, &owner.token, json!({"token": token, "password": PASSWORD})).await;
        // Then there is no such link
        assert_eq!((accepted.status, accepted.code()), (404, "invitation_not_found"), "{what}");
        assert!(carries_no_tokens(&accepted), "{what}");
        let inspected = inspect(&app, &token).await;
        assert_eq!((inspected.status, inspected.code()), (404, "invitation_not_found"), "{what}");
    }
    // When the body names the invitation instead of carrying a token
    let by_id =
        accept_signed_in(&app, &owner.token, json!({"invitation_id": id, "password": PASSWORD})).await;
    assert_eq!((by_id.status, by_id.code()), (400, "validation_failed"));
    assert_eq!(by_id.field_errors(), [("invitation_id".to_owned(), "unknown_field".to_owned())]);
    let bare = accept_signed_in(&app, &owner.token, json!({"password": PASSWORD})).await;
    assert_eq!((bare.status, bare.code()), (400, "validation_failed"));
    assert_eq!(bare.field_errors(), [("token".to_owned(), "required".to_owned())]);

    // Then the invitation is still sent and the invitee still pending
    let invitation = app.get_as(&owner.token, &format!("{account}/invitations/{id}")).await;
    assert_eq!(
        (invitation.body["status"].clone(), invitation.body["accepted_at"].clone()),
        (json!("sent"), Value::Null)
    );
    let newbie = app.member_named(&owner, "newbie@inc-byid.example").await;
    assert_eq!(newbie["status"], "not_activated");
    // And the owner's own membership is untouched
    let me = app.get_as(&owner.token, "/v1/me").await;
    assert_eq!(me.body["memberships"].as_array().unwrap().len(), 1);
    assert_eq!(me.body["memberships"][0]["is_owner"], true);
}

/// Incident class: cross-tenant object references (IDOR) — an administrator of one account
/// acting through another account's path, or through their own path with the other account's
/// ids, must see 404 and change nothing there.
async fn an_admin_of_one_account_cannot_act_on_another_accounts_records(app: TestApp) {
    // Given account B with an active member and a pending invitation
    let b = app.owner("standard", "owner@inc-tenant-b.example").await;
    app.member(&b, "staff@inc-tenant-b.example", &["editor"], &[]).await;
    let pending = app.invite(&b, "new@inc-tenant-b.example", &["viewer"]).await;
    let pending_link = app.link_token("new@inc-tenant-b.example").await;
    let staff = app.member_named(&b, "staff@inc-tenant-b.example").await;
    let (staff_id, invitation_id) =
        (staff["user_id"].as_str().unwrap().to_owned(), pending["id"].as_str().unwrap());
    let b_owner_id = app.user_id(&b.token).await;
    let before = app.get_as(&b.token, &b.account_path()).await;
    // And the owner of account A, who administers A
    let a = app.owner("standard", "owner@inc-tenant-a.example").await;
    let a_user_id = app.user_id(&a.token).await;

    // When A's owner uses B's ids through B's path and through A's own path
    for account in [b.account_path(), a.account_path()] {
        let member = format!("{account}/members/{staff_id}");
        let invitation = format!("{account}/invitations/{invitation_id}");
        let attempts = [
            (reqwest::Method::GET, member.clone(), None),
            (reqwest::Method::PUT, format!("{member}/roles"), Some(json!({"roles": ["administrator"]}))),
            (reqwest::Method::POST, format!("{member}/block"), Some(json!({}))),
            (reqwest::Method::POST, format!("{member}/unblock"), Some(json!({}))),
            (reqwest::Method::DELETE, member.clone(), None),
            (
                reqwest::Method::PUT,
                format!("{account}/members/{b_owner_id}/roles"),
                Some(json!({"roles": ["viewer"]})),
            ),
            (reqwest::Method::POST, format!("{account}/members/{b_owner_id}/block"), Some(json!({}))),
            (reqwest::Method::GET, invitation.clone(), None),
            (reqwest::Method::POST, format!("{invitation}/revoke"), Some(json!({}))),
            (reqwest::Method::POST, format!("{invitation}/resend"), Some(json!({}))),
            (
                reqwest::Method::POST,
                format!("{account}/ownership-transfer"),
                Some(json!({"user_id": staff_id, "password": PASSWORD})),
            ),
        ];
        for (method, path, body) in attempts {
            let reply = app.send(method.clone(), &path, Some(a.token.as_str()), body).await;
            // Then every one is not found
            assert_eq!((reply.status, reply.code()), (404, "not_found"), "{method} {path}: {}", reply.body);
        }
    }
    for (method, path, body) in [
        (
            reqwest::Method::PATCH,
            format!("{}/settings", b.account_path()),
            Some(json!({"invitation_ttl_hours": 1, "blocked_email_domains": ["inc-tenant-b.example"]})),
        ),
        (
            reqwest::Method::POST,
            format!("{}/invitations", b.account_path()),
            Some(json!({"email": "spy@inc-tenant-a.example", "roles": ["administrator"]})),
        ),
        (reqwest::Method::GET, format!("{}/audit-events", b.account_path()), None),
        (reqwest::Method::GET, format!("{}/audit-events/export", b.account_path()), None),
        (reqwest::Method::GET, format!("{}/members", b.account_path()), None),
        (reqwest::Method::GET, format!("{}/invitations", b.account_path()), None),
    ] {
        let reply = app.send(method.clone(), &path, Some(a.token.as_str()), body).await;
        assert_eq!((reply.status, reply.code()), (404, "not_found"), "{method} {path}: {}", reply.body);
    }

    // Then nothing changed in B: member, invitation, its link, settings, owner, audit log
    let staff = app.member_named(&b, "staff@inc-tenant-b.example").await;
    assert_eq!((staff["status"].clone(), staff["roles"].clone()), (json!("active"), json!(["editor"])));
    let invitation = app.get_as(&b.token, &format!("{}/invitations/{invitation_id}", b.account_path())).await;
    assert_eq!(
        (invitation.body["status"].clone(), invitation.body["send_count"].clone()),
        (json!("sent"), json!(1))
    );
    assert_eq!(inspect(&app, &pending_link).await.status, 200);
    let after = app.get_as(&b.token, &b.account_path()).await;
    assert_eq!(after.body, before.body);
    assert_eq!(owners(&app, &b.token, &b.account_id).await, [b_owner_id]);
    let log = app.get_as(&b.token, &format!("{}/audit-events", b.account_path())).await;
    assert!(
        log.body["items"].as_array().unwrap().iter().all(|e| e["actor_id"] != a_user_id.as_str()),
        "{}",
        log.body
    );
    assert_eq!(member_emails(&app, &b.token, &b.account_id).await.len(), 3);
    assert!(app.mail_to("spy@inc-tenant-a.example").await.is_empty());
}

/// The request headers a proxy or an attacker may set to name another host.
const HOSTILE_HEADERS: [(&str, &str); 6] = [
    ("host", HOSTILE_HOST),
    ("x-forwarded-host", HOSTILE_HOST),
    ("x-forwarded-proto", "https"),
    ("x-forwarded-port", "8443"),
    ("forwarded", "for=203.0.113.7;host=evil.example;proto=https"),
    ("x-original-host", HOSTILE_HOST),
];

/// POSTs `body` to `path` with every hostile host header and `auth` (a header name and value).
async fn post_with_hostile_host(
    app: &TestApp,
    path: &str,
    auth: Option<(&str, &str)>,
    body: Value,
) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(format!("{}{path}", app.base)).json(&body);
    for (name, value) in HOSTILE_HEADERS {
        request = request.header(name, value);
    }
    if let Some((name, value)) = auth {
        request = request.header(name, value);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The newest mail to `to` links only to `<base><page>#token=…` and names no hostile host.
async fn assert_links_to_the_configured_base(app: &TestApp, to: &str, page: &str) {
    let mail = app.mail_to(to).await;
    let newest = mail.first().unwrap_or_else(|| panic!("no mail to {to}"));
    let links = newest["links"].as_array().expect("links");
    assert!(!links.is_empty(), "{newest}");
    let expected = format!("{}{page}#token=", app.base);
    for link in links {
        assert!(link.as_str().unwrap().starts_with(&expected), "{link} should start with {expected}");
    }
    assert!(!newest.to_string().contains(HOSTILE_HOST), "{newest}");
}

/// Incident class: link poisoning through Host headers — emailed links built from the request's
/// `Host`, `X-Forwarded-Host` or `Forwarded` send tokens to an attacker's server; every link must
/// start with the configured public base URL, whatever the request says.
async fn emailed_links_ignore_host_and_forwarded_headers(app: TestApp) {
    // When the operator creates an account through a request naming a hostile host
    let (status, created) = post_with_hostile_host(
        &app,
        "/v1/operator/accounts",
        Some(("x-operator-key", app.operator_key.as_str())),
        json!({"name": "Host shop", "owner_email": "owner@inc-host.example", "preset": "standard"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    // Then the owner's activation link points at the configured base, and works
    assert_links_to_the_configured_base(&app, "owner@inc-host.example", "/activate").await;
    let activated = app.activate(&app.link_token("owner@inc-host.example").await).await;
    assert_eq!(activated.status, 200, "{}", activated.body);
    let owner = Owner {
        account_id: created["account"]["id"].as_str().unwrap().to_owned(),
        email: "owner@inc-host.example".into(),
        token: activated.str("access_token"),
    };
    let bearer = format!("Bearer {}", owner.token);

    // When the owner invites through a request naming a hostile host
    let (status, invited) = post_with_hostile_host(
        &app,
        &format!("{}/invitations", owner.account_path()),
        Some(("authorization", bearer.as_str())),
        json!({"email": "hire@inc-host.example", "roles": ["viewer"]}),
    )
    .await;
    assert_eq!(status, 201, "{invited}");
    // Then the invitation link points at the configured base
    assert_links_to_the_configured_base(&app, "hire@inc-host.example", "/activate").await;

    // When the invitation is resent the same way
    let (status, resent) = post_with_hostile_host(
        &app,
        &format!("{}/invitations/{}/resend", owner.account_path(), invited["id"].as_str().unwrap()),
        Some(("authorization", bearer.as_str())),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{resent}");
    assert_links_to_the_configured_base(&app, "hire@inc-host.example", "/activate").await;
    let accepted = app.accept(&app.link_token("hire@inc-host.example").await, PASSWORD).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);

    // When a password reset is requested the same way
    let (status, reset) =
        post_with_hostile_host(&app, "/v1/password-reset", None, json!({"email": "hire@inc-host.example"}))
            .await;
    assert_eq!(status, 202, "{reset}");
    // Then the reset link points at the configured base, and works
    assert_links_to_the_configured_base(&app, "hire@inc-host.example", "/reset-password").await;
    let token = app.link_token("hire@inc-host.example").await;
    let confirmed =
        app.post("/v1/password-reset/confirm", json!({"token": token, "new_password": OTHER_PASSWORD})).await;
    assert_eq!(confirmed.status, 204, "{}", confirmed.body);
    assert_eq!(app.sign_in("hire@inc-host.example", OTHER_PASSWORD).await.status, 200);
}

/// Incident class: link replay — a one-time invitation link used a second time (by the same
/// person, someone who copied it, or with another password) must be refused as already accepted.
async fn a_link_used_twice_is_refused_the_second_time(app: TestApp) {
    // Given an owner who activated, and an employee who accepted her link
    let owner = app.owner("standard", "owner@inc-replay.example").await;
    let owner_link = app.link_token("owner@inc-replay.example").await;
    app.invite(&owner, "twice@inc-replay.example", &["editor"]).await;
    let link = app.link_token("twice@inc-replay.example").await;
    let first = app.accept(&link, PASSWORD).await;
    assert_eq!(first.status, 200, "{}", first.body);

    // When the link is used again, with her password or another
    for password in [PASSWORD, OTHER_PASSWORD] {
        let again = app.accept(&link, password).await;
        // Then it is already accepted and signs nobody in
        assert_eq!((again.status, again.code()), (409, "invitation_already_accepted"));
        assert!(carries_no_tokens(&again), "{}", again.body);
    }
    let inspected = inspect(&app, &link).await;
    assert_eq!((inspected.status, inspected.code()), (409, "invitation_already_accepted"));
    // And the owner's activation link cannot be replayed either
    let replayed = app.accept(&owner_link, OTHER_PASSWORD).await;
    assert_eq!((replayed.status, replayed.code()), (409, "invitation_already_accepted"));

    // And the passwords set the first time are the ones that work
    assert_eq!(app.sign_in("twice@inc-replay.example", PASSWORD).await.status, 200);
    let other = app.sign_in("twice@inc-replay.example", OTHER_PASSWORD).await;
    assert_eq!((other.status, other.code()), (401, "invalid_credentials"));
    assert_eq!(app.sign_in("owner@inc-replay.example", PASSWORD).await.status, 200);
    let twice = app.member_named(&owner, "twice@inc-replay.example").await;
    assert_eq!((twice["status"].clone(), twice["roles"].clone()), (json!("active"), json!(["editor"])));
}

/// Incident class: privilege escalation through pending invitations — a user manager with
/// limited rights raises a not-yet-activated invitee past their own rights, or revokes or
/// resends an invitation that grants more than they hold; each must be 403 `role_escalation`.
async fn a_limited_user_manager_cannot_raise_or_handle_invitations_beyond_their_own_rights(app: TestApp) {
    // Given a manager with users:write on top of the editor role (no preset role has users:write
    // without every other write), and an editor invited but not yet activated
    let owner = app.owner("standard", "owner@inc-ceiling.example").await;
    let account = owner.account_path();
    let manager = app.member(&owner, "lead@inc-ceiling.example", &["editor"], &["users:write"]).await;
    app.invite(&owner, "pending@inc-ceiling.example", &["editor"]).await;
    let pending = app.member_named(&owner, "pending@inc-ceiling.example").await;
    assert_eq!(pending["status"], "not_activated");
    let set_roles = format!("{account}/members/{}/roles", pending["user_id"].as_str().unwrap());

    // When the manager sets the pending invitee's grant beyond their own
    for grant in [
        json!({"roles": ["administrator"]}),
        json!({"roles": ["viewer"]}),
        json!({"roles": ["editor"], "permissions": ["finance:write"]}),
        json!({"roles": ["editor", "finance"]}),
        json!({"roles": [], "permissions": ["settings:read"]}),
    ] {
        let raised = app.put_as(&manager, &set_roles, grant.clone()).await;
        // Then it is an escalation
        assert_eq!((raised.status, raised.code()), (403, "role_escalation"), "{grant}");
    }
    // And the invitee's grant is unchanged
    let pending = app.member_named(&owner, "pending@inc-ceiling.example").await;
    assert_eq!((pending["roles"].clone(), pending["permissions"].clone()), (json!(["editor"]), json!([])));

    // Given an invitation of an administrator, sent by the owner
    let admin = app.invite(&owner, "admin@inc-ceiling.example", &["administrator"]).await;
    let admin_invitation = format!("{account}/invitations/{}", admin["id"].as_str().unwrap());
    // When the manager resends or revokes it
    let resent = app.post_as(&manager, &format!("{admin_invitation}/resend"), json!({})).await;
    let revoked = app.post_as(&manager, &format!("{admin_invitation}/revoke"), json!({})).await;
    // Then both are escalations, and the invitation is still sent, mailed once
    assert_eq!((resent.status, resent.code()), (403, "role_escalation"), "resend: {}", resent.body);
    assert_eq!((revoked.status, revoked.code()), (403, "role_escalation"), "revoke: {}", revoked.body);
    let admin = app.get_as(&owner.token, &admin_invitation).await;
    assert_eq!((admin.body["status"].clone(), admin.body["send_count"].clone()), (json!("sent"), json!(1)));

    // And the pending invitee activates with the grant she was invited with, nothing more
    let accepted = app.accept(&app.link_token("pending@inc-ceiling.example").await, PASSWORD).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(accepted.body["memberships"][0]["roles"], json!(["editor"]));
    assert_eq!(accepted.body["memberships"][0]["permissions"], json!([]));
}

/// Asserts a huge password was refused early: 413 `payload_too_large`, or 400
/// `validation_failed` naming `field`; never a 5xx, never slow.
fn refused_early(what: &str, reply: &Reply, elapsed: Duration, field: &str) {
    assert!(elapsed < Duration::from_secs(5), "{what} took {elapsed:?}");
    match reply.status {
        413 => assert_eq!(reply.code(), "payload_too_large", "{what}"),
        400 => {
            assert_eq!(reply.code(), "validation_failed", "{what}");
            assert!(reply.field_errors().iter().any(|(f, _)| f == field), "{what}: {}", reply.body);
        }
        other => panic!("{what}: {other} {}", reply.body),
    }
}

/// Incident class: password-size denial of service — a megabyte password reaching the password
/// hash ties up CPU and memory; it must be refused before any hashing with a fast 4xx on every
/// route that takes a password.
async fn a_one_megabyte_password_is_refused_before_any_hashing(app: TestApp) {
    // Given an owner with a session, a pending invitation and a reset link
    let owner = app.owner("standard", "owner@inc-hugepw.example").await;
    app.invite(&owner, "big@inc-hugepw.example", &["viewer"]).await;
    let invitation = app.link_token("big@inc-hugepw.example").await;
    let reset = app.post("/v1/password-reset", json!({"email": "owner@inc-hugepw.example"})).await;
    assert_eq!(reset.status, 202);
    let reset = app.link_token("owner@inc-hugepw.example").await;
    let huge = "x".repeat(1024 * 1024);

    // When each route that takes a password gets a 1 MiB one
    let started = Instant::now();
    let accepted = app.accept(&invitation, &huge).await;
    refused_early("accept", &accepted, started.elapsed(), "password");
    let started = Instant::now();
    let signed_in = app.sign_in("owner@inc-hugepw.example", &huge).await;
    refused_early("sign-in", &signed_in, started.elapsed(), "password");
    let started = Instant::now();
    let changed = app
        .post_as(&owner.token, "/v1/me/password", json!({"current_password": PASSWORD, "new_password": huge}))
        .await;
    refused_early("change (new)", &changed, started.elapsed(), "new_password");
    let started = Instant::now();
    let changed = app
        .post_as(
            &owner.token,
            "/v1/me/password",
            json!({"current_password": huge, "new_password": OTHER_PASSWORD}),
        )
        .await;
    refused_early("change (current)", &changed, started.elapsed(), "current_password");
    let started = Instant::now();
    let confirmed =
        app.post("/v1/password-reset/confirm", json!({"token": reset, "new_password": huge})).await;
    refused_early("reset confirm", &confirmed, started.elapsed(), "new_password");

    // And a password just under the body limit is a field error, not a hash
    let long = "x".repeat(15_000);
    let accepted = app.accept(&invitation, &long).await;
    assert_eq!((accepted.status, accepted.code()), (400, "validation_failed"));
    assert_eq!(accepted.field_errors(), [("password".to_owned(), "password_too_long".to_owned())]);
    let changed = app
        .post_as(&owner.token, "/v1/me/password", json!({"current_password": PASSWORD, "new_password": long}))
        .await;
    assert_eq!((changed.status, changed.code()), (400, "validation_failed"));
    assert_eq!(changed.field_errors(), [("new_password".to_owned(), "password_too_long".to_owned())]);
    let confirmed =
        app.post("/v1/password-reset/confirm", json!({"token": reset, "new_password": long})).await;
    assert_eq!((confirmed.status, confirmed.code()), (400, "validation_failed"));
    assert_eq!(confirmed.field_errors(), [("new_password".to_owned(), "password_too_long".to_owned())]);
    let signed_in = app.sign_in("owner@inc-hugepw.example", &long).await;
    assert_eq!((signed_in.status, signed_in.code()), (401, "invalid_credentials"));

    // Then nothing was consumed or changed: the links and the password still work
    let accepted = app.accept(&invitation, PASSWORD).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(app.sign_in("owner@inc-hugepw.example", PASSWORD).await.status, 200);
    let confirmed =
        app.post("/v1/password-reset/confirm", json!({"token": reset, "new_password": OTHER_PASSWORD})).await;
    assert_eq!(confirmed.status, 204, "{}", confirmed.body);
    assert_eq!(app.sign_in("owner@inc-hugepw.example", OTHER_PASSWORD).await.status, 200);
}

/// Incident class: split-brain ownership — two ownership transfers at once (a double click, two
/// tabs) must leave exactly one owner: one transfer wins, the other is refused.
async fn two_concurrent_ownership_transfers_leave_exactly_one_owner(app: TestApp) {
    // Given an owner and two active members
    let owner = app.owner("standard", "owner@inc-handover.example").await;
    app.member(&owner, "left@inc-handover.example", &["editor"], &[]).await;
    app.member(&owner, "right@inc-handover.example", &["editor"], &[]).await;
    let left = app.member_named(&owner, "left@inc-handover.example").await;
    let right = app.member_named(&owner, "right@inc-handover.example").await;
    let (left, right) = (left["user_id"].as_str().unwrap(), right["user_id"].as_str().unwrap());
    let transfer = format!("{}/ownership-transfer", owner.account_path());

    // When the owner transfers to each of them at the same moment
    let (to_left, to_right) = futures::join!(
        app.post_as(&owner.token, &transfer, json!({"user_id": left, "password": PASSWORD})),
        app.post_as(&owner.token, &transfer, json!({"user_id": right, "password": PASSWORD})),
    );

    // Then exactly one succeeds and the other is refused
    let outcomes = [(left, &to_left), (right, &to_right)];
    let winners: Vec<&str> = outcomes.iter().filter(|(_, r)| r.status == 200).map(|(id, _)| *id).collect();
    assert_eq!(winners.len(), 1, "{} / {}", to_left.body, to_right.body);
    let winner = winners[0];
    let (_, lost) = outcomes.iter().find(|(id, _)| *id != winner).unwrap();
    assert!(
        matches!((lost.status, lost.code()), (409, "concurrent_change") | (403, "forbidden")),
        "{} {}",
        lost.status,
        lost.body
    );
    let (_, won) = outcomes.iter().find(|(id, _)| *id == winner).unwrap();
    assert_eq!(won.body["owner_id"], winner);

    // And the account and its member list agree on that one owner
    let account = app.get_as(&owner.token, &owner.account_path()).await;
    assert_eq!(account.body["owner_id"], winner);
    assert_eq!(owners(&app, &owner.token, &owner.account_id).await, [winner.to_owned()]);
    let me = app.get_as(&owner.token, "/v1/me").await;
    assert_eq!(
        (me.body["memberships"][0]["is_owner"].clone(), me.body["memberships"][0]["roles"].clone()),
        (json!(false), json!(["administrator"]))
    );
}

/// Incident class: stale links after a re-issue — a link replaced by a resend, a link of a
/// revoked-then-repeated invitation, and a password-reset link issued before the password was
/// changed another way must all stop working. (The API lets nobody change their email: `PATCH
/// /v1/me` refuses an `email` field, so the email-change variant is the password one.)
async fn links_superseded_by_a_resend_a_reinvite_or_a_password_change_are_refused(app: TestApp) {
    // Given an owner and a sent invitation
    let owner = app.owner("standard", "owner@inc-relink.example").await;
    let account = owner.account_path();
    let slow = app.invite(&owner, "slow@inc-relink.example", &["viewer"]).await;
    let first = app.link_token("slow@inc-relink.example").await;

    // When it is resent
    let resent = app
        .post_as(
            &owner.token,
            &format!("{account}/invitations/{}/resend", slow["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(resent.status, 200, "{}", resent.body);
    // Then the old link is gone and only the new one works
    for reply in [inspect(&app, &first).await, app.accept(&first, PASSWORD).await] {
        assert_eq!((reply.status, reply.code()), (404, "invitation_not_found"));
    }
    let second = app.link_token("slow@inc-relink.example").await;
    assert_ne!(first, second);
    assert_eq!(app.accept(&second, PASSWORD).await.status, 200);

    // Given an invitation revoked and then sent again as a new one
    let undone = app.invite(&owner, "undone@inc-relink.example", &["viewer"]).await;
    let old = app.link_token("undone@inc-relink.example").await;
    let revoked = app
        .post_as(
            &owner.token,
            &format!("{account}/invitations/{}/revoke", undone["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    app.invite(&owner, "undone@inc-relink.example", &["editor"]).await;
    // Then the first invitation's link stays revoked
    for reply in [inspect(&app, &old).await, app.accept(&old, PASSWORD).await] {
        assert_eq!((reply.status, reply.code()), (409, "invitation_revoked"));
    }
    // And the new link grants the new invitation's roles
    let accepted = app.accept(&app.link_token("undone@inc-relink.example").await, PASSWORD).await;
    assert_eq!(accepted.body["memberships"][0]["roles"], json!(["editor"]));

    // Given that nobody can change their email through the API
    let email_change = app.patch_as(&owner.token, "/v1/me", json!({"email": "new@inc-relink.example"})).await;
    assert_eq!((email_change.status, email_change.code()), (400, "validation_failed"));
    assert_eq!(email_change.field_errors(), [("email".to_owned(), "unknown_field".to_owned())]);
    // And a reset link requested before the password was changed another way
    let requested = app.post("/v1/password-reset", json!({"email": "slow@inc-relink.example"})).await;
    assert_eq!(requested.status, 202);
    let reset = app.link_token("slow@inc-relink.example").await;
    let session = app.sign_in("slow@inc-relink.example", PASSWORD).await;
    let changed = app
        .post_as(
            &session.str("access_token"),
            "/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": OTHER_PASSWORD}),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.body);

    // When the old reset link is used
    let confirmed =
        app.post("/v1/password-reset/confirm", json!({"token": reset, "new_password": THIRD_PASSWORD})).await;

    // Then it is refused and the changed password stands
    assert_eq!((confirmed.status, confirmed.code()), (400, "invalid_or_expired_token"));
    assert_eq!(app.sign_in("slow@inc-relink.example", OTHER_PASSWORD).await.status, 200);
    let third = app.sign_in("slow@inc-relink.example", THIRD_PASSWORD).await;
    assert_eq!((third.status, third.code()), (401, "invalid_credentials"));
}

/// Incident class: stale owner-recovery links — after support restarts an owner recovery, or
/// starts one for an owner who never activated, every earlier owner link must die (409
/// `invitation_revoked`), so that only the latest verified person can become the owner.
async fn older_owner_links_die_when_a_newer_owner_recovery_starts(app: TestApp) {
    // Given an active owner, and support starting owner recovery to one address, then to another
    let first = app.owner("standard", "first@inc-recovery.example").await;
    let recovery = format!("/v1/operator/accounts/{}/owner-recovery", first.account_id);
    let to_second = app.operator(&recovery, json!({"new_email": "second@inc-recovery.example"})).await;
    assert_eq!(to_second.status, 202, "{}", to_second.body);
    let second_link = app.link_token("second@inc-recovery.example").await;
    let to_third = app.operator(&recovery, json!({"new_email": "third@inc-recovery.example"})).await;
    assert_eq!(to_third.status, 202, "{}", to_third.body);
    let third_link = app.link_token("third@inc-recovery.example").await;

    // When the older recovery link is used
    let inspected = inspect(&app, &second_link).await;
    let accepted = app.accept(&second_link, PASSWORD).await;

    // Then it is revoked and signs nobody in
    assert_eq!((inspected.status, inspected.code()), (409, "invitation_revoked"), "{}", inspected.body);
    assert_eq!((accepted.status, accepted.code()), (409, "invitation_revoked"), "{}", accepted.body);
    assert!(carries_no_tokens(&accepted));

    // When the newest recipient accepts
    let third = app.accept(&third_link, PASSWORD).await;
    assert_eq!(third.status, 200, "{}", third.body);
    let third_id = third.str("user_id");
    let third_token = third.str("access_token");

    // Then they are the one owner, and the first owner keeps the former-owner role
    let account = app.get_as(&third_token, &first.account_path()).await;
    assert_eq!(account.body["owner_id"], third_id.as_str());
    assert_eq!(owners(&app, &third_token, &first.account_id).await, std::slice::from_ref(&third_id));
    let me = app.get_as(&first.token, "/v1/me").await;
    assert_eq!(
        (me.body["memberships"][0]["is_owner"].clone(), me.body["memberships"][0]["roles"].clone()),
        (json!(false), json!(["administrator"]))
    );
    // And the older link stays dead
    let late = app.accept(&second_link, PASSWORD).await;
    assert_eq!((late.status, late.code()), (409, "invitation_revoked"));
    assert_eq!(owners(&app, &third_token, &first.account_id).await, [third_id]);

    // Given an account whose owner never activated, and a recovery to another address
    let created = app.create_account("standard", "never@inc-recovery.example").await;
    assert_eq!(created.status, 201, "{}", created.body);
    let account_id = created.body["account"]["id"].as_str().unwrap().to_owned();
    let original = app.link_token("never@inc-recovery.example").await;
    let rescued = app
        .operator(
            &format!("/v1/operator/accounts/{account_id}/owner-recovery"),
            json!({"new_email": "rescuer@inc-recovery.example"}),
        )
        .await;
    assert_eq!(rescued.status, 202, "{}", rescued.body);

    // When the original activation link is used
    let inspected = inspect(&app, &original).await;
    let accepted = app.accept(&original, PASSWORD).await;

    // Then it is revoked
    assert_eq!((inspected.status, inspected.code()), (409, "invitation_revoked"), "{}", inspected.body);
    assert_eq!((accepted.status, accepted.code()), (409, "invitation_revoked"), "{}", accepted.body);
    // And the recovery's recipient becomes the owner
    let rescuer = app.accept(&app.link_token("rescuer@inc-recovery.example").await, PASSWORD).await;
    assert_eq!(rescuer.status, 200, "{}", rescuer.body);
    let account = app.get_as(&rescuer.str("access_token"), &format!("/v1/accounts/{account_id}")).await;
    assert_eq!(account.body["owner_id"], rescuer.str("user_id").as_str());
}

/// Incident class: blocked members slipping back in through their link — a member blocked
/// before accepting must be refused with 403 `member_blocked` and get no session.
async fn a_member_blocked_before_accepting_gets_no_session_from_the_link(app: TestApp) {
    // Given an invitee whom the owner blocked before she accepted
    let owner = app.owner("standard", "owner@inc-blocked.example").await;
    let account = owner.account_path();
    let invited = app.invite(&owner, "gone@inc-blocked.example", &["editor"]).await;
    let link = app.link_token("gone@inc-blocked.example").await;
    let gone = app.member_named(&owner, "gone@inc-blocked.example").await;
    let blocked = app
        .post_as(
            &owner.token,
            &format!("{account}/members/{}/block", gone["user_id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!((blocked.status, blocked.body["status"].clone()), (200, json!("blocked")), "{}", blocked.body);

    // When she uses her link
    let accepted = app.accept(&link, PASSWORD).await;

    // Then she is refused, with no tokens in the answer
    assert_eq!((accepted.status, accepted.code()), (403, "member_blocked"), "{}", accepted.body);
    assert!(carries_no_tokens(&accepted), "{}", accepted.body);
    // And she stays blocked and cannot sign in
    let gone = app.member_named(&owner, "gone@inc-blocked.example").await;
    assert_eq!(gone["status"], "blocked");
    let signed_in = app.sign_in("gone@inc-blocked.example", PASSWORD).await;
    assert!(matches!(signed_in.status, 401 | 403), "{} {}", signed_in.status, signed_in.body);
    assert!(carries_no_tokens(&signed_in));
    let invitation =
        app.get_as(&owner.token, &format!("{account}/invitations/{}", invited["id"].as_str().unwrap())).await;
    assert_ne!(invitation.body["status"], "accepted");
}

tests::scenarios!(
    tampered_and_forged_invitation_tokens_lead_nowhere,
    an_address_at_the_owners_domain_gets_nothing_from_the_account,
    role_names_with_padding_case_or_invisible_characters_are_unknown_roles,
    an_invitation_cannot_be_accepted_by_its_id_or_with_a_session,
    an_admin_of_one_account_cannot_act_on_another_accounts_records,
    emailed_links_ignore_host_and_forwarded_headers,
    a_link_used_twice_is_refused_the_second_time,
    a_limited_user_manager_cannot_raise_or_handle_invitations_beyond_their_own_rights,
    a_one_megabyte_password_is_refused_before_any_hashing,
    two_concurrent_ownership_transfers_leave_exactly_one_owner,
    links_superseded_by_a_resend_a_reinvite_or_a_password_change_are_refused,
    older_owner_links_die_when_a_newer_owner_recovery_starts,
    a_member_blocked_before_accepting_gets_no_session_from_the_link,
);
