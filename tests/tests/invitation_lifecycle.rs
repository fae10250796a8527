//! The invitation lifecycle: history with search, filters and pages; revoke; resend;
//! exact expiry; the scheduled cleanup; the audit log. The clock is moved, never waited on.

use serde_json::{Value, json};
use shared::service::Settings;
use tests::app::{PASSWORD, Reply, TestApp, spawn_app_on_aws_with, spawn_app_with};

fn emails(page: &Reply) -> Vec<String> {
    page.body["items"].as_array().unwrap().iter().map(|i| i["email"].as_str().unwrap().to_owned()).collect()
}

async fn ozon_history_is_searchable_filterable_and_paged_newest_first(app: TestApp) {
    let owner = app.owner("ozon", "director@history.example").await;
    let list = format!("/v1/accounts/{}/invitations", owner.account_id);
    for (email, role) in [
        ("pm1@history.example", "product_manager"),
        ("fin@history.example", "financial_manager"),
        ("pm2@history.example", "product_manager"),
        ("wh@history.example", "warehouse_manager"),
        ("pm3@history.example", "product_manager"),
    ] {
        app.invite(&owner, email, &[role]).await;
    }
    app.accept(&app.link_token("pm2@history.example").await, PASSWORD).await;

    let all = app.get_as(&owner.token, &list).await;
    assert_eq!(
        emails(&all)[..5],
        [
            "pm3@history.example",
            "wh@history.example",
            "pm2@history.example",
            "fin@history.example",
            "pm1@history.example"
        ]
    );

    let managers = app.get_as(&owner.token, &format!("{list}?role=product_manager&status=sent")).await;
    assert_eq!(emails(&managers), ["pm3@history.example", "pm1@history.example"]);
    let accepted = app.get_as(&owner.token, &format!("{list}?status=accepted&email=PM")).await;
    assert_eq!(emails(&accepted), ["pm2@history.example"]);

    let first = app.get_as(&owner.token, &format!("{list}?limit=2")).await;
    let cursor = first.body["next_cursor"].as_str().expect("more pages").to_owned();
    let second = app.get_as(&owner.token, &format!("{list}?limit=2&cursor={cursor}")).await;
    let third =
        app.get_as(&owner.token, &format!("{list}?limit=2&cursor={}", second.str("next_cursor"))).await;
    assert_eq!([emails(&first), emails(&second), emails(&third)].concat()[..5], emails(&all)[..5]);
    assert_eq!(third.body["next_cursor"], Value::Null);

    let mut forged = cursor.clone();
    forged.insert(0, 'x');
    let tampered = app.get_as(&owner.token, &format!("{list}?limit=2&cursor={forged}")).await;
    assert_eq!((tampered.status, tampered.code()), (400, "invalid_cursor"));
    let other_filter = app.get_as(&owner.token, &format!("{list}?limit=2&status=sent&cursor={cursor}")).await;
    assert_eq!(other_filter.code(), "invalid_cursor", "a cursor is bound to its filters");
    let bad_status = app.get_as(&owner.token, &format!("{list}?status=lost")).await;
    assert_eq!(bad_status.field_errors(), [("status".to_owned(), "invalid_value".to_owned())]);
}

