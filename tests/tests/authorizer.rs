//! The Lambda authorizer (`shared::authorizer`) deciding API Gateway's requests in-process, on
//! both backends, with the application's clock: who is let in, what the backend is told, and how
//! soon a block, a deletion or a role change reaches a warm container. The binary itself, under
//! the Runtime API emulator, is `lambda_smoke.rs`'s.

use serde_json::{Value, json};
use shared::authorizer::Authorizer;
use shared::authorizer::route_map::RouteMap;
use shared::service::support::access::AccessTokens;
use tests::app::{Owner, PASSWORD, TestApp, ses_mailer, spawn_app_on};
use tests::authorizer_events::{http_api_catch_all_event, http_api_event, method_arn, rest_event};
use tests::emulators::{DynamoCalls, VERIFIED_SENDER, counted_dynamo_store};

/// A marketplace's route map over the Joom preset's sections.
const ROUTE_MAP: &str = r#"
[routes]
"GET /sellers/{account_id}/orders" = "orders:read"
"POST /sellers/{account_id}/orders" = "orders:write"
"GET /sellers/{account_id}/invoices" = ["invoices:write"]
"GET /orders" = "orders:read"
"GET /sellers/{account_id}/profile" = []
"#;

const ORDERS: &str = "/sellers/{account_id}/orders";

/// The authorizer over the app's Teamgate, with `AUTHZ_MAX_STALENESS_SECONDS` = `staleness`.
struct Gate<'a> {
    app: &'a TestApp,
    authorizer: Authorizer,
}

impl<'a> Gate<'a> {
    fn new(app: &'a TestApp, staleness: i64) -> Self {
        let routes = RouteMap::parse(ROUTE_MAP, "test", &app.api.app.presets.catalog()).expect("a valid map");
        Self { app, authorizer: Authorizer::new(routes, staleness) }
    }

    /// An HTTP API's answer to `method route` for the account in the path, with `token`.
    async fn http_api(&self, method: &str, route: &str, account_id: &str, token: &str) -> Value {
        let bearer = format!("Bearer {token}");
        let event =
            http_api_event(method, route, &[("account_id", account_id)], &[("Authorization", &bearer)]);
        self.authorizer.answer(&self.app.api.app, event).await.expect("an HTTP API answer")
    }

    /// Whether an HTTP API lets `token` call `method route` in the account.
    async fn allows(&self, method: &str, route: &str, account_id: &str, token: &str) -> bool {
        let answer = self.http_api(method, route, account_id, token).await;
        answer["isAuthorized"].as_bool().unwrap_or_else(|| panic!("no isAuthorized in {answer}"))
    }

