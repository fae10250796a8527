//! HTTP: translates requests into use-case calls and results into responses. No rules here.

pub mod body;
pub mod bulk;
pub mod console;
pub mod lambda;
pub mod pages;
pub mod problem;
pub mod routes;
pub mod server;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use crate::adapters::event_outbox::{EventOutbox, PublishedEvent};
use crate::adapters::memory::MemoryStore;
use crate::adapters::outbox::OutboxMailer;
use crate::adapters::system::AdjustableClock;
use crate::domain::SessionClient;
use crate::ports::Remembered;
use crate::service::Teamgate;
use crate::service::api_keys::{Ambiguous, Credential, PresentedKey};
use crate::service::bulk_invite::BulkAnswer;
use crate::service::caller::{CallerError, Claim, Requirement};
use crate::service::directory::{AuditExport, ListParams};
use crate::service::idempotency::Once;
use crate::service::mail_events::Reported;
use crate::service::publish::{Publisher, Streamed};
use crate::service::revoke_and_resend::Resent;
use crate::service::sessions::SignedIn;
use crate::service::support::access::bearer_token;
use crate::service::support::failure::{Code, Failure, InternalError};
use crate::service::support::secrets::constant_time_eq;

use body::{
    AcceptBody, AuthorizeBody, ClockBody, CompleteSignInBody, ConfirmTotpBody, CreateAccountBody,
    CreateKeyBody, DisableTotpBody, InviteBody, MeBody, NewRoleBody, PasswordBody, PasswordOnlyBody,
    RecoveryBody, RefreshBody, ResendRequest, ResetConfirmBody, ResetRequestBody, RoleBody, RotateKeyBody,
    SeatLimitBody, SecondStepBody, SetRolesBody, SettingsBody, SignInBody, TokenBody, TransferBody,
};
use pages::Pages;
use problem::Reply;
use routes::{Function, Guard, Matched, Operation, Route};

/// Whether the binary being compiled serves an operation: a constant in `Api::dispatch`, where
/// `SCOPE` is the binary's scope.
macro_rules! served {
    ($operation:ident) => {
        const { routes::serves(SCOPE, Operation::$operation) }
    };
}

/// What only the dev server has: the outbox to read and the clock to move.
pub struct DevTools {
    /// Absent when the dev server sends real mail (`MAILER=ses`).
    pub outbox: Option<Arc<OutboxMailer>>,
    pub clock: Arc<AdjustableClock>,
    /// Absent when the dev server keeps its records in DynamoDB, whose stream it does not read.
    pub events: Option<DevEvents>,
}

/// The dev server's stand-in for the table's stream, the publisher function and the event bus.
pub struct DevEvents {
    store: Arc<MemoryStore>,
    bus: Arc<EventOutbox>,
    /// One publication at a time, as one shard's records reach one publisher at a time, so
    /// events keep the order they were written in.
    publishing: tokio::sync::Mutex<()>,
}

impl DevEvents {
    /// Publishes the audit events `store` writes.
    pub fn new(store: Arc<MemoryStore>) -> Self {
        Self { store, bus: Arc::default(), publishing: tokio::sync::Mutex::default() }
    }

    /// Publishes what the store wrote since the last call, then answers every event published.
    async fn published(&self) -> Vec<PublishedEvent> {
        let _one_at_a_time = self.publishing.lock().await;
        let records: Vec<Streamed> = self
            .store
            .take_stream()
            .into_iter()
            .enumerate()
            .map(|(n, event)| Streamed { sequence_number: n.to_string(), event: Ok(event) })
            .collect();
        Publisher::new(self.bus.clone(), self.store.clone()).publish(&records).await;
        self.bus.events()
    }
}

/// What `POST /_dev/cleanup` did: the scheduled cleanup's run, then the outbox's sweep.
#[derive(Serialize)]
struct DevCleanupReport {
    #[serde(flatten)]
    invitations: crate::service::cleanup::CleanupReport,
    mail: crate::service::mailing::SweepReport,
}

/// The application behind HTTP: the dev server mounts all routes, a Lambda function its own.
pub struct Api {
    pub app: Teamgate,
    pub dev: Option<DevTools>,
    /// The activation and reset pages, composed on first use: only the web function serves them.
    pages: std::sync::OnceLock<Pages>,
}

/// Where a request came from, as the transport knows it.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    pub request_id: Option<String>,
    /// The client, as per-client rate limits count it: `Origin::client_of` its address.
    pub client: String,
    /// The address the request came from, as the transport knows it: what an API key's
    /// networks are judged against.
    pub address: Option<std::net::IpAddr>,
}

