//! `make bench`: Teamgate's speed, measured side by side in one run (read ratios, not absolute
//! times): latency per operation in-process, the authorizer's decisions (time and DynamoDB calls,
//! remembered or not), the cleanup's throughput, the dev server's throughput over loopback, each
//! route's cost (`cost`), and (after `make build`) each function's zip against its budget and its
//! cold starts (`functions`).

mod cost;
mod functions;
mod memory;
mod throughput;

use serde_json::json;
use std::time::Instant;
use tests::app::{PASSWORD, spawn_app_with};

/// Median and 95th percentile of `runs` timings of `op`, in milliseconds.
async fn measure<F, Fut>(runs: usize, mut op: F) -> (f64, f64)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(runs);
    for n in 0..runs {
        let started = Instant::now();
        op(n).await;
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    (samples[runs / 2], samples[runs * 95 / 100])
}

#[tokio::main]
async fn main() {
    let app = spawn_app_with(|settings| settings.limits = unlimited()).await;
    let owner = app.owner("standard", "owner@bench.example").await;
    let invitations = format!("/v1/accounts/{}/invitations", owner.account_id);
    println!("{:<44} {:>10} {:>10}", "operation (over HTTP, in-process store)", "p50 ms", "p95 ms");

    let (p50, p95) = measure(200, |n| {
        let (app, invitations, token) = (&app, &invitations, &owner.token);
        async move {
            let body = json!({"email": format!("user{n}@bench.example"), "roles": ["viewer"]});
            assert_eq!(app.post_as(token, invitations, body).await.status, 201);
        }
    })
    .await;
    println!("{:<44} {p50:>10.2} {p95:>10.2}", "invite");
    let (p50, p95) = measure(20, |n| {
        let app = &app;
        async move {
            let token = app.link_token(&format!("user{n}@bench.example")).await;
            assert_eq!(app.accept(&token, PASSWORD).await.status, 200);
        }
    })
    .await;
    println!("{:<44} {p50:>10.2} {p95:>10.2}", "accept (argon2id hash)");
    let (p50, p95) = measure(20, |_| {
        let app = &app;
        async move { assert_eq!(app.sign_in("owner@bench.example", PASSWORD).await.status, 200) }
    })
    .await;
    println!("{:<44} {p50:>10.2} {p95:>10.2}", "sign in (argon2id verify)");
    let members = format!("/v1/accounts/{}/members?limit=50", owner.account_id);
    let (p50, p95) = measure(200, |_| {
        let (app, members, token) = (&app, &members, &owner.token);
        async move { assert_eq!(app.get_as(token, members).await.status, 200) }
    })
    .await;
    println!("{:<44} {p50:>10.2} {p95:>10.2}", "list members (page of 50)");

    authorizer(&app, &owner).await;
    throughput::per_route().await;
    memory::resident_memory().await;
    cleanup(&app).await;
    cost::per_route(unlimited()).await;
    // The functions run as processes, waited on synchronously.
    tokio::task::spawn_blocking(functions::report).await.expect("the functions' report");
}

/// The authorizer's warm decision in-process, when it reads the member (a miss) and when it
/// remembers them (a hit), on the memory store and on DynamoDB Local, with the DynamoDB calls
/// one decision makes.
async fn authorizer(app: &tests::app::TestApp, owner: &tests::app::Owner) {
    use shared::authorizer::{Authorizer, route_map::RouteMap};
    use tests::authorizer_events::http_api_event;
    const MAP: &str = "[routes]\n\"GET /sellers/{account_id}/orders\" = \"products:read\"\n";
    let calls = tests::emulators::DynamoCalls::default();
    let store = std::sync::Arc::new(tests::emulators::counted_dynamo_store(&calls).await);
    let on_dynamodb = tests::app::spawn_app_on(
        store,
        tests::app::ses_mailer(tests::emulators::VERIFIED_SENDER).await,
        |s| s.limits = unlimited(),
    )
    .await;
    let dynamo_owner = on_dynamodb.owner("standard", "owner@authorizer-bench.example").await;
    println!(
        "\n{:<44} {:>10} {:>10} {:>16}",
        "authorizer decision (in-process)", "p50 ms", "p95 ms", "DynamoDB calls"
    );
    for (store, app, owner) in [("memory", app, owner), ("DynamoDB Local", &on_dynamodb, &dynamo_owner)] {
        for (lookup, staleness) in [("miss", 0), ("hit", 300)] {
            let routes =
                RouteMap::parse(MAP, "bench", &app.api.app.presets().catalog()).expect("a valid map");
            let gate = Authorizer::new(routes, staleness);
            let bearer = format!("Bearer {}", owner.token);
            let event = http_api_event(
                "GET",
                "/sellers/{account_id}/orders",
                &[("account_id", &owner.account_id)],
                &[("authorization", &bearer)],
            );
            let decide = || async {
                let answer = gate.answer(&app.api.app, event.clone()).await.expect("an answer");
                assert_eq!(answer["isAuthorized"], true, "{answer}");
            };
            decide().await;
            calls.take();
            let (p50, p95) = measure(500, |_| decide()).await;
            let per_decision = calls.take().len() as f64 / 500.0;
            let counted = if store == "memory" { "-".to_owned() } else { format!("{per_decision:.2}") };
            println!("{:<44} {p50:>10.3} {p95:>10.3} {counted:>16}", format!("{lookup}, {store}"));
        }
    }
}

/// The scheduled cleanup's rate over 10,000 lapsed invitations (invited in-process).
async fn cleanup(app: &tests::app::TestApp) {
    const LAPSED: usize = 10_000;
    let teamgate = &app.api.app;
    let owner = app.owner("standard", "owner@cleanup-bench.example").await;
    let principal = teamgate.authenticate(Some(&owner.token)).expect("a valid token");
    let owner = shared::service::caller::Claim {
        principal,
        account_id: owner.account_id.clone(),
        requirement: shared::service::caller::Requirement::Member,
    };
    for n in 0..LAPSED {
        let command = shared::service::invite::InviteCommand {
            email: format!("lapsed{n}@cleanup-bench.example"),
            roles: vec!["viewer".into()],
            ..Default::default()
        };
        teamgate.invite(&owner, command, None).await.expect("invited");
    }
    app.advance_clock(49 * 3600).await;
    let started = Instant::now();
    let report = teamgate.expire_invitations(None).await.expect("the cleanup runs");
    let elapsed = started.elapsed();
    let rate = report.expired as f64 / elapsed.as_secs_f64();
    println!(
        "cleanup: {} invitations expired in {:.2} s ({rate:.0}/s, memory store)",
        report.expired,
        elapsed.as_secs_f64()
    );
}

fn unlimited() -> shared::service::support::limits::RateLimits {
    let open = shared::service::support::limits::Limit { count: u32::MAX, window_seconds: 1 };
    shared::service::support::limits::RateLimits {
        sign_in_per_email_and_client: open,
        sign_in_per_client: open,
        reset_per_email_and_client: open,
        reset_per_client: open,
        accept_per_client: open,
        renewal_per_client: open,
        invite_per_member: open,
        owner_recovery_per_account: open,
        api_key_uses: open,
        second_step_per_user: open,
    }
}
