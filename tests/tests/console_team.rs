//! The console's team screens (shared/console/members.*, invite.*) in Chromium: each preset's
//! team scenario done through them by clicking at 1280 px (one by the keyboard alone), the
//! screens and dialogs seen at 375 px, axe-core on every one, and what the server then holds
//! read back through the API. The scripts are tests/browser/console-*.mjs; screenshots are kept
//! in target/browser-artifacts/.

use serde_json::{Value, json};
use tests::app::{PASSWORD, TestApp};
use tests::browser::{artifacts, browse};

/// Runs `scenario` of console-team.mjs signed in as `email`, with `given` (what it needs).
async fn console(app: &TestApp, scenario: &str, email: &str, given: Value) -> Value {
    let port = app.base.rsplit(':').next().unwrap_or_default();
    let folder = artifacts(&format!("console-team-{scenario}-{port}"));
    browse("console-team.mjs", &[scenario, &app.base, email, PASSWORD, &folder, &given.to_string()]).await
}

/// No script error and no accessibility violation on any screen or dialog the run saw (the
/// requests the server refused are in `refused`: a scenario counts those it meant).
fn clean(seen: &Value) {
    assert_eq!((&seen["errors"], &seen["violations"]), (&json!([]), &json!([])), "{seen}");
}

/// A member's direct permissions or roles as the server holds them, sorted.
fn sorted(list: &Value) -> Vec<&str> {
    let mut items: Vec<&str> = list.as_array().expect("a list").iter().filter_map(Value::as_str).collect();
    items.sort_unstable();
    items
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
    clean(&seen);
}

async fn a_ua_marketplace_owner_invites_an_employee_by_cyrillic_name_and_mobile_then_blocks_them(
    app: TestApp,
) {
    // Given a ua-marketplace owner (the account speaks Ukrainian)
    let owner = app.owner("ua-marketplace", "owner@console-ua.example").await;
    let olena = "olena@console-ua.example";

    // When the owner invites Olena in the console as an administrator, first with a Latin name
    // and a short number, then in Cyrillic with her mobile
    let seen = console(&app, "ua_invite", &owner.email, json!({"invitee": olena})).await;

    // Then the console spoke Ukrainian, the dialog took the focus, the server's field errors
    // showed next to the name and phone fields (the focus on the first), and once corrected
    // she was listed with her name and the console said she was invited
    assert_eq!(seen["heading"], "Користувачі", "{seen}");
    assert_eq!(seen["focus_in_dialog"], "invite-email", "{seen}");
    let errors = seen["field_errors"].as_object().expect("field errors");
    let mut fields: Vec<&str> = errors.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["first_name", "last_name", "phone"], "{seen}");
    assert!(errors.values().all(|m| m.as_str().is_some_and(|m| !m.is_empty())), "{seen}");
    assert_eq!(seen["focus_after_errors"], "invite-first-name", "{seen}");
    let listed = seen["listed"].as_str().unwrap_or_default();
    assert!(listed.contains("Олена Коваль") && listed.contains("Адміністратор компанії"), "{seen}");
    assert_eq!(seen["said"], format!("Запрошення надіслано: {olena}."), "{seen}");
    assert_eq!(seen["focus_after_invite"], "invite-open", "{seen}");
    assert_eq!(seen["refused"].as_array().map(Vec::len), Some(1), "the one refused invitation: {seen}");
    clean(&seen);

    // And the server holds her with that name, the number in its stored form and the role
    let member = app.member_named(&owner, olena).await;
    assert_eq!((&member["first_name"], &member["last_name"]), (&json!("Олена"), &json!("Коваль")));
    assert_eq!(member["phone"], "+380501234567", "{member}");
    assert_eq!(member["roles"], json!(["administrator"]), "{member}");

    // When she sets her password from the emailed link, and the owner blocks her in the
    // console, confirming it
    let session = app.activate(&app.link_token(olena).await).await;
    assert_eq!(session.status, 200, "{}", session.body);
    let seen = console(&app, "ua_block", &owner.email, json!({"invitee": olena})).await;

    // Then her detail offered blocking and deleting, the confirmation named her, her row showed
    // her blocked and the detail then offered unblocking; at 375 px nothing overflowed and the
    // focus came back to the list when the detail closed
    assert_eq!(seen["actions"], json!(["block", "delete"]), "{seen}");
    assert_eq!(seen["asked"], "Заблокувати: Олена Коваль?", "{seen}");
    assert!(seen["listed"].as_str().is_some_and(|r| r.contains("Заблокований")), "{seen}");
    assert_eq!(seen["said"], "Заблоковано: Олена Коваль.", "{seen}");
    assert_eq!(seen["actions_after"], json!(["unblock", "delete"]), "{seen}");
    assert_eq!(
        (&seen["narrow_overflow"], &seen["narrow_focus_back"]),
        (&json!(false), &json!(true)),
        "{seen}"
    );
    clean(&seen);

    // And the server holds her blocked: her own session is refused
    assert_eq!(app.member_named(&owner, olena).await["status"], "blocked");
    let own = app.get_as(&session.str("access_token"), &owner.account_path()).await;
    assert_eq!(own.status, 403, "{}", own.body);
}

