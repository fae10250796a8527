//! The mail outbox as it runs in AWS (`MailDispatch::Stream`): a request writes its mail, and
//! the mail function sends it as the table's stream brings it (`Teamgate::send_outbox_mail`,
//! called here as the stream would). A mail goes once, only while what it tells of still holds.

use serde_json::{Value, json};
use shared::service::mailing::Handed;
use tests::app::{Owner, PASSWORD, TestApp};

tests::scenarios!(
    settings: |settings: &mut shared::service::Settings| {
        settings.mail_dispatch = shared::service::mailing::MailDispatch::Stream
    };
    a_mail_goes_once_as_the_stream_brings_it_and_its_invitation_shows_it_sent,
    a_revoked_invitations_mail_is_never_sent,
    a_resend_before_the_first_mail_went_replaces_it,
    a_reset_mail_whose_link_ended_before_it_went_is_never_sent,
);

fn invitation(owner: &Owner, invited: &Value) -> String {
    format!("{}/invitations/{}", owner.account_path(), invited["id"].as_str().expect("an id"))
}

/// What the stream brings the mail function for the invitation's mail.
async fn streamed(app: &TestApp, invited: &Value) -> Handed {
    let key = format!("INVITATION#{}", invited["id"].as_str().expect("an id"));
    app.api.app.send_outbox_mail(&key).await.expect("the mail function answers")
}

async fn a_mail_goes_once_as_the_stream_brings_it_and_its_invitation_shows_it_sent(app: TestApp) {
    // Given an invitation just made: its mail waits in the outbox
    let owner = app.owner("standard", "owner@stream.example").await;
    let invited = app.invite(&owner, "new@stream.example", &["viewer"]).await;
    assert_eq!(invited["delivery"], "pending");

    // When the stream brings its mail, then brings it again (a retried batch)
    let first = streamed(&app, &invited).await;
    let again = streamed(&app, &invited).await;

    // Then it went once, and the invitation shows it sent
    assert_eq!((first, again), (Handed::Sent, Handed::Gone));
    assert_eq!(app.get_as(&owner.token, &invitation(&owner, &invited)).await.body["delivery"], "sent");
    assert_eq!(app.mail_to("new@stream.example").await.len(), 1);
    assert_eq!(app.activate(&app.link_token("new@stream.example").await).await.status, 200);
}

async fn a_revoked_invitations_mail_is_never_sent(app: TestApp) {
    // Given an invitation revoked before its mail went (a wrong address, noticed at once)
    let owner = app.owner("standard", "owner@revoked-early.example").await;
    let invited = app.invite(&owner, "wrong@revoked-early.example", &["viewer"]).await;
    let revoked =
        app.post_as(&owner.token, &format!("{}/revoke", invitation(&owner, &invited)), json!({})).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);

    // When the stream brings its mail
    let handed = streamed(&app, &invited).await;

    // Then it is given up unsent: the stranger learns nothing of the account
    assert_eq!(handed, Handed::GivenUp);
    assert!(app.mail_to("wrong@revoked-early.example").await.is_empty());
    assert_eq!(app.get_as(&owner.token, &invitation(&owner, &invited)).await.body["status"], "revoked");
}

async fn a_resend_before_the_first_mail_went_replaces_it(app: TestApp) {
    // Given an invitation resent before its first mail went
    let owner = app.owner("standard", "owner@resent-early.example").await;
    let invited = app.invite(&owner, "new@resent-early.example", &["viewer"]).await;
    let resent =
        app.post_as(&owner.token, &format!("{}/resend", invitation(&owner, &invited)), json!({})).await;
    assert_eq!(resent.status, 200, "{}", resent.body);

    // When the stream brings the first write and then the resend's
    let first = streamed(&app, &invited).await;
    let second = streamed(&app, &invited).await;

    // Then one mail went, with the live link
    assert_eq!((first, second), (Handed::Sent, Handed::Gone));
    assert_eq!(app.mail_to("new@resent-early.example").await.len(), 1);
    assert_eq!(app.activate(&app.link_token("new@resent-early.example").await).await.status, 200);
}

async fn a_reset_mail_whose_link_ended_before_it_went_is_never_sent(app: TestApp) {
    // Given a member who asks for a reset link, then changes their password before it is mailed
    let owner = app.owner("standard", "owner@reset-early.example").await;
    let asked = app.post("/v1/password-reset", json!({"email": "owner@reset-early.example"})).await;
    assert_eq!(asked.status, 202, "{}", asked.body);
    let changed = app
        .post_as(
            &owner.token,
            "/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "another correct horse battery"}),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.body);

    // When the outbox is sent
    let report = app.api.app.send_new_outbox_mail().await.expect("the outbox is sent");

    // Then the dead link's mail is given up unsent
    assert_eq!((report.sent, report.given_up), (0, 1), "{report:?}");
    let subjects: Vec<Value> =
        app.mail_to("owner@reset-early.example").await.iter().map(|m| m["subject"].clone()).collect();
    assert_eq!(subjects.len(), 2, "the activation and the password-change notice only: {subjects:?}");
}
