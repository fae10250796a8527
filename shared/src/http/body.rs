//! Request bodies: size-capped, JSON only (a `Content-Type` of `application/json` or `*+json`
//! is required), one JSON object whose keys are each given once, unknown fields refused, every
//! problem a field error.

use bytes::Bytes;
use http::{HeaderMap, header};
use serde::Deserialize;
use serde::de::{DeserializeOwned, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeSet;
use std::fmt;

use crate::domain::{FieldError, ProfileInput};
use crate::failure_codes;
use crate::service::accept::AcceptCommand;
use crate::service::accounts::CreateAccountCommand;
use crate::service::invite::InviteCommand;
use crate::service::me::ProfileCommand;
use crate::service::mfa::SecondStep;
use crate::service::roles::RoleCommand;
use crate::service::settings::SettingsCommand;
use crate::service::support::failure::Invalid;

/// The largest body a route accepts, but for a bulk invitation's (`bulk::MAX_BULK_BODY_BYTES`).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("send the request body as application/json")]
    NotJson,
    #[error("send the request body as application/json or text/csv")]
    NotJsonOrCsv,
    #[error("the request body has invalid fields")]
    Invalid(#[from] Invalid),
}

failure_codes!(BodyError {
    TooLarge(_) => PayloadTooLarge,
    NotJson => UnsupportedMediaType,
    NotJsonOrCsv => UnsupportedMediaType,
    Invalid(_) => ValidationFailed,
});

/// Reads the body of a route that takes one. A route that takes none never calls this, so it
/// needs no `Content-Type` (`POST .../revoke` with no body is fine).
pub fn parse<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, BodyError> {
    parse_within(headers, body, MAX_BODY_BYTES)
}

/// `parse`, for a route that takes bodies of up to `max_bytes`.
pub fn parse_within<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
    max_bytes: usize,
) -> Result<T, BodyError> {
    if body.len() > max_bytes {
        return Err(BodyError::TooLarge(max_bytes));
    }
    if !is_json(headers) {
        return Err(BodyError::NotJson);
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let error = FieldError::new("body", "malformed_json", "The body must be a JSON object.");
        return Err(Invalid(error.into()).into());
    }
    // A repeated key would otherwise be read as its last (or, in another parser, its first)
    // value: a body two readers could understand differently is refused whole.
    if let Err(error) = serde_json::from_slice::<UniqueKeys>(body) {
        let detail = error.to_string();
        let error = if error.is_data() && detail.starts_with(REPEATED_KEY) {
            let detail = detail.split(" at line").next().unwrap_or_default();
            FieldError::new("body", "duplicate_key", format!("{detail}: give each key once."))
        } else {
            FieldError::new("body", "malformed_json", "The body is not valid JSON.")
        };
        return Err(Invalid(error.into()).into());
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|e| Invalid(field_error(&e).into()).into())
}

/// Whether the request says its body is JSON: `application/json` or any `+json` type, with or
/// without parameters (`; charset=utf-8`). A missing `Content-Type` is not JSON.
pub(super) fn is_json(headers: &HeaderMap) -> bool {
    let essence = media_type(headers);
    essence == "application/json" || essence.ends_with("+json")
}

/// The request's `Content-Type` without its parameters, in lower case; empty when missing.
pub(super) fn media_type(headers: &HeaderMap) -> String {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Any JSON value in which no object gives a key twice, at any depth: its only data error is
/// "The key `k` appears twice".
struct UniqueKeys;

const REPEATED_KEY: &str = "The key `";

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueKeys)
    }
}

impl<'de> Visitor<'de> for UniqueKeys {
    type Value = UniqueKeys;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        let mut keys = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if keys.contains(&key) {
                return Err(serde::de::Error::custom(format_args!("{REPEATED_KEY}{key}` appears twice")));
            }
            map.next_value::<UniqueKeys>()?;
            keys.insert(key);
        }
        Ok(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(self)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_unit<E>(self) -> Result<Self, E> {
        Ok(self)
    }
}

/// Names the field a serde error is about, with a stable code.
pub(super) fn field_error(error: &serde_path_to_error::Error<serde_json::Error>) -> FieldError {
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
    } else if message == NO_GRANT {
        FieldError::new(&join("roles"), "required", "Choose at least one role or permission.")
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
    #[serde(default, deserialize_with = "optional_whole_number")]
    max_members: Option<u32>,
}

