//! What Teamgate costs to run: each route's price per million calls, and a month of a reference
//! seller team, at us-east-1's on-demand prices. The route tour (`tests/src/route_tour.rs`) runs
//! on DynamoDB Local, which reports the capacity units each call consumed; its duration stands
//! in for the function's warm billed duration (in-process handling plus DynamoDB round trips on
//! loopback, which DynamoDB Local answers in about the time DynamoDB takes in-region). The
//! memory is what `infra/template.yaml` gives the route's function; a route that mails, or
//! writes a link's mail to the outbox, sends one message, and the latter also pays the mail
//! function's share (`OUTBOX_MAIL_PER_MESSAGE`). The routes run as in AWS: the stream sends the
//! outbox, outside the route's own calls. Left out: the authorizer's invocations, which the protected API's
//! own requests cause, and the units of a refused conditional write, which no toured request
//! makes.

use serde_yaml_ng::Value;
use shared::http::routes::{Matched, Route, find};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tests::app::{ses_mailer, spawn_app_on};
use tests::emulators::{DynamoCalls, VERIFIED_SENDER, counted_dynamo_store, sequential};
use tests::route_tour::{Visit, every_route};

/// Tours of every route; each route's duration is the median of these.
const TOURS: usize = 5;

/// us-east-1 prices, in dollars (AWS's pricing pages for API Gateway, Lambda, DynamoDB, SES and
/// KMS).
const API_GATEWAY_HTTP_API_PER_MILLION: f64 = 1.00;
const LAMBDA_REQUESTS_PER_MILLION: f64 = 0.20;
const LAMBDA_GB_SECOND_X86_64: f64 = 0.000_016_666_7;
const LAMBDA_GB_SECOND_ARM64: f64 = 0.000_013_333_4;
const DYNAMODB_READ_UNITS_PER_MILLION: f64 = 0.125;
const DYNAMODB_WRITE_UNITS_PER_MILLION: f64 = 0.625;
/// What the mail function spends on one mail of the outbox, besides SES: its share of an
/// invocation (a stream batch; 256 MB for about 20 ms), two strongly consistent reads (the mail,
/// its invitation or user) and about three write units (the claim, the settle).
const OUTBOX_MAIL_PER_MESSAGE: f64 = LAMBDA_REQUESTS_PER_MILLION / 1e6
    + 0.25 * 0.020 * LAMBDA_GB_SECOND_X86_64
    + 2.0 * DYNAMODB_READ_UNITS_PER_MILLION / 1e6
    + 3.0 * DYNAMODB_WRITE_UNITS_PER_MILLION / 1e6;
const SES_PER_MESSAGE: f64 = 0.10 / 1000.0;
/// KMS: a route that seals or opens a TOTP secret makes one `Encrypt` or `Decrypt`.
const KMS_PER_REQUEST: f64 = 0.03 / 10_000.0;

/// The reference seller team's month: ten people working 22 days of 8 hours. Each signs in and
/// out once a day and refreshes their 15-minute access token through the day; the marketplace's
/// API asks Teamgate about each person every 5 minutes of work (`POST /v1/authorize`); the
/// owner looks at the team twice a day and, in a month, invites two people, resends and revokes
/// one invitation, changes two people's roles, blocks and unblocks one, deletes one; one person
/// resets a forgotten password and one changes theirs.
const REFERENCE_MONTH: &[(&str, u64)] = &[
    ("POST /v1/sessions", 220),
    ("POST /v1/sessions/refresh", 7_040),
    ("POST /v1/sessions/logout", 220),
    ("GET /v1/me", 220),
    ("GET /v1/accounts/{id}", 220),
    ("POST /v1/authorize", 21_120),
    ("GET /v1/accounts/{id}/members", 44),
    ("GET /v1/accounts/{id}/invitations", 22),
    ("GET /v1/accounts/{id}/roles", 4),
    ("GET /v1/accounts/{id}/audit-events", 4),
    ("POST /v1/accounts/{id}/invitations", 2),
    ("POST /v1/invitations/inspect", 2),
    ("POST /v1/invitations/accept", 2),
    ("POST /v1/accounts/{id}/invitations/{invitation}/resend", 1),
    ("POST /v1/accounts/{id}/invitations/{invitation}/revoke", 1),
    ("PUT /v1/accounts/{id}/members/{user}/roles", 2),
    ("POST /v1/accounts/{id}/members/{user}/block", 1),
    ("POST /v1/accounts/{id}/members/{user}/unblock", 1),
    ("DELETE /v1/accounts/{id}/members/{user}", 1),
    ("POST /v1/password-reset", 1),
    ("POST /v1/password-reset/confirm", 1),
    ("POST /v1/me/password", 1),
];

