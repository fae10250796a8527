//! When DynamoDB, SES or KMS stumble: an outage that outlasts the SDK's retries answers `503
//! service_unavailable` with `Retry-After` and leaves nothing half-written; a stalled call gives
//! up inside the function's timeout; a request the service refuses is a bug, answered `500`. A
//! `FaultProxy` between the application and the emulators injects the faults.

use serde_json::json;
use std::sync::Arc;
use tests::app::{Owner, PASSWORD, Reply, TestApp, ses_mailer, spawn_app_on};
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

/// A fresh table, and an application reaching it through a proxy that lets every call pass
/// until the test says otherwise.
async fn app_through_proxy() -> (Arc<DynamoStore>, FaultProxy, TestApp) {
    app_through_proxy_with(|_| {}).await
}

async fn app_through_proxy_with(
    adjust: impl FnOnce(&mut shared::service::Settings),
) -> (Arc<DynamoStore>, FaultProxy, TestApp) {
    let store = Arc::new(dynamo_store().await);
    let proxy = FaultProxy::start(&emulators().dynamodb).await;
    let through = Arc::new(dynamo_store_through(&proxy.endpoint, store.table_name()));
    let app = spawn_app_on(through, ses_mailer(VERIFIED_SENDER).await, adjust).await;
    (store, proxy, app)
}

async fn faulty_table(owner_email: &str) -> FaultyTable {
    let (store, proxy, faulty) = app_through_proxy().await;
    faulty_table_on(store, proxy, faulty, owner_email).await
}

async fn faulty_table_on(
    store: Arc<DynamoStore>,
    proxy: FaultProxy,
    faulty: TestApp,
    owner_email: &str,
) -> FaultyTable {
    let healthy = spawn_app_on(store.clone(), ses_mailer(VERIFIED_SENDER).await, |_| {}).await;
    let owner = healthy.owner("standard", owner_email).await;
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
    assert_eq!(snapshot(&table.store).await, before);
}

