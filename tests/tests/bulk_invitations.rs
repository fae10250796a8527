//! Bulk invitations (README, "Inviting a whole team"): up to a hundred rows as JSON or a CSV
//! file, each passing every rule a single invitation passes and answered on its own, no row
//! failing another; a retry with the same `Idempotency-Key` sends nothing twice.

use futures::future::join;
use serde_json::{Value, json};
use shared::service::Settings;
use shared::service::bulk_invite::HOLD_KEY_FOR;
use shared::service::idempotency::Once;
use tests::app::{Owner, Reply, TestApp, into_reply};

/// The bulk route of the owner's account.
fn bulk_path(owner: &Owner) -> String {
    format!("{}/invitations/bulk", owner.account_path())
}

/// A bulk request as `token`, its body of `content_type`, with an `Idempotency-Key` if given.
async fn send_bulk(
    app: &TestApp,
    token: &str,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
    key: Option<&str>,
) -> Reply {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    into_reply(request.send().await.expect("the server answers")).await
}

async fn bulk_csv(app: &TestApp, owner: &Owner, csv: String) -> Reply {
    send_bulk(app, &owner.token, &bulk_path(owner), "text/csv; charset=utf-8", csv, None).await
}

async fn bulk_json(app: &TestApp, owner: &Owner, rows: Value, key: Option<&str>) -> Reply {
    let body = json!({ "invitations": rows }).to_string();
    send_bulk(app, &owner.token, &bulk_path(owner), "application/json", body, key).await
}

