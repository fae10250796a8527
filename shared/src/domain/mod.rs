//! Pure rules: validated values, the model and its transitions, presets. No I/O.

pub mod email;
pub mod locale;
pub mod model;
pub mod name;
pub mod password;
pub mod permission;
pub mod phone;
pub mod preset;
pub mod validation;

pub use email::Email;
pub use locale::{Locale, Localized};
pub use model::*;
pub use name::{NameScript, PersonName};
pub use password::{Password, PasswordPolicy};
pub use permission::{Permission, PermissionSet, RoleName};
pub use phone::Phone;
pub use preset::{Grant, InvitationMode, Preset, Presets, Profile, ProfileField, ProfileInput};
pub use validation::{FieldError, FieldErrors};