impl Origin {
    /// The origin of a request from `address` (as the transport gives it).
    pub fn of(address: &str, request_id: Option<String>) -> Self {
        Self { request_id, client: Self::client_of(address), address: address.parse().ok() }
    }

    /// The client behind an address, as per-client limits count it: an IPv4 address, or the
    /// /64 network of an IPv6 one (one subscriber holds a whole /64, so counting single IPv6
    /// addresses would give one attacker billions of fresh budgets). An IPv4 address mapped into
    /// IPv6 counts as itself; anything unparseable as given.
    pub fn client_of(address: &str) -> String {
        match address.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let [a, b, c, d, ..] = v6.segments();
                    format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
                }
            },
            Ok(std::net::IpAddr::V4(v4)) => v4.to_string(),
            Err(_) => address.to_owned(),
        }
    }
}

/// One request as the handlers see it.
struct Call<'r> {
    client: &'r str,
    address: Option<std::net::IpAddr>,
    params: Vec<(&'static str, String)>,
    query: HashMap<String, String>,
    headers: &'r HeaderMap,
    body: &'r Bytes,
}

impl Call<'_> {
    fn param(&self, name: &str) -> &str {
        self.params.iter().find(|(n, _)| *n == name).map_or("", |(_, v)| v.as_str())
    }

    /// Where a session is used from, for its owner to recognise it.
    fn session_client(&self) -> SessionClient {
        let user_agent = self.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
        SessionClient::new(self.address.map(|a| a.to_string()), user_agent)
    }

    fn bearer(&self) -> Option<&str> {
        bearer_token(self.headers.get(header::AUTHORIZATION)?.to_str().ok()?)
    }

    /// What the request presents (`Credential::of` its headers); `Ambiguous` also when
    /// `X-Api-Key` is given twice.
    fn credential(&self) -> Result<Option<Credential<'_>>, Ambiguous> {
        let mut keys = self.headers.get_all("x-api-key").iter();
        let key = keys.next().map(|v| v.to_str().unwrap_or(""));
        if keys.next().is_some() {
            return Err(Ambiguous);
        }
        let authorization = self.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        Credential::of(key, authorization)
    }

    /// The request's `Idempotency-Key`, if it sent one: the signed-in person's (`claim`), or
    /// else the operator's.
    fn once(&self, operation: Operation, claim: Option<&Claim>) -> Result<Option<Once>, Reply> {
        let scope = claim.map_or_else(|| "operator".to_owned(), |claim| format!("user:{}", claim.user_id()));
        let key = self.headers.get("idempotency-key").map(|v| v.to_str().unwrap_or(""));
        let name = format!("{operation:?}");
        // The body as JSON, so that the same request serialized again (keys in another order,
        // other spacing) is the same request; a body left out is `{}`.
        let body = match serde_json::from_slice::<serde_json::Value>(self.body) {
            Ok(value) => value.to_string(),
            Err(_) if self.body.iter().all(u8::is_ascii_whitespace) => "{}".to_owned(),
            Err(_) => String::from_utf8_lossy(self.body).into_owned(),
        };
        let mut asked: Vec<&str> = vec![&name];
        asked.extend(self.params.iter().map(|(_, value)| value.as_str()));
        asked.push(&body);
        Ok(Once::of(key, &scope, &asked)?)
    }

    fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, Reply> {
        Ok(body::parse(self.headers, self.body)?)
    }

    /// The body of a route whose body may be left out: none is `T`'s default.
    fn optional_json<T: serde::de::DeserializeOwned + Default>(&self) -> Result<T, Reply> {
        match self.body.iter().all(u8::is_ascii_whitespace) {
            true => Ok(T::default()),
            false => self.json(),
        }
    }

    fn list_params(&self, text: &str) -> ListParams {
        let get = |k: &str| self.query.get(k).cloned();
        ListParams {
            status: get("status"),
            role: get("role"),
            delivery: get("delivery"),
            text: get(text),
            limit: get("limit"),
            cursor: get("cursor"),
            from: get("from"),
            to: get("to"),
            action: get("action"),
            actor_id: get("actor_id"),
            target_id: get("target_id"),
        }
    }
}

