//! `spawn_app()`: the dev server's application on a free loopback port, driven over real HTTP.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::sync::Arc;

use shared::config::{Config, Deployment, MailerChoice, StoreChoice};
use shared::domain::TotpSecret;
use shared::domain::totp::{DIGITS, STEP_SECONDS, step_at};
use shared::http::Api;

/// How long a TOTP code must stay accepted after it is made: a request's way to the server.
const STEP_MARGIN_SECONDS: i64 = 5;

/// A password that satisfies every preset's policy.
pub const PASSWORD: &str = "Correct-Horse-Battery-42";

pub struct TestApp {
    pub base: String,
    pub operator_key: String,
    /// The application itself, for setting up large data sets without HTTP.
    pub api: Arc<Api>,
    http: reqwest::Client,
    /// Phone numbers handed out by `activate`, unique within the app.
    phones: std::sync::atomic::AtomicU32,
    mailbox: Mailbox,
    /// The authenticator apps of the people `enroll` enrolled, by email: their secret and the
    /// last step whose code was used.
    apps: std::sync::Mutex<std::collections::HashMap<String, (TotpSecret, u64)>>,
}

/// Where the app's mail can be read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mailbox {
    /// The dev server's outbox, `GET /_dev/mail`.
    Outbox,
    /// moto's store of what SES accepted.
    Moto,
}

/// An answer: status, headers and the JSON body (`Null` when there is none).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The problem's `code`, or `""` for a success.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// The `(field, code)` pairs of a `validation_failed`.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        self.body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                (e["field"].as_str().unwrap_or("").to_owned(), e["code"].as_str().unwrap_or("").to_owned())
            })
            .collect()
    }

    pub fn str(&self, key: &str) -> String {
        self.body[key].as_str().unwrap_or_else(|| panic!("no string `{key}` in {}", self.body)).to_owned()
    }
}

/// An owner who has activated their account and holds a session.
pub struct Owner {
    pub account_id: String,
    pub email: String,
    pub token: String,
}

/// Starts the application with the embedded adapters on a free port.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like `spawn_app`, with settings adjusted first (e.g. limits raised for bulk set-up).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut shared::service::Settings)) -> TestApp {
    let (listener, mut config) = prepare(adjust).await;
    config.store = StoreChoice::Memory;
    config.mailer = MailerChoice::Outbox;
    let api = Arc::new(config.build().await.expect("the app builds"));
    serve(listener, config, api, Mailbox::Outbox)
}

/// The application over the real services' emulators: a fresh DynamoDB Local table of its own,
/// and SES through moto (mail is read back from moto). The clock is still the movable one.
pub async fn spawn_app_on_aws() -> TestApp {
    spawn_app_on_aws_with(|_| {}).await
}

pub async fn spawn_app_on_aws_with(adjust: impl FnOnce(&mut shared::service::Settings)) -> TestApp {
    let store = Arc::new(crate::emulators::dynamo_store().await);
    spawn_app_on(store, ses_mailer(crate::emulators::VERIFIED_SENDER).await, adjust).await
}

/// SES through moto, sending from `from` (moto refuses senders other than `VERIFIED_SENDER`).
pub async fn ses_mailer(from: &str) -> Arc<dyn shared::ports::Mailer> {
    use shared::adapters::ses::{Sender, SesMailer};
    let sender = Sender { from: from.into(), reply_to: None, configuration_set: None };
    Arc::new(SesMailer::new(crate::emulators::ses_config().await, sender, crate::emulators::EMULATOR_SES))
}

/// The application over the given store and mailer, its mail read back from moto.
pub async fn spawn_app_on(
    store: Arc<dyn shared::ports::Store>,
    mailer: Arc<dyn shared::ports::Mailer>,
    adjust: impl FnOnce(&mut shared::service::Settings),
) -> TestApp {
    assemble_on(store, mailer, None, adjust).await
}

/// The application over an in-memory store of the test's and the given mailer, publishing the
/// store's audit events on `GET /_dev/events` as the dev server does; its mail read from moto.
pub async fn spawn_app_on_memory(
    store: Arc<shared::adapters::memory::MemoryStore>,
    mailer: Arc<dyn shared::ports::Mailer>,
) -> TestApp {
    let events = shared::http::DevEvents::new(store.clone());
    assemble_on(store, mailer, Some(events), |_| {}).await
}

