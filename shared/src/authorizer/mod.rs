//! The Lambda authorizer a marketplace attaches to its own API (README, "Protect your own API"):
//! it verifies a Teamgate access token, finds the route's permissions in the marketplace's route
//! map, reads the member live and allows only an active member holding them. It answers HTTP
//! APIs (payload 2.0, simple responses) and REST APIs (REQUEST authorizers, an IAM policy).
//!
//! Decisions about a member are kept per container for at most `AUTHZ_MAX_STALENESS_SECONDS`
//! (by the application's clock): a block, a deletion or a role change reaches every container
//! within that bound, and a warm container decides most requests without a read. An API key is
//! read on every use (each use also counts against its limit): its revocation is immediate.

pub mod route_map;

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::{AccountId, KeyRefusal, PermissionSet, Presets, SessionFamilyId, UserId};
use crate::http::routes::Keys;
use crate::service::Teamgate;
use crate::service::api_keys::{Ambiguous, Credential, KeyRights, KeyUseError, PresentedKey};
use crate::service::authorize::MemberRights;
use crate::service::caller::CallerError;
use crate::service::support::access::Principal;
use crate::service::support::failure::InternalError;
use route_map::{RouteMap, RouteMapError};

/// The authorizer verifies tokens with the public key and holds no other key.
pub const KEYS: Keys = Keys { verifying_key: true, ..Keys::NONE };

/// The default, and the most, `AUTHZ_MAX_STALENESS_SECONDS`.
pub const DEFAULT_MAX_STALENESS_SECONDS: i64 = 5;
const MOST_STALENESS_SECONDS: i64 = 300;
/// Members remembered per container; past it, what is stale goes first, then everything.
const CACHED_ENTRIES: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum AuthorizerConfigError {
    #[error("set AUTHZ_ROUTE_MAP_FILE (a path) or AUTHZ_ROUTE_MAP (the TOML itself), not both")]
    RouteMapSource,
    #[error("AUTHZ_ROUTE_MAP_FILE={0}: {1}")]
    Unreadable(String, std::io::Error),
    #[error(transparent)]
    RouteMap(#[from] RouteMapError),
    #[error(
        "AUTHZ_MAX_STALENESS_SECONDS is invalid: `{0}` is not a whole number from 0 to {MOST_STALENESS_SECONDS}"
    )]
    Staleness(String),
}

/// Why a request was not allowed; the decision's log line says which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denial {
    /// No bearer token (401).
    NoToken,
    /// Not a token of ours, tampered with, or expired (401).
    InvalidToken,
    /// Signed before the person's password changed (401).
    TokenRevoked,
    /// Shaped like an API key, but not one of ours or not its secret (401).
    InvalidKey,
    /// A revoked API key (401).
    KeyRevoked,
    /// An API key past its expiry (401).
    KeyExpired,
    /// An API key used from outside its networks.
    NetworkNotAllowed,
    /// An API key used more often than its limit allows.
    RateLimited,
    /// The route map has no route for the request.
    UnknownRoute,
    /// A catch-all route's request path that could mean another path to the backend (`..`,
    /// escapes, empty segments).
    UnsafePath,
    /// The request names no seller account, or not as an account id.
    NoAccount,
    /// The path and the header name different accounts.
    AccountMismatch,
    /// Not an active member of the account (or no such account).
    NotAMember,
    MemberBlocked,
    /// The account requires two-step verification and the person has not turned it on.
    MfaEnrollmentRequired,
    MissingPermission,
}

