//! The console's invitation history, audit log, settings, ownership transfer and profile, used
//! by clicking in Debian's Chromium (tests/browser/console-*.mjs): each scenario asserts what the
//! page showed and what the server then holds. Screenshots at 1280 and 375 px are kept in
//! target/browser-artifacts/console-admin-<scenario>-<port>/.

use serde_json::{Value, json};
use tests::app::{PASSWORD, TestApp};
use tests::browser::{artifacts, browse};

/// A password every preset takes, other than `PASSWORD`.
const NEW_PASSWORD: &str = "Another-Staple-Lantern-93";

/// The folder of `scenario`'s screenshots, one per app (the two backends run side by side).
fn artifacts_of(app: &TestApp, scenario: &str) -> String {
    let port = app.base.rsplit(':').next().unwrap_or_default();
    artifacts(&format!("console-admin-{scenario}-{port}"))
}

/// The lines of `seen[key]`, a list of table rows.
fn rows(seen: &Value, key: &str) -> Vec<String> {
    seen[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {seen}"))
        .iter()
        .map(|r| r.as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Whatever the scenario did, no page had a script error, an accessibility violation or a
/// sideways scroll.
fn assert_clean(seen: &Value) {
    assert_eq!(seen["errors"], json!([]), "{seen}");
    assert_eq!(seen["violations"], json!([]), "{seen}");
    assert_eq!(seen["overflow"], json!([]), "{seen}");
}

async fn an_owner_changes_their_password_and_the_invitation_lifetime_in_the_console(app: TestApp) {
    // Given the owner of a standard account
    let owner = app.owner("standard", "owner@console-profile.example").await;

    // When, in the console, they give their first name, change their password after mistyping
    // the current one, turn two-step verification on with their app and off with a recovery
    // code, and set an invitation lifetime of 100 hours, then 12; then sign in on a phone and
    // sign out everywhere else
    let seen = browse(
        "console-profile.mjs",
        &[&app.base, &artifacts_of(&app, "profile"), &owner.email, PASSWORD, NEW_PASSWORD],
    )
    .await;

    // Then the name was saved; the mistyped password was named next to its field, which took the
    // focus; the change was confirmed; two-step verification went on (ten recovery codes shown
    // once) and off; the lifetime past the preset's was refused next to its field and 12 saved,
    // as a later sign-in on a phone shows, which then ended every other session
    assert_eq!(seen["email"], owner.email, "{seen}");
    assert_eq!(seen["mfa"], "Off: signing in asks for your password alone.", "{seen}");
    assert_eq!(seen["profile_saved"], "Your profile is saved.", "{seen}");
    assert_eq!(seen["wrong_current"], "That is not your current password.", "{seen}");
    assert_eq!(seen["focused_after_wrong"], "password-current", "{seen}");
    assert!(seen["changed"].as_str().is_some_and(|s| s.contains("every other session has ended")), "{seen}");
    assert_eq!(seen["recovery_codes"], 10, "{seen}");
    assert!(
        seen["mfa_on"].as_str().is_some_and(|s| s.starts_with("On:") && s.ends_with("left: 10.")),
        "{seen}"
    );
    assert_eq!(seen["mfa_turned_off"], "Two-step verification is off.", "{seen}");
    assert_eq!(seen["mfa_after"], "Off: signing in asks for your password alone.", "{seen}");
    assert_eq!(
        seen["ttl_refused"],
        "Use 1 hour up to the marketplace's own lifetime: links may live shorter, not longer.",
        "{seen}"
    );
    assert!(seen["saved"].as_str().is_some_and(|s| s.contains("The settings are saved.")), "{seen}");
    assert_eq!((&seen["ttl_after"], &seen["ttl_narrow"]), (&json!("12"), &json!("12")), "{seen}");
    assert_eq!(seen["others_ended"], "You are signed out everywhere else.", "{seen}");
    assert!(seen["sessions_left"].as_array().is_some_and(|s| s.iter().all(|this| this == true)), "{seen}");
    assert_clean(&seen);

    // And the server holds the name, the new password alone and the 12 hours
    assert_eq!(app.sign_in(&owner.email, PASSWORD).await.status, 401);
    let session = app.sign_in(&owner.email, NEW_PASSWORD).await;
    assert_eq!(session.status, 200, "{}", session.body);
    let token = session.str("access_token");
    assert_eq!(app.get_as(&token, "/v1/me").await.body["first_name"], "Olena");
    let account = app.get_as(&token, &owner.account_path()).await;
    assert_eq!(account.body["settings"]["invitation_ttl_hours"], 12, "{}", account.body);
}

async fn an_ozon_owner_invites_filters_the_history_revokes_and_hands_the_account_over(app: TestApp) {
    // Given an Ozon owner with an active product manager and a waiting administrator's invitation
    let owner = app.owner("ozon", "owner@console-ozon.example").await;
    let successor = "bohdan@console-ozon.example";
    app.member(&owner, successor, &["product_manager"], &[]).await;
    let pavlo = app.invite(&owner, "pavlo@console-ozon.example", &["administrator"]).await;
    let resend = format!("{}/invitations/{}/resend", owner.account_path(), pavlo["id"].as_str().expect("id"));
    // Pavlo's link sent as often as Ozon allows in an hour
    while app.post_as(&owner.token, &resend, json!({})).await.status == 200 {}
    let invitee = "anna@console-ozon.example";

    // When, in the console, the owner invites Anna as a product manager by clicking, filters the
    // history by status, role and email, sends Pavlo's again, revokes Anna's invitation, reads and downloads the audit
    // log, and transfers the account to Bohdan (a mistyped password first)
    let seen = browse(
        "console-ozon.mjs",
        &[&app.base, &artifacts_of(&app, "ozon"), &owner.email, PASSWORD, invitee, successor],
    )
    .await;

    // Then the history held all four invitations (the owner's own among them), each filter
    // found those it names, the limit's wait was shown at the top and on the button, and the
    // revocation was confirmed and shown
    let history = rows(&seen, "history");
    assert_eq!(history.len(), 4, "{seen}");
    assert!(history[0].contains(invitee) && history[0].contains("Waiting"), "{seen}");
    let own = history.iter().find(|r| r.starts_with(&owner.email)).expect("the owner's own invitation");
    assert!(own.contains("Manager") && own.contains("The marketplace"), "{seen}");
    let waiting = rows(&seen, "waiting");
    assert!(waiting.len() == 2 && waiting.iter().all(|r| r.contains("Waiting")), "{seen}");
    let managers = rows(&seen, "product_managers");
    assert!(managers.len() == 2 && managers.iter().all(|r| r.contains("Product manager")), "{seen}");
    let searched = rows(&seen, "searched");
    assert!(searched.len() == 1 && searched[0].contains(invitee) && searched[0].contains("Revoke"), "{seen}");
    assert!(seen["limited_row"].as_str().is_some_and(|r| r.contains("sent 5 times")), "{seen}");
    let limited = seen["limited"].as_str().unwrap_or_default();
    assert!(limited.starts_with("Too many attempts: try again in "), "{seen}");
    assert!(seen["limited_button"].as_str().is_some_and(|b| b.starts_with("Wait ")), "{seen}");
    assert_eq!(seen["confirm"], format!("Revoke the invitation to {invitee}?"), "{seen}");
    let after = rows(&seen, "after_revoke");
    assert!(after.len() == 1 && after[0].contains("Revoked") && after[0].ends_with("Resend"), "{seen}");

    // And the audit log named the revocation in words, filtered to it, and downloaded it as CSV
    assert!(rows(&seen, "audit")[0].contains("Invitation revoked"), "{seen}");
    assert_eq!(rows(&seen, "audit_revocations").len(), 1, "{seen}");
    assert_eq!(seen["export_name"], "audit-events.csv", "{seen}");
    let exported = rows(&seen, "exported");
    assert!(exported.len() == 2 && exported[1].contains("invitation.revoked"), "{seen}");

    // And the transfer refused the mistyped password next to it, then handed the account over:
    // the former owner, an administrator now, still manages the settings but transfers nothing
    assert_eq!(seen["transfer_wrong"], "That is not your password.", "{seen}");
    assert_eq!(seen["transfer_confirm"], format!("Make {successor} the owner?"), "{seen}");
    assert!(seen["transferred"].as_str().is_some_and(|s| s.contains(successor)), "{seen}");
    assert_eq!(seen["transfer_offered_after"], false, "{seen}");
    assert_eq!(seen["settings_writable_after"], true, "{seen}");
    let narrow = rows(&seen, "narrow_history");
    assert!(narrow.len() == 4 && narrow[1].contains("owner@console-ozon.example"), "{seen}");
    assert_clean(&seen);

    // And the server holds it: Bohdan owns the account, the former owner holds Ozon's
    // former-owner role, Anna's invitation is revoked and Pavlo's still waits
    let session = app.signed_in(successor, PASSWORD).await;
    let token = session.str("access_token");
    let account = app.get_as(&token, &owner.account_path()).await;
    assert_eq!(account.body["owner_id"], app.user_id(&token).await, "{}", account.body);
    let members = app.members_as(&token, &owner.account_id).await;
    let former = members.iter().find(|m| m["email"] == owner.email.as_str()).expect("the former owner");
    assert_eq!(
        (&former["is_owner"], &former["roles"]),
        (&json!(false), &json!(["administrator"])),
        "{former}"
    );
    let invitations = app.get_as(&token, &format!("{}/invitations?status=sent", owner.account_path())).await;
    let waiting: Vec<&Value> =
        invitations.body["items"].as_array().expect("items").iter().map(|i| &i["email"]).collect();
    assert_eq!(waiting, [&json!("pavlo@console-ozon.example")], "{}", invitations.body);
}

async fn an_associates_owner_resends_an_expired_invitation_from_the_history(app: TestApp) {
    // Given an Amazon Associates owner, a member who reads reports only, and an invitation two
    // days old (past the preset's 48 hours)
    let owner = app.owner("amazon-associates", "owner@console-associates.example").await;
    let reader = "reader@console-associates.example";
    app.member(&owner, reader, &["reports"], &[]).await;
    let late = "late@console-associates.example";
    app.invite(&owner, late, &["basic"]).await;
    app.advance_clock(49 * 3600).await;

    // When, in the console, the owner switches to English, lists the expired invitations and
    // sends Late's again by clicking; then the reader opens the audit log, the history and the settings
    let seen = browse(
        "console-associates.mjs",
        &[&app.base, &artifacts_of(&app, "associates"), &owner.email, PASSWORD, late, reader],
    )
    .await;

    // Then the history opened in the account's language, Polish; in English, the invitation
    // showed as expired, offered to be sent again and not revoked; once sent,
    // the history showed a waiting one for the address
    assert_eq!(seen["heading_in_account_language"], "Zaproszenia", "{seen}");
    let expired = rows(&seen, "expired");
    assert!(expired.len() == 1 && expired[0].contains(late) && expired[0].contains("Expired"), "{seen}");
    assert!(expired[0].contains("Resend") && !expired[0].contains("Revoke"), "{seen}");
    assert!(seen["resent"].as_str().is_some_and(|s| s.contains(late)), "{seen}");
    assert!(rows(&seen, "after").iter().any(|r| r.contains("Waiting")), "{seen}");

    // And the reader was told the log and the history are not theirs to see, and read the
    // settings without a way to change them
    assert_eq!(
        (&seen["audit_denied"], &seen["invitations_denied"], &seen["settings_read_only"]),
        (&json!(true), &json!(true), &json!(true)),
        "{seen}"
    );
    assert_clean(&seen);

    // And a new link was mailed, and the server holds a waiting invitation for the address
    assert_eq!(app.mail_to(late).await.len(), 2);
    let owner = app.signed_in_again(owner).await;
    let found = app
        .get_as(&owner.token, &format!("{}/invitations?status=sent&email={late}", owner.account_path()))
        .await;
    assert_eq!(found.body["items"].as_array().map(Vec::len), Some(1), "{}", found.body);
}

tests::scenarios!(
    an_owner_changes_their_password_and_the_invitation_lifetime_in_the_console,
    an_ozon_owner_invites_filters_the_history_revokes_and_hands_the_account_over,
    an_associates_owner_resends_an_expired_invitation_from_the_history,
);