async fn assemble_on(
    store: Arc<dyn shared::ports::Store>,
    mailer: Arc<dyn shared::ports::Mailer>,
    events: Option<shared::http::DevEvents>,
    adjust: impl FnOnce(&mut shared::service::Settings),
) -> TestApp {
    let (listener, config) = prepare(adjust).await;
    let clock = Arc::new(shared::adapters::system::AdjustableClock::default());
    let rng = Arc::new(shared::adapters::system::OsRng);
    let vault =
        Arc::new(shared::adapters::vault::LocalVault::generate(Box::new(shared::adapters::system::OsRng)));
    let ports = shared::service::Ports { store, mailer, clock: clock.clone(), rng, vault };
    let dev = shared::http::DevTools { outbox: None, clock, events };
    let api = Arc::new(config.assemble(ports, Some(dev)).expect("the app builds"));
    serve(listener, config, api, Mailbox::Moto)
}

/// A free loopback port and dev-server configuration pointing at it, adjusted for tests.
async fn prepare(adjust: impl FnOnce(&mut shared::service::Settings)) -> (tokio::net::TcpListener, Config) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free loopback port");
    let base = format!("http://{}", listener.local_addr().expect("bound"));
    let mut config = Config::from_env(Deployment::DevServer).expect("dev defaults are valid");
    config.settings.public_base_url = base;
    config.settings.operator_key = "test-operator-key-0123456789".into();
    config.settings.default_preset = "standard".into();
    config.settings.reset_answer_floor = std::time::Duration::ZERO;
    config.announce_mail = false;
    adjust(&mut config.settings);
    (listener, config)
}

fn serve(listener: tokio::net::TcpListener, config: Config, api: Arc<Api>, mailbox: Mailbox) -> TestApp {
    tokio::spawn(shared::http::server::serve(api.clone(), listener));
    TestApp {
        base: config.settings.public_base_url,
        operator_key: config.settings.operator_key,
        api,
        http: reqwest::Client::new(),
        phones: Default::default(),
        mailbox,
        apps: Default::default(),
    }
}

