//! One visit to every API route on one app, in an order that makes each possible (an account,
//! its owner, an invitation to accept, a member to block…), recording each request's DynamoDB
//! calls with the capacity they consumed and how long the answer took: `calls_per_route` pins
//! the calls, `make bench` prices them.

use serde_json::{Value, json};
use std::time::{Duration, Instant};

use shared::domain::TotpSecret;
use shared::domain::totp::{DIGITS, step_at};

use crate::app::{PASSWORD, Reply, TestApp};
use crate::emulators::{Call, DynamoCalls};

/// One route's request: `route` is its method and path as the route table spells it (a
/// placeholder for each variable), and what is special about this request, in brackets.
pub struct Visit {
    pub route: &'static str,
    pub calls: Vec<Call>,
    pub elapsed: Duration,
}

struct Tour<'a> {
    app: &'a TestApp,
    calls: &'a DynamoCalls,
    visits: std::cell::RefCell<Vec<Visit>>,
}

impl Tour<'_> {
    /// Runs one request and records it under `route`; every visit must succeed.
    async fn count(&self, route: &'static str, reply: impl std::future::Future<Output = Reply>) -> Value {
        self.calls.take();
        let started = Instant::now();
        let reply = reply.await;
        let elapsed = started.elapsed();
        assert!(reply.status < 400, "{route}: {} {}", reply.status, reply.body);
        self.visits.borrow_mut().push(Visit { route, calls: self.calls.take_calls(), elapsed });
        reply.body
    }
}

/// The two-step and session routes, on an account of their own: its owner enrolls, signs in with
/// a code, steps up, lists and ends sessions, signs a member out, resets the member's second step
/// and turns their own off. Codes come from the secret and the app's clock.
/// An invitee asks for a new link with one that lapsed (the cleanup not run yet): last, as the
/// clock moves past every link of the tour.
async fn renewal_request(c: &Tour<'_>, email: impl Fn(&str) -> String) {
    let owner = c.app.owner("standard", &email("renew-owner")).await;
    c.app.invite(&owner, &email("renew-invitee"), &["viewer"]).await;
    let token = c.app.link_token(&email("renew-invitee")).await;
    c.app.advance_clock(49 * 3600).await;
    let ask = c.app.post("/v1/invitations/renewal-requests", json!({ "token": token }));
    c.count("POST /v1/invitations/renewal-requests", ask).await;
}

