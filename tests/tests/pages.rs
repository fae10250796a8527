//! The two pages people open from emailed links, `/activate` and `/reset-password`, as a browser
//! gets them: `HEAD` answers like `GET` without the body, both pages carry the shared stylesheet
//! and script exactly once, and their Content-Security-Policy allows exactly the inline style and
//! script that are served. And what the pages read before anything is typed: a reset link's
//! login and rules (`POST /v1/password-reset/inspect`), whether an invitation makes the owner and,
//! for a spent one, its language; with where the deployment leads people on, in each page's head.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::json;
use std::io::{Read, Write};
use tests::app::{PASSWORD, Reply, TestApp};

const PAGES: [&str; 2] = ["/activate", "/reset-password"];
/// What the pages share, as it is in the repository.
const COMMON_CSS: &str = include_str!("../../shared/pages/common.css");
const COMMON_JS: &str = include_str!("../../shared/pages/common.js");

/// The headers a `HEAD` repeats from its `GET`.
const REPEATED: [&str; 7] = [
    "content-type",
    "content-length",
    "content-security-policy",
    "referrer-policy",
    "x-frame-options",
    "cache-control",
    "x-content-type-options",
];

fn text(reply: &Reply) -> &str {
    reply.body.as_str().unwrap_or_else(|| panic!("an HTML page, not {}", reply.body))
}

fn header<'a>(reply: &'a Reply, name: &str) -> &'a str {
    reply.headers.get(name).unwrap_or_else(|| panic!("no {name}")).to_str().expect("ASCII")
}

/// SHA-256, base64 as CSP writes it, computed here rather than by the code under test.
fn sha256_base64(text: &str) -> String {
    let hex = shared::service::support::secrets::hash_secret(text);
    let bytes: Vec<u8> =
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect();
    STANDARD.encode(bytes)
}

/// The content of the one `<tag>…</tag>` block of a page; there must be exactly one.
fn block<'a>(html: &'a str, tag: &str) -> &'a str {
    assert_eq!(html.matches(&format!("<{tag}")).count(), 1, "one <{tag}> in the page");
    let open = html.find(&format!("<{tag}")).unwrap();
    let start = open + html[open..].find('>').unwrap() + 1;
    let end = start + html[start..].find(&format!("</{tag}>")).expect("closed");
    &html[start..end]
}

/// The sources of one CSP directive.
fn directive<'a>(policy: &'a str, name: &str) -> Vec<&'a str> {
    let found = policy.split(';').map(str::trim).find(|d| d.split_whitespace().next() == Some(name));
    found.unwrap_or_else(|| panic!("no {name} in {policy}")).split_whitespace().skip(1).collect()
}

/// Sends `HEAD` the way a client that does not know better would, and returns everything the
/// server wrote: nothing may follow the headers.
async fn raw_head(app: &TestApp, path: &str) -> String {
    let (address, path) = (app.base.trim_start_matches("http://").to_owned(), path.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&address).expect("the server listens");
        write!(stream, "HEAD {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("the server answers and closes");
        answer
    })
    .await
    .expect("the blocking read")
}