impl Denial {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoToken => "no_token",
            Self::InvalidToken => "invalid_token",
            Self::TokenRevoked => "token_revoked",
            Self::InvalidKey => "invalid_key",
            Self::KeyRevoked => "key_revoked",
            Self::KeyExpired => "key_expired",
            Self::NetworkNotAllowed => "network_not_allowed",
            Self::RateLimited => "rate_limited",
            Self::UnknownRoute => "unknown_route",
            Self::UnsafePath => "unsafe_path",
            Self::NoAccount => "no_account",
            Self::AccountMismatch => "account_mismatch",
            Self::NotAMember => "not_a_member",
            Self::MemberBlocked => "member_blocked",
            Self::MfaEnrollmentRequired => "mfa_enrollment_required",
            Self::MissingPermission => "missing_permission",
        }
    }

    /// Whether the caller is not authenticated at all: a REST API answers 401, not 403.
    fn unauthenticated(self) -> bool {
        matches!(
            self,
            Self::NoToken
                | Self::InvalidToken
                | Self::TokenRevoked
                | Self::InvalidKey
                | Self::KeyRevoked
                | Self::KeyExpired
        )
    }
}

/// Whether a decision read the member or found it remembered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Decided before any read was needed (no token, no route, no account).
    None,
    Hit,
    Miss,
}

/// Who a request was let in as.
#[derive(Clone, Debug)]
pub enum Granted {
    Member(MemberRights),
    Key(KeyRights),
}

impl Granted {
    fn permissions(&self) -> &PermissionSet {
        match self {
            Self::Member(rights) => &rights.permissions,
            Self::Key(rights) => &rights.permissions,
        }
    }
}

/// One decision, as the log line sees it.
#[derive(Debug)]
pub struct Decision {
    pub outcome: Result<Granted, Denial>,
    /// Whom the token proved, or which key was presented, once known: named in the log line of
    /// a refusal too.
    pub credential: Option<String>,
    pub lookup: Lookup,
    pub account_id: Option<String>,
    /// The route map's route that matched, as written.
    pub route: Option<String>,
    pub missing: Vec<String>,
}

/// What a member's standing was when read.
#[derive(Clone, Debug)]
enum Standing {
    Member(MemberRights),
    Refused(Denial),
}

/// The member's login, the version of the token, and the account.
/// Whose standing, in which session (a session ended is refused from the next read), where.
type MemberKey = (UserId, u32, SessionFamilyId, AccountId);

/// Members' standings as read recently, each kept for at most the staleness bound by the app's
/// clock.
struct RememberedMembers {
    entries: Mutex<HashMap<MemberKey, (Standing, DateTime<Utc>)>>,
    max_staleness: Duration,
}

impl RememberedMembers {
    fn new(max_staleness: Duration) -> Self {
        Self { entries: Mutex::new(HashMap::new()), max_staleness }
    }

    fn fresh(&self, read_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        read_at <= now && now - read_at < self.max_staleness
    }

    /// What is remembered of `key`, unless it was read too long ago.
    fn get(&self, key: &MemberKey, now: DateTime<Utc>) -> Option<Standing> {
        let entries = self.entries.lock().expect("never poisoned: no code panics holding it");
        let (value, read_at) = entries.get(key)?;
        self.fresh(*read_at, now).then(|| value.clone())
    }

    /// Keeps `standing`, read `now`; past `CACHED_ENTRIES`, what is stale goes first, then
    /// everything.
    fn put(&self, key: MemberKey, standing: Standing, now: DateTime<Utc>) {
        if self.max_staleness <= Duration::zero() {
            return;
        }
        let mut entries = self.entries.lock().expect("never poisoned: no code panics holding it");
        if entries.len() >= CACHED_ENTRIES {
            entries.retain(|_, (_, read_at)| self.fresh(*read_at, now));
            if entries.len() >= CACHED_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (standing, now));
    }
}

/// Who a credential speaks for, before anything is read.
enum Speaker {
    Person(Principal),
    Key(PresentedKey),
}

