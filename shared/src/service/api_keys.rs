//! An account's API keys, for the seller's own software: created, listed, rotated and revoked by
//! whoever administers the team (only keys within what they hold themselves), and used in place
//! of an access token at the marketplace's APIs: the authorizer (`crate::authorizer`) and
//! `POST /v1/authorize`. Never at Teamgate's own routes: a key is not a JWT.
//!
//! A secret is `tgk_` (what secret scanners look for) and 64 bytes in base64url: the key's id,
//! its account's id, and 32 random bytes. Only its SHA-256 is stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;

use crate::domain::api_key::{DEFAULT_KEY_DAYS, MOST_GRACE_HOURS, MOST_KEY_DAYS};
use crate::domain::{
    AccountId, ApiKey, ApiKeyId, ApiKeyStatus, AuditAction, AuditTarget, FieldError, FieldErrors, KeyRefusal,
    Network, Permission, PermissionSet, plain_text,
};
use crate::failure_codes;
use crate::ports::{API_KEY_USE_RESOLUTION, Conflict, StoreError, StoreResult};
use crate::service::Teamgate;
use crate::service::caller::{Caller, CallerError, Claim};
use crate::service::support::access::bearer_token;
use crate::service::support::failure::{InternalError, Invalid, RateLimited, store_failed};
use crate::service::support::secrets::{hash_secret, uuid_at, uuid_bytes};

/// What every key's secret starts with.
pub const SECRET_PREFIX: &str = "tgk_";
/// Keys an account may have working at once.
pub const MOST_ACTIVE_KEYS: usize = 50;
/// Keys an account may have stored, ended ones included (the table forgets a key
/// `domain::api_key::KEPT_AFTER_END_DAYS` after it ended): the list stays one small answer.
pub const MOST_KEYS: usize = 200;
const MOST_NAME_CHARS: usize = 100;
const MOST_NETWORKS: usize = 20;
/// Characters of a secret's random end shown in lists, after its prefix.
const HINT_CHARS: usize = 4;

#[derive(Debug, Default)]
pub struct CreateKeyCommand {
    pub name: String,
    pub permissions: Vec<String>,
    pub expires_in_days: Option<u32>,
    pub networks: Vec<String>,
}

/// A key as lists show it: never its secret.
#[derive(Debug, Serialize)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    pub hint: String,
    pub permissions: PermissionSet,
    pub networks: Vec<String>,
    pub status: ApiKeyStatus,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation still works.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

impl ApiKeyView {
    pub fn new(key: &ApiKey, now: DateTime<Utc>) -> Self {
        Self {
            id: key.id.to_string(),
            name: key.name.clone(),
            hint: key.hint.clone(),
            permissions: key.permissions.clone(),
            networks: key.networks.iter().cloned().map(String::from).collect(),
            status: key.status_at(now),
            created_by: key.created_by.to_string(),
            created_at: key.created_at,
            expires_at: key.expires_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
            previous_secret_expires_at: key.retired.as_ref().map(|r| r.until).filter(|until| *until > now),
        }
    }
}

/// A key with its secret: the one answer that shows it.
#[derive(Debug, Serialize)]
pub struct IssuedKeyView {
    #[serde(flatten)]
    pub key: ApiKeyView,
    pub secret: String,
}

