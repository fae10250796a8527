//! Who is calling: a verified access token, re-checked against the stored member on every
//! request, so blocking, role changes and password resets apply to the very next request.

use crate::domain::{Account, AccountId, Member, MemberStatus, Permission, PermissionSet, Preset, User};
use crate::failure_codes;
use crate::service::Teamgate;
use crate::service::support::access::Principal;
use crate::service::support::failure::InternalError;
use crate::service::support::failure::store_failed;

#[derive(Debug, thiserror::Error)]
pub enum CallerError {
    #[error("no valid access token")]
    Unauthenticated,
    /// Not a member of the account, or the account does not exist: indistinguishable on purpose.
    #[error("not a member of the account")]
    NotFound,
    #[error("the member is blocked")]
    Blocked,
    #[error("missing permission")]
    Forbidden,
    #[error(transparent)]
    Internal(#[from] InternalError),
}

failure_codes!(CallerError {
    Unauthenticated => Unauthenticated,
    NotFound => NotFound,
    Blocked => UserBlocked,
    Forbidden => Forbidden,
    Internal(_) => Internal,
});

/// Why a caller may not act on a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Untouchable {
    /// The account's owner (or an owner candidate): only owner recovery and transfer touch them.
    Owner,
    /// Someone holding a right the caller lacks.
    HoldsMore,
}

/// An active member of an account, with what they may do there.
pub struct Caller<'a> {
    pub account: Account,
    pub user: User,
    pub member: Member,
    pub preset: &'a Preset,
    pub permissions: PermissionSet,
}

impl Caller<'_> {
    /// Whether the caller may act on `member`: never on the owner (or an owner candidate), never
    /// on someone holding a right the caller lacks.
    pub fn administers(&self, member: &Member) -> Result<(), Untouchable> {
        if member.is_owner {
            return Err(Untouchable::Owner);
        }
        if !self.permissions.covers(&member.effective_permissions(self.preset)) {
            return Err(Untouchable::HoldsMore);
        }
        Ok(())
    }

    pub fn require(&self, permission: &Permission) -> Result<(), CallerError> {
        if self.permissions.allows(permission) { Ok(()) } else { Err(CallerError::Forbidden) }
    }
}

impl Teamgate {
    /// The principal behind a bearer token, or `Unauthenticated`.
    pub fn authenticate(&self, bearer: Option<&str>) -> Result<Principal, CallerError> {
        bearer.and_then(|token| self.access.verify(token, self.now())).ok_or(CallerError::Unauthenticated)
    }

    /// The principal as an active member of `account_id`, read in one round trip.
    pub async fn caller(&self, principal: &Principal, account_id: &str) -> Result<Caller<'_>, CallerError> {
        let account_id = AccountId::parse(account_id).ok_or(CallerError::NotFound)?;
        let record = self
            .store()
            .caller(&account_id, &principal.user_id)
            .await
            .map_err(store_failed("caller"))?
            .ok_or(CallerError::NotFound)?;
        if record.user.token_version != principal.token_version {
            return Err(CallerError::Unauthenticated);
        }
        match record.member.status {
            MemberStatus::Active => {}
            MemberStatus::Blocked => return Err(CallerError::Blocked),
            MemberStatus::NotActivated => return Err(CallerError::NotFound),
        }
        let preset = self.preset(&record.account.preset);
        Ok(Caller {
            permissions: record.member.effective_permissions(preset),
            account: record.account,
            user: record.user,
            member: record.member,
            preset,
        })
    }
}