/// A request for a decision, as API Gateway sends it: the fields read of both shapes.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizerEvent {
    version: Option<String>,
    /// HTTP API (payload 2.0): `GET /sellers/{account_id}/orders`, or `$default`.
    route_key: Option<String>,
    raw_path: Option<String>,
    /// REST API (and HTTP API payload 1.0).
    method_arn: Option<String>,
    http_method: Option<String>,
    resource: Option<String>,
    headers: Option<HashMap<String, String>>,
    /// REST: every value of each header (`headers` keeps the last).
    multi_value_headers: Option<HashMap<String, Vec<String>>>,
    path_parameters: Option<HashMap<String, String>>,
    #[serde(default)]
    request_context: EventContext,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventContext {
    request_id: Option<String>,
    /// An HTTP API's stage: a named one prefixes `rawPath`.
    stage: Option<String>,
    http: Option<HttpContext>,
    /// REST.
    identity: Option<Identity>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HttpContext {
    method: Option<String>,
    source_ip: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity {
    source_ip: Option<String>,
}

impl AuthorizerEvent {
    /// The address the request came from, as API Gateway saw it.
    fn client(&self) -> Option<std::net::IpAddr> {
        let context = &self.request_context;
        let http = context.http.as_ref().and_then(|h| h.source_ip.as_deref());
        let rest = context.identity.as_ref().and_then(|i| i.source_ip.as_deref());
        http.or(rest)?.parse().ok()
    }
}

/// How API Gateway wants the answer.
enum Shape {
    /// HTTP API, payload 2.0, simple responses: `{"isAuthorized": …, "context": …}`.
    Simple,
    /// REST API REQUEST authorizer (or HTTP API payload 1.0): an IAM policy on this method ARN.
    Policy(String),
}

/// The answer a REST API turns into 401: its authorizer fails with exactly this message.
#[derive(Debug, thiserror::Error)]
#[error("Unauthorized")]
pub struct Unauthorized;

#[derive(Debug, thiserror::Error)]
pub enum AuthorizerError {
    #[error(transparent)]
    Unauthorized(#[from] Unauthorized),
    #[error("not an API Gateway authorizer request: {0}")]
    NotAnAuthorizerEvent(String),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

/// What the runtime reports to Lambda: API Gateway reads the message (`Unauthorized` is a 401).
impl From<AuthorizerError> for lambda_runtime::Diagnostic {
    fn from(error: AuthorizerError) -> Self {
        let error_type = match error {
            AuthorizerError::Unauthorized(_) => "Unauthorized",
            AuthorizerError::NotAnAuthorizerEvent(_) => "NotAnAuthorizerEvent",
            AuthorizerError::Internal(_) => "Internal",
        };
        Self { error_type: error_type.to_owned(), error_message: error.to_string() }
    }
}

pub struct Authorizer {
    routes: RouteMap,
    members: RememberedMembers,
}

impl Authorizer {
    pub fn new(routes: RouteMap, max_staleness_seconds: i64) -> Self {
        let bound = Duration::seconds(max_staleness_seconds);
        Self { routes, members: RememberedMembers::new(bound) }
    }

    /// The route map and bound of the environment: `AUTHZ_ROUTE_MAP_FILE` or `AUTHZ_ROUTE_MAP`,
    /// checked against the permissions `presets` define; `AUTHZ_MAX_STALENESS_SECONDS`.
    pub fn from_env(presets: &Presets) -> Result<Self, AuthorizerConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let (text, source_name) = match (var("AUTHZ_ROUTE_MAP_FILE"), var("AUTHZ_ROUTE_MAP")) {
            (Some(path), None) => (
                std::fs::read_to_string(&path)
                    .map_err(|e| AuthorizerConfigError::Unreadable(path.clone(), e))?,
                format!("AUTHZ_ROUTE_MAP_FILE={path}"),
            ),
            (None, Some(text)) => (text, "AUTHZ_ROUTE_MAP".to_owned()),
            _ => return Err(AuthorizerConfigError::RouteMapSource),
        };
        let routes = RouteMap::parse(&text, &source_name, &presets.catalog())?;
        let staleness = match var("AUTHZ_MAX_STALENESS_SECONDS") {
            None => DEFAULT_MAX_STALENESS_SECONDS,
            Some(raw) => raw
                .trim()
                .parse()
                .ok()
                .filter(|s| (0..=MOST_STALENESS_SECONDS).contains(s))
                .ok_or(AuthorizerConfigError::Staleness(raw))?,
        };
        Ok(Self::new(routes, staleness))
    }

    /// Answers one authorizer request in the shape its API expects, logging the decision.
    pub async fn answer(&self, app: &Teamgate, event: Value) -> Result<Value, AuthorizerError> {
        let event: AuthorizerEvent = serde_json::from_value(event)
            .map_err(|e| AuthorizerError::NotAnAuthorizerEvent(e.to_string()))?;
        let shape = match (&event.version, &event.method_arn) {
            (Some(version), _) if version == "2.0" => Shape::Simple,
            (_, Some(arn)) => Shape::Policy(arn.clone()),
            _ => {
                let why = "neither payload 2.0 nor a methodArn".to_owned();
                return Err(AuthorizerError::NotAnAuthorizerEvent(why));
            }
        };
        let decision = self.decide(app, &event).await?;
        log(&event, &decision);
        match (shape, &decision.outcome) {
            (Shape::Simple, Ok(granted)) => Ok(json!({ "isAuthorized": true, "context": context(granted) })),
            (Shape::Simple, Err(_)) => Ok(json!({ "isAuthorized": false })),
            (Shape::Policy(arn), Ok(granted)) => {
                let principal = match granted {
                    Granted::Member(rights) => rights.user_id.to_string(),
                    Granted::Key(rights) => format!("api-key:{}", rights.key_id),
                };
                Ok(policy(&principal, "Allow", &arn, context(granted)))
            }
            (Shape::Policy(_), Err(denial)) if denial.unauthenticated() => Err(Unauthorized.into()),
            (Shape::Policy(arn), Err(denial)) => {
                Ok(policy("anonymous", "Deny", &arn, json!({ "reason": denial.as_str() })))
            }
        }
    }

    async fn decide(&self, app: &Teamgate, event: &AuthorizerEvent) -> Result<Decision, InternalError> {
        let mut decision = Decision {
            outcome: Err(Denial::NoToken),
            credential: None,
            lookup: Lookup::None,
            account_id: None,
            route: None,
            missing: Vec::new(),
        };
        let refuse = |mut decision: Decision, denial| {
            decision.outcome = Err(denial);
            Ok(decision)
        };
        let credential = match credential(event) {
            Ok(Some(credential)) => credential,
            Ok(None) => return Ok(decision),
            Err(Ambiguous) => return refuse(decision, Denial::InvalidToken),
        };
        let speaker = match credential {
            Credential::Token(token) => match app.authenticate(Some(token)) {
                Ok(principal) => Speaker::Person(principal),
                Err(_) => return refuse(decision, Denial::InvalidToken),
            },
            Credential::Key(raw) => match PresentedKey::read(raw) {
                Some(presented) => Speaker::Key(presented),
                None => return refuse(decision, Denial::InvalidKey),
            },
        };
        decision.credential = Some(match &speaker {
            Speaker::Person(principal) => principal.user_id.to_string(),
            Speaker::Key(presented) => format!("api-key:{}", presented.key_id),
        });
        let (method, route_path) = route_of(event);
        if event.route_key.as_deref().is_some_and(|key| !key.contains(' ')) && !safe_path(route_path) {
            return refuse(decision, Denial::UnsafePath);
        }
        let Some(route) = self.routes.find(method, route_path) else {
            return refuse(decision, Denial::UnknownRoute);
        };
        decision.route = Some(route.pattern.clone());
        let account_id = match self.account_of(event, route.account_segment, route_path) {
            Ok(account_id) => account_id,
            Err(denial) => return refuse(decision, denial),
        };
        decision.account_id = Some(account_id.to_string());
        let (granted, lookup) = match speaker {
            Speaker::Person(principal) => self.member(app, &principal, account_id).await?,
            Speaker::Key(presented) if presented.account_id != account_id => {
                (Err(Denial::NotAMember), Lookup::None)
            }
            Speaker::Key(presented) => self.key(app, &presented, event.client()).await?,
        };
        decision.lookup = lookup;
        decision.outcome = granted.and_then(|granted| {
            decision.missing =
                granted.permissions().missing(&route.needs).iter().map(|p| p.to_string()).collect();
            if decision.missing.is_empty() { Ok(granted) } else { Err(Denial::MissingPermission) }
        });
        Ok(decision)
    }

    /// The principal's standing in the account: remembered, or read.
    async fn member(
        &self,
        app: &Teamgate,
        principal: &Principal,
        account_id: AccountId,
    ) -> Result<(Result<Granted, Denial>, Lookup), InternalError> {
        let key = (principal.user_id.clone(), principal.token_version, principal.session.clone(), account_id);
        let now = app.ports.clock.now();
        let (standing, lookup) = match self.members.get(&key, now) {
            Some(standing) => (standing, Lookup::Hit),
            None => {
                let standing = match app.rights(principal, key.3.as_str()).await {
                    Ok(rights) => Standing::Member(rights),
                    Err(CallerError::Unauthenticated) => Standing::Refused(Denial::TokenRevoked),
                    Err(CallerError::Blocked) => Standing::Refused(Denial::MemberBlocked),
                    Err(CallerError::MfaEnrollmentRequired) => {
                        Standing::Refused(Denial::MfaEnrollmentRequired)
                    }
                    Err(CallerError::NotFound | CallerError::Forbidden | CallerError::StepUpRequired) => {
                        Standing::Refused(Denial::NotAMember)
                    }
                    Err(CallerError::Internal(error)) => return Err(error),
                };
                self.members.put(key, standing.clone(), now);
                (standing, Lookup::Miss)
            }
        };
        Ok((
            match standing {
                Standing::Member(rights) => Ok(Granted::Member(rights)),
                Standing::Refused(denial) => Err(denial),
            },
            lookup,
        ))
    }

    /// The presented key, read afresh and judged for this request: its secret, state and
    /// networks now, its use counted. Keys are not remembered: every use writes its counter
    /// anyway, and a read beside it makes a revocation or rotation count from the next request.
    async fn key(
        &self,
        app: &Teamgate,
        presented: &PresentedKey,
        client: Option<std::net::IpAddr>,
    ) -> Result<(Result<Granted, Denial>, Lookup), InternalError> {
        let granted = match app.use_api_key(presented, client).await {
            Ok(rights) => Ok(Granted::Key(rights)),
            Err(KeyUseError::Unknown) => Err(Denial::InvalidKey),
            Err(KeyUseError::Refused(KeyRefusal::Revoked | KeyRefusal::NotActive)) => Err(Denial::KeyRevoked),
            Err(KeyUseError::Refused(KeyRefusal::Expired)) => Err(Denial::KeyExpired),
            Err(KeyUseError::Refused(KeyRefusal::OutsideNetworks)) => Err(Denial::NetworkNotAllowed),
            Err(KeyUseError::Refused(KeyRefusal::WrongSecret)) => Err(Denial::InvalidKey),
            Err(KeyUseError::RateLimited(_)) => Err(Denial::RateLimited),
            Err(KeyUseError::Internal(error)) => return Err(error),
        };
        Ok((granted, Lookup::Miss))
    }

    /// The seller account the request names: on a route whose map path names it, that segment
    /// of the request (the path parameter API Gateway put there, or the catch-all route's own
    /// segment), which the header may repeat but not contradict; on any other route, the header.
    fn account_of(
        &self,
        event: &AuthorizerEvent,
        account_segment: Option<usize>,
        route_path: &str,
    ) -> Result<AccountId, Denial> {
        let from_header = match header(event, &self.routes.account_header) {
            Ok(value) => value.map(|v| AccountId::parse(v).ok_or(Denial::NoAccount)).transpose()?,
            Err(Ambiguous) => return Err(Denial::AccountMismatch),
        };
        let Some(position) = account_segment else { return from_header.ok_or(Denial::NoAccount) };
        let segment = route_path.trim_start_matches('/').split('/').nth(position).ok_or(Denial::NoAccount)?;
        let raw = match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(parameter) => {
                event.path_parameters.as_ref().and_then(|p| p.get(parameter)).map(String::as_str)
            }
            None => Some(segment),
        };
        let from_path = raw.and_then(AccountId::parse).ok_or(Denial::NoAccount)?;
        match from_header {
            Some(header) if header != from_path => Err(Denial::AccountMismatch),
            _ => Ok(from_path),
        }
    }
}

/// The one value of a header of the request, its name in any case, from every place the event
/// carries headers; `Ambiguous` when it is given twice with different values.
fn header<'e>(event: &'e AuthorizerEvent, name: &str) -> Result<Option<&'e str>, Ambiguous> {
    let single =
        event.headers.iter().flatten().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    let multi = event
        .multi_value_headers
        .iter()
        .flatten()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, values)| values.iter().map(String::as_str));
    let mut values = single.chain(multi);
    let first = values.next();
    if values.any(|v| Some(v) != first) {
        return Err(Ambiguous);
    }
    Ok(first)
}

