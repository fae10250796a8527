//! Request bodies: size-capped, JSON only, unknown fields refused, every problem a field error.

use bytes::Bytes;
use http::{HeaderMap, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::domain::{FieldError, ProfileInput};
use crate::failure_codes;
use crate::service::accounts::CreateAccountCommand;
use crate::service::failure::Invalid;
use crate::service::invite::InviteCommand;
use crate::service::members::SettingsCommand;
use crate::service::recovery::ProfileCommand;
use crate::service::redeem::AcceptCommand;

/// The largest body any route accepts.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the request body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("send the request body as application/json")]
    NotJson,
    #[error("the request body has invalid fields")]
    Invalid(#[from] Invalid),
}

failure_codes!(BodyError {
    TooLarge => PayloadTooLarge,
    NotJson => UnsupportedMediaType,
    Invalid(_) => ValidationFailed,
});

pub fn parse<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, BodyError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(BodyError::TooLarge);
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if content_type.is_some_and(|ct| {
        let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        essence != "application/json" && !essence.ends_with("+json")
    }) {
        return Err(BodyError::NotJson);
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let error = FieldError::new("body", "malformed_json", "The body must be a JSON object.");
        return Err(Invalid(error.into()).into());
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|e| Invalid(field_error(&e).into()).into())
}

/// Names the field a serde error is about, with a stable code.
fn field_error(error: &serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let inner = error.inner();
    let path = error.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let message = inner.to_string();
    if !inner.is_data() {
        return FieldError::new("body", "malformed_json", "The body is not valid JSON.");
    }
    let quoted = message.split('`').nth(1).unwrap_or_default();
    let join = |name: &str| {
        if path.is_empty() { name.to_owned() } else { format!("{path}.{name}") }
    };
    if message.starts_with("unknown field") {
        FieldError::new(
            if path.is_empty() { quoted } else { &path },
            "unknown_field",
            format!("`{quoted}` is not a field of this request."),
        )
    } else if message.starts_with("missing field") {
        FieldError::new(&join(quoted), "required", "This field is required.")
    } else {
        let detail = message.split(" at line").next().unwrap_or_default();
        FieldError::new(&path, "invalid_value", format!("Invalid value: {detail}."))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountBody {
    name: String,
    owner_email: String,
    preset: Option<String>,
    locale: Option<String>,
}

impl From<CreateAccountBody> for CreateAccountCommand {
    fn from(b: CreateAccountBody) -> Self {
        Self { name: b.name, owner_email: b.owner_email, preset: b.preset, locale: b.locale }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    email: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    permissions: Vec<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    locale: Option<String>,
}

impl From<InviteBody> for InviteCommand {
    fn from(b: InviteBody) -> Self {
        Self {
            email: b.email,
            roles: b.roles,
            permissions: b.permissions,
            profile: ProfileInput { first_name: b.first_name, last_name: b.last_name, phone: b.phone },
            locale: b.locale,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    pub token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    token: String,
    password: String,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
}

impl From<AcceptBody> for AcceptCommand {
    fn from(b: AcceptBody) -> Self {
        Self {
            token: b.token,
            password: b.password,
            profile: ProfileInput { first_name: b.first_name, last_name: b.last_name, phone: b.phone },
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    pub email: String,
    pub password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    pub refresh_token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockBody {
    pub advance_seconds: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetRolesBody {
    pub roles: Vec<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    pub user_id: String,
    pub password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    invitation_ttl_hours: Option<u32>,
    blocked_email_domains: Option<Vec<String>>,
    locale: Option<String>,
}

impl From<SettingsBody> for SettingsCommand {
    fn from(b: SettingsBody) -> Self {
        Self {
            invitation_ttl_hours: b.invitation_ttl_hours,
            blocked_email_domains: b.blocked_email_domains,
            locale: b.locale,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryBody {
    pub new_email: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetRequestBody {
    pub email: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmBody {
    pub token: String,
    pub new_password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeBody {
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    locale: Option<String>,
}

impl From<MeBody> for ProfileCommand {
    fn from(b: MeBody) -> Self {
        Self {
            profile: ProfileInput { first_name: b.first_name, last_name: b.last_name, phone: b.phone },
            locale: b.locale,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    pub current_password: String,
    pub new_password: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(body: &str) -> Vec<(String, &'static str)> {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        match parse::<SignInBody>(&headers, &Bytes::from(body.to_owned())) {
            Err(BodyError::Invalid(Invalid(e))) => {
                e.into_vec().into_iter().map(|f| (f.field, f.code)).collect()
            }
            other => panic!("expected field errors, got {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn unknown_missing_mistyped_and_malformed_bodies_name_their_field() {
        assert_eq!(
            errors(r#"{"email":"a@b.cd","password":"x","admin":true}"#),
            [("admin".into(), "unknown_field")]
        );
        assert_eq!(errors(r#"{"email":"a@b.cd"}"#), [("password".into(), "required")]);
        assert_eq!(errors(r#"{"email":7,"password":"x"}"#), [("email".into(), "invalid_value")]);
        assert_eq!(errors(r#"{"email":"#), [("body".into(), "malformed_json")]);
        assert_eq!(errors(r#"[1]"#), [("body".into(), "malformed_json")]);
    }

    #[test]
    fn oversized_and_non_json_bodies_are_refused_before_parsing() {
        let big = Bytes::from(vec![b' '; MAX_BODY_BYTES + 1]);
        assert!(matches!(parse::<SignInBody>(&HeaderMap::new(), &big), Err(BodyError::TooLarge)));
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(matches!(parse::<SignInBody>(&headers, &Bytes::from_static(b"{}")), Err(BodyError::NotJson)));
    }
}