async fn an_amazon_seller_owner_grants_permissions_one_by_one_in_the_grid(app: TestApp) {
    // Given an amazon-seller owner with two-step verification (the preset requires it), and the
    // code their app shows next (the one after it: a code is accepted a step either side of
    // now, so the later one stays good for the run's sign-in)
    let owner = app.owner("amazon-seller", "owner@console-amazon.example").await;
    app.code_of(&owner.email).await;
    let code = app.code_of(&owner.email).await;
    let sam = "sam@console-amazon.example";

    // When the owner signs in with the code, invites Sam with orders (write) and reports (read)
    // ticked in the grid, then in Sam's detail takes reports away and gives pricing (write) and
    // payments (read)
    let seen = console(&app, "amazon", &owner.email, json!({"invitee": sam, "code": code})).await;

    // Then the invite offered no roles (the preset has none), the detail's grid showed what
    // was granted, and the list shows the new grant
    assert_eq!(seen["roles_offered"], false, "{seen}");
    let invited = seen["invited"].as_str().unwrap_or_default();
    assert!(invited.contains("Orders and shipping confirmations: read and write, Reports: read"), "{seen}");
    assert_eq!(seen["grid_before"], json!(["orders:write", "reports:read"]), "{seen}");
    let changed = seen["changed"].as_str().unwrap_or_default();
    assert!(changed.contains("Pricing: read and write") && !changed.contains("Reports"), "{seen}");
    assert_eq!(seen["said"], format!("The roles and permissions of {sam} were saved."), "{seen}");
    clean(&seen);

    // And the server holds exactly that grant, with no role
    let member = app.member_named(&owner, sam).await;
    assert_eq!(sorted(&member["permissions"]), ["orders:write", "payments:read", "pricing:write"]);
    assert_eq!(member["roles"], json!([]), "{member}");
}

async fn a_joom_owner_invites_with_two_roles_and_changes_roles_with_the_keyboard_alone(app: TestApp) {
    // Given a joom owner and Pavlo, an operations member
    let owner = app.owner("joom", "owner@console-joom.example").await;
    let pavlo = "pavlo@console-joom.example";
    app.member(&owner, pavlo, &["operations"], &[]).await;
    let iryna = "iryna@console-joom.example";

    // When the owner invites Iryna with two roles and a note by clicking (twice, in a hurry),
    // filters the list by the finance role, then with the keyboard alone opens Pavlo's detail,
    // turns operations off and finance on, and saves; then sends Iryna's invitation again, and
    // revokes it
    let seen = console(&app, "joom", &owner.email, json!({"invitee": iryna, "member": pavlo})).await;

    // Then every role was offered with its title, Iryna was listed with both, the filter found
    // her alone, and the keyboard reached each control, the change showed in Pavlo's row and
    // the focus came back to it
    assert_eq!(seen["roles_shown"], json!(["Admin", "Operations", "Finance"]), "{seen}");
    let invited = seen["invited"].as_str().unwrap_or_default();
    assert!(invited.contains("Operations, Finance") && invited.contains("Not activated"), "{seen}");
    assert!(seen["filtered"].as_str().is_some_and(|r| r.contains(iryna)), "{seen}");
    let keyboard = &seen["keyboard"];
    for reached in ["reached_name", "reached_operations", "reached_finance", "reached_save", "focus_back"] {
        assert_eq!(keyboard[reached], true, "{reached}: {seen}");
    }
    assert_eq!(keyboard["focus_in_dialog"], "member", "{seen}");
    let changed = keyboard["changed"].as_str().unwrap_or_default();
    assert!(changed.contains("Finance") && !changed.contains("Operations"), "{seen}");
    assert_eq!(keyboard["said"], format!("The roles and permissions of {pavlo} were saved."), "{seen}");

    // And Iryna's detail offered resending and revoking her invitation; each was done and said
    assert_eq!(seen["pending_actions"], json!(["resend", "revoke"]), "{seen}");
    assert_eq!(seen["resent"], format!("A new invitation was sent to {iryna}."), "{seen}");
    assert_eq!(seen["asked"], format!("Revoke the invitation to {iryna}?"), "{seen}");
    assert_eq!(seen["revoked"], format!("The invitation to {iryna} was revoked."), "{seen}");
    assert_eq!(seen["still_listed"], false, "{seen}");
    clean(&seen);

    // And the server holds Pavlo as finance, and Iryna's invitation, with both roles and the
    // note, sent twice and revoked: she is no member any more
    assert_eq!(app.member_named(&owner, pavlo).await["roles"], json!(["finance"]));
    let path = format!("{}/invitations?email={iryna}", owner.account_path());
    let invitations = app.get_as(&owner.token, &path).await.body["items"].clone();
    assert_eq!(invitations.as_array().map(Vec::len), Some(1), "one invitation for two clicks: {invitations}");
    let invitation = &invitations[0];
    assert_eq!(sorted(&invitation["roles"]), ["finance", "operations"], "{invitation}");
    assert_eq!(invitation["message"], "Welcome to the team!", "{invitation}");
    assert_eq!(
        (&invitation["send_count"], &invitation["status"]),
        (&json!(2), &json!("revoked")),
        "{invitation}"
    );
    assert!(app.members(&owner).await.iter().all(|m| m["email"] != iryna));
}

tests::scenarios!(
    an_owner_signs_in_to_the_console_finds_a_member_and_signs_out,
    a_ua_marketplace_owner_invites_an_employee_by_cyrillic_name_and_mobile_then_blocks_them,
    an_amazon_seller_owner_grants_permissions_one_by_one_in_the_grid,
    a_joom_owner_invites_with_two_roles_and_changes_roles_with_the_keyboard_alone,
);
