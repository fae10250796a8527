//! Each deployed function's binary, run the way Lambda runs it (`tests::lambda_runtime`: a
//! Lambda Runtime API emulator hands it API Gateway HTTP API events, the EventBridge schedule
//! event for the cleanup, or a DynamoDB stream batch for the publisher), configured as the template configures it and pointed at the emulators:
//! every route answers on its function, keys reach only the functions that use them, and functions
//! started on one table share it as the deployed ones do.

use base64::Engine;
use serde_json::json;
use shared::domain::TotpSecret;
use shared::domain::totp::{DIGITS, step_at};
use shared::http::routes::{Function, ROUTES};
use shared::service::support::access::{AccessTokens, Grantee};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};
use tests::app::PASSWORD;
use tests::assert_no_differences;
use tests::authorizer_events::{http_api_event, rest_event, verdict};
use tests::lambda_runtime::{
    KEY_VARIABLES, OPERATOR_KEY, PUBLIC_BASE_URL, RunningFunction, activation_token, binary, concrete,
    for_function, http_functions, schedule_event, teamgate_environment,
};
use tests::workspace::{declared_keys, function_crates};

#[test]
fn every_http_function_answers_each_of_its_routes_and_no_other() {
    let functions = http_functions();
    let crates = function_crates();
    let mut problems = Vec::new();
    for (name, routes) in &functions {
        if !crates.contains(*name) {
            problems.push(format!("{name}: in the route table but no crate in functions/"));
            continue;
        }
        let mut function = RunningFunction::start(name);
        for route in routes {
            let path = concrete(route.path);
            let body = (route.method.as_str() != "GET").then(|| json!({}));
            let answer = function.request(route.method.as_str(), &path, &[], body);
            // Without credentials or a body every route refuses or answers, but none is missing
            // (404 No such route, 405) or broken (5xx).
            let missing =
                answer.status == 405 || (answer.status == 404 && answer.text.contains("No such route"));
            if missing || answer.status >= 500 {
                problems.push(format!("{name}: {} {path} → {} {}", route.method, answer.status, answer.text));
            }
        }
        // A route of another function is not this function's: 404, as an unknown path is.
        if let Some(foreign) =
            ROUTES.iter().find(|r| r.function.name() != *name && r.function != Function::Dev)
        {
            let path = concrete(foreign.path);
            let body = (foreign.method.as_str() != "GET").then(|| json!({}));
            let answer = function.request(foreign.method.as_str(), &path, &[], body);
            if answer.status != 404 {
                problems.push(format!(
                    "{name}: answered {} {path} ({}'s route) with {}, want 404",
                    foreign.method,
                    foreign.function.name(),
                    answer.status
                ));
            }
        }
    }
    assert_no_differences("functions against their routes", problems);
}

#[test]
fn web_serves_the_public_key_of_the_configured_signing_key() {
    let environment = teamgate_environment();
    let web_environment = for_function("web", &environment);
    assert!(!web_environment.contains_key("JWT_SIGNING_KEY"), "web must not hold the private key");
    let mut web = RunningFunction::start_with("web", web_environment);
    let answer = web.request("GET", "/.well-known/jwks.json", &[], None);
    assert_eq!(answer.status, 200, "{}", answer.text);
    let pem = environment["JWT_SIGNING_KEY"].clone();
    let expected = AccessTokens::from_pem(&pem, PUBLIC_BASE_URL).expect("a valid key").jwks();
    assert_eq!(answer.body, expected, "the JWKS must publish the configured key");
    assert!(answer.headers.keys().any(|h| h.eq_ignore_ascii_case("content-type")), "{answer:?}");
}

#[test]
fn accounts_creates_an_account_for_the_operator_key_only() {
    let mut accounts = RunningFunction::start("accounts");
    let body = json!({"name": "Smoke Shop", "owner_email": "owner@smoke.example"});
    let refused = accounts.request("POST", "/v1/operator/accounts", &[], Some(body.clone()));
    assert_eq!((refused.status, refused.code()), (401, "unauthenticated"), "{}", refused.text);

    let created =
        accounts.request("POST", "/v1/operator/accounts", &[("X-Operator-Key", OPERATOR_KEY)], Some(body));
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["account"]["name"], "Smoke Shop", "{}", created.text);
    let invitation = &created.body["owner_invitation"];
    assert_eq!(invitation["email"], "owner@smoke.example", "{}", created.text);
    assert_eq!(invitation["status"], "sent", "{}", created.text);
}

