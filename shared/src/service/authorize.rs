//! Whether a member may do something in the marketplace's own APIs: `POST /v1/authorize` for
//! backends that call Teamgate, and the rights the Lambda authorizer (`crate::authorizer`) caches.
//! Both read the member live, as every account route does, so a block or a role change applies
//! to the next decision.

use serde::Serialize;

use crate::domain::{AccountId, FieldError, FieldErrors, Permission, PermissionSet, UserId};
use crate::failure_codes;
use crate::service::Teamgate;
use crate::service::caller::{Caller, CallerError};
use crate::service::support::access::Principal;
use crate::service::support::failure::Invalid;

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
    /// Whether the member holds every permission asked about (an empty list: any active member).
    pub allowed: bool,
    /// The permissions asked about that the member lacks, in the order asked.
    pub missing: Vec<String>,
    pub member: RightsView,
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
}

failure_codes!(AuthorizeError { Invalid(_) => ValidationFailed } delegating { Caller });

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
        let missing: Vec<String> =
            rights.permissions.missing(&wanted).iter().map(|p| p.to_string()).collect();
        Ok(AuthorizationView {
            allowed: missing.is_empty(),
            missing,
            member: RightsView {
                user_id: rights.user_id.to_string(),
                is_owner: rights.is_owner,
                effective_permissions: rights.permissions,
            },
        })
    }

    /// What the principal may do in the account, read in one consistent round trip; the
    /// caller's error when they are not its active member (or their token was revoked).
    pub async fn rights(&self, principal: &Principal, account_id: &str) -> Result<MemberRights, CallerError> {
        Ok(self.caller(principal, account_id).await?.rights())
    }
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
