//! `make bench`: Teamgate's speed, measured side by side in one run (read ratios, not absolute
//! times): latency per operation in-process, the cleanup's throughput, the dev server's
//! throughput over loopback, and (after `make build`) each function's zip size.

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

    throughput(&app, &owner.token).await;
    cleanup(&app).await;
    zip_sizes();
}

/// Requests per second of `GET /v1/me` from 16 concurrent clients, 4,000 requests in all.
async fn throughput(app: &tests::app::TestApp, token: &str) {
    const REQUESTS: usize = 4_000;
    const CLIENTS: usize = 16;
    let started = Instant::now();
    let workers = (0..CLIENTS).map(|_| async {
        for _ in 0..REQUESTS / CLIENTS {
            assert_eq!(app.get_as(token, "/v1/me").await.status, 200);
        }
    });
    futures::future::join_all(workers).await;
    let rate = REQUESTS as f64 / started.elapsed().as_secs_f64();
    println!("\ndev server throughput, GET /v1/me, {CLIENTS} clients: {rate:.0} requests/s");
}

/// The scheduled cleanup's rate over 10,000 lapsed invitations (invited in-process).
async fn cleanup(app: &tests::app::TestApp) {
    const LAPSED: usize = 10_000;
    let teamgate = &app.api.app;
    let owner = app.owner("standard", "owner@cleanup-bench.example").await;
    let principal = teamgate.authenticate(Some(&owner.token)).expect("a valid token");
    let caller = teamgate.caller(&principal, &owner.account_id).await.expect("the owner");
    for n in 0..LAPSED {
        let command = shared::service::invite::InviteCommand {
            email: format!("lapsed{n}@cleanup-bench.example"),
            roles: vec!["viewer".into()],
            ..Default::default()
        };
        teamgate.invite(&caller, command).await.expect("invited");
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

/// Sizes of the Lambda zips `make build` wrote, if any.
fn zip_sizes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/lambda");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("\nno Lambda zips yet: run `make build` first to compare their sizes");
        return;
    };
    println!("\n{:<20} {:>10}", "function zip", "KiB");
    let mut rows: Vec<(String, u64)> = entries
        .flatten()
        .filter_map(|e| {
            let size = std::fs::metadata(e.path().join("bootstrap.zip")).ok()?.len();
            Some((e.file_name().to_string_lossy().into_owned(), size))
        })
        .collect();
    rows.sort();
    for (name, size) in rows {
        println!("{name:<20} {:>10.0}", size as f64 / 1024.0);
    }
}

fn unlimited() -> shared::service::support::limits::RateLimits {
    let open = shared::service::support::limits::Limit { count: u32::MAX, window_seconds: 1 };
    shared::service::support::limits::RateLimits {
        sign_in_per_email_and_client: open,
        sign_in_per_client: open,
        reset_per_email_and_client: open,
        reset_per_client: open,
        accept_per_client: open,
        invite_per_member: open,
        owner_recovery_per_account: open,
    }
}