impl From<CreateAccountBody> for CreateAccountCommand {
    fn from(b: CreateAccountBody) -> Self {
        Self {
            name: b.name,
            owner_email: b.owner_email,
            preset: b.preset,
            locale: b.locale,
            max_members: b.max_members,
        }
    }
}

/// A JSON integer, as JSON Schema counts them: `13` and `13.0` alike (a number whose fraction
/// is zero), within `u32`. Anything else is "invalid type" or "invalid value" (`invalid_value`).
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    struct WholeNumber;

    impl Visitor<'_> for WholeNumber {
        type Value = u32;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a whole number from 0 to 4294967295")
        }

        fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<u32, E> {
            u32::try_from(n).map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(n), &self))
        }

        fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<u32, E> {
            u32::try_from(n).map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(n), &self))
        }

        fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<u32, E> {
            if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) {
                Ok(n as u32)
            } else {
                Err(E::invalid_value(serde::de::Unexpected::Float(n), &self))
            }
        }
    }

    deserializer.deserialize_any(WholeNumber)
}

/// `whole_number`, or `null`.
fn optional_whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    struct Whole(#[serde(deserialize_with = "whole_number")] u32);
    Ok(Option::<Whole>::deserialize(deserializer)?.map(|Whole(n)| n))
}

/// An invitation grants something: `roles` is required unless `permissions` names one. (Whether
/// the names exist is the account's preset's to say: `unknown_role`, `unknown_permission`.)
#[derive(Debug, Deserialize)]
#[serde(try_from = "InviteFields")]
pub struct InviteBody {
    email: String,
    roles: Vec<String>,
    permissions: Vec<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    locale: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteFields {
    email: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    permissions: Vec<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    locale: Option<String>,
    message: Option<String>,
}

/// The error of an invitation that grants nothing; `field_error` names it `roles`, `required`.
const NO_GRANT: &str = "an invitation grants at least one role or permission";

impl TryFrom<InviteFields> for InviteBody {
    type Error = &'static str;

    fn try_from(f: InviteFields) -> Result<Self, Self::Error> {
        if f.roles.is_empty() && f.permissions.is_empty() {
            return Err(NO_GRANT);
        }
        let InviteFields { email, roles, permissions, first_name, last_name, phone, locale, message } = f;
        Ok(Self { email, roles, permissions, first_name, last_name, phone, locale, message })
    }
}

impl From<InviteBody> for InviteCommand {
    fn from(b: InviteBody) -> Self {
        Self {
            email: b.email,
            roles: b.roles,
            permissions: b.permissions,
            profile: ProfileInput { first_name: b.first_name, last_name: b.last_name, phone: b.phone },
            locale: b.locale,
            message: b.message,
        }
    }
}

/// `POST .../resend`'s body, which may be left out: `deliberately` mails an address that
/// bounced for good or complained.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResendRequest {
    #[serde(default)]
    pub deliberately: bool,
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

/// A second step as sent: a code from the authenticator app, or a recovery code.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecondStepBody {
    code: Option<String>,
    recovery_code: Option<String>,
}

impl SecondStepBody {
    pub fn step(self) -> Result<SecondStep, BodyError> {
        second_step(self.code, self.recovery_code)
    }
}

