//! The authorization matrix: every account-scoped and self route of the route table, called as
//! the owner, as every role of every preset (direct grants for `amazon-seller`), as a stranger
//! (the owner of another account of the same preset) and as one of the account's API keys (which
//! only `POST /v1/authorize` takes: every other route answers it `401`), each answer checked
//! against the status the caller's effective permissions call for (and `POST /v1/authorize`'s
//! answer against them too). Every mismatch is collected and reported at once.

use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::UserId;
use shared::http::routes::{Guard, ROUTES};
use std::collections::BTreeSet;
use tests::app::{Owner, PASSWORD, TestApp, spawn_app};

/// A preset under test: its first catalog section, and the members made for it with the `users`
/// level the preset file gives each (`None`, `Some("read")`, `Some("write")`).
struct Setup {
    preset: &'static str,
    first_section: &'static str,
    members: Vec<MemberSpec>,
}

struct MemberSpec {
    label: &'static str,
    roles: &'static [&'static str],
    permissions: &'static [&'static str],
    users: Option<&'static str>,
}

/// The path and body a caller (by index) sends for one route.
type RequestFor<'a> = dyn FnMut(usize, &Caller) -> (String, Option<Value>) + 'a;
const fn role(
    label: &'static str,
    roles: &'static [&'static str],
    users: Option<&'static str>,
) -> MemberSpec {
    MemberSpec { label, roles, permissions: &[], users }
}

fn setup(preset: &'static str) -> Setup {
    let (first_section, members) = match preset {
        "standard" => (
            "products",
            vec![
                role("administrator", &["administrator"], Some("write")),
                role("editor", &["editor"], None),
                role("viewer", &["viewer"], None),
                role("finance", &["finance"], None),
            ],
        ),
        "ozon" => (
            "products",
            vec![
                role("administrator", &["administrator"], Some("write")),
                role("product_manager", &["product_manager"], None),
                role("financial_manager", &["financial_manager"], None),
                role("promotion_manager", &["promotion_manager"], None),
                role("warehouse_manager", &["warehouse_manager"], None),
            ],
        ),
        "ua-marketplace" => (
            "orders",
            vec![
                role("superadmin", &["superadmin"], Some("write")),
                role("administrator", &["administrator"], Some("read")),
            ],
        ),
        "amazon-associates" => {
            ("links", vec![role("reports", &["reports"], None), role("basic", &["basic"], None)])
        }
        "amazon-seller" => (
            "inventory",
            vec![
                MemberSpec {
                    label: "all-write (users:write)",
                    roles: &[],
                    permissions: &[
                        "inventory:write",
                        "orders:write",
                        "pricing:write",
                        "reports:write",
                        "advertising:write",
                        "payments:write",
                        "users:write",
                    ],
                    users: Some("write"),
                },
                MemberSpec {
                    label: "inventory:write",
                    roles: &[],
                    permissions: &["inventory:write"],
                    users: None,
                },
                MemberSpec {
                    label: "users:read+reports:read",
                    roles: &[],
                    permissions: &["users:read", "reports:read"],
                    users: Some("read"),
                },
            ],
        ),
        "joom" => (
            "orders",
            vec![
                role("admin", &["admin"], Some("write")),
                role("operations", &["operations"], None),
                role("finance", &["finance"], Some("read")),
                role("operations+finance", &["operations", "finance"], Some("read")),
            ],
        ),
        other => panic!("no authorization setup for preset {other}"),
    };
    Setup { preset, first_section, members }
}

/// Someone who calls the routes.
struct Caller {
    label: String,
    token: String,
    user_id: String,
    /// `memberships[0].effective_permissions` from `GET /v1/me`.
    effective: Vec<String>,
    is_owner: bool,
    stranger: bool,
    /// An API key of the account, sent as `Authorization: Bearer tgk_…`: its id.
    key_id: Option<String>,
}

