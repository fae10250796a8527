//! The API's error vocabulary. Every use case's error says which code it is; `Problem::of` is
//! the one place that turns that into a problem document, and `http::problem` the one place
//! that answers with one. Internal errors and outages are logged there, once, and answered
//! without detail.

use crate::domain::FieldError;
use crate::ports::{MailError, StoreError, VaultError};

/// Declares `Code` from one table: each code's HTTP status, its stable string and its title.
macro_rules! codes {
    ($($code:ident = ($status:literal, $name:literal, $title:literal)),* $(,)?) => {
        /// The stable error codes of the API (`openapi.yaml`, `Problem.code`), each with its HTTP
        /// status and title.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Code {
            $($code,)*
        }

        impl Code {
            pub fn status(self) -> u16 {
                match self {
                    $(Self::$code => $status,)*
                }
            }

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$code => $name,)*
                }
            }

            /// A short, human title for the problem document.
            pub fn title(self) -> &'static str {
                match self {
                    $(Self::$code => $title,)*
                }
            }
        }
    };
}

codes! {
    ValidationFailed = (400, "validation_failed", "The request has invalid fields."),
    InvalidOrExpiredToken = (400, "invalid_or_expired_token", "This link is invalid or has expired."),
    InvalidCursor = (400, "invalid_cursor", "The page cursor is invalid."),
    InvalidMfaCode = (400, "invalid_mfa_code", "The code is wrong, expired or already used."),
    Unauthenticated = (401, "unauthenticated", "Authentication is required."),
    InvalidCredentials = (401, "invalid_credentials", "The email or password is incorrect."),
    InvalidRefreshToken = (401, "invalid_refresh_token", "The session has ended; sign in again."),
    InvalidMfaChallenge = (401, "invalid_mfa_challenge", "This sign-in has expired or was already completed; sign in again."),
    Forbidden = (403, "forbidden", "You do not have permission to do this."),
    RoleEscalation = (403, "role_escalation", "You cannot grant permissions you do not hold."),
    UserBlocked = (403, "user_blocked", "This user is blocked."),
    NetworkNotAllowed = (403, "network_not_allowed", "This API key may not be used from this network."),
    MemberBlocked = (403, "member_blocked", "Your access to this account is blocked; ask its owner."),
    MfaEnrollmentRequired = (403, "mfa_enrollment_required", "This account requires two-step verification: turn it on first (POST /v1/me/mfa/totp)."),
    MfaStepUpRequired = (403, "mfa_step_up_required", "Confirm it is you with a code from your authenticator app first (POST /v1/sessions/step-up)."),
    NotFound = (404, "not_found", "Not found."),
    InvitationNotFound = (404, "invitation_not_found", "This invitation link is not valid."),
    EmailTaken = (409, "email_taken", "This email address is already in use."),
    PhoneTaken = (409, "phone_taken", "This phone number is already in use."),
    InvitationPending = (409, "invitation_pending", "This email already has a pending invitation."),
    InvitationNotPending = (409, "invitation_not_pending", "This invitation is no longer pending."),
    InvitationRevoked = (409, "invitation_revoked", "This invitation was revoked."),
    InvitationAlreadyAccepted = (409, "invitation_already_accepted", "This invitation was already accepted."),
    OwnerProtected = (409, "owner_protected", "The account owner cannot be changed this way."),
    SelfActionForbidden = (409, "self_action_forbidden", "You cannot do this to yourself."),
    MemberNotActive = (409, "member_not_active", "The member is not active."),
    MemberAlreadyActive = (409, "member_already_active", "The person has already set a password and can sign in; block or delete the member instead."),
    ApiKeyNotActive = (409, "api_key_not_active", "This key is revoked or expired."),
    SeatLimitReached = (409, "seat_limit_reached", "Every seat of the account is taken: remove a member or revoke an invitation, or ask the marketplace for more seats."),
    ApiKeyLimitReached = (409, "api_key_limit_reached", "The account has as many API keys as it may: 50 working, 200 kept."),
    AddressRefused = (409, "address_refused", "This address bounced or marked our mail as spam; send with deliberately set to mail it again."),
    MfaAlreadyEnabled = (409, "mfa_already_enabled", "Two-step verification is already on."),
    MfaNotEnabled = (409, "mfa_not_enabled", "Two-step verification is off."),
    MfaNotEnrolling = (409, "mfa_not_enrolling", "Start turning two-step verification on first (POST /v1/me/mfa/totp)."),
    MfaRequiredByAccount = (409, "mfa_required_by_account", "An account you belong to requires two-step verification, so it stays on."),
    MemberOfOtherAccounts = (409, "member_of_other_accounts", "This person also works in other accounts; their two-step verification is theirs to change (or the marketplace's support)."),
    RoleNameTaken = (409, "role_name_taken", "The account has a role of this name already; choose another name."),
    RoleInUse = (409, "role_in_use", "Members hold this role: name a replacement role to move them to, or change their roles first."),
    RoleLimitReached = (409, "role_limit_reached", "The account has as many roles of its own as it may: 50."),
    ConcurrentChange = (409, "concurrent_change", "Someone changed this at the same time; read it again and retry."),
    InvitationExpired = (410, "invitation_expired", "This invitation has expired."),
    PayloadTooLarge = (413, "payload_too_large", "The request body is too large."),
    UnsupportedMediaType = (415, "unsupported_media_type", "Send the body as application/json."),
    IdempotencyKeyReused = (422, "idempotency_key_reused", "This Idempotency-Key was sent with another request; use a new key for a new request."),
    RequestInProgress = (409, "request_in_progress", "A request with this Idempotency-Key is still under way; send it again after Retry-After seconds."),
    MethodNotAllowed = (405, "method_not_allowed", "This method is not allowed here."),
    RateLimited = (429, "rate_limited", "Too many requests; try again later."),
    Internal = (500, "internal", "Something went wrong on our side."),
    ServiceUnavailable = (503, "service_unavailable", "A service Teamgate depends on is unavailable right now; retry after Retry-After seconds."),
}