    /// A REST API's answer: the policy, or the error message (`Unauthorized` is API Gateway's 401).
    async fn rest(
        &self,
        method: &str,
        route: &str,
        parameters: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Result<Value, String> {
        let event = rest_event(method, route, parameters, headers);
        self.authorizer.answer(&self.app.api.app, event).await.map_err(|e| e.to_string())
    }

    /// Why a REST API's authorizer refused `token` on `GET` orders of the account, or `allow`.
    async fn rest_verdict(&self, account_id: &str, token: &str) -> String {
        let bearer = format!("Bearer {token}");
        match self.rest("GET", ORDERS, &[("account_id", account_id)], &[("Authorization", &bearer)]).await {
            Ok(policy) if policy["policyDocument"]["Statement"][0]["Effect"] == "Allow" => "allow".into(),
            Ok(policy) => policy["context"]["reason"].as_str().unwrap_or("no reason").to_owned(),
            Err(message) => message,
        }
    }
}

/// A Joom seller's owner with a finance employee (orders:read, invoices:write) and an
/// operations one (orders:write, products:write).
struct Team {
    owner: Owner,
    finance: String,
    operations: String,
}

async fn joom_team(app: &TestApp, name: &str) -> Team {
    let owner = app.owner("joom", &format!("owner@{name}.example")).await;
    let finance = app.member(&owner, &format!("finance@{name}.example"), &["finance"], &[]).await;
    let operations = app.member(&owner, &format!("operations@{name}.example"), &["operations"], &[]).await;
    Team { owner, finance, operations }
}

async fn an_active_member_holding_the_permission_is_let_in_and_the_backend_told_who_they_are(app: TestApp) {
    let team = joom_team(&app, "allowed").await;
    let gate = Gate::new(&app, 5);
    let account = team.owner.account_id.as_str();
    let finance_id = app.user_id(&team.finance).await;

    let answer = gate.http_api("GET", ORDERS, account, &team.finance).await;
    assert_eq!(answer["isAuthorized"], true, "{answer}");
    let context = &answer["context"];
    assert_eq!(context["account_id"], account);
    assert_eq!(context["user_id"], finance_id.as_str());
    assert_eq!(context["is_owner"], false);
    let me = app.get_as(&team.finance, "/v1/me").await;
    let effective: Vec<&str> = me.body["memberships"][0]["effective_permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .map(|p| p.as_str().expect("a string"))
        .collect();
    assert_eq!(context["permissions"], effective.join(","), "{answer}");
    assert!(gate.allows("GET", "/sellers/{account_id}/invoices", account, &team.finance).await);
    assert!(gate.allows("GET", "/sellers/{account_id}/profile", account, &team.finance).await);

    let bearer = format!("Bearer {}", team.finance);
    let policy = gate
        .rest("GET", ORDERS, &[("account_id", account)], &[("Authorization", &bearer)])
        .await
        .expect("a policy");
    assert_eq!(policy["principalId"], finance_id.as_str());
    let statement = &policy["policyDocument"]["Statement"][0];
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Action"], "execute-api:Invoke");
    assert_eq!(statement["Resource"], method_arn("GET", ORDERS, &[("account_id", account)]));
    assert_eq!(policy["context"], *context);
}

async fn a_member_lacking_the_permission_is_denied_and_the_owner_holds_all(app: TestApp) {
    let team = joom_team(&app, "lacking").await;
    let gate = Gate::new(&app, 5);
    let account = team.owner.account_id.as_str();

    assert!(!gate.allows("POST", ORDERS, account, &team.finance).await);
    assert!(!gate.allows("GET", "/sellers/{account_id}/invoices", account, &team.operations).await);
    assert!(gate.allows("POST", ORDERS, account, &team.operations).await);
    let owner = gate.http_api("POST", ORDERS, account, &team.owner.token).await;
    assert_eq!(
        (owner["isAuthorized"].clone(), owner["context"]["is_owner"].clone()),
        (json!(true), json!(true))
    );

    let bearer = format!("Bearer {}", team.finance);
    let refused = gate
        .rest("POST", ORDERS, &[("account_id", account)], &[("Authorization", &bearer)])
        .await
        .expect("a policy");
    assert_eq!(refused["policyDocument"]["Statement"][0]["Effect"], "Deny");
    assert_eq!(refused["context"], json!({"reason": "missing_permission"}));
}

async fn another_accounts_id_or_two_accounts_at_once_are_denied(app: TestApp) {
    let team = joom_team(&app, "mine").await;
    let stranger = app.owner("joom", "owner@theirs.example").await;
    let gate = Gate::new(&app, 5);
    let account = team.owner.account_id.as_str();

    assert_eq!(gate.rest_verdict(&stranger.account_id, &team.finance).await, "not_a_member");
    assert_eq!(gate.rest_verdict("not-an-account-id", &team.finance).await, "no_account");

    // The account from the header, on a route whose path names none.
    let bearer = format!("Bearer {}", team.finance);
    let by_header = gate
        .rest("GET", "/orders", &[], &[("Authorization", &bearer), ("X-Teamgate-Account", account)])
        .await;
    assert_eq!(by_header.expect("a policy")["policyDocument"]["Statement"][0]["Effect"], "Allow");
    let none = gate.rest("GET", "/orders", &[], &[("Authorization", &bearer)]).await.expect("a policy");
    assert_eq!(none["context"]["reason"], "no_account");
    // A header naming another account than the path is not a way into it.
    let both = gate
        .rest(
            "GET",
            ORDERS,
            &[("account_id", account)],
            &[("Authorization", &bearer), ("x-teamgate-account", &stranger.account_id)],
        )
        .await
        .expect("a policy");
    assert_eq!(both["context"]["reason"], "account_mismatch");
}

async fn the_account_is_the_one_the_path_names_wherever_it_sits(app: TestApp) {
    let team = joom_team(&app, "path").await;
    let stranger = app.owner("joom", "owner@elsewhere.example").await;
    let gate = Gate::new(&app, 5);
    let (mine, theirs) = (team.owner.account_id.as_str(), stranger.account_id.as_str());
    let bearer = format!("Bearer {}", team.finance);
    let reason = |answer: Result<Value, String>| {
        let policy = answer.expect("a policy");
        match policy["policyDocument"]["Statement"][0]["Effect"].as_str() {
            Some("Allow") => "allow".to_owned(),
            _ => policy["context"]["reason"].as_str().unwrap_or("no reason").to_owned(),
        }
    };

    // API Gateway names the parameter otherwise: the map's `{account_id}` says which segment it is.
    let elsewhere = gate
        .rest("GET", "/sellers/{seller}/orders", &[("seller", theirs)], &[("Authorization", &bearer)])
        .await;
    assert_eq!(reason(elsewhere), "not_a_member");
    let own = gate
        .rest("GET", "/sellers/{seller}/orders", &[("seller", mine)], &[("Authorization", &bearer)])
        .await;
    assert_eq!(reason(own), "allow");
    // The header cannot stand in for the path on a route that names the account in its path.
    let header_instead = gate
        .rest(
            "GET",
            "/sellers/{seller}/orders",
            &[("seller", theirs)],
            &[("Authorization", &bearer), ("X-Teamgate-Account", mine)],
        )
        .await;
    assert_eq!(reason(header_instead), "account_mismatch");

    // A catch-all route: the account is the request path's segment, and the path must be plain.
    let catch_all = |path: &str, extra: Option<(&'static str, &str)>| {
        let mut headers = vec![("Authorization", bearer.as_str())];
        headers.extend(extra);
        http_api_catch_all_event("GET", path, &headers)
    };
    let decide = |event: Value| async {
        gate.authorizer.answer(&app.api.app, event).await.expect("an answer")["isAuthorized"].clone()
    };
    assert_eq!(decide(catch_all(&format!("/sellers/{mine}/orders"), None)).await, true);
    assert_eq!(
        decide(catch_all(&format!("/sellers/{theirs}/orders"), Some(("x-teamgate-account", mine)))).await,
        false
    );
    assert_eq!(decide(catch_all(&format!("/sellers/{theirs}/orders"), None)).await, false);
    for sneaky in [
        format!("/sellers/{mine}/profile/../orders"),
        format!("/sellers/{mine}/profile/..%2Forders"),
        format!("/sellers/{mine}//orders"),
    ] {
        assert_eq!(decide(catch_all(&sneaky, None)).await, false, "{sneaky}");
    }

    // One account has one spelling: another spelling of it names no account.
    let shouting = mine.to_uppercase();
    assert_eq!(gate.rest_verdict(&shouting, &team.finance).await, "no_account");
    // The header given twice with two accounts names none.
    let twice = gate
        .rest(
            "GET",
            "/orders",
            &[],
            &[("Authorization", &bearer), ("X-Teamgate-Account", mine), ("x-teamgate-account", theirs)],
        )
        .await;
    assert_eq!(reason(twice), "account_mismatch");
}

async fn a_block_reaches_a_warm_container_within_the_staleness_bound(app: TestApp) {
    let team = joom_team(&app, "block").await;
    let gate = Gate::new(&app, 5);
    let account = team.owner.account_id.as_str();
    let finance_id = app.user_id(&team.finance).await;
    assert!(gate.allows("GET", ORDERS, account, &team.finance).await);

    let blocked = app
        .post_as(
            &team.owner.token,
            &format!("{}/members/{finance_id}/block", team.owner.account_path()),
            json!({}),
        )
        .await;
    assert_eq!(blocked.status, 200, "{}", blocked.body);
    app.advance_clock(4).await;
    assert!(gate.allows("GET", ORDERS, account, &team.finance).await, "remembered for less than the bound");
    app.advance_clock(1).await;
    assert_eq!(gate.rest_verdict(account, &team.finance).await, "member_blocked");
    assert!(!gate.allows("GET", ORDERS, account, &team.finance).await);

    // A container that remembers nothing enforces an unblock at once.
    let unblocked = app
        .post_as(
            &team.owner.token,
            &format!("{}/members/{finance_id}/unblock", team.owner.account_path()),
            json!({}),
        )
        .await;
    assert_eq!(unblocked.status, 200, "{}", unblocked.body);
    assert!(Gate::new(&app, 0).allows("GET", ORDERS, account, &team.finance).await);
}

async fn a_deletion_and_a_role_change_reach_a_warm_container_within_the_bound(app: TestApp) {
    let team = joom_team(&app, "changes").await;
    let gate = Gate::new(&app, 5);
    let account = team.owner.account_id.as_str();
    let (finance_id, operations_id) = (app.user_id(&team.finance).await, app.user_id(&team.operations).await);
    assert!(gate.allows("GET", ORDERS, account, &team.operations).await);
    assert!(!gate.allows("GET", "/sellers/{account_id}/invoices", account, &team.operations).await);
    assert!(gate.allows("GET", ORDERS, account, &team.finance).await);

    let members = format!("{}/members", team.owner.account_path());
    let deleted = app.delete_as(&team.owner.token, &format!("{members}/{finance_id}")).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let regranted = app
        .put_as(&team.owner.token, &format!("{members}/{operations_id}/roles"), json!({"roles": ["finance"]}))
        .await;
    assert_eq!(regranted.status, 200, "{}", regranted.body);

    app.advance_clock(5).await;
    assert_eq!(gate.rest_verdict(account, &team.finance).await, "not_a_member");
    assert!(gate.allows("GET", "/sellers/{account_id}/invoices", account, &team.operations).await);
    assert!(!gate.allows("POST", ORDERS, account, &team.operations).await);
}

async fn tokens_that_prove_nobody_are_unauthorized(app: TestApp) {
    let team = joom_team(&app, "tokens").await;
    let gate = Gate::new(&app, 5);
    let account = team.owner.account_id.as_str();
    let finance_id = app.user_id(&team.finance).await;

    let mut tampered = team.finance.clone();
    tampered.replace_range(tampered.len() - 6.., "AAAAAA");
    let now = app.api.app.ports.clock.now();
    let user = shared::domain::UserId::parse(&finance_id).expect("a user id");
    let foreign = AccessTokens::generate(&app.base).issue(&user, 0, now).expect("a token");
    for (what, token) in
        [("tampered", tampered.as_str()), ("signed by another key", &foreign), ("not a JWT", "abc")]
    {
        assert_eq!(gate.rest_verdict(account, token).await, "Unauthorized", "{what}");
        assert!(!gate.allows("GET", ORDERS, account, token).await, "{what}");
    }
    let anonymous = gate.rest("GET", ORDERS, &[("account_id", account)], &[]).await;
    assert_eq!(anonymous.expect_err("no token"), "Unauthorized");

    // A password change ends the tokens signed before it, on the next decision.
    let owners_token = team.owner.token.clone();
    assert_eq!(gate.rest_verdict(account, &owners_token).await, "allow");
    let changed = app
        .post_as(
            &owners_token,
            "/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "Another-Horse-Battery-43"}),
        )
        .await;
    assert_eq!(changed.status, 204, "{}", changed.body);
    assert_eq!(Gate::new(&app, 5).rest_verdict(account, &owners_token).await, "Unauthorized");

    app.advance_clock(901).await;
    assert_eq!(gate.rest_verdict(account, &team.finance).await, "Unauthorized", "expired");
}

async fn a_route_the_map_does_not_know_is_denied(app: TestApp) {
    let team = joom_team(&app, "unknown").await;
    let gate = Gate::new(&app, 5);
    let bearer = format!("Bearer {}", team.owner.token);
    let account = team.owner.account_id.as_str();
    for (method, route) in
        [("DELETE", ORDERS), ("GET", "/sellers/{account_id}/orders/{order_id}"), ("GET", "/payouts")]
    {
        let parameters = [("account_id", account), ("order_id", "17")];
        let refused =
            gate.rest(method, route, &parameters, &[("Authorization", &bearer)]).await.expect("a policy");
        assert_eq!(refused["context"]["reason"], "unknown_route", "{method} {route}");
        assert!(!gate.allows(method, route, account, &team.owner.token).await, "{method} {route}");
    }
}

tests::scenarios!(
    an_active_member_holding_the_permission_is_let_in_and_the_backend_told_who_they_are,
    a_member_lacking_the_permission_is_denied_and_the_owner_holds_all,
    another_accounts_id_or_two_accounts_at_once_are_denied,
    the_account_is_the_one_the_path_names_wherever_it_sits,
    a_block_reaches_a_warm_container_within_the_staleness_bound,
    a_deletion_and_a_role_change_reach_a_warm_container_within_the_bound,
    tokens_that_prove_nobody_are_unauthorized,
    a_route_the_map_does_not_know_is_denied,
);

#[tokio::test]
async fn a_decision_reads_dynamodb_once_when_it_misses_and_never_when_it_hits() {
    let calls = DynamoCalls::default();
    let store = std::sync::Arc::new(counted_dynamo_store(&calls).await);
    let app = spawn_app_on(store, ses_mailer(VERIFIED_SENDER).await, |_| {}).await;
    let team = joom_team(&app, "reads").await;
    let gate = Gate::new(&app, 5);
    let account = team.owner.account_id.as_str();

    calls.take();
    assert!(gate.allows("GET", ORDERS, account, &team.finance).await);
    assert_eq!(calls.take(), ["BatchGetItem"], "a miss");
    assert!(gate.allows("GET", ORDERS, account, &team.finance).await);
    assert!(!gate.allows("POST", ORDERS, account, &team.finance).await);
    assert_eq!(calls.take(), Vec::<String>::new(), "hits");
    assert!(!gate.allows("GET", "/payouts", account, &team.finance).await);
    assert_eq!(calls.take(), Vec::<String>::new(), "an unknown route is refused before any read");
}