#[tokio::test]
async fn a_bulk_request_on_a_stalled_table_answers_before_the_function_would_be_stopped() {
    // Given a function's application (its rows begin within a time) on a table that stalls
    // every invitation's write, and a hundred rows to send
    let (store, proxy, faulty) = app_through_proxy_with(|settings| {
        settings.bulk_rows_begin_within = Some(shared::service::bulk_invite::START_ROWS_WITHIN);
    })
    .await;
    let table = faulty_table_on(store, proxy, faulty, "owner@bulk-stall.example").await;
    let path = format!("/v1/accounts/{}/invitations/bulk", table.account_id);
    let rows: Vec<_> = (1..=100)
        .map(|n| json!({"email": format!("w{n}@bulk-stall.example"), "roles": ["viewer"]}))
        .collect();
    table.proxy.set_plan(|operation, _| match operation {
        "TransactWriteItems" => Fault::Stall,
        _ => Fault::Pass,
    });

    // When they are sent, then the answer comes inside the function's time: the rows begun
    // gave up on the table, the rest were not begun, every one a 503 to send again
    let sent = tokio::time::timeout(
        FUNCTION_TIMEOUT,
        table.faulty.post_once(Some(&table.token), &path, "stalled-1", json!({ "invitations": rows })),
    )
    .await
    .expect("the request answers by itself, before Lambda would stop it");
    assert_eq!((sent.status, &sent.body["created"]), (200, &json!(0)), "{}", sent.body);
    let results = sent.body["results"].as_array().expect("results");
    assert!(results.iter().all(|r| r["problem"]["code"] == "service_unavailable" && r["retry_after"] == 2));
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
async fn a_mail_service_outage_never_fails_the_invitation_whose_mail_waits_in_the_outbox_until_sent() {
    // Given an owner whose app mails through SES behind a proxy, and SES failing every call
    let FaultyMail { healthy, owner, proxy, faulty, token, .. } =
        faulty_mail("owner@mail-outage.example").await;
    proxy.always(Fault::ServerError);

    // When the owner invites someone
    let path = format!("/v1/accounts/{}/invitations", owner.account_id);
    let invited =
        faulty.post_as(&token, &path, json!({"email": "new@mail-outage.example", "roles": ["viewer"]})).await;

    // Then the invitation is made, its mail waits (every attempt was made), and nobody is mailed
    assert_eq!(invited.status, 201, "{}", invited.body);
    assert_eq!(proxy.faults().len(), EMULATOR_SES.max_attempts as usize, "every attempt was made");
    let one = format!("{path}/{}", invited.str("id"));
    assert_eq!(faulty.get_as(&token, &one).await.body["delivery"], "pending");
    assert!(healthy.mail_to("new@mail-outage.example").await.is_empty());

    // And once SES is back, the sweep sends it, once, and the invitation shows it sent
    proxy.always(Fault::Pass);
    faulty.advance_clock(60 * 60).await;
    let swept = faulty.post("/_dev/cleanup", json!({})).await;
    assert_eq!(swept.body["mail"]["sent"], 1, "{}", swept.body);
    let token = faulty.sign_in("owner@mail-outage.example", PASSWORD).await.str("access_token");
    assert_eq!(faulty.get_as(&token, &one).await.body["delivery"], "sent");
    let again = faulty.post("/_dev/cleanup", json!({})).await;
    assert_eq!(again.body["mail"]["sent"], 0, "{}", again.body);
    assert_eq!(healthy.mail_to("new@mail-outage.example").await.len(), 1, "mailed once");
}

/// An owner of a fresh table's account, made through an application that mails as usual
/// (`healthy`), and one that mails through SES behind a proxy (`faulty`, with the owner signed in).
struct FaultyMail {
    store: Arc<DynamoStore>,
    healthy: TestApp,
    owner: Owner,
    proxy: FaultProxy,
    faulty: TestApp,
    token: String,
}

async fn faulty_mail(owner_email: &str) -> FaultyMail {
    let store = Arc::new(dynamo_store().await);
    let healthy = spawn_app_on(store.clone(), ses_mailer(VERIFIED_SENDER).await, |_| {}).await;
    let owner = healthy.owner("standard", owner_email).await;
    let proxy = FaultProxy::start(&emulators().moto).await;
    let sender = shared::adapters::ses::Sender {
        from: VERIFIED_SENDER.into(),
        reply_to: None,
        configuration_set: None,
    };
    let config = ses_config().await.endpoint_url(&proxy.endpoint);
    let mailer = Arc::new(shared::adapters::ses::SesMailer::new(config, sender, EMULATOR_SES));
    let faulty = spawn_app_on(store.clone(), mailer, |_| {}).await;
    let token = faulty.sign_in(owner_email, PASSWORD).await.str("access_token");
    FaultyMail { store, healthy, owner, proxy, faulty, token }
}

#[tokio::test]
async fn mail_through_a_flaky_mail_service_goes_at_least_once_or_shows_failed_and_never_to_anyone_else() {
    // Given an owner, and an app of theirs whose SES fails, throttles or loses the answer of 40%
    // of its calls
    let FaultyMail { store, healthy, owner, proxy, faulty, token } =
        faulty_mail("owner@flaky-mail.example").await;
    proxy.set_plan(random_faults(40));

    // When they invite twelve people at once, and the outbox is swept every hour for eight hours
    let path = format!("/v1/accounts/{}/invitations", owner.account_id);
    let emails: Vec<String> = (0..12).map(|n| format!("person{n}@flaky-mail.example")).collect();
    let invited = futures::future::join_all(
        emails
            .iter()
            .map(|email| faulty.post_as(&token, &path, json!({"email": email, "roles": ["viewer"]}))),
    )
    .await;
    for answer in &invited {
        assert_eq!(answer.status, 201, "an SES fault never fails the request: {}", answer.body);
    }
    for _ in 0..8 {
        faulty.advance_clock(60 * 60).await;
        let swept = faulty.post("/_dev/cleanup", json!({})).await;
        assert_eq!((swept.status, swept.body["mail"]["failed"].as_u64()), (200, Some(0)), "{}", swept.body);
    }

    // Then no mail waits; each invitation's mail was sent (and reached its address) or shows
    // failed; a second copy of a link went only where SES lost the answer to a send; and nobody
    // else got mail
    let items = tests::emulators::scan_table(&store).await;
    assert!(items.iter().all(|i| !i["PK"]["S"].as_str().is_some_and(|pk| pk.starts_with("MAIL#"))));
    let listed = healthy.get_as(&owner.token, &format!("{path}?limit=100")).await;
    let invitations: Vec<serde_json::Value> = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["email"] != "owner@flaky-mail.example")
        .cloned()
        .collect();
    let mails: Vec<String> = sent_messages()
        .await
        .iter()
        .filter_map(|m| m["destinations"]["ToAddresses"][0].as_str().map(str::to_owned))
        .filter(|to| to.ends_with("@flaky-mail.example") && to != "owner@flaky-mail.example")
        .collect();
    let mut extra = 0;
    for invitation in &invitations {
        let email = invitation["email"].as_str().expect("an email");
        let copies = mails.iter().filter(|to| *to == email).count();
        match invitation["delivery"].as_str() {
            Some("sent") => assert!(copies >= 1, "{email}: sent, but never mailed"),
            Some("failed") => {}
            other => panic!("{email}: delivery {other:?}"),
        }
        extra += copies.saturating_sub(usize::from(invitation["delivery"] == "sent"));
    }
    let lost = proxy.faults().iter().filter(|(_, fault)| *fault == Fault::AppliedThenLost).count();
    assert!(extra <= lost, "{extra} copies beyond one per link, {lost} answers lost");
    assert!(mails.iter().all(|to| emails.contains(to)), "{mails:?}");
    assert_eq!(invitations.len(), emails.len());
}