/// The answer of a request of `operation` that may carry an `Idempotency-Key` (the person's of
/// `claim`, or the operator's): what an earlier request with the key answered (to a person only
/// while their claim holds), else `run`'s (which writes its answer with what it creates). A
/// failure of a request with a key may come of a twin with the key that got there first (its
/// write, or what it wrote, is what this one met): then the twin's answer is the answer.
async fn remembering<T, E: Failure>(
    app: &Teamgate,
    call: &Call<'_>,
    operation: Operation,
    claim: Option<&Claim>,
    run: impl AsyncFnOnce(Option<&Once>) -> Result<T, E>,
    answer: impl FnOnce(T) -> Response<Bytes>,
) -> Result<Response<Bytes>, Reply> {
    let once = call.once(operation, claim)?;
    let lookup = async |once: &Once| match claim {
        Some(claim) => app.remembered_as(claim, once).await,
        None => app.remembered(once).await,
    };
    if let Some(once) = &once
        && let Some(kept) = lookup(once).await?
    {
        return Ok(replayed(kept));
    }
    match (run(once.as_ref()).await, &once) {
        (Ok(done), _) => Ok(answer(done)),
        (Err(error), Some(once)) => match lookup(once).await {
            Ok(Some(kept)) => Ok(replayed(kept)),
            _ => Err(error.into()),
        },
        (Err(error), None) => Err(error.into()),
    }
}

/// A remembered answer, as it was first sent, marked as a replay.
fn replayed(kept: Remembered) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(kept.body));
    *response.status_mut() = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}

/// Set on an answer given again for a repeated `Idempotency-Key`.
const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(serde_json::to_vec(value).expect("views serialize")));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A sign-in's answer: `200` with the session, or `202` with the challenge of its second step.
fn signed_in(outcome: SignedIn) -> Response<Bytes> {
    match outcome {
        SignedIn::Session(session) => json(StatusCode::OK, &session),
        SignedIn::SecondStepRequired(challenge) => json(StatusCode::ACCEPTED, &challenge),
    }
}

/// The audit export's query parameters, which its next page's link carries on.
const EXPORT_PARAMETERS: [&str; 7] = ["format", "limit", "from", "to", "action", "actor_id", "target_id"];

/// A page of the audit log as a download; the next page, if any, is the `Link` with
/// `rel="next"`: this request's parameters with the next cursor, relative to the request's URL.
fn exported(query: &HashMap<String, String>, export: AuditExport) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(export.body));
    let headers = response.headers_mut();
    let format = export.format;
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    let disposition = format!("attachment; filename=\"audit-events.{}\"", format.extension());
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).expect("a plain name"));
    if let Some(cursor) = export.next_cursor {
        let mut next: Vec<(&str, &str)> = query
            .iter()
            .filter(|(k, _)| EXPORT_PARAMETERS.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        next.push(("cursor", &cursor));
        next.sort_unstable();
        let next = form_urlencoded::Serializer::new(String::new()).extend_pairs(next).finish();
        let link = HeaderValue::from_str(&format!("<?{next}>; rel=\"next\"")).expect("an encoded query");
        headers.insert(header::LINK, link);
    }
    response
}

fn no_content() -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

impl Api {
    pub fn new(app: Teamgate, dev: Option<DevTools>) -> Self {
        Self { app, dev, pages: std::sync::OnceLock::new() }
    }

    fn pages(&self) -> &Pages {
        self.pages.get_or_init(|| Pages::new(&self.app.settings.guidance))
    }