#[derive(Debug, Serialize)]
pub struct ApiKeyList {
    pub items: Vec<ApiKeyView>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("validation failed")]
    Invalid(#[from] Invalid),
    #[error("the key would hold a permission its creator lacks")]
    Escalation,
    #[error("the key holds a permission the caller lacks")]
    HoldsMore,
    #[error("no such key in the account")]
    NotFound,
    #[error("the key is revoked or expired")]
    NotActive,
    #[error("the account has as many keys as it may")]
    TooMany,
    #[error("the key changed meanwhile")]
    ConcurrentChange,
    #[error(transparent)]
    Caller(#[from] CallerError),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

failure_codes!(ApiKeyError {
    Invalid(_) => ValidationFailed,
    Escalation => RoleEscalation,
    HoldsMore => Forbidden,
    NotFound => NotFound,
    NotActive => ApiKeyNotActive,
    TooMany => ApiKeyLimitReached,
    ConcurrentChange => ConcurrentChange,
    Internal(_) => Internal,
} delegating { Caller });

/// What a request presents to be let in: a member's access token, or an API key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential<'a> {
    Token(&'a str),
    Key(&'a str),
}

/// Two credentials at once, or one header given twice with two values: which one speaks is
/// anyone's guess, so none does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ambiguous;

impl<'a> Credential<'a> {
    /// The credential of a request with this `X-Api-Key` value and this `Authorization` value:
    /// the key header, a bearer token shaped like a key, or an access token. A key header beside
    /// any bearer token presents none.
    pub fn of(api_key: Option<&'a str>, authorization: Option<&'a str>) -> Result<Option<Self>, Ambiguous> {
        let key = api_key.map(str::trim).filter(|k| !k.is_empty());
        let bearer = authorization.and_then(bearer_token);
        Ok(match (key, bearer) {
            (Some(_), Some(_)) => return Err(Ambiguous),
            (Some(key), None) => Some(Self::Key(key)),
            (None, Some(bearer)) if bearer.starts_with(SECRET_PREFIX) => Some(Self::Key(bearer)),
            (None, Some(token)) => Some(Self::Token(token)),
            (None, None) => None,
        })
    }
}

/// A presented secret, read: the key it names and the hash to compare with the stored one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresentedKey {
    pub account_id: AccountId,
    pub key_id: ApiKeyId,
    pub hash: String,
}

impl PresentedKey {
    /// Whether `raw` is shaped like one of our keys (else it is not looked up).
    pub fn read(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.strip_prefix(SECRET_PREFIX)?).ok()?;
        if bytes.len() != 64 {
            return None;
        }
        Some(Self {
            key_id: ApiKeyId::parse(&uuid_at(&bytes, 0)?)?,
            account_id: AccountId::parse(&uuid_at(&bytes, 16)?)?,
            hash: hash_secret(raw),
        })
    }
}

/// What a key may do, when it let a request in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRights {
    pub account_id: AccountId,
    pub key_id: ApiKeyId,
    pub name: String,
    pub permissions: PermissionSet,
}

/// Why a presented key was not let in.
#[derive(Debug, thiserror::Error)]
pub enum KeyUseError {
    /// Not one of our keys, or not its secret.
    #[error("no such key")]
    Unknown,
    #[error(transparent)]
    Refused(KeyRefusal),
    #[error(transparent)]
    RateLimited(RateLimited),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

impl Teamgate {
    /// Creates a key of the caller's account with some of the caller's permissions.
    /// The account's keys are read with the caller (one round trip), to hold it to its most
    /// active keys.
    pub async fn create_api_key(
        &self,
        claim: &Claim,
        command: CreateKeyCommand,
    ) -> Result<IssuedKeyView, ApiKeyError> {
        let now = self.now();
        let (caller, existing) = self.caller_with(claim, self.kept_keys(&claim.account()?, now)).await?;
        let caller = &caller;
        let (name, permissions, lifetime, networks) = self.key_terms(caller, command)?;
        if !caller.permissions.covers(&permissions) {
            return Err(ApiKeyError::Escalation);
        }
        // A key outlives every session: a stolen access token alone must not mint one.
        caller.require_recent_second_step(now)?;
        let existing = existing.map_err(store_failed("api_keys"))?;
        let active = existing.iter().filter(|k| k.status_at(now) == ApiKeyStatus::Active).count();
        if active >= MOST_ACTIVE_KEYS || existing.len() >= MOST_KEYS {
            return Err(ApiKeyError::TooMany);
        }
        let id = ApiKeyId::generate();
        let secret = self.new_key_secret(&caller.account.id, &id);
        let key = ApiKey {
            id,
            account_id: caller.account.id.clone(),
            name,
            permissions,
            networks,
            hint: hint(&secret),
            secret_hash: hash_secret(&secret),
            retired: None,
            created_by: caller.user.id.clone(),
            created_at: now,
            expires_at: now + lifetime,
            revoked_at: None,
            last_used_at: None,
            version: 1,
        };
        let details = json!({
            "name": key.name,
            "permissions": key.permissions,
            "networks": key.networks,
            "expires_at": key.expires_at,
        });
        self.save_key(caller, &key, AuditAction::ApiKeyCreated, details).await?;
        Ok(IssuedKeyView { key: ApiKeyView::new(&key, now), secret })
    }

    /// The account's keys, read with the caller: one round trip.
    pub async fn api_keys(&self, claim: &Claim) -> Result<ApiKeyList, ApiKeyError> {
        let now = self.now();
        let (_, keys) = self.caller_with(claim, self.kept_keys(&claim.account()?, now)).await?;
        let keys = keys.map_err(store_failed("api_keys"))?;
        Ok(ApiKeyList { items: keys.iter().map(|k| ApiKeyView::new(k, now)).collect() })
    }