#[test]
fn session_refuses_unknown_credentials_with_invalid_credentials() {
    let mut session = RunningFunction::start("session");
    let body = json!({"email": "nobody@smoke.example", "password": "not the password at all"});
    let answer = session.request("POST", "/v1/sessions", &[], Some(body));
    assert_eq!((answer.status, answer.code()), (401, "invalid_credentials"), "{}", answer.text);
    assert!(answer.headers.keys().any(|h| h.eq_ignore_ascii_case("content-type")), "{answer:?}");
}

#[test]
fn rate_limits_resize_a_functions_limits() {
    // Given the session function told to allow one sign-in attempt per client
    let mut environment = for_function("session", &teamgate_environment());
    environment.insert("RATE_LIMITS", "sign_in_per_client=1/900".into());
    let mut session = RunningFunction::start_with("session", environment);
    let body = json!({"email": "nobody@smoke.example", "password": "not the password at all"});
    // When the same client tries twice
    let first = session.request("POST", "/v1/sessions", &[], Some(body.clone()));
    let second = session.request("POST", "/v1/sessions", &[], Some(body));
    // Then the first is answered and the second is over the limit
    assert_eq!((first.status, first.code()), (401, "invalid_credentials"), "{}", first.text);
    assert_eq!((second.status, second.code()), (429, "rate_limited"), "{}", second.text);
}

#[test]
fn a_bad_rate_limits_entry_stops_the_cold_start_naming_it() {
    // Given a limit with a window of no length
    let mut environment = for_function("session", &teamgate_environment());
    environment.insert("RATE_LIMITS", "sign_in_per_client=100/0".into());
    // When the function starts
    let mut session = RunningFunction::start_with("session", environment);
    let status = session.wait_for_exit();
    // Then it stops, and its log names the variable and the entry
    assert!(!status.success(), "session exited with {status}");
    let logs = session.logs();
    assert!(logs.contains("RATE_LIMITS is invalid: `sign_in_per_client=100/0`"), "{logs}");
}

#[test]
fn cleanup_runs_on_the_schedule_event_and_reports_a_complete_run() {
    let mut cleanup = RunningFunction::start("cleanup");
    for _ in 0..2 {
        let report = cleanup.invoke(schedule_event()).unwrap_or_else(|e| panic!("cleanup failed: {e}"));
        assert_eq!(report["complete"], true, "{report}");
        assert_eq!(report["expired"], 0, "{report}");
    }
}

#[test]
fn mail_events_sweeps_the_outbox_on_its_schedule_and_skips_a_stream_record_of_no_mail() {
    // Given the mail-events function, as the template configures it, on an outbox with nothing due
    let mut mailer = RunningFunction::start("mail-events");

    // When its schedule fires, and the stream brings a record of no outbox mail
    let swept = mailer.invoke(schedule_event()).unwrap_or_else(|e| panic!("{e}\n{}", mailer.logs()));
    let stray = json!({"Records": [{
        "eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": {"PK": {"S": "ACCOUNT#x"}, "SK": {"S": "META"}}, "SequenceNumber": "100"},
    }]});
    let streamed = mailer.invoke(stray).unwrap_or_else(|e| panic!("{e}\n{}", mailer.logs()));

    // Then the sweep reports a complete run that sent nothing, and the stray record is skipped,
    // never retried (a record of no mail cannot become one)
    assert_eq!(swept["complete"], true, "{swept}");
    assert_eq!((swept["sent"].as_u64(), swept["failed"].as_u64()), (Some(0), Some(0)), "{swept}");
    assert_eq!(streamed, json!({"batchItemFailures": []}));
}

#[test]
fn the_publisher_answers_a_batch_and_reports_a_record_it_cannot_read_alone() {
    // Given the publisher, as the template configures it
    let mut publisher = RunningFunction::start("publisher");

    // When it is given an empty batch, then one whose record names no audit event
    let empty = publisher.invoke(json!({"Records": []})).unwrap_or_else(|e| panic!("{e}"));
    let unreadable = json!({"Records": [{
        "eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
        "dynamodb": {"Keys": {"PK": {"S": "USER#u"}, "SK": {"S": "EVENT#e"}},
                     "SequenceNumber": "4200", "StreamViewType": "KEYS_ONLY"}
    }]});
    let reported = publisher.invoke(unreadable).unwrap_or_else(|e| panic!("{e}"));

    // Then nothing failed in the first, and only that record in the second
    assert_eq!(empty, json!({"batchItemFailures": []}));
    assert_eq!(reported, json!({"batchItemFailures": [{"itemIdentifier": "4200"}]}));
}

