//! DynamoDB calls per API route, counted with an SDK interceptor on the real store (DynamoDB
//! Local); calls made in parallel count one each, so this is stricter than round trips. Each route
//! is pinned to what it costs today, so a change that adds a call fails here and has to say why.
//! The aim is one read and one write round trip; see `BUDGET` for why routes exceed it.

use serde_json::{Value, json};
use std::sync::Arc;
use tests::app::{PASSWORD, TestApp, ses_mailer, spawn_app_on};
use tests::emulators::{DynamoCalls, VERIFIED_SENDER, counted_dynamo_store};

const READS: [&str; 3] = ["GetItem", "BatchGetItem", "Query"];

/// (route, reads, writes) at most. Why some exceed one and one:
/// - every account route first reads the caller (one BatchGetItem of account, user and
///   membership), because blocking and role changes must apply to the very next request;
///   `POST /v1/authorize` is that read alone, for the account its body names;
/// - rate-limited routes (sign-in, reset, accept, invite, and the password re-entry of ownership
///   transfer and password change) add one counter UpdateItem per limit;
/// - a link is looked up by its hash alone, so inspect and accept read the token, then (in
///   parallel) the invitation with its account and the invitee's login; accept reads them twice:
///   once to decide (and refuse a dead link before any hashing), and again after the password
///   is hashed, so that its conditional write follows its read at once;
/// - invite reads the invitee's login and the account summary its membership item carries;
///   resend, revoke and delete read the membership before a conditional write to it;
/// - invite and resend count the mail against the inviter and against the address (two counters,
///   in parallel), so a revoke-and-resend loop cannot flood an inbox;
/// - revoke and delete read the person's user item (consistently: the write is conditioned on
///   it) and, in parallel, their other memberships, to release a login left with none;
/// - reset request, reset confirm, `PATCH /v1/me` and password change read the user item
///   consistently (in parallel with the login from the index), because their write is
///   conditioned on its version;
/// - creating an API key reads the account's keys (one `Query` of its partition), to hold it to
///   its most active keys; rotate and revoke read the key before a write conditioned on its
///   version;
/// - `POST /v1/authorize` with an API key reads the key (one `GetItem`: its id and account are
///   in the secret) and counts the use against the key's limit (one counter `UpdateItem`); the
///   first use in a minute also notes it on the key (one more `UpdateItem`), later ones do not.
const BUDGET: &[(&str, usize, usize)] = &[
    ("POST /v1/operator/accounts", 1, 1),
    ("POST /v1/invitations/inspect", 3, 0),
    ("POST /v1/invitations/accept", 6, 2),
    ("POST /v1/sessions", 1, 3),
    ("POST /v1/sessions/refresh", 2, 1),
    ("GET /v1/me", 1, 0),
    ("POST /v1/authorize", 1, 0),
    ("POST /v1/accounts/{id}/api-keys", 2, 1),
    ("GET /v1/accounts/{id}/api-keys", 2, 0),
    ("POST .../api-keys/{key}/rotate", 2, 1),
    ("POST /v1/authorize (API key, first use)", 1, 2),
    ("POST /v1/authorize (API key, same minute)", 1, 1),
    ("POST .../api-keys/{key}/revoke", 2, 1),
    ("GET /v1/accounts/{id}", 1, 0),
    ("GET /v1/accounts/{id}/roles", 1, 0),
    ("GET /v1/accounts/{id}/members", 2, 0),
    ("GET /v1/accounts/{id}/members/{user}", 2, 0),
    ("POST /v1/accounts/{id}/invitations", 3, 3),
    ("GET /v1/accounts/{id}/invitations", 2, 0),
    ("GET /v1/accounts/{id}/invitations/{invitation}", 2, 0),
    ("POST .../invitations/{invitation}/resend", 3, 3),
    ("POST .../invitations/{invitation}/revoke", 5, 1),
    ("GET /v1/accounts/{id}/audit-events", 2, 0),
    ("PUT .../members/{user}/roles", 2, 1),
    ("POST .../members/{user}/block", 2, 1),
    ("POST .../members/{user}/unblock", 2, 1),
    ("PATCH /v1/accounts/{id}/settings", 1, 1),
    ("POST /v1/accounts/{id}/ownership-transfer", 2, 2),
    ("DELETE .../members/{user}", 4, 1),
    ("POST /v1/operator/accounts/{id}/owner-recovery", 3, 2),
    ("POST /v1/password-reset", 2, 3),
    ("POST /v1/password-reset/confirm", 3, 1),
    ("PATCH /v1/me", 2, 1),
    ("POST /v1/me/password", 2, 2),
    ("POST /v1/sessions/logout", 1, 1),
];

