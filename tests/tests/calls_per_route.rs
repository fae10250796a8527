//! DynamoDB calls per API route, counted with an SDK interceptor on the real store (DynamoDB
//! Local); calls made in parallel count one each, so this is stricter than round trips. Each route
//! is pinned to what it costs today, so a change that adds a call fails here and has to say why.
//! The aim is one read and one write round trip; see `BUDGET` for why routes exceed it.

use std::sync::Arc;
use tests::app::{ses_mailer, spawn_app_on};
use tests::emulators::{DynamoCalls, VERIFIED_SENDER, WRITES, counted_dynamo_store};

/// (route, reads, writes) at most. Why some exceed one and one:
/// - every account route first reads the caller (one BatchGetItem of account, user and
///   membership), because blocking and role changes must apply to the very next request;
///   `POST /v1/authorize` is that read alone, for the account its body names;
/// - rate-limited routes (sign-in, reset, accept, invite, and the password re-entry of ownership
///   transfer and password change) add one counter UpdateItem per limit;
/// - a link is looked up by its hash alone, so inspect and accept read the token, then (in
///   parallel) the invitation with its account and the invitee's login; accept reads them twice:
///   once to decide (and refuse a dead link before any hashing), and again after the password
///   is hashed, so that its conditional write follows its read at once;
/// - invite reads the invitee's login and the account summary its membership item carries;
///   resend, revoke and delete read the membership before a conditional write to it;
/// - invite and resend count the mail against the inviter and against the address (two counters,
///   in parallel), so a revoke-and-resend loop cannot flood an inbox;
/// - revoke and delete read the person's user item (consistently: the write is conditioned on
///   it) and, in parallel, their other memberships, to release a login left with none;
/// - reset request, reset confirm, `PATCH /v1/me` and password change read the user item
///   consistently (in parallel with the login from the index), because their write is
///   conditioned on its version;
/// - creating an API key reads the account's keys (one `Query` of its partition), to hold it to
///   its most active keys; rotate and revoke read the key before a write conditioned on its
///   version;
/// - `POST /v1/authorize` with an API key reads the key (one `GetItem`: its id and account are
///   in the secret) and counts the use against the key's limit (one counter `UpdateItem`); the
///   first use in a minute also notes it on the key (one more `UpdateItem`), later ones do not.
const BUDGET: &[(&str, usize, usize)] = &[
    ("POST /v1/operator/accounts", 1, 1),
    ("POST /v1/invitations/inspect", 3, 0),
    ("POST /v1/invitations/accept", 6, 2),
    ("POST /v1/sessions", 1, 3),
    ("POST /v1/sessions/refresh", 2, 1),
    ("GET /v1/me", 1, 0),
    ("POST /v1/authorize", 1, 0),
    ("POST /v1/accounts/{id}/api-keys", 2, 1),
    ("GET /v1/accounts/{id}/api-keys", 2, 0),
    ("POST /v1/accounts/{id}/api-keys/{key}/rotate", 2, 1),
    ("POST /v1/authorize (API key, first use)", 1, 2),
    ("POST /v1/authorize (API key, same minute)", 1, 1),
    ("POST /v1/accounts/{id}/api-keys/{key}/revoke", 2, 1),
    ("GET /v1/accounts/{id}", 1, 0),
    ("GET /v1/accounts/{id}/roles", 1, 0),
    ("GET /v1/accounts/{id}/members", 2, 0),
    ("GET /v1/accounts/{id}/members/{user}", 2, 0),
    ("POST /v1/accounts/{id}/invitations", 3, 3),
    ("GET /v1/accounts/{id}/invitations", 2, 0),
    ("GET /v1/accounts/{id}/invitations/{invitation}", 2, 0),
    ("POST /v1/accounts/{id}/invitations/{invitation}/resend", 3, 3),
    ("POST /v1/accounts/{id}/invitations/{invitation}/revoke", 5, 1),
    ("GET /v1/accounts/{id}/audit-events", 2, 0),
    ("PUT /v1/accounts/{id}/members/{user}/roles", 2, 1),
    ("POST /v1/accounts/{id}/members/{user}/block", 2, 1),
    ("POST /v1/accounts/{id}/members/{user}/unblock", 2, 1),
    ("PATCH /v1/accounts/{id}/settings", 1, 1),
    ("POST /v1/accounts/{id}/ownership-transfer", 2, 2),
    ("DELETE /v1/accounts/{id}/members/{user}", 4, 1),
    ("POST /v1/operator/accounts/{id}/owner-recovery", 3, 2),
    ("POST /v1/password-reset", 2, 3),
    ("POST /v1/password-reset/confirm", 3, 1),
    ("PATCH /v1/me", 2, 1),
    ("POST /v1/me/password", 2, 2),
    ("POST /v1/sessions/logout", 1, 1),
];

#[tokio::test]
async fn every_route_stays_within_its_pinned_dynamodb_calls() {
    let calls = DynamoCalls::default();
    let store = Arc::new(counted_dynamo_store(&calls).await);
    let app = spawn_app_on(store, ses_mailer(VERIFIED_SENDER).await, |_| {}).await;

    let visits = tests::route_tour::every_route(&app, &calls, "calls").await;

    println!("{:<56} {:>5} {:>6} {:>5} {:>5}", "route", "reads", "writes", "RCU", "WCU");
    let mut over = Vec::new();
    for visit in &visits {
        let writes = visit.calls.iter().filter(|c| WRITES.contains(&c.operation.as_str())).count();
        let reads = visit.calls.len() - writes;
        let route = visit.route;
        let read_units: f64 = visit.calls.iter().map(|c| c.read_units).sum();
        let write_units: f64 = visit.calls.iter().map(|c| c.write_units).sum();
        println!("{route:<56} {reads:>5} {writes:>6} {read_units:>5.1} {write_units:>5.1}");
        let (_, max_reads, max_writes) =
            BUDGET.iter().find(|(r, ..)| *r == route).expect("every counted route has a budget");
        if reads > *max_reads || writes > *max_writes {
            over.push(format!(
                "{route}: {reads} reads, {writes} writes (pinned at {max_reads}, {max_writes})"
            ));
        }
    }
    assert_eq!(visits.len(), BUDGET.len(), "every budgeted route is exercised");
    assert!(over.is_empty(), "over budget:\n{}", over.join("\n"));
}
