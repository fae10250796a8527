//! The API's error vocabulary. Every use case's error says which code it is; `http::problem`
//! is the one place that turns that into a response.

use crate::domain::FieldError;
use crate::ports::StoreError;

/// The stable error codes of API.md, each with its HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    ValidationFailed,
    InvalidOrExpiredToken,
    InvalidCursor,
    Unauthenticated,
    InvalidCredentials,
    InvalidRefreshToken,
    Forbidden,
    RoleEscalation,
    UserBlocked,
    MemberBlocked,
    NotFound,
    InvitationNotFound,
    EmailTaken,
    PhoneTaken,
    InvitationPending,
    InvitationNotPending,
    InvitationRevoked,
    InvitationAlreadyAccepted,
    OwnerProtected,
    SelfActionForbidden,
    MemberNotActive,
    MemberAlreadyActive,
    ConcurrentChange,
    InvitationExpired,
    PayloadTooLarge,
    UnsupportedMediaType,
    MethodNotAllowed,
    RateLimited,
    Internal,
}

impl Code {
    pub fn status(self) -> u16 {
        use Code::*;
        match self {
            ValidationFailed | InvalidOrExpiredToken | InvalidCursor => 400,
            Unauthenticated | InvalidCredentials | InvalidRefreshToken => 401,
            Forbidden | RoleEscalation | UserBlocked | MemberBlocked => 403,
            NotFound | InvitationNotFound => 404,
            MethodNotAllowed => 405,
            EmailTaken
            | PhoneTaken
            | InvitationPending
            | InvitationNotPending
            | InvitationRevoked
            | InvitationAlreadyAccepted
            | OwnerProtected
            | SelfActionForbidden
            | ConcurrentChange
            | MemberNotActive
            | MemberAlreadyActive => 409,
            InvitationExpired => 410,
            PayloadTooLarge => 413,
            UnsupportedMediaType => 415,
            RateLimited => 429,
            Internal => 500,
        }
    }

    pub fn as_str(self) -> &'static str {
        use Code::*;
        match self {
            ValidationFailed => "validation_failed",
            InvalidOrExpiredToken => "invalid_or_expired_token",
            InvalidCursor => "invalid_cursor",
            Unauthenticated => "unauthenticated",
            InvalidCredentials => "invalid_credentials",
            InvalidRefreshToken => "invalid_refresh_token",
            Forbidden => "forbidden",
            RoleEscalation => "role_escalation",
            UserBlocked => "user_blocked",
            MemberBlocked => "member_blocked",
            NotFound => "not_found",
            InvitationNotFound => "invitation_not_found",
            EmailTaken => "email_taken",
            PhoneTaken => "phone_taken",
            InvitationPending => "invitation_pending",
            InvitationNotPending => "invitation_not_pending",
            InvitationRevoked => "invitation_revoked",
            InvitationAlreadyAccepted => "invitation_already_accepted",
            OwnerProtected => "owner_protected",
            SelfActionForbidden => "self_action_forbidden",
            MemberNotActive => "member_not_active",
            MemberAlreadyActive => "member_already_active",
            ConcurrentChange => "concurrent_change",
            InvitationExpired => "invitation_expired",
            PayloadTooLarge => "payload_too_large",
            UnsupportedMediaType => "unsupported_media_type",
            MethodNotAllowed => "method_not_allowed",
            RateLimited => "rate_limited",
            Internal => "internal",
        }
    }

    /// A short, human title for the problem document.
    pub fn title(self) -> &'static str {
        use Code::*;
        match self {
            ValidationFailed => "The request has invalid fields.",
            InvalidOrExpiredToken => "This link is invalid or has expired.",
            InvalidCursor => "The page cursor is invalid.",
            Unauthenticated => "Authentication is required.",
            InvalidCredentials => "The email or password is incorrect.",
            InvalidRefreshToken => "The session has ended; sign in again.",
            Forbidden => "You do not have permission to do this.",
            RoleEscalation => "You cannot grant permissions you do not hold.",
            UserBlocked => "This user is blocked.",
            MemberBlocked => "Your access to this account is blocked; ask its owner.",
            NotFound => "Not found.",
            InvitationNotFound => "This invitation link is not valid.",
            EmailTaken => "This email address is already in use.",
            PhoneTaken => "This phone number is already in use.",
            InvitationPending => "This email already has a pending invitation.",
            InvitationNotPending => "This invitation is no longer pending.",
            InvitationRevoked => "This invitation was revoked.",
            InvitationAlreadyAccepted => "This invitation was already accepted.",
            OwnerProtected => "The account owner cannot be changed this way.",
            SelfActionForbidden => "You cannot do this to yourself.",
            MemberNotActive => "The member is not active.",
            MemberAlreadyActive => {
                "The person has already set a password and can sign in; block or delete the member instead."
            }
            ConcurrentChange => "Someone changed this at the same time; read it again and retry.",
            InvitationExpired => "This invitation has expired.",
            PayloadTooLarge => "The request body is too large.",
            UnsupportedMediaType => "Send the body as application/json.",
            MethodNotAllowed => "This method is not allowed here.",
            RateLimited => "Too many requests; try again later.",
            Internal => "Something went wrong on our side.",
        }
    }
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

/// Declares a use case's error enum's codes: `failure_codes!(InviteError { EmailTaken => EmailTaken, ... })`.
/// Variants named `Invalid(FieldErrors)` carry field errors; `Internal(..)` variants are 500s.
#[macro_export]
macro_rules! failure_codes {
    ($error:ident { $($variant:ident $(($($_field:tt)*))? => $code:ident),* $(,)? }) => {
        impl $crate::service::failure::Failure for $error {
            fn code(&self) -> $crate::service::failure::Code {
                match self {
                    $($error::$variant $(($($_field)*))? => $crate::service::failure::Code::$code,)*
                }
            }

            fn field_errors(&self) -> Vec<$crate::domain::FieldError> {
                $crate::service::failure::fields_of(self)
            }

            fn retry_after(&self) -> Option<u64> {
                $crate::service::failure::retry_after_of(self)
            }
        }
    };
}

/// Field errors of an error that wraps `FieldErrors` somewhere in its source chain or Display.
pub fn fields_of(error: &(dyn std::error::Error + 'static)) -> Vec<FieldError> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(invalid) = e.downcast_ref::<Invalid>() {
            return invalid.0.clone().into_vec();
        }
        current = e.source();
    }
    Vec::new()
}

/// The wait of a `RateLimited` in an error's source chain.
pub fn retry_after_of(error: &(dyn std::error::Error + 'static)) -> Option<u64> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(limited) = e.downcast_ref::<crate::service::limits::RateLimited>() {
            return Some(limited.retry_after);
        }
        current = e.source();
    }
    None
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

impl Failure for InternalError {
    fn code(&self) -> Code {
        Code::Internal
    }
}
