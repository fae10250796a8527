//! Account-owned API keys (issue 18), end to end on both backends: created within what the
//! creator holds, listed without their secrets, rotated with a grace period, revoked, audited;
//! used in place of an access token at `POST /v1/authorize` (`X-Api-Key`, or a bearer `tgk_…`)
//! with exactly their permissions, from their networks, limited per key; and never at Teamgate's
//! own routes. The secret is shown once and found in no list, event, stored item or log line.

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use tests::app::{Owner, PASSWORD, Reply, TestApp, into_reply, ses_mailer, spawn_app_on};
use tests::emulators::{VERIFIED_SENDER, dynamo_store, scan_table};

const AUTHORIZE: &str = "/v1/authorize";

/// An id that names no account (and no key).
const NO_SUCH_ID: &str = "00000000-0000-7000-8000-0000000000aa";

/// Every permission of the standard preset, at read and at write.
const STANDARD: [&str; 12] = [
    "products:read",
    "products:write",
    "orders:read",
    "orders:write",
    "analytics:read",
    "analytics:write",
    "finance:read",
    "finance:write",
    "settings:read",
    "settings:write",
    "users:read",
    "users:write",
];

/// Every field a key's view has; an issued key has `secret` besides.
const VIEW_FIELDS: [&str; 12] = [
    "id",
    "name",
    "hint",
    "permissions",
    "networks",
    "status",
    "created_by",
    "created_at",
    "expires_at",
    "last_used_at",
    "revoked_at",
    "previous_secret_expires_at",
];

/// How a key travels.
#[derive(Clone, Copy, Debug)]
enum Via {
    /// `X-Api-Key: <secret>`.
    Header,
    /// `Authorization: Bearer <secret>`.
    Bearer,
}

fn keys_path(owner: &Owner) -> String {
    format!("{}/api-keys", owner.account_path())
}

fn key_path(owner: &Owner, key: &Value) -> String {
    format!("{}/{}", keys_path(owner), key["id"].as_str().expect("a key id"))
}

fn secret(issued: &Value) -> String {
    issued["secret"].as_str().unwrap_or_else(|| panic!("no secret in {issued}")).to_owned()
}

/// `secret` of an answer taken by value.
fn secret_of(issued: Value) -> String {
    secret(&issued)
}

fn time(value: &Value) -> DateTime<Utc> {
    let raw = value.as_str().unwrap_or_else(|| panic!("not a timestamp: {value}"));
    DateTime::parse_from_rfc3339(raw).unwrap_or_else(|e| panic!("{raw}: {e}")).with_timezone(&Utc)
}

