//! Asking for a new link (README, "Asking for a new link"): an invitee holding an expired link
//! asks, the people who manage the team are mailed once, the history and the audit log show it,
//! and a resend answers it; any other link gets the same answer and changes nothing.

use serde_json::{Value, json};
use tests::app::{Owner, TestApp};

const ASK: &str = "/v1/invitations/renewal-requests";
const TWO_DAYS_AND_AN_HOUR: u64 = 49 * 3600;

/// The mails that told `to` of a renewal request.
async fn requests_mailed_to(app: &TestApp, to: &str) -> Vec<Value> {
    let mail = app.mail_to(to).await;
    mail.into_iter().filter(|m| m["subject"].as_str().is_some_and(|s| s.contains("asks for a new"))).collect()
}

async fn invitation_of(app: &TestApp, owner: &Owner, email: &str) -> Value {
    let list = app.get_as(&owner.token, &format!("{}/invitations?limit=100", owner.account_path())).await;
    let items = list.body["items"].as_array().expect("items").clone();
    items.into_iter().find(|i| i["email"] == email).unwrap_or_else(|| panic!("no invitation to {email}"))
}

async fn renewal_events(app: &TestApp, owner: &Owner) -> Vec<Value> {
    let path = format!("{}/audit-events?action=invitation.renewal_requested", owner.account_path());
    app.get_as(&owner.token, &path).await.body["items"].as_array().expect("items").clone()
}

async fn an_invitee_with_an_expired_link_asks_and_the_managers_are_told_once(app: TestApp) {
    // Given an administrator who invited Anna, a viewer, and Anna's link two days past
    let owner = app.owner("standard", "owner@renew.example").await;
    let admin = app.member(&owner, "admin@renew.example", &["administrator"], &[]).await;
    app.member(&owner, "viewer@renew.example", &["viewer"], &[]).await;
    let path = format!("{}/invitations", owner.account_path());
    let invited =
        app.post_as(&admin, &path, json!({"email": "anna@renew.example", "roles": ["viewer"]})).await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let token = app.link_token("anna@renew.example").await;
    app.advance_clock(TWO_DAYS_AND_AN_HOUR).await;
    let owner = app.signed_in_again(owner).await;

    // When Anna asks for a new link with it, twice
    let asked = app.post(ASK, json!({ "token": token })).await;
    let again = app.post(ASK, json!({ "token": token })).await;

    // Then each time the answer is the same empty acceptance
    assert_eq!((asked.status, &asked.body), (202, &json!({})));
    assert_eq!((again.status, &again.body), (202, &json!({})));

    // And the inviter and the owner were mailed once, naming Anna; the viewer was not
    for manager in ["admin@renew.example", "owner@renew.example"] {
        let mailed = requests_mailed_to(&app, manager).await;
        assert_eq!(mailed.len(), 1, "{manager}: {mailed:?}");
        assert!(mailed[0]["text"].as_str().unwrap().contains("anna@renew.example"), "{}", mailed[0]);
    }
    assert!(requests_mailed_to(&app, "viewer@renew.example").await.is_empty());

    // And the history shows the request on the expired invitation, the audit log once
    let expired = invitation_of(&app, &owner, "anna@renew.example").await;
    assert_eq!(expired["status"], "expired", "{expired}");
    assert!(expired["renewal_requested_at"].is_string(), "{expired}");
    let events = renewal_events(&app, &owner).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (&events[0]["target_id"], &events[0]["details"]["managers_mailed"]),
        (&expired["id"], &json!(2))
    );

    // And one action of a manager sends Anna a new link, which is live
    let resend = format!("{path}/{}/resend", expired["id"].as_str().unwrap());
    let resent = app.post_as(&owner.token, &resend, json!({})).await;
    assert!(resent.status == 200 || resent.status == 201, "{}", resent.body);
    assert_eq!(resent.body["renewal_requested_at"], Value::Null, "{}", resent.body);
    let fresh = app.link_token("anna@renew.example").await;
    assert_ne!(fresh, token);
    assert_eq!(app.post("/v1/invitations/inspect", json!({ "token": fresh })).await.status, 200);

    // And the old link asks for nothing more
    assert_eq!(app.post(ASK, json!({ "token": token })).await.status, 202);
    assert_eq!(requests_mailed_to(&app, "owner@renew.example").await.len(), 1);
    assert_eq!(renewal_events(&app, &owner).await.len(), 1);
}

async fn a_cleaned_up_invitation_is_asked_for_as_well(app: TestApp) {
    // Given an invitation whose link lapsed and that the cleanup has already expired
    let owner = app.owner("standard", "owner@renew-cleaned.example").await;
    app.invite(&owner, "bohdan@renew-cleaned.example", &["viewer"]).await;
    let token = app.link_token("bohdan@renew-cleaned.example").await;
    app.advance_clock(TWO_DAYS_AND_AN_HOUR).await;
    assert_eq!(app.cleanup().await.status, 200);
    let owner = app.signed_in_again(owner).await;

    // When Bohdan asks for a new link, then the owner is mailed and the history shows it
    assert_eq!(app.post(ASK, json!({ "token": token })).await.status, 202);
    assert_eq!(requests_mailed_to(&app, "owner@renew-cleaned.example").await.len(), 1);
    assert!(
        invitation_of(&app, &owner, "bohdan@renew-cleaned.example").await["renewal_requested_at"].is_string()
    );
}

