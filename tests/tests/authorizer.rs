//! The Lambda authorizer (`shared::authorizer`) deciding API Gateway's requests in-process, on
//! both backends, with the application's clock: who is let in, what the backend is told, and how
//! soon a block, a deletion or a role change reaches a warm container. The binary itself, under
//! the Runtime API emulator, is `lambda_smoke.rs`'s.

use serde_json::{Value, json};
use shared::authorizer::Authorizer;
use shared::authorizer::route_map::RouteMap;
use shared::service::support::access::{AccessTokens, Grantee};
use tests::app::{Owner, PASSWORD, TestApp, ses_mailer, spawn_app_on};
use tests::authorizer_events::{http_api_catch_all_event, http_api_event, method_arn, rest_event, verdict};
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
        let routes =
            RouteMap::parse(ROUTE_MAP, "test", &app.api.app.presets().catalog()).expect("a valid map");
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
        verdict(self.rest("GET", ORDERS, &[("account_id", account_id)], &[("Authorization", &bearer)]).await)
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

    // API Gateway names the parameter otherwise: the map's `{account_id}` says which segment it is.
    let elsewhere = gate
        .rest("GET", "/sellers/{seller}/orders", &[("seller", theirs)], &[("Authorization", &bearer)])
        .await;
    assert_eq!(verdict(elsewhere), "not_a_member");
    let own = gate
        .rest("GET", "/sellers/{seller}/orders", &[("seller", mine)], &[("Authorization", &bearer)])
        .await;
    assert_eq!(verdict(own), "allow");
    // The header cannot stand in for the path on a route that names the account in its path.
    let header_instead = gate
        .rest(
            "GET",
            "/sellers/{seller}/orders",
            &[("seller", theirs)],
            &[("Authorization", &bearer), ("X-Teamgate-Account", mine)],
        )
        .await;
    assert_eq!(verdict(header_instead), "account_mismatch");

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
    assert_eq!(verdict(twice), "account_mismatch");
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
    // The block ended the session the old token was issued in; a new sign-in is let in.
    let fresh = Gate::new(&app, 0);
    assert_eq!(fresh.rest_verdict(account, &team.finance).await, "Unauthorized");
    let signed = app.sign_in("finance@block.example", PASSWORD).await;
    assert!(fresh.allows("GET", ORDERS, account, &signed.str("access_token")).await);
}

async fn an_ended_session_is_refused_within_the_staleness_bound_and_a_new_one_let_in(app: TestApp) {
    let team = joom_team(&app, "ended").await;
    let gate = Gate::new(&app, 5);
    let account = team.owner.account_id.as_str();
    let finance_id = app.user_id(&team.finance).await;
    assert!(gate.allows("GET", ORDERS, account, &team.finance).await);

    // The owner signs the finance member out of the account.
    let revoke = format!("{}/members/{finance_id}/sessions/revoke", team.owner.account_path());
    assert_eq!(app.post_as(&team.owner.token, &revoke, json!({})).await.status, 204);
    app.advance_clock(5).await;
    assert_eq!(gate.rest_verdict(account, &team.finance).await, "Unauthorized");

    // A new session is its own standing: nothing remembered of the old one answers for it.
    let signed = app.sign_in("finance@ended.example", PASSWORD).await;
    assert!(gate.allows("GET", ORDERS, account, &signed.str("access_token")).await);
}

