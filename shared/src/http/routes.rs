//! The route table: every route of `openapi.yaml`, which function serves it, who may call it
//! (its guard) and what it does besides reading and writing (its effects).
//! The dev server mounts all of them; each Lambda function only its own. `openapi.yaml` and
//! `infra/template.yaml` are checked against this table by tests.

use http::Method;

use crate::domain::Permission;
use crate::domain::permission::{USERS_READ, USERS_WRITE};

/// The Lambda functions, one binary each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Function {
    Accounts,
    Invite,
    Revoke,
    SetRole,
    Block,
    ResetPassword,
    Accept,
    Session,
    Directory,
    ApiKeys,
    Web,
    /// Only in the dev server; never deployed.
    Dev,
}

/// A binary's scope: which routes it serves, fixed when it is compiled. A Lambda function's is
/// its `Function::scope`; `EVERY_ROUTE` is the dev server's and the tests'. The dispatch and the
/// adapters are chosen per scope at compile time, so a function's binary holds only its own use
/// cases and the clients they call (ARCHITECTURE.md, "One binary per function").
pub const EVERY_ROUTE: u8 = u8::MAX;

/// The scope of a binary that serves no route but uses the table: the authorizer and the
/// scheduled cleanup.
pub const NO_ROUTE: u8 = u8::MAX - 1;

/// Whether a binary of `scope` serves `operation`.
pub const fn serves(scope: u8, operation: Operation) -> bool {
    let mut i = 0;
    while i < TABLE.len() {
        if TABLE[i].operation as u8 == operation as u8 && in_scope(&TABLE[i], scope) {
            return true;
        }
        i += 1;
    }
    false
}

/// What the routes of `scope` do together: any route's mail or hashing, and whether any touches
/// the table.
pub const fn effects(scope: u8) -> Effects {
    if scope == NO_ROUTE {
        return Effects::NONE;
    }
    let mut effects = Effects::STATIC;
    let mut i = 0;
    while i < TABLE.len() {
        let route = &TABLE[i];
        if in_scope(route, scope) {
            effects = Effects {
                mails: effects.mails || route.effects.mails,
                posts_mail: effects.posts_mail || route.effects.posts_mail,
                hashes_password: effects.hashes_password || route.effects.hashes_password,
                signs_in: effects.signs_in || route.effects.signs_in,
                seals: effects.seals || route.effects.seals,
                uses_table: effects.uses_table || route.effects.uses_table,
            };
        }
        i += 1;
    }
    effects
}

/// The keys a binary of `scope` is configured with, derived from the routes it serves: it holds
/// only what its own routes use. A binary that serves no route holds none.
pub fn keys_of(scope: u8) -> Keys {
    ROUTES.iter().filter(|r| in_scope(r, scope)).fold(Keys::NONE, |keys, r| keys.union(r.keys()))
}

/// Whether a binary of `scope` serves `route`.
pub const fn in_scope(route: &Route, scope: u8) -> bool {
    scope == EVERY_ROUTE || route.function as u8 == scope
}

impl Function {
    /// This function's scope (`EVERY_ROUTE` is every function's at once).
    pub const fn scope(self) -> u8 {
        self as u8
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Accounts => "accounts",
            Self::Invite => "invite",
            Self::Revoke => "revoke",
            Self::SetRole => "set-role",
            Self::Block => "block",
            Self::ResetPassword => "reset-password",
            Self::Accept => "accept",
            Self::Session => "session",
            Self::Directory => "directory",
            Self::ApiKeys => "api-keys",
            Self::Web => "web",
            Self::Dev => "dev",
        }
    }

    /// The keys this function is configured with: `keys_of` its scope.
    pub fn keys(self) -> Keys {
        keys_of(self.scope())
    }
}