    /// A new secret for the key; the old one works for `grace_hours` more.
    pub async fn rotate_api_key(
        &self,
        claim: &Claim,
        key_id: &str,
        grace_hours: u32,
    ) -> Result<IssuedKeyView, ApiKeyError> {
        let now = self.now();
        let (caller, key) = self.managed_key(claim, key_id).await?;
        let caller = &caller;
        if grace_hours > MOST_GRACE_HOURS {
            let message = format!("The old secret may keep working for at most {MOST_GRACE_HOURS} hours.");
            return Err(Invalid::from(FieldError::new("grace_hours", "out_of_range", message)).into());
        }
        caller.require_recent_second_step(now)?;
        let secret = self.new_key_secret(&key.account_id, &key.id);
        let grace = Duration::hours(grace_hours.into());
        let rotated = key
            .rotated(hash_secret(&secret), hint(&secret), grace, now)
            .map_err(|_| ApiKeyError::NotActive)?;
        let details = json!({ "name": rotated.name, "grace_hours": grace_hours });
        self.save_key(caller, &rotated, AuditAction::ApiKeyRotated, details).await?;
        Ok(IssuedKeyView { key: ApiKeyView::new(&rotated, now), secret })
    }

    /// Revokes the key: no secret of it works from the next request on. Revoking a revoked key
    /// answers it as it is.
    pub async fn revoke_api_key(&self, claim: &Claim, key_id: &str) -> Result<ApiKeyView, ApiKeyError> {
        let now = self.now();
        let (caller, key) = self.managed_key(claim, key_id).await?;
        let Some(revoked) = key.clone().revoked(now) else { return Ok(ApiKeyView::new(&key, now)) };
        let details = json!({ "name": revoked.name });
        self.save_key(&caller, &revoked, AuditAction::ApiKeyRevoked, details).await?;
        Ok(ApiKeyView::new(&revoked, now))
    }

    /// Lets a request in with the key a presented secret names, read consistently (keys are
    /// never remembered: a revocation or rotation counts from the next use): its secret, state
    /// and networks judged now, the use counted against the key's limit and, once a minute,
    /// noted on the key.
    pub async fn use_api_key(
        &self,
        presented: &PresentedKey,
        client: Option<std::net::IpAddr>,
    ) -> Result<KeyRights, KeyUseError> {
        let key = self
            .store()
            .api_key(&presented.account_id, &presented.key_id)
            .await
            .map_err(store_failed("api_key"))?
            .ok_or(KeyUseError::Unknown)?;
        let now = self.now();
        match key.admits(&presented.hash, client, now) {
            Ok(()) => {}
            Err(KeyRefusal::WrongSecret) => return Err(KeyUseError::Unknown),
            Err(refusal) => return Err(KeyUseError::Refused(refusal)),
        }
        // The use is counted and (once a minute) noted at once: one round trip after the read.
        let limit = self.settings.limits.api_key_uses;
        let note = async {
            match key.last_used_at.is_none_or(|last| last <= now - API_KEY_USE_RESOLUTION) {
                true => self.store().note_api_key_use(&key.account_id, &key.id, now).await,
                false => Ok(()),
            }
        };
        let rule = [(format!("api-key:{}", key.id), limit)];
        let (counted, noted) = tokio::join!(self.throttle(&rule), note);
        counted?.map_err(KeyUseError::RateLimited)?;
        noted.map_err(store_failed("note_api_key_use"))?;
        Ok(KeyRights {
            account_id: key.account_id,
            key_id: key.id,
            name: key.name,
            permissions: key.permissions,
        })
    }

    /// The account's keys, but those ended long enough ago to be forgotten (the table's TTL
    /// removes them, days late; the memory store never does).
    async fn kept_keys(&self, account: &AccountId, now: DateTime<Utc>) -> StoreResult<Vec<ApiKey>> {
        let keys = self.store().api_keys(account).await?;
        Ok(keys.into_iter().filter(|k| k.forgotten_at() > now).collect())
    }

    /// A key of the claimed account that the caller may manage (the owner every key, anyone
    /// else those holding nothing they lack), read with the caller: one round trip.
    async fn managed_key(&self, claim: &Claim, key_id: &str) -> Result<(Caller<'_>, ApiKey), ApiKeyError> {
        let account = claim.account()?;
        let id = ApiKeyId::parse(key_id);
        let (caller, key) = self
            .caller_with_some(claim, id.as_ref(), async |id| self.store().api_key(&account, id).await)
            .await?;
        let key = key.map_err(store_failed("api_key"))?.flatten().ok_or(ApiKeyError::NotFound)?;
        if !caller.member.is_owner && !caller.permissions.covers(&key.permissions) {
            return Err(ApiKeyError::HoldsMore);
        }
        Ok((caller, key))
    }

