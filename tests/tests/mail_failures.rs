//! When a message cannot be sent, nothing claims it was: the request fails with an
//! opaque 500 and the table holds exactly what it held before.

use serde_json::json;
use std::sync::Arc;
use tests::app::{PASSWORD, TestApp, ses_mailer, spawn_app_on};
use tests::emulators::{VERIFIED_SENDER, dynamo_store, scan_table, snapshot_except};

#[tokio::test]
async fn a_rejected_owner_activation_leaves_no_account_behind() {
    let store = Arc::new(dynamo_store().await);
    let app = spawn_app_on(store.clone(), ses_mailer("unverified@sender.example").await, |_| {}).await;

    let created = app.create_account("ozon", "owner@rejected.example").await;

    assert_eq!((created.status, created.code()), (500, "internal"));
    assert_eq!(created.body["detail"], "Something went wrong on our side.", "no SES message leaks");
    assert_eq!(scan_table(&store).await, Vec::<serde_json::Value>::new());
}

#[tokio::test]
async fn a_rejected_invitation_leaves_no_invitation_member_or_user_behind() {
    let store = Arc::new(dynamo_store().await);
    let app: TestApp = spawn_app_on(store.clone(), ses_mailer(VERIFIED_SENDER).await, |_| {}).await;
    let owner = app.owner("standard", "owner@rejected-invite.example").await;
    let before = snapshot_except(&store, is_bookkeeping).await;
    let rejecting = spawn_app_on(store.clone(), ses_mailer("unverified@sender.example").await, |_| {}).await;
    let token = rejecting.sign_in("owner@rejected-invite.example", PASSWORD).await.str("access_token");

    let invited = rejecting
        .post_as(
            &token,
            &format!("/v1/accounts/{}/invitations", owner.account_id),
            json!({"email": "new@rejected-invite.example", "roles": ["viewer"]}),
        )
        .await;

    assert_eq!((invited.status, invited.code()), (500, "internal"));
    assert_eq!(snapshot_except(&store, is_bookkeeping).await, before);
}

/// Items a sign-in writes on its own (its session, `last_login_at`, rate counters).
fn is_bookkeeping(item: &serde_json::Value) -> bool {
    let pk = item["PK"]["S"].as_str().unwrap_or_default();
    let sk = item["SK"]["S"].as_str().unwrap_or_default();
    pk.starts_with("SESSION#") || pk.starts_with("RATE#") || sk.starts_with("MEMBER#")
}

#[tokio::test]
async fn a_resend_whose_mail_is_rejected_keeps_the_link_that_was_delivered() {
    let store = Arc::new(dynamo_store().await);
    let app = spawn_app_on(store.clone(), ses_mailer(VERIFIED_SENDER).await, |_| {}).await;
    let owner = app.owner("standard", "owner@rejected-resend.example").await;
    let invited = app.invite(&owner, "slow@rejected-resend.example", &["viewer"]).await;
    let delivered = app.link_token("slow@rejected-resend.example").await;
    let rejecting = spawn_app_on(store.clone(), ses_mailer("unverified@sender.example").await, |_| {}).await;
    let token = rejecting.sign_in("owner@rejected-resend.example", PASSWORD).await.str("access_token");

    let resent = rejecting
        .post_as(
            &token,
            &format!(
                "/v1/accounts/{}/invitations/{}/resend",
                owner.account_id,
                invited["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;

    assert_eq!((resent.status, resent.code()), (500, "internal"));
    let still = app.post("/v1/invitations/inspect", json!({"token": delivered})).await;
    assert_eq!(still.status, 200, "the delivered link still works: {}", still.body);
    let invitation = app
        .get_as(
            &owner.token,
            &format!("/v1/accounts/{}/invitations/{}", owner.account_id, invited["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(invitation.body["send_count"], 1);
    assert_eq!(app.accept(&delivered, PASSWORD).await.status, 200);
}
