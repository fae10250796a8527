//! `POST /v1/authorize`, as a marketplace's own backend calls it with an employee's access token:
//! every preset's owner and roles (direct grants for `amazon-seller`) asked about every section of
//! the preset at both levels and checked against the preset file; the member read live (blocks,
//! removals, role changes and transfers apply to the next call); and every way a call is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use shared::domain::{Preset, Presets};
use std::collections::BTreeMap;
use tests::app::{Owner, PASSWORD, Reply, TestApp};
use tests::assert_no_differences;

const AUTHORIZE: &str = "/v1/authorize";

/// An id that names no account (and no one).
const NO_SUCH_ACCOUNT: &str = "00000000-0000-7000-8000-0000000000aa";

/// Asks whether the holder of `token` has `permissions` in `account_id`.
async fn authorize(app: &TestApp, token: &str, account_id: &str, permissions: &[&str]) -> Reply {
    app.post_as(token, AUTHORIZE, json!({"account_id": account_id, "permissions": permissions})).await
}

/// `write` implies `read`: a level is held when the held one is at least as high.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Read,
    Write,
}

impl Level {
    fn parse(level: &str) -> Self {
        match level {
            "read" => Self::Read,
            "write" => Self::Write,
            other => panic!("no level `{other}`"),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }
}

/// What someone holds, as the preset file says: each section at its highest level.
#[derive(Debug, Default)]
struct Held(BTreeMap<String, Level>);

impl Held {
    fn from_strings<S: AsRef<str>>(permissions: impl IntoIterator<Item = S>) -> Self {
        let mut held = Self::default();
        for permission in permissions {
            let (section, level) = permission.as_ref().split_once(':').expect("section:level");
            let level = Level::parse(level);
            let entry = held.0.entry(section.to_owned()).or_insert(level);
            *entry = (*entry).max(level);
        }
        held
    }

    /// The owner: every section of the catalog, at write.
    fn everything(preset: &Preset) -> Self {
        Self::from_strings(preset.sections.iter().map(|s| format!("{}:write", s.id)))
    }

    fn holds(&self, permission: &str) -> bool {
        let (section, level) = permission.split_once(':').expect("section:level");
        self.0.get(section).is_some_and(|held| *held >= Level::parse(level))
    }