impl TestApp {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        into_reply(request.send().await.expect("the server answers")).await
    }

    /// Signs in from another loopback address: a different client, as rate limits see it.
    pub async fn sign_in_from(&self, address: std::net::IpAddr, email: &str, password: &str) -> Reply {
        self.post_from(address, "/v1/sessions", json!({ "email": email, "password": password })).await
    }

    /// A POST from another loopback address: a different client, as rate limits see it.
    pub async fn post_from(&self, address: std::net::IpAddr, path: &str, body: Value) -> Reply {
        let client = reqwest::Client::builder().local_address(address).build().expect("a client");
        let request = client.post(format!("{}{path}", self.base)).json(&body);
        into_reply(request.send().await.expect("the server answers")).await
    }

    pub async fn raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let request =
            self.http.post(format!("{}{path}", self.base)).header("content-type", content_type).body(body);
        into_reply(request.send().await.expect("the server answers")).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, None, Some(body)).await
    }

    pub async fn post_as(&self, token: &str, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, Some(token), None).await
    }

    pub async fn put_as(&self, token: &str, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn patch_as(&self, token: &str, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::PATCH, path, Some(token), Some(body)).await
    }

    pub async fn delete_as(&self, token: &str, path: &str) -> Reply {
        self.send(reqwest::Method::DELETE, path, Some(token), None).await
    }

    /// An operator call, with the operator key.
    pub async fn operator(&self, path: &str, body: Value) -> Reply {
        self.operator_send(reqwest::Method::POST, path, Some(body)).await
    }

    /// An operator call of any method without a body, with the operator key.
    pub async fn operator_call(&self, method: reqwest::Method, path: &str) -> Reply {
        self.operator_send(method, path, None).await
    }

    /// An operator call of any method, with the operator key and `body` as JSON, if any.
    pub async fn operator_send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-operator-key", &self.operator_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        into_reply(request.send().await.expect("the server answers")).await
    }

    /// Sets the account's seat limit as the operator (`None`: no limit); the account as answered.
    pub async fn seat_limit(&self, account_id: &str, max_members: Option<u32>) -> Reply {
        let path = format!("/v1/operator/accounts/{account_id}/seat-limit");
        self.operator_send(reqwest::Method::PUT, &path, Some(json!({ "max_members": max_members }))).await
    }

    /// A POST with an `Idempotency-Key`: as the holder of `token`, or as the operator without one.
    pub async fn post_once(&self, token: Option<&str>, path: &str, key: &str, body: Value) -> Reply {
        let request =
            self.http.post(format!("{}{path}", self.base)).header("idempotency-key", key).json(&body);
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request.header("x-operator-key", &self.operator_key),
        };
        into_reply(request.send().await.expect("the server answers")).await
    }

    /// A POST of a body exactly as given, with an `Idempotency-Key`, as the holder of `token`.
    pub async fn post_raw_once(&self, token: &str, path: &str, key: &str, body: &str) -> Reply {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .header("content-type", "application/json")
            .body(body.to_owned());
        into_reply(request.send().await.expect("the server answers")).await
    }

    /// Runs the scheduled cleanup now, as the dev server's `/_dev/cleanup` does.
    pub async fn cleanup(&self) -> Reply {
        self.post("/_dev/cleanup", json!({})).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None, None).await
    }

    pub async fn create_account(&self, preset: &str, owner_email: &str) -> Reply {
        let request = self
            .http
            .post(format!("{}/v1/operator/accounts", self.base))
            .header("x-operator-key", &self.operator_key)
            .json(&json!({ "name": format!("{preset} shop"), "owner_email": owner_email, "preset": preset }));
        into_reply(request.send().await.expect("the server answers")).await
    }

    /// Every message sent to `to`, newest first, as the outbox shows them (`to`, `subject`,
    /// `text`, `links`).
    pub async fn mail_to(&self, to: &str) -> Vec<Value> {
        // Where the mail function sends the outbox (AWS), its stream is stood in for here.
        if self.api.app.settings.mail_dispatch == shared::service::mailing::MailDispatch::Stream {
            self.api.app.send_new_outbox_mail().await.expect("the outbox is sent");
        }
        let all = match self.mailbox {
            Mailbox::Outbox => self.get("/_dev/mail").await.body["items"].as_array().expect("items").clone(),
            Mailbox::Moto => crate::emulators::sent_messages()
                .await
                .into_iter()
                .rev()
                .map(|m| {
                    let body = m["body"].as_str().unwrap_or_default();
                    json!({
                        "to": m["destinations"]["ToAddresses"][0],
                        "subject": m["subject"],
                        "text": body,
                        "links": shared::adapters::outbox::links_in(body),
                    })
                })
                .collect(),
        };
        all.into_iter().filter(|m| m["to"] == to).collect()
    }

    /// The token of the newest link mailed to `to`, as the person would copy it from the email.
    pub async fn link_token(&self, to: &str) -> String {
        let mail = self.mail_to(to).await;
        let newest = mail.first().unwrap_or_else(|| panic!("no mail to {to}"));
        let link =
            newest["links"].as_array().and_then(|l| l.first()).and_then(Value::as_str).expect("a link");
        assert!(link.starts_with(&self.base), "links point at PUBLIC_BASE_URL: {link}");
        link.split_once("#token=").expect("the token is in the fragment").1.to_owned()
    }

    pub async fn accept(&self, token: &str, password: &str) -> Reply {
        self.post("/v1/invitations/accept", json!({ "token": token, "password": password })).await
    }

    /// Accepts with `PASSWORD`, filling in what the activation page asks for (the profile fields
    /// the preset requires and the person lacks) the way a person would.
    pub async fn activate(&self, token: &str) -> Reply {
        let page = self.post("/v1/invitations/inspect", json!({ "token": token })).await;
        let mut body = json!({ "token": token, "password": PASSWORD });
        let required = |field: &str| page.body["profile_fields"][field] == "required";
        if required("first_name") {
            body["first_name"] = json!("Тарас");
        }
        if required("last_name") {
            body["last_name"] = json!("Шевченко");
        }
        if required("phone") {
            let n = self.phones.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            body["phone"] = json!(format!("+38099{n:07}"));
        }
        self.post("/v1/invitations/accept", body).await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Reply {
        self.post("/v1/sessions", json!({ "email": email, "password": password })).await
    }

    /// Signs in, answering the second step with the person's app when sign-in asks for one.
    pub async fn signed_in(&self, email: &str, password: &str) -> Reply {
        let first = self.sign_in(email, password).await;
        if first.status != 202 {
            return first;
        }
        let code = self.code_of(email).await;
        self.post("/v1/sessions/mfa", json!({ "challenge": first.str("challenge"), "code": code })).await
    }

    /// Turns two-step verification on for the holder of `token`, their app's codes made from
    /// the secret and the app's clock; answers the session's new access token (the old one
    /// ended with every other session; this one carries the step just passed, so a sensitive
    /// action needs no code for five minutes) and the recovery codes.
    pub async fn enroll(&self, token: &str) -> (String, Vec<String>) {
        let email = self.get_as(token, "/v1/me").await.str("email");
        let started = self.post_as(token, "/v1/me/mfa/totp", json!({ "password": PASSWORD })).await;
        assert_eq!(started.status, 200, "enrolling {email}: {}", started.body);
        let secret = TotpSecret::from_base32(&started.str("secret")).expect("a base32 secret");
        self.apps.lock().expect("not poisoned").insert(email.clone(), (secret, 0));
        let code = self.code_of(&email).await;
        let confirmed = self.post_as(token, "/v1/me/mfa/totp/confirm", json!({ "code": code })).await;
        assert_eq!(confirmed.status, 200, "confirming {email}: {}", confirmed.body);
        let codes = confirmed.body["recovery_codes"]
            .as_array()
            .expect("recovery codes")
            .iter()
            .map(|c| c.as_str().expect("a code").to_owned())
            .collect();
        (confirmed.str("access_token"), codes)
    }

    /// A fresh access token of `token`'s session carrying a second step passed now.
    pub async fn stepped_up(&self, token: &str, email: &str) -> String {
        let code = self.code_of(email).await;
        let stepped = self.post_as(token, "/v1/sessions/step-up", json!({ "code": code })).await;
        assert_eq!(stepped.status, 200, "stepping up {email}: {}", stepped.body);
        stepped.str("access_token")
    }

    /// The code `email`'s app shows for the first step not used yet that is accepted now (the
    /// current one, or one either side); when every such step was used, the app's clock moves
    /// on a step first, as a person waits for the next code.
    pub async fn code_of(&self, email: &str) -> String {
        loop {
            if let Some(code) = self.unused_code(email) {
                return code;
            }
            self.advance_clock(30).await;
        }
    }

    /// The code of the first step not used yet among those accepted now, marked used. The clock
    /// runs on real time underneath: the step before the current one is taken only while the
    /// current one has `STEP_MARGIN_SECONDS` left, so that it is still accepted when the
    /// server reads it.
    fn unused_code(&self, email: &str) -> Option<String> {
        let now = self.api.app.ports.clock.now();
        let current = step_at(now);
        let left = STEP_SECONDS - now.timestamp().rem_euclid(STEP_SECONDS);
        let first = if left >= STEP_MARGIN_SECONDS { current - 1 } else { current };
        let mut apps = self.apps.lock().expect("not poisoned");
        let (secret, last) = apps.get_mut(email).unwrap_or_else(|| panic!("{email} enrolled no app"));
        let step = (first..=current + 1).find(|step| *step > *last)?;
        *last = step;
        Some(secret.code_at_step(step, DIGITS))
    }

    /// The token after the person enrolled when the account asks for it (amazon-seller's
    /// policy is `required`: a member without a second step can do nothing there).
    pub async fn ready(&self, token: String, account_id: &str) -> String {
        let account = self.get_as(&token, &format!("/v1/accounts/{account_id}")).await;
        match account.code() {
            "mfa_enrollment_required" => self.enroll(&token).await.0,
            _ => token,
        }
    }

    /// Creates an account under `preset` and activates its owner from the emailed link.
    pub async fn owner(&self, preset: &str, email: &str) -> Owner {
        let created = self.create_account(preset, email).await;
        assert_eq!(created.status, 201, "{}", created.body);
        let session = self.activate(&self.link_token(email).await).await;
        assert_eq!(session.status, 200, "{}", session.body);
        let account_id = created.body["account"]["id"].as_str().expect("id").to_owned();
        let token = self.ready(session.str("access_token"), &account_id).await;
        Owner { account_id, email: email.to_owned(), token }
    }

    /// Invites `email` into the owner's account and has them activate; returns their access token.
    pub async fn member(&self, owner: &Owner, email: &str, roles: &[&str], permissions: &[&str]) -> String {
        let invited = self
            .post_as(
                &owner.token,
                &format!("/v1/accounts/{}/invitations", owner.account_id),
                json!({
                    "email": email, "roles": roles, "permissions": permissions
                }),
            )
            .await;
        assert_eq!(invited.status, 201, "{}", invited.body);
        let session = self.activate(&self.link_token(email).await).await;
        assert_eq!(session.status, 200, "{}", session.body);
        self.ready(session.str("access_token"), &owner.account_id).await
    }

    /// The owner with a fresh access token, as after moving the clock past the old one's 15 minutes.
    pub async fn signed_in_again(&self, owner: Owner) -> Owner {
        let session = self.signed_in(&owner.email, PASSWORD).await;
        assert_eq!(session.status, 200, "{}", session.body);
        Owner { token: session.str("access_token"), ..owner }
    }

    pub async fn advance_clock(&self, seconds: u64) {
        let moved = self.post("/_dev/clock", json!({ "advance_seconds": seconds })).await;
        assert_eq!(moved.status, 200, "{}", moved.body);
    }
}