/// The request's credential (`Credential::of` its key and authorization headers).
fn credential(event: &AuthorizerEvent) -> Result<Option<Credential<'_>>, Ambiguous> {
    Credential::of(header(event, "x-api-key")?, header(event, "authorization")?)
}

/// Whether a request path means one thing to everyone: no `.` or `..` segment, no escapes
/// (`%2F` is a slash to some backends), no backslash or `;`, no empty segment.
fn safe_path(path: &str) -> bool {
    path.strip_prefix('/').is_some_and(|rest| {
        rest.is_empty()
            || rest
                .split('/')
                .all(|s| !s.is_empty() && s != "." && s != ".." && !s.contains(['%', '\\', ';']))
    })
}

/// The request's method and the route API Gateway matched: HTTP API's route key (for the
/// catch-all `$default`, the request's path without its stage), REST's resource.
fn route_of(event: &AuthorizerEvent) -> (&str, &str) {
    let actual_method = event.request_context.http.as_ref().and_then(|h| h.method.as_deref());
    if let Some(route_key) = event.route_key.as_deref() {
        let method = actual_method.unwrap_or("");
        return match route_key.split_once(' ') {
            Some((_, path)) => (method, path),
            None => (method, path_without_stage(event)),
        };
    }
    (event.http_method.as_deref().unwrap_or(""), event.resource.as_deref().unwrap_or(""))
}