/// Each row's result as (row, status, code, the field errors' `field:code`).
fn outcomes(reply: &Reply) -> Vec<(u64, u64, String, Vec<String>)> {
    assert_eq!(reply.status, 200, "{}", reply.body);
    let results = reply.body["results"].as_array().expect("results");
    results
        .iter()
        .map(|r| {
            let problem = &r["problem"];
            let fields = problem["errors"].as_array().map_or_else(Vec::new, |errors| {
                errors
                    .iter()
                    .map(|e| format!("{}:{}", e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
                    .collect()
            });
            let code = problem["code"].as_str().unwrap_or("").to_owned();
            (r["row"].as_u64().unwrap(), r["status"].as_u64().unwrap(), code, fields)
        })
        .collect()
}

/// The account's invitations, the owner's own included.
async fn invitation_count(app: &TestApp, owner: &Owner) -> usize {
    let listed = app.get_as(&owner.token, &format!("{}/invitations?limit=100", owner.account_path())).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    listed.body["items"].as_array().expect("items").len()
}

async fn a_hundred_row_csv_sends_its_good_rows_and_names_each_bad_one(app: TestApp) {
    // Given a ua-marketplace account (Cyrillic names and a Ukrainian mobile, anyone's once) with
    // one member already, and a spreadsheet of a hundred rows, every tenth of the first eighty
    // bad (the eightieth gives the seventy-ninth's phone, written another way)
    let owner = app.owner("ua-marketplace", "owner@bulk-csv.example").await;
    let taken = json!({"email": "taken@bulk-csv.example", "roles": ["administrator"], "first_name": "Тарас",
        "last_name": "Шевченко", "phone": "+380501234567"});
    let taken = app.post_as(&owner.token, &format!("{}/invitations", owner.account_path()), taken).await;
    assert_eq!(taken.status, 201, "{}", taken.body);
    let mut csv = String::from("\u{feff}Email,First_Name,Last_Name,Phone,Roles,Message\r\n");
    for row in 1..=100 {
        let email = format!("worker{row}@bulk-csv.example");
        let phone = format!("+38067{:07}", 1_000_000 + row);
        let line = match row {
            10 => format!("not-an-email,Олена,Коваль,{phone},administrator,\r\n"),
            20 => format!("{email},Olena,Koval,{phone},administrator,\r\n"),
            30 => format!("{email},Олена,Коваль,{phone},cashier_of_the_moon,\r\n"),
            40 => format!("{email},Олена,Коваль,{phone},,\r\n"),
            50 => format!("worker49@bulk-csv.example,Олена,Коваль,{phone},administrator,\r\n"),
            60 => format!("taken@bulk-csv.example,Олена,Коваль,{phone},administrator,\r\n"),
            70 => format!("{email},Олена,Коваль,{phone},administrator,=HYPERLINK(\"x\"),extra\r\n"),
            80 => format!("{email},Олена,Коваль,+380 67 100 0079,administrator,\r\n"),
            _ => format!("{email},Олена,Коваль,{phone},administrator,\"Вітаю, {row}!\"\r\n"),
        };
        csv.push_str(&line);
    }

    // When the owner uploads it
    let reply = bulk_csv(&app, &owner, csv).await;

    // Then the good rows are sent, each bad one fails alone with its row and its reason
    let outcomes = outcomes(&reply);
    let failed: Vec<_> = outcomes.iter().filter(|o| o.1 != 201).collect();
    assert_eq!(
        (reply.body["created"].as_u64(), reply.body["failed"].as_u64()),
        (Some(92), Some(8)),
        "{failed:?}"
    );
    let failures: Vec<_> = outcomes.iter().filter(|o| o.1 != 201).cloned().collect();
    let bad = |row, status, code: &str, fields: &[&str]| {
        (row, status, code.to_owned(), fields.iter().map(|f| f.to_string()).collect::<Vec<_>>())
    };
    assert_eq!(
        failures,
        [
            bad(10, 400, "validation_failed", &["email:invalid_email"]),
            bad(20, 400, "validation_failed", &["first_name:invalid_name", "last_name:invalid_name"]),
            bad(30, 400, "validation_failed", &["roles:unknown_role"]),
            bad(40, 400, "validation_failed", &["roles:required"]),
            bad(50, 400, "validation_failed", &["email:duplicate_email"]),
            bad(60, 409, "email_taken", &[]),
            bad(70, 400, "validation_failed", &["row:invalid_value"]),
            bad(80, 400, "validation_failed", &["phone:duplicate_phone"]),
        ]
    );
    let rows: Vec<u64> = outcomes.iter().map(|o| o.0).collect();
    assert_eq!(rows, (1..=100).collect::<Vec<u64>>(), "every row answered, in order");
    let first = &reply.body["results"][0]["invitation"];
    assert_eq!(
        (first["email"].as_str(), first["message"].as_str()),
        (Some("worker1@bulk-csv.example"), Some("Вітаю, 1!"))
    );

    // And the good addresses got one mail each, no bad one any
    for sent in ["worker1", "worker49", "worker100"] {
        assert_eq!(app.mail_to(&format!("{sent}@bulk-csv.example")).await.len(), 1, "{sent}");
    }
    for refused in ["worker20", "worker30", "worker40", "worker70", "not-an-email"] {
        assert!(app.mail_to(&format!("{refused}@bulk-csv.example")).await.is_empty(), "{refused}");
    }
    assert_eq!(app.mail_to("taken@bulk-csv.example").await.len(), 1, "only the member's own invitation");
    assert_eq!(invitation_count(&app, &owner).await, 94, "the rows sent, the member's and the owner's");
}

async fn a_retried_bulk_request_answers_as_first_and_sends_nothing_twice(app: TestApp) {
    // Given a bulk request with an Idempotency-Key, one of its rows bad
    let owner = app.owner("standard", "owner@bulk-retry.example").await;
    let rows = json!([
        {"email": "anna@bulk-retry.example", "roles": ["viewer"]},
        {"email": "bohdan@bulk-retry.example", "roles": ["no_such_role"]},
        {"email": "chen@bulk-retry.example", "permissions": ["orders:read"], "message": "Welcome!"},
    ]);
    let first = bulk_json(&app, &owner, rows.clone(), Some("bulk-retry-1")).await;
    assert_eq!(first.body["created"], 2, "{}", first.body);

    // When the client, unsure it arrived, sends it again, and once more while a twin is in flight
    let again = bulk_json(&app, &owner, rows.clone(), Some("bulk-retry-1")).await;
    let (twin_a, twin_b) = join(
        bulk_json(&app, &owner, rows.clone(), Some("bulk-retry-1")),
        bulk_json(&app, &owner, rows, Some("bulk-retry-1")),
    )
    .await;

    // Then each answer is the first, marked as replayed, and each person was mailed once
    for reply in [&again, &twin_a, &twin_b] {
        assert_eq!((reply.status, &reply.body), (200, &first.body));
        assert_eq!(reply.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    }
    assert_eq!(app.mail_to("anna@bulk-retry.example").await.len(), 1);
    assert_eq!(app.mail_to("chen@bulk-retry.example").await.len(), 1);
    assert_eq!(invitation_count(&app, &owner).await, 3);

    // And the key with other rows is refused, sending nothing
    let other = json!([{"email": "dana@bulk-retry.example", "roles": ["viewer"]}]);
    let reused = bulk_json(&app, &owner, other, Some("bulk-retry-1")).await;
    assert_eq!((reused.status, reused.code()), (422, "idempotency_key_reused"), "{}", reused.body);
    assert!(app.mail_to("dana@bulk-retry.example").await.is_empty());
}

async fn twin_requests_with_one_key_send_each_row_once(app: TestApp) {
    // Given two copies of one bulk request sent at the same moment, with one key
    let owner = app.owner("standard", "owner@bulk-twins.example").await;
    let rows: Vec<Value> =
        (1..=12).map(|n| json!({"email": format!("w{n}@bulk-twins.example"), "roles": ["viewer"]})).collect();
    let (a, b) = join(
        bulk_json(&app, &owner, json!(rows), Some("bulk-twins-1")),
        bulk_json(&app, &owner, json!(rows), Some("bulk-twins-1")),
    )
    .await;

    // Then one sends every row; the other gives its answer, or, while it is under way, says to
    // wait, sending nothing alongside it
    let ids = |reply: &Reply| {
        assert_eq!((reply.status, &reply.body["created"]), (200, &json!(12)), "{}", reply.body);
        reply.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["invitation"]["id"].clone())
            .collect::<Vec<_>>()
    };
    let a_first = a.status == 200 && !a.headers.contains_key("idempotent-replayed");
    let (sent, other) = if a_first { (a, b) } else { (b, a) };
    match other.status {
        409 => {
            assert_eq!(other.code(), "request_in_progress", "{}", other.body);
            assert!(other.headers.get("retry-after").is_some());
        }
        _ => assert_eq!(ids(&other), ids(&sent)),
    }

    // And sent again afterwards, it answers the first answer; each person got one mail
    let again = bulk_json(&app, &owner, json!(rows), Some("bulk-twins-1")).await;
    assert_eq!(ids(&again), ids(&sent));
    for n in 1..=12 {
        assert_eq!(app.mail_to(&format!("w{n}@bulk-twins.example")).await.len(), 1, "w{n}");
    }
    assert_eq!(invitation_count(&app, &owner).await, 13);
}

async fn a_try_cut_off_part_way_holds_its_key_for_a_while_then_a_retry_takes_over(app: TestApp) {
    // Given a bulk request with a key that took its key and was cut off before its rows (as a
    // function stopped mid-way leaves it): its record under way, held for a while
    let owner = app.owner("standard", "owner@bulk-cut-off.example").await;
    let rows = json!([{"email": "anna@bulk-cut-off.example", "roles": ["viewer"]}]);
    let body = json!({ "invitations": rows }).to_string();
    let scope = format!("user:{}", app.user_id(&owner.token).await);
    let once =
        Once::of(Some("cut-off-1"), &scope, &["BulkInvite", &owner.account_id, &body]).unwrap().unwrap();
    let now = app.api.app.ports.clock.now();
    let store = &app.api.app.ports.store;
    store.remember(&once.under_way(now, Some(now + HOLD_KEY_FOR))).await.expect("taken");

    // When the client sends it again at once, then it is told to wait, and nothing is sent
    let early = bulk_json(&app, &owner, rows.clone(), Some("cut-off-1")).await;
    assert_eq!((early.status, early.code()), (409, "request_in_progress"), "{}", early.body);
    let wait: i64 = early.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=HOLD_KEY_FOR.num_seconds() + 1).contains(&wait), "{wait}");
    assert!(app.mail_to("anna@bulk-cut-off.example").await.is_empty());

    // And once the hold lapsed, the retry takes the key over and sends the row, once
    app.advance_clock(wait.unsigned_abs()).await;
    let retried = bulk_json(&app, &owner, rows.clone(), Some("cut-off-1")).await;
    assert_eq!(retried.body["created"], 1, "{}", retried.body);
    let replayed = bulk_json(&app, &owner, rows, Some("cut-off-1")).await;
    assert_eq!((replayed.status, &replayed.body), (200, &retried.body));
    assert_eq!(app.mail_to("anna@bulk-cut-off.example").await.len(), 1);
}