/// One route as priced: what a call uses, and what a million cost.
struct Priced {
    route: &'static str,
    /// DynamoDB calls, and how many of them went one after another (the latency floor).
    calls: usize,
    sequential: usize,
    function: &'static str,
    memory_mib: u64,
    billed_ms: f64,
    read_units: f64,
    write_units: f64,
    mails: f64,
    kms: f64,
    per_million_x86_64: f64,
    per_million_arm64: f64,
}

/// Tours every route `TOURS` times on DynamoDB Local and prints the cost tables.
pub async fn per_route(limits: shared::service::support::limits::RateLimits) {
    let calls = DynamoCalls::default();
    let store = Arc::new(counted_dynamo_store(&calls).await);
    let app = spawn_app_on(store, ses_mailer(VERIFIED_SENDER).await, |s| {
        s.limits = limits;
        s.mail_dispatch = shared::service::mailing::MailDispatch::Stream;
    })
    .await;
    let mut tours = Vec::new();
    for tour in 0..TOURS {
        tours.push(every_route(&app, &calls, &format!("cost-{tour}")).await);
    }
    let memory = configured_memory();
    let priced: Vec<Priced> = (0..tours[0].len()).map(|i| price(&tours, i, &memory)).collect();
    print_routes(&priced);
    print_month(&priced);
}

fn price(tours: &[Vec<Visit>], index: usize, memory: &BTreeMap<String, u64>) -> Priced {
    let visit = &tours[0][index];
    let route = route_of(visit.route);
    let function = route.function.name();
    let memory_mib = *memory.get(function).unwrap_or_else(|| panic!("{function}: no MemorySize"));
    let mut durations: Vec<Duration> = tours.iter().map(|tour| tour[index].elapsed).collect();
    durations.sort();
    // Lambda bills each invocation's duration rounded up to the millisecond.
    let billed_ms = (durations[durations.len() / 2].as_secs_f64() * 1000.0).ceil();
    let read_units: f64 = visit.calls.iter().map(|c| c.read_units).sum();
    let write_units: f64 = visit.calls.iter().map(|c| c.write_units).sum();
    let mails = if route.effects.mails || route.effects.posts_mail { 1.0 } else { 0.0 };
    let outbox = if route.effects.posts_mail { OUTBOX_MAIL_PER_MESSAGE } else { 0.0 };
    let kms = if route.effects.seals { 1.0 } else { 0.0 };
    let gigabyte_seconds = memory_mib as f64 / 1024.0 * billed_ms / 1000.0;
    let shared = API_GATEWAY_HTTP_API_PER_MILLION
        + LAMBDA_REQUESTS_PER_MILLION
        + read_units * DYNAMODB_READ_UNITS_PER_MILLION
        + write_units * DYNAMODB_WRITE_UNITS_PER_MILLION
        + mails * SES_PER_MESSAGE * 1e6
        + outbox * 1e6
        + kms * KMS_PER_REQUEST * 1e6;
    Priced {
        route: visit.route,
        calls: visit.calls.len(),
        sequential: sequential(&visit.calls),
        function,
        memory_mib,
        billed_ms,
        read_units,
        write_units,
        mails,
        kms,
        per_million_x86_64: shared + gigabyte_seconds * LAMBDA_GB_SECOND_X86_64 * 1e6,
        per_million_arm64: shared + gigabyte_seconds * LAMBDA_GB_SECOND_ARM64 * 1e6,
    }
}