/// The keys and secrets a process holds beyond the settings every function shares (README,
/// "Configuration"). A Lambda function's configuration requires exactly its own and refuses to
/// start without them; the dev server holds all of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Keys {
    /// The private key (`JWT_SIGNING_KEY`): it mints access tokens (sign-in, refresh,
    /// activation).
    pub signing_key: bool,
    /// A key that verifies access tokens: it reads bearer tokens or publishes the JWKS. Without
    /// the signing key this is the public key (`JWT_PUBLIC_KEY`).
    pub verifying_key: bool,
    /// `OPERATOR_KEY`: it serves operator routes (`/v1/operator/...`).
    pub operator_key: bool,
    /// `CURSOR_KEY`: it seals and opens page cursors (the lists).
    pub cursor_key: bool,
}

impl Keys {
    pub const NONE: Self =
        Self { signing_key: false, verifying_key: false, operator_key: false, cursor_key: false };
    pub const ALL: Self =
        Self { signing_key: true, verifying_key: true, operator_key: true, cursor_key: true };

    fn union(self, other: Self) -> Self {
        Self {
            signing_key: self.signing_key || other.signing_key,
            verifying_key: self.verifying_key || other.verifying_key,
            operator_key: self.operator_key || other.operator_key,
            cursor_key: self.cursor_key || other.cursor_key,
        }
    }

    /// The environment variables a deployed function with these keys gets: `JWT_SIGNING_KEY`
    /// where it mints (it verifies with it too), else `JWT_PUBLIC_KEY` where it verifies;
    /// `OPERATOR_KEY`; `CURSOR_KEY`.
    pub fn variables(self) -> Vec<&'static str> {
        let mut variables = Vec::new();
        if self.signing_key {
            variables.push("JWT_SIGNING_KEY");
        } else if self.verifying_key {
            variables.push("JWT_PUBLIC_KEY");
        }
        if self.operator_key {
            variables.push("OPERATOR_KEY");
        }
        if self.cursor_key {
            variables.push("CURSOR_KEY");
        }
        variables
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    CreateAccount,
    Invite,
    BulkInvite,
    InspectInvitation,
    AcceptInvitation,
    RequestRenewal,
    SignIn,
    Refresh,
    SignOut,
    Me,
    GetAccount,
    ListRoles,
    ListMembers,
    GetMember,
    ListInvitations,
    GetInvitation,
    RevokeInvitation,
    ResendInvitation,
    ListAuditEvents,
    ExportAuditEvents,
    SetRoles,
    CreateRole,
    ChangeRole,
    DeleteRole,
    BlockMember,
    UnblockMember,
    DeleteMember,
    TransferOwnership,
    UpdateSettings,
    RecoverOwner,
    SetSeatLimit,
    GetOwnerRecovery,
    CancelOwnerRecovery,
    RequestPasswordReset,
    InspectPasswordReset,
    ConfirmPasswordReset,
    UpdateMe,
    ChangePassword,
    CompleteSignIn,
    StepUp,
    StartTotp,
    ConfirmTotp,
    DisableTotp,
    ListSessions,
    EndSession,
    EndOtherSessions,
    EndMemberSessions,
    ResetMemberMfa,
    Authorize,
    CreateApiKey,
    ListApiKeys,
    RotateApiKey,
    RevokeApiKey,
    Jwks,
    ActivatePage,
    ResetPasswordPage,
    ConsolePage,
    ConsoleScript,
    ConsoleStyle,
    DevMail,
    DevEvents,
    DevMailEvents,
    DevClock,
    DevCleanup,
}

pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub function: Function,
    pub operation: Operation,
    /// Who may call it: `Api::handle` checks this once, before the use case runs.
    pub guard: Guard,
    pub effects: Effects,
}