async fn a_request_refused_whole_leaves_its_key_free(app: TestApp) {
    // Given a request with a key refused whole: too many rows, then another account's id
    let owner = app.owner("standard", "owner@bulk-free-key.example").await;
    let rows: Vec<Value> = (1..=101)
        .map(|n| json!({"email": format!("w{n}@bulk-free-key.example"), "roles": ["viewer"]}))
        .collect();
    let refused = bulk_json(&app, &owner, json!(rows), Some("free-key-1")).await;
    assert_eq!((refused.status, refused.code()), (400, "validation_failed"));
    let stranger = app.owner("standard", "owner@bulk-free-key-b.example").await;
    let body = json!({ "invitations": &rows[..100] }).to_string();
    let foreign =
        send_bulk(&app, &owner.token, &bulk_path(&stranger), "application/json", body, Some("free-key-1"))
            .await;
    assert_eq!(foreign.status, 404, "{}", foreign.body);

    // When the client corrects it and sends it with the same key, then it is made
    let corrected = bulk_json(&app, &owner, json!(rows[..100]), Some("free-key-1")).await;
    assert_eq!((corrected.status, &corrected.body["created"]), (200, &json!(100)), "{}", corrected.body);
}

async fn a_manager_grants_in_bulk_only_what_they_hold_and_a_viewer_nothing(app: TestApp) {
    // Given a manager holding users:write and orders, and a viewer
    let owner = app.owner("standard", "owner@bulk-ceiling.example").await;
    let perms = ["users:write", "orders:write"];
    let manager = app.member(&owner, "manager@bulk-ceiling.example", &[], &perms).await;
    let viewer = app.member(&owner, "viewer@bulk-ceiling.example", &["viewer"], &[]).await;
    let rows = json!({"invitations": [
        {"email": "orders@bulk-ceiling.example", "permissions": ["orders:read"]},
        {"email": "money@bulk-ceiling.example", "roles": ["finance"]},
    ]})
    .to_string();

    // When the manager sends a row within their grant and one beyond it
    let sent = send_bulk(&app, &manager, &bulk_path(&owner), "application/json", rows.clone(), None).await;

    // Then the first is sent and the second refused as an escalation
    let outcomes = outcomes(&sent);
    assert_eq!((outcomes[0].1, outcomes[1].1, outcomes[1].2.as_str()), (201, 403, "role_escalation"));
    assert!(app.mail_to("money@bulk-ceiling.example").await.is_empty());

    // And a viewer's request is refused whole, sending nothing
    let refused = send_bulk(&app, &viewer, &bulk_path(&owner), "application/json", rows.clone(), None).await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"), "{}", refused.body);

    // And another account's owner cannot invite into this account
    let stranger = app.owner("standard", "owner@bulk-stranger.example").await;
    let foreign = send_bulk(&app, &stranger.token, &bulk_path(&owner), "application/json", rows, None).await;
    assert_eq!((foreign.status, foreign.code()), (404, "not_found"), "{}", foreign.body);
    assert_eq!(
        invitation_count(&app, &owner).await,
        4,
        "the owner's, the two members' and the manager's one"
    );
}

