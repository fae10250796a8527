//! The route table: every route of API.md, which function serves it, and what it does.
//! The dev server mounts all of them; each Lambda function only its own. `openapi.yaml` and
//! `infra/template.yaml` are checked against this table by tests.

use http::Method;

/// The Lambda functions, one binary each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    Web,
    /// Only in the dev server; never deployed.
    Dev,
}

impl Function {
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
            Self::Web => "web",
            Self::Dev => "dev",
        }
    }

    /// The keys this function is configured with, derived from the routes it serves: a
    /// function holds only what its own routes use. The cleanup serves no route and holds none.
    pub fn keys(self) -> Keys {
        ROUTES.iter().filter(|r| r.function == self).fold(Keys::NONE, |keys, r| keys.union(r.keys()))
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
    InspectInvitation,
    AcceptInvitation,
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
    SetRoles,
    BlockMember,
    UnblockMember,
    DeleteMember,
    TransferOwnership,
    UpdateSettings,
    RecoverOwner,
    GetOwnerRecovery,
    CancelOwnerRecovery,
    RequestPasswordReset,
    ConfirmPasswordReset,
    UpdateMe,
    ChangePassword,
    Jwks,
    ActivatePage,
    ResetPasswordPage,
    DevMail,
    DevClock,
    DevCleanup,
}

pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub function: Function,
    pub operation: Operation,
}

impl Route {
    /// An operator route: the back office's, authenticated by the operator key alone.
    pub fn is_operator(&self) -> bool {
        self.path.starts_with("/v1/operator/")
    }

    /// What serving this route takes. A route not named here that is not an operator route
    /// reads a bearer token: it gets the public key, which is no secret.
    pub fn keys(&self) -> Keys {
        let operator = self.is_operator() || matches!(self.operation, O::CreateAccount | O::RecoverOwner);
        let anonymous = matches!(
            self.operation,
            O::InspectInvitation
                | O::AcceptInvitation
                | O::SignIn
                | O::Refresh
                | O::SignOut
                | O::RequestPasswordReset
                | O::ConfirmPasswordReset
                | O::ActivatePage
                | O::ResetPasswordPage
                | O::DevMail
                | O::DevClock
                | O::DevCleanup
        );
        Keys {
            signing_key: matches!(self.operation, O::SignIn | O::Refresh | O::AcceptInvitation),
            verifying_key: !operator && !anonymous,
            operator_key: operator,
            cursor_key: matches!(self.operation, O::ListMembers | O::ListInvitations | O::ListAuditEvents),
        }
    }
}

const fn route(method: Method, path: &'static str, function: Function, operation: Operation) -> Route {
    Route { method, path, function, operation }
}

use Function as F;
use Operation as O;

pub static ROUTES: &[Route] = &[
    route(Method::POST, "/v1/operator/accounts", F::Accounts, O::CreateAccount),
    route(Method::GET, "/v1/accounts/{account_id}", F::Directory, O::GetAccount),
    route(Method::GET, "/v1/accounts/{account_id}/roles", F::Directory, O::ListRoles),
    route(Method::GET, "/v1/accounts/{account_id}/members", F::Directory, O::ListMembers),
    route(Method::GET, "/v1/accounts/{account_id}/members/{user_id}", F::Directory, O::GetMember),
    route(Method::POST, "/v1/accounts/{account_id}/invitations", F::Invite, O::Invite),
    route(Method::GET, "/v1/accounts/{account_id}/invitations", F::Directory, O::ListInvitations),
    route(
        Method::GET,
        "/v1/accounts/{account_id}/invitations/{invitation_id}",
        F::Directory,
        O::GetInvitation,
    ),
    route(
        Method::POST,
        "/v1/accounts/{account_id}/invitations/{invitation_id}/revoke",
        F::Revoke,
        O::RevokeInvitation,
    ),
    route(
        Method::POST,
        "/v1/accounts/{account_id}/invitations/{invitation_id}/resend",
        F::Invite,
        O::ResendInvitation,
    ),
    route(Method::GET, "/v1/accounts/{account_id}/audit-events", F::Directory, O::ListAuditEvents),
    route(Method::POST, "/v1/invitations/inspect", F::Accept, O::InspectInvitation),
    route(Method::POST, "/v1/invitations/accept", F::Accept, O::AcceptInvitation),
    route(Method::POST, "/v1/sessions", F::Session, O::SignIn),
    route(Method::POST, "/v1/sessions/refresh", F::Session, O::Refresh),
    route(Method::POST, "/v1/sessions/logout", F::Session, O::SignOut),
    route(Method::GET, "/v1/me", F::Directory, O::Me),
    route(Method::PUT, "/v1/accounts/{account_id}/members/{user_id}/roles", F::SetRole, O::SetRoles),
    route(Method::POST, "/v1/accounts/{account_id}/members/{user_id}/block", F::Block, O::BlockMember),
    route(Method::POST, "/v1/accounts/{account_id}/members/{user_id}/unblock", F::Block, O::UnblockMember),
    route(Method::DELETE, "/v1/accounts/{account_id}/members/{user_id}", F::Block, O::DeleteMember),
    route(Method::POST, "/v1/accounts/{account_id}/ownership-transfer", F::SetRole, O::TransferOwnership),
    route(Method::PATCH, "/v1/accounts/{account_id}/settings", F::Accounts, O::UpdateSettings),
    route(Method::POST, "/v1/operator/accounts/{account_id}/owner-recovery", F::Accounts, O::RecoverOwner),
    route(Method::GET, "/v1/operator/accounts/{account_id}/owner-recovery", F::Accounts, O::GetOwnerRecovery),
    route(
        Method::DELETE,
        "/v1/operator/accounts/{account_id}/owner-recovery",
        F::Accounts,
        O::CancelOwnerRecovery,
    ),
    route(Method::POST, "/v1/password-reset", F::ResetPassword, O::RequestPasswordReset),
    route(Method::POST, "/v1/password-reset/confirm", F::ResetPassword, O::ConfirmPasswordReset),
    route(Method::PATCH, "/v1/me", F::ResetPassword, O::UpdateMe),
    route(Method::POST, "/v1/me/password", F::ResetPassword, O::ChangePassword),
    route(Method::GET, "/.well-known/jwks.json", F::Web, O::Jwks),
    route(Method::GET, "/activate", F::Web, O::ActivatePage),
    route(Method::GET, "/reset-password", F::Web, O::ResetPasswordPage),
    route(Method::GET, "/_dev/mail", F::Dev, O::DevMail),
    route(Method::POST, "/_dev/clock", F::Dev, O::DevClock),
    route(Method::POST, "/_dev/cleanup", F::Dev, O::DevCleanup),
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
        for f in
            [Function::Invite, Function::Revoke, Function::SetRole, Function::Block, Function::ResetPassword]
        {
            assert_eq!(keys(f), ["JWT_PUBLIC_KEY"], "{f:?}");
        }
        // It publishes the JWKS.
        assert_eq!(keys(Function::Web), ["JWT_PUBLIC_KEY"]);
        // Every operator route, whatever its operation, takes the operator key.
        for route in ROUTES.iter().filter(|r| r.is_operator()) {
            assert!(route.keys().operator_key && !route.keys().verifying_key, "{}", route.path);
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