/// Who may call a route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Guard {
    /// The back office, with the operator key (deployed, also signed for IAM).
    Operator,
    /// Anyone: what proves the caller, if anything, is in the body (a link token, a refresh
    /// token, a password).
    Anonymous,
    /// A signed-in person, acting on their own record.
    SignedIn,
    /// A signed-in person, or an account's API key (`X-Api-Key`, or a bearer `tgk_…`): only
    /// the question the marketplace's APIs ask (`POST /v1/authorize`).
    SignedInOrKey,
    /// An active member of the account in the path, holding the permission when one is named.
    Member(Option<Permission>),
    /// The owner of the account in the path.
    Owner,
    /// Only the dev server serves it.
    Dev,
}

/// What serving a route needs beyond its use case: the infrastructure grants and sizes each
/// function, and each binary links its adapters, by the effects of the routes it serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Effects {
    /// It may send mail (`ses:SendEmail`): a notice. A link's mail goes through the outbox,
    /// which the mail-events function sends (`service/mailing.rs`), so a route that only writes
    /// one does not.
    pub mails: bool,
    /// It writes a link's mail to the outbox, which the mail-events function then sends (its
    /// cost, `tests/benches/cost.rs`, not its function's grants).
    pub posts_mail: bool,
    /// It hashes or verifies a password (argon2id: the function gets the memory for it).
    pub hashes_password: bool,
    /// It mints access tokens (the function holds the signing key).
    pub signs_in: bool,
    /// It seals or opens TOTP secrets (`ports::Vault`: `kms:Encrypt`/`kms:Decrypt` on the
    /// deployment's key).
    pub seals: bool,
    /// It reads or writes the table: every route but the static pages and the JWKS. A function
    /// none of whose routes does builds no DynamoDB client.
    pub uses_table: bool,
}

impl Effects {
    pub const NONE: Self = Self {
        mails: false,
        posts_mail: false,
        hashes_password: false,
        signs_in: false,
        seals: false,
        uses_table: true,
    };
    /// Nothing but an answer compiled into the binary, or made from the keys it holds.
    pub const STATIC: Self = Self { uses_table: false, ..Self::NONE };
    pub const MAILS: Self = Self { mails: true, ..Self::NONE };
    pub const POSTS_MAIL: Self = Self { posts_mail: true, ..Self::NONE };
    pub const SIGNS_IN: Self = Self { signs_in: true, ..Self::NONE };
    pub const HASHES_AND_SIGNS_IN: Self = Self { hashes_password: true, signs_in: true, ..Self::NONE };
    pub const HASHES_AND_MAILS: Self = Self { hashes_password: true, mails: true, ..Self::NONE };
    pub const SEALS: Self = Self { seals: true, ..Self::NONE };
    pub const SEALS_AND_SIGNS_IN: Self = Self { seals: true, signs_in: true, ..Self::NONE };
    pub const SEALS_AND_HASHES: Self = Self { seals: true, hashes_password: true, ..Self::NONE };
}

/// Any active member of the account.
const MEMBER: Guard = Guard::Member(None);
/// Members who may read the team.
const USERS_READER: Guard = Guard::Member(Some(USERS_READ));
/// Members who may administer the team.
const USERS_WRITER: Guard = Guard::Member(Some(USERS_WRITE));

impl Route {
    /// What serving this route takes: the operator key for the back office's routes, the
    /// signing key where tokens are minted, a verifying key wherever a bearer token is read (and
    /// for the JWKS it publishes), the cursor key for the lists.
    pub fn keys(&self) -> Keys {
        let bearer =
            matches!(self.guard, Guard::SignedIn | Guard::SignedInOrKey | Guard::Member(_) | Guard::Owner);
        Keys {
            signing_key: self.effects.signs_in,
            verifying_key: bearer || self.operation == O::Jwks,
            operator_key: self.guard == Guard::Operator,
            cursor_key: matches!(
                self.operation,
                O::ListMembers | O::ListInvitations | O::ListAuditEvents | O::ExportAuditEvents
            ),
        }
    }
}