fn print_routes(priced: &[Priced]) {
    println!(
        "\n{:<56} {:>5} {:>10} {:<14} {:>5} {:>6} {:>5} {:>5} {:>5} {:>4} {:>10} {:>10}",
        "route (cost per million calls, us-east-1)",
        "calls",
        "sequential",
        "function",
        "MiB",
        "ms",
        "RCU",
        "WCU",
        "mails",
        "KMS",
        "$ x86_64",
        "$ arm64"
    );
    for p in priced {
        println!(
            "{:<56} {:>5} {:>10} {:<14} {:>5} {:>6.0} {:>5.1} {:>5.1} {:>5.0} {:>4.0} {:>10.2} {:>10.2}",
            p.route,
            p.calls,
            p.sequential,
            p.function,
            p.memory_mib,
            p.billed_ms,
            p.read_units,
            p.write_units,
            p.mails,
            p.kms,
            p.per_million_x86_64,
            p.per_million_arm64
        );
    }
    println!(
        "(API Gateway HTTP API ${API_GATEWAY_HTTP_API_PER_MILLION:.2}/M requests; Lambda \
         ${LAMBDA_REQUESTS_PER_MILLION:.2}/M requests + ${LAMBDA_GB_SECOND_X86_64}/GB-s x86_64, \
         ${LAMBDA_GB_SECOND_ARM64}/GB-s arm64; DynamoDB on-demand ${DYNAMODB_READ_UNITS_PER_MILLION}/M read \
         and ${DYNAMODB_WRITE_UNITS_PER_MILLION}/M write units; SES $0.10 per 1,000 messages; KMS $0.03 per \
         10,000 requests (and $1 a month for the key); ms: median of \
         {TOURS} warm calls on DynamoDB Local, rounded up as Lambda bills)"
    );
}

fn print_month(priced: &[Priced]) {
    let (mut calls, mut x86_64, mut arm64) = (0, 0.0, 0.0);
    for (route, count) in REFERENCE_MONTH {
        let p = priced.iter().find(|p| p.route == *route).unwrap_or_else(|| panic!("{route} was not toured"));
        calls += count;
        x86_64 += p.per_million_x86_64 * *count as f64 / 1e6;
        arm64 += p.per_million_arm64 * *count as f64 / 1e6;
    }
    println!(
        "a month of a reference seller team (10 people, 22 working days; the mix in tests/benches/cost.rs): \
         {calls} calls, ${x86_64:.4} on x86_64, ${arm64:.4} on arm64 (free tiers left out)"
    );
}

/// The route a tour's visit is: its method and path, before any bracketed note.
fn route_of(visit: &str) -> &'static Route {
    let (method, rest) = visit.split_once(' ').expect("a method and a path");
    let path = rest.split(' ').next().expect("a path");
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
    match find(&method, path, |_| true) {
        Matched::Found(route, _) => route,
        _ => panic!("{visit} is no route of the table"),
    }
}

/// Each function's `MemorySize` in `infra/template.yaml`, by crate name (from its `CodeUri`).
fn configured_memory() -> BTreeMap<String, u64> {
    let template: Value = serde_yaml_ng::from_str(&tests::workspace::read("infra/template.yaml"))
        .expect("infra/template.yaml is YAML");
    let resources = template["Resources"].as_mapping().expect("Resources");
    resources
        .values()
        .filter_map(|resource| {
            let properties = &resource["Properties"];
            let code = properties["CodeUri"].as_str()?;
            let name = code.strip_prefix("../target/lambda/")?.strip_suffix("/bootstrap.zip")?;
            Some((name.to_owned(), properties["MemorySize"].as_u64()?))
        })
        .collect()
}