/// `rawPath` of an HTTP API request without the named stage that prefixes it (`/prod/sellers/…`
/// on the stage `prod`); as it is on the `$default` stage.
fn path_without_stage(event: &AuthorizerEvent) -> &str {
    let raw = event.raw_path.as_deref().unwrap_or("");
    let stage = event.request_context.stage.as_deref().filter(|s| *s != "$default");
    match stage.and_then(|stage| raw.strip_prefix('/')?.strip_prefix(stage)) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            if rest.is_empty() {
                "/"
            } else {
                rest
            }
        }
        _ => raw,
    }
}

/// What the backend receives: `$context.authorizer.<name>` (REST) or
/// `requestContext.authorizer.lambda.<name>` (HTTP API). Values are strings and booleans, the
/// types both accept; the permissions are comma-separated. A key has no user: `principal_type`
/// says which it is.
fn context(granted: &Granted) -> Value {
    match granted {
        Granted::Member(rights) => json!({
            "principal_type": "member",
            "account_id": rights.account_id.to_string(),
            "user_id": rights.user_id.to_string(),
            "is_owner": rights.is_owner,
            "permissions": rights.permissions.to_strings().join(","),
        }),
        Granted::Key(rights) => json!({
            "principal_type": "api_key",
            "account_id": rights.account_id.to_string(),
            "key_id": rights.key_id.to_string(),
            "key_name": rights.name,
            "is_owner": false,
            "permissions": rights.permissions.to_strings().join(","),
        }),
    }
}

