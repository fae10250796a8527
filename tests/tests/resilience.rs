//! When DynamoDB, SES or KMS stumble: an outage that outlasts the SDK's retries answers `503
//! service_unavailable` with `Retry-After` and leaves nothing half-written; a stalled call gives
//! up inside the function's timeout; a request the service refuses is a bug, answered `500`. A
//! `FaultProxy` between the application and the emulators injects the faults.

use serde_json::json;
use std::sync::Arc;
use tests::app::{PASSWORD, Reply, TestApp, ses_mailer, spawn_app_on};
use tests::emulators::{
    EMULATOR_SES, VERIFIED_SENDER, dynamo_store, dynamo_store_through, emulators, sent_messages, ses_config,
    snapshot, snapshot_except,
};
use tests::faults::{Fault, FaultProxy};

use shared::adapters::aws::FUNCTION_TIMEOUT;
use shared::adapters::dynamodb::DynamoStore;

/// An application reaching its table through `proxy` (its owner set up by another that reaches
/// DynamoDB Local directly); `token` is the owner's session on `faulty`.
struct FaultyTable {
    faulty: TestApp,
    proxy: FaultProxy,
    store: Arc<DynamoStore>,
    account_id: String,
    token: String,
}

async fn faulty_table(owner_email: &str) -> FaultyTable {
    let store = Arc::new(dynamo_store().await);
    let proxy = FaultProxy::start(&emulators().dynamodb).await;
    let through = Arc::new(dynamo_store_through(&proxy.endpoint, store.table_name()));
    let healthy = spawn_app_on(store.clone(), ses_mailer(VERIFIED_SENDER).await, |_| {}).await;
    let owner = healthy.owner("standard", owner_email).await;
    let faulty = spawn_app_on(through, ses_mailer(VERIFIED_SENDER).await, |_| {}).await;
    let token = faulty.sign_in(owner_email, PASSWORD).await.str("access_token");
    FaultyTable { faulty, proxy, store, account_id: owner.account_id, token }
}

impl FaultyTable {
    async fn invite(&self, app: &TestApp, email: &str) -> Reply {
        let path = format!("/v1/accounts/{}/invitations", self.account_id);
        app.post_as(&self.token, &path, json!({"email": email, "roles": ["viewer"]})).await
    }
}

fn is_write(operation: &str) -> bool {
    matches!(operation, "PutItem" | "UpdateItem" | "DeleteItem" | "TransactWriteItems" | "BatchWriteItem")
}

#[track_caller]
fn assert_unavailable(reply: &Reply) {
    assert_eq!((reply.status, reply.code()), (503, "service_unavailable"), "{}", reply.body);
    assert_eq!(reply.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("2"));
    assert_eq!(
        reply.body["detail"],
        "A service Teamgate depends on is unavailable right now; retry after Retry-After seconds.",
        "no internals leak"
    );
}

#[tokio::test]
async fn a_table_that_keeps_failing_or_throttling_answers_503_and_nothing_is_half_written() {
    let table = faulty_table("owner@outage.example").await;
    let before = snapshot(&table.store).await;

    for fault in [Fault::ServerError, Fault::Throttled] {
        table.proxy.set_plan(move |operation, _| if is_write(operation) { fault } else { Fault::Pass });
        let invited = table.invite(&table.faulty, "new@outage.example").await;
        assert_unavailable(&invited);

        table.proxy.always(fault);
        assert_unavailable(&table.faulty.sign_in("owner@outage.example", PASSWORD).await);
        assert_unavailable(&table.faulty.create_account("standard", "second@outage.example").await);
    }

    assert_eq!(snapshot(&table.store).await, before, "no item written, none half-written");
    assert!(sent_messages().await.iter().all(|m| !m.to_string().contains("new@outage.example")));
    table.proxy.always(Fault::Pass);
    let retried = table.invite(&table.faulty, "new@outage.example").await;
    assert_eq!(retried.status, 201, "the same request succeeds once the table is back: {}", retried.body);
}

#[tokio::test]
async fn a_stalled_table_gives_up_with_503_before_the_function_would_be_stopped() {
    let table = faulty_table("owner@stall.example").await;
    let before = snapshot(&table.store).await;
    table.proxy.always(Fault::Stall);

    let invited = tokio::time::timeout(FUNCTION_TIMEOUT, table.invite(&table.faulty, "new@stall.example"))
        .await
        .expect("the request gives up by itself, before Lambda would stop it");

    assert_unavailable(&invited);
    assert!(table.proxy.faults().iter().all(|(_, fault)| *fault == Fault::Stall));
    assert_eq!(snapshot(&table.store).await, before);
}

#[tokio::test]
async fn a_request_the_table_refuses_is_a_bug_answered_500_not_503() {
    let table = faulty_table("owner@refused.example").await;
    table.proxy.always(Fault::Refused);

    let invited = table.invite(&table.faulty, "new@refused.example").await;

    assert_eq!((invited.status, invited.code()), (500, "internal"), "{}", invited.body);
    assert!(invited.headers.get("retry-after").is_none(), "retrying a bug does not help");
    let mut refused: Vec<String> = table.proxy.faults().into_iter().map(|(operation, _)| operation).collect();
    refused.sort();
    assert_eq!(refused, ["BatchGetItem", "Query"], "the caller's two reads, each refused once: not retried");
}

#[tokio::test]
async fn a_mail_service_outage_answers_503_and_takes_the_invitation_back() {
    let store = Arc::new(dynamo_store().await);
    let healthy = spawn_app_on(store.clone(), ses_mailer(VERIFIED_SENDER).await, |_| {}).await;
    let owner = healthy.owner("standard", "owner@mail-outage.example").await;
    let proxy = FaultProxy::start(&emulators().moto).await;
    let sender = shared::adapters::ses::Sender {
        from: VERIFIED_SENDER.into(),
        reply_to: None,
        configuration_set: None,
    };
    let config = ses_config().await.endpoint_url(&proxy.endpoint);
    let mailer = Arc::new(shared::adapters::ses::SesMailer::new(config, sender, EMULATOR_SES));
    let faulty = spawn_app_on(store.clone(), mailer, |_| {}).await;
    let token = faulty.sign_in("owner@mail-outage.example", PASSWORD).await.str("access_token");
    let before = snapshot_except(&store, is_rate_counter).await;
    proxy.always(Fault::ServerError);

    let path = format!("/v1/accounts/{}/invitations", owner.account_id);
    let invited =
        faulty.post_as(&token, &path, json!({"email": "new@mail-outage.example", "roles": ["viewer"]})).await;

    assert_unavailable(&invited);
    assert_eq!(proxy.faults().len(), EMULATOR_SES.max_attempts as usize, "every attempt was made");
    assert_eq!(snapshot_except(&store, is_rate_counter).await, before, "the invitation was taken back");
    proxy.always(Fault::Pass);
    let retried =
        faulty.post_as(&token, &path, json!({"email": "new@mail-outage.example", "roles": ["viewer"]})).await;
    assert_eq!(retried.status, 201, "{}", retried.body);
    assert_eq!(healthy.mail_to("new@mail-outage.example").await.len(), 1, "mailed once, by the retry");
}

/// A rate counter: every attempt counts, the failed ones too.
fn is_rate_counter(item: &serde_json::Value) -> bool {
    item["PK"]["S"].as_str().is_some_and(|pk| pk.starts_with("RATE#"))
}