/// A problem document (`application/problem+json`, openapi's `Problem`): the answer of a failed
/// request, and the result of a failed row of a bulk request.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub code: &'static str,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// Seconds to wait (`rate_limited`, `service_unavailable`): a response's `Retry-After`, not
    /// a member of the document.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// The problem `error` answers with. An internal error or an outage is logged here, with
    /// its sources, and answered without them.
    pub fn of(error: &dyn Failure) -> Self {
        let code = error.code();
        match code {
            Code::Internal => {
                tracing::error!(error = %chained(error), "internal error");
                Self::new(code, code.title().to_owned(), Vec::new(), None)
            }
            Code::ServiceUnavailable => {
                tracing::warn!(error = %chained(error), "a dependency is unavailable");
                Self::new(code, code.title().to_owned(), Vec::new(), error.retry_after())
            }
            _ => Self::new(code, error.to_string(), error.field_errors(), error.retry_after()),
        }
    }

    pub fn new(code: Code, detail: String, fields: Vec<FieldError>, retry_after: Option<u64>) -> Self {
        Self {
            kind: format!("https://teamgate.dev/problems/{}", code.as_str().replace('_', "-")),
            title: code.title(),
            status: code.status(),
            code: code.as_str(),
            detail,
            errors: (code == Code::ValidationFailed).then_some(fields),
            retry_after,
        }
    }
}

/// The error and its sources on one line, for the log.
fn chained(error: &(dyn std::error::Error + 'static)) -> String {
    chain(error).map(|e| e.to_string()).collect::<Vec<_>>().join(": ")
}

/// An error a use case answers with.
pub trait Failure: std::error::Error + Send + Sync + 'static {
    fn code(&self) -> Code;

    /// The bad fields of a `validation_failed`.
    fn field_errors(&self) -> Vec<FieldError> {
        Vec::new()
    }

    /// Seconds to wait, for `rate_limited`.
    fn retry_after(&self) -> Option<u64> {
        None
    }
}