struct Counter {
    app: TestApp,
    calls: DynamoCalls,
    measured: std::cell::RefCell<Vec<(&'static str, usize, usize)>>,
}

impl Counter {
    /// Runs one request and records its round trips under `route`.
    async fn count(
        &self,
        route: &'static str,
        reply: impl std::future::Future<Output = tests::app::Reply>,
    ) -> Value {
        self.calls.take();
        let reply = reply.await;
        assert!(reply.status < 400, "{route}: {} {}", reply.status, reply.body);
        let calls = self.calls.take();
        let reads = calls.iter().filter(|c| READS.contains(&c.as_str())).count();
        self.measured.borrow_mut().push((route, reads, calls.len() - reads));
        reply.body
    }
}

#[tokio::test]
async fn every_route_stays_within_its_pinned_dynamodb_calls() {
    let calls = DynamoCalls::default();
    let store = Arc::new(counted_dynamo_store(&calls).await);
    let app = spawn_app_on(store, ses_mailer(VERIFIED_SENDER).await, |_| {}).await;
    let c = Counter { app, calls, measured: Default::default() };

    let created =
        c.count("POST /v1/operator/accounts", c.app.create_account("ozon", "owner@calls.example")).await;
    let account = format!("/v1/accounts/{}", created["account"]["id"].as_str().unwrap());
    let link = c.app.link_token("owner@calls.example").await;
    c.count("POST /v1/invitations/inspect", c.app.post("/v1/invitations/inspect", json!({"token": link})))
        .await;
    c.count("POST /v1/invitations/accept", c.app.accept(&link, PASSWORD)).await;
    let session = c.count("POST /v1/sessions", c.app.sign_in("owner@calls.example", PASSWORD)).await;
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
            "POST .../api-keys/{key}/rotate",
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
        "POST .../api-keys/{key}/revoke",
        c.app.post_as(&owner, &format!("{key_path}/revoke"), json!({})),
    )
    .await;
    c.count("GET /v1/accounts/{id}", c.app.get_as(&owner, &account)).await;
    c.count("GET /v1/accounts/{id}/roles", c.app.get_as(&owner, &format!("{account}/roles"))).await;
    c.count("GET /v1/accounts/{id}/members", c.app.get_as(&owner, &format!("{account}/members"))).await;
    let invite = json!({"email": "pm@calls.example", "roles": ["product_manager"]});
    let invitation = c
        .count(
            "POST /v1/accounts/{id}/invitations",
            c.app.post_as(&owner, &format!("{account}/invitations"), invite),
        )
        .await;
    let invitation = format!("{account}/invitations/{}", invitation["id"].as_str().unwrap());
    c.count("GET /v1/accounts/{id}/invitations", c.app.get_as(&owner, &format!("{account}/invitations")))
        .await;
    c.count("GET /v1/accounts/{id}/invitations/{invitation}", c.app.get_as(&owner, &invitation)).await;
    c.count(
        "POST .../invitations/{invitation}/resend",
        c.app.post_as(&owner, &format!("{invitation}/resend"), json!({})),
    )
    .await;
    c.count(
        "POST .../invitations/{invitation}/revoke",
        c.app.post_as(&owner, &format!("{invitation}/revoke"), json!({})),
    )
    .await;
    c.count("GET /v1/accounts/{id}/audit-events", c.app.get_as(&owner, &format!("{account}/audit-events")))
        .await;
    let admin = c
        .app
        .post_as(
            &owner,
            &format!("{account}/invitations"),
            json!({"email": "admin@calls.example", "roles": ["administrator"]}),
        )
        .await;
    let admin_session = c.app.accept(&c.app.link_token("admin@calls.example").await, PASSWORD).await;
    let admin_id = admin_session.str("user_id");
    let member = format!("{account}/members/{admin_id}");
    assert_eq!(admin.status, 201);
    c.count("GET /v1/accounts/{id}/members/{user}", c.app.get_as(&owner, &member)).await;
    c.count(
        "PUT .../members/{user}/roles",
        c.app.put_as(&owner, &format!("{member}/roles"), json!({"roles": ["administrator"]})),
    )
    .await;
    c.count("POST .../members/{user}/block", c.app.post_as(&owner, &format!("{member}/block"), json!({})))
        .await;
    c.count(
        "POST .../members/{user}/unblock",
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
    let new_owner = admin_session.str("access_token");
    let extra = c
        .app
        .post_as(
            &new_owner,
            &format!("{account}/invitations"),
            json!({"email": "gone@calls.example", "roles": ["product_manager"]}),
        )
        .await;
    assert_eq!(extra.status, 201);
    let gone = c.app.accept(&c.app.link_token("gone@calls.example").await, PASSWORD).await.str("user_id");
    c.count("DELETE .../members/{user}", c.app.delete_as(&new_owner, &format!("{account}/members/{gone}")))
        .await;
    let recovery =
        format!("/v1/operator/accounts/{}/owner-recovery", created["account"]["id"].as_str().unwrap());
    c.count(
        "POST /v1/operator/accounts/{id}/owner-recovery",
        c.app.operator(&recovery, json!({"new_email": "recovered@calls.example"})),
    )
    .await;
    c.count(
        "POST /v1/password-reset",
        c.app.post("/v1/password-reset", json!({"email": "owner@calls.example"})),
    )
    .await;
    let reset = c.app.link_token("owner@calls.example").await;
    c.count(
        "POST /v1/password-reset/confirm",
        c.app.post(
            "/v1/password-reset/confirm",
            json!({"token": reset, "new_password": "Another-Long-Passphrase-7"}),
        ),
    )
    .await;
    let again = c.app.sign_in("owner@calls.example", "Another-Long-Passphrase-7").await;
    let token = again.str("access_token");
    c.count("PATCH /v1/me", c.app.patch_as(&token, "/v1/me", json!({"first_name": "Olena"}))).await;
    let logout = json!({"refresh_token": again.str("refresh_token")});
    c.count("POST /v1/sessions/logout", c.app.post("/v1/sessions/logout", logout)).await;
    let change =
        json!({"current_password": "Another-Long-Passphrase-7", "new_password": "Yet-Another-Passphrase-8"});
    c.count("POST /v1/me/password", c.app.post_as(&token, "/v1/me/password", change)).await;

    println!("{:<48} {:>5} {:>6}", "route", "reads", "writes");
    let mut over = Vec::new();
    let measured = c.measured.borrow();
    for (route, reads, writes) in measured.iter() {
        println!("{route:<48} {reads:>5} {writes:>6}");
        let (_, max_reads, max_writes) =
            BUDGET.iter().find(|(r, ..)| r == route).expect("every counted route has a budget");
        if reads > max_reads || writes > max_writes {
            over.push(format!(
                "{route}: {reads} reads, {writes} writes (pinned at {max_reads}, {max_writes})"
            ));
        }
    }
    assert_eq!(measured.len(), BUDGET.len(), "every budgeted route is exercised");
    assert!(over.is_empty(), "over budget:\n{}", over.join("\n"));
}
