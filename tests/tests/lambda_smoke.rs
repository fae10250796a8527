//! Each deployed function's binary, run the way Lambda runs it (`tests::lambda_runtime`: a
//! Lambda Runtime API emulator hands it API Gateway HTTP API events, or the EventBridge schedule
//! event for the cleanup), configured as the template configures it and pointed at the emulators:
//! every route answers on its function, keys reach only the functions that use them, and functions
//! started on one table share it as the deployed ones do.

use serde_json::json;
use shared::http::routes::{Function, ROUTES};
use shared::service::support::access::AccessTokens;
use std::time::{SystemTime, UNIX_EPOCH};
use tests::app::PASSWORD;
use tests::assert_no_differences;
use tests::lambda_runtime::{
    KEY_VARIABLES, OPERATOR_KEY, PUBLIC_BASE_URL, RunningFunction, activation_token, concrete, for_function,
    http_functions, schedule_event, teamgate_environment,
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
fn cleanup_runs_on_the_schedule_event_and_reports_a_complete_run() {
    let mut cleanup = RunningFunction::start("cleanup");
    for _ in 0..2 {
        let report = cleanup.invoke(schedule_event()).unwrap_or_else(|e| panic!("cleanup failed: {e}"));
        assert_eq!(report["complete"], true, "{report}");
        assert_eq!(report["expired"], 0, "{report}");
    }
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

    let token = activation_token(&owner);
    let mut accept = RunningFunction::start_with("accept", for_function("accept", &environment));
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
    drop(accept);

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