const fn route(
    method: Method,
    path: &'static str,
    function: Function,
    operation: Operation,
    guard: Guard,
    effects: Effects,
) -> Route {
    Route { method, path, function, operation, guard, effects }
}

use Effects as E;
use Function as F;
use Guard as G;
use Operation as O;

pub static ROUTES: &[Route] = TABLE;

/// The table, as constant: the scopes are computed from it when binaries are compiled.
const TABLE: &[Route] = &[
    route(Method::POST, "/v1/operator/accounts", F::Accounts, O::CreateAccount, G::Operator, E::POSTS_MAIL),
    route(Method::GET, "/v1/accounts/{account_id}", F::Directory, O::GetAccount, MEMBER, E::NONE),
    route(Method::GET, "/v1/accounts/{account_id}/roles", F::Directory, O::ListRoles, MEMBER, E::NONE),
    route(
        Method::GET,
        "/v1/accounts/{account_id}/members",
        F::Directory,
        O::ListMembers,
        USERS_READER,
        E::NONE,
    ),
    route(
        Method::GET,
        "/v1/accounts/{account_id}/members/{user_id}",
        F::Directory,
        O::GetMember,
        MEMBER,
        E::NONE,
    ),
    route(
        Method::POST,
        "/v1/accounts/{account_id}/invitations",
        F::Invite,
        O::Invite,
        USERS_WRITER,
        E::POSTS_MAIL,
    ),
    route(
        Method::POST,
        "/v1/accounts/{account_id}/invitations/bulk",
        F::Invite,
        O::BulkInvite,
        USERS_WRITER,
        E::POSTS_MAIL,
    ),
    route(
        Method::GET,
        "/v1/accounts/{account_id}/invitations",
        F::Directory,
        O::ListInvitations,
        USERS_READER,
        E::NONE,
    ),
    route(
        Method::GET,
        "/v1/accounts/{account_id}/invitations/{invitation_id}",
        F::Directory,
        O::GetInvitation,
        USERS_READER,
        E::NONE,
    ),
    route(
        Method::POST,
        "/v1/accounts/{account_id}/invitations/{invitation_id}/revoke",
        F::Revoke,
        O::RevokeInvitation,
        USERS_WRITER,
        E::NONE,
    ),
    route(
        Method::POST,
        "/v1/accounts/{account_id}/invitations/{invitation_id}/resend",
        F::Invite,
        O::ResendInvitation,
        USERS_WRITER,
        E::POSTS_MAIL,
    ),
    route(
        Method::GET,
        "/v1/accounts/{account_id}/audit-events",
        F::Directory,
        O::ListAuditEvents,
        USERS_READER,
        E::NONE,
    ),
    route(
        Method::GET,
        "/v1/accounts/{account_id}/audit-events/export",
        F::Directory,
        O::ExportAuditEvents,
        USERS_READER,
        E::NONE,
    ),
    route(Method::POST, "/v1/invitations/inspect", F::Accept, O::InspectInvitation, G::Anonymous, E::NONE),
    route(
        Method::POST,
        "/v1/invitations/accept",
        F::Accept,
        O::AcceptInvitation,
        G::Anonymous,
        E::HASHES_AND_SIGNS_IN,
    ),
    route(
        Method::POST,
        "/v1/invitations/renewal-requests",
        F::Accept,
        O::RequestRenewal,
        G::Anonymous,
        E::POSTS_MAIL,
    ),
    route(Method::POST, "/v1/sessions", F::Session, O::SignIn, G::Anonymous, E::HASHES_AND_SIGNS_IN),
    route(Method::POST, "/v1/sessions/refresh", F::Session, O::Refresh, G::Anonymous, E::SIGNS_IN),
    route(Method::POST, "/v1/sessions/logout", F::Session, O::SignOut, G::Anonymous, E::NONE),
    route(
        Method::POST,
        "/v1/sessions/mfa",
        F::Session,
        O::CompleteSignIn,
        G::Anonymous,
        E::SEALS_AND_SIGNS_IN,
    ),
    route(Method::POST, "/v1/sessions/step-up", F::Session, O::StepUp, G::SignedIn, E::SEALS_AND_SIGNS_IN),
    route(Method::POST, "/v1/me/mfa/totp", F::Session, O::StartTotp, G::SignedIn, E::SEALS_AND_HASHES),
    route(Method::POST, "/v1/me/mfa/totp/confirm", F::Session, O::ConfirmTotp, G::SignedIn, E::SEALS),
    route(
        Method::POST,
        "/v1/me/mfa/totp/disable",
        F::Session,
        O::DisableTotp,
        G::SignedIn,
        E::SEALS_AND_HASHES,
    ),
    route(Method::GET, "/v1/me/sessions", F::Session, O::ListSessions, G::SignedIn, E::NONE),
    route(Method::DELETE, "/v1/me/sessions/{session_id}", F::Session, O::EndSession, G::SignedIn, E::NONE),
    route(
        Method::POST,
        "/v1/me/sessions/revoke-others",
        F::Session,
        O::EndOtherSessions,
        G::SignedIn,
        E::NONE,
    ),
    route(Method::GET, "/v1/me", F::Directory, O::Me, G::SignedIn, E::NONE),
    route(Method::POST, "/v1/authorize", F::Directory, O::Authorize, G::SignedInOrKey, E::NONE),
    route(
        Method::POST,
        "/v1/accounts/{account_id}/api-keys",
        F::ApiKeys,
        O::CreateApiKey,
        USERS_WRITER,
        E::NONE,
    ),
    route(
        Method::GET,
        "/v1/accounts/{account_id}/api-keys",
        F::ApiKeys,
        O::ListApiKeys,
        USERS_WRITER,
        E::NONE,
    ),
    route(
        Method::POST,
        "/v1/accounts/{account_id}/api-keys/{key_id}/rotate",
        F::ApiKeys,
        O::RotateApiKey,
        USERS_WRITER,
        E::NONE,
    ),
    route(
        Method::POST,
        "/v1/accounts/{account_id}/api-keys/{key_id}/revoke",
        F::ApiKeys,
        O::RevokeApiKey,
        USERS_WRITER,
        E::NONE,
    ),
    route(
        Method::PUT,
        "/v1/accounts/{account_id}/members/{user_id}/roles",
        F::SetRole,
        O::SetRoles,
        USERS_WRITER,
        E::NONE,
    ),
    route(Method::POST, "/v1/accounts/{account_id}/roles", F::SetRole, O::CreateRole, USERS_WRITER, E::NONE),
    route(
        Method::PUT,
        "/v1/accounts/{account_id}/roles/{role}",
        F::SetRole,
        O::ChangeRole,
        USERS_WRITER,
        E::NONE,
    ),
    route(
        Method::DELETE,
        "/v1/accounts/{account_id}/roles/{role}",
        F::SetRole,
        O::DeleteRole,
        USERS_WRITER,
        E::NONE,
    ),
    route(
        Method::POST,
        "/v1/accounts/{account_id}/members/{user_id}/block",
        F::Block,
        O::BlockMember,
        USERS_WRITER,
        E::NONE,
    ),
    route(
        Method::POST,
        "/v1/accounts/{account_id}/members/{user_id}/unblock",
        F::Block,
        O::UnblockMember,
        USERS_WRITER,
        E::NONE,
    ),
    route(
        Method::DELETE,
        "/v1/accounts/{account_id}/members/{user_id}",
        F::Block,
        O::DeleteMember,
        USERS_WRITER,
        E::NONE,
    ),
    route(
        Method::POST,
        "/v1/accounts/{account_id}/members/{user_id}/sessions/revoke",
        F::Block,
        O::EndMemberSessions,
        USERS_WRITER,
        E::NONE,
    ),
    route(
        Method::DELETE,
        "/v1/accounts/{account_id}/members/{user_id}/mfa",
        F::Block,
        O::ResetMemberMfa,
        G::Owner,
        E::MAILS,
    ),
    route(
        Method::POST,
        "/v1/accounts/{account_id}/ownership-transfer",
        F::SetRole,
        O::TransferOwnership,
        G::Owner,
        E::HASHES_AND_MAILS,
    ),
    route(
        Method::PATCH,
        "/v1/accounts/{account_id}/settings",
        F::Accounts,
        O::UpdateSettings,
        USERS_WRITER,
        E::NONE,
    ),
    route(
        Method::PUT,
        "/v1/operator/accounts/{account_id}/seat-limit",
        F::Accounts,
        O::SetSeatLimit,
        G::Operator,
        E::NONE,
    ),
    route(
        Method::POST,
        "/v1/operator/accounts/{account_id}/owner-recovery",
        F::Accounts,
        O::RecoverOwner,
        G::Operator,
        E::POSTS_MAIL,
    ),
    route(
        Method::GET,
        "/v1/operator/accounts/{account_id}/owner-recovery",
        F::Accounts,
        O::GetOwnerRecovery,
        G::Operator,
        E::NONE,
    ),
    route(
        Method::DELETE,
        "/v1/operator/accounts/{account_id}/owner-recovery",
        F::Accounts,
        O::CancelOwnerRecovery,
        G::Operator,
        E::NONE,
    ),
    route(
        Method::POST,
        "/v1/password-reset",
        F::ResetPassword,
        O::RequestPasswordReset,
        G::Anonymous,
        E::POSTS_MAIL,
    ),
    route(
        Method::POST,
        "/v1/password-reset/inspect",
        F::ResetPassword,
        O::InspectPasswordReset,
        G::Anonymous,
        E::NONE,
    ),
    route(
        Method::POST,
        "/v1/password-reset/confirm",
        F::ResetPassword,
        O::ConfirmPasswordReset,
        G::Anonymous,
        E::HASHES_AND_MAILS,
    ),
    route(Method::PATCH, "/v1/me", F::ResetPassword, O::UpdateMe, G::SignedIn, E::NONE),
    route(
        Method::POST,
        "/v1/me/password",
        F::ResetPassword,
        O::ChangePassword,
        G::SignedIn,
        E::HASHES_AND_MAILS,
    ),
    route(Method::GET, "/.well-known/jwks.json", F::Web, O::Jwks, G::Anonymous, E::STATIC),
    route(Method::GET, "/activate", F::Web, O::ActivatePage, G::Anonymous, E::STATIC),
    route(Method::GET, "/reset-password", F::Web, O::ResetPasswordPage, G::Anonymous, E::STATIC),
    route(Method::GET, "/console", F::Web, O::ConsolePage, G::Anonymous, E::STATIC),
    route(Method::GET, "/console/app.js", F::Web, O::ConsoleScript, G::Anonymous, E::STATIC),
    route(Method::GET, "/console/app.css", F::Web, O::ConsoleStyle, G::Anonymous, E::STATIC),
    route(Method::GET, "/_dev/mail", F::Dev, O::DevMail, G::Dev, E::NONE),
    route(Method::GET, "/_dev/events", F::Dev, O::DevEvents, G::Dev, E::NONE),
    route(Method::POST, "/_dev/mail-events", F::Dev, O::DevMailEvents, G::Dev, E::MAILS),
    route(Method::POST, "/_dev/clock", F::Dev, O::DevClock, G::Dev, E::NONE),
    route(Method::POST, "/_dev/cleanup", F::Dev, O::DevCleanup, G::Dev, E::NONE),
];