/// A response read whole: its status, headers and JSON body.
pub async fn into_reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("a body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Reply { status, headers, body }
}

impl Owner {
    /// The owner's account as a path: `/v1/accounts/{account_id}`.
    pub fn account_path(&self) -> String {
        format!("/v1/accounts/{}", self.account_id)
    }
}

/// Steps several suites take: inviting someone, and finding people as the member list shows them.
impl TestApp {
    /// Invites `email` into the owner's account with `roles`; returns the invitation as created.
    pub async fn invite(&self, owner: &Owner, email: &str, roles: &[&str]) -> Value {
        let path = format!("{}/invitations", owner.account_path());
        let invited = self.post_as(&owner.token, &path, json!({ "email": email, "roles": roles })).await;
        assert_eq!(invited.status, 201, "inviting {email}: {}", invited.body);
        invited.body
    }

    /// The user id of the person `token` belongs to, as `GET /v1/me` says.
    pub async fn user_id(&self, token: &str) -> String {
        self.get_as(token, "/v1/me").await.str("user_id")
    }

    /// The members of the account as `token` sees them (one page of up to 100).
    pub async fn members_as(&self, token: &str, account_id: &str) -> Vec<Value> {
        let page = self.get_as(token, &format!("/v1/accounts/{account_id}/members?limit=100")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        page.body["items"].as_array().expect("items").clone()
    }

    /// The members of the owner's account, as the owner sees them.
    pub async fn members(&self, owner: &Owner) -> Vec<Value> {
        self.members_as(&owner.token, &owner.account_id).await
    }

    /// The member with this email, as the owner finds them by searching the member list.
    pub async fn member_named(&self, owner: &Owner, email: &str) -> Value {
        let page = self.get_as(&owner.token, &format!("{}/members?q={email}", owner.account_path())).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let found = page.body["items"].as_array().expect("items").iter().find(|m| m["email"] == email);
        found.cloned().unwrap_or_else(|| panic!("no member {email} in {}", page.body))
    }

    /// The user id of the member with this email, as the owner finds them.
    pub async fn member_id(&self, owner: &Owner, email: &str) -> String {
        let member = self.member_named(owner, email).await;
        member["user_id"].as_str().unwrap_or_else(|| panic!("no user id in {member}")).to_owned()
    }

    /// Asks for a reset link for `email`, as the reset page does; the token of the link mailed.
    pub async fn reset_link(&self, email: &str) -> String {
        let asked = self.post("/v1/password-reset", json!({ "email": email })).await;
        assert_eq!(asked.status, 202, "{}", asked.body);
        self.link_token(email).await
    }

    /// A person who activated in one account, was removed from it, and has not accepted an
    /// invitation to another: their login stays, with no account to use.
    pub async fn removed_with_an_invitation_pending(&self, email: &str) {
        let domain = email.split_once('@').map_or("removed.example", |(_, domain)| domain);
        let owner = self.owner("standard", &format!("owner@{domain}")).await;
        self.member(&owner, email, &["viewer"], &[]).await;
        let other = self.owner("standard", &format!("other-owner@{domain}")).await;
        self.invite(&other, email, &["viewer"]).await;
        let id = self.member_id(&owner, email).await;
        let removed = self.delete_as(&owner.token, &format!("{}/members/{id}", owner.account_path())).await;
        assert_eq!(removed.status, 204, "{}", removed.body);
    }
}