async fn head_on_each_page_answers_the_gets_status_and_headers_without_a_body(app: TestApp) {
    for path in PAGES {
        let get = app.get(path).await;
        let head = app.send(Method::HEAD, path, None, None).await;

        assert_eq!((get.status, head.status), (200, 200), "{path}");
        assert_eq!(header(&head, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header(&head, "content-length"), text(&get).len().to_string(), "{path}");
        for name in REPEATED {
            assert_eq!(head.headers.get(name), get.headers.get(name), "{path}: {name}");
        }
        assert!(head.body.is_null(), "{path}: {}", head.body);
        let raw = raw_head(&app, path).await;
        let (status, rest) = raw.split_once("\r\n").expect("a status line");
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(rest.ends_with("\r\n\r\n"), "{path}: nothing after the headers: {raw}");
    }
}

async fn head_works_on_every_get_route_and_nowhere_else(app: TestApp) {
    // A JSON GET route answers HEAD too, with its own headers.
    let (get, head) = (
        app.get("/.well-known/jwks.json").await,
        app.send(Method::HEAD, "/.well-known/jwks.json", None, None).await,
    );
    assert_eq!((head.status, head.body.clone()), (200, serde_json::Value::Null));
    for name in ["content-type", "content-length", "cache-control"] {
        assert_eq!(head.headers.get(name), get.headers.get(name), "{name}");
    }
    // A refusal is the GET's refusal, without the problem's body.
    let (get, head) = (app.get("/v1/me").await, app.send(Method::HEAD, "/v1/me", None, None).await);
    assert_eq!((get.status, head.status), (401, 401));
    assert_eq!(head.headers.get("content-type"), get.headers.get("content-type"));
    assert!(head.body.is_null());
    // Where there is no GET there is no HEAD; where there is, HEAD is allowed with it.
    let post_only = app.send(Method::HEAD, "/v1/sessions", None, None).await;
    assert_eq!((post_only.status, header(&post_only, "allow")), (405, "POST"));
    let page = app.send(Method::POST, "/activate", None, Some(json!({}))).await;
    assert_eq!((page.status, header(&page, "allow")), (405, "GET, HEAD"));
    assert_eq!(app.send(Method::HEAD, "/nowhere", None, None).await.status, 404);
}

async fn each_page_carries_the_shared_style_and_script_once_and_its_policy_hashes_what_is_served(
    app: TestApp,
) {
    assert_eq!(sha256_base64(""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "the digest itself");
    for path in PAGES {
        let page = app.get(path).await;
        let (html, policy) = (text(&page), header(&page, "content-security-policy"));
        let (style, script) = (block(html, "style"), block(html, "script"));

        assert_eq!(html.matches(COMMON_CSS.trim_end()).count(), 1, "{path}: the shared stylesheet once");
        assert_eq!(html.matches(COMMON_JS.trim_end()).count(), 1, "{path}: the shared script once");
        assert!(style.contains(COMMON_CSS.trim_end()) && script.contains(COMMON_JS.trim_end()));
        assert!(!html.contains("/* common.css */") && !html.contains("/* common.js */"), "{path}");

        assert_eq!(directive(policy, "default-src"), ["'none'"]);
        assert_eq!(directive(policy, "style-src"), [format!("'sha256-{}'", sha256_base64(style))], "{path}");
        assert_eq!(
            directive(policy, "script-src"),
            [format!("'sha256-{}'", sha256_base64(script))],
            "{path}"
        );
        assert!(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"), "{policy}");
    }
}

async fn the_pages_keep_the_token_to_themselves_in_three_languages(app: TestApp) {
    app.create_account("standard", "owner@pages.example").await;
    let token = app.link_token("owner@pages.example").await;

    for path in PAGES {
        let page = app.get(path).await;
        let html = text(&page);
        assert_eq!(header(&page, "referrer-policy"), "no-referrer");
        assert!(html.contains(r#"<meta name="referrer" content="no-referrer">"#));
        // The token is read from the fragment, then taken out of the address bar.
        assert_eq!(html.matches("location.hash").count(), 2, "{path}");
        assert_eq!(
            html.matches("history.replaceState(null, \"\", location.pathname + location.search)").count(),
            1
        );
        // The shared strings and the page's own come in English, Ukrainian and Polish.
        for lang in ["en: {", "uk: {", "pl: {"] {
            assert_eq!(html.matches(lang).count(), 2, "{path}: {lang}");
        }
        for word in ["Show password", "Показати пароль", "Pokaż hasło"] {
            assert_eq!(html.matches(word).count(), 1, "{path}: {word}");
        }
        assert_eq!(app.send(Method::HEAD, path, None, None).await.status, 200);
    }
    // Loading the pages used nothing up: the link still inspects as pending, and works once.
    let inspected = app.post("/v1/invitations/inspect", json!({ "token": token })).await;
    assert_eq!((inspected.status, inspected.str("status")), (200, "sent".to_owned()), "{}", inspected.body);
    assert_eq!(app.activate(&token).await.status, 200);
    assert_eq!(app.accept(&token, PASSWORD).await.code(), "invitation_already_accepted");
}

async fn a_reset_link_tells_whose_password_and_the_rules_until_it_is_used(app: TestApp) {
    // Given the owner of a Ukrainian account (ua-marketplace: 6 to 128 Latin characters), also
    // a member of a standard one (15 or more), holding a reset link
    let owner = app.owner("ua-marketplace", "owner@reset-inspect.example").await;
    let standard = app.owner("standard", "boss@reset-inspect.example").await;
    app.member(&standard, &owner.email, &["viewer"], &[]).await;
    let token = app.reset_link(&owner.email).await;

    // When the link is inspected, twice
    let first = app.post("/v1/password-reset/inspect", json!({"token": token})).await;
    let again = app.post("/v1/password-reset/inspect", json!({"token": token})).await;

    // Then each answer names the login, the rules of both accounts together, the person's
    // language and the two accounts they can use; inspecting used nothing up
    let preview = json!({
        "email": owner.email,
        "locale": "uk",
        "password_policy": {"min_length": 15, "max_length": 128, "charset": "latin_printable"},
        "active_accounts": 2,
    });
    assert_eq!((first.status, &first.body), (200, &preview));
    assert_eq!((again.status, &again.body), (200, &preview));
    let confirmed = app
        .post(
            "/v1/password-reset/confirm",
            json!({"token": token, "new_password": "Another-Long-Passphrase-7"}),
        )
        .await;
    assert_eq!(confirmed.status, 204, "{}", confirmed.body);

    // And a used link, an expired one, and one never issued answer alike, naming nothing
    let expired = app.reset_link(&owner.email).await;
    app.advance_clock(3601).await;
    for dead in [token.as_str(), expired.as_str(), "tg1.garbage"] {
        let refused = app.post("/v1/password-reset/inspect", json!({"token": dead})).await;
        assert_eq!((refused.status, refused.code()), (400, "invalid_or_expired_token"), "{}", refused.body);
        assert!(!refused.body.to_string().contains("reset-inspect.example"), "{}", refused.body);
    }
    let empty = app.post("/v1/password-reset/inspect", json!({})).await;
    assert_eq!((empty.status, empty.code()), (400, "validation_failed"), "{}", empty.body);
}

async fn a_reset_link_counts_only_the_accounts_its_login_can_use(app: TestApp) {
    // Given Anna, removed from the account she used, with an invitation elsewhere not accepted
    app.removed_with_an_invitation_pending("anna@reset-access.example").await;

    // When her reset link is inspected
    let token = app.reset_link("anna@reset-access.example").await;
    let preview = app.post("/v1/password-reset/inspect", json!({"token": token})).await;

    // Then it says signing in leads to no account
    assert_eq!((preview.status, &preview.body["active_accounts"]), (200, &json!(0)), "{}", preview.body);
}

async fn an_invitation_says_whether_it_makes_the_owner_and_a_spent_one_still_its_language(app: TestApp) {
    // Given a Polish account's owner link, used, and a member's invitation to another
    assert_eq!(app.create_account("amazon-associates", "owner@spent-links.example").await.status, 201);
    let owners = app.link_token("owner@spent-links.example").await;
    let inspected = app.post("/v1/invitations/inspect", json!({"token": owners})).await;
    assert_eq!((inspected.status, &inspected.body["owner"]), (200, &json!(true)), "{}", inspected.body);
    assert_eq!(app.activate(&owners).await.status, 200);
    let boss = app.owner("amazon-associates", "boss@spent-links.example").await;
    app.invite(&boss, "anna@spent-links.example", &["basic"]).await;
    let annas = app.link_token("anna@spent-links.example").await;
    let member = app.post("/v1/invitations/inspect", json!({"token": annas})).await;
    assert_eq!((member.status, &member.body["owner"]), (200, &json!(false)), "{}", member.body);

    // When the used owner link, and Anna's link once expired, are inspected, and a link never
    // issued
    let used = app.post("/v1/invitations/inspect", json!({"token": owners})).await;
    app.advance_clock(31 * 86_400).await;
    let expired = app.post("/v1/invitations/inspect", json!({"token": annas})).await;
    let unknown = app.post("/v1/invitations/inspect", json!({"token": "tg1.garbage"})).await;

    // Then each spent one still says its language, its mode and whose it was; the unknown one
    // says nothing more than that
    assert_eq!((used.status, used.code()), (409, "invitation_already_accepted"));
    assert_eq!(
        (&used.body["locale"], &used.body["owner"], &used.body["mode"]),
        (&json!("pl"), &json!(true), &json!("invitation"))
    );
    assert_eq!((expired.status, expired.code()), (410, "invitation_expired"));
    assert_eq!(
        (&expired.body["locale"], &expired.body["owner"]),
        (&json!("pl"), &json!(false)),
        "{}",
        expired.body
    );
    assert_eq!((unknown.status, unknown.code()), (404, "invitation_not_found"));
    assert!(unknown.body.get("locale").is_none() && unknown.body.get("owner").is_none(), "{}", unknown.body);
}

#[tokio::test]
async fn each_page_carries_where_the_deployment_leads_people_on() {
    // Given the default deployment (the console's sign-in), one naming its own sign-in and
    // support, and one with neither (the console off, no SIGN_IN_URL)
    let default = tests::app::spawn_app().await;
    let named = tests::app::spawn_app_with(|settings| {
        settings.guidance.sign_in = shared::domain::SignIn::parse("https://seller.example/team").ok();
        settings.guidance.support = shared::domain::Support::parse("https://seller.example/help").ok();
    })
    .await;
    let neither = tests::app::spawn_app_with(|settings| {
        settings.console = false;
        settings.guidance = shared::domain::Guidance::default();
    })
    .await;

    for path in PAGES {
        // When each page is fetched
        let (default, named, neither) =
            (default.get(path).await, named.get(path).await, neither.get(path).await);

        // Then each head says where to lead on, as the deployment named it, and nothing where it
        // named nothing; the policy still hashes what is served
        let head = |reply: &Reply| text(reply).split("</head>").next().unwrap_or_default().to_owned();
        assert!(head(&default).contains(r#"<meta name="teamgate-sign-in" content="/console">"#), "{path}");
        assert!(!head(&default).contains("teamgate-support"), "{path}");
        assert!(
            head(&named).contains(r#"<meta name="teamgate-sign-in" content="https://seller.example/team">"#)
        );
        assert!(head(&named).contains(
            r#"<meta name="teamgate-support" content="https://seller.example/help" data-kind="link">"#
        ));
        assert!(!head(&neither).contains("<meta name=\"teamgate-"), "{path}");
        let script = block(text(&named), "script");
        let policy = header(&named, "content-security-policy");
        assert_eq!(directive(policy, "script-src"), [format!("'sha256-{}'", sha256_base64(script))]);
    }
}

tests::scenarios!(
    a_reset_link_tells_whose_password_and_the_rules_until_it_is_used,
    a_reset_link_counts_only_the_accounts_its_login_can_use,
    an_invitation_says_whether_it_makes_the_owner_and_a_spent_one_still_its_language,
    head_on_each_page_answers_the_gets_status_and_headers_without_a_body,
    head_works_on_every_get_route_and_nowhere_else,
    each_page_carries_the_shared_style_and_script_once_and_its_policy_hashes_what_is_served,
    the_pages_keep_the_token_to_themselves_in_three_languages,
);

#[tokio::test]
async fn the_console_is_served_under_a_strict_policy_unless_the_deployment_turns_it_off() {
    // Given a deployment with the console, and one that turned it off (CONSOLE=off)
    let with = tests::app::spawn_app_with(|_| {}).await;
    let without = tests::app::spawn_app_with(|settings| settings.console = false).await;

    // When each is asked for the console's page, script and style
    for path in ["/console", "/console/app.js", "/console/app.css"] {
        let served = with.get(path).await;
        let refused = without.get(path).await;

        // Then the first serves each under a policy of its own files only; the second has none
        assert_eq!(served.status, 200, "{path}");
        let policy = served.headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "{policy}");
        assert_eq!((refused.status, refused.code()), (404, "not_found"), "{path}");
    }
}

#[tokio::test]
async fn the_consoles_script_stays_within_its_budget_of_60_kb_gzipped() {
    // Given the console as a deployment serves it
    let app = tests::app::spawn_app_with(|_| {}).await;

    // When its script is fetched and gzipped as a CDN would
    let size = tests::browser::browse("gzipped.mjs", &[&format!("{}/console/app.js", app.base)]).await;

    // Then it is at most 60 KB (issue 11's budget: a phone on a slow network loads it at once)
    let gzipped = size["gzipped"].as_u64().expect("gzipped");
    assert!(gzipped <= 60 * 1024, "the console's script is {gzipped} bytes gzipped: {size}");
}