    /// `effective_permissions` as the API states them: one per section, ordered by section.
    fn effective(&self) -> Value {
        json!(
            self.0.iter().map(|(section, level)| format!("{section}:{}", level.as_str())).collect::<Vec<_>>()
        )
    }
}

/// Someone who holds a grant in the account: the owner, or a member made for one grant.
struct Person {
    label: String,
    token: String,
    user_id: String,
    is_owner: bool,
    held: Held,
}

/// Invites `email` as the owner with `roles` and `permissions` (with the profile fields the preset
/// requires at invitation: ua-marketplace's Cyrillic names and a Ukrainian mobile number) and
/// has them activate from the emailed link; returns their access token.
async fn join(
    app: &TestApp,
    owner: &Owner,
    preset: &Preset,
    n: usize,
    email: &str,
    roles: &[&str],
    permissions: &[&str],
) -> String {
    let mut body = json!({"email": email, "roles": roles, "permissions": permissions});
    if !preset.profile.required.is_empty() {
        body["first_name"] = json!("Олена");
        body["last_name"] = json!("Коваль");
        body["phone"] = json!(format!("+38067{:07}", 4_200_000 + n));
    }
    let invited = app.post_as(&owner.token, &format!("{}/invitations", owner.account_path()), body).await;
    assert_eq!(invited.status, 201, "{}: inviting {email}: {}", preset.id, invited.body);
    let session = app.activate(&app.link_token(email).await).await;
    assert_eq!(session.status, 200, "{}: {email} activates: {}", preset.id, session.body);
    app.ready(session.str("access_token"), &owner.account_id).await
}

/// The grants to try in a preset: each of its roles alone, and its last two roles together; a
/// preset without roles (amazon-seller) gets direct grants instead.
fn grants(preset: &Preset) -> Vec<(String, Vec<String>, Vec<String>)> {
    let names: Vec<String> = preset.roles.iter().map(|r| r.name.as_str().to_owned()).collect();
    if names.is_empty() {
        let every_read = preset.sections.iter().map(|s| format!("{}:read", s.id)).collect();
        let first = &preset.sections[0].id;
        let last = &preset.sections[preset.sections.len() - 1].id;
        return vec![
            (format!("{first}:write"), vec![], vec![format!("{first}:write")]),
            (
                format!("{first}:read + {last}:write"),
                vec![],
                vec![format!("{first}:read"), format!("{last}:write")],
            ),
            ("every section at read".into(), vec![], every_read),
        ];
    }
    let mut grants: Vec<_> = names.iter().map(|name| (name.clone(), vec![name.clone()], vec![])).collect();
    if let [.., a, b] = names.as_slice() {
        grants.push((format!("{a} + {b}"), vec![a.clone(), b.clone()], vec![]));
    }
    grants
}

/// What the preset file gives a grant: its roles' permissions and the direct ones.
fn held_by(preset: &Preset, roles: &[String], permissions: &[String]) -> Held {
    let from_roles = roles.iter().flat_map(|name| {
        let role = preset.roles.iter().find(|r| r.name.as_str() == name).expect("a role of the preset");
        role.permissions.to_strings()
    });
    Held::from_strings(from_roles.chain(permissions.iter().cloned()))
}

/// Every section of the preset, at read and at write.
fn every_permission(preset: &Preset) -> Vec<String> {
    preset.sections.iter().flat_map(|s| [format!("{}:read", s.id), format!("{}:write", s.id)]).collect()
}

/// Asks, as `person`, about every permission of the preset at once and one at a time, and
/// collects every way the answers differ from what the preset file gives them.
async fn check_answers(
    app: &TestApp,
    preset: &Preset,
    account_id: &str,
    person: &Person,
    differences: &mut Vec<String>,
) {
    let at = format!("{} / {}", preset.id, person.label);
    let asked = every_permission(preset);
    let asked: Vec<&str> = asked.iter().map(String::as_str).collect();
    let missing: Vec<&str> = asked.iter().copied().filter(|p| !person.held.holds(p)).collect();

    let all = authorize(app, &person.token, account_id, &asked).await;
    if all.status != 200 {
        differences.push(format!("{at}: asking about everything: {} {}", all.status, all.body));
        return;
    }
    let expected = json!({
        "allowed": missing.is_empty(),
        "missing": missing,
        "member": {
            "user_id": person.user_id,
            "is_owner": person.is_owner,
            "effective_permissions": person.held.effective(),
        },
    });
    if all.body != expected {
        differences
            .push(format!("{at}: asking about everything:\n    got  {}\n    want {expected}", all.body));
    }

    for permission in asked {
        let one = authorize(app, &person.token, account_id, &[permission]).await;
        let holds = person.held.holds(permission);
        let want_missing = if holds { json!([]) } else { json!([permission]) };
        if (one.status, &one.body["allowed"], &one.body["missing"]) != (200, &json!(holds), &want_missing) {
            differences
                .push(format!("{at}: {permission}: want allowed {holds}, got {} {}", one.status, one.body));
        }
    }
}

/// Given an account of `preset_id` with its owner and a member for each grant, when each asks
/// about every section at read and at write, then each answer is what the preset file gives.
async fn every_grant_of_the_preset_is_answered_as_the_preset_says(app: &TestApp, preset_id: &str) {
    let presets = Presets::compiled();
    let preset = presets.get(preset_id).expect("a built-in preset");
    let domain = format!("{preset_id}.authorize.example");

    // Given the owner, and one member per grant the preset allows
    let owner = app.owner(preset_id, &format!("owner@{domain}")).await;
    let mut people = vec![Person {
        label: "owner".into(),
        user_id: app.user_id(&owner.token).await,
        token: owner.token.clone(),
        is_owner: true,
        held: Held::everything(preset),
    }];
    for (n, (label, roles, permissions)) in grants(preset).into_iter().enumerate() {
        let email = format!("member{n}@{domain}");
        let role_names: Vec<&str> = roles.iter().map(String::as_str).collect();
        let direct: Vec<&str> = permissions.iter().map(String::as_str).collect();
        let token = join(app, &owner, preset, n, &email, &role_names, &direct).await;
        people.push(Person {
            label,
            user_id: app.user_id(&token).await,
            token,
            is_owner: false,
            held: held_by(preset, &roles, &permissions),
        });
    }
    assert!(people.len() >= 3, "{preset_id}: the owner and at least two grants");

    // When each asks about every section, then the answers are the preset's
    let mut differences = Vec::new();
    for person in &people {
        check_answers(app, preset, &owner.account_id, person, &mut differences).await;
    }
    assert_no_differences(&format!("{preset_id}: authorize against the preset file"), differences);
}

async fn standard_owner_and_every_role_are_answered_as_the_preset_says(app: TestApp) {
    every_grant_of_the_preset_is_answered_as_the_preset_says(&app, "standard").await;
}

async fn ozon_owner_and_every_role_are_answered_as_the_preset_says(app: TestApp) {
    every_grant_of_the_preset_is_answered_as_the_preset_says(&app, "ozon").await;
}

async fn ua_marketplace_owner_and_every_role_are_answered_as_the_preset_says(app: TestApp) {
    every_grant_of_the_preset_is_answered_as_the_preset_says(&app, "ua-marketplace").await;
}

async fn amazon_associates_owner_and_every_role_are_answered_as_the_preset_says(app: TestApp) {
    every_grant_of_the_preset_is_answered_as_the_preset_says(&app, "amazon-associates").await;
}

async fn amazon_seller_owner_and_direct_grants_are_answered_as_the_preset_says(app: TestApp) {
    every_grant_of_the_preset_is_answered_as_the_preset_says(&app, "amazon-seller").await;
}

async fn joom_owner_and_every_role_are_answered_as_the_preset_says(app: TestApp) {
    every_grant_of_the_preset_is_answered_as_the_preset_says(&app, "joom").await;
}

#[test]
fn every_built_in_preset_is_covered_above() {
    let presets = Presets::compiled();
    let covered = ["standard", "ozon", "ua-marketplace", "amazon-associates", "amazon-seller", "joom"];
    assert_eq!(presets.ids().collect::<Vec<_>>().len(), covered.len(), "a preset was added: cover it");
    for id in presets.ids() {
        assert!(covered.contains(&id), "preset {id} has no scenario in this file");
    }
}

/// The problem answered to a caller who is no active member of the account.
fn assert_not_found(reply: &Reply, what: &str) {
    assert_eq!((reply.status, reply.code()), (404, "not_found"), "{what}: {}", reply.body);
    assert!(reply.body.get("member").is_none() && reply.body.get("allowed").is_none(), "{what}");
}

fn assert_unauthenticated(reply: &Reply, what: &str) {
    assert_eq!((reply.status, reply.code()), (401, "unauthenticated"), "{what}: {}", reply.body);
}

async fn another_accounts_id_is_not_found_and_tells_nothing_about_it(app: TestApp) {
    // Given account B with its owner and an editor, and the owner of account A
    let b = app.owner("standard", "owner@authz-tenant-b.example").await;
    app.member(&b, "editor@authz-tenant-b.example", &["editor"], &[]).await;
    let a = app.owner("standard", "owner@authz-tenant-a.example").await;

    // When A's owner asks about B, with and without permissions
    let with = authorize(&app, &a.token, &b.account_id, &["orders:read", "users:write"]).await;
    let without = app.post_as(&a.token, AUTHORIZE, json!({"account_id": b.account_id})).await;

    // Then both are not found, word for word what an account that does not exist answers
    let nowhere = authorize(&app, &a.token, NO_SUCH_ACCOUNT, &["orders:read", "users:write"]).await;
    assert_not_found(&with, "A's owner about B");
    assert_not_found(&without, "A's owner about B, asking nothing");
    assert_eq!(with.body, nowhere.body, "B is indistinguishable from no account");
    assert_eq!(without.body, nowhere.body);
    for leak in [b.account_id.as_str(), b.email.as_str(), "editor@authz-tenant-b.example", "standard shop"] {
        assert!(!with.body.to_string().contains(leak), "the answer names {leak}: {}", with.body);
    }
    // And A's owner is still answered about A, B's owner about B
    let own = authorize(&app, &a.token, &a.account_id, &["orders:write"]).await;
    assert_eq!((own.status, own.body["allowed"].clone()), (200, json!(true)), "{}", own.body);
    let theirs = authorize(&app, &b.token, &b.account_id, &["orders:write"]).await;
    assert_eq!((theirs.status, theirs.body["allowed"].clone()), (200, json!(true)), "{}", theirs.body);
}

async fn a_blocked_member_is_refused_and_allowed_again_once_signed_in_after_the_unblock(app: TestApp) {
    // Given an editor who may write orders
    let owner = app.owner("standard", "owner@authz-block.example").await;
    let editor = app.member(&owner, "editor@authz-block.example", &["editor"], &[]).await;
    let editor_id = app.member_id(&owner, "editor@authz-block.example").await;
    let member = format!("{}/members/{editor_id}", owner.account_path());
    let before = authorize(&app, &editor, &owner.account_id, &["orders:write"]).await;
    assert_eq!(before.body["allowed"], true, "{}", before.body);

    // When the owner blocks them
    let blocked = app.post_as(&owner.token, &format!("{member}/block"), json!({})).await;
    assert_eq!(blocked.status, 200, "{}", blocked.body);

    // Then their very next call is refused as blocked, asking anything or nothing
    for asked in [&["orders:write"][..], &[]] {
        let refused = authorize(&app, &editor, &owner.account_id, asked).await;
        assert_eq!((refused.status, refused.code()), (403, "user_blocked"), "{asked:?}: {}", refused.body);
        assert!(refused.body.get("member").is_none(), "{}", refused.body);
    }

    // When the owner unblocks them, then the block ended the session that token was issued in,
    // and a new sign-in is allowed at once
    let unblocked = app.post_as(&owner.token, &format!("{member}/unblock"), json!({})).await;
    assert_eq!(unblocked.status, 200, "{}", unblocked.body);
    let old = authorize(&app, &editor, &owner.account_id, &["orders:write"]).await;
    assert_unauthenticated(&old, "a token of a session the block ended");
    let session = app.sign_in("editor@authz-block.example", PASSWORD).await;
    let after = authorize(&app, &session.str("access_token"), &owner.account_id, &["orders:write"]).await;
    assert_eq!((after.status, after.body["allowed"].clone()), (200, json!(true)), "{}", after.body);
}

async fn a_deleted_member_and_one_not_yet_activated_are_not_found(app: TestApp) {
    // Given an editor, and the owner of another account invited here but not yet activated
    let owner = app.owner("standard", "owner@authz-gone.example").await;
    let editor = app.member(&owner, "editor@authz-gone.example", &["editor"], &[]).await;
    let elsewhere = app.owner("standard", "owner@authz-elsewhere.example").await;
    app.invite(&owner, &elsewhere.email, &["viewer"]).await;
    assert_eq!(app.member_named(&owner, &elsewhere.email).await["status"], "not_activated");

    // When the owner deletes the editor
    let editor_id = app.member_id(&owner, "editor@authz-gone.example").await;
    let deleted = app.delete_as(&owner.token, &format!("{}/members/{editor_id}", owner.account_path())).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);