impl Caller {
    /// `write` implies `read`.
    fn holds(&self, permission: &str) -> bool {
        let (section, level) = permission.split_once(':').expect("section:level");
        self.is_owner
            || self.effective.iter().any(|p| p == permission)
            || (level == "read" && self.effective.iter().any(|p| *p == format!("{section}:write")))
    }

    fn users_level(&self) -> Option<&'static str> {
        if self.holds("users:write") {
            Some("write")
        } else if self.holds("users:read") {
            Some("read")
        } else {
            None
        }
    }
}

/// One row of the table: a route, and for each caller (by index) the request and the answer.
struct Row {
    label: &'static str,
    method: Method,
    template: &'static str,
    /// Per caller: path, body, expected (status, problem code; `""` for a success).
    cases: Vec<(String, Option<Value>, (u16, &'static str))>,
    /// Per caller, what the body of the expected answer says, where the status alone does not
    /// tell the caller's rights (`POST /v1/authorize` answers 200 whatever they hold).
    answers: Vec<Option<Value>>,
}

/// A member who joined from the emailed link.
struct Joined {
    token: String,
    user_id: String,
    invitation_id: String,
}

/// Profile fields the preset requires of an invitation (ua-marketplace: Cyrillic names and a
/// unique Ukrainian mobile number).
fn profile(preset: &str, n: &mut u32) -> serde_json::Map<String, Value> {
    let mut fields = serde_json::Map::new();
    if preset == "ua-marketplace" {
        *n += 1;
        fields.insert("first_name".into(), json!("Олена"));
        fields.insert("last_name".into(), json!("Коваль"));
        fields.insert("phone".into(), json!(format!("+38067{:07}", 1_234_500 + *n)));
    }
    fields
}

fn invitation_body(
    preset: &str,
    phones: &mut u32,
    email: &str,
    roles: &[&str],
    permissions: &[&str],
) -> Value {
    let mut body = profile(preset, phones);
    body.insert("email".into(), json!(email));
    body.insert("roles".into(), json!(roles));
    body.insert("permissions".into(), json!(permissions));
    Value::Object(body)
}

/// Invites `email` as the owner and accepts the link: `TestApp::member` with the preset's profile
/// fields, returning the ids as well.
async fn join(
    app: &TestApp,
    owner: &Owner,
    preset: &str,
    phones: &mut u32,
    email: &str,
    roles: &[&str],
    permissions: &[&str],
) -> Joined {
    let body = invitation_body(preset, phones, email, roles, permissions);
    let invited =
        app.post_as(&owner.token, &format!("/v1/accounts/{}/invitations", owner.account_id), body).await;
    assert_eq!(invited.status, 201, "{preset}: inviting {email}: {}", invited.body);
    let session = app.accept(&app.link_token(email).await, PASSWORD).await;
    assert_eq!(session.status, 200, "{preset}: {email} accepts: {}", session.body);
    Joined {
        token: app.ready(session.str("access_token"), &owner.account_id).await,
        user_id: session.str("user_id"),
        invitation_id: invited.str("id"),
    }
}

async fn caller(app: &TestApp, label: String, token: String, stranger: bool) -> Caller {
    let me = app.get_as(&token, "/v1/me").await;
    assert_eq!(me.status, 200, "{label}: GET /v1/me: {}", me.body);
    let membership = &me.body["memberships"][0];
    let effective = membership["effective_permissions"]
        .as_array()
        .unwrap_or_else(|| panic!("{label}: no effective_permissions in {}", me.body))
        .iter()
        .map(|p| p.as_str().expect("a permission string").to_owned())
        .collect();
    Caller {
        label,
        user_id: me.str("user_id"),
        effective,
        is_owner: membership["is_owner"] == true,
        stranger,
        token,
        key_id: None,
    }
}

/// An API key of the owner's account holding `permissions`, made by the owner: its view and
/// secret.
async fn api_key(app: &TestApp, owner: &Owner, name: &str, permissions: &[&str]) -> Value {
    let created = app
        .post_as(
            &owner.token,
            &format!("{}/api-keys", owner.account_path()),
            json!({"name": name, "permissions": permissions}),
        )
        .await;
    assert_eq!(created.status, 201, "{name}: {}", created.body);
    created.body
}

/// The account's API key as a caller: it holds its own permissions and is no member.
fn key_caller(key: &Value) -> Caller {
    let effective = key["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .map(|p| p.as_str().expect("a permission string").to_owned())
        .collect();
    Caller {
        label: "api key (of the account)".into(),
        token: key["secret"].as_str().expect("the secret").to_owned(),
        // No one: "oneself" is the key, which no route takes but `POST /v1/authorize`.
        user_id: key["id"].as_str().expect("an id").to_owned(),
        effective,
        is_owner: false,
        stranger: false,
        key_id: Some(key["id"].as_str().expect("an id").to_owned()),
    }
}

fn random_id() -> String {
    UserId::generate().to_string()
}

const OK: (u16, &str) = (200, "");
const CREATED: (u16, &str) = (201, "");
const FORBIDDEN: (u16, &str) = (403, "forbidden");
const NOT_FOUND: (u16, &str) = (404, "not_found");
const BAD_PASSWORD: (u16, &str) = (401, "invalid_credentials");
const UNAUTHENTICATED: (u16, &str) = (401, "unauthenticated");
const WRONG_CODE: (u16, &str) = (400, "invalid_mfa_code");
const MFA_OFF: (u16, &str) = (409, "mfa_not_enabled");

async fn authorization_matrix(preset: &'static str) {
    let app = spawn_app().await;
    let setup = setup(preset);
    let domain = format!("{preset}.authz.example");
    let mut phones = 0;

    // Given an account with its owner, one member per role, a low-privilege target, and a stranger
    let owner = app.owner(preset, &format!("owner@{domain}")).await;
    let account = format!("/v1/accounts/{}", owner.account_id);
    let target_grant = format!("{}:read", setup.first_section);
    let target =
        join(&app, &owner, preset, &mut phones, &format!("target@{domain}"), &[], &[&target_grant]).await;
    let stranger_owner = app.owner(preset, &format!("stranger@other-{domain}")).await;
    // The owner's API keys: one that calls every route, one the matrix rotates.
    let first_write = format!("{}:write", setup.first_section);
    let matrix_key = api_key(&app, &owner, "matrix", &[&first_write]).await;
    let target_key = api_key(&app, &owner, "target", &[&target_grant]).await;

    let mut callers = vec![caller(&app, "owner".into(), owner.token.clone(), false).await];
    let mut mismatches = Vec::new();
    for (i, spec) in setup.members.iter().enumerate() {
        let email = format!("member{i}@{domain}");
        let joined = join(&app, &owner, preset, &mut phones, &email, spec.roles, spec.permissions).await;
        let member = caller(&app, spec.label.to_owned(), joined.token, false).await;
        // The effective permissions the table is derived from agree with the preset's roles
        if member.users_level() != spec.users {
            mismatches.push(format!(
                "{preset} / {}: users level from GET /v1/me effective_permissions {:?} is {:?}, the preset gives {:?}",
                member.label,
                member.effective,
                member.users_level(),
                spec.users
            ));
        }
        callers.push(member);
    }
    callers
        .push(caller(&app, "stranger (owner of another account)".into(), stranger_owner.token, true).await);
    callers.push(key_caller(&matrix_key));

    // The table: every route, with each caller's request and expected answer
    let target_key_id = target_key["id"].as_str().expect("an id");
    let rows = table(&setup, &account, &target, target_key_id, &callers, &mut phones, &domain);

    // Every account-scoped and self route of ROUTES is in the table, and nothing else
    let routed: BTreeSet<(String, &str)> = ROUTES
        .iter()
        .filter(|r| {
            matches!(r.guard, Guard::SignedIn | Guard::SignedInOrKey | Guard::Member(_) | Guard::Owner)
        })
        .map(|r| (r.method.to_string(), r.path))
        .collect();
    let tabled: BTreeSet<(String, &str)> = rows.iter().map(|r| (r.method.to_string(), r.template)).collect();
    assert_eq!(routed, tabled, "{preset}: the table covers exactly the account and self routes of ROUTES");

    // When each caller calls every route, then each gets the expected status
    let mut checked = 0;
    for (c, who) in callers.iter().enumerate() {
        for row in &rows {
            let (path, body, expected) = &row.cases[c];
            let reply = app.send(row.method.clone(), path, Some(&who.token), body.clone()).await;
            checked += 1;
            let got = (reply.status, reply.code());
            if got == *expected
                && let Some(answer) = &row.answers[c]
                && reply.body != *answer
            {
                mismatches.push(format!(
                    "{preset} / {} / {} ({} {}): expected the answer {answer}, got {}",
                    who.label, row.label, row.method, path, reply.body
                ));
            }
            if got != *expected {
                mismatches.push(format!(
                    "{preset} / {} / {} ({} {}): expected {:?}, got {:?} {}",
                    who.label,
                    row.label,
                    row.method,
                    path,
                    expected,
                    got,
                    reply.body.to_string().chars().take(300).collect::<String>()
                ));
            }
        }
    }

    // And the refused calls changed nothing: the target is as it was, and only users:write
    // holders' invitations exist
    // (The owner signs in again: the matrix's last row signed them out everywhere else.)
    let checker = app.signed_in(&owner.email, PASSWORD).await.str("access_token");
    let seen = app.get_as(&checker, &format!("{account}/members/{}", target.user_id)).await;
    if (seen.body["status"].as_str(), &seen.body["permissions"]) != (Some("active"), &json!([target_grant])) {
        mismatches.push(format!("{preset}: the target ends as {}", seen.body));
    }
    let invitations = app.get_as(&checker, &format!("{account}/invitations?email=invitee&limit=100")).await;
    let invited = invitations.body["items"].as_array().map_or(0, Vec::len);
    let writers =
        callers.iter().filter(|c| !c.stranger && c.key_id.is_none() && c.holds("users:write")).count();
    if invited != writers {
        mismatches.push(format!(
            "{preset}: {invited} invitations from the matrix exist, {writers} callers hold users:write"
        ));
    }
    // Only users:write holders made keys (besides the owner's two), and both of those still work
    let keys = app.get_as(&checker, &format!("{account}/api-keys")).await;
    let listed = keys.body["items"].as_array().cloned().unwrap_or_default();
    if listed.len() != writers + 2 {
        mismatches.push(format!("{preset}: {} keys exist, {writers} callers hold users:write", listed.len()));
    }
    if listed.iter().any(|k| k["status"] != "active") {
        mismatches
            .push(format!("{preset}: a key the matrix made or rotated is no longer active: {}", keys.body));
    }
    eprintln!(
        "{preset}: {checked} (caller, route) pairs checked ({} callers x {} routes)",
        callers.len(),
        rows.len()
    );
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}

/// Builds the expectation table from the callers' effective permissions and the API's rules
/// (`openapi.yaml`).
fn table(
    setup: &Setup,
    account: &str,
    target: &Joined,
    target_key: &str,
    callers: &[Caller],
    phones: &mut u32,
    domain: &str,
) -> Vec<Row> {
    let preset = setup.preset;
    let grant = format!("{}:read", setup.first_section);
    let t = &target.user_id;

    // Expected answers: a stranger never learns the account exists; members need a permission
    let member_any = |_: &Caller| OK;
    let needs = |permission: &'static str, success: (u16, &'static str)| {
        move |c: &Caller| if c.holds(permission) { success } else { FORBIDDEN }
    };
    let expect = |c: &Caller, rule: &dyn Fn(&Caller) -> (u16, &'static str)| {
        if c.stranger { NOT_FOUND } else { rule(c) }
    };
    let same = |path: String, body: Option<Value>| move |_: usize, _: &Caller| (path.clone(), body.clone());
    let build = |label: &'static str,
                 method: Method,
                 template: &'static str,
                 request: &mut RequestFor<'_>,
                 rule: &dyn Fn(&Caller) -> (u16, &'static str),
                 account_scoped: bool| {
        let cases = callers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (path, body) = request(i, c);
                // A key is no access token: only `POST /v1/authorize` takes one
                let expected = if c.key_id.is_some() && template != "/v1/authorize" {
                    UNAUTHENTICATED
                } else if account_scoped {
                    expect(c, rule)
                } else {
                    rule(c)
                };
                (path, body, expected)
            })
            .collect();
        Row { label, method, template, cases, answers: vec![None; callers.len()] }
    };

    let mut rows = Vec::new();
    rows.push(build(
        "get account",
        Method::GET,
        "/v1/accounts/{account_id}",
        &mut same(account.to_owned(), None),
        &member_any,
        true,
    ));
    rows.push(build(
        "list roles",
        Method::GET,
        "/v1/accounts/{account_id}/roles",
        &mut same(format!("{account}/roles"), None),
        &member_any,
        true,
    ));
    rows.push(build(
        "list members",
        Method::GET,
        "/v1/accounts/{account_id}/members",
        &mut same(format!("{account}/members"), None),
        &needs("users:read", OK),
        true,
    ));
    rows.push(build(
        "get the target member",
        Method::GET,
        "/v1/accounts/{account_id}/members/{user_id}",
        &mut same(format!("{account}/members/{t}"), None),
        &needs("users:read", OK),
        true,
    ));
    rows.push(build(
        "get oneself as a member",
        Method::GET,
        "/v1/accounts/{account_id}/members/{user_id}",
        &mut |_, c: &Caller| (format!("{account}/members/{}", c.user_id), None),
        &member_any,
        true,
    ));
    rows.push(build(
        "invite",
        Method::POST,
        "/v1/accounts/{account_id}/invitations",
        &mut |i, _: &Caller| {
            let email = format!("invitee{i}@{domain}");
            (format!("{account}/invitations"), Some(invitation_body(preset, phones, &email, &[], &[&grant])))
        },
        &needs("users:write", CREATED),
        true,
    ));
    rows.push(build(
        "invite in bulk",
        Method::POST,
        "/v1/accounts/{account_id}/invitations/bulk",
        &mut |i, _: &Caller| {
            let row = invitation_body(preset, phones, &format!("bulk{i}@{domain}"), &[], &[&grant]);
            (format!("{account}/invitations/bulk"), Some(json!({ "invitations": [row] })))
        },
        &needs("users:write", OK),
        true,
    ));
    rows.push(build(
        "list invitations",
        Method::GET,
        "/v1/accounts/{account_id}/invitations",
        &mut same(format!("{account}/invitations"), None),
        &needs("users:read", OK),
        true,
    ));
    rows.push(build(
        "get the target's invitation",
        Method::GET,
        "/v1/accounts/{account_id}/invitations/{invitation_id}",
        &mut same(format!("{account}/invitations/{}", target.invitation_id), None),
        &needs("users:read", OK),
        true,
    ));
    rows.push(build(
        "revoke an unknown invitation",
        Method::POST,
        "/v1/accounts/{account_id}/invitations/{invitation_id}/revoke",
        &mut |_, _: &Caller| (format!("{account}/invitations/{}/revoke", random_id()), Some(json!({}))),
        &needs("users:write", NOT_FOUND),
        true,
    ));
    rows.push(build(
        "resend an unknown invitation",
        Method::POST,
        "/v1/accounts/{account_id}/invitations/{invitation_id}/resend",
        &mut |_, _: &Caller| (format!("{account}/invitations/{}/resend", random_id()), Some(json!({}))),
        &needs("users:write", NOT_FOUND),
        true,
    ));
    rows.push(build(
        "list audit events",
        Method::GET,
        "/v1/accounts/{account_id}/audit-events",
        &mut same(format!("{account}/audit-events"), None),
        &needs("users:read", OK),
        true,
    ));
    rows.push(build(
        "export audit events",
        Method::GET,
        "/v1/accounts/{account_id}/audit-events/export",
        &mut same(format!("{account}/audit-events/export?format=ndjson"), None),
        &needs("users:read", OK),
        true,
    ));
    rows.push(build(
        "set the target's roles",
        Method::PUT,
        "/v1/accounts/{account_id}/members/{user_id}/roles",
        &mut same(format!("{account}/members/{t}/roles"), Some(json!({"roles": [], "permissions": [grant]}))),
        &needs("users:write", OK),
        true,
    ));
    rows.push(build(
        "block the target",
        Method::POST,
        "/v1/accounts/{account_id}/members/{user_id}/block",
        &mut same(format!("{account}/members/{t}/block"), Some(json!({}))),
        &needs("users:write", OK),
        true,
    ));
    rows.push(build(
        "unblock the target",
        Method::POST,
        "/v1/accounts/{account_id}/members/{user_id}/unblock",
        &mut same(format!("{account}/members/{t}/unblock"), Some(json!({}))),
        &needs("users:write", OK),
        true,
    ));
    rows.push(build(
        "delete an unknown member",
        Method::DELETE,
        "/v1/accounts/{account_id}/members/{user_id}",
        &mut |_, _: &Caller| (format!("{account}/members/{}", random_id()), None),
        &needs("users:write", NOT_FOUND),
        true,
    ));
    rows.push(build(
        "end an unknown member's sessions",
        Method::POST,
        "/v1/accounts/{account_id}/members/{user_id}/sessions/revoke",
        &mut |_, _: &Caller| (format!("{account}/members/{}/sessions/revoke", random_id()), None),
        &needs("users:write", NOT_FOUND),
        true,
    ));
    rows.push(build(
        "reset an unknown member's two-step verification",
        Method::DELETE,
        "/v1/accounts/{account_id}/members/{user_id}/mfa",
        &mut |_, _: &Caller| (format!("{account}/members/{}/mfa", random_id()), None),
        &|c: &Caller| if c.is_owner { NOT_FOUND } else { FORBIDDEN },
        true,
    ));
    rows.push(build(
        "create an API key with a permission one holds",
        Method::POST,
        "/v1/accounts/{account_id}/api-keys",
        &mut |i, c: &Caller| {
            let held = c.effective.first().cloned().unwrap_or_else(|| "users:read".into());
            (format!("{account}/api-keys"), Some(json!({"name": format!("key {i}"), "permissions": [held]})))
        },
        &needs("users:write", CREATED),
        true,
    ));
    let names_roles = shared::domain::Presets::compiled().get(preset).is_some_and(|p| p.custom_roles);
    rows.push(build(
        "create a role of a permission one holds",
        Method::POST,
        "/v1/accounts/{account_id}/roles",
        &mut |i, c: &Caller| {
            let held = c.effective.first().cloned().unwrap_or_else(|| "users:read".into());
            let role = json!({"name": format!("role{i}"), "title": "Role", "permissions": [held]});
            (format!("{account}/roles"), Some(role))
        },
        &needs("users:write", if names_roles { CREATED } else { FORBIDDEN }),
        true,
    ));
    rows.push(build(
        "change an unknown role",
        Method::PUT,
        "/v1/accounts/{account_id}/roles/{role}",
        &mut same(format!("{account}/roles/nobody"), Some(json!({"title": "Role", "permissions": [grant]}))),
        &needs("users:write", NOT_FOUND),
        true,
    ));
    rows.push(build(
        "delete an unknown role",
        Method::DELETE,
        "/v1/accounts/{account_id}/roles/{role}",
        &mut same(format!("{account}/roles/nobody"), None),
        &needs("users:write", NOT_FOUND),
        true,
    ));
    rows.push(build(
        "list API keys",
        Method::GET,
        "/v1/accounts/{account_id}/api-keys",
        &mut same(format!("{account}/api-keys"), None),
        &needs("users:write", OK),
        true,
    ));
    // The owner's key holding the target's grant: a non-owner manages it only holding that too
    let key_grant = grant.clone();
    rows.push(build(
        "rotate the owner's key",
        Method::POST,
        "/v1/accounts/{account_id}/api-keys/{key_id}/rotate",
        &mut same(format!("{account}/api-keys/{target_key}/rotate"), Some(json!({"grace_hours": 0}))),
        &move |c: &Caller| {
            if !c.holds("users:write") {
                FORBIDDEN
            } else if c.is_owner || c.holds(&key_grant) {
                OK
            } else {
                FORBIDDEN
            }
        },
        true,
    ));
    rows.push(build(
        "rotate an unknown key",
        Method::POST,
        "/v1/accounts/{account_id}/api-keys/{key_id}/rotate",
        &mut |_, _: &Caller| {
            (format!("{account}/api-keys/{}/rotate", random_id()), Some(json!({"grace_hours": 1})))
        },
        &needs("users:write", NOT_FOUND),
        true,
    ));
    rows.push(build(
        "revoke an unknown key",
        Method::POST,
        "/v1/accounts/{account_id}/api-keys/{key_id}/revoke",
        &mut |_, _: &Caller| (format!("{account}/api-keys/{}/revoke", random_id()), None),
        &needs("users:write", NOT_FOUND),
        true,
    ));
    rows.push(build(
        "transfer ownership with a wrong password",
        Method::POST,
        "/v1/accounts/{account_id}/ownership-transfer",
        &mut same(
            format!("{account}/ownership-transfer"),
            Some(json!({"user_id": t, "password": "not the owner's password 42"})),
        ),
        &|c: &Caller| if c.is_owner { BAD_PASSWORD } else { FORBIDDEN },
        true,
    ));
    rows.push(build(
        "update settings with nothing",
        Method::PATCH,
        "/v1/accounts/{account_id}/settings",
        &mut same(format!("{account}/settings"), Some(json!({}))),
        &needs("users:write", OK),
        true,
    ));
    // Whoever holds a valid token is answered about their own rights in the account in the body,
    // which a stranger is not a member of; the answer agrees with GET /v1/me.
    let account_id = account.strip_prefix("/v1/accounts/").expect("an account path");
    let first = setup.first_section;
    let asked = [
        "users:read".to_owned(),
        "users:write".to_owned(),
        format!("{first}:read"),
        format!("{first}:write"),
    ];
    let mut authorize = build(
        "authorize",
        Method::POST,
        "/v1/authorize",
        &mut same("/v1/authorize".into(), Some(json!({"account_id": account_id, "permissions": asked}))),
        &member_any,
        true,
    );
    authorize.answers = callers
        .iter()
        .map(|c| {
            let missing: Vec<&String> = asked.iter().filter(|p| !c.holds(p)).collect();
            (!c.stranger).then(|| match &c.key_id {
                Some(key_id) => json!({
                    "allowed": missing.is_empty(),
                    "missing": missing,
                    "key": {"key_id": key_id, "name": "matrix", "permissions": c.effective},
                }),
                None => json!({
                    "allowed": missing.is_empty(),
                    "missing": missing,
                    "member": {"user_id": c.user_id, "is_owner": c.is_owner, "effective_permissions": c.effective},
                }),
            })
        })
        .collect();
    rows.push(authorize);
    rows.push(build("read me", Method::GET, "/v1/me", &mut same("/v1/me".into(), None), &member_any, false));
    rows.push(build(
        "update me with nothing",
        Method::PATCH,
        "/v1/me",
        &mut same("/v1/me".into(), Some(json!({}))),
        &member_any,
        false,
    ));
    rows.push(build(
        "change my password with a wrong current one",
        Method::POST,
        "/v1/me/password",
        &mut same(
            "/v1/me/password".into(),
            Some(json!({"current_password": "not my password at all 42", "new_password": "Another-Long-Passphrase-77"})),
        ),
        &|_: &Caller| BAD_PASSWORD,
        false,
    ));
    // Two-step verification and sessions are each person's own: the same answer for everyone.
    rows.push(build(
        "list my sessions",
        Method::GET,
        "/v1/me/sessions",
        &mut same("/v1/me/sessions".into(), None),
        &member_any,
        false,
    ));
    rows.push(build(
        "end an unknown session of mine",
        Method::DELETE,
        "/v1/me/sessions/{session_id}",
        &mut |_, _: &Caller| (format!("/v1/me/sessions/{}", random_id()), None),
        &|_: &Caller| NOT_FOUND,
        false,
    ));
    let enrolled = preset == "amazon-seller";
    rows.push(build(
        "step up with a code that is no code",
        Method::POST,
        "/v1/sessions/step-up",
        &mut same("/v1/sessions/step-up".into(), Some(json!({"code": "not a code"}))),
        &move |_: &Caller| if enrolled { WRONG_CODE } else { MFA_OFF },
        false,
    ));
    rows.push(build(
        "start enrolling an app",
        Method::POST,
        "/v1/me/mfa/totp",
        &mut same("/v1/me/mfa/totp".into(), Some(json!({"password": PASSWORD}))),
        &move |_: &Caller| if enrolled { (409, "mfa_already_enabled") } else { OK },
        false,
    ));
    rows.push(build(
        "confirm the enrollment with a code that is no code",
        Method::POST,
        "/v1/me/mfa/totp/confirm",
        &mut same("/v1/me/mfa/totp/confirm".into(), Some(json!({"code": "not a code"}))),
        &move |_: &Caller| if enrolled { (409, "mfa_already_enabled") } else { WRONG_CODE },
        false,
    ));
    rows.push(build(
        "turn two-step verification off with a wrong password",
        Method::POST,
        "/v1/me/mfa/totp/disable",
        &mut same(
            "/v1/me/mfa/totp/disable".into(),
            Some(json!({"password": "not my password at all 42", "code": "123456"})),
        ),
        &move |_: &Caller| if enrolled { BAD_PASSWORD } else { MFA_OFF },
        false,
    ));
    // Last: it ends every other session by raising the token version, and answers this
    // session's new token (the caller's old one works no more).
    rows.push(build(
        "sign out everywhere else",
        Method::POST,
        "/v1/me/sessions/revoke-others",
        &mut same("/v1/me/sessions/revoke-others".into(), None),
        &member_any,
        false,
    ));
    rows
}

#[tokio::test]
async fn standard_every_route_as_every_role_and_a_stranger() {
    authorization_matrix("standard").await;
}

#[tokio::test]
async fn ozon_every_route_as_every_role_and_a_stranger() {
    authorization_matrix("ozon").await;
}

#[tokio::test]
async fn ua_marketplace_every_route_as_every_role_and_a_stranger() {
    authorization_matrix("ua-marketplace").await;
}

#[tokio::test]
async fn amazon_associates_every_route_as_every_role_and_a_stranger() {
    authorization_matrix("amazon-associates").await;
}

#[tokio::test]
async fn amazon_seller_every_route_as_every_grant_and_a_stranger() {
    authorization_matrix("amazon-seller").await;
}

#[tokio::test]
async fn joom_every_route_as_every_role_and_a_stranger() {
    authorization_matrix("joom").await;
}
