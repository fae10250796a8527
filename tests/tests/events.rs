//! Team changes as events (README, "React to team changes"): every audited change is published
//! once, in the order written, named by its action, and never carries a secret. On the dev
//! server, whose `GET /_dev/events` stands in for the table's stream, the publisher and the bus;
//! and as deployed: DynamoDB Local's stream, filtered as the template filters it, given to the
//! publisher's binary under the Runtime API emulator, onto moto's EventBridge and through a
//! rule to an SQS queue.

use serde_json::{Value, json};
use std::collections::HashSet;

use std::sync::Arc;
use tests::app::{Owner, PASSWORD, TestApp, ses_mailer, spawn_app, spawn_app_on, spawn_app_on_memory};
use tests::emulators::{VERIFIED_SENDER, dynamo_store, emulators};
use tests::lambda_runtime::{RunningFunction, for_function, teamgate_environment};
use tests::streams::{Bus, matches, stream_event, stream_records, template_filter};

/// The owner's account after a day of changes: an invitation accepted, roles changed, a block
/// and an unblock, a revoked invitation, a deleted member, a settings change and an API key.
async fn a_day_of_changes(app: &TestApp) -> Owner {
    let owner = app.owner("ozon", "owner@events.example").await;
    let account = format!("/v1/accounts/{}", owner.account_id);
    app.member(&owner, "pm@events.example", &["product_manager"], &[]).await;
    let members = app.get_as(&owner.token, &format!("{account}/members?q=pm@")).await;
    let pm = format!("{account}/members/{}", members.body["items"][0]["user_id"].as_str().unwrap());
    for (path, body) in [
        (format!("{pm}/block"), json!({})),
        (format!("{pm}/unblock"), json!({})),
        (format!("{account}/api-keys"), json!({"name": "repricer", "permissions": ["products:read"]})),
    ] {
        let reply = app.post_as(&owner.token, &path, body).await;
        assert!(reply.status < 300, "{path}: {} {}", reply.status, reply.body);
    }
    let roles = app.put_as(&owner.token, &format!("{pm}/roles"), json!({"roles": ["administrator"]})).await;
    assert_eq!(roles.status, 200, "{}", roles.body);
    let invited = app
        .post_as(
            &owner.token,
            &format!("{account}/invitations"),
            json!({"email": "x@events.example", "roles": ["product_manager"]}),
        )
        .await;
    let invitation = format!("{account}/invitations/{}", invited.body["id"].as_str().unwrap());
    assert_eq!(app.post_as(&owner.token, &format!("{invitation}/revoke"), json!({})).await.status, 200);
    let settings =
        app.patch_as(&owner.token, &format!("{account}/settings"), json!({"invitation_ttl_hours": 24})).await;
    assert_eq!(settings.status, 200, "{}", settings.body);
    assert_eq!(app.delete_as(&owner.token, &pm).await.status, 204);
    owner
}

/// The account's audit log, oldest first.
async fn audit_log(app: &TestApp, owner: &Owner) -> Vec<Value> {
    let log =
        app.get_as(&owner.token, &format!("/v1/accounts/{}/audit-events?limit=100", owner.account_id)).await;
    assert_eq!(log.status, 200, "{}", log.body);
    log.body["items"].as_array().unwrap().iter().rev().cloned().collect()
}