    // Then the editor's next call is not found, as is the invitee's, who holds a valid token
    assert_not_found(&authorize(&app, &editor, &owner.account_id, &["orders:read"]).await, "deleted");
    assert_not_found(&authorize(&app, &elsewhere.token, &owner.account_id, &[]).await, "not activated");

    // When the invitee accepts with their password, then they are answered as a viewer
    let accepted = app.accept(&app.link_token(&elsewhere.email).await, PASSWORD).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let viewer = authorize(&app, &elsewhere.token, &owner.account_id, &["orders:read", "orders:write"]).await;
    assert_eq!(
        (viewer.status, viewer.body["allowed"].clone(), viewer.body["missing"].clone()),
        (200, json!(false), json!(["orders:write"])),
        "{}",
        viewer.body
    );
}

async fn a_role_change_and_a_transfer_apply_at_the_next_call(app: TestApp) {
    // Given a viewer, who may read products but not write them
    let owner = app.owner("standard", "owner@authz-change.example").await;
    let viewer = app.member(&owner, "viewer@authz-change.example", &["viewer"], &[]).await;
    let viewer_id = app.member_id(&owner, "viewer@authz-change.example").await;
    let asked = ["products:read", "products:write"];
    let before = authorize(&app, &viewer, &owner.account_id, &asked).await;
    assert_eq!(before.body["missing"], json!(["products:write"]), "{}", before.body);

    // When the owner makes them an editor
    let roles = format!("{}/members/{viewer_id}/roles", owner.account_path());
    let changed = app.put_as(&owner.token, &roles, json!({"roles": ["editor"]})).await;
    assert_eq!(changed.status, 200, "{}", changed.body);

    // Then their very next call, with the same token, holds what an editor holds
    let after = authorize(&app, &viewer, &owner.account_id, &asked).await;
    assert_eq!(after.body["allowed"], true, "{}", after.body);
    assert_eq!(
        after.body["member"]["effective_permissions"],
        json!(["analytics:read", "orders:write", "products:write"])
    );

    // When the owner hands the account over to them
    let transfer = format!("{}/ownership-transfer", owner.account_path());
    let handed =
        app.post_as(&owner.token, &transfer, json!({"user_id": viewer_id, "password": PASSWORD})).await;
    assert_eq!(handed.status, 200, "{}", handed.body);

    // Then the next calls answer the new owner with everything, the former one as administrator
    let everything =
        ["analytics", "finance", "orders", "products", "settings", "users"].map(|s| format!("{s}:write"));
    let new_owner = authorize(&app, &viewer, &owner.account_id, &["users:write"]).await;
    assert_eq!(
        (&new_owner.body["allowed"], &new_owner.body["member"]["is_owner"]),
        (&json!(true), &json!(true)),
        "{}",
        new_owner.body
    );
    assert_eq!(new_owner.body["member"]["effective_permissions"], json!(everything));
    let former = authorize(&app, &owner.token, &owner.account_id, &["users:write"]).await;
    assert_eq!(
        (&former.body["allowed"], &former.body["member"]["is_owner"]),
        (&json!(true), &json!(false)),
        "{}",
        former.body
    );
    assert_eq!(former.body["member"]["effective_permissions"], json!(everything));
}