/// A rate counter: every attempt counts, the failed ones too.
fn is_rate_counter(item: &serde_json::Value) -> bool {
    item["PK"]["S"].as_str().is_some_and(|pk| pk.starts_with("RATE#"))
}

/// A fault plan for the workload: about `percent` of calls meet a fault, picked by a hash of the
/// call's number (concurrent clients interleave differently from run to run, so which call
/// meets which fault varies; the share does not).
fn random_faults(percent: u64) -> impl Fn(&str, usize) -> Fault + Send + Sync + 'static {
    move |_, number| {
        let hash = (number as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
        match (hash % 100, hash / 100 % 10) {
            (roll, _) if roll >= percent => Fault::Pass,
            (_, 0..=5) => Fault::ServerError,
            (_, 6..=7) => Fault::AppliedThenLost,
            _ => Fault::Throttled,
        }
    }
}

/// Sends a request again after a `503`, as the README tells clients to (without the wait: the
/// proxy's faults do not depend on time), six times at most; every answer is kept.
async fn patiently<F, Fut>(answers: &tokio::sync::Mutex<Vec<(String, u16)>>, step: &str, send: F) -> Reply
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    let mut sent = 0;
    loop {
        // No request runs past the time its function has: it answers, or gives up with a 503.
        let reply = tokio::time::timeout(FUNCTION_TIMEOUT, send())
            .await
            .unwrap_or_else(|_| panic!("{step} ran past the function's timeout"));
        sent += 1;
        answers.lock().await.push((step.to_owned(), reply.status));
        if reply.status != 503 || sent == 6 {
            return reply;
        }
    }
}