async fn a_seat_limited_account_takes_rows_until_its_seats_are_full(app: TestApp) {
    // Given an account of four seats, its owner in one
    let owner = app.owner("standard", "owner@bulk-seats.example").await;
    app.seat_limit(&owner.account_id, Some(4)).await;

    // When six people are invited at once
    let rows: Vec<Value> =
        (1..=6).map(|n| json!({"email": format!("w{n}@bulk-seats.example"), "roles": ["viewer"]})).collect();
    let reply = bulk_json(&app, &owner, json!(rows), None).await;

    // Then the first three take the free seats and the rest are refused, in order
    let codes: Vec<(u64, String)> = outcomes(&reply).into_iter().map(|o| (o.1, o.2)).collect();
    let sent = (201, String::new());
    let full = (409, "seat_limit_reached".to_owned());
    assert_eq!(codes, [sent.clone(), sent.clone(), sent, full.clone(), full.clone(), full]);
    let account = app.get_as(&owner.token, &owner.account_path()).await;
    assert_eq!(account.body["seats_used"], 4, "{}", account.body);
}

async fn limits_count_each_row(app: TestApp) {
    // Given an inviter allowed five invitations an hour (settings below)
    let owner = app.owner("standard", "owner@bulk-limits.example").await;

    // When they send seven rows
    let rows: Vec<Value> =
        (1..=7).map(|n| json!({"email": format!("w{n}@bulk-limits.example"), "roles": ["viewer"]})).collect();
    let reply = bulk_json(&app, &owner, json!(rows), None).await;

    // Then five are sent and two are told how long to wait
    assert_eq!((reply.body["created"].as_u64(), reply.body["failed"].as_u64()), (Some(5), Some(2)));
    let limited: Vec<&Value> =
        reply.body["results"].as_array().unwrap().iter().filter(|r| r["status"] == 429).collect();
    assert_eq!(limited.len(), 2, "{}", reply.body);
    assert!(
        limited.iter().all(|r| r["problem"]["code"] == "rate_limited" && r["retry_after"].as_u64() > Some(0))
    );

    // And a single invitation is held to the same count
    let single = json!({"email": "w8@bulk-limits.example", "roles": ["viewer"]});
    let refused = app.post_as(&owner.token, &format!("{}/invitations", owner.account_path()), single).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
}

