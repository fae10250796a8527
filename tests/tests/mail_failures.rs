//! When SES refuses a message, the request still succeeds: what it made stands, its mail is
//! given up, and the invitation shows `failed`, so the owner knows to resend.

use serde_json::json;
use std::sync::Arc;
use tests::app::{PASSWORD, TestApp, ses_mailer, spawn_app_on};
use tests::emulators::{VERIFIED_SENDER, dynamo_store, sent_messages};

/// Whether moto sent anything to `to`.
async fn mailed(to: &str) -> bool {
    sent_messages().await.iter().any(|m| m.to_string().contains(to))
}

#[tokio::test]
async fn a_rejected_owner_activation_keeps_the_account_and_shows_its_link_failed() {
    // Given an app whose sender SES refuses
    let store = Arc::new(dynamo_store().await);
    let app = spawn_app_on(store.clone(), ses_mailer("unverified@sender.example").await, |_| {}).await;

    // When the operator creates an account
    let created = app.create_account("ozon", "owner@rejected.example").await;

    // Then the account is made, and its owner link shows its mail failed (the operator resends
    // it through owner recovery once the sender is fixed)
    assert_eq!(created.status, 201, "{}", created.body);
    let account = created.body["account"]["id"].as_str().expect("an account id");
    let link = app
        .operator_call(reqwest::Method::GET, &format!("/v1/operator/accounts/{account}/owner-recovery"))
        .await;
    assert_eq!(link.body["delivery"], "failed", "{}", link.body);
    assert!(!mailed("owner@rejected.example").await);
}

#[tokio::test]
async fn a_rejected_invitation_is_made_and_shows_its_mail_failed() {
    // Given an owner, and an app of theirs whose sender SES refuses
    let store = Arc::new(dynamo_store().await);
    let app: TestApp = spawn_app_on(store.clone(), ses_mailer(VERIFIED_SENDER).await, |_| {}).await;
    let owner = app.owner("standard", "owner@rejected-invite.example").await;
    let rejecting = spawn_app_on(store.clone(), ses_mailer("unverified@sender.example").await, |_| {}).await;
    let token = rejecting.sign_in("owner@rejected-invite.example", PASSWORD).await.str("access_token");

    // When they invite someone
    let path = format!("/v1/accounts/{}/invitations", owner.account_id);
    let invited = rejecting
        .post_as(&token, &path, json!({"email": "new@rejected-invite.example", "roles": ["viewer"]}))
        .await;

    // Then the invitation is made, nobody is mailed, and it shows its mail failed
    assert_eq!(invited.status, 201, "{}", invited.body);
    let stored = app.get_as(&owner.token, &format!("{path}/{}", invited.str("id"))).await;
    assert_eq!(stored.body["delivery"], "failed", "{}", stored.body);
    let failed = app.get_as(&owner.token, &format!("{path}?delivery=failed")).await;
    assert_eq!(failed.body["items"].as_array().map(Vec::len), Some(1), "{}", failed.body);
    assert!(!mailed("new@rejected-invite.example").await);

    // And a resend once the sender is fixed mails it, and it shows sent
    let resent = app.post_as(&owner.token, &format!("{path}/{}/resend", invited.str("id")), json!({})).await;
    assert_eq!(resent.status, 200, "{}", resent.body);
    let stored = app.get_as(&owner.token, &format!("{path}/{}", invited.str("id"))).await;
    assert_eq!(stored.body["delivery"], "sent", "{}", stored.body);
    assert_eq!(app.activate(&app.link_token("new@rejected-invite.example").await).await.status, 200);
}
