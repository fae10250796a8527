//! Who is calling: a verified access token, re-checked against the stored member on every
//! request, so blocking, role changes and password resets apply to the very next request.

use chrono::{DateTime, Duration, Utc};

use crate::domain::role::GrantRefusal;
use crate::domain::{
    Account, AccountId, Grant, Member, MemberStatus, MfaPolicy, Permission, PermissionSet, Preset,
    RefreshSession, Roles, User, UserId,
};
use crate::failure_codes;
use crate::ports::{RolesCheck, StoreResult};
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
    #[error("the account requires two-step verification and the caller has none")]
    MfaEnrollmentRequired,
    #[error("a sensitive action needs a recent second step")]
    StepUpRequired,
    #[error(transparent)]
    Internal(#[from] InternalError),
}

failure_codes!(CallerError {
    Unauthenticated => Unauthenticated,
    NotFound => NotFound,
    Blocked => UserBlocked,
    Forbidden => Forbidden,
    MfaEnrollmentRequired => MfaEnrollmentRequired,
    StepUpRequired => MfaStepUpRequired,
    Internal(_) => Internal,
});

/// How recent a second step a sensitive action asks for.
pub const STEP_UP_SECONDS: i64 = 300;

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
    /// When a second step last passed for the caller's token (`Principal::second_step_at`).
    pub second_step_at: Option<DateTime<Utc>>,
}

impl Caller<'_> {
    /// Whether the caller may act on `member`: never on the owner (or an owner candidate), never
    /// on someone holding a right the caller lacks.
    pub fn administers(&self, member: &Member) -> Result<(), Untouchable> {
        if member.is_owner {
            return Err(Untouchable::Owner);
        }
        if holds_more(&self.permissions, &self.roles(), member) {
            return Err(Untouchable::HoldsMore);
        }
        Ok(())
    }

    /// What the account grants: its preset's roles and its own.
    pub fn roles(&self) -> Roles<'_> {
        self.account.roles(self.preset)
    }

    /// How a write to `member`, whom the caller was judged to administer under the account's
    /// roles as read, guards them: when `member` holds one of the account's own, its
    /// definition must not have changed meanwhile (it may now give them more than the caller).
    pub fn judged_under(&self, member: &Member) -> Option<RolesCheck> {
        let own = self.roles().names_custom(&member.grant());
        own.then_some(RolesCheck { read_version: self.account.roles_version, raises: false })
    }

    /// Whether the caller may give `grant` under `account`'s roles (as read with the caller, or
    /// read again after a lost race: what the caller holds is judged under them too), and how
    /// its write guards them: a grant naming the account's own roles requires them as read.
    pub fn may_grant(&self, account: &Account, grant: &Grant) -> Result<Option<RolesCheck>, GrantRefusal> {
        let roles = account.roles(self.preset);
        roles.judge(grant, &self.member.effective_permissions(&roles))?;
        Ok(roles
            .names_custom(grant)
            .then_some(RolesCheck { read_version: account.roles_version, raises: true }))
    }

    pub fn require(&self, permission: &Permission) -> Result<(), CallerError> {
        if self.permissions.allows(permission) { Ok(()) } else { Err(CallerError::Forbidden) }
    }

    /// A sensitive action (ownership, deleting a member, roles, settings, someone's two-step
    /// verification, an API key's secret): a caller who has a second step must have passed it
    /// in the last
    /// `STEP_UP_SECONDS`, unless the account's policy is `off`. A stolen access token alone
    /// then cannot do them.
    pub fn require_recent_second_step(&self, now: DateTime<Utc>) -> Result<(), CallerError> {
        let asked = self.account.settings.mfa_policy(self.preset) != MfaPolicy::Off;
        if asked { require_recent_second_step(&self.user, self.second_step_at, now) } else { Ok(()) }
    }
}

/// Whether `member`, under `roles`, holds a right beyond `held`: the one rule of who may act on
/// whom (`Caller::administers`; a role's holders, judged under the roles as read again).
pub(crate) fn holds_more(held: &PermissionSet, roles: &Roles<'_>, member: &Member) -> bool {
    !held.covers(&member.effective_permissions(roles))
}

/// What a route requires of its caller in the account it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// Being an active member.
    Member,
    /// Being an active member holding this permission.
    Holds(Permission),
    /// Being the account's owner.
    Owner,
}

/// A signed-in person claiming to act in an account, with what the route requires of them: not
/// read yet, so that a use case can read it together with what it needs itself
/// (`Teamgate::caller_with`) and pay one round trip for both.
#[derive(Clone, Debug)]
pub struct Claim {
    pub principal: Principal,
    pub account_id: String,
    pub requirement: Requirement,
}