fn five_invitations_an_hour(settings: &mut Settings) {
    settings.limits.invite_per_member.count = 5;
}

async fn a_request_that_is_not_a_list_of_rows_is_refused_whole(app: TestApp) {
    let owner = app.owner("standard", "owner@bulk-shape.example").await;
    let field_errors = |reply: &Reply| {
        assert_eq!((reply.status, reply.code()), (400, "validation_failed"), "{}", reply.body);
        reply.field_errors().into_iter().map(|(f, c)| format!("{f}:{c}")).collect::<Vec<_>>()
    };

    // A hundred and one rows, or none
    let many: Vec<Value> = (1..=101)
        .map(|n| json!({"email": format!("w{n}@bulk-shape.example"), "roles": ["viewer"]}))
        .collect();
    assert_eq!(field_errors(&bulk_json(&app, &owner, json!(many), None).await), ["invitations:too_many"]);
    assert_eq!(field_errors(&bulk_json(&app, &owner, json!([]), None).await), ["invitations:required"]);

    // A CSV whose header names no email, or a column it does not know
    let csv = bulk_csv(&app, &owner, "mail,roles\na@bulk-shape.example,viewer\n".into()).await;
    assert_eq!(field_errors(&csv), ["mail:unknown_field", "email:required"]);

    // A CSV that is not UTF-8 (a spreadsheet's legacy encoding)
    let path = bulk_path(&owner);
    let latin1 = b"email,roles\n\xe9t\xe9@bulk-shape.example,viewer\n".to_vec();
    let reply = send_bulk(&app, &owner.token, &path, "text/csv", latin1, None).await;
    assert_eq!(field_errors(&reply), ["body:malformed_csv"]);

    // A body neither JSON nor CSV, and one past 512 KiB
    let plain = send_bulk(&app, &owner.token, &path, "text/plain", "email\n", None).await;
    assert_eq!((plain.status, plain.code()), (415, "unsupported_media_type"));
    let huge = format!("email,roles\n{}", "a@bulk-shape.example,viewer\n".repeat(20_000));
    let huge = send_bulk(&app, &owner.token, &path, "text/csv", huge, None).await;
    assert_eq!((huge.status, huge.code()), (413, "payload_too_large"));

    // And nothing of any of them was written
    assert_eq!(invitation_count(&app, &owner).await, 1, "the owner's own");
}

tests::scenarios!(
    a_hundred_row_csv_sends_its_good_rows_and_names_each_bad_one,
    a_retried_bulk_request_answers_as_first_and_sends_nothing_twice,
    twin_requests_with_one_key_send_each_row_once,
    a_try_cut_off_part_way_holds_its_key_for_a_while_then_a_retry_takes_over,
    a_request_refused_whole_leaves_its_key_free,
    a_manager_grants_in_bulk_only_what_they_hold_and_a_viewer_nothing,
    a_seat_limited_account_takes_rows_until_its_seats_are_full,
    a_request_that_is_not_a_list_of_rows_is_refused_whole,
);

mod limited {
    use super::*;
    tests::scenarios!(settings: super::five_invitations_an_hour; limits_count_each_row);
}