#[test]
fn mail_events_ignores_reports_of_mail_teamgate_did_not_tag_or_of_no_invitation() {
    // Given the mail-events function, as the template configures it
    let mut function = RunningFunction::start("mail-events");
    let bounce = |tags: serde_json::Value| {
        json!({
            "detail-type": "Email Bounced", "source": "aws.ses",
            "detail": {"eventType": "Bounce", "bounce": {"bounceType": "Permanent"},
                       "mail": {"messageId": "m-1", "tags": tags}},
        })
    };

    // When SES reports on untagged mail, and on an invitation that does not exist
    let untagged = function.invoke(bounce(json!({}))).unwrap_or_else(|e| panic!("{e}"));
    let unknown = function
        .invoke(bounce(json!({
            "teamgate-account": ["01890a5d-ac96-774b-bcce-b302099a8057"],
            "teamgate-invitation": ["01890a5d-ac96-774b-bcce-b302099a8058"],
            "teamgate-send": ["1"],
        })))
        .unwrap_or_else(|e| panic!("{e}\n{}", function.logs()));

    // Then both are ignored
    assert_eq!((untagged, unknown), (json!({"reported": "ignored"}), json!({"reported": "ignored"})));
}

#[test]
fn a_missing_key_stops_the_cold_start_naming_the_variable() {
    let environment = teamgate_environment();
    let functions = http_functions();
    for variable in KEY_VARIABLES {
        let name = functions
            .keys()
            .find(|name| declared_keys(name).variables().contains(&variable))
            .unwrap_or_else(|| panic!("no function holds {variable}"));
        let mut share = for_function(name, &environment);
        share.remove(variable);
        let mut function = RunningFunction::start_with(name, share);
        let status = function.wait_for_exit();
        assert!(!status.success(), "{name} without {variable} exited with {status}");
        let reported = function.init_error.take().map(|e| e.to_string()).unwrap_or_default();
        let logs = function.logs();
        assert!(
            reported.contains(variable) || logs.contains(&format!("{variable} is required")),
            "{name}: neither the init error ({reported}) nor the log names {variable}:\n{logs}"
        );
    }
}

#[test]
fn an_owner_activates_signs_in_and_reads_their_account_through_functions_sharing_one_table() {
    let environment = teamgate_environment();
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_nanos();
    let owner = format!("owner-{nanos}@smoke.example");

    let mut accounts = RunningFunction::start_with("accounts", for_function("accounts", &environment));
    let created = accounts.request(
        "POST",
        "/v1/operator/accounts",
        &[("X-Operator-Key", OPERATOR_KEY)],
        Some(json!({"name": "Shared Table Shop", "owner_email": owner})),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let account_id = created.body["account"]["id"].as_str().expect("an account id").to_owned();
    drop(accounts);

    activate(&environment, &owner);

    let mut session = RunningFunction::start_with("session", for_function("session", &environment));
    let signed_in =
        session.request("POST", "/v1/sessions", &[], Some(json!({"email": owner, "password": PASSWORD})));
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    let bearer = format!("Bearer {}", signed_in.body["access_token"].as_str().expect("an access token"));
    drop(session);

    let mut directory = RunningFunction::start_with("directory", for_function("directory", &environment));
    let me = directory.request("GET", "/v1/me", &[("Authorization", &bearer)], None);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["memberships"][0]["account_id"], account_id.as_str(), "{}", me.text);
    assert_eq!(me.body["memberships"][0]["is_owner"], true, "{}", me.text);
}