/// Declares which code each variant of a use case's error answers with, the one way errors
/// are built: `failure_codes!(InviteError { EmailTaken => EmailTaken, Invalid(_) => ValidationFailed })`.
/// Variants listed under `delegating` wrap another use case's error and answer with its code,
/// field errors and wait. Field errors come from an `Invalid` in the error's source chain, the
/// wait of a `429` from a `RateLimited` there.
#[macro_export]
macro_rules! failure_codes {
    ($error:ident { $($variant:ident $(($($_field:tt)*))? => $code:ident),* $(,)? }
        $(delegating { $($inner:ident),* $(,)? })?) => {
        impl $crate::service::support::failure::Failure for $error {
            fn code(&self) -> $crate::service::support::failure::Code {
                let code = match self {
                    $($error::$variant $(($($_field)*))? => $crate::service::support::failure::Code::$code,)*
                    $($($error::$inner(inner) => inner.code(),)*)?
                };
                $crate::service::support::failure::outage_or(code, self)
            }

            fn field_errors(&self) -> Vec<$crate::domain::FieldError> {
                match self {
                    $($($error::$inner(inner) => inner.field_errors(),)*)?
                    #[allow(unreachable_patterns)]
                    _ => $crate::service::support::failure::fields_of(self),
                }
            }

            fn retry_after(&self) -> Option<u64> {
                match self {
                    $($($error::$inner(inner) => inner.retry_after(),)*)?
                    #[allow(unreachable_patterns)]
                    _ => $crate::service::support::failure::retry_after_of(self),
                }
            }
        }
    };
    ($error:ident => $code:ident) => {
        impl $crate::service::support::failure::Failure for $error {
            fn code(&self) -> $crate::service::support::failure::Code {
                $crate::service::support::failure::outage_or($crate::service::support::failure::Code::$code, self)
            }

            fn retry_after(&self) -> Option<u64> {
                $crate::service::support::failure::retry_after_of(self)
            }
        }
    };
}

/// An error and every error in its source chain, outermost first.
fn chain<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |e| e.source())
}

/// Field errors of an error that wraps `FieldErrors` somewhere in its source chain or Display.
pub fn fields_of(error: &(dyn std::error::Error + 'static)) -> Vec<FieldError> {
    chain(error)
        .find_map(|e| e.downcast_ref::<Invalid>())
        .map_or_else(Vec::new, |invalid| invalid.0.clone().into_vec())
}

/// The wait of a `RateLimited` in an error's source chain, or of an outage there.
pub fn retry_after_of(error: &(dyn std::error::Error + 'static)) -> Option<u64> {
    match chain(error).find_map(|e| e.downcast_ref::<RateLimited>()) {
        Some(limited) => Some(limited.retry_after),
        None => is_outage(error).then_some(OUTAGE_RETRY_AFTER),
    }
}

/// Seconds a client waits before retrying after a `503`: longer than the SDK's own retries
/// took, short enough for a person who is waiting.
pub const OUTAGE_RETRY_AFTER: u64 = 2;

/// An internal failure caused by a dependency's outage is `service_unavailable`: retrying the
/// same request later may succeed (a bug's `internal` would fail again).
pub fn outage_or(code: Code, error: &(dyn std::error::Error + 'static)) -> Code {
    if code == Code::Internal && is_outage(error) { Code::ServiceUnavailable } else { code }
}

/// Whether a port's outage (the store, the mail or the key service unavailable after its
/// retries) is in an error's source chain.
fn is_outage(error: &(dyn std::error::Error + 'static)) -> bool {
    chain(error).any(|e| {
        matches!(e.downcast_ref::<StoreError>(), Some(StoreError::Unavailable(_)))
            || matches!(e.downcast_ref::<MailError>(), Some(MailError::Unavailable(_)))
            || matches!(e.downcast_ref::<VaultError>(), Some(VaultError::Unavailable(_)))
    })
}

/// Too many attempts: retry after `retry_after` seconds. Use cases wrap it in a variant whose
/// source it is, so `Failure::retry_after` finds it.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("too many attempts; retry in {retry_after} s")]
pub struct RateLimited {
    pub retry_after: u64,
}

/// Validation failures as an error, for use cases to wrap with `#[from]`/`#[source]`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("validation failed")]
pub struct Invalid(pub crate::domain::FieldErrors);

impl From<crate::domain::FieldErrors> for Invalid {
    fn from(errors: crate::domain::FieldErrors) -> Self {
        Self(errors)
    }
}

impl From<FieldError> for Invalid {
    fn from(error: FieldError) -> Self {
        Self(error.into())
    }
}

/// A failure of a port that no rule explains: logged once and answered as an opaque 500.
#[derive(Debug, thiserror::Error)]
#[error("internal failure: {context}")]
pub struct InternalError {
    pub context: &'static str,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl InternalError {
    pub fn new(context: &'static str, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self { context, source: source.into() }
    }
}

impl From<StoreError> for InternalError {
    fn from(error: StoreError) -> Self {
        Self::new("store", error)
    }
}

/// A failed store call as an internal error naming the call (`Store::<operation>`), so the one
/// log line says which read or write failed.
pub fn store_failed(operation: &'static str) -> impl Fn(StoreError) -> InternalError {
    move |error| InternalError::new(operation, error)
}

crate::failure_codes!(InternalError => Internal);