fn policy(principal: &str, effect: &str, method_arn: &str, context: Value) -> Value {
    json!({
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{ "Action": "execute-api:Invoke", "Effect": effect, "Resource": method_arn }]
        },
        "context": context,
    })
}

/// One line per decision: what was asked, what was decided and why. Never the token.
fn log(event: &AuthorizerEvent, decision: &Decision) {
    let (method, route_path) = route_of(event);
    let (allowed, reason) = match &decision.outcome {
        Ok(_) => (true, None),
        Err(denial) => (false, Some(denial.as_str())),
    };
    let credential = decision.credential.as_deref();
    tracing::info!(
        request_id = event.request_context.request_id.as_deref(),
        allowed,
        reason,
        method,
        route_path,
        route = decision.route.as_deref(),
        account_id = decision.account_id.as_deref(),
        credential,
        missing = (!decision.missing.is_empty()).then(|| decision.missing.join(",")),
        lookup = ?decision.lookup,
        "authorization"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(value: Value) -> AuthorizerEvent {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_route_is_the_one_api_gateway_matched_with_the_requests_own_method() {
        let http_api = event(json!({
            "version": "2.0", "routeKey": "ANY /sellers/{account_id}/orders", "rawPath": "/prod/sellers/a1/orders",
            "requestContext": {"http": {"method": "POST"}}
        }));
        assert_eq!(route_of(&http_api), ("POST", "/sellers/{account_id}/orders"));
        let default_route = event(json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/sellers/a1/orders",
            "requestContext": {"http": {"method": "GET"}}
        }));
        assert_eq!(route_of(&default_route), ("GET", "/sellers/a1/orders"));
        let rest = event(
            json!({"type": "REQUEST", "methodArn": "arn", "httpMethod": "GET", "resource": "/sellers/{account_id}"}),
        );
        assert_eq!(route_of(&rest), ("GET", "/sellers/{account_id}"));
    }

    #[test]
    fn the_bearer_token_is_read_from_the_header_in_any_case() {
        let lower = event(json!({"headers": {"authorization": "Bearer abc"}}));
        let upper = event(json!({"headers": {"Authorization": "bearer  abc "}}));
        let basic = event(json!({"headers": {"Authorization": "Basic abc"}}));
        let none = event(json!({"headers": null}));
        let token = |e: &AuthorizerEvent| match credential(e) {
            Ok(Some(Credential::Token(token))) => Some(token.to_owned()),
            _ => None,
        };
        assert_eq!(
            [token(&lower), token(&upper), token(&basic), token(&none)],
            [Some("abc".into()), Some("abc".into()), None, None]
        );
        let twice = event(json!({
            "headers": {"Authorization": "Bearer abc", "authorization": "Bearer xyz"},
        }));
        assert!(credential(&twice).is_err());
        let repeated = event(json!({
            "headers": {"Authorization": "Bearer abc"}, "multiValueHeaders": {"Authorization": ["Bearer abc", "Bearer xyz"]}
        }));
        assert!(credential(&repeated).is_err());
        let same = event(json!({
            "headers": {"Authorization": "Bearer abc"}, "multiValueHeaders": {"authorization": ["Bearer abc"]}
        }));
        assert_eq!(token(&same).as_deref(), Some("abc"));
    }

    #[test]
    fn only_a_path_that_means_one_thing_is_matched_raw() {
        for safe in ["/", "/sellers/a1/orders", "/a-b_c.d/e"] {
            assert!(safe_path(safe), "{safe}");
        }
        for unsafe_path in
            ["", "a", "/sellers/a1/help/../orders", "/a/./b", "/a/..%2Fb", "/a//b", "/a/", "/a\\b", "/a;x/b"]
        {
            assert!(!safe_path(unsafe_path), "{unsafe_path}");
        }
    }
}