/// `events` are the account's audit log, each event once, in the order of `a_day_of_changes`,
/// each as the bus carries it.
fn assert_published_once_as_audited(events: &[Value], log: &[Value], owner: &Owner) {
    let published: HashSet<&Value> = events.iter().map(|e| &e["detail"]["event_id"]).collect();
    let written: HashSet<&Value> = log.iter().map(|e| &e["id"]).collect();
    assert_eq!((published, events.len()), (written, log.len()));
    let mut names: Vec<&str> = events.iter().map(|e| e["detail-type"].as_str().unwrap()).collect();
    // The account and its owner's link are one write: their two events come in either order.
    names[..2].sort();
    assert_eq!(
        names,
        [
            "Account Created",
            "Invitation Sent",
            "Invitation Accepted",
            "Invitation Sent",
            "Invitation Accepted",
            "Member Blocked",
            "Member Unblocked",
            "API Key Created",
            "Member Roles Changed",
            "Invitation Sent",
            "Invitation Revoked",
            "Settings Changed",
            "Member Deleted",
        ]
    );
    let audited = |id: &Value| log.iter().find(|e| &e["id"] == id).unwrap();
    for event in events {
        assert_eq!(event["source"], "teamgate");
        let detail = &event["detail"];
        let audited = audited(&detail["event_id"]);
        assert_eq!(detail["account_id"], owner.account_id.as_str());
        assert_eq!(detail["action"], audited["action"]);
        assert_eq!(detail["subject"], json!({"type": audited["target_type"], "id": audited["target_id"]}));
        assert_eq!(detail["actor_id"], audited["actor_id"]);
        assert_eq!((&detail["at"], &detail["data"]), (&audited["at"], &audited["details"]));
    }
}

#[tokio::test]
async fn every_audited_change_is_published_once_in_order_named_by_its_action() {
    // Given a day of changes to an account
    let app = spawn_app().await;
    let owner = a_day_of_changes(&app).await;

    // When the events are read, twice
    let first = app.get("/_dev/events").await;
    let again = app.get("/_dev/events").await;

    // Then each audit event is there once, in the order of the changes, as the bus carries it
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body, again.body, "nothing is published twice");
    let events = first.body["items"].as_array().unwrap();
    assert_published_once_as_audited(events, &audit_log(&app, &owner).await, &owner);
}

