//! SES's reports come back (README, "React to team changes"): a delivery, a bounce or a complaint
//! about an invitation's mail, in the shape SES publishes to EventBridge, is recorded on the
//! invitation its mail's tags name (`delivery`, filterable), a bounce or complaint is audited and
//! its inviter told, an address that refused mail is resent only deliberately, and reports of
//! mail Teamgate did not send, of an earlier mail, or given twice change nothing. On both
//! backends, through the dev server's `POST /_dev/mail-events`, which the mail-events function's
//! handling shares.

use serde_json::{Value, json};
use tests::app::{Owner, TestApp};

/// An invitation of the owner's, as the API answered it.
struct Invited {
    id: String,
    email: String,
    path: String,
}

async fn invite(app: &TestApp, owner: &Owner) -> Invited {
    let email = format!("bounce-{}@mail-events.example", uuid::Uuid::now_v7().simple());
    let path = format!("/v1/accounts/{}/invitations", owner.account_id);
    let invited = app.post_as(&owner.token, &path, json!({"email": email, "roles": ["viewer"]})).await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let id = invited.str("id");
    Invited { path: format!("{path}/{id}"), id, email }
}

async fn owner(app: &TestApp) -> Owner {
    app.owner("standard", &format!("owner-{}@mail-events.example", uuid::Uuid::now_v7().simple())).await
}

/// SES's event about mail number `send` of `invitation`, as EventBridge delivers it: `kind` is
/// SES's `eventType`, `report` its record of that kind (AWS's documented shapes).
fn ses_event(account: &str, invitation: &str, send: u32, kind: &str, report: Value) -> Value {
    let (detail_type, field) = match kind {
        "Bounce" => ("Email Bounced", "bounce"),
        "Complaint" => ("Email Complaint Received", "complaint"),
        _ => ("Email Delivered", "delivery"),
    };
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": detail_type,
        "source": "aws.ses",
        "account": "123456789012",
        "time": "2026-11-30T10:00:02Z",
        "region": "us-east-1",
        "resources": ["arn:aws:ses:us-east-1:123456789012:configuration-set/teamgate"],
        "detail": {
            "eventType": kind,
            field: report,
            "mail": {
                "timestamp": "2026-11-30T10:00:00.000Z",
                "source": "no-reply@teamgate.test",
                "sendingAccountId": "123456789012",
                "messageId": "0100018b-1234-5678-9abc-def012345678-000000",
                "destination": ["someone@mail-events.example"],
                "tags": {
                    "ses:configuration-set": ["teamgate"],
                    "teamgate-account": [account],
                    "teamgate-invitation": [invitation],
                    "teamgate-send": [send.to_string()],
                },
            },
        },
    })
}

fn hard_bounce() -> (&'static str, Value) {
    (
        "Bounce",
        json!({
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": "someone@mail-events.example", "status": "5.1.1"}],
            "timestamp": "2026-11-30T10:00:02.000Z",
            "feedbackId": "0100018b-feedback",
        }),
    )
}

fn soft_bounce() -> (&'static str, Value) {
    (
        "Bounce",
        json!({
            "bounceType": "Transient",
            "bounceSubType": "MailboxFull",
            "bouncedRecipients": [{"emailAddress": "someone@mail-events.example"}],
            "timestamp": "2026-11-30T10:00:02.000Z",
            "feedbackId": "0100018b-feedback",
        }),
    )
}

fn complaint() -> (&'static str, Value) {
    (
        "Complaint",
        json!({
            "complainedRecipients": [{"emailAddress": "someone@mail-events.example"}],
            "complaintFeedbackType": "abuse",
            "timestamp": "2026-11-30T10:05:00.000Z",
            "feedbackId": "0100018b-feedback",
        }),
    )
}

fn delivery() -> (&'static str, Value) {
    (
        "Delivery",
        json!({
            "timestamp": "2026-11-30T10:00:01.500Z",
            "processingTimeMillis": 1500,
            "recipients": ["someone@mail-events.example"],
            "smtpResponse": "250 2.6.0 Message received",
        }),
    )
}