/// `token` with one claim of its payload replaced, the signature kept.
fn with_claim(token: &str, claim: &str, value: Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT");
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64url")).expect("JSON claims");
    claims[claim] = value;
    format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2])
}

async fn a_token_revoked_by_a_password_change_is_unauthenticated(app: TestApp) {
    // Given an editor signed in twice: on this device and on another
    let owner = app.owner("standard", "owner@authz-password.example").await;
    app.member(&owner, "editor@authz-password.example", &["editor"], &[]).await;
    let here = app.sign_in("editor@authz-password.example", PASSWORD).await;
    let editor = here.str("access_token");
    assert_eq!(authorize(&app, &editor, &owner.account_id, &[]).await.status, 200);
    let elsewhere = app.sign_in("editor@authz-password.example", PASSWORD).await;

    // When they change their password
    let new_password = "Another-Long-Passphrase-77";
    let changed = app
        .post_as(
            &editor,
            "/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": new_password}),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.body);

    // Then the tokens issued before it are unauthenticated, the other device's session has
    // ended, and this one goes on: its refresh token gets a token of the new version
    assert_unauthenticated(&authorize(&app, &editor, &owner.account_id, &["orders:read"]).await, "old token");
    let other = &elsewhere.str("access_token");
    assert_unauthenticated(
        &authorize(&app, other, &owner.account_id, &["orders:read"]).await,
        "other device",
    );
    let refreshed =
        app.post("/v1/sessions/refresh", json!({"refresh_token": elsewhere.str("refresh_token")})).await;
    assert_eq!((refreshed.status, refreshed.code()), (401, "invalid_refresh_token"), "{}", refreshed.body);
    let renewed = app.post("/v1/sessions/refresh", json!({"refresh_token": here.str("refresh_token")})).await;
    assert_eq!(renewed.status, 200, "{}", renewed.body);
    let kept = authorize(&app, &renewed.str("access_token"), &owner.account_id, &["orders:read"]).await;
    assert_eq!((kept.status, kept.body["allowed"].clone()), (200, json!(true)), "{}", kept.body);
    let session = app.sign_in("editor@authz-password.example", new_password).await;
    assert_eq!(session.status, 200, "{}", session.body);
    let fresh = authorize(&app, &session.str("access_token"), &owner.account_id, &["orders:read"]).await;
    assert_eq!((fresh.status, fresh.body["allowed"].clone()), (200, json!(true)), "{}", fresh.body);
}