    /// Answers one request among the routes of `SCOPE` (`routes::EVERY_ROUTE`, or one Lambda
    /// function's). `HEAD` is answered on every `GET` route: the `GET`'s status and headers, with
    /// no body.
    pub async fn handle<const SCOPE: u8>(&self, request: Request<Bytes>, origin: &Origin) -> Response<Bytes> {
        let started = Instant::now();
        let (parts, body) = request.into_parts();
        let serves = |route: &Route| {
            routes::in_scope(route, SCOPE) && (route.function != Function::Dev || self.dev.is_some())
        };
        let head = parts.method == Method::HEAD;
        let method = if head { &Method::GET } else { &parts.method };
        let (route, mut response) = match routes::find(method, parts.uri.path(), serves) {
            Matched::Found(route, params) => {
                let query = parts
                    .uri
                    .query()
                    .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                    .unwrap_or_default();
                let call = Call {
                    params,
                    query,
                    headers: &parts.headers,
                    body: &body,
                    client: &origin.client,
                    address: origin.address,
                };
                let response = self.answer::<SCOPE>(route, &call).await.unwrap_or_else(|Reply(r)| *r);
                (route.path, response)
            }
            Matched::WrongMethod(allowed) => {
                let mut response = problem::problem(
                    Code::MethodNotAllowed,
                    format!("{} is not allowed here.", parts.method),
                    Vec::new(),
                    None,
                );
                let get = allowed.contains(&&Method::GET).then_some("HEAD");
                let allow = allowed.iter().map(|m| m.as_str()).chain(get).collect::<Vec<_>>().join(", ");
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_str(&allow).expect("method names"));
                ("-", response)
            }
            Matched::NotFound => ("-", no_such_route()),
        };
        if head {
            // The GET's answer without its body, saying how long the body would have been.
            let length = HeaderValue::from(std::mem::take(response.body_mut()).len());
            if !matches!(response.status(), StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED) {
                response.headers_mut().insert(header::CONTENT_LENGTH, length);
            }
        }
        let headers = response.headers_mut();
        headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        let account = parts.uri.path().strip_prefix("/v1/accounts/").and_then(|rest| rest.split('/').next());
        tracing::info!(
            request_id = origin.request_id.as_deref(),
            method = %parts.method,
            route,
            status = response.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            account_id = account,
            "request"
        );
        response
    }

    /// Checks the route's guard, then answers with its use case: the one place a guard is checked.
    /// An account route's guard verifies the token and names the `Claim` its use case judges
    /// (`Teamgate::caller_with`), together with the use case's first read.
    async fn answer<const SCOPE: u8>(
        &self,
        route: &Route,
        call: &Call<'_>,
    ) -> Result<Response<Bytes>, Reply> {
        let access = self.admit(&route.guard, call).await?;
        self.dispatch::<SCOPE>(route.operation, access, call).await
    }

    /// What `guard` lets through, or why not.
    async fn admit(&self, guard: &Guard, call: &Call<'_>) -> Result<Access, CallerError> {
        Ok(match guard {
            Guard::Anonymous | Guard::Dev => Access::Open,
            Guard::Operator => {
                self.operator(call)?;
                Access::Open
            }
            Guard::SignedIn => Access::SignedIn(self.app.authenticate(call.bearer())?),
            Guard::SignedInOrKey => {
                match call.credential().map_err(|Ambiguous| CallerError::Unauthenticated)? {
                    Some(Credential::Key(raw)) => {
                        Access::Key(PresentedKey::read(raw).ok_or(CallerError::Unauthenticated)?)
                    }
                    Some(Credential::Token(token)) => Access::SignedIn(self.app.authenticate(Some(token))?),
                    None => Access::SignedIn(self.app.authenticate(None)?),
                }
            }
            Guard::Member(permission) => Access::Member(self.claim(
                call,
                match permission {
                    Some(permission) => Requirement::Holds(permission.clone()),
                    None => Requirement::Member,
                },
            )?),
            Guard::Owner => Access::Member(self.claim(call, Requirement::Owner)?),
        })
    }

    /// The signed-in caller's claim on the account in the path, read later by its use case.
    fn claim(&self, call: &Call<'_>, requirement: Requirement) -> Result<Claim, CallerError> {
        let principal = self.app.authenticate(call.bearer())?;
        Ok(Claim { principal, account_id: call.param("account_id").to_owned(), requirement })
    }

    /// The operator routes' key, compared in constant time.
    fn operator(&self, call: &Call<'_>) -> Result<(), CallerError> {
        let given = call.headers.get("x-operator-key").and_then(|v| v.to_str().ok()).unwrap_or("");
        if constant_time_eq(given, &self.app.settings.operator_key) {
            Ok(())
        } else {
            Err(CallerError::Unauthenticated)
        }
    }

    /// The use case of `operation`. Arms outside `SCOPE` are not compiled into the binary.
    fn dispatch<'a, const SCOPE: u8>(
        &'a self,
        operation: Operation,
        access: Access,
        call: &'a Call<'a>,
    ) -> Dispatched<'a> {
        let app = &self.app;
        match operation {
            Operation::CreateAccount if served!(CreateAccount) => respond(async move {
                let body: CreateAccountBody = call.json()?;
                let created = |created| json(StatusCode::CREATED, &created);
                remembering(
                    app,
                    call,
                    operation,
                    None,
                    async |once| app.create_account(body.into(), once).await,
                    created,
                )
                .await
            }),
            Operation::Invite if served!(Invite) => respond(async move {
                let claim = access.claim()?;
                let body: InviteBody = call.json()?;
                let created = |invited| json(StatusCode::CREATED, &invited);
                remembering(
                    app,
                    call,
                    operation,
                    Some(&claim),
                    async |once| app.invite(&claim, body.into(), once).await,
                    created,
                )
                .await
            }),
            // Its key is taken and answered by the use case itself, which writes row by row.
            Operation::BulkInvite if served!(BulkInvite) => respond(async move {
                let claim = access.claim()?;
                let rows = bulk::rows(call.headers, call.body)?;
                let once = call.once(operation, Some(&claim))?;
                Ok(match app.bulk_invite(&claim, rows, once.as_ref()).await? {
                    BulkAnswer::Sent(view) => json(StatusCode::OK, &view),
                    BulkAnswer::Replayed(kept) => replayed(kept),
                })
            }),
            Operation::InspectInvitation if served!(InspectInvitation) => respond(async move {
                let body: TokenBody = call.json()?;
                match app.inspect_invitation(&body.token).await {
                    Ok(view) => Ok(json(StatusCode::OK, &view)),
                    Err(refused) => {
                        Err(Reply(Box::new(problem::failure_telling(&refused.refusal, &refused.link))))
                    }
                }
            }),
            Operation::RequestRenewal if served!(RequestRenewal) => respond(async move {
                let body: TokenBody = call.json()?;
                app.request_renewal(&body.token, call.client).await?;
                Ok(json(StatusCode::ACCEPTED, &serde_json::json!({})))
            }),
            Operation::AcceptInvitation if served!(AcceptInvitation) => respond(async move {
                let body: AcceptBody = call.json()?;
                let from = call.session_client();
                Ok(signed_in(app.accept_invitation(body.into(), call.client, from).await?))
            }),
            Operation::SignIn if served!(SignIn) => respond(async move {
                let body: SignInBody = call.json()?;
                let from = call.session_client();
                Ok(signed_in(app.sign_in(&body.email, &body.password, call.client, from).await?))
            }),
            Operation::CompleteSignIn if served!(CompleteSignIn) => respond(async move {
                let (challenge, step) = call.json::<CompleteSignInBody>()?.step()?;
                Ok(json(
                    StatusCode::OK,
                    &app.complete_sign_in(&challenge, &step, call.session_client()).await?,
                ))
            }),
            Operation::StepUp if served!(StepUp) => respond(async move {
                let principal = access.principal()?;
                let step = call.json::<SecondStepBody>()?.step()?;
                Ok(json(StatusCode::OK, &app.step_up(&principal, &step).await?))
            }),
            Operation::StartTotp if served!(StartTotp) => respond(async move {
                let principal = access.principal()?;
                let body: PasswordOnlyBody = call.json()?;
                Ok(json(StatusCode::OK, &app.start_totp(&principal, &body.password).await?))
            }),
            Operation::ConfirmTotp if served!(ConfirmTotp) => respond(async move {
                let principal = access.principal()?;
                let body: ConfirmTotpBody = call.json()?;
                Ok(json(StatusCode::OK, &app.confirm_totp(&principal, &body.code).await?))
            }),
            Operation::DisableTotp if served!(DisableTotp) => respond(async move {
                let principal = access.principal()?;
                let (password, step) = call.json::<DisableTotpBody>()?.step()?;
                app.disable_totp(&principal, &password, &step).await?;
                Ok(no_content())
            }),
            Operation::ListSessions if served!(ListSessions) => respond(async move {
                let items = app.own_sessions(&access.principal()?).await?;
                Ok(json(StatusCode::OK, &serde_json::json!({ "items": items })))
            }),
            Operation::EndSession if served!(EndSession) => respond(async move {
                app.end_own_session(&access.principal()?, call.param("session_id")).await?;
                Ok(no_content())
            }),
            Operation::EndOtherSessions if served!(EndOtherSessions) => respond(async move {
                Ok(json(StatusCode::OK, &app.end_other_sessions(&access.principal()?).await?))
            }),
            Operation::EndMemberSessions if served!(EndMemberSessions) => respond(async move {
                app.end_member_sessions(&access.claim()?, call.param("user_id")).await?;
                Ok(no_content())
            }),
            Operation::ResetMemberMfa if served!(ResetMemberMfa) => respond(async move {
                app.reset_member_mfa(&access.claim()?, call.param("user_id")).await?;
                Ok(no_content())
            }),
            Operation::Refresh if served!(Refresh) => respond(async move {
                let body: RefreshBody = call.json()?;
                Ok(json(StatusCode::OK, &app.refresh(&body.refresh_token, call.session_client()).await?))
            }),
            Operation::SignOut if served!(SignOut) => respond(async move {
                let body: RefreshBody = call.json()?;
                app.sign_out(&body.refresh_token).await?;
                Ok(no_content())
            }),
            Operation::Me if served!(Me) => respond(async move {
                let principal = access.principal()?;
                Ok(json(StatusCode::OK, &app.me(&principal).await?))
            }),
            Operation::Authorize if served!(Authorize) => respond(async move {
                let body: AuthorizeBody = call.json()?;
                let answer = match access {
                    Access::Key(presented) => {
                        app.authorize_key(&presented, body.into(), call.address).await?
                    }
                    other => app.authorize(&other.principal()?, body.into()).await?,
                };
                Ok(json(StatusCode::OK, &answer))
            }),
            Operation::CreateApiKey if served!(CreateApiKey) => respond(async move {
                let claim = access.claim()?;
                let body: CreateKeyBody = call.json()?;
                Ok(json(StatusCode::CREATED, &app.create_api_key(&claim, body.into()).await?))
            }),
            Operation::ListApiKeys if served!(ListApiKeys) => {
                respond(async move { Ok(json(StatusCode::OK, &app.api_keys(&access.claim()?).await?)) })
            }
            Operation::RotateApiKey if served!(RotateApiKey) => respond(async move {
                let claim = access.claim()?;
                let body: RotateKeyBody = call.json()?;
                Ok(json(
                    StatusCode::OK,
                    &app.rotate_api_key(&claim, call.param("key_id"), body.grace_hours).await?,
                ))
            }),
            Operation::RevokeApiKey if served!(RevokeApiKey) => respond(async move {
                let claim = access.claim()?;
                Ok(json(StatusCode::OK, &app.revoke_api_key(&claim, call.param("key_id")).await?))
            }),
            Operation::GetAccount if served!(GetAccount) => respond(async move {
                Ok(json(StatusCode::OK, &app.account_view(&app.caller(&access.claim()?).await?).await?))
            }),
            Operation::ListRoles if served!(ListRoles) => {
                respond(
                    async move { Ok(json(StatusCode::OK, &app.roles(&app.caller(&access.claim()?).await?))) },
                )
            }
            Operation::ListMembers if served!(ListMembers) => respond(async move {
                let claim = access.claim()?;
                Ok(json(StatusCode::OK, &app.members(&claim, call.list_params("q")).await?))
            }),
            Operation::GetMember if served!(GetMember) => respond(async move {
                let claim = access.claim()?;
                Ok(json(StatusCode::OK, &app.member(&claim, call.param("user_id")).await?))
            }),
            Operation::ListInvitations if served!(ListInvitations) => respond(async move {
                let claim = access.claim()?;
                Ok(json(StatusCode::OK, &app.invitations(&claim, call.list_params("email")).await?))
            }),
            Operation::GetInvitation if served!(GetInvitation) => respond(async move {
                let claim = access.claim()?;
                Ok(json(StatusCode::OK, &app.invitation(&claim, call.param("invitation_id")).await?))
            }),
            Operation::RevokeInvitation if served!(RevokeInvitation) => respond(async move {
                let claim = access.claim()?;
                Ok(json(StatusCode::OK, &app.revoke_invitation(&claim, call.param("invitation_id")).await?))
            }),
            Operation::ResendInvitation if served!(ResendInvitation) => respond(async move {
                let claim = access.claim()?;
                let ResendRequest { deliberately } = call.optional_json()?;
                let id = call.param("invitation_id");
                let resent = |resent| match resent {
                    Resent::Renewed(invitation) => json(StatusCode::OK, &invitation),
                    Resent::Replaced(invitation) => json(StatusCode::CREATED, &invitation),
                };
                remembering(
                    app,
                    call,
                    operation,
                    Some(&claim),
                    async |once| app.resend_invitation(&claim, id, deliberately, once).await,
                    resent,
                )
                .await
            }),
            Operation::ListAuditEvents if served!(ListAuditEvents) => respond(async move {
                let claim = access.claim()?;
                Ok(json(StatusCode::OK, &app.audit_events(&claim, call.list_params("q")).await?))
            }),
            Operation::ExportAuditEvents if served!(ExportAuditEvents) => respond(async move {
                let claim = access.claim()?;
                let format = call.query.get("format").map(String::as_str);
                let export = app.export_audit_events(&claim, call.list_params("q"), format).await?;
                Ok(exported(&call.query, export))
            }),
            Operation::SetRoles if served!(SetRoles) => respond(async move {
                let claim = access.claim()?;
                let body: SetRolesBody = call.json()?;
                let member =
                    app.set_roles(&claim, call.param("user_id"), &body.roles, &body.permissions).await?;
                Ok(json(StatusCode::OK, &member))
            }),
            Operation::CreateRole if served!(CreateRole) => respond(async move {
                let body: NewRoleBody = call.json()?;
                let caller = app.caller(&access.claim()?).await?;
                Ok(json(StatusCode::CREATED, &app.create_role(&caller, body.into()).await?))
            }),
            Operation::ChangeRole if served!(ChangeRole) => respond(async move {
                let body: RoleBody = call.json()?;
                let caller = app.caller(&access.claim()?).await?;
                Ok(json(StatusCode::OK, &app.change_role(&caller, call.param("role"), body.into()).await?))
            }),
            Operation::DeleteRole if served!(DeleteRole) => respond(async move {
                let caller = app.caller(&access.claim()?).await?;
                let replacement = call.query.get("replacement").map(String::as_str);
                app.delete_role(&caller, call.param("role"), replacement).await?;
                Ok(no_content())
            }),
            Operation::BlockMember | Operation::UnblockMember
                if served!(BlockMember) || served!(UnblockMember) =>
            {
                respond(async move {
                    let claim = access.claim()?;
                    let blocked = operation == Operation::BlockMember;
                    Ok(json(StatusCode::OK, &app.set_blocked(&claim, call.param("user_id"), blocked).await?))
                })
            }
            Operation::DeleteMember if served!(DeleteMember) => respond(async move {
                let claim = access.claim()?;
                app.delete_member(&claim, call.param("user_id")).await?;
                Ok(no_content())
            }),
            Operation::TransferOwnership if served!(TransferOwnership) => respond(async move {
                let claim = access.claim()?;
                let body: TransferBody = call.json()?;
                Ok(json(
                    StatusCode::OK,
                    &app.transfer_ownership(&claim, &body.user_id, &body.password).await?,
                ))
            }),
            Operation::UpdateSettings if served!(UpdateSettings) => respond(async move {
                let body: SettingsBody = call.json()?;
                let caller = app.caller(&access.claim()?).await?;
                Ok(json(StatusCode::OK, &app.update_settings(&caller, body.into()).await?))
            }),
            Operation::SetSeatLimit if served!(SetSeatLimit) => respond(async move {
                let body: SeatLimitBody = call.json()?;
                Ok(json(
                    StatusCode::OK,
                    &app.set_seat_limit(call.param("account_id"), body.max_members).await?,
                ))
            }),
            Operation::RecoverOwner if served!(RecoverOwner) => respond(async move {
                let body: RecoveryBody = call.json()?;
                let account = call.param("account_id");
                let accepted = |()| json(StatusCode::ACCEPTED, &serde_json::json!({}));
                remembering(
                    app,
                    call,
                    operation,
                    None,
                    async |once| app.recover_owner(account, &body.new_email, once).await,
                    accepted,
                )
                .await
            }),
            Operation::GetOwnerRecovery if served!(GetOwnerRecovery) => respond(async move {
                Ok(json(StatusCode::OK, &app.owner_recovery(call.param("account_id")).await?))
            }),
            Operation::CancelOwnerRecovery if served!(CancelOwnerRecovery) => respond(async move {
                app.cancel_owner_recovery(call.param("account_id")).await?;
                Ok(no_content())
            }),
            Operation::RequestPasswordReset if served!(RequestPasswordReset) => respond(async move {
                let body: ResetRequestBody = call.json()?;
                Ok(json(StatusCode::ACCEPTED, &app.request_password_reset(&body.email, call.client).await?))
            }),
            Operation::InspectPasswordReset if served!(InspectPasswordReset) => respond(async move {
                let body: TokenBody = call.json()?;
                Ok(json(StatusCode::OK, &app.inspect_password_reset(&body.token).await?))
            }),
            Operation::ConfirmPasswordReset if served!(ConfirmPasswordReset) => respond(async move {
                let body: ResetConfirmBody = call.json()?;
                app.confirm_password_reset(&body.token, &body.new_password).await?;
                Ok(no_content())
            }),
            Operation::UpdateMe if served!(UpdateMe) => respond(async move {
                let principal = access.principal()?;
                let body: MeBody = call.json()?;
                Ok(json(StatusCode::OK, &app.update_me(&principal, body.into()).await?))
            }),
            Operation::ChangePassword if served!(ChangePassword) => respond(async move {
                let principal = access.principal()?;
                let body: PasswordBody = call.json()?;
                app.change_own_password(&principal, &body.current_password, &body.new_password).await?;
                Ok(no_content())
            }),
            Operation::DevCleanup if served!(DevCleanup) => respond(async move {
                let invitations = app.expire_invitations(None).await?;
                let mail = app.sweep_outbox(None).await?;
                Ok(json(StatusCode::OK, &DevCleanupReport { invitations, mail }))
            }),
            Operation::Jwks if served!(Jwks) => respond(async move {
                let mut response = json(StatusCode::OK, &app.access.jwks());
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
                Ok(response)
            }),
            Operation::ActivatePage if served!(ActivatePage) => {
                let page = &self.pages().activate;
                respond(async move { Ok(page.response()) })
            }
            Operation::ResetPasswordPage if served!(ResetPasswordPage) => {
                let page = &self.pages().reset_password;
                respond(async move { Ok(page.response()) })
            }
            Operation::ConsolePage | Operation::ConsoleScript | Operation::ConsoleStyle
                if served!(ConsolePage) || served!(ConsoleScript) || served!(ConsoleStyle) =>
            {
                let file = match operation {
                    Operation::ConsoleScript => &console::SCRIPT,
                    Operation::ConsoleStyle => &console::STYLE,
                    _ => &console::PAGE,
                };
                let served = app.settings.console;
                respond(async move {
                    match served {
                        true => Ok(file.response()),
                        false => Ok(no_such_route()),
                    }
                })
            }
            Operation::DevMail if served!(DevMail) => respond(async move {
                let outbox = self
                    .dev
                    .as_ref()
                    .and_then(|d| d.outbox.as_ref())
                    .map(|o| o.messages())
                    .unwrap_or_default();
                Ok(json(StatusCode::OK, &serde_json::json!({ "items": outbox })))
            }),
            Operation::DevEvents if served!(DevEvents) => respond(async move {
                let events = match self.dev.as_ref().and_then(|d| d.events.as_ref()) {
                    Some(events) => events.published().await,
                    None => Vec::new(),
                };
                Ok(json(StatusCode::OK, &serde_json::json!({ "items": events })))
            }),
            Operation::DevMailEvents if served!(DevMailEvents) => respond(async move {
                let event: serde_json::Value = call.json()?;
                let reported = match crate::adapters::ses::mail_event(&event) {
                    Some(report) => app.record_mail_event(&report).await?,
                    None => Reported::Ignored,
                };
                Ok(json(StatusCode::OK, &serde_json::json!({ "reported": reported })))
            }),
            Operation::DevClock if served!(DevClock) => respond(async move {
                let body: ClockBody = call.json()?;
                let now = self
                    .dev
                    .as_ref()
                    .map(|d| d.clock.advance(chrono::Duration::seconds(body.advance_seconds.into())));
                Ok(json(StatusCode::OK, &serde_json::json!({ "now": now })))
            }),
            // The route was found among this binary's own: only a mistake in the table gets here.
            _ => respond(async move { Err(guard_mismatch()) }),
        }
    }
}