async fn two_step_verification(c: &Tour<'_>, email: impl Fn(&str) -> String) {
    let owner = c.app.owner("standard", &email("mfa-owner")).await;
    let member_email = email("mfa-member");
    let member_token = c.app.member(&owner, &member_email, &["viewer"], &[]).await;
    c.app.enroll(&member_token).await;
    let member = format!("{}/members/{}", owner.account_path(), c.app.member_id(&owner, &member_email).await);
    let token = owner.token.as_str();

    let started = c
        .count("POST /v1/me/mfa/totp", c.app.post_as(token, "/v1/me/mfa/totp", json!({"password": PASSWORD})))
        .await;
    let secret = TotpSecret::from_base32(started["secret"].as_str().unwrap()).unwrap();
    let step = step_at(c.app.api.app.ports.clock.now());
    let code = |step: u64| json!({"code": secret.code_at_step(step, DIGITS)});
    let confirmed = c
        .count("POST /v1/me/mfa/totp/confirm", c.app.post_as(token, "/v1/me/mfa/totp/confirm", code(step)))
        .await;
    let token = confirmed["access_token"].as_str().unwrap();
    let signing_in = json!({"email": owner.email, "password": PASSWORD});
    let challenge =
        c.count("POST /v1/sessions (a second step asked)", c.app.post("/v1/sessions", signing_in)).await;
    let mut answer = code(step + 1);
    answer["challenge"] = challenge["challenge"].clone();
    let other = c.count("POST /v1/sessions/mfa", c.app.post("/v1/sessions/mfa", answer)).await;
    // Codes are taken from the current step on (the clock runs on real time underneath, so the
    // step before may lapse on the way); the third needs the clock a step further.
    c.app.advance_clock(30).await;
    let stepped = c
        .count("POST /v1/sessions/step-up", c.app.post_as(token, "/v1/sessions/step-up", code(step + 2)))
        .await;
    let token = stepped["access_token"].as_str().unwrap();
    let sessions = c.count("GET /v1/me/sessions", c.app.get_as(token, "/v1/me/sessions")).await;
    let ended =
        sessions["items"].as_array().unwrap().iter().find(|s| s["current"] == false).unwrap()["id"].clone();
    let ended = format!("/v1/me/sessions/{}", ended.as_str().unwrap());
    c.count("DELETE /v1/me/sessions/{session}", c.app.delete_as(token, &ended)).await;
    let signed_out = c
        .count(
            "POST /v1/me/sessions/revoke-others",
            c.app.post_as(token, "/v1/me/sessions/revoke-others", json!({})),
        )
        .await;
    let token = signed_out["access_token"].as_str().unwrap();
    assert_eq!(c.app.get_as(other["access_token"].as_str().unwrap(), "/v1/me").await.status, 401);
    c.count(
        "POST /v1/accounts/{id}/members/{user}/sessions/revoke",
        c.app.post_as(token, &format!("{member}/sessions/revoke"), json!({})),
    )
    .await;
    c.count("DELETE /v1/accounts/{id}/members/{user}/mfa", c.app.delete_as(token, &format!("{member}/mfa")))
        .await;
    c.app.advance_clock(30).await;
    let mut off = code(step + 3);
    off["password"] = json!(PASSWORD);
    c.count("POST /v1/me/mfa/totp/disable", c.app.post_as(token, "/v1/me/mfa/totp/disable", off)).await;
}