async fn expired_tampered_and_missing_tokens_are_unauthenticated(app: TestApp) {
    // Given an owner and a viewer, each signed in
    let owner = app.owner("standard", "owner@authz-tokens.example").await;
    let viewer = app.member(&owner, "viewer@authz-tokens.example", &["viewer"], &[]).await;
    let owner_id = app.user_id(&owner.token).await;
    let body = json!({"account_id": owner.account_id, "permissions": ["users:write"]});

    // When the viewer's token says it is the owner's, or its signature is altered
    let impostor = with_claim(&viewer, "sub", json!(owner_id));
    let mut forged = viewer.clone();
    let middle = forged.len() - 10;
    let flipped = if &forged[middle..=middle] == "A" { "B" } else { "A" };
    forged.replace_range(middle..=middle, flipped);
    // Then neither is let in, and nor is a call without a token or with a token that is no JWT
    assert_unauthenticated(&app.post_as(&impostor, AUTHORIZE, body.clone()).await, "sub changed");
    assert_unauthenticated(&app.post_as(&forged, AUTHORIZE, body.clone()).await, "signature changed");
    assert_unauthenticated(&app.post(AUTHORIZE, body.clone()).await, "no token");
    assert_unauthenticated(&app.post_as("not-a-jwt", AUTHORIZE, body.clone()).await, "not a JWT");

    // When 16 minutes pass (an access token lives 15)
    app.advance_clock(16 * 60).await;

    // Then the viewer's token is expired, also with its expiry moved forward
    assert_unauthenticated(&app.post_as(&viewer, AUTHORIZE, body.clone()).await, "expired");
    let far = chrono::Utc::now().timestamp() + 86_400;
    let extended = with_claim(&viewer, "exp", json!(far));
    assert_unauthenticated(&app.post_as(&extended, AUTHORIZE, body.clone()).await, "exp changed");
    // And signing in again is answered
    let again = app.sign_in("viewer@authz-tokens.example", PASSWORD).await;
    let fresh = app.post_as(&again.str("access_token"), AUTHORIZE, body).await;
    assert_eq!(
        (fresh.status, fresh.body["allowed"].clone(), fresh.body["missing"].clone()),
        (200, json!(false), json!(["users:write"])),
        "{}",
        fresh.body
    );
}