/// The outcome of matching a request path against the table.
pub enum Matched<'a> {
    Found(&'a Route, Vec<(&'static str, String)>),
    /// The path exists, but not for this method; the methods that are allowed.
    WrongMethod(Vec<&'static Method>),
    NotFound,
}

/// Finds the route for `method` and `path` among the routes `serves` accepts.
pub fn find(method: &Method, path: &str, serves: impl Fn(&Route) -> bool) -> Matched<'static> {
    let mut allowed = Vec::new();
    for route in ROUTES.iter().filter(|r| serves(r)) {
        if let Some(params) = match_path(route.path, path) {
            if route.method == *method {
                return Matched::Found(route, params);
            }
            allowed.push(&route.method);
        }
    }
    if allowed.is_empty() { Matched::NotFound } else { Matched::WrongMethod(allowed) }
}

fn match_path(pattern: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let mut wanted = pattern.split('/');
    let mut given = path.split('/');
    let mut params = Vec::new();
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(g)) if w.starts_with('{') && !g.is_empty() => {
                params.push((w.trim_matches(['{', '}']), g.to_owned()));
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_parameters_match_and_capture() {
        let Matched::Found(route, params) = find(&Method::GET, "/v1/accounts/a1/members/u2", |_| true) else {
            panic!("no match");
        };
        assert_eq!(route.operation, Operation::GetMember);
        assert_eq!(params, [("account_id", "a1".to_owned()), ("user_id", "u2".to_owned())]);
    }

    #[test]
    fn a_known_path_with_another_method_is_not_a_missing_route() {
        assert!(
            matches!(find(&Method::DELETE, "/v1/sessions", |_| true), Matched::WrongMethod(m) if m == [&Method::POST])
        );
        assert!(matches!(find(&Method::GET, "/v1/nope", |_| true), Matched::NotFound));
        assert!(matches!(find(&Method::GET, "/v1/accounts//members", |_| true), Matched::NotFound));
    }

    #[test]
    fn a_function_serves_only_its_own_routes() {
        assert!(matches!(
            find(&Method::POST, "/v1/sessions", |r| r.function == Function::Invite),
            Matched::NotFound
        ));
    }

    #[test]
    fn each_function_holds_only_the_keys_its_routes_use() {
        let keys = |f: Function| f.keys().variables();
        assert_eq!(keys(Function::Session), ["JWT_SIGNING_KEY"]);
        assert_eq!(keys(Function::Accept), ["JWT_SIGNING_KEY"]);
        assert_eq!(keys(Function::Accounts), ["JWT_PUBLIC_KEY", "OPERATOR_KEY"]);
        assert_eq!(keys(Function::Directory), ["JWT_PUBLIC_KEY", "CURSOR_KEY"]);
        for f in [
            Function::Invite,
            Function::Revoke,
            Function::SetRole,
            Function::Block,
            Function::ResetPassword,
            Function::ApiKeys,
        ] {
            assert_eq!(keys(f), ["JWT_PUBLIC_KEY"], "{f:?}");
        }
        // It publishes the JWKS.
        assert_eq!(keys(Function::Web), ["JWT_PUBLIC_KEY"]);
        // Every operator route, whatever its operation, takes the operator key.
        for route in ROUTES.iter().filter(|r| r.guard == Guard::Operator) {
            assert!(route.keys().operator_key && !route.keys().verifying_key, "{}", route.path);
        }
    }

    #[test]
    fn the_back_office_routes_and_only_they_are_the_operators() {
        for route in ROUTES {
            let back_office = route.path.starts_with("/v1/operator/");
            assert_eq!(back_office, route.guard == Guard::Operator, "{} {}", route.method, route.path);
            let dev = route.path.starts_with("/_dev/");
            assert_eq!(dev, route.guard == Guard::Dev, "{} {}", route.method, route.path);
            assert_eq!(dev, route.function == Function::Dev, "{} {}", route.method, route.path);
        }
    }

    #[test]
    fn every_route_is_listed_once() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(!(a.method == b.method && a.path == b.path), "{} {} twice", a.method, a.path);
            }
        }
    }
}
