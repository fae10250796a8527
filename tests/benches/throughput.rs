//! `make bench`, throughput per route: the dev server's application and HTTP server (in this
//! process, so optimised as the bench is, with the in-memory store) on a loopback port, driven by
//! 16 concurrent clients. The limits a load test would hit are raised with the `RATE_LIMITS`
//! syntax a deployment uses. Routes that hash a password are bounded by the cores (argon2id,
//! one hash per core at a time), the others by JSON, tokens and the store.

use serde_json::json;
use shared::service::support::limits::RateLimits;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use tests::app::{PASSWORD, Reply, spawn_app_with};

const CLIENTS: usize = 16;
/// What a load test sets: every limit these requests count against, out of its way.
const RATE_LIMITS: &str = "sign_in_per_email_and_client=1000000/1,sign_in_per_client=1000000/1,\
                           invite_per_member=1000000/1,api_key_uses=1000000/1";

pub async fn per_route() {
    let limits = RateLimits::default().with_overrides(RATE_LIMITS).expect("valid limits");
    let app = spawn_app_with(|settings| settings.limits = limits).await;
    let owner = app.owner("standard", "owner@throughput-bench.example").await;
    let account = owner.account_path();
    // A full page of 50 in each list.
    for n in 0..50 {
        app.invite(&owner, &format!("listed{n}@throughput-bench.example"), &["viewer"]).await;
    }
    let keys = format!("{account}/api-keys");
    let key =
        app.post_as(&owner.token, &keys, json!({"name": "bench", "permissions": ["products:read"]})).await;
    assert_eq!(key.status, 201, "{}", key.body);
    let secret = key.str("secret");
    let (members, invitations) = (format!("{account}/members?limit=50"), format!("{account}/invitations"));
    let listed_invitations = format!("{invitations}?limit=50");
    let question = json!({"account_id": owner.account_id, "permissions": ["products:read"]});
    let sign_in = json!({"email": owner.email, "password": PASSWORD});
    let (app, token) = (&app, owner.token.as_str());

    println!("\nRATE_LIMITS={RATE_LIMITS}");
    println!(
        "{:<52} {:>10} {:>12}",
        format!("route ({CLIENTS} clients over loopback)"),
        "requests",
        "requests/s"
    );
    row("GET /v1/me", 4_000, |_| app.get_as(token, "/v1/me"), 200).await;
    row("GET members (page of 50)", 2_000, |_| app.get_as(token, &members), 200).await;
    row("GET invitations (page of 50)", 2_000, |_| app.get_as(token, &listed_invitations), 200).await;
    let invite = |n| {
        let body = json!({"email": format!("invitee{n}@throughput-bench.example"), "roles": ["viewer"]});
        app.post_as(token, &invitations, body)
    };
    row("POST invitations (invite, one mail each)", 2_000, invite, 201).await;
    row(
        "POST /v1/authorize (access token)",
        4_000,
        |_| app.post_as(token, "/v1/authorize", question.clone()),
        200,
    )
    .await;
    let with_key = |_| app.post_as(&secret, "/v1/authorize", question.clone());
    row("POST /v1/authorize (API key: one count each)", 4_000, with_key, 200).await;
    row("POST /v1/sessions (sign in: argon2id)", 200, |_| app.post("/v1/sessions", sign_in.clone()), 200)
        .await;
}

/// Sends `requests` calls (`call(n)` makes the n-th) from `CLIENTS` concurrent clients, each
/// answered `status`, and prints the rate.
async fn row<F, Fut>(route: &str, requests: usize, call: F, status: u16)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let clients = (0..CLIENTS).map(|_| async {
        loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
            if n >= requests {
                break;
            }
            let reply = call(n).await;
            assert_eq!(reply.status, status, "{route}: {}", reply.body);
        }
    });
    futures::future::join_all(clients).await;
    let rate = requests as f64 / started.elapsed().as_secs_f64();
    println!("{route:<52} {requests:>10} {rate:>12.0}");
}