async fn malformed_and_too_many_permissions_are_field_errors(app: TestApp) {
    // Given an owner
    let owner = app.owner("standard", "owner@authz-fields.example").await;
    let field_errors = |reply: &Reply| {
        assert_eq!((reply.status, reply.code()), (400, "validation_failed"), "{}", reply.body);
        reply.field_errors()
    };
    let named = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs.iter().map(|(f, c)| ((*f).to_owned(), (*c).to_owned())).collect()
    };

    // When a permission is malformed, then it is named by its index
    let one = authorize(&app, &owner.token, &owner.account_id, &["orders:read", "orders:admin"]).await;
    assert_eq!(field_errors(&one), named(&[("permissions[1]", "unknown_permission")]));
    let several =
        authorize(&app, &owner.token, &owner.account_id, &["Orders:read", "orders:read", "orders", ":write"])
            .await;
    assert_eq!(
        field_errors(&several),
        named(&[
            ("permissions[0]", "unknown_permission"),
            ("permissions[2]", "unknown_permission"),
            ("permissions[3]", "unknown_permission"),
        ])
    );

    // When 51 permissions are asked about, then it is too many; 50 are answered
    let sections = ["products", "orders", "analytics", "finance", "settings"];
    let fifty: Vec<String> = (0..50).map(|i| format!("{}:read", sections[i % sections.len()])).collect();
    let fifty: Vec<&str> = fifty.iter().map(String::as_str).collect();
    let answered = authorize(&app, &owner.token, &owner.account_id, &fifty).await;
    assert_eq!((answered.status, answered.body["allowed"].clone()), (200, json!(true)), "{}", answered.body);
    let fifty_one: Vec<&str> = fifty.iter().copied().chain(["orders:write"]).collect();
    let refused = authorize(&app, &owner.token, &owner.account_id, &fifty_one).await;
    assert_eq!(field_errors(&refused), named(&[("permissions", "too_many")]));

    // When the body is wrong, then it is refused as every other body is
    let post = |body: Value| app.post_as(&owner.token, AUTHORIZE, body);
    let no_account = post(json!({"permissions": ["orders:read"]})).await;
    assert_eq!(field_errors(&no_account), named(&[("account_id", "required")]));
    let unknown = post(json!({"account_id": owner.account_id, "as_user": "someone"})).await;
    assert_eq!(field_errors(&unknown), named(&[("as_user", "unknown_field")]));
    let not_a_list = post(json!({"account_id": owner.account_id, "permissions": "orders:read"})).await;
    assert_eq!(field_errors(&not_a_list), named(&[("permissions", "invalid_value")]));
    let not_a_string = post(json!({"account_id": 7})).await;
    assert_eq!(field_errors(&not_a_string), named(&[("account_id", "invalid_value")]));
    let not_json = post(json!(["account_id"])).await;
    assert_eq!(field_errors(&not_json), named(&[("body", "malformed_json")]));
    let plain = reqwest::Client::new()
        .post(format!("{}{AUTHORIZE}", app.base))
        .bearer_auth(&owner.token)
        .header("content-type", "text/plain")
        .body(json!({"account_id": owner.account_id}).to_string())
        .send()
        .await
        .expect("the server answers");
    assert_eq!(plain.status(), 415);
    let plain: Value = plain.json().await.expect("a problem");
    assert_eq!(plain["code"], "unsupported_media_type");
}