impl Claim {
    /// The claimant's user id, known before anything is read.
    pub fn user_id(&self) -> &UserId {
        &self.principal.user_id
    }

    /// The account claimed, known before anything is read; one that cannot exist is not found.
    pub fn account(&self) -> Result<AccountId, CallerError> {
        AccountId::parse(&self.account_id).ok_or(CallerError::NotFound)
    }
}

/// A person with a second step must have passed it at most `STEP_UP_SECONDS` before `now`
/// (`at`: when their token says it last passed); a person without one is not asked.
pub(crate) fn require_recent_second_step(
    user: &User,
    at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), CallerError> {
    let recent = at.is_some_and(|at| now - at <= Duration::seconds(STEP_UP_SECONDS));
    if user.has_second_factor() && !recent { Err(CallerError::StepUpRequired) } else { Ok(()) }
}

/// Whether the stored `session` is the one `principal`'s token was issued in, still under the
/// token's version (a password change moves the session it was made in to the new version and
/// ends the others).
pub(crate) fn session_admits(session: &RefreshSession, principal: &Principal) -> bool {
    session.user_id == principal.user_id && session.token_version == principal.token_version
}

impl Teamgate {
    /// The principal behind a bearer token, or `Unauthenticated`.
    pub fn authenticate(&self, bearer: Option<&str>) -> Result<Principal, CallerError> {
        bearer.and_then(|token| self.access.verify(token, self.now())).ok_or(CallerError::Unauthenticated)
    }

    /// The claimant as a member holding what the claim requires, read in one round trip.
    pub async fn caller(&self, claim: &Claim) -> Result<Caller<'_>, CallerError> {
        let (caller, _) = self.caller_with(claim, async { Ok(()) }).await?;
        Ok(caller)
    }

    /// The claimant as a member holding what the claim requires, read while `read` runs: one
    /// round trip for both. When the claim is refused, what `read` found is dropped unseen.
    pub async fn caller_with<T>(
        &self,
        claim: &Claim,
        read: impl Future<Output = StoreResult<T>>,
    ) -> Result<(Caller<'_>, StoreResult<T>), CallerError> {
        let (caller, found) = tokio::join!(self.member_caller(&claim.principal, &claim.account_id), read);
        let caller = caller?;
        match &claim.requirement {
            Requirement::Member => {}
            Requirement::Holds(permission) => caller.require(permission)?,
            Requirement::Owner if caller.member.is_owner => {}
            Requirement::Owner => return Err(CallerError::Forbidden),
        }
        Ok((caller, found))
    }

    /// `caller_with`, reading only when there is `what` to read (a path id that parsed, input
    /// that passed validation); `None` otherwise.
    pub async fn caller_with_some<K, T>(
        &self,
        claim: &Claim,
        what: Option<&K>,
        read: impl AsyncFnOnce(&K) -> StoreResult<T>,
    ) -> Result<(Caller<'_>, StoreResult<Option<T>>), CallerError> {
        let read = async {
            match what {
                Some(what) => read(what).await.map(Some),
                None => Ok(None),
            }
        };
        self.caller_with(claim, read).await
    }

    /// The principal as an active member of `account_id`, read in one round trip.
    pub async fn member_caller(
        &self,
        principal: &Principal,
        account_id: &str,
    ) -> Result<Caller<'_>, CallerError> {
        let account_id = AccountId::parse(account_id).ok_or(CallerError::NotFound)?;
        let record = self
            .store()
            .caller(&account_id, &principal.user_id, &principal.session)
            .await
            .map_err(store_failed("caller"))?
            .ok_or(CallerError::NotFound)?;
        let session = record.session.as_ref().filter(|session| session_admits(session, principal));
        let Some(session) = session.filter(|_| record.user.token_version == principal.token_version) else {
            return Err(CallerError::Unauthenticated);
        };
        match record.member.status {
            MemberStatus::Active => {}
            MemberStatus::Blocked => return Err(CallerError::Blocked),
            MemberStatus::NotActivated => return Err(CallerError::NotFound),
        }
        // Ended in this account (a block, or someone with `users:write`): signing in again starts
        // a session that works.
        if !record.member.admits_session(session.created_at) {
            return Err(CallerError::Unauthenticated);
        }
        let preset = self.preset(&record.account.preset);
        if record.account.settings.mfa_policy(preset) == MfaPolicy::Required
            && !record.user.has_second_factor()
        {
            return Err(CallerError::MfaEnrollmentRequired);
        }
        Ok(Caller {
            permissions: record.member.effective_permissions(&record.account.roles(preset)),
            account: record.account,
            user: record.user,
            member: record.member,
            preset,
            second_step_at: principal.second_step_at,
        })
    }
}
