//! One scenario per marketplace: each walks the steps its seller help page describes, step by
//! step over HTTP, including the page's refusals.

use serde_json::{Value, json};
use tests::app::{PASSWORD, Reply, TestApp};

fn effective(reply: &Reply) -> Vec<String> {
    let permissions = &reply.body["memberships"][0]["effective_permissions"];
    permissions.as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect()
}

async fn ozon_only_the_manager_transfers_rights_and_cannot_be_deleted_first(app: TestApp) {
    let owner = app.owner("ozon", "director@ozon.example").await;
    let account = owner.account_path();
    let admin = app.member(&owner, "admin@ozon.example", &["administrator"], &[]).await;
    let manager = app.member(&owner, "pm@ozon.example", &["product_manager"], &[]).await;
    let (owner_id, admin_id, manager_id) =
        (app.user_id(&owner.token).await, app.user_id(&admin).await, app.user_id(&manager).await);

    // An administrator manages employees: changes the product manager's role…
    let changed = app
        .put_as(
            &admin,
            &format!("{account}/members/{manager_id}/roles"),
            json!({"roles": ["promotion_manager"]}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(
        effective(&app.get_as(&manager, "/v1/me").await),
        ["analytics:read", "prices:read", "promotions:write"]
    );
    // …but cannot transfer the Manager's rights, delete the Manager, or change their own role
    let transfer = json!({"user_id": admin_id, "password": PASSWORD});
    let by_admin = app.post_as(&admin, &format!("{account}/ownership-transfer"), transfer.clone()).await;
    assert_eq!((by_admin.status, by_admin.code()), (403, "forbidden"));
    let delete_owner = app.delete_as(&admin, &format!("{account}/members/{owner_id}")).await;
    assert_eq!((delete_owner.status, delete_owner.code()), (409, "owner_protected"));
    let own_role = app
        .put_as(&admin, &format!("{account}/members/{admin_id}/roles"), json!({"roles": ["finance"]}))
        .await;
    assert_eq!(own_role.code(), "self_action_forbidden");
    let self_delete = app.delete_as(&owner.token, &format!("{account}/members/{owner_id}")).await;
    assert_eq!(self_delete.code(), "self_action_forbidden");

    // The Manager transfers the rights (with their password); the former Manager keeps administrator
    let wrong = json!({"user_id": admin_id, "password": "not the owner's password at all"});
    assert_eq!(
        app.post_as(&owner.token, &format!("{account}/ownership-transfer"), wrong).await.code(),
        "invalid_credentials"
    );
    let transferred = app.post_as(&owner.token, &format!("{account}/ownership-transfer"), transfer).await;
    assert_eq!((transferred.status, transferred.body["owner_id"].as_str()), (200, Some(admin_id.as_str())));
    let former = app.get_as(&admin, &format!("{account}/members/{owner_id}")).await;
    assert_eq!(
        (former.body["is_owner"].clone(), former.body["roles"].clone()),
        (json!(false), json!(["administrator"]))
    );
    assert!(!app.mail_to("admin@ozon.example").await[0]["subject"].as_str().unwrap().is_empty());
    assert_eq!(app.mail_to("director@ozon.example").await.len(), 2, "activation and the transfer notice");
    let again = app
        .post_as(
            &owner.token,
            &format!("{account}/ownership-transfer"),
            json!({"user_id": owner_id, "password": PASSWORD}),
        )
        .await;
    assert_eq!(again.code(), "forbidden", "the former Manager no longer transfers");

    // Deleting an employee frees the email
    assert_eq!(app.delete_as(&admin, &format!("{account}/members/{manager_id}")).await.status, 204);
    assert_eq!(
        app.get_as(&manager, "/v1/me").await.code(),
        "unauthenticated",
        "their last account: the login is gone"
    );
    let reinvite =
        add_user(&app, &admin, &account, json!({"email": "pm@ozon.example", "roles": ["product_manager"]}))
            .await;
    assert_eq!(reinvite.status, 201, "{}", reinvite.body);
}

async fn ozon_owner_access_is_restored_through_support_only(app: TestApp) {
    let owner = app.owner("ozon", "lost@ozon-recovery.example").await;
    let path = format!("/v1/operator/accounts/{}/owner-recovery", owner.account_id);

    let recovered = app.operator(&path, json!({"new_email": "found@ozon-recovery.example"})).await;
    assert_eq!(recovered.status, 202, "{}", recovered.body);
    let session = app.accept(&app.link_token("found@ozon-recovery.example").await, PASSWORD).await;

    assert_eq!(session.body["memberships"][0]["is_owner"], true);
    let me = app.get_as(&owner.token, "/v1/me").await;
    assert_eq!(
        (me.body["memberships"][0]["is_owner"].clone(), me.body["memberships"][0]["roles"].clone()),
        (json!(false), json!(["administrator"]))
    );
    let unknown = app
        .operator(
            "/v1/operator/accounts/01a2089e-ca09-73fa-abc5-f2f31231d2eb/owner-recovery",
            json!({"new_email": "x@y.example"}),
        )
        .await;
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
    let without_key = app.post(&path, json!({"new_email": "x@y.example"})).await;
    assert_eq!((without_key.status, without_key.code()), (401, "unauthenticated"));
}

/// Sends an invitation (the Ukrainian form: adds a user) into `account`.
async fn add_user(app: &TestApp, owner_token: &str, account: &str, body: Value) -> Reply {
    app.post_as(owner_token, &format!("{account}/invitations"), body).await
}

async fn ua_marketplace_superadmin_adds_active_users_who_set_a_password_by_link(app: TestApp) {
    let owner = app.owner("ua-marketplace", "vlasnyk@ua.example").await;
    let account = owner.account_path();

    // Every field is required, names are Cyrillic of two letters or more, phones Ukrainian mobile
    let empty =
        add_user(&app, &owner.token, &account, json!({"email": "olena@ua.example", "roles": ["superadmin"]}))
            .await;
    let mut fields: Vec<(String, String)> = empty.field_errors();
    fields.sort();
    assert_eq!(
        fields,
        [
            ("first_name".into(), "invalid_name".into()),
            ("last_name".into(), "invalid_name".into()),
            ("phone".into(), "invalid_phone".into())
        ]
    );
    let latin = add_user(&app, &owner.token, &account, json!({
        "email": "olena@ua.example", "roles": ["superadmin"], "first_name": "Olena", "last_name": "К", "phone": "0441234567"
    })).await;
    let mut fields = latin.field_errors();
    fields.sort();
    assert_eq!(
        fields,
        [
            ("first_name".into(), "invalid_name".into()),
            ("last_name".into(), "invalid_name".into()),
            ("phone".into(), "invalid_phone".into())
        ]
    );

    // A valid form creates an active user at once and mails a set-password link
    let olena = json!({"email": "olena@ua.example", "roles": ["superadmin"], "first_name": "Олена", "last_name": "Коваль", "phone": "067 123 45 67"});
    let added = add_user(&app, &owner.token, &account, olena).await;
    assert_eq!(added.status, 201, "{}", added.body);
    let listed = app.get_as(&owner.token, &format!("{account}/members?q=коваль")).await;
    assert_eq!(
        (listed.body["items"][0]["status"].clone(), listed.body["items"][0]["phone"].clone()),
        (json!("active"), json!("+380671234567"))
    );

    // Email and phone are unique
    let same_email = add_user(&app, &owner.token, &account, json!({"email": "OLENA@ua.example", "roles": ["administrator"], "first_name": "Петро", "last_name": "Сидоренко", "phone": "0501234567"})).await;
    assert_eq!((same_email.status, same_email.code()), (409, "email_taken"));
    let same_phone = add_user(&app, &owner.token, &account, json!({"email": "petro@ua.example", "roles": ["administrator"], "first_name": "Петро", "last_name": "Сидоренко", "phone": "+380 67 123 45 67"})).await;
    assert_eq!((same_phone.status, same_phone.code()), (409, "phone_taken"));

    // The password: six or more Latin letters, digits and the listed symbols
    let link = app.link_token("olena@ua.example").await;
    assert_eq!(app.post("/v1/invitations/inspect", json!({"token": link})).await.body["mode"], "direct");
    let cyrillic = app.accept(&link, "Пароль123").await;
    assert_eq!(cyrillic.field_errors(), [("password".to_owned(), "password_invalid_characters".to_owned())]);
    assert_eq!(app.accept(&link, "Ab1!x_").await.status, 200);
    assert_eq!(app.sign_in("olena@ua.example", "Ab1!x_").await.status, 200);
}

async fn ua_marketplace_administrators_cannot_add_or_block_and_nobody_blocks_themselves(app: TestApp) {
    let owner = app.owner("ua-marketplace", "vlasnyk@ua-block.example").await;
    let account = owner.account_path();
    for (email, role, first, phone) in [
        ("super@ua-block.example", "superadmin", "Олена", "0671111111"),
        ("admin@ua-block.example", "administrator", "Петро", "0502222222"),
    ] {
        let body = json!({"email": email, "roles": [role], "first_name": first, "last_name": "Коваль", "phone": phone});
        assert_eq!(add_user(&app, &owner.token, &account, body).await.status, 201);
        assert_eq!(app.accept(&app.link_token(email).await, "Secret1!").await.status, 200);
    }
    let superadmin = app.sign_in("super@ua-block.example", "Secret1!").await;
    let administrator = app.sign_in("admin@ua-block.example", "Secret1!").await;
    let (super_token, admin_token) = (superadmin.str("access_token"), administrator.str("access_token"));
    let (super_id, admin_id) = (superadmin.str("user_id"), administrator.str("user_id"));

    let by_admin = add_user(&app, &admin_token, &account, json!({"email": "x@ua-block.example", "roles": ["administrator"], "first_name": "Іван", "last_name": "Іванов", "phone": "0633333333"})).await;
    assert_eq!((by_admin.status, by_admin.code()), (403, "forbidden"));
    let admin_blocks =
        app.post_as(&admin_token, &format!("{account}/members/{super_id}/block"), json!({})).await;
    assert_eq!((admin_blocks.status, admin_blocks.code()), (403, "forbidden"));
    let self_block =
        app.post_as(&super_token, &format!("{account}/members/{super_id}/block"), json!({})).await;
    assert_eq!((self_block.status, self_block.code()), (409, "self_action_forbidden"));

    // A superadmin blocks the administrator: their session stops at once and sign-in is refused
    let blocked = app.post_as(&super_token, &format!("{account}/members/{admin_id}/block"), json!({})).await;
    assert_eq!((blocked.status, blocked.body["status"].as_str()), (200, Some("blocked")));
    assert_eq!(app.get_as(&admin_token, &account).await.code(), "user_blocked");
    assert_eq!(app.get_as(&admin_token, "/v1/me").await.code(), "user_blocked", "their own routes too");
    let refreshed =
        app.post("/v1/sessions/refresh", json!({"refresh_token": administrator.str("refresh_token")})).await;
    assert_eq!(refreshed.code(), "invalid_refresh_token");
    assert_eq!(app.sign_in("admin@ua-block.example", "Secret1!").await.code(), "user_blocked");
    assert_eq!(app.sign_in("admin@ua-block.example", "Wrong1!").await.code(), "invalid_credentials");

    // Activating again restores access
    let unblocked =
        app.post_as(&super_token, &format!("{account}/members/{admin_id}/unblock"), json!({})).await;
    assert_eq!(unblocked.body["status"], "active");
    assert_eq!(app.sign_in("admin@ua-block.example", "Secret1!").await.status, 200);
}

async fn ua_marketplace_a_lapsed_set_password_link_is_replaced_by_password_reset(app: TestApp) {
    let owner = app.owner("ua-marketplace", "vlasnyk@ua-late.example").await;
    let body = json!({"email": "late@ua-late.example", "roles": ["administrator"], "first_name": "Ігор", "last_name": "Мельник", "phone": "0931234567"});
    assert_eq!(add_user(&app, &owner.token, &owner.account_path(), body).await.status, 201);
    let link = app.link_token("late@ua-late.example").await;

    app.advance_clock(24 * 3600).await;
    let expired = app.post("/v1/invitations/inspect", json!({"token": link})).await;
    assert_eq!((expired.status, expired.code()), (410, "invitation_expired"));
    app.post("/_dev/cleanup", json!({})).await;
    assert_eq!(app.post("/v1/password-reset", json!({"email": "late@ua-late.example"})).await.status, 202);
    let reset = app.link_token("late@ua-late.example").await;
    let confirmed =
        app.post("/v1/password-reset/confirm", json!({"token": reset, "new_password": "Later1!"})).await;

    assert_eq!(confirmed.status, 204, "{}", confirmed.body);
    let session = app.sign_in("late@ua-late.example", "Later1!").await;
    assert_eq!(session.body["memberships"][0]["status"], "active", "direct mode keeps the user");
}

async fn amazon_associates_only_full_access_manages_users(app: TestApp) {
    let owner = app.owner("amazon-associates", "owner@associates.example").await;
    let account = owner.account_path();
    let reports = app.member(&owner, "reports@associates.example", &["reports"], &[]).await;
    let basic_ids = [
        app.member(&owner, "basic1@associates.example", &["basic"], &[]).await,
        app.member(&owner, "basic2@associates.example", &["basic"], &[]).await,
    ];
    let mut ids = Vec::new();
    for token in &basic_ids {
        ids.push(app.user_id(token).await);
    }

    let invite =
        add_user(&app, &reports, &account, json!({"email": "x@associates.example", "roles": ["basic"]}))
            .await;
    assert_eq!(invite.code(), "forbidden");
    let reassign = app
        .put_as(&reports, &format!("{account}/members/{}/roles", ids[0]), json!({"roles": ["reports"]}))
        .await;
    assert_eq!(reassign.code(), "forbidden");
    assert_eq!(app.delete_as(&reports, &format!("{account}/members/{}", ids[0])).await.code(), "forbidden");

    // The owner reassigns several users' roles, then removes several users, one call each
    for id in &ids {
        let reassigned = app
            .put_as(&owner.token, &format!("{account}/members/{id}/roles"), json!({"roles": ["reports"]}))
            .await;
        assert_eq!(reassigned.body["roles"], json!(["reports"]));
    }
    for id in &ids {
        assert_eq!(app.delete_as(&owner.token, &format!("{account}/members/{id}")).await.status, 204);
    }
    let left = app.get_as(&owner.token, &format!("{account}/members")).await;
    assert_eq!(left.body["items"].as_array().unwrap().len(), 2, "the owner and the reports user");

    // A wrongly sent invitation is revoked
    let wrong = add_user(
        &app,
        &owner.token,
        &account,
        json!({"email": "typo@associates.exmaple", "roles": ["basic"]}),
    )
    .await;
    let revoked = app
        .post_as(&owner.token, &format!("{account}/invitations/{}/revoke", wrong.str("id")), json!({}))
        .await;
    assert_eq!(revoked.body["status"], "revoked");
}

async fn amazon_seller_grants_granular_permissions_to_never_used_emails(app: TestApp) {
    let owner = app.owner("amazon-seller", "primary@seller.example").await;
    let other = app.owner("amazon-seller", "primary@other-seller.example").await;
    let other_invitations = format!("{}/invitations", other.account_path());
    let account = owner.account_path();

    let roles = add_user(
        &app,
        &owner.token,
        &account,
        json!({"email": "x@seller.example", "roles": ["administrator"]}),
    )
    .await;
    assert_eq!(roles.field_errors(), [("roles".to_owned(), "unknown_role".to_owned())]);
    let unknown = add_user(
        &app,
        &owner.token,
        &account,
        json!({"email": "x@seller.example", "permissions": ["moon:write"]}),
    )
    .await;
    assert_eq!(unknown.field_errors(), [("permissions".to_owned(), "unknown_permission".to_owned())]);

    let clerk = app.member(&owner, "clerk@seller.example", &[], &["inventory:write", "reports:read"]).await;
    let me = app.get_as(&clerk, "/v1/me").await;
    assert_eq!(
        me.body["memberships"][0]["effective_permissions"],
        json!(["inventory:write", "reports:read"])
    );
    assert_eq!(me.body["memberships"][0]["roles"], json!([]));

    // The same email cannot be a secondary user of another account, even a pending one
    let reused = app
        .post_as(
            &other.token,
            &other_invitations,
            json!({"email": "clerk@seller.example", "permissions": ["orders:write"]}),
        )
        .await;
    assert_eq!((reused.status, reused.code()), (409, "email_taken"));
    add_user(
        &app,
        &owner.token,
        &account,
        json!({"email": "pending@seller.example", "permissions": ["orders:write"]}),
    )
    .await;
    let pending = app
        .post_as(
            &other.token,
            &other_invitations,
            json!({"email": "pending@seller.example", "permissions": ["orders:write"]}),
        )
        .await;
    assert_eq!(pending.code(), "email_taken");

    // Least privilege is reviewed from the list: effective permissions and last sign-in
    app.sign_in("clerk@seller.example", PASSWORD).await;
    let clerk_id = me.str("user_id");
    let member = app.get_as(&owner.token, &format!("{account}/members/{clerk_id}")).await;
    assert!(member.body["last_login_at"].is_string());
    let narrowed = app
        .put_as(
            &owner.token,
            &format!("{account}/members/{clerk_id}/roles"),
            json!({"roles": [], "permissions": ["reports:read"]}),
        )
        .await;
    assert_eq!(narrowed.body["effective_permissions"], json!(["reports:read"]));
}

async fn joom_users_hold_several_roles_and_losing_one_takes_its_sections_at_once(app: TestApp) {
    let owner = app.owner("joom", "merchant@joom.example").await;
    let account = owner.account_path();
    let both = app.member(&owner, "ops@joom.example", &["operations", "finance"], &[]).await;
    let id = app.user_id(&both).await;
    assert!(effective(&app.get_as(&both, "/v1/me").await).contains(&"invoices:write".to_owned()));

    let removed = app
        .put_as(&owner.token, &format!("{account}/members/{id}/roles"), json!({"roles": ["operations"]}))
        .await;

    assert_eq!(removed.status, 200, "{}", removed.body);
    let now = effective(&app.get_as(&both, "/v1/me").await);
    assert!(!now.iter().any(|p| p.starts_with("invoices")), "{now:?}");
    assert!(now.contains(&"orders:write".to_owned()));
    let none = app.put_as(&owner.token, &format!("{account}/members/{id}/roles"), json!({"roles": []})).await;
    assert_eq!(none.body["effective_permissions"], json!([]));

    // The owner can be changed; each user has their own password, changed in the panel
    let transfer = app
        .post_as(
            &owner.token,
            &format!("{account}/ownership-transfer"),
            json!({"user_id": id, "password": PASSWORD}),
        )
        .await;
    assert_eq!(transfer.status, 200);
    let changed = app
        .post_as(
            &both,
            "/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "a brand new passphrase 2026"}),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.body);
    assert_eq!(app.sign_in("ops@joom.example", PASSWORD).await.code(), "invalid_credentials");
    assert_eq!(
        app.sign_in("ops@joom.example", "a brand new passphrase 2026").await.body["memberships"][0]["is_owner"],
        true
    );
}

async fn ua_marketplace_asks_at_activation_only_for_the_fields_still_missing(app: TestApp) {
    app.create_account("ua-marketplace", "new-owner@ua-fields.example").await;
    let owner_link = app.link_token("new-owner@ua-fields.example").await;

    let page = app.post("/v1/invitations/inspect", json!({"token": owner_link})).await;
    assert_eq!(
        page.body["profile_fields"],
        json!({"first_name": "required", "last_name": "required", "phone": "required"})
    );
    let bare = app.accept(&owner_link, "Secret1!").await;
    let mut fields = bare.field_errors();
    fields.sort();
    assert_eq!(
        fields,
        [
            ("first_name".into(), "invalid_name".into()),
            ("last_name".into(), "invalid_name".into()),
            ("phone".into(), "invalid_phone".into())
        ]
    );
    let owner = app.activate(&owner_link).await;
    assert_eq!(owner.status, 200, "{}", owner.body);

    let account = format!("/v1/accounts/{}", owner.body["memberships"][0]["account_id"].as_str().unwrap());
    let body = json!({"email": "known@ua-fields.example", "roles": ["administrator"], "first_name": "Олена", "last_name": "Коваль", "phone": "0631234567"});
    add_user(&app, &owner.str("access_token"), &account, body).await;
    let invitee_link = app.link_token("known@ua-fields.example").await;
    let invitee_page = app.post("/v1/invitations/inspect", json!({"token": invitee_link})).await;
    assert_eq!(
        invitee_page.body["profile_fields"],
        json!({"first_name": "hidden", "last_name": "hidden", "phone": "hidden"})
    );
    assert_eq!(app.accept(&invitee_link, "Secret1!").await.status, 200);
}

async fn ozon_an_owner_who_missed_the_link_gets_a_fresh_one_through_support(app: TestApp) {
    let created = app.create_account("ozon", "late-owner@ozon-missed.example").await;
    let account_id = created.body["account"]["id"].as_str().unwrap().to_owned();
    let lapsed = app.link_token("late-owner@ozon-missed.example").await;
    app.advance_clock(24 * 3600).await;
    app.post("/_dev/cleanup", json!({})).await;
    assert_eq!(
        app.post("/v1/invitations/inspect", json!({"token": lapsed})).await.code(),
        "invitation_expired"
    );

    let path = format!("/v1/operator/accounts/{account_id}/owner-recovery");
    let recovered = app.operator(&path, json!({"new_email": "late-owner@ozon-missed.example"})).await;

    assert_eq!(recovered.status, 202, "{}", recovered.body);
    let session = app.activate(&app.link_token("late-owner@ozon-missed.example").await).await;
    assert_eq!(session.status, 200, "{}", session.body);
    assert_eq!(session.body["memberships"][0]["is_owner"], true);
    let account = app.get_as(&session.str("access_token"), &format!("/v1/accounts/{account_id}")).await;
    assert_eq!(account.body["owner_id"], session.body["user_id"]);
}

async fn ozon_an_administrator_cannot_stop_a_pending_owner_recovery(app: TestApp) {
    let owner = app.owner("ozon", "lost@ozon-guard.example").await;
    let admin = app.member(&owner, "admin@ozon-guard.example", &["administrator"], &[]).await;
    let path = format!("/v1/operator/accounts/{}/owner-recovery", owner.account_id);
    assert_eq!(app.operator(&path, json!({"new_email": "found@ozon-guard.example"})).await.status, 202);
    let pending = app.get_as(&admin, &format!("{}/members?q=found", owner.account_path())).await;
    let candidate = pending.body["items"][0]["user_id"].as_str().unwrap().to_owned();

    let blocked =
        app.post_as(&admin, &format!("{}/members/{candidate}/block", owner.account_path()), json!({})).await;
    let deleted = app.delete_as(&admin, &format!("{}/members/{candidate}", owner.account_path())).await;

    assert_eq!((blocked.status, blocked.code()), (409, "owner_protected"));
    assert_eq!((deleted.status, deleted.code()), (409, "owner_protected"));
    let session = app.activate(&app.link_token("found@ozon-guard.example").await).await;
    assert_eq!(session.body["memberships"][0]["is_owner"], true);
}

async fn re_entering_the_password_is_throttled_like_sign_in(app: TestApp) {
    let owner = app.owner("joom", "owner@step-up.example").await;
    let admin = app.member(&owner, "admin@step-up.example", &["admin"], &[]).await;
    let admin_id = app.user_id(&admin).await;
    let transfer = format!("{}/ownership-transfer", owner.account_path());

    for _ in 0..10 {
        let guess = json!({"user_id": admin_id, "password": "a guess at the owner's password"});
        assert_eq!(app.post_as(&owner.token, &transfer, guess).await.code(), "invalid_credentials");
    }
    let limited =
        app.post_as(&owner.token, &transfer, json!({"user_id": admin_id, "password": PASSWORD})).await;

    assert_eq!((limited.status, limited.code()), (429, "rate_limited"));
    assert!(limited.headers.contains_key("retry-after"));
}

tests::scenarios!(
    ozon_an_owner_who_missed_the_link_gets_a_fresh_one_through_support,
    ozon_an_administrator_cannot_stop_a_pending_owner_recovery,
    re_entering_the_password_is_throttled_like_sign_in,
    ozon_only_the_manager_transfers_rights_and_cannot_be_deleted_first,
    ozon_owner_access_is_restored_through_support_only,
    ua_marketplace_superadmin_adds_active_users_who_set_a_password_by_link,
    ua_marketplace_administrators_cannot_add_or_block_and_nobody_blocks_themselves,
    ua_marketplace_a_lapsed_set_password_link_is_replaced_by_password_reset,
    amazon_associates_only_full_access_manages_users,
    amazon_seller_grants_granular_permissions_to_never_used_emails,
    joom_users_hold_several_roles_and_losing_one_takes_its_sections_at_once,
    ua_marketplace_asks_at_activation_only_for_the_fields_still_missing,
);