async fn a_malformed_or_unknown_account_id_is_not_found(app: TestApp) {
    // Given an owner
    let owner = app.owner("standard", "owner@authz-ids.example").await;
    let nowhere = authorize(&app, &owner.token, NO_SUCH_ACCOUNT, &["orders:read"]).await;
    assert_not_found(&nowhere, "an id that names no account");

    // When the account id is no id at all, then it is not found either, word for word
    for id in ["", "not-an-id", "../accounts", "ACCOUNT#x", "00000000-0000-7000-8000-00000000000"] {
        let reply = authorize(&app, &owner.token, id, &["orders:read"]).await;
        assert_not_found(&reply, id);
        assert_eq!(reply.body, nowhere.body, "{id:?}");
    }

    // When the owner's own account id is spelled another way, then it names nothing either
    let simple = owner.account_id.replace('-', "");
    for id in [owner.account_id.to_uppercase(), simple, format!("{{{}}}", owner.account_id)] {
        let reply = authorize(&app, &owner.token, &id, &["orders:read"]).await;
        assert_not_found(&reply, &id);
    }
    let own = authorize(&app, &owner.token, &owner.account_id, &["orders:read"]).await;
    assert_eq!((own.status, own.body["allowed"].clone()), (200, json!(true)), "{}", own.body);
}

