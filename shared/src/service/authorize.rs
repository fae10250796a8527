//! Whether a member may do something in the marketplace's own APIs: `POST /v1/authorize` for
//! backends that call Teamgate, and the rights the Lambda authorizer (`crate::authorizer`) caches.
//! Both read the member live, as every account route does, so a block or a role change applies
//! to the next decision.

use serde::Serialize;

use crate::domain::KeyRefusal;
use crate::domain::{AccountId, FieldError, FieldErrors, Permission, PermissionSet, UserId};
use crate::failure_codes;
use crate::service::Teamgate;
use crate::service::api_keys::{KeyUseError, PresentedKey};
use crate::service::caller::{Caller, CallerError};
use crate::service::support::access::Principal;
use crate::service::support::failure::{InternalError, Invalid, RateLimited};
use std::net::IpAddr;

/// How many permissions one `POST /v1/authorize` may ask about.
pub const MAX_PERMISSIONS_ASKED: usize = 50;

/// What an active member may do in one account: the answer both gates give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRights {
    pub account_id: AccountId,
    pub user_id: UserId,
    pub is_owner: bool,
    pub permissions: PermissionSet,
}

impl Caller<'_> {
    pub fn rights(&self) -> MemberRights {
        MemberRights {
            account_id: self.account.id.clone(),
            user_id: self.user.id.clone(),
            is_owner: self.member.is_owner,
            permissions: self.permissions.clone(),
        }
    }
}

/// `POST /v1/authorize`.
#[derive(Debug, Default)]
pub struct AuthorizeCommand {
    pub account_id: String,
    pub permissions: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct AuthorizationView {
    /// Whether the caller holds every permission asked about (an empty list: any active member,
    /// or any working key).
    pub allowed: bool,
    /// The permissions asked about that the caller lacks, in the order asked.
    pub missing: Vec<String>,
    /// Who asked, when a member's access token did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<RightsView>,
    /// Which key asked, when an API key did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyRightsView>,
}

#[derive(Debug, Serialize)]
pub struct KeyRightsView {
    pub key_id: String,
    pub name: String,
    pub permissions: PermissionSet,
}

#[derive(Debug, Serialize)]
pub struct RightsView {
    pub user_id: String,
    pub is_owner: bool,
    pub effective_permissions: PermissionSet,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    #[error("validation failed")]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Caller(#[from] CallerError),
    /// Not one of our keys, not its secret, or a revoked or expired one.
    #[error("the API key does not work")]
    KeyUnusable,
    #[error("the request comes from outside the key's networks")]
    OutsideNetworks,
    /// An API key of another account than the one asked about: as a stranger's token is.
    #[error("not the key's account")]
    NotFound,
    #[error("the key is used too often")]
    RateLimited(#[source] RateLimited),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

failure_codes!(AuthorizeError {
    Invalid(_) => ValidationFailed,
    KeyUnusable => Unauthenticated,
    OutsideNetworks => NetworkNotAllowed,
    NotFound => NotFound,
    RateLimited(_) => RateLimited,
    Internal(_) => Internal,
} delegating { Caller });

impl Teamgate {
    /// Answers whether the caller, as a member of the account, holds every permission asked
    /// about. Not being an active member of it is the caller's error (404, 403), as on every
    /// account route; lacking a permission is an answer.
    pub async fn authorize(
        &self,
        principal: &Principal,
        command: AuthorizeCommand,
    ) -> Result<AuthorizationView, AuthorizeError> {
        let wanted = parse_permissions(&command.permissions)?;
        let rights = self.rights(principal, &command.account_id).await?;
        let missing = missing(&rights.permissions, &wanted);
        Ok(AuthorizationView {
            allowed: missing.is_empty(),
            missing,
            member: Some(RightsView {
                user_id: rights.user_id.to_string(),
                is_owner: rights.is_owner,
                effective_permissions: rights.permissions,
            }),
            key: None,
        })
    }

    /// The same question asked with an account's API key: it holds its own permissions, in
    /// its own account, from its networks. Those are judged against `caller`, the address this
    /// question comes from, never one the question names: a body could name any.
    pub async fn authorize_key(
        &self,
        presented: &PresentedKey,
        command: AuthorizeCommand,
        caller: Option<IpAddr>,
    ) -> Result<AuthorizationView, AuthorizeError> {
        let wanted = parse_permissions(&command.permissions)?;
        // A key of another account is not looked at, nor counted: as a stranger's token.
        if presented.account_id.as_str() != command.account_id {
            return Err(AuthorizeError::NotFound);
        }
        let rights = self.use_api_key(presented, caller).await.map_err(|e| match e {
            KeyUseError::Refused(KeyRefusal::OutsideNetworks) => AuthorizeError::OutsideNetworks,
            KeyUseError::Unknown | KeyUseError::Refused(_) => AuthorizeError::KeyUnusable,
            KeyUseError::RateLimited(limited) => AuthorizeError::RateLimited(limited),
            KeyUseError::Internal(error) => AuthorizeError::Internal(error),
        })?;
        let missing = missing(&rights.permissions, &wanted);
        Ok(AuthorizationView {
            allowed: missing.is_empty(),
            missing,
            member: None,
            key: Some(KeyRightsView {
                key_id: rights.key_id.to_string(),
                name: rights.name,
                permissions: rights.permissions,
            }),
        })
    }

    /// What the principal may do in the account, read in one consistent round trip; the
    /// caller's error when they are not its active member (or their token was revoked).
    pub async fn rights(&self, principal: &Principal, account_id: &str) -> Result<MemberRights, CallerError> {
        Ok(self.member_caller(principal, account_id).await?.rights())
    }
}

/// The permissions of `wanted` that `held` lacks, as the answer names them.
fn missing(held: &PermissionSet, wanted: &[Permission]) -> Vec<String> {
    held.missing(wanted).iter().map(|p| p.to_string()).collect()
}

/// Each permission as `section:read` or `section:write`, a bad one named by its index.
fn parse_permissions(raw: &[String]) -> Result<Vec<Permission>, Invalid> {
    if raw.len() > MAX_PERMISSIONS_ASKED {
        let message = format!("Ask about at most {MAX_PERMISSIONS_ASKED} permissions at once.");
        return Err(FieldError::new("permissions", "too_many", message).into());
    }
    let mut errors = FieldErrors::default();
    let parsed: Vec<Permission> = raw
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            errors.check(Permission::parse(p).map_err(|e| {
                FieldError::new(&format!("permissions[{i}]"), "unknown_permission", e.to_string())
            }))
        })
        .collect();
    Ok(errors.finish(|| parsed)?)
}