/// The step given: exactly one of `code` and `recovery_code`.
fn second_step(code: Option<String>, recovery_code: Option<String>) -> Result<SecondStep, BodyError> {
    match (code, recovery_code) {
        (Some(code), None) => Ok(SecondStep::Code(code)),
        (None, Some(code)) => Ok(SecondStep::RecoveryCode(code)),
        _ => Err(Invalid(
            FieldError::new(
                "code",
                "required",
                "Give the code from your app, or one recovery code: one of them.",
            )
            .into(),
        )
        .into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteSignInBody {
    pub challenge: String,
    code: Option<String>,
    recovery_code: Option<String>,
}

impl CompleteSignInBody {
    pub fn step(self) -> Result<(String, SecondStep), BodyError> {
        Ok((self.challenge, second_step(self.code, self.recovery_code)?))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordOnlyBody {
    pub password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmTotpBody {
    pub code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisableTotpBody {
    pub password: String,
    code: Option<String>,
    recovery_code: Option<String>,
}

impl DisableTotpBody {
    pub fn step(self) -> Result<(String, SecondStep), BodyError> {
        Ok((self.password, second_step(self.code, self.recovery_code)?))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    pub refresh_token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockBody {
    #[serde(deserialize_with = "whole_number")]
    pub advance_seconds: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetRolesBody {
    pub roles: Vec<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// A new role of the account's own.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRoleBody {
    name: String,
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    permissions: Vec<String>,
}

impl From<NewRoleBody> for RoleCommand {
    fn from(b: NewRoleBody) -> Self {
        Self { name: Some(b.name), title: b.title, description: b.description, permissions: b.permissions }
    }
}

/// A role of the account's own as it is to be: its name stays.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    permissions: Vec<String>,
}

impl From<RoleBody> for RoleCommand {
    fn from(b: RoleBody) -> Self {
        Self { name: None, title: b.title, description: b.description, permissions: b.permissions }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeBody {
    pub account_id: String,
    #[serde(default)]
    pub permissions: Vec<String>,
}

impl From<AuthorizeBody> for crate::service::authorize::AuthorizeCommand {
    fn from(body: AuthorizeBody) -> Self {
        Self { account_id: body.account_id, permissions: body.permissions }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyBody {
    pub name: String,
    pub permissions: Vec<String>,
    #[serde(default, deserialize_with = "optional_whole_number")]
    pub expires_in_days: Option<u32>,
    #[serde(default)]
    pub networks: Vec<String>,
}

impl From<CreateKeyBody> for crate::service::api_keys::CreateKeyCommand {
    fn from(body: CreateKeyBody) -> Self {
        Self {
            name: body.name,
            permissions: body.permissions,
            expires_in_days: body.expires_in_days,
            networks: body.networks,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateKeyBody {
    #[serde(deserialize_with = "whole_number")]
    pub grace_hours: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    pub user_id: String,
    pub password: String,
}

/// The operator's seat limit: `max_members` must be given, `null` for no limit.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatLimitBody {
    #[serde(deserialize_with = "optional_whole_number")]
    pub max_members: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    #[serde(default, deserialize_with = "optional_whole_number")]
    invitation_ttl_hours: Option<u32>,
    blocked_email_domains: Option<Vec<String>>,
    locale: Option<String>,
    mfa: Option<String>,
}

impl From<SettingsBody> for SettingsCommand {
    fn from(b: SettingsBody) -> Self {
        Self {
            invitation_ttl_hours: b.invitation_ttl_hours,
            blocked_email_domains: b.blocked_email_domains,
            locale: b.locale,
            mfa: b.mfa,
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

    fn json_headers() -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        headers
    }

    fn errors_of<T: DeserializeOwned>(body: &str) -> Vec<(String, &'static str)> {
        match parse::<T>(&json_headers(), &Bytes::from(body.to_owned())) {
            Err(BodyError::Invalid(Invalid(e))) => {
                e.into_vec().into_iter().map(|f| (f.field, f.code)).collect()
            }
            other => panic!("expected field errors, got {:?}", other.map(|_| ())),
        }
    }

    fn errors(body: &str) -> Vec<(String, &'static str)> {
        errors_of::<SignInBody>(body)
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
        assert!(matches!(
            parse::<SignInBody>(&HeaderMap::new(), &big),
            Err(BodyError::TooLarge(MAX_BODY_BYTES))
        ));
        let body = Bytes::from_static(br#"{"email":"a@b.cd","password":"x"}"#);
        for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""] {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
            assert!(
                matches!(parse::<SignInBody>(&headers, &body), Err(BodyError::NotJson)),
                "{content_type}"
            );
        }
        // No Content-Type at all is not JSON either.
        assert!(matches!(parse::<SignInBody>(&HeaderMap::new(), &body), Err(BodyError::NotJson)));
        for content_type in
            ["application/json", "Application/JSON; charset=utf-8", "application/merge-patch+json"]
        {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
            assert!(parse::<SignInBody>(&headers, &body).is_ok(), "{content_type}");
        }
    }

    #[test]
    fn a_key_given_twice_at_any_depth_refuses_the_body() {
        assert_eq!(
            errors(r#"{"email":"a@b.cd","password":"x","email":"c@d.ef"}"#),
            [("body".into(), "duplicate_key")]
        );
        // Even when both values agree, and before an unknown field is named.
        assert_eq!(
            errors(r#"{"password":"x","password":"x","admin":1,"admin":1}"#),
            [("body".into(), "duplicate_key")]
        );
        // An escaped spelling is the same key.
        assert_eq!(
            errors(r#"{"email":"a@b.cd","password":"x","\u0065mail":"c@d.ef"}"#),
            [("body".into(), "duplicate_key")]
        );
        assert_eq!(
            errors_of::<SettingsBody>(r#"{"blocked_email_domains":[{"a":1,"a":2}]}"#),
            [("body".into(), "duplicate_key")]
        );
        // Numbers out of range and nesting too deep stay malformed JSON.
        assert_eq!(errors(r#"{"email":1e400,"password":"x"}"#), [("body".into(), "malformed_json")]);
        let deep = format!("{{\"email\":{}{},\"password\":\"x\"}}", "[".repeat(200), "]".repeat(200));
        assert_eq!(errors(&deep), [("body".into(), "malformed_json")]);
        // The same key in two different objects is no duplicate.
        assert_eq!(
            errors_of::<SettingsBody>(r#"{"blocked_email_domains":[{"a":1},{"a":2}]}"#),
            [("blocked_email_domains[0]".into(), "invalid_value")]
        );
    }

    #[test]
    fn integers_are_json_schema_integers() {
        let hours = |body: &str| {
            parse::<SettingsBody>(&json_headers(), &Bytes::from(body.to_owned()))
                .map(|b| b.invitation_ttl_hours)
        };
        assert_eq!(hours(r#"{"invitation_ttl_hours":13}"#).ok(), Some(Some(13)));
        assert_eq!(hours(r#"{"invitation_ttl_hours":13.0}"#).ok(), Some(Some(13)));
        assert_eq!(hours(r#"{"invitation_ttl_hours":1.3e1}"#).ok(), Some(Some(13)));
        assert_eq!(hours(r#"{"invitation_ttl_hours":null}"#).ok(), Some(None));
        assert_eq!(hours(r#"{}"#).ok(), Some(None));
        for bad in ["13.5", "-1", "4294967296", "1e300", "\"13\"", "true"] {
            assert_eq!(
                errors_of::<SettingsBody>(&format!(r#"{{"invitation_ttl_hours":{bad}}}"#)),
                [("invitation_ttl_hours".into(), "invalid_value")],
                "{bad}"
            );
        }
        let seconds = |body: &str| {
            parse::<ClockBody>(&json_headers(), &Bytes::from(body.to_owned())).map(|b| b.advance_seconds)
        };
        assert_eq!(seconds(r#"{"advance_seconds":90000.0}"#).ok(), Some(90000));
        assert_eq!(
            errors_of::<ClockBody>(r#"{"advance_seconds":null}"#),
            [("advance_seconds".into(), "invalid_value")]
        );
        assert_eq!(errors_of::<ClockBody>(r#"{}"#), [("advance_seconds".into(), "required")]);
    }

    #[test]
    fn an_invitation_without_roles_or_permissions_is_missing_its_roles() {
        let invite = |body: &str| errors_of::<InviteBody>(body);
        assert_eq!(invite(r#"{"email":"a@b.cd"}"#), [("roles".into(), "required")]);
        assert_eq!(
            invite(r#"{"email":"a@b.cd","roles":[],"permissions":[]}"#),
            [("roles".into(), "required")]
        );
        assert_eq!(
            invite(r#"{"email":"a@b.cd","roles":[],"admin":true}"#),
            [("admin".into(), "unknown_field")]
        );
        assert_eq!(invite(r#"{"roles":["viewer"]}"#), [("email".into(), "required")]);
        let parsed = |body: &str| parse::<InviteBody>(&json_headers(), &Bytes::from(body.to_owned())).is_ok();
        assert!(parsed(r#"{"email":"a@b.cd","roles":["viewer"]}"#));
        assert!(parsed(r#"{"email":"a@b.cd","permissions":["orders:read"]}"#));
    }
}