async fn without_permissions_an_active_member_is_allowed_with_what_they_hold(app: TestApp) {
    // Given a finance member
    let owner = app.owner("standard", "owner@authz-none.example").await;
    let finance = app.member(&owner, "finance@authz-none.example", &["finance"], &[]).await;
    let finance_id = app.member_id(&owner, "finance@authz-none.example").await;
    let expected = json!({
        "allowed": true,
        "missing": [],
        "member": {
            "user_id": finance_id,
            "is_owner": false,
            "effective_permissions": ["analytics:read", "finance:write", "orders:read"],
        },
    });

    // When they ask with `permissions` left out, or empty, then they are allowed
    let omitted = app.post_as(&finance, AUTHORIZE, json!({"account_id": owner.account_id})).await;
    assert_eq!((omitted.status, &omitted.body), (200, &expected));
    let empty = authorize(&app, &finance, &owner.account_id, &[]).await;
    assert_eq!((empty.status, &empty.body), (200, &expected));

    // And what they hold agrees with GET /v1/me
    let me = app.get_as(&finance, "/v1/me").await;
    assert_eq!(
        me.body["memberships"][0]["effective_permissions"],
        expected["member"]["effective_permissions"]
    );
}

async fn a_section_the_preset_lacks_is_missing_even_for_the_owner(app: TestApp) {
    // Given a standard account (no `inventory` section) and its owner
    let owner = app.owner("standard", "owner@authz-sections.example").await;

    // When the owner asks about a section the preset lacks, among ones it has
    let asked = ["orders:write", "inventory:read", "users:write", "inventory:write"];
    let reply = authorize(&app, &owner.token, &owner.account_id, &asked).await;

    // Then the answer names it missing, in the order asked, and is no error
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["allowed"], false);
    assert_eq!(reply.body["missing"], json!(["inventory:read", "inventory:write"]));
    assert_eq!(reply.body["member"]["is_owner"], true);

    // And asking the same permission twice names it twice
    let twice = authorize(&app, &owner.token, &owner.account_id, &["inventory:read", "inventory:read"]).await;
    assert_eq!(twice.body["missing"], json!(["inventory:read", "inventory:read"]), "{}", twice.body);
}

tests::scenarios!(
    standard_owner_and_every_role_are_answered_as_the_preset_says,
    ozon_owner_and_every_role_are_answered_as_the_preset_says,
    ua_marketplace_owner_and_every_role_are_answered_as_the_preset_says,
    amazon_associates_owner_and_every_role_are_answered_as_the_preset_says,
    amazon_seller_owner_and_direct_grants_are_answered_as_the_preset_says,
    joom_owner_and_every_role_are_answered_as_the_preset_says,
    another_accounts_id_is_not_found_and_tells_nothing_about_it,
    a_blocked_member_is_refused_and_allowed_again_once_signed_in_after_the_unblock,
    a_deleted_member_and_one_not_yet_activated_are_not_found,
    a_role_change_and_a_transfer_apply_at_the_next_call,
    a_token_revoked_by_a_password_change_is_unauthenticated,
    expired_tampered_and_missing_tokens_are_unauthenticated,
    malformed_and_too_many_permissions_are_field_errors,
    a_malformed_or_unknown_account_id_is_not_found,
    without_permissions_an_active_member_is_allowed_with_what_they_hold,
    a_section_the_preset_lacks_is_missing_even_for_the_owner,
);
