//! Pure rules: validated values, the model and its transitions, presets. No I/O.

pub mod account;
pub mod api_key;
pub mod audit;
pub mod email;
#[cfg(test)]
mod fixtures;
pub mod guidance;
pub mod ids;
pub mod invitation;
pub mod locale;
pub mod mail;
pub mod member;
pub mod name;
pub mod password;
pub mod permission;
pub mod phone;
pub mod preset;
pub mod profile;
pub mod role;
pub mod session;
pub mod totp;
pub mod user;
pub mod validation;

pub use account::{Account, AccountSettings, RoleRefusal, seat_limit};
pub use api_key::{ApiKey, ApiKeyStatus, KeyRefusal, Network};
pub use audit::{AuditAction, AuditEvent, AuditTarget};
pub use email::Email;
pub use guidance::{Guidance, SignIn, Support};
pub use ids::{AccountId, ApiKeyId, EventId, InvitationId, SessionFamilyId, UserId};
pub use invitation::{
    AddressRefusal, AddressRefused, Delivery, Invitation, InvitationMessage, InvitationStatus, LinkNames,
    MailOutcome, OneTimeToken, TokenPurpose,
};
pub use locale::{Locale, Localized};
pub use mail::MailKind;
pub use member::{Member, MemberStatus, Refusal};
pub use name::{NameScript, PersonName};
pub use password::{Password, PasswordPolicy};
pub use permission::{Permission, PermissionSet, RoleName};
pub use phone::Phone;
pub use preset::{Grant, InvitationMode, MfaPolicy, Preset, Presets};
pub use profile::{Profile, ProfileField, ProfileInput};
pub use role::{CustomRole, RoleContent, Roles};
pub use session::{RefreshSession, SessionClient};
pub use totp::{SecondFactor, TotpSecret};
pub use user::{LIVE_RESET_LINKS, ResetLink, SecondFactorRefusal, User};
pub use validation::{FieldError, FieldErrors, NAME_SHOWN_CHARS, not_one_of, plain_text};