/// One owner's day: an account, its activation, invitations, an acceptance, a revoke, a resend,
/// a role change, a block and an unblock, a password reset request.
async fn working_day(app: &TestApp, n: usize, answers: &tokio::sync::Mutex<Vec<(String, u16)>>) {
    let owner_email = format!("owner{n}@workload.example");
    let created = patiently(answers, "create account", || app.create_account("standard", &owner_email)).await;
    if created.status != 201 {
        return;
    }
    let Some(link) = mailed_link(app, &owner_email, answers).await else { return };
    if patiently(answers, "activate", || app.activate(&link)).await.status != 200 {
        return;
    }
    let signed_in = patiently(answers, "sign in", || app.sign_in(&owner_email, PASSWORD)).await;
    if signed_in.status != 200 {
        return;
    }
    let token = signed_in.str("access_token");
    let account = format!("/v1/accounts/{}", created.body["account"]["id"].as_str().unwrap());
    let invitations = format!("{account}/invitations");
    let mut invited = Vec::new();
    for i in 0..3 {
        let email = format!("member{i}.{n}@workload.example");
        let body = json!({"email": email, "roles": ["viewer"]});
        let reply = patiently(answers, "invite", || app.post_as(&token, &invitations, body.clone())).await;
        if reply.status == 201 {
            invited.push((email, reply.str("id")));
        }
    }
    if let [(first, _), (_, second), (_, third), ..] = invited.as_slice() {
        let Some(link) = mailed_link(app, first, answers).await else { return };
        let accepted = patiently(answers, "accept", || app.activate(&link)).await;
        let revoke = format!("{account}/invitations/{second}/revoke");
        patiently(answers, "revoke", || app.post_as(&token, &revoke, json!({}))).await;
        let resend = format!("{account}/invitations/{third}/resend");
        patiently(answers, "resend", || app.post_as(&token, &resend, json!({}))).await;
        if accepted.status == 200 {
            let member = accepted.body["user_id"].as_str().unwrap_or_default().to_owned();
            let roles = format!("{account}/members/{member}/roles");
            let body = json!({"roles": ["editor"], "permissions": []});
            patiently(answers, "set roles", || app.put_as(&token, &roles, body.clone())).await;
            let block = format!("{account}/members/{member}/block");
            patiently(answers, "block", || app.post_as(&token, &block, json!({}))).await;
            let unblock = format!("{account}/members/{member}/unblock");
            patiently(answers, "unblock", || app.post_as(&token, &unblock, json!({}))).await;
        }
        let reset = json!({"email": first});
        patiently(answers, "reset", || app.post("/v1/password-reset", reset.clone())).await;
    }
}

/// The newest link mailed to `to`, waited for as its reader would: a mail whose send from the
/// request met a fault waits in the outbox, so the clock is moved past its wait and the outbox
/// swept, a few times at most (each move is shorter than an access token's life).
async fn mailed_link(
    app: &TestApp,
    to: &str,
    answers: &tokio::sync::Mutex<Vec<(String, u16)>>,
) -> Option<String> {
    for _ in 0..4 {
        if !app.mail_to(to).await.is_empty() {
            return Some(app.link_token(to).await);
        }
        app.advance_clock(shared::service::mailing::SWEEP_GRACE.num_seconds() as u64).await;
        patiently(answers, "sweep the outbox", || app.post("/_dev/cleanup", json!({}))).await;
    }
    None
}

/// Items that name another item which must exist: a claim its user, a membership its user and
/// account, an invitation its account, an invitation's link or mail its invitation.
fn orphans(items: &[serde_json::Value]) -> Vec<String> {
    let keys: std::collections::BTreeSet<(String, String)> = items
        .iter()
        .map(|i| (i["PK"]["S"].as_str().unwrap().to_owned(), i["SK"]["S"].as_str().unwrap().to_owned()))
        .collect();
    let has = |pk: String, sk: &str| keys.contains(&(pk, sk.to_owned()));
    let text = |value: &serde_json::Value| value["S"].as_str().unwrap_or_default().to_owned();
    let mut found = Vec::new();
    for item in items {
        let (pk, sk) = (text(&item["PK"]), text(&item["SK"]));
        let record = &item["record"]["M"];
        let missing = if pk.starts_with("MAIL#") {
            let link = &record["invitation"]["M"];
            let (account, invitation) = (text(&link["account_id"]), text(&link["invitation_id"]));
            !account.is_empty() && !has(format!("ACCOUNT#{account}"), &format!("INVITATION#{invitation}"))
        } else if sk == "CLAIM" {
            !has(format!("USER#{}", text(&item["user_id"])), "PROFILE")
        } else if let Some(user) = sk.strip_prefix("MEMBER#") {
            !has(format!("USER#{user}"), "PROFILE") || !has(pk.clone(), "META")
        } else if sk.starts_with("INVITATION#") {
            !has(pk.clone(), "META")
        } else if sk == "TOKEN" && record["purpose"]["M"]["kind"]["S"] == "invitation" {
            let purpose = &record["purpose"]["M"];
            let (account, invitation) = (text(&purpose["account_id"]), text(&purpose["invitation_id"]));
            !has(format!("ACCOUNT#{account}"), &format!("INVITATION#{invitation}"))
        } else {
            false
        };
        if missing {
            found.push(format!("{pk} {sk}"));
        }
    }
    found
}