async fn any_other_link_gets_the_same_answer_and_changes_nothing(app: TestApp) {
    // Given an owner with a live invitation, an accepted one, a revoked one, a ua-marketplace
    // owner's expired direct-mode invitation, and an account whose owner never activated
    let owner = app.owner("standard", "owner@renew-other.example").await;
    app.invite(&owner, "live@renew-other.example", &["viewer"]).await;
    let live = app.link_token("live@renew-other.example").await;
    app.member(&owner, "accepted@renew-other.example", &["viewer"], &[]).await;
    let accepted = app.link_token("accepted@renew-other.example").await;
    let revoked_invitation = app.invite(&owner, "revoked@renew-other.example", &["viewer"]).await;
    let revoked = app.link_token("revoked@renew-other.example").await;
    let revoke =
        format!("{}/invitations/{}/revoke", owner.account_path(), revoked_invitation["id"].as_str().unwrap());
    assert_eq!(app.post_as(&owner.token, &revoke, json!({})).await.status, 200);
    let ua = app.owner("ua-marketplace", "owner@renew-ua.example").await;
    let direct = json!({"email": "olena@renew-ua.example", "roles": ["administrator"],
        "first_name": "Олена", "last_name": "Коваль", "phone": "0931234577"});
    assert_eq!(
        app.post_as(&ua.token, &format!("{}/invitations", ua.account_path()), direct).await.status,
        201
    );
    let direct = app.link_token("olena@renew-ua.example").await;
    assert_eq!(app.create_account("standard", "never@renew-other.example").await.status, 201);
    let owners = app.link_token("never@renew-other.example").await;

    // When each is used to ask for a new link, the live one at once and the rest once lapsed,
    // and so are a made-up token and an empty one
    let mut answers = vec![app.post(ASK, json!({ "token": live })).await];
    app.advance_clock(TWO_DAYS_AND_AN_HOUR).await;
    for token in [accepted, revoked, direct, owners, "not-a-link".to_owned(), String::new()] {
        answers.push(app.post(ASK, json!({ "token": token })).await);
    }

    // Then every answer is the same, and no one was told of anything
    for answer in &answers {
        assert_eq!((answer.status, &answer.body), (202, &json!({})));
    }
    for manager in ["owner@renew-other.example", "owner@renew-ua.example"] {
        assert!(requests_mailed_to(&app, manager).await.is_empty(), "{manager}");
    }
    let owner = app.signed_in_again(owner).await;
    assert!(renewal_events(&app, &owner).await.is_empty());
}

async fn a_link_sent_again_since_asks_for_nothing(app: TestApp) {
    // Given Chen's lapsed invitation, which the owner sent again before Chen asked
    let owner = app.owner("standard", "owner@renew-resent.example").await;
    let invited = app.invite(&owner, "chen@renew-resent.example", &["viewer"]).await;
    let old = app.link_token("chen@renew-resent.example").await;
    app.advance_clock(TWO_DAYS_AND_AN_HOUR).await;
    let owner = app.signed_in_again(owner).await;
    let resend = format!("{}/invitations/{}/resend", owner.account_path(), invited["id"].as_str().unwrap());
    let resent = app.post_as(&owner.token, &resend, json!({})).await;
    assert!(resent.status == 200 || resent.status == 201, "{}", resent.body);

    // When Chen asks with the old link
    assert_eq!(app.post(ASK, json!({ "token": old })).await.status, 202);

    // Then no one is told: the new link is live
    assert!(requests_mailed_to(&app, "owner@renew-resent.example").await.is_empty());
    assert!(renewal_events(&app, &owner).await.is_empty());
}

async fn requests_from_one_client_are_limited(app: TestApp) {
    // Given a client that has asked ten times within the hour
    for _ in 0..10 {
        assert_eq!(app.post(ASK, json!({ "token": "not-a-link" })).await.status, 202);
    }

    // When it asks an eleventh time, then it is told to wait
    let limited = app.post(ASK, json!({ "token": "not-a-link" })).await;
    assert_eq!((limited.status, limited.code()), (429, "rate_limited"), "{}", limited.body);
    assert!(limited.headers.contains_key("retry-after"));

    // And a body that is not a token request is refused as such
    let malformed = app.post(ASK, json!({ "token": 7 })).await;
    assert_eq!(malformed.status, 400, "{}", malformed.body);
}

tests::scenarios!(
    an_invitee_with_an_expired_link_asks_and_the_managers_are_told_once,
    a_cleaned_up_invitation_is_asked_for_as_well,
    any_other_link_gets_the_same_answer_and_changes_nothing,
    a_link_sent_again_since_asks_for_nothing,
    requests_from_one_client_are_limited,
);