#[tokio::test]
async fn no_event_carries_a_token_a_link_or_a_password_hash() {
    // Given a day of changes, with every link it mailed and every secret it handed out
    let app = spawn_app().await;
    a_day_of_changes(&app).await;
    let mail = app.get("/_dev/mail").await.body;
    let links: HashSet<String> = mail["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["links"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_owned()))
        .collect();
    assert!(!links.is_empty());

    // When the events are read
    let events = app.get("/_dev/events").await.body.to_string();

    // Then none of them is in any event
    for link in &links {
        let token = link.split_once("#token=").map_or(link.as_str(), |(_, token)| token);
        assert!(!events.contains(token), "{token}");
    }
    for secret in ["$argon2", "tgk_", PASSWORD, "#token="] {
        assert!(!events.contains(secret), "{secret}");
    }
}

#[tokio::test]
async fn an_invitation_and_a_resend_whose_mail_ses_refused_stand_and_are_published() {
    // Given an account, and an app on the same store whose mail SES refuses
    let store = Arc::new(shared::adapters::memory::MemoryStore::new());
    let app = spawn_app_on_memory(store.clone(), ses_mailer(VERIFIED_SENDER).await).await;
    let owner = app.owner("ozon", "owner@refused-events.example").await;
    let rejecting = spawn_app_on_memory(store, ses_mailer("unverified@sender.example").await).await;
    let token = rejecting.sign_in("owner@refused-events.example", PASSWORD).await.str("access_token");

    // When an invitation is written and its mail refused; and an invitation sent is resent, and
    // that mail refused
    let invitations = format!("/v1/accounts/{}/invitations", owner.account_id);
    let refused = json!({"email": "new@refused-events.example", "roles": ["product_manager"]});
    let invited = rejecting.post_as(&token, &invitations, refused).await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let sent = json!({"email": "sent@refused-events.example", "roles": ["product_manager"]});
    let sent = app.post_as(&owner.token, &invitations, sent).await;
    let resend = format!("{invitations}/{}/resend", sent.str("id"));
    let resent = rejecting.post_as(&token, &resend, json!({})).await;
    assert_eq!(resent.status, 200, "{}", resent.body);

    // Then both stand, audited and published as they happened (their mail shows failed)
    let events = app.get("/_dev/events").await.body;
    let names: Vec<&str> =
        events["items"].as_array().unwrap().iter().map(|e| e["detail-type"].as_str().unwrap()).collect();
    assert_eq!(
        names.iter().filter(|n| **n == "Invitation Sent").count(),
        3,
        "the owner's link, the refused one and the one sent: {names:?}"
    );
    assert!(names.contains(&"Invitation Resent"), "{names:?}");
    assert!(audit_log(&app, &owner).await.iter().any(|e| e["action"] == "invitation.resent"));
}

/// Gives `records` to the publisher in batches of `batch`, as the event-source mapping does:
/// a batch answered with a failed record is given again from that record on.
fn publish_all(publisher: &mut RunningFunction, records: &[Value], batch: usize) {
    let mut next = 0;
    let mut attempts = 0;
    while next < records.len() {
        attempts += 1;
        assert!(attempts < 100, "the publisher keeps failing\n{}", publisher.logs());
        let given = &records[next..(next + batch).min(records.len())];
        let answer =
            publisher.invoke(stream_event(given)).unwrap_or_else(|e| panic!("{e}\n{}", publisher.logs()));
        next += match answer["batchItemFailures"][0]["itemIdentifier"].as_str() {
            None => given.len(),
            Some(failed) => given.iter().position(|r| r["dynamodb"]["SequenceNumber"] == failed).unwrap(),
        };
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn on_aws_every_audited_change_reaches_the_bus_once_in_order_through_the_stream() {
    // Given a day of changes on DynamoDB Local
    let store = Arc::new(dynamo_store().await);
    let table = store.table_name().to_owned();
    let app = spawn_app_on(store.clone(), ses_mailer(VERIFIED_SENDER).await, |_| {}).await;
    let owner = a_day_of_changes(&app).await;
    let log = audit_log(&app, &owner).await;
    let bus = Bus::create().await;

    // When the table's stream, as the template filters it, is given to the publisher: first
    // while the bus cannot be reached, then to one that can reach it
    let filter = template_filter("PublisherFunction", "Stream");
    let records: Vec<Value> =
        stream_records(&table).await.into_iter().filter(|r| matches(&filter, r)).collect();
    let bus_name = bus.name.clone();
    let answer_while_down = tokio::task::spawn_blocking(move || {
        let mut environment = for_function("publisher", &teamgate_environment());
        environment.insert("TABLE_NAME", table);
        environment.insert("EVENT_BUS_NAME", bus_name);
        environment.insert("EVENTBRIDGE_ENDPOINT", "http://127.0.0.1:9".into());
        let mut down = RunningFunction::start_with("publisher", environment.clone());
        let answer = down.invoke(stream_event(&records[..4])).unwrap_or_else(|e| panic!("{e}"));
        environment.insert("EVENTBRIDGE_ENDPOINT", emulators().moto.clone());
        let mut publisher = RunningFunction::start_with("publisher", environment);
        publish_all(&mut publisher, &records, 4);
        (answer, records)
    })
    .await
    .unwrap();
    let (answer, records) = answer_while_down;

    // Then the first record was given back while the bus was down, and in the end every audit
    // event is on the bus once, in the order written
    let first = &records[0]["dynamodb"]["SequenceNumber"];
    assert_eq!(answer, json!({"batchItemFailures": [{"itemIdentifier": first}]}));
    assert_eq!(records.len(), log.len(), "the filter passes audit events, and only those");
    let delivered = bus.delivered().await;
    assert_published_once_as_audited(&delivered, &log, &owner);
    let in_stream_order: Vec<Value> = records
        .iter()
        .filter_map(|r| r["dynamodb"]["Keys"]["SK"]["S"].as_str()?.strip_prefix("EVENT#"))
        .filter(|id| log.iter().any(|e| e["id"] == *id))
        .map(|id| json!(id))
        .collect();
    let on_the_bus: Vec<Value> = delivered.iter().map(|e| e["detail"]["event_id"].clone()).collect();
    assert_eq!(on_the_bus, in_stream_order);
}

#[test]
fn the_readme_names_every_event() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    for action in shared::domain::AuditAction::ALL {
        assert!(readme.contains(&format!("| `{}` |", action.detail_type())), "{action:?}");
    }
}