#[tokio::test]
async fn a_day_of_work_with_a_failing_table_answers_only_2xx_4xx_or_503_and_leaves_no_orphans() {
    // Given an application whose table fails, throttles or loses the answer of 30% of its calls
    let (store, proxy, app) = app_through_proxy().await;
    proxy.set_plan(random_faults(30));

    // When four owners work through a day at once, sending again after each 503
    let answers = tokio::sync::Mutex::new(Vec::new());
    futures::future::join_all((0..4).map(|n| working_day(&app, n, &answers))).await;

    // Then every answer was a success, a refusal or a 503; faults happened, and so did work
    let answers = answers.into_inner();
    let unexpected: Vec<_> =
        answers.iter().filter(|(_, status)| !matches!(status, 200..=299 | 400..=499 | 503)).collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
    assert!(proxy.faults().len() > 10, "{} faults", proxy.faults().len());
    assert!(answers.iter().filter(|(_, status)| (200..300).contains(status)).count() > 20, "{answers:?}");
    // And nothing in the table names an item that is not there
    proxy.always(Fault::Pass);
    assert_eq!(orphans(&tests::emulators::scan_table(&store).await), Vec::<String>::new());
    // And once the outbox is swept, every mail left waiting is sent: none waits, none pending
    app.advance_clock(60 * 60).await;
    let swept = app.post("/_dev/cleanup", json!({})).await;
    assert_eq!(swept.status, 200, "{}", swept.body);
    let items = tests::emulators::scan_table(&store).await;
    let waiting: Vec<_> =
        items.iter().filter(|i| i["PK"]["S"].as_str().is_some_and(|pk| pk.starts_with("MAIL#"))).collect();
    assert!(waiting.is_empty(), "{waiting:?}");
    let pending = items.iter().filter(|i| i["record"]["M"]["delivery"]["S"] == "pending").count();
    assert_eq!(pending, 0, "every invitation's mail was sent");
}

#[tokio::test]
async fn writes_whose_answers_are_lost_are_retried_into_one_write_and_the_day_goes_on() {
    // Given a table that applies every first attempt of a write and loses its answer
    let (store, proxy, app) = app_through_proxy().await;
    let writes = std::sync::atomic::AtomicUsize::new(0);
    proxy.set_plan(move |operation, _| match is_write(operation) {
        true if writes.fetch_add(1, std::sync::atomic::Ordering::SeqCst).is_multiple_of(2) => {
            Fault::AppliedThenLost
        }
        _ => Fault::Pass,
    });

    // When an owner works through a day, then refreshes their session
    let answers = tokio::sync::Mutex::new(Vec::new());
    working_day(&app, 0, &answers).await;
    let signed_in = app.sign_in("owner0@workload.example", PASSWORD).await;
    let refreshed =
        app.post("/v1/sessions/refresh", json!({"refresh_token": signed_in.body["refresh_token"]})).await;

    // Then the SDK's retry of each write met that write (a transaction by its request token, a
    // put by finding its own item) and every step succeeded the first time, the refresh too
    let answers = answers.into_inner();
    assert_eq!(answers.len(), 13, "{answers:?}");
    assert!(answers.iter().all(|(_, status)| (200..300).contains(status)), "{answers:?}");
    assert_eq!(refreshed.status, 200, "the session survives its lost rotation: {}", refreshed.body);
    let lost: std::collections::BTreeSet<String> = proxy.faults().into_iter().map(|(op, _)| op).collect();
    assert!(lost.contains("TransactWriteItems") && lost.contains("PutItem"), "{lost:?}");
    assert_eq!(orphans(&tests::emulators::scan_table(&store).await), Vec::<String>::new());
}