/// Whether `secret` is shaped as the API says: `tgk_` and 86 base64url characters.
fn well_formed(secret: &str) -> bool {
    secret.strip_prefix("tgk_").is_some_and(|rest| {
        rest.len() == 86 && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// A secret shaped as the key `key_id` of `account_id` would have, with random bytes no key has.
fn forged(key_id: &str, account_id: &str) -> String {
    use base64::Engine;
    let mut bytes = Vec::with_capacity(64);
    for id in [key_id, account_id] {
        bytes.extend_from_slice(uuid::Uuid::parse_str(id).expect("a UUID").as_bytes());
    }
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    format!("tgk_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The secret's random part (after the key's and account's ids): what nothing may keep.
fn random_part(secret: &str) -> &str {
    &secret[secret.len() - 43..]
}

async fn create(app: &TestApp, token: &str, owner: &Owner, body: Value) -> Reply {
    app.post_as(token, &keys_path(owner), body).await
}

/// A key made by `token` in the owner's account with `permissions`: the answer, with its secret.
async fn new_key(app: &TestApp, token: &str, owner: &Owner, name: &str, permissions: &[&str]) -> Value {
    let created = create(app, token, owner, json!({"name": name, "permissions": permissions})).await;
    assert_eq!(created.status, 201, "creating {name}: {}", created.body);
    created.body
}

/// The account's keys as `token` lists them.
async fn list(app: &TestApp, token: &str, owner: &Owner) -> Vec<Value> {
    let listed = app.get_as(token, &keys_path(owner)).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    listed.body["items"].as_array().expect("items").clone()
}

/// The key with this id as the owner lists it.
async fn listed(app: &TestApp, owner: &Owner, key: &Value) -> Value {
    let items = list(app, &owner.token, owner).await;
    items.into_iter().find(|k| k["id"] == key["id"]).unwrap_or_else(|| panic!("{} is not listed", key["id"]))
}

async fn rotate(app: &TestApp, token: &str, owner: &Owner, key: &Value, grace_hours: u32) -> Reply {
    app.post_as(token, &format!("{}/rotate", key_path(owner, key)), json!({"grace_hours": grace_hours})).await
}

async fn revoke(app: &TestApp, token: &str, owner: &Owner, key: &Value) -> Reply {
    app.post_as(token, &format!("{}/revoke", key_path(owner, key)), json!({})).await
}

/// Any request with the key in `X-Api-Key` and nothing else.
async fn with_key(app: &TestApp, method: Method, path: &str, secret: &str, body: Option<Value>) -> Reply {
    send(
        reqwest::Client::new().request(method, format!("{}{path}", app.base)).header("x-api-key", secret),
        body,
    )
    .await
}

/// `request` sent, with `body` as JSON, and its answer read.
async fn send(mut request: reqwest::RequestBuilder, body: Option<Value>) -> Reply {
    if let Some(body) = body {
        request = request.json(&body);
    }
    into_reply(request.send().await.expect("the server answers")).await
}

/// `POST /v1/authorize` with the key, as the marketplace's backend asks it.
async fn ask(app: &TestApp, via: Via, secret: &str, account_id: &str, permissions: &[&str]) -> Reply {
    let body = json!({"account_id": account_id, "permissions": permissions});
    match via {
        Via::Header => with_key(app, Method::POST, AUTHORIZE, secret, Some(body)).await,
        Via::Bearer => app.post_as(secret, AUTHORIZE, body).await,
    }
}

/// `POST /v1/authorize` with the key, called from `address` (a loopback address of this host):
/// what the key's networks are judged against.
async fn ask_from(app: &TestApp, secret: &str, account_id: &str, address: &str) -> Reply {
    let address: std::net::IpAddr = address.parse().expect("an address");
    let client = reqwest::Client::builder().local_address(address).build().expect("a client");
    let body = json!({"account_id": account_id, "permissions": ["orders:read"]});
    send(client.post(format!("{}{AUTHORIZE}", app.base)).header("x-api-key", secret), Some(body)).await
}

#[track_caller]
fn assert_allowed(reply: &Reply, what: &str) {
    assert_eq!((reply.status, &reply.body["allowed"]), (200, &json!(true)), "{what}: {}", reply.body);
}

#[track_caller]
fn assert_code(reply: &Reply, status: u16, code: &str, what: &str) {
    assert_eq!((reply.status, reply.code()), (status, code), "{what}: {}", reply.body);
    for answer in ["allowed", "key", "member", "secret"] {
        assert!(reply.body.get(answer).is_none(), "{what}: a refusal tells nothing more: {}", reply.body);
    }
}

#[track_caller]
fn assert_fields(reply: &Reply, expected: &[(&str, &str)], what: &str) {
    assert_eq!((reply.status, reply.code()), (400, "validation_failed"), "{what}: {}", reply.body);
    let expected: Vec<(String, String)> =
        expected.iter().map(|(f, c)| ((*f).to_owned(), (*c).to_owned())).collect();
    assert_eq!(reply.field_errors(), expected, "{what}");
}

/// The app's clock now, as `POST /_dev/clock` tells it.
async fn clock(app: &TestApp) -> DateTime<Utc> {
    let now = app.post("/_dev/clock", json!({"advance_seconds": 0})).await;
    time(&now.body["now"])
}

/// When the key was last used, as the owner lists it.
async fn last_used(app: &TestApp, owner: &Owner, key: &Value) -> Value {
    listed(app, owner, key).await["last_used_at"].clone()
}

/// The audit events of the owner's account that concern `key`, newest first.
async fn key_events(app: &TestApp, owner: &Owner, key: &Value) -> Vec<Value> {
    let page = app.get_as(&owner.token, &format!("{}/audit-events?limit=100", owner.account_path())).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["target_id"] == key["id"])
        .cloned()
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Creating, and using a key with exactly its permissions.

async fn a_new_key_is_shown_once_and_allows_exactly_its_permissions(app: TestApp) {
    // Given an owner
    let owner = app.owner("standard", "owner@keys-exact.example").await;
    let owner_id = app.user_id(&owner.token).await;
    let before = clock(&app).await;

    // When they create a key for orders:read and products:write
    let body = json!({"name": "Repricer", "permissions": ["products:write", "orders:read"]});
    let created = create(&app, &owner.token, &owner, body).await;

    // Then it is shown with its secret, once, and its terms
    assert_eq!(created.status, 201, "{}", created.body);
    let key = created.body.clone();
    let mut fields: Vec<&str> = key.as_object().expect("an object").keys().map(String::as_str).collect();
    fields.sort_unstable();
    let mut expected: Vec<&str> = VIEW_FIELDS.iter().copied().chain(["secret"]).collect();
    expected.sort_unstable();
    assert_eq!(fields, expected, "{key}");
    let secret = secret(&key);
    assert!(well_formed(&secret), "{secret}");
    assert_eq!(key["name"], "Repricer");
    assert_eq!(key["permissions"], json!(["orders:read", "products:write"]));
    assert_eq!((&key["networks"], &key["status"]), (&json!([]), &json!("active")));
    assert_eq!(key["created_by"], owner_id.as_str());
    assert!(time(&key["created_at"]) >= before, "{key}");
    assert_eq!(time(&key["expires_at"]) - time(&key["created_at"]), Duration::days(90), "the default");
    for never in ["last_used_at", "revoked_at", "previous_secret_expires_at"] {
        assert_eq!(key[never], Value::Null, "{never}");
    }
    let hint = key["hint"].as_str().expect("a hint");
    assert!(
        hint.starts_with("tgk_") && hint.chars().count() < 16,
        "a few characters to tell keys apart: {hint}"
    );

    // When the marketplace asks about every permission of the preset with the key, either way
    let held = ["orders:read", "products:read", "products:write"];
    let missing: Vec<&str> = STANDARD.iter().copied().filter(|p| !held.contains(p)).collect();
    let answer = json!({
        "allowed": false,
        "missing": missing,
        "key": {"key_id": key["id"], "name": "Repricer", "permissions": ["orders:read", "products:write"]},
    });
    for via in [Via::Header, Via::Bearer] {
        let all = ask(&app, via, &secret, &owner.account_id, &STANDARD).await;
        // Then the answer names the key and what it lacks, and no member
        assert_eq!((all.status, &all.body), (200, &answer), "{via:?}");
        // And each permission alone is allowed exactly when the key holds it
        for permission in STANDARD {
            let one = ask(&app, via, &secret, &owner.account_id, &[permission]).await;
            let holds = held.contains(&permission);
            assert_eq!(
                (one.status, &one.body["allowed"]),
                (200, &json!(holds)),
                "{via:?} {permission}: {}",
                one.body
            );
        }
        let nothing = ask(&app, via, &secret, &owner.account_id, &[]).await;
        assert_eq!((nothing.status, &nothing.body["missing"]), (200, &json!([])), "{}", nothing.body);
        assert_allowed(&nothing, "asking nothing: the key works");
    }

    // And the owner's own token is still answered as the member, with no key
    let mine = app.post_as(&owner.token, AUTHORIZE, json!({"account_id": owner.account_id})).await;
    assert_eq!(mine.body["member"]["is_owner"], true, "{}", mine.body);
    assert!(mine.body.get("key").is_none(), "{}", mine.body);

    // And the list shows the key used, without its secret
    let shown = listed(&app, &owner, &key).await;
    assert!(shown["last_used_at"].is_string(), "{shown}");
    assert!(shown.get("secret").is_none(), "{shown}");
}

async fn a_key_asking_for_more_than_its_creator_holds_is_refused(app: TestApp) {
    // Given a manager who holds users:write and orders:read, and nothing else
    let owner = app.owner("standard", "owner@keys-escalation.example").await;
    let manager =
        app.member(&owner, "manager@keys-escalation.example", &[], &["users:write", "orders:read"]).await;

    // When they ask for a key with more than they hold, then it is refused as an escalation
    for more in [&["orders:write"][..], &["orders:read", "finance:read"], &["settings:read"]] {
        let refused = create(&app, &manager, &owner, json!({"name": "more", "permissions": more})).await;
        assert_code(&refused, 403, "role_escalation", &format!("{more:?}"));
    }
    // And a permission the preset does not have is a field error, not an escalation
    let unknown =
        create(&app, &manager, &owner, json!({"name": "x", "permissions": ["inventory:read"]})).await;
    assert_fields(&unknown, &[("permissions[0]", "unknown_permission")], "a section the preset lacks");
    assert!(list(&app, &owner.token, &owner).await.is_empty(), "nothing was created");

    // When they ask for what they hold, then they get it, and it allows that alone
    let key = new_key(&app, &manager, &owner, "within", &["orders:read", "users:write"]).await;
    let answer =
        ask(&app, Via::Header, &secret(&key), &owner.account_id, &["orders:read", "orders:write"]).await;
    assert_eq!(answer.body["missing"], json!(["orders:write"]), "{}", answer.body);
    // And the owner, who holds everything, may give a key anything of the preset
    let everything = new_key(&app, &owner.token, &owner, "all", &["finance:write", "settings:write"]).await;
    assert_eq!(everything["permissions"], json!(["finance:write", "settings:write"]));
    assert_eq!(list(&app, &owner.token, &owner).await.len(), 2);
}

async fn bad_fields_are_named_and_nothing_is_created(app: TestApp) {
    // Given an owner
    let owner = app.owner("standard", "owner@keys-fields.example").await;
    let post = |body: Value| create(&app, &owner.token, &owner, body);
    let good = ["orders:read"];
    let twenty_one: Vec<String> = (0..21).map(|i| format!("10.0.{i}.0/24")).collect();

    // When fields are wrong, then each is named with its code
    let cases: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (
            json!({"name": "", "permissions": []}),
            vec![("name", "invalid_value"), ("permissions", "required")],
        ),
        (json!({"name": "   ", "permissions": good}), vec![("name", "invalid_value")]),
        (json!({"name": "x".repeat(101), "permissions": good}), vec![("name", "invalid_value")]),
        (json!({"name": "bell\u{7}", "permissions": good}), vec![("name", "invalid_value")]),
        (
            json!({"name": "k", "permissions": ["orders:read", "orders:admin", "inventory:read"]}),
            vec![("permissions[1]", "unknown_permission"), ("permissions[2]", "unknown_permission")],
        ),
        (
            json!({"name": "k", "permissions": good, "expires_in_days": 0}),
            vec![("expires_in_days", "out_of_range")],
        ),
        (
            json!({"name": "k", "permissions": good, "expires_in_days": 366}),
            vec![("expires_in_days", "out_of_range")],
        ),
        (
            json!({"name": "k", "permissions": good, "expires_in_days": -1}),
            vec![("expires_in_days", "invalid_value")],
        ),
        (
            json!({"name": "k", "permissions": good, "expires_in_days": "30"}),
            vec![("expires_in_days", "invalid_value")],
        ),
        (json!({"name": "k", "permissions": good, "networks": twenty_one}), vec![("networks", "too_many")]),
        (
            json!({"name": "k", "permissions": good, "networks": ["203.0.113.1/24", "nope", "10.0.0.0/33", "10.0.0.0/8", "2001:db8::1/32", ""]}),
            vec![
                ("networks[0]", "invalid_value"),
                ("networks[1]", "invalid_value"),
                ("networks[2]", "invalid_value"),
                ("networks[4]", "invalid_value"),
                ("networks[5]", "invalid_value"),
            ],
        ),
        (
            json!({"name": "", "permissions": ["x"], "expires_in_days": 0, "networks": ["bad"]}),
            vec![
                ("name", "invalid_value"),
                ("permissions[0]", "unknown_permission"),
                ("expires_in_days", "out_of_range"),
                ("networks[0]", "invalid_value"),
            ],
        ),
        (json!({"permissions": good}), vec![("name", "required")]),
        (json!({"name": "k"}), vec![("permissions", "required")]),
        (json!({"name": "k", "permissions": good, "secret": "mine"}), vec![("secret", "unknown_field")]),
    ];
    for (body, expected) in cases {
        assert_fields(&post(body.clone()).await, &expected, &body.to_string());
    }
    assert!(list(&app, &owner.token, &owner).await.is_empty(), "nothing was created");

    // When the fields are at their bounds, then the key is made as asked
    let trimmed =
        post(json!({"name": "  Warehouse tool  ", "permissions": good, "expires_in_days": 1})).await;
    assert_eq!(trimmed.status, 201, "{}", trimmed.body);
    assert_eq!(trimmed.body["name"], "Warehouse tool");
    assert_eq!(time(&trimmed.body["expires_at"]) - time(&trimmed.body["created_at"]), Duration::days(1));
    let longest = post(json!({"name": "é".repeat(100), "permissions": good, "expires_in_days": 365})).await;
    assert_eq!(longest.status, 201, "100 characters: {}", longest.body);
    assert_eq!(time(&longest.body["expires_at"]) - time(&longest.body["created_at"]), Duration::days(365));
    let default = post(json!({"name": "default", "permissions": good, "expires_in_days": null})).await;
    assert_eq!(time(&default.body["expires_at"]) - time(&default.body["created_at"]), Duration::days(90));
    let networks = ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7", "0.0.0.0/0"];
    let listed_networks = post(json!({"name": "networks", "permissions": good, "networks": networks})).await;
    assert_eq!(listed_networks.status, 201, "{}", listed_networks.body);
    assert_eq!(
        listed_networks.body["networks"],
        json!(["203.0.113.0/24", "2001:db8::/32", "198.51.100.7/32", "0.0.0.0/0"]),
        "a bare address is the whole of it"
    );
    let twenty: Vec<String> = (0..20).map(|i| format!("10.0.{i}.0/24")).collect();
    let most = post(json!({"name": "twenty", "permissions": good, "networks": twenty})).await;
    assert_eq!(most.status, 201, "{}", most.body);

    // And a rotation's grace is bounded too
    let key = &trimmed.body;
    let rotation = format!("{}/rotate", key_path(&owner, key));
    for (body, expected) in [
        (json!({"grace_hours": 25}), ("grace_hours", "out_of_range")),
        (json!({"grace_hours": -1}), ("grace_hours", "invalid_value")),
        (json!({"grace_hours": 1.5}), ("grace_hours", "invalid_value")),
        (json!({}), ("grace_hours", "required")),
        (json!({"grace_hours": 1, "secret": "mine"}), ("secret", "unknown_field")),
    ] {
        assert_fields(
            &app.post_as(&owner.token, &rotation, body.clone()).await,
            &[expected],
            &body.to_string(),
        );
    }
    let unchanged = listed(&app, &owner, key).await;
    assert_eq!(unchanged["hint"], key["hint"], "no refused rotation changed the key");
    let at_most = app.post_as(&owner.token, &rotation, json!({"grace_hours": 24.0})).await;
    assert_eq!(at_most.status, 200, "24 hours, written 24.0: {}", at_most.body);
}

// ---------------------------------------------------------------------------------------------
// Revoked, expired, rotated, and from outside the networks.

async fn a_revoked_key_is_refused_on_the_next_request_and_a_retried_revoke_changes_nothing(app: TestApp) {
    // Given a working key
    let owner = app.owner("standard", "owner@keys-revoke.example").await;
    let key = new_key(&app, &owner.token, &owner, "ERP", &["orders:write"]).await;
    let secret = secret(&key);
    assert_allowed(&ask(&app, Via::Header, &secret, &owner.account_id, &["orders:write"]).await, "before");

    // When the owner revokes it
    let revoked = revoke(&app, &owner.token, &owner, &key).await;

    // Then it is revoked, and the very next request with it is unauthenticated, either way
    assert_eq!((revoked.status, &revoked.body["status"]), (200, &json!("revoked")), "{}", revoked.body);
    assert!(
        revoked.body["revoked_at"].is_string() && revoked.body.get("secret").is_none(),
        "{}",
        revoked.body
    );
    for via in [Via::Header, Via::Bearer] {
        let refused = ask(&app, via, &secret, &owner.account_id, &["orders:write"]).await;
        assert_code(&refused, 401, "unauthenticated", &format!("{via:?} after the revoke"));
    }

    // When the revoke is retried, then it answers the key as it is and records nothing more
    let again = revoke(&app, &owner.token, &owner, &key).await;
    assert_eq!((again.status, &again.body), (200, &revoked.body), "a retried revoke changes nothing");
    let events: Vec<Value> =
        key_events(&app, &owner, &key).await.into_iter().map(|e| e["action"].clone()).collect();
    assert_eq!(events, [json!("api_key.revoked"), json!("api_key.created")]);
    assert_eq!(listed(&app, &owner, &key).await, revoked.body, "the list agrees");

    // And a revoked key does not rotate back to life
    let rotated = rotate(&app, &owner.token, &owner, &key, 0).await;
    assert_code(&rotated, 409, "api_key_not_active", "rotating a revoked key");
    assert_code(
        &ask(&app, Via::Header, &secret, &owner.account_id, &[]).await,
        401,
        "unauthenticated",
        "still",
    );
}

async fn an_expired_key_is_refused_on_the_next_request(app: TestApp) {
    // Given a key that lives one day
    let owner = app.owner("standard", "owner@keys-expiry.example").await;
    let body = json!({"name": "one day", "permissions": ["orders:read"], "expires_in_days": 1});
    let created = create(&app, &owner.token, &owner, body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let (key, secret) = (created.body.clone(), secret(&created.body));

    // When almost a day has passed, then it still works
    app.advance_clock(86_400 - 60).await;
    assert_allowed(
        &ask(&app, Via::Header, &secret, &owner.account_id, &["orders:read"]).await,
        "a minute left",
    );

    // When the day is over, then its next request is unauthenticated
    app.advance_clock(60).await;
    let refused = ask(&app, Via::Header, &secret, &owner.account_id, &["orders:read"]).await;
    assert_code(&refused, 401, "unauthenticated", "expired");

    // And it is listed as expired, does not rotate, and can still be revoked
    let owner = app.signed_in_again(owner).await;
    assert_eq!(listed(&app, &owner, &key).await["status"], "expired");
    assert_code(&rotate(&app, &owner.token, &owner, &key, 1).await, 409, "api_key_not_active", "rotating");
    let revoked = revoke(&app, &owner.token, &owner, &key).await;
    assert_eq!((revoked.status, &revoked.body["status"]), (200, &json!("revoked")), "{}", revoked.body);
}

async fn a_rotated_keys_old_secret_works_until_its_grace_ends(app: TestApp) {
    // Given a working key
    let owner = app.owner("standard", "owner@keys-rotate.example").await;
    let key = new_key(&app, &owner.token, &owner, "warehouse", &["orders:read"]).await;
    let first = secret(&key);
    let account_id = owner.account_id.clone();
    let works = |secret: String| {
        let (app, account) = (&app, account_id.clone());
        async move { ask(app, Via::Header, &secret, &account, &["orders:read"]).await.status == 200 }
    };

    // When the owner rotates it with two hours of grace
    let before = clock(&app).await;
    let rotated = rotate(&app, &owner.token, &owner, &key, 2).await;
    let after = clock(&app).await;

    // Then the key has a new secret, shown once, and the old one's end
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let second = secret(&rotated.body);
    assert!(well_formed(&second) && second != first, "{second}");
    assert_eq!((&rotated.body["id"], &rotated.body["status"]), (&key["id"], &json!("active")));
    assert_ne!(rotated.body["hint"], key["hint"], "the hint tells the secrets apart");
    let grace_ends = time(&rotated.body["previous_secret_expires_at"]);
    assert!(
        grace_ends >= before + Duration::hours(2) && grace_ends <= after + Duration::hours(2),
        "{grace_ends}"
    );
    assert_eq!(rotated.body["expires_at"], key["expires_at"], "a rotation does not extend the key");

    // And both secrets work through the grace period
    assert!(works(first.clone()).await && works(second.clone()).await, "both, at once");
    app.advance_clock(2 * 3600 - 1).await;
    assert!(works(first.clone()).await, "the old secret, a second before its grace ends");

    // When the grace period ends, then the old secret is refused and the new one works
    app.advance_clock(1).await;
    assert!(!works(first.clone()).await, "the old secret, once its grace has ended");
    assert!(works(second.clone()).await, "the new secret");
    let owner = app.signed_in_again(owner).await;
    assert_eq!(listed(&app, &owner, &key).await["previous_secret_expires_at"], Value::Null);

    // When it is rotated without grace, then the secret it replaces stops at once
    let third = secret(&rotate(&app, &owner.token, &owner, &key, 0).await.body);
    assert!(!works(second.clone()).await && works(third.clone()).await, "no grace");

    // When it is rotated twice in a row, then only the secret just replaced keeps its grace
    let fourth = secret(&rotate(&app, &owner.token, &owner, &key, 24).await.body);
    assert!(works(third.clone()).await, "within its grace");
    let fifth = secret(&rotate(&app, &owner.token, &owner, &key, 24).await.body);
    assert!(!works(third).await, "a secret retired earlier stops at the next rotation");
    assert!(works(fourth).await && works(fifth).await, "the one replaced last, and the newest");
    assert!(!works(first).await, "the first, long gone");
}

async fn a_caller_outside_the_network_list_is_refused(app: TestApp) {
    // Given a key limited to a network, a v6 range and one address, and one that is not
    let owner = app.owner("standard", "owner@keys-networks.example").await;
    let body = json!({
        "name": "office",
        "permissions": ["orders:read"],
        "networks": ["127.0.1.0/24", "2001:db8::/32", "127.0.0.9"],
    });
    let limited = create(&app, &owner.token, &owner, body).await;
    assert_eq!(limited.status, 201, "{}", limited.body);
    assert_eq!(limited.body["networks"], json!(["127.0.1.0/24", "2001:db8::/32", "127.0.0.9/32"]));
    let secret = secret(&limited.body);
    let anywhere = secret_of(new_key(&app, &owner.token, &owner, "anywhere", &["orders:read"]).await);

    // When it is used from inside one of them, then it is answered
    for inside in ["127.0.1.77", "127.0.1.0", "127.0.1.255", "127.0.0.9"] {
        assert_allowed(&ask_from(&app, &secret, &owner.account_id, inside).await, inside);
    }

    // When it is used from outside, then it is refused, and nothing more is said
    for outside in ["127.0.0.1", "127.0.2.1", "127.0.0.10"] {
        let refused = ask_from(&app, &secret, &owner.account_id, outside).await;
        assert_code(&refused, 403, "network_not_allowed", outside);
    }

    // When the body names an address, then it is no field: the call's own address is judged
    let claimed =
        json!({"account_id": owner.account_id, "permissions": ["orders:read"], "client_ip": "127.0.1.7"});
    let named = with_key(&app, Method::POST, AUTHORIZE, &secret, Some(claimed)).await;
    assert_fields(&named, &[("client_ip", "unknown_field")], "an address named in the body");

    // And a key without networks is answered from anywhere
    for address in ["127.0.0.1", "127.0.2.1"] {
        assert_allowed(&ask_from(&app, &anywhere, &owner.account_id, address).await, address);
    }

    // And an IPv4 network written as IPv6 is that IPv4 network, judged and listed as such
    let mapped =
        json!({"name": "mapped", "permissions": ["orders:read"], "networks": ["::ffff:127.0.1.0/120"]});
    let created = create(&app, &owner.token, &owner, mapped).await;
    assert_eq!(
        (created.status, &created.body["networks"]),
        (201, &json!(["127.0.1.0/24"])),
        "{}",
        created.body
    );
    let secret = created.str("secret");
    assert_allowed(&ask_from(&app, &secret, &owner.account_id, "127.0.1.9").await, "inside, as IPv4");
    let outside = ask_from(&app, &secret, &owner.account_id, "127.0.2.9").await;
    assert_code(&outside, 403, "network_not_allowed", "outside, as IPv4");
}

// ---------------------------------------------------------------------------------------------
// The secret is shown once.

async fn the_secret_appears_in_no_list_event_or_stored_record(app: TestApp) {
    // Given a key, rotated with grace, both of whose secrets were used
    let owner = app.owner("standard", "owner@keys-secret.example").await;
    let key = new_key(&app, &owner.token, &owner, "script", &["orders:read"]).await;
    let rotated = rotate(&app, &owner.token, &owner, &key, 1).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let secrets = [secret(&key), secret(&rotated.body)];
    assert!(!rotated.body.to_string().contains(&secrets[0]), "a rotation shows the new secret alone");
    for secret in &secrets {
        assert_allowed(&ask(&app, Via::Header, secret, &owner.account_id, &["orders:read"]).await, "used");
    }

    // When the owner reads the keys, the audit log, and the key and events as stored
    let keys = app.get_as(&owner.token, &keys_path(&owner)).await;
    let events = app.get_as(&owner.token, &format!("{}/audit-events?limit=100", owner.account_path())).await;
    let store = &app.api.app.ports.store;
    let account = shared::domain::AccountId::parse(&owner.account_id).expect("an account id");
    let stored = format!("{:?}", store.api_keys(&account).await.expect("the keys"));
    let page = shared::ports::PageRequest { limit: 1000, after: None };
    let stored_events = format!(
        "{:?}",
        store
            .audit_events(&account, &shared::ports::AuditQuery::default(), &page)
            .await
            .expect("the events")
            .items
    );

    // Then no secret, nor its random part, is in any of them
    assert!(keys.body["items"].as_array().is_some_and(|items| items.len() == 1), "{}", keys.body);
    for secret in &secrets {
        for (what, text) in [
            ("the list", keys.body.to_string()),
            ("the audit log", events.body.to_string()),
            ("the stored key", stored.clone()),
            ("the stored events", stored_events.clone()),
        ] {
            assert!(!text.contains(random_part(secret)), "{what} holds a secret: {text}");
        }
    }
    assert!(
        keys.body["items"][0].get("secret").is_none() && keys.body["items"][0].get("secret_hash").is_none()
    );
}

/// On DynamoDB Local, a scan of the whole table after a key was created, listed, rotated, used
/// (its use noted) and revoked finds neither secret in any item.
#[tokio::test]
async fn on_aws_emulators_no_stored_item_holds_a_secret() {
    let store = Arc::new(dynamo_store().await);
    let app = spawn_app_on(store.clone(), ses_mailer(VERIFIED_SENDER).await, |_| {}).await;
    let owner = app.owner("standard", "owner@keys-scan.example").await;
    let body = json!({"name": "scan", "permissions": ["orders:read"], "networks": ["127.0.0.0/8"]});
    let created = create(&app, &owner.token, &owner, body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let key = created.body.clone();
    let rotated = rotate(&app, &owner.token, &owner, &key, 1).await;
    let secrets = [secret(&key), secret(&rotated.body)];
    for secret in &secrets {
        assert_allowed(&ask_from(&app, secret, &owner.account_id, "127.0.0.1").await, "used");
    }
    list(&app, &owner.token, &owner).await;
    assert_eq!(revoke(&app, &owner.token, &owner, &key).await.status, 200);

    let items = scan_table(&store).await;
    let id = key["id"].as_str().expect("an id");
    let item = items
        .iter()
        .find(|i| i["SK"]["S"].as_str().is_some_and(|sk| sk.ends_with(id)))
        .unwrap_or_else(|| panic!("the key's item is in the table: {items:?}"));
    assert!(item["last_used_at"].is_object(), "its use is noted: {item}");
    for secret in &secrets {
        for item in &items {
            let text = item.to_string();
            assert!(!text.contains(random_part(secret)), "an item holds a secret: {text}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Who manages which keys.

async fn a_manager_cannot_rotate_or_revoke_a_key_broader_than_they_hold(app: TestApp) {
    // Given a manager holding users:write and orders:write, and the owner's key that also holds
    // finance:write
    let owner = app.owner("standard", "owner@keys-broader.example").await;
    let manager =
        app.member(&owner, "manager@keys-broader.example", &[], &["users:write", "orders:write"]).await;
    let broad = new_key(&app, &owner.token, &owner, "owner's ERP", &["orders:write", "finance:write"]).await;
    let narrow = new_key(&app, &owner.token, &owner, "owner's picker", &["orders:read"]).await;

    // When the manager lists the keys, then they see every key of the account
    let names: Vec<Value> = list(&app, &manager, &owner).await.iter().map(|k| k["name"].clone()).collect();
    assert_eq!(names, [json!("owner's picker"), json!("owner's ERP")], "newest first");

    // When the manager rotates or revokes the broader key, then they are forbidden and it works on
    assert_code(&rotate(&app, &manager, &owner, &broad, 0).await, 403, "forbidden", "rotating the broad key");
    assert_code(&revoke(&app, &manager, &owner, &broad).await, 403, "forbidden", "revoking the broad key");
    assert_allowed(
        &ask(&app, Via::Header, &secret(&broad), &owner.account_id, &["finance:write"]).await,
        "still",
    );
    let unchanged = listed(&app, &owner, &broad).await;
    assert_eq!(
        (&unchanged["status"], &unchanged["previous_secret_expires_at"]),
        (&json!("active"), &Value::Null)
    );
    assert_eq!(key_events(&app, &owner, &broad).await.len(), 1, "only its creation is recorded");

    // When the manager manages a key within what they hold, whoever made it, then they may
    let rotated = rotate(&app, &manager, &owner, &narrow, 0).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let own = new_key(&app, &manager, &owner, "manager's script", &["orders:read"]).await;
    assert_eq!(revoke(&app, &manager, &owner, &own).await.status, 200);
    assert_eq!(revoke(&app, &manager, &owner, &narrow).await.status, 200);

    // And the owner manages every key
    assert_eq!(rotate(&app, &owner.token, &owner, &broad, 1).await.status, 200);
    assert_eq!(revoke(&app, &owner.token, &owner, &broad).await.status, 200);
}

async fn a_key_outlives_its_creator(app: TestApp) {
    // Given a key made by a manager
    let owner = app.owner("standard", "owner@keys-creator.example").await;
    let email = "manager@keys-creator.example";
    let manager = app.member(&owner, email, &[], &["users:write", "orders:read"]).await;
    let manager_id = app.user_id(&manager).await;
    let key = new_key(&app, &manager, &owner, "manager's script", &["orders:read"]).await;
    let member = format!("{}/members/{manager_id}", owner.account_path());

    // When the owner blocks the manager, then the key works on
    assert_eq!(app.post_as(&owner.token, &format!("{member}/block"), json!({})).await.status, 200);
    assert_allowed(
        &ask(&app, Via::Header, &secret(&key), &owner.account_id, &["orders:read"]).await,
        "blocked",
    );

    // When the owner deletes the manager, then the key still works with its permissions
    let deleted = app.delete_as(&owner.token, &member).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let answer =
        ask(&app, Via::Header, &secret(&key), &owner.account_id, &["orders:read", "orders:write"]).await;
    assert_eq!((answer.status, &answer.body["missing"]), (200, &json!(["orders:write"])), "{}", answer.body);

    // And it is still listed as the manager's, and the owner manages it
    let shown = listed(&app, &owner, &key).await;
    assert_eq!((&shown["created_by"], &shown["status"]), (&json!(manager_id), &json!("active")));
    let rotated = rotate(&app, &owner.token, &owner, &key, 0).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    assert_allowed(&ask(&app, Via::Header, &secret(&rotated.body), &owner.account_id, &[]).await, "rotated");
}

async fn a_member_without_users_write_is_forbidden_on_the_key_routes(app: TestApp) {
    // Given the owner's key, a viewer, and a member who may only read the team
    let owner = app.owner("standard", "owner@keys-forbidden.example").await;
    let key = new_key(&app, &owner.token, &owner, "owner's", &["orders:read"]).await;
    let viewer = app.member(&owner, "viewer@keys-forbidden.example", &["viewer"], &[]).await;
    let reader =
        app.member(&owner, "reader@keys-forbidden.example", &[], &["users:read", "orders:read"]).await;

    // When either calls any key route, then they are forbidden, whatever they send
    for (who, token) in [("viewer", &viewer), ("users:read", &reader)] {
        let body = json!({"name": "mine", "permissions": ["orders:read"]});
        assert_code(&create(&app, token, &owner, body).await, 403, "forbidden", who);
        assert_code(&app.get_as(token, &keys_path(&owner)).await, 403, "forbidden", who);
        assert_code(&rotate(&app, token, &owner, &key, 0).await, 403, "forbidden", who);
        let bad = app
            .post_as(token, &format!("{}/rotate", key_path(&owner, &key)), json!({"grace_hours": 99}))
            .await;
        assert_code(&bad, 403, "forbidden", who);
        assert_code(&revoke(&app, token, &owner, &key).await, 403, "forbidden", who);
    }

    // And the key is as it was, with one key in the account
    let keys = list(&app, &owner.token, &owner).await;
    assert_eq!(keys.len(), 1);
    assert_eq!((&keys[0]["status"], &keys[0]["hint"]), (&json!("active"), &key["hint"]));
    assert_allowed(&ask(&app, Via::Header, &secret(&key), &owner.account_id, &[]).await, "untouched");
}

async fn a_strangers_account_and_unknown_keys_are_not_found(app: TestApp) {
    // Given account A with a key, and the owner of account B
    let a = app.owner("standard", "owner@keys-tenant-a.example").await;
    let key = new_key(&app, &a.token, &a, "A's", &["orders:read"]).await;
    let b = app.owner("standard", "owner@keys-tenant-b.example").await;

    // When B calls A's key routes, then none of them exists for B
    let body = json!({"name": "intruder", "permissions": ["orders:read"]});
    assert_code(&create(&app, &b.token, &a, body).await, 404, "not_found", "create in A");
    assert_code(&app.get_as(&b.token, &keys_path(&a)).await, 404, "not_found", "list A's");
    assert_code(&rotate(&app, &b.token, &a, &key, 0).await, 404, "not_found", "rotate in A");
    assert_code(&revoke(&app, &b.token, &a, &key).await, 404, "not_found", "revoke in A");

    // When B names A's key in B's own account, then it is no key of B's
    assert_code(&rotate(&app, &b.token, &b, &key, 0).await, 404, "not_found", "A's key in B");
    assert_code(&revoke(&app, &b.token, &b, &key).await, 404, "not_found", "A's key in B");
    assert!(list(&app, &b.token, &b).await.is_empty());

    // When A names a key that does not exist, or spells its own another way, then it is not found
    let id = key["id"].as_str().expect("an id");
    for other in
        [NO_SUCH_ID.to_owned(), "not-an-id".into(), id.to_uppercase(), id.replace('-', ""), format!("{id}x")]
    {
        let path = format!("{}/{other}", keys_path(&a));
        let rotated = app.post_as(&a.token, &format!("{path}/rotate"), json!({"grace_hours": 0})).await;
        assert_code(&rotated, 404, "not_found", &other);
        assert_code(
            &app.post_as(&a.token, &format!("{path}/revoke"), json!({})).await,
            404,
            "not_found",
            &other,
        );
    }

    // And A's key is untouched
    let shown = listed(&app, &a, &key).await;
    assert_eq!((&shown["status"], &shown["hint"]), (&json!("active"), &key["hint"]));
}

// ---------------------------------------------------------------------------------------------
// A key is for the marketplace's APIs alone.

async fn a_key_never_works_on_teamgates_own_routes(app: TestApp) {
    // Given a key holding everything a team administrator holds
    let owner = app.owner("standard", "owner@keys-own-routes.example").await;
    let everything = [
        "products:write",
        "orders:write",
        "analytics:write",
        "finance:write",
        "settings:write",
        "users:write",
    ];
    let key = new_key(&app, &owner.token, &owner, "admin-like", &everything).await;
    let secret = secret(&key);
    let account = owner.account_path();

    // When it calls Teamgate's own routes, either way, then each is unauthenticated
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/v1/me".into(), None),
        (Method::PATCH, "/v1/me".into(), Some(json!({}))),
        (Method::GET, account.clone(), None),
        (Method::GET, format!("{account}/roles"), None),
        (Method::GET, format!("{account}/members"), None),
        (Method::GET, format!("{account}/audit-events"), None),
        (Method::GET, format!("{account}/audit-events/export"), None),
        (
            Method::POST,
            format!("{account}/invitations"),
            Some(json!({"email": "x@keys.example", "roles": ["viewer"]})),
        ),
        (Method::PATCH, format!("{account}/settings"), Some(json!({}))),
        (Method::GET, keys_path(&owner), None),
        (Method::POST, keys_path(&owner), Some(json!({"name": "child", "permissions": ["orders:read"]}))),
        (Method::POST, format!("{}/rotate", key_path(&owner, &key)), Some(json!({"grace_hours": 0}))),
        (Method::POST, format!("{}/revoke", key_path(&owner, &key)), Some(json!({}))),
    ];
    for (method, path, body) in calls {
        let header = with_key(&app, method.clone(), &path, &secret, body.clone()).await;
        assert_code(&header, 401, "unauthenticated", &format!("X-Api-Key {method} {path}"));
        let bearer = app.send(method.clone(), &path, Some(&secret), body).await;
        assert_code(&bearer, 401, "unauthenticated", &format!("Bearer {method} {path}"));
    }

    // And it changed nothing: the key is as made and the only one, and it still works
    let keys = list(&app, &owner.token, &owner).await;
    assert_eq!(keys.len(), 1);
    assert_eq!((&keys[0]["status"], &keys[0]["hint"]), (&json!("active"), &key["hint"]));
    assert_allowed(
        &ask(&app, Via::Header, &secret, &owner.account_id, &["users:write"]).await,
        "at authorize",
    );
}

async fn unknown_wrong_and_foreign_keys_are_refused(app: TestApp) {
    // Given account A's key, and account B
    let a = app.owner("standard", "owner@keys-wrong-a.example").await;
    let b = app.owner("standard", "owner@keys-wrong-b.example").await;
    let secret = secret(&new_key(&app, &a.token, &a, "A's", &["orders:read"]).await);

    // When a secret is not one of ours, or not the key's, then it is unauthenticated
    let mut wrong = secret.clone().into_bytes();
    let at = wrong.len() - 20;
    wrong[at] = if wrong[at] == b'A' { b'B' } else { b'A' };
    let wrong = String::from_utf8(wrong).expect("ASCII");
    let unknown = forged(&uuid::Uuid::now_v7().to_string(), &a.account_id);
    let shapeless = ["tgk_".to_owned(), "tgk_abc".into(), format!("{secret}A"), secret[1..].to_owned()];
    let candidates = [("another secret of the key", &wrong), ("a key A does not have", &unknown)]
        .into_iter()
        .chain(shapeless.iter().map(|s| ("not a secret", s)));
    for (what, candidate) in candidates {
        for via in [Via::Header, Via::Bearer] {
            let refused = ask(&app, via, candidate, &a.account_id, &["orders:read"]).await;
            assert_code(&refused, 401, "unauthenticated", &format!("{what} {candidate} {via:?}"));
        }
    }
    let empty = with_key(&app, Method::POST, AUTHORIZE, "", Some(json!({"account_id": a.account_id}))).await;
    assert_code(&empty, 401, "unauthenticated", "an empty X-Api-Key");

    // When a key and an access token come at once, then neither speaks
    let both = reqwest::Client::new()
        .post(format!("{}{AUTHORIZE}", app.base))
        .header("x-api-key", &secret)
        .bearer_auth(&a.token)
        .json(&json!({"account_id": a.account_id}))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(both.status(), 401, "a key and a token at once");
    let body = json!({"account_id": a.account_id});
    let post = || reqwest::Client::new().post(format!("{}{AUTHORIZE}", app.base));
    let twice =
        send(post().header("x-api-key", &secret).header("x-api-key", &secret), Some(body.clone())).await;
    assert_code(&twice, 401, "unauthenticated", "X-Api-Key twice");
    let two_ways = send(post().header("x-api-key", &secret).bearer_auth(&secret), Some(body)).await;
    assert_code(&two_ways, 401, "unauthenticated", "a key as X-Api-Key and as a bearer");

    // When A's key asks about another account, one that does not exist or no id, then not found
    for account in [b.account_id.as_str(), NO_SUCH_ID, "not-an-id", &a.account_id.to_uppercase()] {
        let refused = ask(&app, Via::Header, &secret, account, &["orders:read"]).await;
        assert_code(&refused, 404, "not_found", account);
        assert!(!refused.body.to_string().contains(&a.account_id), "{}", refused.body);
    }
    // And a secret that names another account is not found without being looked at, whatever it is
    let elsewhere =
        [forged(&uuid::Uuid::now_v7().to_string(), &b.account_id), format!("tgk_{}", "A".repeat(86))];
    for candidate in &elsewhere {
        let refused = ask(&app, Via::Header, candidate, &a.account_id, &["orders:read"]).await;
        assert_code(&refused, 404, "not_found", candidate);
    }

    // And it is answered about its own account
    assert_allowed(&ask(&app, Via::Header, &secret, &a.account_id, &["orders:read"]).await, "its own");
}

// ---------------------------------------------------------------------------------------------
// Audited, limited, and its last use noted.

async fn each_key_action_is_audited(app: TestApp) {
    // Given an owner and a manager
    let owner = app.owner("standard", "owner@keys-audit.example").await;
    let owner_id = app.user_id(&owner.token).await;
    let manager =
        app.member(&owner, "manager@keys-audit.example", &[], &["users:write", "orders:read"]).await;
    let manager_id = app.user_id(&manager).await;

    // When the owner creates a key, the manager rotates it and the owner revokes it
    let key = new_key(&app, &owner.token, &owner, "audited", &["orders:read"]).await;
    let rotated = rotate(&app, &manager, &owner, &key, 3).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    assert_eq!(revoke(&app, &owner.token, &owner, &key).await.status, 200);

    // Then each is in the audit log, newest first, with who did it and to which key
    let events = key_events(&app, &owner, &key).await;
    let seen: Vec<(Value, Value, Value)> = events
        .iter()
        .map(|e| (e["action"].clone(), e["actor_id"].clone(), e["target_type"].clone()))
        .collect();
    assert_eq!(
        seen,
        [
            (json!("api_key.revoked"), json!(owner_id), json!("api_key")),
            (json!("api_key.rotated"), json!(manager_id), json!("api_key")),
            (json!("api_key.created"), json!(owner_id), json!("api_key")),
        ]
    );
    let created = &events[2]["details"];
    assert_eq!((&created["name"], &created["permissions"]), (&json!("audited"), &json!(["orders:read"])));
    assert_eq!(created["expires_at"], key["expires_at"]);
    assert_eq!(events[1]["details"]["grace_hours"], 3);
    for event in &events {
        assert_eq!(event["account_id"], owner.account_id.as_str());
        for secret in [secret(&key), secret(&rotated.body)] {
            assert!(!event.to_string().contains(random_part(&secret)), "{event}");
        }
    }

    // And a refused creation is not recorded
    let refused =
        create(&app, &manager, &owner, json!({"name": "more", "permissions": ["finance:read"]})).await;
    assert_code(&refused, 403, "role_escalation", "more than the manager holds");
    let all = app.get_as(&owner.token, &format!("{}/audit-events?limit=100", owner.account_path())).await;
    let key_actions =
        all.body["items"].as_array().expect("items").iter().filter(|e| e["target_type"] == "api_key").count();
    assert_eq!(key_actions, 3, "a refused creation is not recorded");
}

async fn an_account_has_at_most_fifty_active_keys_and_two_hundred_in_all(app: TestApp) {
    // Given an account with 50 active keys, one of which lives a day
    let owner = app.owner("standard", "owner@keys-limit.example").await;
    let short = json!({"name": "short-lived", "permissions": ["orders:read"], "expires_in_days": 1});
    assert_eq!(create(&app, &owner.token, &owner, short).await.status, 201);
    let mut keys = Vec::new();
    for n in 1..50 {
        keys.push(new_key(&app, &owner.token, &owner, &format!("key {n}"), &["orders:read"]).await);
    }

    // When one more is created, then it is refused until a key stops working
    let next = || json!({"name": "one too many", "permissions": ["orders:read"]});
    assert_code(&create(&app, &owner.token, &owner, next()).await, 409, "api_key_limit_reached", "the 51st");
    assert_eq!(revoke(&app, &owner.token, &owner, &keys[0]).await.status, 200);
    assert_eq!(create(&app, &owner.token, &owner, next()).await.status, 201, "after a revoke");
    assert_code(
        &create(&app, &owner.token, &owner, next()).await,
        409,
        "api_key_limit_reached",
        "full again",
    );

    // When the short-lived key expires, then it no longer counts either
    app.advance_clock(86_400).await;
    let owner = app.signed_in_again(owner).await;
    assert_eq!(create(&app, &owner.token, &owner, next()).await.status, 201, "after an expiry");
    assert_code(
        &create(&app, &owner.token, &owner, next()).await,
        409,
        "api_key_limit_reached",
        "full again",
    );
    let listed = list(&app, &owner.token, &owner).await;
    assert_eq!(listed.len(), 52, "every key is listed, working or not");
    let mut active: Vec<Value> = listed.into_iter().filter(|k| k["status"] == "active").collect();
    assert_eq!(active.len(), 50);

    // When the account keeps 200 keys, ended ones included, then no more are made, even with
    // fewer than 50 working
    for n in 52..200 {
        if active.len() == 50 {
            let ended = active.pop().expect("a working key");
            assert_eq!(revoke(&app, &owner.token, &owner, &ended).await.status, 200);
        }
        active.push(new_key(&app, &owner.token, &owner, &format!("kept {n}"), &["orders:read"]).await);
    }
    let ended = active.pop().expect("a working key");
    assert_eq!(revoke(&app, &owner.token, &owner, &ended).await.status, 200);
    assert_code(&create(&app, &owner.token, &owner, next()).await, 409, "api_key_limit_reached", "200 kept");
    assert_eq!(list(&app, &owner.token, &owner).await.len(), 200);
}

async fn the_last_use_is_noted_at_most_once_a_minute(app: TestApp) {
    // Given a key never used
    let owner = app.owner("standard", "owner@keys-last-use.example").await;
    let key = new_key(&app, &owner.token, &owner, "busy", &["orders:read"]).await;
    let secret = secret(&key);

    assert_eq!(last_used(&app, &owner, &key).await, Value::Null);

    // When it is used, then when is noted
    let before = clock(&app).await;
    assert_allowed(&ask(&app, Via::Header, &secret, &owner.account_id, &[]).await, "first use");
    let first = time(&last_used(&app, &owner, &key).await);
    assert!(first >= before && first <= clock(&app).await, "{first}");

    // When it is used again within the minute, then the note stays
    assert_allowed(&ask(&app, Via::Bearer, &secret, &owner.account_id, &[]).await, "again");
    app.advance_clock(30).await;
    assert_allowed(&ask(&app, Via::Header, &secret, &owner.account_id, &[]).await, "half a minute on");
    assert_eq!(time(&last_used(&app, &owner, &key).await), first, "noted at most once a minute");

    // When a minute has passed, then the next use is noted
    app.advance_clock(31).await;
    assert_allowed(&ask(&app, Via::Header, &secret, &owner.account_id, &[]).await, "a minute on");
    let later = time(&last_used(&app, &owner, &key).await);
    assert!(later >= first + Duration::seconds(61), "{first} → {later}");

    // And a refused use, minutes later, is not noted
    let revoked = revoke(&app, &owner.token, &owner, &key).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    app.advance_clock(120).await;
    assert_code(
        &ask(&app, Via::Header, &secret, &owner.account_id, &[]).await,
        401,
        "unauthenticated",
        "revoked",
    );
    assert_eq!(time(&last_used(&app, &owner, &key).await), later, "a refused use is no use");
}

// ---------------------------------------------------------------------------------------------
// Two changes of one key at once.

async fn two_rotations_at_once_leave_one_secret_working_and_never_a_500(app: TestApp) {
    // Given a key
    let owner = app.owner("joom", "owner@keys-race.example").await;
    let key = new_key(&app, &owner.token, &owner, "raced", &["orders:read"]).await;
    let first = key["secret"].as_str().expect("a secret").to_owned();

    // When it is rotated twice at the same moment, with no grace
    let (a, b) = tokio::join!(
        rotate(&app, &owner.token, &owner, &key, 0),
        rotate(&app, &owner.token, &owner, &key, 0)
    );

    // Then each answer is a rotation or a lost race, and exactly the secret of the rotation that
    // came last works: the key's listed hint names it
    let mut secrets = Vec::new();
    for reply in [&a, &b] {
        match reply.status {
            200 => secrets.push(reply.str("secret")),
            _ => assert_eq!((reply.status, reply.code()), (409, "concurrent_change"), "{}", reply.body),
        }
    }
    assert!(!secrets.is_empty(), "one of two rotations wins: {a:?} {b:?}");
    let hint = listed(&app, &owner, &key).await["hint"].as_str().expect("a hint").to_owned();
    let working: Vec<&String> = secrets.iter().filter(|s| hint.ends_with(&s[s.len() - 4..])).collect();
    assert_eq!(working.len(), 1, "the listed hint {hint} names one of {secrets:?}");
    for secret in secrets.iter().chain([&first]) {
        let answer = ask(&app, Via::Header, secret, &owner.account_id, &["orders:read"]).await;
        if secret == working[0] {
            assert_allowed(&answer, "the last rotation's secret");
        } else {
            assert_code(&answer, 401, "unauthenticated", "a secret a later rotation replaced");
        }
    }
}

async fn a_rotation_racing_a_revocation_never_leaves_a_revoked_key_working(app: TestApp) {
    // Given a key
    let owner = app.owner("joom", "owner@keys-race-revoke.example").await;
    let key = new_key(&app, &owner.token, &owner, "contested", &["orders:read"]).await;

    // When it is rotated and revoked at the same moment
    let (rotated, revoked) =
        tokio::join!(rotate(&app, &owner.token, &owner, &key, 24), revoke(&app, &owner.token, &owner, &key));

    // Then no answer is a 500, and if the revocation answered 200 no secret of the key works
    for reply in [&rotated, &revoked] {
        assert!(
            reply.status == 200
                || (reply.status, reply.code()) == (409, "concurrent_change")
                || (reply.status, reply.code()) == (409, "api_key_not_active"),
            "{}",
            reply.body
        );
    }
    let mut secrets = vec![key["secret"].as_str().expect("a secret").to_owned()];
    if rotated.status == 200 {
        secrets.push(rotated.str("secret"));
    }
    let status = listed(&app, &owner, &key).await["status"].clone();
    if revoked.status == 200 {
        assert_eq!(status, "revoked");
        for secret in &secrets {
            let answer = ask(&app, Via::Header, secret, &owner.account_id, &["orders:read"]).await;
            assert_code(&answer, 401, "unauthenticated", "a secret of a revoked key");
        }
    } else {
        assert_eq!(status, "active", "the revocation lost the race: the rotated key stands");
        assert_allowed(
            &ask(&app, Via::Header, &secrets[1], &owner.account_id, &["orders:read"]).await,
            "the new secret",
        );
    }
}

async fn an_ended_key_is_listed_for_ninety_days_and_then_forgotten(app: TestApp) {
    // Given a revoked key and a working one
    let owner = app.owner("joom", "owner@keys-forgotten.example").await;
    let ended = new_key(&app, &owner.token, &owner, "ended", &["orders:read"]).await;
    let body = json!({"name": "working", "permissions": ["orders:read"], "expires_in_days": 365});
    let working = create(&app, &owner.token, &owner, body).await.body;
    assert_eq!(revoke(&app, &owner.token, &owner, &ended).await.status, 200);

    // When 90 days have passed since the revocation, the revoked key is still listed
    app.advance_clock(90 * 86_400 - 60).await;
    let owner = app.signed_in_again(owner).await;
    let names = |keys: Vec<Value>| {
        keys.iter().map(|k| k["name"].as_str().unwrap_or("").to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(names(list(&app, &owner.token, &owner).await), ["working", "ended"]);

    // Then a minute later it is forgotten, and no longer counts against the account's keys
    app.advance_clock(60).await;
    let owner = app.signed_in_again(owner).await;
    assert_eq!(names(list(&app, &owner.token, &owner).await), ["working"]);
    assert_eq!(listed(&app, &owner, &working).await["status"], "active");
}

tests::scenarios!(
    an_ended_key_is_listed_for_ninety_days_and_then_forgotten,
    two_rotations_at_once_leave_one_secret_working_and_never_a_500,
    a_rotation_racing_a_revocation_never_leaves_a_revoked_key_working,
    a_new_key_is_shown_once_and_allows_exactly_its_permissions,
    a_key_asking_for_more_than_its_creator_holds_is_refused,
    bad_fields_are_named_and_nothing_is_created,
    a_revoked_key_is_refused_on_the_next_request_and_a_retried_revoke_changes_nothing,
    an_expired_key_is_refused_on_the_next_request,
    a_rotated_keys_old_secret_works_until_its_grace_ends,
    a_caller_outside_the_network_list_is_refused,
    the_secret_appears_in_no_list_event_or_stored_record,
    a_manager_cannot_rotate_or_revoke_a_key_broader_than_they_hold,
    a_key_outlives_its_creator,
    a_member_without_users_write_is_forbidden_on_the_key_routes,
    a_strangers_account_and_unknown_keys_are_not_found,
    a_key_never_works_on_teamgates_own_routes,
    unknown_wrong_and_foreign_keys_are_refused,
    each_key_action_is_audited,
    an_account_has_at_most_fifty_active_keys_and_two_hundred_in_all,
    the_last_use_is_noted_at_most_once_a_minute,
);

// ---------------------------------------------------------------------------------------------
// Uses are limited per key (with a small limit, on both backends).

fn three_uses_a_minute(settings: &mut shared::service::Settings) {
    settings.limits.api_key_uses = shared::service::support::limits::Limit { count: 3, window_seconds: 60 };
}

async fn uses_are_limited_per_key(app: TestApp) {
    // Given two keys of one account, and a limit of three uses a minute
    let owner = app.owner("standard", "owner@keys-limited.example").await;
    let busy = secret(&new_key(&app, &owner.token, &owner, "busy", &["orders:read"]).await);
    let quiet = secret(&new_key(&app, &owner.token, &owner, "quiet", &["orders:read"]).await);

    // When one key is used a fourth time within the minute, then it is refused with when to retry
    for n in 1..=3 {
        assert_allowed(&ask(&app, Via::Header, &busy, &owner.account_id, &[]).await, &format!("use {n}"));
    }
    let limited = ask(&app, Via::Bearer, &busy, &owner.account_id, &[]).await;
    assert_code(&limited, 429, "rate_limited", "the fourth use");
    let wait: u64 = limited.headers["retry-after"].to_str().expect("ASCII").parse().expect("seconds");
    assert!((1..=60).contains(&wait), "Retry-After {wait}");

    // And the other key, and the owner's token, are not held back
    assert_allowed(&ask(&app, Via::Header, &quiet, &owner.account_id, &[]).await, "the other key");
    let mine = app.post_as(&owner.token, AUTHORIZE, json!({"account_id": owner.account_id})).await;
    assert_allowed(&mine, "the owner's token");

    // When the minute is over, then the key works again
    app.advance_clock(60).await;
    assert_allowed(&ask(&app, Via::Header, &busy, &owner.account_id, &[]).await, "a minute later");
}

#[tokio::test]
async fn embedded_uses_are_limited_per_key() {
    uses_are_limited_per_key(tests::app::spawn_app_with(three_uses_a_minute).await).await;
}

#[tokio::test]
async fn on_aws_emulators_uses_are_limited_per_key() {
    uses_are_limited_per_key(tests::app::spawn_app_on_aws_with(three_uses_a_minute).await).await;
}

// ---------------------------------------------------------------------------------------------
// The deployed functions, under the Lambda Runtime API emulator on one table: no log line and
// no item holds a secret.

#[test]
fn the_deployed_functions_log_no_secret_and_store_none() {
    use tests::lambda_runtime::{
        OPERATOR_KEY, RunningFunction, activation_token, block_on, for_function, teamgate_environment,
    };

    let environment = teamgate_environment();
    let start = |name: &str| RunningFunction::start_with(name, for_function(name, &environment));
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_nanos();
    let email = format!("owner-{nanos}@keys-logs.example");

    // Given an account whose owner activated, through the accounts and accept functions
    let mut accounts = start("accounts");
    let body = json!({"name": "Log Shop", "owner_email": email, "preset": "standard"});
    let created =
        accounts.request("POST", "/v1/operator/accounts", &[("X-Operator-Key", OPERATOR_KEY)], Some(body));
    assert_eq!(created.status, 201, "{}", created.text);
    let account_id = created.body["account"]["id"].as_str().expect("an id").to_owned();
    let mut accept = start("accept");
    let token = activation_token(&environment, &email);
    let activation = json!({"token": token, "password": PASSWORD});
    let session = accept.request("POST", "/v1/invitations/accept", &[], Some(activation));
    assert_eq!(session.status, 200, "{}", session.text);
    let bearer = format!("Bearer {}", session.body["access_token"].as_str().expect("a token"));
    let owner = [("Authorization", bearer.as_str())];

    // When the owner creates, lists, rotates and revokes a key through the api-keys function,
    // and the directory function is asked with each secret
    let mut api_keys = start("api-keys");
    let keys = format!("/v1/accounts/{account_id}/api-keys");
    let key = api_keys.request(
        "POST",
        &keys,
        &owner,
        // API Gateway's source address in these events is 203.0.113.7
        Some(json!({"name": "logged", "permissions": ["orders:read"], "networks": ["203.0.113.0/24"]})),
    );
    assert_eq!(key.status, 201, "{}", key.text);
    let key_path = format!("{keys}/{}", key.body["id"].as_str().expect("an id"));
    let rotated =
        api_keys.request("POST", &format!("{key_path}/rotate"), &owner, Some(json!({"grace_hours": 1})));
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let mut secrets = vec![secret(&key.body), secret(&rotated.body)];
    let listed = api_keys.request("GET", &keys, &owner, None);
    assert_eq!(listed.status, 200, "{}", listed.text);
    let mut directory = start("directory");
    let ask = json!({"account_id": account_id, "permissions": ["orders:read"]});
    for secret in &secrets {
        let by_header = directory.request("POST", AUTHORIZE, &[("X-Api-Key", secret)], Some(ask.clone()));
        assert_eq!((by_header.status, &by_header.body["allowed"]), (200, &json!(true)), "{}", by_header.text);
        let bearer = format!("Bearer {secret}");
        let by_bearer =
            directory.request("POST", AUTHORIZE, &[("Authorization", &bearer)], Some(ask.clone()));
        assert_eq!(by_bearer.status, 200, "{}", by_bearer.text);
        let me = directory.request("GET", "/v1/me", &[("X-Api-Key", secret)], None);
        assert_eq!(me.status, 401, "{}", me.text);
    }
    let revoked = api_keys.request("POST", &format!("{key_path}/revoke"), &owner, Some(json!({})));
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    let refused = directory.request("POST", AUTHORIZE, &[("X-Api-Key", &secrets[1])], Some(ask.clone()));
    assert_eq!(refused.status, 401, "{}", refused.text);
    // A key limited to networks API Gateway's source address is outside of is refused there
    let body = json!({"name": "elsewhere", "permissions": ["orders:read"], "networks": ["198.51.100.0/24"]});
    let elsewhere = api_keys.request("POST", &keys, &owner, Some(body));
    assert_eq!(elsewhere.status, 201, "{}", elsewhere.text);
    secrets.push(secret(&elsewhere.body));
    let outside = directory.request("POST", AUTHORIZE, &[("X-Api-Key", &secrets[2])], Some(ask.clone()));
    assert_eq!((outside.status, outside.code()), (403, "network_not_allowed"), "{}", outside.text);
    // A forwarded-for header naming an address inside is not where the request came from
    let forwarded = [
        ("X-Api-Key", secrets[2].as_str()),
        ("X-Forwarded-For", "198.51.100.1"),
        ("Forwarded", "for=198.51.100.1"),
    ];
    let spoofed = directory.request("POST", AUTHORIZE, &forwarded, Some(ask));
    assert_eq!((spoofed.status, spoofed.code()), (403, "network_not_allowed"), "{}", spoofed.text);

    // Then no function logged a secret, though each logged its requests
    for function in [&accounts, &accept, &api_keys, &directory] {
        let logs = function.logs();
        assert!(logs.lines().count() >= 1, "the function logs its requests");
        for secret in &secrets {
            assert!(!logs.contains(random_part(secret)), "a secret reached the log:\n{logs}");
        }
    }
    assert!(
        !listed.text.contains(random_part(&secrets[0])) && !listed.text.contains(random_part(&secrets[1]))
    );

    // And no item of the table holds one
    let client = aws_sdk_dynamodb::Client::from_conf(tests::emulators::dynamodb_config().build());
    let store = shared::adapters::dynamodb::DynamoStore::new(client, environment["TABLE_NAME"].clone());
    let items = block_on(scan_table(&store));
    assert!(items.iter().any(|i| i.to_string().contains("APIKEY#")), "the key is in the table: {items:?}");
    for secret in &secrets {
        for item in &items {
            assert!(!item.to_string().contains(random_part(secret)), "an item holds a secret: {item}");
        }
    }
}