    async fn save_key(
        &self,
        caller: &Caller<'_>,
        key: &ApiKey,
        action: AuditAction,
        details: serde_json::Value,
    ) -> Result<(), ApiKeyError> {
        let event = self.event(
            &key.account_id,
            Some(&caller.user.id),
            action,
            AuditTarget::ApiKey,
            key.id.as_str(),
            details,
        );
        self.store().save_api_key(key, &event).await.map_err(|e| match e {
            StoreError::Conflict(Conflict::Stale) => ApiKeyError::ConcurrentChange,
            other => store_failed("save_api_key")(other).into(),
        })
    }

    fn new_key_secret(&self, account: &AccountId, id: &ApiKeyId) -> String {
        let mut bytes = [0u8; 64];
        bytes[..16].copy_from_slice(&uuid_bytes(id.as_str()));
        bytes[16..32].copy_from_slice(&uuid_bytes(account.as_str()));
        self.ports.rng.fill(&mut bytes[32..]);
        format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The new key's terms, every bad field named.
    fn key_terms(
        &self,
        caller: &Caller<'_>,
        command: CreateKeyCommand,
    ) -> Result<(String, PermissionSet, Duration, Vec<Network>), Invalid> {
        let mut errors = FieldErrors::default();
        let name = plain_text(&command.name, 1..=MOST_NAME_CHARS).unwrap_or_default().to_owned();
        if name.is_empty() {
            let message = format!("Name the key in 1 to {MOST_NAME_CHARS} characters.");
            errors.push(FieldError::new("name", "invalid_value", message));
        }
        let catalog = caller.preset.catalog();
        let mut permissions = PermissionSet::default();
        for (i, raw) in command.permissions.iter().enumerate() {
            match Permission::parse(raw) {
                Ok(p) if catalog.allows(&p) => permissions.insert(p),
                _ => errors.push(FieldError::new(
                    &format!("permissions[{i}]"),
                    "unknown_permission",
                    format!("`{raw}` is not a permission of this account's marketplace."),
                )),
            }
        }
        if command.permissions.is_empty() {
            errors.push(FieldError::new("permissions", "required", "Give the key at least one permission."));
        }
        let days = command.expires_in_days.unwrap_or(DEFAULT_KEY_DAYS);
        if !(1..=MOST_KEY_DAYS).contains(&days) {
            let message = format!("A key lives 1 to {MOST_KEY_DAYS} days.");
            errors.push(FieldError::new("expires_in_days", "out_of_range", message));
        }
        if command.networks.len() > MOST_NETWORKS {
            let message = format!("List at most {MOST_NETWORKS} networks.");
            errors.push(FieldError::new("networks", "too_many", message));
        }
        let networks: Vec<Network> =
            command
                .networks
                .iter()
                .enumerate()
                .filter_map(|(i, raw)| {
                    errors.check(Network::parse(raw).map_err(|e| {
                        FieldError::new(&format!("networks[{i}]"), "invalid_value", e.to_string())
                    }))
                })
                .collect();
        errors.finish(|| (name, permissions, Duration::days(days.into()), networks)).map_err(Invalid)
    }
}

/// What lists show of a secret, to tell it from the key's earlier ones: its prefix and its
/// last characters (random, unlike its start, which is the key's and account's ids).
fn hint(secret: &str) -> String {
    format!("{SECRET_PREFIX}…{}", &secret[secret.len() - HINT_CHARS..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_presented_secret_names_its_key_and_account_and_nothing_else_is_read() {
        let (key, account) = (ApiKeyId::generate(), AccountId::generate());
        let mut bytes = [7u8; 64];
        bytes[..16].copy_from_slice(uuid::Uuid::parse_str(key.as_str()).unwrap().as_bytes());
        bytes[16..32].copy_from_slice(uuid::Uuid::parse_str(account.as_str()).unwrap().as_bytes());
        let secret = format!("tgk_{}", URL_SAFE_NO_PAD.encode(bytes));
        let presented = PresentedKey::read(&secret).unwrap();
        assert_eq!((presented.key_id, presented.account_id), (key, account));
        assert_eq!(presented.hash, hash_secret(&secret));
        for bad in
            ["", "tgk_", "tgk_abc", &secret[1..], &secret.replace("tgk_", "tgx_"), &format!("{secret}AA")]
        {
            assert_eq!(PresentedKey::read(bad), None, "{bad}");
        }
    }
}
