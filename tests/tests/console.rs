//! The console in Chromium, beside console_team.rs and console_admin.rs: the Roles screen
//! (tests/browser/console-roles.mjs), and a session kept across its access token's expiry
//! (tests/browser/console-session.mjs).

use serde_json::{Value, json};
use tests::app::{PASSWORD, TestApp};
use tests::browser::{artifacts, browse};

async fn an_owner_names_a_role_in_the_grid_and_deletes_a_held_one_moving_its_holder(app: TestApp) {
    // Given an Ozon account with a role of its own, packer, held by Anna (invited, not yet in)
    let owner = app.owner("ozon", "owner@console-roles.example").await;
    let roles = format!("{}/roles", owner.account_path());
    let packer = json!({"name": "packer", "title": "Packer", "permissions": ["warehouse:write"]});
    assert_eq!(app.post_as(&owner.token, &roles, packer).await.status, 201);
    let invitations = format!("{}/invitations", owner.account_path());
    let anna = json!({"email": "anna@console-roles.example", "roles": ["packer"]});
    assert_eq!(app.post_as(&owner.token, &invitations, anna).await.status, 201);

    // When the owner, in the console, names a courier role by ticking the grid, then deletes
    // packer and moves its holder to warehouse_manager
    let port = app.base.rsplit(':').next().unwrap_or_default();
    let artifacts = artifacts(&format!("console-roles-{port}"));
    let seen = browse("console-roles.mjs", &[&app.base, &owner.email, PASSWORD, &artifacts]).await;

    // Then the screen listed the new role with what it gives, asked where packer's holder goes
    // (saying how many hold it), and listed packer no more; no script error, no accessibility
    // violation
    assert_eq!((&seen["errors"], &seen["violations"]), (&json!([]), &json!([])), "{seen}");
    assert!(seen["after_create"].as_array().unwrap().contains(&json!("Courier")), "{seen}");
    let courier = seen["courier"].as_str().unwrap_or_default();
    assert!(
        courier.contains("Warehouse: read and write") && courier.contains("Messages from Ozon: read"),
        "{seen}"
    );
    assert!(seen["move_text"].as_str().is_some_and(|t| t.starts_with("People holding it: 1.")), "{seen}");
    assert!(!seen["after_delete"].as_array().unwrap().contains(&json!("Packer")), "{seen}");

    // And the server holds the same: courier gives what was ticked, and Anna's invitation now
    // gives warehouse_manager
    let listed = app.get_as(&owner.token, &roles).await.body;
    let courier = listed["items"].as_array().unwrap().iter().find(|r| r["name"] == "courier").cloned();
    let mut given: Vec<&str> = courier
        .as_ref()
        .map_or(vec![], |r| r["permissions"].as_array().unwrap().iter().filter_map(Value::as_str).collect());
    given.sort_unstable();
    assert_eq!(given, ["messages:read", "warehouse:write"], "{listed}");
    let anna = app.member_named(&owner, "anna@console-roles.example").await;
    assert_eq!(anna["roles"], json!(["warehouse_manager"]), "{anna}");
}

async fn a_console_left_open_past_its_access_tokens_life_refreshes_once_and_stays_signed_in(app: TestApp) {
    // Given an owner signed in to the console
    let owner = app.owner("standard", "owner@console-session.example").await;

    // When the console is left open past the access token's 15 minutes, then reads the
    // members twice at once (the filters and the language switch), then reloads
    let port = app.base.rsplit(':').next().unwrap_or_default();
    let artifacts = artifacts(&format!("console-session-{port}"));
    let seen = browse("console-session.mjs", &[&app.base, &owner.email, PASSWORD, &artifacts]).await;

    // Then both reads were answered after one refresh (a refresh token is good once: a second
    // use would have ended the session), and the reload found the session still there
    assert_eq!(seen["errors"], json!([]), "{seen}");
    assert_eq!(seen["refreshes"], 1, "{seen}");
    assert_eq!(
        (&seen["listed_after_expiry"], &seen["listed_after_reload"]),
        (&json!(true), &json!(true)),
        "{seen}"
    );
}