#[test]
fn the_session_function_seals_two_step_secrets_with_kms_and_asks_for_the_code() {
    // Given an owner signed in through the session function, its vault moto's KMS
    let environment = teamgate_environment();
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_nanos();
    let owner = format!("owner-{nanos}@mfa-smoke.example");
    let mut accounts = RunningFunction::start_with("accounts", for_function("accounts", &environment));
    let created = accounts.request(
        "POST",
        "/v1/operator/accounts",
        &[("X-Operator-Key", OPERATOR_KEY)],
        Some(json!({"name": "Two Step Shop", "owner_email": owner})),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    drop(accounts);
    let bearer = format!("Bearer {}", activate(&environment, &owner));
    let mut session = RunningFunction::start_with("session", for_function("session", &environment));

    // When they enroll: sealed by KMS (the function holds no other key, and will not start
    // without it)
    let started = session.request(
        "POST",
        "/v1/me/mfa/totp",
        &[("Authorization", &bearer)],
        Some(json!({"password": PASSWORD})),
    );
    assert_eq!(started.status, 200, "{}", started.text);
    let secret = TotpSecret::from_base32(started.body["secret"].as_str().expect("a secret")).expect("base32");

    // When they confirm with the app's code (opened by KMS) and sign in again, then the sign-in
    // waits for a code
    let step = step_at(chrono::Utc::now());
    let code = json!({"code": secret.code_at_step(step, DIGITS)});
    let confirmed =
        session.request("POST", "/v1/me/mfa/totp/confirm", &[("Authorization", &bearer)], Some(code));
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    let password = json!({"email": owner, "password": PASSWORD});
    let waiting = session.request("POST", "/v1/sessions", &[], Some(password));
    assert_eq!(waiting.status, 202, "{}", waiting.text);
    let answer =
        json!({"challenge": waiting.body["challenge"], "code": secret.code_at_step(step + 1, DIGITS)});
    let signed_in = session.request("POST", "/v1/sessions/mfa", &[], Some(answer));
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
}

#[test]
fn the_session_function_will_not_start_without_its_kms_key() {
    let mut share = for_function("session", &teamgate_environment());
    share.remove("MFA_KMS_KEY_ID");
    let mut function = RunningFunction::start_with("session", share);
    assert!(!function.wait_for_exit().success());
    let reported = function.init_error.take().map(|e| e.to_string()).unwrap_or_default();
    let logs = function.logs();
    assert!(reported.contains("MFA_KMS_KEY_ID") || logs.contains("MFA_KMS_KEY_ID"), "{reported}\n{logs}");
}

/// Opens the newest activation link SES sent to `email` through the accept function, filling the
/// profile fields the preset requires; the access token it answers with.
fn activate(environment: &BTreeMap<&'static str, String>, email: &str) -> String {
    let token = activation_token(environment, email);
    let mut accept = RunningFunction::start_with("accept", for_function("accept", environment));
    let page = accept.request("POST", "/v1/invitations/inspect", &[], Some(json!({"token": token})));
    assert_eq!(page.status, 200, "{}", page.text);
    let mut activation = json!({"token": token, "password": PASSWORD});
    for (field, value) in [("first_name", "Olena"), ("last_name", "Kovalenko"), ("phone", "+380991234567")] {
        if page.body["profile_fields"][field] == "required" {
            activation[field] = json!(value);
        }
    }
    let activated = accept.request("POST", "/v1/invitations/accept", &[], Some(activation));
    assert_eq!(activated.status, 200, "{}", activated.text);
    activated.body["access_token"].as_str().expect("an access token").to_owned()
}

/// A route map over the Joom preset's sections, for the authorizer.
const ROUTE_MAP: &str = r#"
[routes]
"GET /sellers/{account_id}/orders" = "orders:read"
"POST /sellers/{account_id}/orders" = "orders:write"
"#;
const ORDERS: &str = "/sellers/{account_id}/orders";

/// The payload of a JWT, unverified: what a test needs to mint a look-alike.
fn claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// Whether the authorizer's answer to an HTTP API request lets it through.
fn http_api_allows(authorizer: &mut RunningFunction, method: &str, account_id: &str, token: &str) -> bool {
    let bearer = format!("Bearer {token}");
    let event = http_api_event(method, ORDERS, &[("account_id", account_id)], &[("authorization", &bearer)]);
    let answer = authorizer.invoke(event).unwrap_or_else(|e| panic!("an HTTP API authorizer answers: {e}"));
    answer["isAuthorized"].as_bool().unwrap_or_else(|| panic!("no isAuthorized in {answer}"))
}

/// A REST API's verdict on `GET` orders: `allow`, the reason of a Deny policy, or the error
/// message (`Unauthorized`, API Gateway's 401).
fn rest_verdict(authorizer: &mut RunningFunction, account_id: &str, token: &str) -> String {
    let bearer = format!("Bearer {token}");
    let event = rest_event("GET", ORDERS, &[("account_id", account_id)], &[("Authorization", &bearer)]);
    verdict(authorizer.invoke(event).map_err(|error| error["errorMessage"].as_str().unwrap_or("").to_owned()))
}

#[test]
fn the_authorizer_decides_http_api_and_rest_requests_against_the_live_table() {
    let environment = teamgate_environment();
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_nanos();
    let (owner, employee) =
        (format!("owner-{nanos}@smoke.example"), format!("finance-{nanos}@smoke.example"));
    let mut accounts = RunningFunction::start_with("accounts", for_function("accounts", &environment));
    let operator = [("X-Operator-Key", OPERATOR_KEY)];
    let mut account_ids = Vec::new();
    for (name, email) in
        [("Gate Shop", owner.clone()), ("Other Shop", format!("other-{nanos}@smoke.example"))]
    {
        let body = json!({"name": name, "owner_email": email, "preset": "joom"});
        let created = accounts.request("POST", "/v1/operator/accounts", &operator, Some(body));
        assert_eq!(created.status, 201, "{}", created.text);
        account_ids.push(created.body["account"]["id"].as_str().expect("an account id").to_owned());
    }
    drop(accounts);
    let (account_id, other_account) = (account_ids[0].as_str(), account_ids[1].as_str());
    let owner_token = format!("Bearer {}", activate(&environment, &owner));
    let mut invite = RunningFunction::start_with("invite", for_function("invite", &environment));
    let invited = invite.request(
        "POST",
        &format!("/v1/accounts/{account_id}/invitations"),
        &[("Authorization", &owner_token)],
        Some(json!({"email": employee, "roles": ["finance"]})),
    );
    assert_eq!(invited.status, 201, "{}", invited.text);
    drop(invite);
    let finance = activate(&environment, &employee);

    let mut share = for_function("authorizer", &environment);
    assert_eq!(
        share.keys().filter(|k| KEY_VARIABLES.contains(k)).collect::<Vec<_>>(),
        [&"JWT_PUBLIC_KEY"],
        "the authorizer holds the public key alone"
    );
    share.insert("AUTHZ_ROUTE_MAP", ROUTE_MAP.to_owned());
    share.insert("AUTHZ_MAX_STALENESS_SECONDS", "0".to_owned());
    let mut authorizer = RunningFunction::start_with("authorizer", share);

    // Given an active finance employee (orders:read): reading orders is allowed, writing is not.
    assert!(http_api_allows(&mut authorizer, "GET", account_id, &finance));
    assert_eq!(rest_verdict(&mut authorizer, account_id, &finance), "allow");
    assert!(!http_api_allows(&mut authorizer, "POST", account_id, &finance));
    assert_eq!(rest_verdict(&mut authorizer, other_account, &finance), "not_a_member");

    // Tokens that prove nobody: expired, tampered with, signed by another key.
    let signer = AccessTokens::from_pem(&environment["JWT_SIGNING_KEY"], PUBLIC_BASE_URL).expect("the key");
    let claims = claims(&finance);
    let user = shared::domain::UserId::parse(claims["sub"].as_str().expect("sub")).expect("a user id");
    let version = u32::try_from(claims["tv"].as_u64().expect("tv")).expect("a version");
    let session =
        shared::domain::SessionFamilyId::parse(claims["sid"].as_str().expect("sid")).expect("a session");
    let grantee = Grantee { user: &user, token_version: version, session: &session, second_step_at: None };
    let expired =
        signer.issue(&grantee, chrono::Utc::now() - chrono::Duration::seconds(901)).expect("a token");
    let foreign =
        AccessTokens::generate(PUBLIC_BASE_URL).issue(&grantee, chrono::Utc::now()).expect("a token");
    let mut tampered = finance.clone();
    tampered.replace_range(tampered.len() - 6.., "AAAAAA");
    for (what, token) in [("expired", &expired), ("tampered", &tampered), ("foreign", &foreign)] {
        assert_eq!(rest_verdict(&mut authorizer, account_id, token), "Unauthorized", "{what}");
        assert!(!http_api_allows(&mut authorizer, "GET", account_id, token), "{what}");
    }

    // An API key of the account, made through the api-keys function, is let in by its permissions.
    let mut api_keys = RunningFunction::start_with("api-keys", for_function("api-keys", &environment));
    let created = api_keys.request(
        "POST",
        &format!("/v1/accounts/{account_id}/api-keys"),
        &[("Authorization", &owner_token)],
        Some(json!({"name": "repricer", "permissions": ["orders:read"]})),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    drop(api_keys);
    let key = created.body["secret"].as_str().expect("the secret, shown once").to_owned();
    assert_eq!(rest_verdict(&mut authorizer, account_id, &key), "allow");
    assert!(!http_api_allows(&mut authorizer, "POST", account_id, &key));
    assert_eq!(rest_verdict(&mut authorizer, other_account, &key), "not_a_member");

    // A route the map does not know is denied, and the log says so, never with the token.
    let bearer = format!("Bearer {finance}");
    let unknown = rest_event(
        "GET",
        "/sellers/{account_id}/payouts",
        &[("account_id", account_id)],
        &[("Authorization", &bearer)],
    );
    let refused = authorizer.invoke(unknown).expect("a policy");
    assert_eq!(refused["context"]["reason"], "unknown_route", "{refused}");

    // Blocked, then deleted: refused on the next request (no staleness allowed here).
    let member = format!("/v1/accounts/{account_id}/members/{user}");
    let mut block = RunningFunction::start_with("block", for_function("block", &environment));
    let blocked = block.request(
        "POST",
        &format!("{member}/block"),
        &[("Authorization", &owner_token)],
        Some(json!({})),
    );
    assert_eq!(blocked.status, 200, "{}", blocked.text);
    assert_eq!(rest_verdict(&mut authorizer, account_id, &finance), "member_blocked");
    let deleted = block.request("DELETE", &member, &[("Authorization", &owner_token)], None);
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    assert_eq!(rest_verdict(&mut authorizer, account_id, &finance), "not_a_member");

    let logs = authorizer.logs();
    let decisions: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["message"] == "authorization")
        .collect();
    assert!(decisions.len() >= 16, "one line per decision:\n{logs}");
    assert!(
        decisions
            .iter()
            .any(|d| d["reason"] == "unknown_route" && d["route_path"] == "/sellers/{account_id}/payouts"),
        "{logs}"
    );
    assert!(decisions.iter().any(|d| d["allowed"] == true && d["credential"] == user.to_string()), "{logs}");
    for token in [&finance, &expired, &tampered, &foreign, &key] {
        let signature = token.rsplit('.').next().expect("a signature");
        assert!(!logs.contains(signature), "a token reached the log:\n{logs}");
    }
}

#[test]
fn the_authorizer_checks_a_route_map_file_before_it_is_deployed() {
    let example = tests::workspace::root().join("infra/examples/route-map.toml");
    let checked =
        std::process::Command::new(binary("authorizer")).arg("--check").arg(&example).output().expect("runs");
    let said = String::from_utf8_lossy(&checked.stdout);
    assert!(checked.status.success() && said.contains("3 routes"), "{said}");

    let bad = std::env::temp_dir().join(format!("route-map-{}.toml", std::process::id()));
    std::fs::write(&bad, "[routes]\n\"GET /a\" = \"orders:read\"\n\"GET /b\" = \"oders:read\"\n")
        .expect("written");
    let refused =
        std::process::Command::new(binary("authorizer")).arg("--check").arg(&bad).output().expect("runs");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && said.contains("line 3: `oders:read`"), "{said}");
    std::fs::remove_file(&bad).expect("removed");
}

#[test]
fn the_authorizer_stops_its_cold_start_at_a_bad_route_map_naming_the_line() {
    let environment = teamgate_environment();
    for (map, wanted) in [
        (None, "AUTHZ_ROUTE_MAP"),
        (
            Some("[routes]\n\"GET /a\" = \"orders:read\"\n\"GET /b\" = \"oders:read\"\n"),
            "line 3: `oders:read`",
        ),
    ] {
        let mut share = for_function("authorizer", &environment);
        if let Some(map) = map {
            share.insert("AUTHZ_ROUTE_MAP", map.to_owned());
        }
        let mut authorizer = RunningFunction::start_with("authorizer", share);
        let status = authorizer.wait_for_exit();
        assert!(!status.success(), "started with {map:?}");
        let reported = authorizer.init_error.take().map(|e| e.to_string()).unwrap_or_default();
        let logs = authorizer.logs();
        assert!(
            reported.contains(wanted) || logs.contains(wanted),
            "{wanted} named in neither {reported} nor\n{logs}"
        );
    }
}
