//! An account's own roles (README, "Roles of your own"): made of the preset's catalog by someone
//! with `users:write` holding what they give, granted like the marketplace's roles, followed at
//! once by their holders when changed, and deleted only once nobody holds them.

use futures::future::join;
use serde_json::{Value, json};
use tests::app::{Owner, Reply, TestApp};

fn roles_path(owner: &Owner) -> String {
    format!("{}/roles", owner.account_path())
}

async fn create(app: &TestApp, token: &str, owner: &Owner, body: Value) -> Reply {
    app.post_as(token, &roles_path(owner), body).await
}

async fn packer(app: &TestApp, owner: &Owner) {
    let body = json!({"name": "packer", "title": "Packer", "permissions": ["orders:write"]});
    let created = create(app, &owner.token, owner, body).await;
    assert_eq!(created.status, 201, "{}", created.body);
}

async fn allowed(app: &TestApp, token: &str, owner: &Owner, permission: &str) -> bool {
    let body = json!({"account_id": owner.account_id, "permissions": [permission]});
    let answer = app.post_as(token, "/v1/authorize", body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["allowed"] == true
}

async fn delete(app: &TestApp, owner: &Owner, name: &str, replacement: Option<&str>) -> Reply {
    let query = replacement.map_or_else(String::new, |r| format!("?replacement={r}"));
    app.delete_as(&owner.token, &format!("{}/{name}{query}", roles_path(owner))).await
}

async fn an_owners_role_is_granted_like_the_marketplaces_and_its_holders_follow_each_change(app: TestApp) {
    // Given an owner who made a role "packer" of orders:write and a member holding it
    let owner = app.owner("standard", "owner@packers.example").await;
    packer(&app, &owner).await;
    let member = app.member(&owner, "anna@packers.example", &["packer"], &[]).await;
    assert!(allowed(&app, &member, &owner, "orders:write").await);

    // When the owner renames it and gives it products:read instead
    let path = format!("{}/packer", roles_path(&owner));
    let body = json!({"title": "Shelf keeper", "description": "Keeps the shelves", "permissions": ["products:read"]});
    let changed = app.put_as(&owner.token, &path, body).await;

    // Then the member holds the new permissions from their very next request, under the old name
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!((&changed.body["name"], &changed.body["title"]), (&json!("packer"), &json!("Shelf keeper")));
    assert!(!allowed(&app, &member, &owner, "orders:write").await);
    assert!(allowed(&app, &member, &owner, "products:read").await);
    let me = app.get_as(&member, "/v1/me").await;
    assert_eq!(me.body["memberships"][0]["effective_permissions"], json!(["products:read"]), "{}", me.body);
    let listed = app.get_as(&owner.token, &roles_path(&owner)).await;
    let own: Vec<&Value> =
        listed.body["items"].as_array().unwrap().iter().filter(|r| r["custom"] == true).collect();
    assert_eq!(own.len(), 1, "{}", listed.body);
    assert_eq!((&own[0]["title"], &own[0]["assignable_by_me"]), (&json!("Shelf keeper"), &json!(true)));
    assert_eq!(listed.body["custom_roles_allowed"], true);
    // And the audit log tells who made and changed it
    let log =
        app.get_as(&owner.token, &format!("{}/audit-events?target_id=packer", owner.account_path())).await;
    let actions: Vec<&Value> = log.body["items"].as_array().unwrap().iter().map(|e| &e["action"]).collect();
    assert_eq!(actions, [&json!("role.changed"), &json!("role.created")], "{}", log.body);
}

async fn a_role_held_is_deleted_only_with_a_replacement_its_holders_move_to(app: TestApp) {
    // Given a role held by a member and by a pending invitation
    let owner = app.owner("standard", "owner@retire.example").await;
    packer(&app, &owner).await;
    let member = app.member(&owner, "anna@retire.example", &["packer"], &[]).await;
    app.invite(&owner, "bohdan@retire.example", &["packer", "viewer"]).await;

    // When the owner deletes it without a replacement, then it is refused naming its holders
    let refused = delete(&app, &owner, "packer", None).await;
    assert_eq!((refused.status, refused.code()), (409, "role_in_use"), "{}", refused.body);
    assert!(refused.body["detail"].as_str().unwrap().starts_with("2 member"), "{}", refused.body);

    // When the owner deletes it with "viewer" as the replacement
    let deleted = delete(&app, &owner, "packer", Some("viewer")).await;

    // Then both hold "viewer" (once), the role is gone, and granting it is refused
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    for email in ["anna@retire.example", "bohdan@retire.example"] {
        assert_eq!(app.member_named(&owner, email).await["roles"], json!(["viewer"]), "{email}");
    }
    assert!(!allowed(&app, &member, &owner, "orders:write").await);
    let invited = app
        .post_as(
            &owner.token,
            &format!("{}/invitations", owner.account_path()),
            json!({"email": "chen@retire.example", "roles": ["packer"]}),
        )
        .await;
    assert_eq!((invited.status, invited.code()), (400, "validation_failed"), "{}", invited.body);
    assert_eq!(invited.body["errors"][0]["code"], "unknown_role");
    // And the pending invitee's link shows, and lets them join with, the replacement
    let link = app.link_token("bohdan@retire.example").await;
    let inspected = app.post("/v1/invitations/inspect", json!({"token": link})).await;
    assert_eq!(inspected.body["roles"], json!(["viewer"]), "{}", inspected.body);
    let session = app.activate(&link).await;
    assert_eq!(session.status, 200, "{}", session.body);
    assert_eq!(app.member_named(&owner, "bohdan@retire.example").await["status"], "active");
    let log =
        app.get_as(&owner.token, &format!("{}/audit-events?action=role.deleted", owner.account_path())).await;
    assert_eq!(log.body["items"][0]["details"]["members_moved"], 2, "{}", log.body);
}

async fn a_manager_makes_and_changes_only_roles_within_what_they_hold(app: TestApp) {
    // Given a manager who may manage users and read orders, and the owner's role of finance:write
    let owner = app.owner("standard", "owner@ceiling.example").await;
    let manager = app.member(&owner, "manager@ceiling.example", &[], &["users:write", "orders:read"]).await;
    let body = json!({"name": "cashier", "title": "Cashier", "permissions": ["finance:write"]});
    assert_eq!(create(&app, &owner.token, &owner, body).await.status, 201);

    // When the manager makes a role of finance:read, changes the owner's, or deletes it
    let beyond = json!({"name": "auditor", "title": "Auditor", "permissions": ["finance:read"]});
    let made = create(&app, &manager, &owner, beyond).await;
    let cashier = format!("{}/cashier", roles_path(&owner));
    let lowered =
        app.put_as(&manager, &cashier, json!({"title": "Cashier", "permissions": ["orders:read"]})).await;
    let deleted = app.delete_as(&manager, &cashier).await;

    // Then each is refused as an escalation, and a role within their rights is theirs to make
    for refused in [&made, &lowered, &deleted] {
        assert_eq!((refused.status, refused.code()), (403, "role_escalation"), "{}", refused.body);
    }
    let within = json!({"name": "reader", "title": "Reader", "permissions": ["orders:read"]});
    assert_eq!(create(&app, &manager, &owner, within).await.status, 201);
    let listed = app.get_as(&manager, &roles_path(&owner)).await;
    let cashier = listed.body["items"].as_array().unwrap().iter().find(|r| r["name"] == "cashier").cloned();
    assert_eq!(cashier.unwrap()["assignable_by_me"], false);
}

async fn a_role_is_changed_or_deleted_only_by_someone_who_may_act_on_each_of_its_holders(app: TestApp) {
    // Given a role "lead" held by Bob, who also holds finance:write, and by Anna, and a manager
    // holding everything "lead" gives but not finance
    let owner = app.owner("standard", "owner@holders.example").await;
    let lead = json!({"name": "lead", "title": "Lead", "permissions": ["orders:write"]});
    assert_eq!(create(&app, &owner.token, &owner, lead).await.status, 201);
    let reader = json!({"name": "reader", "title": "Reader", "permissions": ["orders:read"]});
    assert_eq!(create(&app, &owner.token, &owner, reader).await.status, 201);
    app.member(&owner, "anna@holders.example", &["lead"], &[]).await;
    let bob = app.member(&owner, "bob@holders.example", &["lead"], &["finance:write"]).await;
    let manager = app.member(&owner, "manager@holders.example", &[], &["users:write", "orders:write"]).await;

    // When the manager narrows "lead", or deletes it moving its holders to "reader"
    let path = format!("{}/lead", roles_path(&owner));
    let narrowed =
        app.put_as(&manager, &path, json!({"title": "Lead", "permissions": ["orders:read"]})).await;
    let deleted = app.delete_as(&manager, &format!("{path}?replacement=reader")).await;

    // Then both are refused, as blocking Bob would be, and nobody was changed or moved
    for refused in [&narrowed, &deleted] {
        assert_eq!((refused.status, refused.code()), (403, "role_escalation"), "{}", refused.body);
    }
    assert!(allowed(&app, &bob, &owner, "orders:write").await);
    for email in ["anna@holders.example", "bob@holders.example"] {
        assert_eq!(app.member_named(&owner, email).await["roles"], json!(["lead"]), "{email}");
    }
}

async fn bad_roles_are_refused_field_by_field_and_the_marketplaces_roles_are_fixed(app: TestApp) {
    // Given an owner
    let owner = app.owner("standard", "owner@bad-roles.example").await;

    // When they send a role with every field wrong, then one answer names each field
    let body = json!({"name": "Bad Name", "title": " ", "description": "x".repeat(301), "permissions": ["moon:write"]});
    let bad = create(&app, &owner.token, &owner, body).await;
    assert_eq!((bad.status, bad.code()), (400, "validation_failed"), "{}", bad.body);
    let fields: Vec<&Value> = bad.body["errors"].as_array().unwrap().iter().map(|e| &e["field"]).collect();
    assert_eq!(fields, [&json!("name"), &json!("title"), &json!("description"), &json!("permissions")]);

    // And a marketplace's role's name is taken, and the marketplace's roles cannot be changed
    let taken = create(
        &app,
        &owner.token,
        &owner,
        json!({"name": "viewer", "title": "V", "permissions": ["orders:read"]}),
    )
    .await;
    assert_eq!((taken.status, taken.code()), (409, "role_name_taken"), "{}", taken.body);
    let fixed = app.delete_as(&owner.token, &format!("{}/viewer", roles_path(&owner))).await;
    assert_eq!((fixed.status, fixed.code()), (403, "forbidden"), "{}", fixed.body);
    packer(&app, &owner).await;
    let nowhere = delete(&app, &owner, "packer", Some("nobody")).await;
    assert_eq!(nowhere.body["errors"][0]["code"], "unknown_role", "{}", nowhere.body);
    let missing = app.delete_as(&owner.token, &format!("{}/nobody", roles_path(&owner))).await;
    assert_eq!((missing.status, missing.code()), (404, "not_found"), "{}", missing.body);
    let roles = app.get_as(&owner.token, &roles_path(&owner)).await;
    let own: Vec<&Value> =
        roles.body["items"].as_array().unwrap().iter().filter(|r| r["custom"] == true).collect();
    assert_eq!(own.len(), 1, "only the packer: {}", roles.body);
}

async fn amazon_seller_grants_permissions_one_by_one_and_names_no_roles(app: TestApp) {
    // Given an Amazon Seller account
    let owner = app.owner("amazon-seller", "owner@granular.example").await;

    // When its owner names a role, then the preset refuses it
    let body = json!({"name": "packer", "title": "Packer", "permissions": ["orders:write"]});
    let refused = create(&app, &owner.token, &owner, body).await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"), "{}", refused.body);
    let roles = app.get_as(&owner.token, &roles_path(&owner)).await;
    assert_eq!(roles.body["custom_roles_allowed"], false);
}

async fn a_role_deleted_while_it_is_granted_leaves_nobody_holding_a_role_that_is_gone(app: TestApp) {
    // Given a role nobody holds yet
    let owner = app.owner("standard", "owner@race-roles.example").await;
    for round in 0..4 {
        packer(&app, &owner).await;

        // When it is granted in an invitation and deleted at the same moment
        let email = format!("racer{round}@race-roles.example");
        let invitations = format!("{}/invitations", owner.account_path());
        let invite = app.post_as(&owner.token, &invitations, json!({"email": email, "roles": ["packer"]}));
        let (invited, deleted) = join(invite, delete(&app, &owner, "packer", None)).await;

        // Then exactly one of them won: the invitation and a refused deletion, or the deletion
        // and a refused invitation; never an invitee holding a role that is gone
        match (invited.status, deleted.status) {
            (201, 409) => {
                assert_eq!(deleted.code(), "role_in_use");
                let moved = delete(&app, &owner, "packer", Some("viewer")).await;
                assert_eq!(moved.status, 204, "{}", moved.body);
            }
            (400 | 409, 204) => assert!(app.mail_to(&email).await.is_empty(), "{}", invited.body),
            other => panic!("{other:?}: {} / {}", invited.body, deleted.body),
        }
        let roles = app.get_as(&owner.token, &roles_path(&owner)).await;
        let known: Vec<&Value> = roles.body["items"].as_array().unwrap().iter().map(|r| &r["name"]).collect();
        for member in app.members(&owner).await {
            for role in member["roles"].as_array().unwrap() {
                assert!(known.contains(&role), "{member} holds a role that is gone");
            }
        }
    }
}

tests::scenarios!(
    an_owners_role_is_granted_like_the_marketplaces_and_its_holders_follow_each_change,
    a_role_held_is_deleted_only_with_a_replacement_its_holders_move_to,
    a_manager_makes_and_changes_only_roles_within_what_they_hold,
    a_role_is_changed_or_deleted_only_by_someone_who_may_act_on_each_of_its_holders,
    bad_roles_are_refused_field_by_field_and_the_marketplaces_roles_are_fixed,
    amazon_seller_grants_permissions_one_by_one_and_names_no_roles,
    a_role_deleted_while_it_is_granted_leaves_nobody_holding_a_role_that_is_gone,
);