#[tokio::test]
async fn an_invitation_whose_write_was_applied_but_every_answer_lost_is_answered_on_retry_and_mailed_once() {
    // Given a table that applies the invitation's write and loses every answer to it
    let table = faulty_table("owner@ambiguous.example").await;
    let path = format!("/v1/accounts/{}/invitations", table.account_id);
    let body = json!({"email": "new@ambiguous.example", "roles": ["viewer"]});
    table.proxy.set_plan(|operation, _| match operation {
        "TransactWriteItems" => Fault::AppliedThenLost,
        _ => Fault::Pass,
    });
    let lost = table.faulty.post_once(Some(&table.token), &path, "ambiguous-1", body.clone()).await;
    assert_unavailable(&lost);

    // When the client sends it again with its key once the table answers again
    table.proxy.always(Fault::Pass);
    let retried = table.faulty.post_once(Some(&table.token), &path, "ambiguous-1", body).await;

    // Then it gets the first request's answer: one invitation, whose mail the outbox sends once
    assert_eq!(retried.status, 201, "{}", retried.body);
    assert_eq!(retried.headers["idempotent-replayed"], "true");
    let listed = table.faulty.get_as(&table.token, &format!("{path}?email=new@ambiguous.example")).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1), "{}", listed.body);
    assert!(table.faulty.mail_to("new@ambiguous.example").await.is_empty(), "not yet: its send was lost too");
    table.faulty.advance_clock(60 * 60).await;
    table.faulty.post("/_dev/cleanup", json!({})).await;
    table.faulty.post("/_dev/cleanup", json!({})).await;
    assert_eq!(table.faulty.mail_to("new@ambiguous.example").await.len(), 1, "mailed once");
}

#[tokio::test]
async fn a_bulk_request_that_failed_part_way_sends_only_its_missing_rows_when_retried() {
    // Given a table that takes the first two invitations' writes and then fails every one
    let table = faulty_table("owner@bulk-part-way.example").await;
    let path = format!("/v1/accounts/{}/invitations/bulk", table.account_id);
    let emails: Vec<String> = (1..=4).map(|n| format!("w{n}@bulk-part-way.example")).collect();
    let rows: Vec<_> = emails.iter().map(|email| json!({"email": email, "roles": ["viewer"]})).collect();
    let body = json!({ "invitations": rows });
    let transactions = std::sync::atomic::AtomicUsize::new(0);
    table.proxy.set_plan(move |operation, _| match operation {
        "TransactWriteItems" if transactions.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 2 => {
            Fault::ServerError
        }
        _ => Fault::Pass,
    });
    let first = table.faulty.post_once(Some(&table.token), &path, "part-way-1", body.clone()).await;
    assert_eq!((first.status, &first.body["created"], &first.body["failed"]), (200, &json!(2), &json!(2)));
    let sent_first: Vec<_> = first.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == 201)
        .map(|r| r["invitation"]["id"].clone())
        .collect();
    assert!(first.body["results"].as_array().unwrap().iter().any(|r| r["status"] == 503), "{}", first.body);

    // And the key, sent with other rows meanwhile, is refused whole: nothing of them is sent
    table.proxy.always(Fault::Pass);
    let others = json!({"invitations": [{"email": "other@bulk-part-way.example", "roles": ["viewer"]}]});
    let reused = table.faulty.post_once(Some(&table.token), &path, "part-way-1", others).await;
    assert_eq!((reused.status, reused.code()), (422, "idempotency_key_reused"), "{}", reused.body);
    assert!(table.faulty.mail_to("other@bulk-part-way.example").await.is_empty());

    // When the client sends the first rows again with its key
    let retried = table.faulty.post_once(Some(&table.token), &path, "part-way-1", body).await;

    // Then every row is sent: the two written answer as first written, the others now, and
    // each person is mailed once
    assert_eq!((retried.status, &retried.body["created"]), (200, &json!(4)), "{}", retried.body);
    let ids: Vec<_> =
        retried.body["results"].as_array().unwrap().iter().map(|r| r["invitation"]["id"].clone()).collect();
    assert!(sent_first.iter().all(|id| ids.contains(id)), "{ids:?} keeps {sent_first:?}");
    for email in &emails {
        assert_eq!(table.faulty.mail_to(email).await.len(), 1, "{email}");
    }
}