/// Visits every route once on `app`, whose store counts into `calls`; the people it creates
/// have addresses at `<domain>.example`, so one app can be toured more than once.
pub async fn every_route(app: &TestApp, calls: &DynamoCalls, domain: &str) -> Vec<Visit> {
    let email = |name: &str| format!("{name}@{domain}.example");
    let c = Tour { app, calls, visits: Default::default() };
    let created = c.count("POST /v1/operator/accounts", c.app.create_account("ozon", &email("owner"))).await;
    let account = format!("/v1/accounts/{}", created["account"]["id"].as_str().unwrap());
    let link = c.app.link_token(&email("owner")).await;
    c.count("POST /v1/invitations/inspect", c.app.post("/v1/invitations/inspect", json!({"token": link})))
        .await;
    c.count("POST /v1/invitations/accept", c.app.accept(&link, PASSWORD)).await;
    let session = c.count("POST /v1/sessions", c.app.sign_in(&email("owner"), PASSWORD)).await;
    let refresh = json!({"refresh_token": session["refresh_token"]});
    let session = c.count("POST /v1/sessions/refresh", c.app.post("/v1/sessions/refresh", refresh)).await;
    let owner = session["access_token"].as_str().unwrap().to_owned();
    c.count("GET /v1/me", c.app.get_as(&owner, "/v1/me")).await;
    let account_id = created["account"]["id"].as_str().unwrap();
    let ask = json!({"account_id": account_id, "permissions": ["products:write", "users:read"]});
    let decision = c.count("POST /v1/authorize", c.app.post_as(&owner, "/v1/authorize", ask)).await;
    assert_eq!(decision["allowed"], true, "{decision}");
    let keys = format!("/v1/accounts/{account_id}/api-keys");
    let create = json!({"name": "repricer", "permissions": ["products:write", "prices:read"]});
    let key = c.count("POST /v1/accounts/{id}/api-keys", c.app.post_as(&owner, &keys, create)).await;
    c.count("GET /v1/accounts/{id}/api-keys", c.app.get_as(&owner, &keys)).await;
    let key_path = format!("{keys}/{}", key["id"].as_str().unwrap());
    let rotated = c
        .count(
            "POST /v1/accounts/{id}/api-keys/{key}/rotate",
            c.app.post_as(&owner, &format!("{key_path}/rotate"), json!({"grace_hours": 1})),
        )
        .await;
    let secret = rotated["secret"].as_str().unwrap().to_owned();
    let ask = json!({"account_id": account_id, "permissions": ["products:read"]});
    let decision = c
        .count(
            "POST /v1/authorize (API key, first use)",
            c.app.post_as(&secret, "/v1/authorize", ask.clone()),
        )
        .await;
    assert_eq!(decision["key"]["name"], "repricer", "{decision}");
    c.count("POST /v1/authorize (API key, same minute)", c.app.post_as(&secret, "/v1/authorize", ask)).await;
    c.count(
        "POST /v1/accounts/{id}/api-keys/{key}/revoke",
        c.app.post_as(&owner, &format!("{key_path}/revoke"), json!({})),
    )
    .await;
    c.count("GET /v1/accounts/{id}", c.app.get_as(&owner, &account)).await;
    c.count("GET /v1/accounts/{id}/roles", c.app.get_as(&owner, &format!("{account}/roles"))).await;
    let role = json!({"name": "packer", "title": "Packer", "permissions": ["products:read"]});
    c.count("POST /v1/accounts/{id}/roles", c.app.post_as(&owner, &format!("{account}/roles"), role)).await;
    let packer = format!("{account}/roles/packer");
    let changed = json!({"title": "Shelf keeper", "permissions": ["products:write"]});
    c.count("PUT /v1/accounts/{id}/roles/{role}", c.app.put_as(&owner, &packer, changed)).await;
    c.count("DELETE /v1/accounts/{id}/roles/{role}", c.app.delete_as(&owner, &packer)).await;
    c.count("GET /v1/accounts/{id}/members", c.app.get_as(&owner, &format!("{account}/members"))).await;
    let invite = json!({"email": &email("pm"), "roles": ["product_manager"]});
    let invitation = c
        .count(
            "POST /v1/accounts/{id}/invitations",
            c.app.post_as(&owner, &format!("{account}/invitations"), invite),
        )
        .await;
    let invitation = format!("{account}/invitations/{}", invitation["id"].as_str().unwrap());
    let rows = json!({"invitations": [{"email": &email("bulk-a"), "roles": ["product_manager"]}]});
    c.count(
        "POST /v1/accounts/{id}/invitations/bulk (one row)",
        c.app.post_as(&owner, &format!("{account}/invitations/bulk"), rows),
    )
    .await;
    c.count("GET /v1/accounts/{id}/invitations", c.app.get_as(&owner, &format!("{account}/invitations")))
        .await;
    c.count("GET /v1/accounts/{id}/invitations/{invitation}", c.app.get_as(&owner, &invitation)).await;
    c.count(
        "POST /v1/accounts/{id}/invitations/{invitation}/resend",
        c.app.post_as(&owner, &format!("{invitation}/resend"), json!({})),
    )
    .await;
    c.count(
        "POST /v1/accounts/{id}/invitations/{invitation}/revoke",
        c.app.post_as(&owner, &format!("{invitation}/revoke"), json!({})),
    )
    .await;
    c.count("GET /v1/accounts/{id}/audit-events", c.app.get_as(&owner, &format!("{account}/audit-events")))
        .await;
    c.count(
        "GET /v1/accounts/{id}/audit-events/export",
        c.app.get_as(&owner, &format!("{account}/audit-events/export")),
    )
    .await;
    let admin = c
        .app
        .post_as(
            &owner,
            &format!("{account}/invitations"),
            json!({"email": &email("admin"), "roles": ["administrator"]}),
        )
        .await;
    let admin_session = c.app.accept(&c.app.link_token(&email("admin")).await, PASSWORD).await;
    let admin_id = admin_session.str("user_id");
    let member = format!("{account}/members/{admin_id}");
    assert_eq!(admin.status, 201);
    c.count("GET /v1/accounts/{id}/members/{user}", c.app.get_as(&owner, &member)).await;
    c.count(
        "PUT /v1/accounts/{id}/members/{user}/roles",
        c.app.put_as(&owner, &format!("{member}/roles"), json!({"roles": ["administrator"]})),
    )
    .await;
    c.count(
        "POST /v1/accounts/{id}/members/{user}/block",
        c.app.post_as(&owner, &format!("{member}/block"), json!({})),
    )
    .await;
    c.count(
        "POST /v1/accounts/{id}/members/{user}/unblock",
        c.app.post_as(&owner, &format!("{member}/unblock"), json!({})),
    )
    .await;
    c.count(
        "PATCH /v1/accounts/{id}/settings",
        c.app.patch_as(&owner, &format!("{account}/settings"), json!({"invitation_ttl_hours": 12})),
    )
    .await;
    let transfer = json!({"user_id": admin_id, "password": PASSWORD});
    c.count(
        "POST /v1/accounts/{id}/ownership-transfer",
        c.app.post_as(&owner, &format!("{account}/ownership-transfer"), transfer),
    )
    .await;
    // The block ended the admin's session there: they sign in again.
    let new_owner = c.app.sign_in(&email("admin"), PASSWORD).await.str("access_token");
    let extra = c
        .app
        .post_as(
            &new_owner,
            &format!("{account}/invitations"),
            json!({"email": &email("gone"), "roles": ["product_manager"]}),
        )
        .await;
    assert_eq!(extra.status, 201);
    let gone = c.app.accept(&c.app.link_token(&email("gone")).await, PASSWORD).await.str("user_id");
    c.count(
        "DELETE /v1/accounts/{id}/members/{user}",
        c.app.delete_as(&new_owner, &format!("{account}/members/{gone}")),
    )
    .await;
    let created_id = created["account"]["id"].as_str().unwrap();
    c.count("PUT /v1/operator/accounts/{id}/seat-limit", c.app.seat_limit(created_id, Some(50))).await;
    let recovery = format!("/v1/operator/accounts/{created_id}/owner-recovery");
    c.count(
        "POST /v1/operator/accounts/{id}/owner-recovery",
        c.app.operator(&recovery, json!({"new_email": &email("recovered")})),
    )
    .await;
    c.count("POST /v1/password-reset", c.app.post("/v1/password-reset", json!({"email": &email("owner")})))
        .await;
    let reset = c.app.link_token(&email("owner")).await;
    c.count(
        "POST /v1/password-reset/inspect",
        c.app.post("/v1/password-reset/inspect", json!({"token": reset})),
    )
    .await;
    c.count(
        "POST /v1/password-reset/confirm",
        c.app.post(
            "/v1/password-reset/confirm",
            json!({"token": reset, "new_password": "Another-Long-Passphrase-7"}),
        ),
    )
    .await;
    let again = c.app.sign_in(&email("owner"), "Another-Long-Passphrase-7").await;
    let token = again.str("access_token");
    c.count("PATCH /v1/me", c.app.patch_as(&token, "/v1/me", json!({"first_name": "Olena"}))).await;
    let change =
        json!({"current_password": "Another-Long-Passphrase-7", "new_password": "Yet-Another-Passphrase-8"});
    c.count("POST /v1/me/password", c.app.post_as(&token, "/v1/me/password", change)).await;
    let logout = json!({"refresh_token": again.str("refresh_token")});
    c.count("POST /v1/sessions/logout", c.app.post("/v1/sessions/logout", logout)).await;
    two_step_verification(&c, &email).await;
    renewal_request(&c, &email).await;

    c.visits.into_inner()
}