/// A use case's answer on its way. `dispatch` is a plain function returning one of these, not
/// an `async fn`: an arm whose guard is a constant `false` is then dropped whole, where an
/// `async fn` would keep every arm's future in its state machine.
type Dispatched<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response<Bytes>, Reply>> + Send + 'a>>;

/// The answer to a path no route serves (here, or not in this deployment: a console turned off).
fn no_such_route() -> Response<Bytes> {
    problem::problem(Code::NotFound, "No such route.".into(), Vec::new(), None)
}

fn respond<'a>(
    answer: impl std::future::Future<Output = Result<Response<Bytes>, Reply>> + Send + 'a,
) -> Dispatched<'a> {
    Box::pin(answer)
}

/// What a route's guard let through.
enum Access {
    /// Anyone, or the operator.
    Open,
    SignedIn(crate::service::support::access::Principal),
    /// An API key, as presented: the use case reads and judges it.
    Key(PresentedKey),
    /// A claim to act in the account in the path: the use case reads it with what it needs.
    Member(Claim),
}

impl Access {
    /// The claim on an account the guard let through to its use case.
    fn claim(self) -> Result<Claim, Reply> {
        match self {
            Self::Member(claim) => Ok(claim),
            _ => Err(guard_mismatch()),
        }
    }

    /// The signed-in person the guard admitted.
    fn principal(self) -> Result<crate::service::support::access::Principal, Reply> {
        match self {
            Self::SignedIn(principal) => Ok(principal),
            _ => Err(guard_mismatch()),
        }
    }
}

/// A route whose use case needs what its guard does not provide: a mistake in the route table.
fn guard_mismatch() -> Reply {
    InternalError::new("route table", "the route's guard does not admit what its use case needs").into()
}

#[cfg(test)]
mod tests {
    use super::Origin;

    #[test]
    fn an_ipv6_client_counts_by_its_64_and_an_ipv4_one_by_its_address() {
        assert_eq!(Origin::client_of("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(Origin::client_of("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_ne!(Origin::client_of("2001:db8:1:3::1"), Origin::client_of("2001:db8:1:2::1"));
        assert_eq!(Origin::client_of("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(Origin::client_of("203.0.113.7"), "203.0.113.7");
        assert_eq!(Origin::client_of(""), "");
    }
}