async fn report(
    app: &TestApp,
    owner: &Owner,
    invited: &Invited,
    send: u32,
    (kind, body): (&str, Value),
) -> Value {
    let reply =
        app.post("/_dev/mail-events", ses_event(&owner.account_id, &invited.id, send, kind, body)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["reported"].clone()
}

async fn undelivered_notices(app: &TestApp, owner: &Owner) -> usize {
    let mail = app.mail_to(&owner.email).await;
    mail.iter().filter(|m| m["subject"] == "Your invitation could not be delivered").count()
}

async fn a_hard_bounce_marks_the_invitation_audits_it_and_tells_the_inviter_once(app: TestApp) {
    // Given an invitation
    let owner = owner(&app).await;
    let invited = invite(&app, &owner).await;

    // When SES reports its mail bounced for good, twice (reports come at least once)
    let first = report(&app, &owner, &invited, 1, hard_bounce()).await;
    let again = report(&app, &owner, &invited, 1, hard_bounce()).await;

    // Then the invitation shows it, once audited, and its inviter was told once
    assert_eq!((first, again), (json!("recorded"), json!("ignored")));
    let invitation = app.get_as(&owner.token, &invited.path).await.body;
    assert_eq!((&invitation["delivery"], &invitation["address_refused"]), (&json!("bounced"), &json!(true)));
    let bounced = app
        .get_as(&owner.token, &format!("/v1/accounts/{}/invitations?delivery=bounced", owner.account_id))
        .await;
    let ids: Vec<&Value> = bounced.body["items"].as_array().unwrap().iter().map(|i| &i["id"]).collect();
    assert_eq!(ids, [&json!(invited.id)]);
    let log = app.get_as(&owner.token, &format!("/v1/accounts/{}/audit-events", owner.account_id)).await.body;
    let audited: Vec<&Value> =
        log["items"].as_array().unwrap().iter().filter(|e| e["action"] == "invitation.bounced").collect();
    assert_eq!(audited.len(), 1, "{log}");
    assert_eq!(
        (&audited[0]["target_id"], &audited[0]["details"]),
        (&json!(invited.id), &json!({"permanent": true}))
    );
    assert_eq!(undelivered_notices(&app, &owner).await, 1);
    let notice = app
        .mail_to(&owner.email)
        .await
        .into_iter()
        .find(|m| m["subject"] == "Your invitation could not be delivered");
    assert!(notice.unwrap()["text"].as_str().unwrap().contains(&invited.email));
}

async fn a_bounced_address_is_resent_only_deliberately_until_a_mail_to_it_is_delivered(app: TestApp) {
    // Given an invitation whose address bounced for good
    let owner = owner(&app).await;
    let invited = invite(&app, &owner).await;
    assert_eq!(report(&app, &owner, &invited, 1, hard_bounce()).await, json!("recorded"));

    // When it is resent as usual, then deliberately
    let resend = format!("{}/resend", invited.path);
    let usual = app.post_as(&owner.token, &resend, json!({})).await;
    let deliberate = app.post_as(&owner.token, &resend, json!({"deliberately": true})).await;

    // Then the first is refused, the second goes, and its mail is a new one nothing is known of,
    // written to the outbox with it
    assert_eq!((usual.status, usual.code()), (409, "address_refused"), "{}", usual.body);
    assert_eq!(deliberate.status, 200, "{}", deliberate.body);
    assert_eq!(
        (&deliberate.body["delivery"], &deliberate.body["address_refused"], &deliberate.body["send_count"]),
        (&json!("pending"), &json!(true), &json!(2))
    );
    // The first mail's bounce given again says nothing new; the new mail's delivery shows the
    // address works again.
    assert_eq!(report(&app, &owner, &invited, 1, hard_bounce()).await, json!("ignored"));
    assert_eq!(report(&app, &owner, &invited, 2, delivery()).await, json!("recorded"));
    let invitation = app.get_as(&owner.token, &invited.path).await.body;
    assert_eq!(
        (&invitation["delivery"], &invitation["address_refused"]),
        (&json!("delivered"), &json!(false))
    );
    assert_eq!(app.post_as(&owner.token, &resend, json!({})).await.status, 200);
}

async fn a_complaint_refuses_the_address_even_after_a_delivery_and_when_it_comes_late(app: TestApp) {
    // Given an invitation resent once, its first mail complained about days later
    let owner = owner(&app).await;
    let invited = invite(&app, &owner).await;
    let resend = format!("{}/resend", invited.path);
    assert_eq!(app.post_as(&owner.token, &resend, json!({})).await.status, 200);
    assert_eq!(report(&app, &owner, &invited, 1, complaint()).await, json!("recorded"));

    // When it is resent deliberately and that mail is delivered
    let deliberate = app.post_as(&owner.token, &resend, json!({"deliberately": true})).await;
    assert_eq!(deliberate.status, 200, "{}", deliberate.body);
    assert_eq!(report(&app, &owner, &invited, 3, delivery()).await, json!("recorded"));

    // Then the address is still refused: a mailbox that complains takes mail
    let invitation = app.get_as(&owner.token, &invited.path).await.body;
    assert_eq!(
        (&invitation["delivery"], &invitation["address_refused"]),
        (&json!("delivered"), &json!(true))
    );
    let usual = app.post_as(&owner.token, &resend, json!({})).await;
    assert_eq!((usual.status, usual.code()), (409, "address_refused"), "{}", usual.body);
}

async fn a_delivery_and_a_soft_bounce_are_recorded_without_refusing_the_address(app: TestApp) {
    let owner = owner(&app).await;
    let invited = invite(&app, &owner).await;

    assert_eq!(report(&app, &owner, &invited, 1, delivery()).await, json!("recorded"));
    let delivered = app.get_as(&owner.token, &invited.path).await.body;
    assert_eq!(delivered["delivery"], "delivered");
    assert_eq!(undelivered_notices(&app, &owner).await, 0, "a delivery is not news to the inviter");

    assert_eq!(report(&app, &owner, &invited, 1, soft_bounce()).await, json!("recorded"));
    let bounced = app.get_as(&owner.token, &invited.path).await.body;
    assert_eq!((&bounced["delivery"], &bounced["address_refused"]), (&json!("bounced"), &json!(false)));
    assert_eq!(undelivered_notices(&app, &owner).await, 1);
    // A delivery reported late does not undo the bounce.
    assert_eq!(report(&app, &owner, &invited, 1, delivery()).await, json!("ignored"));
    let resent = app.post_as(&owner.token, &format!("{}/resend", invited.path), json!({})).await;
    assert_eq!(resent.status, 200, "a soft bounce refuses nothing: {}", resent.body);
}

async fn reports_of_mail_teamgate_did_not_send_change_nothing(app: TestApp) {
    // Given an invitation, and another account's
    let owner = owner(&app).await;
    let invited = invite(&app, &owner).await;
    let other = self::owner(&app).await;
    let (kind, body) = hard_bounce();

    // When SES reports on untagged mail, another account's id with this invitation, an unknown
    // invitation, a later send than was made, and an event Teamgate does not read
    let mut untagged = ses_event(&owner.account_id, &invited.id, 1, kind, body.clone());
    untagged["detail"]["mail"]["tags"] = json!({"ses:configuration-set": ["teamgate"]});
    let unknown = uuid::Uuid::now_v7().to_string();
    let mut opened = ses_event(&owner.account_id, &invited.id, 1, kind, body.clone());
    opened["detail"]["eventType"] = json!("Open");
    let events = [
        untagged,
        ses_event(&other.account_id, &invited.id, 1, kind, body.clone()),
        ses_event(&owner.account_id, &unknown, 1, kind, body.clone()),
        ses_event(&owner.account_id, "not-an-id", 1, kind, body.clone()),
        ses_event(&owner.account_id, &invited.id, 2, kind, body.clone()),
        opened,
    ];

    // Then each is ignored, and the invitation is as it was
    for event in events {
        let reply = app.post("/_dev/mail-events", event.clone()).await;
        assert_eq!((reply.status, &reply.body["reported"]), (200, &json!("ignored")), "{event}");
    }
    let invitation = app.get_as(&owner.token, &invited.path).await.body;
    assert_eq!((&invitation["delivery"], &invitation["address_refused"]), (&json!("sent"), &json!(false)));
    assert_eq!(undelivered_notices(&app, &owner).await, 0);
}

async fn reports_at_once_end_at_the_worst_of_them(app: TestApp) {
    // Given an invitation
    let owner = owner(&app).await;
    let invited = invite(&app, &owner).await;

    // When SES's four kinds of report on its mail arrive at the same moment
    let reports = [delivery(), soft_bounce(), hard_bounce(), complaint()];
    let answers =
        futures::future::join_all(reports.into_iter().map(|r| report(&app, &owner, &invited, 1, r))).await;

    // Then each was answered, and the invitation is as the worst of them leaves it
    assert!(answers.iter().any(|a| a == "recorded"), "{answers:?}");
    let invitation = app.get_as(&owner.token, &invited.path).await.body;
    assert_eq!(
        (&invitation["delivery"], &invitation["address_refused"]),
        (&json!("complained"), &json!(true))
    );
}

async fn an_inviter_blocked_since_is_not_told(app: TestApp) {
    // Given an invitation an administrator sent, who was blocked since
    let owner = owner(&app).await;
    let admin_email = format!("admin-{}@mail-events.example", uuid::Uuid::now_v7().simple());
    let admin_token = app.member(&owner, &admin_email, &["administrator"], &[]).await;
    let admin =
        Owner { account_id: owner.account_id.clone(), email: admin_email.clone(), token: admin_token };
    let invited = invite(&app, &admin).await;
    let members = format!("/v1/accounts/{}/members", owner.account_id);
    let found =
        app.get_as(&owner.token, &format!("{members}?q={}", admin_email.split('@').next().unwrap())).await;
    let admin_id = found.body["items"][0]["user_id"].as_str().unwrap().to_owned();
    let blocked = app.post_as(&owner.token, &format!("{members}/{admin_id}/block"), json!({})).await;
    assert_eq!(blocked.status, 200, "{}", blocked.body);

    // When its mail bounces
    assert_eq!(report(&app, &owner, &invited, 1, hard_bounce()).await, json!("recorded"));

    // Then the invitation shows it, and the blocked inviter was not mailed of it
    let invitation = app.get_as(&owner.token, &invited.path).await.body;
    assert_eq!(invitation["delivery"], "bounced");
    assert_eq!(undelivered_notices(&app, &admin).await, 0);
}

tests::scenarios!(
    an_inviter_blocked_since_is_not_told,
    reports_at_once_end_at_the_worst_of_them,
    a_hard_bounce_marks_the_invitation_audits_it_and_tells_the_inviter_once,
    a_bounced_address_is_resent_only_deliberately_until_a_mail_to_it_is_delivered,
    a_complaint_refuses_the_address_even_after_a_delivery_and_when_it_comes_late,
    a_delivery_and_a_soft_bounce_are_recorded_without_refusing_the_address,
    reports_of_mail_teamgate_did_not_send_change_nothing,
);

#[tokio::test]
async fn a_filter_on_delivery_that_is_no_delivery_is_a_field_error() {
    let app = tests::app::spawn_app().await;
    let owner = owner(&app).await;
    let reply = app
        .get_as(&owner.token, &format!("/v1/accounts/{}/invitations?delivery=lost", owner.account_id))
        .await;
    assert_eq!((reply.status, reply.code()), (400, "validation_failed"), "{}", reply.body);
    assert_eq!(reply.field_errors()[0].0, "delivery");
}