#[tokio::test]
async fn a_refresh_that_answered_503_is_sent_again_and_the_session_goes_on() {
    // Given a session, and a table whose reads of people fail
    let table = faulty_table("owner@refresh-outage.example").await;
    let signed_in = table.faulty.sign_in("owner@refresh-outage.example", PASSWORD).await;
    let body = json!({"refresh_token": signed_in.str("refresh_token")});
    table.proxy.set_plan(|operation, _| match operation {
        "Query" => Fault::ServerError,
        _ => Fault::Pass,
    });
    assert_unavailable(&table.faulty.post("/v1/sessions/refresh", body.clone()).await);

    // When the client sends the same refresh again once the table answers
    table.proxy.always(Fault::Pass);
    let refreshed = table.faulty.post("/v1/sessions/refresh", body).await;

    // Then it is refreshed: nothing rotated before the 503, so the token is still current
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
}

#[tokio::test]
async fn a_refresh_of_a_holder_of_an_accounts_own_role_whose_account_could_not_be_read_goes_on_when_sent_again()
 {
    // Given a member holding a role of the account's own, signed in
    let table = faulty_table("owner@refresh-roles.example").await;
    let roles = format!("/v1/accounts/{}/roles", table.account_id);
    let role = json!({"name": "packer", "title": "Packer", "permissions": ["orders:write"]});
    assert_eq!(table.faulty.post_as(&table.token, &roles, role).await.status, 201);
    let path = format!("/v1/accounts/{}/invitations", table.account_id);
    let invite = json!({"email": "anna@refresh-roles.example", "roles": ["packer"]});
    assert_eq!(table.faulty.post_as(&table.token, &path, invite).await.status, 201);
    let token = table.faulty.link_token("anna@refresh-roles.example").await;
    assert_eq!(table.faulty.activate(&token).await.status, 200);
    let signed_in = table.faulty.sign_in("anna@refresh-roles.example", PASSWORD).await;
    let body = json!({"refresh_token": signed_in.str("refresh_token")});

    // When her refresh reads her session but not her account (whose roles her answer shows)
    let reads = std::sync::atomic::AtomicUsize::new(0);
    table.proxy.set_plan(move |operation, _| match operation {
        "GetItem" if reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 0 => Fault::ServerError,
        _ => Fault::Pass,
    });
    assert_unavailable(&table.faulty.post("/v1/sessions/refresh", body.clone()).await);

    // Then the same refresh sent again goes on: nothing was rotated before the read failed
    table.proxy.always(Fault::Pass);
    let refreshed = table.faulty.post("/v1/sessions/refresh", body).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(refreshed.body["memberships"][0]["effective_permissions"], json!(["orders:write"]));
}

#[tokio::test]
async fn an_invitation_whose_mail_could_not_be_counted_is_never_written() {
    let table = faulty_table("owner@uncounted.example").await;
    let before = snapshot_except(&table.store, is_rate_counter).await;
    table.proxy.set_plan(|operation, _| match operation {
        "UpdateItem" => Fault::ServerError,
        _ => Fault::Pass,
    });

    let invited = table.invite(&table.faulty, "new@uncounted.example").await;

    assert_unavailable(&invited);
    assert_eq!(snapshot_except(&table.store, is_rate_counter).await, before, "nothing kept, nothing mailed");
    assert!(sent_messages().await.iter().all(|m| !m.to_string().contains("new@uncounted.example")));
}