async fn a_person_in_two_accounts_switches_to_the_second_and_a_reload_keeps_it(app: TestApp) {
    // Given Pavlo, a member of two Ozon accounts, each with someone else in it
    let first = app.owner("ozon", "owner@switch-first.example").await;
    let second = app.owner("ozon", "owner@switch-second.example").await;
    let pavlo = "pavlo@console-switch.example";
    app.member(&first, pavlo, &["administrator"], &[]).await;
    app.member(&second, pavlo, &["administrator"], &[]).await;
    app.invite(&first, "alpha@console-switch.example", &["product_manager"]).await;
    app.invite(&second, "beta@console-switch.example", &["product_manager"]).await;

    // When he signs in to the console, opens the first account, switches to the second, and
    // reloads
    let port = app.base.rsplit(':').next().unwrap_or_default();
    let artifacts = artifacts(&format!("console-switch-{port}"));
    let args = [app.base.as_str(), pavlo, PASSWORD, &artifacts, &first.account_id, &second.account_id];
    let seen = browse("console-switch.mjs", &args).await;

    // Then each account listed its own people and none of the other's, and the reload stayed
    // on the second
    assert_eq!((&seen["errors"], &seen["violations"]), (&json!([]), &json!([])), "{seen}");
    let shows = |step: &str, who: &str| {
        seen[step].as_array().unwrap().iter().any(|r| r.as_str().unwrap().contains(who))
    };
    assert!(shows("first", "alpha@") && !shows("first", "beta@"), "{seen}");
    assert!(shows("second", "beta@") && !shows("second", "alpha@"), "{seen}");
    assert!(shows("after_reload", "beta@") && !shows("after_reload", "alpha@"), "{seen}");
    assert_eq!(seen["chosen_after_reload"], json!(second.account_id), "{seen}");
}

async fn a_sensitive_action_asks_for_a_code_in_the_console_and_goes_on_once_given(app: TestApp) {
    // Given an Amazon Seller owner with two-step verification, a member to delete, and the next
    // two codes their app shows (one to sign in, one when asked again)
    let owner = app.owner("amazon-seller", "owner@console-step-up.example").await;
    let sam = "sam@console-step-up.example";
    app.member(&owner, sam, &[], &["orders:read"]).await;
    let sign_in = app.code_of(&owner.email).await;
    let step_up = app.code_of(&owner.email).await;

    // When the owner signs in to the console with a code, reloads (a refreshed token carries no
    // step-up), deletes Sam, types a wrong code when asked, then the right one
    let port = app.base.rsplit(':').next().unwrap_or_default();
    let artifacts = artifacts(&format!("console-step-up-{port}"));
    let args = [app.base.as_str(), &owner.email, PASSWORD, &artifacts, &sign_in, &step_up, sam];
    let seen = browse("console-step-up.mjs", &args).await;

    // Then the console asked for the code, said the wrong one was wrong, and once given went on
    // with the deletion
    assert_eq!((&seen["errors"], &seen["violations"]), (&json!([]), &json!([])), "{seen}");
    assert_eq!(seen["asked"], "Confirm it is you", "{seen}");
    assert_eq!(seen["wrong"], "That code isn't right.", "{seen}");
    let members = app.get_as(&owner.token, &format!("{}/members", owner.account_path())).await.body;
    let emails: Vec<&str> =
        members["items"].as_array().unwrap().iter().filter_map(|m| m["email"].as_str()).collect();
    assert_eq!(emails, [owner.email.as_str()], "{members}");
}

async fn a_long_list_shows_its_first_page_and_the_rest_on_show_more(app: TestApp) {
    // Given an account with 24 people invited at once (25 with the owner)
    let owner = app.owner("standard", "owner@console-paging.example").await;
    let rows: Vec<Value> = (1..=24)
        .map(|n| json!({"email": format!("person{n}@console-paging.example"), "roles": ["viewer"]}))
        .collect();
    let bulk = format!("{}/invitations/bulk", owner.account_path());
    assert_eq!(app.post_as(&owner.token, &bulk, json!({ "invitations": rows })).await.status, 200);

    // When the owner opens the members, then the invitations, and asks each for more
    let port = app.base.rsplit(':').next().unwrap_or_default();
    let artifacts = artifacts(&format!("console-paging-{port}"));
    let seen = browse("console-paging.mjs", &[&app.base, &owner.email, PASSWORD, &artifacts]).await;

    // Then each showed twenty, then all 25, with nothing more to ask for
    assert_eq!(seen["errors"], json!([]), "{seen}");
    let whole = json!({"before": 20, "after": 25, "more_left": false});
    assert_eq!((&seen["members"], &seen["invitations"]), (&whole, &whole), "{seen}");
}

tests::scenarios!(
    a_long_list_shows_its_first_page_and_the_rest_on_show_more,
    a_sensitive_action_asks_for_a_code_in_the_console_and_goes_on_once_given,
    a_person_in_two_accounts_switches_to_the_second_and_a_reload_keeps_it,
    an_owner_names_a_role_in_the_grid_and_deletes_a_held_one_moving_its_holder,
    a_console_left_open_past_its_access_tokens_life_refreshes_once_and_stays_signed_in,
);