async fn a_member_without_the_second_step_an_account_requires_is_denied_until_they_enroll(app: TestApp) {
    // Given an amazon-seller account (two-step verification required) and a clerk who activated
    // but has not enrolled
    let owner = app.owner("amazon-seller", "owner@authz-mfa.example").await;
    let invited = app
        .post_as(
            &owner.token,
            &format!("{}/invitations", owner.account_path()),
            json!({"email": "clerk@authz-mfa.example", "permissions": ["orders:read"]}),
        )
        .await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let clerk = app.activate(&app.link_token("clerk@authz-mfa.example").await).await.str("access_token");
    let gate = Gate::new(&app, 5);
    let account = owner.account_id.as_str();

    // Then the marketplace's API refuses them, saying why
    assert_eq!(gate.rest_verdict(account, &clerk).await, "mfa_enrollment_required");
    assert!(!gate.allows("GET", ORDERS, account, &clerk).await);

    // And once enrolled, the same session is let in (a container that remembers nothing)
    let (clerk, _) = app.enroll(&clerk).await;
    assert!(Gate::new(&app, 0).allows("GET", ORDERS, account, &clerk).await);
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
    let session = shared::domain::SessionFamilyId::generate();
    let grantee = Grantee { user: &user, token_version: 0, session: &session, second_step_at: None };
    let foreign = AccessTokens::generate(&app.base).issue(&grantee, now).expect("a token");
    for (what, token) in
        [("tampered", tampered.as_str()), ("signed by another key", &foreign), ("not a JWT", "abc")]
    {
        assert_eq!(gate.rest_verdict(account, token).await, "Unauthorized", "{what}");
        assert!(!gate.allows("GET", ORDERS, account, token).await, "{what}");
    }
    let anonymous = gate.rest("GET", ORDERS, &[("account_id", account)], &[]).await;
    assert_eq!(anonymous.expect_err("no token"), "Unauthorized");

    // A password change ends the tokens signed before it, on the next decision.
    let signed_in = app.sign_in(&team.owner.email, PASSWORD).await;
    let owners_token = signed_in.str("access_token");
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
    let refresh = json!({"refresh_token": signed_in.str("refresh_token")});
    let renewed = app.post("/v1/sessions/refresh", refresh).await.str("access_token");
    assert_eq!(Gate::new(&app, 5).rest_verdict(account, &renewed).await, "allow");

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

/// Creates a key of the owner's account; its secret.
async fn key(app: &TestApp, owner: &Owner, body: Value) -> String {
    let created = app.post_as(&owner.token, &format!("{}/api-keys", owner.account_path()), body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.str("secret")
}

async fn an_api_key_is_let_in_with_its_own_permissions_and_the_backend_told_it_is_a_key(app: TestApp) {
    let team = joom_team(&app, "key").await;
    let stranger = app.owner("joom", "owner@key-stranger.example").await;
    let gate = Gate::new(&app, 5);
    let account = team.owner.account_id.as_str();
    let secret = key(&app, &team.owner, json!({"name": "repricer", "permissions": ["orders:read"]})).await;

    // As a bearer token, or as X-Api-Key: the same key, let in to read orders and nothing more.
    let answer = gate.http_api("GET", ORDERS, account, &secret).await;
    assert_eq!(answer["isAuthorized"], true, "{answer}");
    let context = &answer["context"];
    assert_eq!(
        (context["principal_type"].as_str(), context["key_name"].as_str()),
        (Some("api_key"), Some("repricer"))
    );
    assert_eq!(
        (context["account_id"].as_str(), context["permissions"].as_str()),
        (Some(account), Some("orders:read"))
    );
    assert!(context.get("user_id").is_none(), "a key has no user: {context}");
    let by_header = gate
        .rest("GET", ORDERS, &[("account_id", account)], &[("X-Api-Key", &secret)])
        .await
        .expect("a policy");
    assert_eq!(by_header["policyDocument"]["Statement"][0]["Effect"], "Allow");
    assert!(by_header["principalId"].as_str().is_some_and(|p| p.starts_with("api-key:")), "{by_header}");
    assert!(!gate.allows("POST", ORDERS, account, &secret).await);
    assert_eq!(gate.rest_verdict(&stranger.account_id, &secret).await, "not_a_member");

    // A key and a token at once decide nothing; a key's look-alike proves nobody.
    let both = gate
        .rest(
            "GET",
            ORDERS,
            &[("account_id", account)],
            &[("X-Api-Key", &secret), ("Authorization", &format!("Bearer {}", team.owner.token))],
        )
        .await;
    assert_eq!(both.expect_err("ambiguous"), "Unauthorized");
    let mut forged = secret.clone();
    forged.replace_range(forged.len() - 4.., "AAAA");
    assert_eq!(gate.rest_verdict(account, &forged).await, "Unauthorized");
    assert_eq!(gate.rest_verdict(account, "tgk_short").await, "Unauthorized");

    // A look-alike naming this key with the stranger's account proves nobody, and does not make
    // a container forget the real key.
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut bytes = engine.decode(&secret["tgk_".len()..]).expect("base64url");
    let stranger_id = uuid::Uuid::parse_str(&stranger.account_id).expect("a UUID");
    bytes[16..32].copy_from_slice(stranger_id.as_bytes());
    let look_alike = format!("tgk_{}", engine.encode(&bytes));
    assert_eq!(gate.rest_verdict(&stranger.account_id, &look_alike).await, "Unauthorized");
    assert_eq!(gate.rest_verdict(account, &secret).await, "allow");
}

async fn a_revoked_an_expired_and_a_rotated_key_stop_as_they_should(app: TestApp) {
    let team = joom_team(&app, "key-life").await;
    let gate = Gate::new(&app, 5);
    let account = team.owner.account_id.as_str();
    let keys = format!("{}/api-keys", team.owner.account_path());
    let revoked = key(&app, &team.owner, json!({"name": "old", "permissions": ["orders:read"]})).await;
    let short = key(
        &app,
        &team.owner,
        json!({"name": "short", "permissions": ["orders:read"], "expires_in_days": 1}),
    )
    .await;
    let rotating = key(&app, &team.owner, json!({"name": "rotating", "permissions": ["orders:read"]})).await;
    for secret in [&revoked, &short, &rotating] {
        assert_eq!(gate.rest_verdict(account, secret).await, "allow");
    }
    let listed = app.get_as(&team.owner.token, &keys).await;
    let id_of = |name: &str| {
        listed.body["items"].as_array().expect("items").iter().find(|k| k["name"] == name).expect("listed")["id"]
            .as_str()
            .expect("an id")
            .to_owned()
    };
    let revoke = app.post_as(&team.owner.token, &format!("{keys}/{}/revoke", id_of("old")), json!({})).await;
    assert_eq!(revoke.status, 200, "{}", revoke.body);
    let rotated = app
        .post_as(
            &team.owner.token,
            &format!("{keys}/{}/rotate", id_of("rotating")),
            json!({"grace_hours": 1}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_secret = rotated.str("secret");
    assert_eq!(gate.rest_verdict(account, &new_secret).await, "allow", "a warm container knows it at once");

    // A key is read on every use: its revocation counts from the very next request.
    assert_eq!(gate.rest_verdict(account, &revoked).await, "Unauthorized");
    assert_eq!(gate.rest_verdict(account, &rotating).await, "allow", "the old secret within its grace");
    assert_eq!(gate.rest_verdict(account, &new_secret).await, "allow");
    app.advance_clock(3600).await;
    assert_eq!(gate.rest_verdict(account, &rotating).await, "Unauthorized", "the grace is over");
    assert_eq!(gate.rest_verdict(account, &new_secret).await, "allow");
    app.advance_clock(86_400).await;
    assert_eq!(gate.rest_verdict(account, &short).await, "Unauthorized", "a day later the short key expired");
}

async fn a_key_limited_to_networks_is_refused_elsewhere(app: TestApp) {
    let team = joom_team(&app, "key-networks").await;
    let gate = Gate::new(&app, 5);
    let account = team.owner.account_id.as_str();
    // The events come from 203.0.113.7.
    let office = key(
        &app,
        &team.owner,
        json!({"name": "office", "permissions": ["orders:read"], "networks": ["203.0.113.0/24"]}),
    )
    .await;
    let warehouse = key(&app, &team.owner, json!({"name": "warehouse", "permissions": ["orders:read"], "networks": ["198.51.100.0/24", "2001:db8::/32"]})).await;
    assert_eq!(gate.rest_verdict(account, &office).await, "allow");
    assert_eq!(gate.rest_verdict(account, &warehouse).await, "network_not_allowed");
    assert!(!gate.allows("GET", ORDERS, account, &warehouse).await);
}

tests::scenarios!(
    a_member_without_the_second_step_an_account_requires_is_denied_until_they_enroll,
    an_ended_session_is_refused_within_the_staleness_bound_and_a_new_one_let_in,
    an_active_member_holding_the_permission_is_let_in_and_the_backend_told_who_they_are,
    a_member_lacking_the_permission_is_denied_and_the_owner_holds_all,
    another_accounts_id_or_two_accounts_at_once_are_denied,
    the_account_is_the_one_the_path_names_wherever_it_sits,
    a_block_reaches_a_warm_container_within_the_staleness_bound,
    a_deletion_and_a_role_change_reach_a_warm_container_within_the_bound,
    tokens_that_prove_nobody_are_unauthorized,
    a_route_the_map_does_not_know_is_denied,
    an_api_key_is_let_in_with_its_own_permissions_and_the_backend_told_it_is_a_key,
    a_revoked_an_expired_and_a_rotated_key_stop_as_they_should,
    a_key_limited_to_networks_is_refused_elsewhere,
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

/// A key used more often than its limit is refused until its window passes.
async fn a_key_over_its_limit_is_refused_until_the_window_passes(app: TestApp) {
    let team = joom_team(&app, "key-limit").await;
    let gate = Gate::new(&app, 5);
    let account = team.owner.account_id.as_str();
    let secret = key(&app, &team.owner, json!({"name": "busy", "permissions": ["orders:read"]})).await;
    for _ in 0..3 {
        assert_eq!(gate.rest_verdict(account, &secret).await, "allow");
    }
    assert_eq!(gate.rest_verdict(account, &secret).await, "rate_limited");
    app.advance_clock(60).await;
    assert_eq!(gate.rest_verdict(account, &secret).await, "allow");
}

fn three_uses_a_minute(settings: &mut shared::service::Settings) {
    settings.limits.api_key_uses = shared::service::support::limits::Limit { count: 3, window_seconds: 60 };
}

#[tokio::test]
async fn a_key_over_its_limit_is_refused_until_the_window_passes_embedded() {
    a_key_over_its_limit_is_refused_until_the_window_passes(
        tests::app::spawn_app_with(three_uses_a_minute).await,
    )
    .await
}

#[tokio::test]
async fn a_key_over_its_limit_is_refused_until_the_window_passes_on_aws_emulators() {
    a_key_over_its_limit_is_refused_until_the_window_passes(
        tests::app::spawn_app_on_aws_with(three_uses_a_minute).await,
    )
    .await
}

#[tokio::test]
async fn a_key_is_read_on_every_use_and_its_last_use_noted_once_a_minute() {
    let calls = DynamoCalls::default();
    let store = std::sync::Arc::new(counted_dynamo_store(&calls).await);
    let app = spawn_app_on(store, ses_mailer(VERIFIED_SENDER).await, |_| {}).await;
    let team = joom_team(&app, "key-reads").await;
    let gate = Gate::new(&app, 5);
    let account = team.owner.account_id.as_str();
    let secret = key(&app, &team.owner, json!({"name": "counted", "permissions": ["orders:read"]})).await;

    calls.take();
    assert!(gate.allows("GET", ORDERS, account, &secret).await);
    assert_eq!(calls.take(), ["GetItem", "UpdateItem", "UpdateItem"], "read, counted, last use noted");
    assert!(gate.allows("GET", ORDERS, account, &secret).await);
    assert_eq!(
        calls.take(),
        ["GetItem", "UpdateItem"],
        "read and counted: the use within the minute is noted"
    );
    app.advance_clock(60).await;
    assert!(gate.allows("GET", ORDERS, account, &secret).await);
    assert_eq!(calls.take(), ["GetItem", "UpdateItem", "UpdateItem"], "a minute on, noted again");
    // A key of another account than the route's is refused before anything is read.
    let other = app.owner("joom", "owner@key-reads-other.example").await;
    calls.take();
    assert!(!gate.allows("GET", ORDERS, &other.account_id, &secret).await);
    assert_eq!(calls.take(), Vec::<String>::new());
}