async fn a_revoked_invitation_kills_its_link_and_frees_the_email(app: TestApp) {
    let owner = app.owner("ozon", "director@revoke.example").await;
    let account = format!("/v1/accounts/{}", owner.account_id);
    let invitation = app.invite(&owner, "oops@revoke.example", &["product_manager"]).await;
    let link = app.link_token("oops@revoke.example").await;

    let revoked = app
        .post_as(
            &owner.token,
            &format!("{account}/invitations/{}/revoke", invitation["id"].as_str().unwrap()),
            json!({}),
        )
        .await;

    assert_eq!((revoked.status, revoked.body["status"].as_str()), (200, Some("revoked")));
    assert_eq!(revoked.body["revoked_by"], app.get_as(&owner.token, "/v1/me").await.body["user_id"]);
    let inspected = app.post("/v1/invitations/inspect", json!({"token": link})).await;
    assert_eq!((inspected.status, inspected.code()), (409, "invitation_revoked"));
    assert_eq!(app.accept(&link, PASSWORD).await.code(), "invitation_revoked");
    let members = app.get_as(&owner.token, &format!("{account}/members?q=oops")).await;
    assert_eq!(members.body["items"], json!([]));
    app.invite(&owner, "oops@revoke.example", &["product_manager"]).await;
    let again = app
        .post_as(
            &owner.token,
            &format!("{account}/invitations/{}/revoke", invitation["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!((again.status, again.code()), (409, "invitation_not_pending"));
}

async fn resending_a_sent_invitation_replaces_its_link(app: TestApp) {
    let owner = app.owner("ozon", "director@resend.example").await;
    let invitation = app.invite(&owner, "slow@resend.example", &["product_manager"]).await;
    let first_link = app.link_token("slow@resend.example").await;
    let resend = format!(
        "/v1/accounts/{}/invitations/{}/resend",
        owner.account_id,
        invitation["id"].as_str().unwrap()
    );

    app.advance_clock(3600).await;

    let owner = app.signed_in_again(owner).await;
    let resent = app.post_as(&owner.token, &resend, json!({})).await;

    assert_eq!(resent.status, 200, "{}", resent.body);
    assert_eq!(resent.body["send_count"], 2);
    assert!(resent.str("expires_at").as_str() > invitation["expires_at"].as_str().unwrap());
    let dead = app.post("/v1/invitations/inspect", json!({"token": first_link})).await;
    assert_eq!((dead.status, dead.code()), (404, "invitation_not_found"));
    let second_link = app.link_token("slow@resend.example").await;
    assert_ne!(first_link, second_link);
    assert_eq!(app.accept(&second_link, PASSWORD).await.status, 200);
    let after = app.post_as(&owner.token, &resend, json!({})).await;
    assert_eq!((after.status, after.code()), (409, "invitation_already_accepted"));
}

async fn an_expired_invitation_resends_as_a_new_one_with_the_same_grant(app: TestApp) {
    let owner = app.owner("ozon", "director@renew.example").await;
    let invitation = app.invite(&owner, "late@renew.example", &["warehouse_manager"]).await;
    app.advance_clock(24 * 3600).await;
    let owner = app.signed_in_again(owner).await;
    let id = invitation["id"].as_str().unwrap();

    let resent = app
        .post_as(
            &owner.token,
            &format!("/v1/accounts/{}/invitations/{id}/resend", owner.account_id),
            json!({}),
        )
        .await;

    assert_eq!(resent.status, 201, "{}", resent.body);
    assert_ne!(resent.str("id"), id);
    assert_eq!(
        (resent.body["roles"].clone(), resent.body["send_count"].clone()),
        (json!(["warehouse_manager"]), json!(2))
    );
    let old = app.get_as(&owner.token, &format!("/v1/accounts/{}/invitations/{id}", owner.account_id)).await;
    assert_eq!(old.body["status"], "expired");
    assert_eq!(app.accept(&app.link_token("late@renew.example").await, PASSWORD).await.status, 200);
}

async fn resending_more_often_than_the_preset_allows_is_rate_limited(app: TestApp) {
    let owner = app.owner("standard", "owner@limit.example").await;
    let invitation = app.invite(&owner, "spam@limit.example", &["viewer"]).await;
    let resend = format!(
        "/v1/accounts/{}/invitations/{}/resend",
        owner.account_id,
        invitation["id"].as_str().unwrap()
    );

    for _ in 1..5 {
        assert_eq!(app.post_as(&owner.token, &resend, json!({})).await.status, 200);
    }
    let limited = app.post_as(&owner.token, &resend, json!({})).await;

    assert_eq!((limited.status, limited.code()), (429, "rate_limited"));
    let wait: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((3590..=3600).contains(&wait), "{wait}");
    app.advance_clock(wait).await;
    let owner = app.signed_in_again(owner).await;
    assert_eq!(app.post_as(&owner.token, &resend, json!({})).await.status, 200);
}

async fn the_cleanup_expires_lapsed_invitations_once_and_frees_their_emails(app: TestApp) {
    let owner = app.owner("amazon-associates", "owner@cleanup.example").await;
    let account = format!("/v1/accounts/{}", owner.account_id);
    app.invite(&owner, "gone@cleanup.example", &["reports"]).await;
    app.advance_clock(48 * 3600).await;
    let owner = app.signed_in_again(owner).await;

    let first = app.post("/_dev/cleanup", json!({})).await;
    let second = app.post("/_dev/cleanup", json!({})).await;

    assert_eq!((first.body["expired"].clone(), first.body["complete"].clone()), (json!(1), json!(true)));
    assert_eq!(second.body["expired"], 0);
    let history = app.get_as(&owner.token, &format!("{account}/invitations?status=expired")).await;
    assert_eq!(emails(&history), ["gone@cleanup.example"]);
    let members = app.get_as(&owner.token, &format!("{account}/members?status=not_activated")).await;
    assert_eq!(members.body["items"], json!([]));
    app.invite(&owner, "gone@cleanup.example", &["reports"]).await;
}

async fn every_invitation_action_is_in_the_audit_log_newest_first(app: TestApp) {
    let owner = app.owner("ozon", "director@audit.example").await;
    let account = format!("/v1/accounts/{}", owner.account_id);
    let kept = app.invite(&owner, "kept@audit.example", &["product_manager"]).await;
    let dropped = app.invite(&owner, "dropped@audit.example", &["product_manager"]).await;
    app.post_as(
        &owner.token,
        &format!("{account}/invitations/{}/resend", kept["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    app.post_as(
        &owner.token,
        &format!("{account}/invitations/{}/revoke", dropped["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    app.accept(&app.link_token("kept@audit.example").await, PASSWORD).await;
    app.invite(&owner, "lapsed@audit.example", &["product_manager"]).await;
    app.advance_clock(25 * 3600).await;
    let owner = app.signed_in_again(owner).await;
    app.post("/_dev/cleanup", json!({})).await;

    let log = app.get_as(&owner.token, &format!("{account}/audit-events")).await;

    let actions: Vec<&str> =
        log.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "invitation.expired",
            "invitation.created",
            "invitation.accepted",
            "invitation.revoked",
            "invitation.resent",
            "invitation.created",
            "invitation.created",
            "invitation.accepted",
            "invitation.created",
            "account.created",
        ]
    );
    let expired = &log.body["items"][0];
    assert_eq!(
        (expired["actor_id"].clone(), expired["target_type"].clone()),
        (Value::Null, json!("invitation"))
    );
}

/// Bulk set-up invites faster than people do: the per-member limit is raised.
fn bulk(settings: &mut Settings) {
    settings.limits.invite_per_member.count = 10_001;
}

#[tokio::test]
async fn a_cleanup_run_expires_ten_thousand_invitations_and_a_second_changes_nothing() {
    lapsed_invitations_are_expired_in_one_run(spawn_app_with(bulk).await, 100).await
}

/// Two thousand on DynamoDB Local: twenty of the cleanup's pages, without the eight minutes that
/// inviting ten thousand through one account's item takes there on two cores.
#[tokio::test]
async fn on_dynamodb_a_cleanup_run_expires_two_thousand_invitations_and_a_second_changes_nothing() {
    lapsed_invitations_are_expired_in_one_run(spawn_app_on_aws_with(bulk).await, 20).await
}

/// Given `hundreds` hundred invitations lapsed, when the cleanup runs twice, then the first run
/// expires them all and the second nothing; the history lists them and their emails are free.
async fn lapsed_invitations_are_expired_in_one_run(app: TestApp, hundreds: usize) {
    let owner = app.owner("standard", "owner@bulk.example").await;
    let teamgate = &app.api.app;
    let principal = teamgate.authenticate(Some(&owner.token)).unwrap();
    let caller = shared::service::caller::Claim {
        principal,
        account_id: owner.account_id.clone(),
        requirement: shared::service::caller::Requirement::Member,
    };
    for batch in 0..hundreds {
        let invites = (0..100).map(|n| {
            let command = shared::service::invite::InviteCommand {
                email: format!("bulk{}@bulk.example", batch * 100 + n),
                roles: vec!["viewer".into()],
                ..Default::default()
            };
            teamgate.invite(&caller, command, None)
        });
        for invited in futures::future::join_all(invites).await {
            invited.unwrap();
        }
    }
    app.advance_clock(48 * 3600).await;
    let owner = app.signed_in_again(owner).await;

    let first = app.post("/_dev/cleanup", json!({})).await;
    let second = app.post("/_dev/cleanup", json!({})).await;

    assert_eq!(first.body["expired"], hundreds * 100);
    assert_eq!(second.body["expired"], 0);
    let expired = app
        .get_as(
            &owner.token,
            &format!("/v1/accounts/{}/invitations?status=expired&limit=100", owner.account_id),
        )
        .await;
    assert_eq!(expired.body["items"].as_array().unwrap().len(), 100);
    app.invite(&owner, "bulk42@bulk.example", &["viewer"]).await;
}

tests::scenarios!(
    ozon_history_is_searchable_filterable_and_paged_newest_first,
    a_revoked_invitation_kills_its_link_and_frees_the_email,
    resending_a_sent_invitation_replaces_its_link,
    an_expired_invitation_resends_as_a_new_one_with_the_same_grant,
    resending_more_often_than_the_preset_allows_is_rate_limited,
    the_cleanup_expires_lapsed_invitations_once_and_frees_their_emails,
    every_invitation_action_is_in_the_audit_log_newest_first,
);
