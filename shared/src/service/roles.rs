//! An account's own roles (`domain/role.rs`): made, changed and deleted by someone with
//! `users:write` who holds every permission involved, after a recent second step. Holders
//! follow a change at once, as everyone's permissions are read with the account. A role still
//! held is deleted only with a replacement, to which its holders are moved first; a grant of it
//! written meanwhile raises the account's `roles_version`, so the deletion counts again and never
//! leaves anyone holding a role that is gone.

use serde_json::json;

use crate::domain::role::{GrantRefusal, replaced, role_name};
use crate::domain::{
    Account, AuditAction, AuditTarget, FieldError, FieldErrors, Member, PermissionSet, RoleContent, RoleName,
    RoleRefusal, Roles,
};
use crate::failure_codes;
use crate::ports::{Conflict, MemberQuery, MemberUpdate, PageRequest, RolesCheck, StoreError};
use crate::service::Teamgate;
use crate::service::caller::{Caller, CallerError, holds_more};
use crate::service::directory::RoleView;
use crate::service::support::failure::{InternalError, Invalid, store_failed};

/// How many times a deletion counts the holders again after someone granted the role meanwhile.
const RECOUNTS: usize = 3;
/// Holders read per page while a deletion counts them.
const HOLDERS_PAGE: usize = 100;

#[derive(Debug, Default)]
pub struct RoleCommand {
    /// A new role's name; a change keeps the name it is addressed by.
    pub name: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub permissions: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("validation failed")]
    Invalid(#[from] Invalid),
    #[error("no role of the account's own has this name")]
    NotFound,
    #[error("the marketplace's roles are fixed: this account can only grant them")]
    Fixed,
    #[error("the account has as many roles of its own as it may")]
    TooMany,
    #[error("the account has a role of this name already, its own or the marketplace's")]
    NameTaken,
    #[error("the role gives, or its holders hold, more than the caller holds")]
    Escalation,
    /// How many members hold it.
    #[error("{0} member(s) hold this role: name a replacement to move them to")]
    InUse(usize),
    #[error("the account's roles changed while this was written")]
    ConcurrentChange,
    #[error(transparent)]
    Caller(#[from] CallerError),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

failure_codes!(RoleError {
    Invalid(_) => ValidationFailed,
    NotFound => NotFound,
    Fixed => Forbidden,
    TooMany => RoleLimitReached,
    NameTaken => RoleNameTaken,
    Escalation => RoleEscalation,
    InUse(_) => RoleInUse,
    ConcurrentChange => ConcurrentChange,
    Internal(_) => Internal,
} delegating { Caller });

impl From<RoleRefusal> for RoleError {
    fn from(refusal: RoleRefusal) -> Self {
        match refusal {
            RoleRefusal::NotOffered => Self::Fixed,
            RoleRefusal::NameTaken => Self::NameTaken,
            RoleRefusal::TooMany => Self::TooMany,
            RoleRefusal::Unknown => Self::NotFound,
        }
    }
}

/// The replacement a holder is moved to could not be granted them.
fn replacement_refused(refusal: GrantRefusal) -> RoleError {
    match refusal {
        GrantRefusal::Gone(_) => invalid("replacement", "unknown_role", "Name a role of this account."),
        GrantRefusal::Escalation => RoleError::Escalation,
    }
}

fn invalid(field: &str, code: &'static str, message: &str) -> RoleError {
    RoleError::Invalid(FieldError::new(field, code, message).into())
}

fn saved(error: StoreError) -> RoleError {
    match error {
        StoreError::Conflict(_) => RoleError::ConcurrentChange,
        other => store_failed("save_roles")(other).into(),
    }
}

impl Teamgate {
    /// `POST …/roles`: a new role of the account's own, of permissions the caller holds.
    pub async fn create_role(
        &self,
        caller: &Caller<'_>,
        command: RoleCommand,
    ) -> Result<RoleView, RoleError> {
        let mut errors = FieldErrors::default();
        let name = errors.check(role_name(command.name.as_deref().unwrap_or_default()));
        let content = errors.check_all(parse_content(caller, &command));
        let (Some(name), Some(content)) = (name, content) else { return Err(Invalid(errors).into()) };
        if !caller.permissions.covers(&content.permissions) {
            return Err(RoleError::Escalation);
        }
        let details = json!({ "title": content.title, "permissions": content.permissions });
        let account =
            caller.account.clone().with_new_role(caller.preset, name.clone(), content, self.now())?;
        caller.require_recent_second_step(self.now())?;
        self.save_roles(caller, &account, AuditAction::RoleCreated, &name, details).await?;
        role_view(caller, &account, &name)
    }

    /// `PUT …/roles/{name}`: the account's role `name` with a new title, description and
    /// permissions; the caller holds both what it gave and what it gives.
    pub async fn change_role(
        &self,
        caller: &Caller<'_>,
        name: &str,
        command: RoleCommand,
    ) -> Result<RoleView, RoleError> {
        let name = RoleName::new(name);
        let before = own_role(caller, &name)?;
        let content = parse_content(caller, &command).map_err(Invalid)?;
        caller.require_recent_second_step(self.now())?;
        if !caller.permissions.covers(&before) || !caller.permissions.covers(&content.permissions) {
            return Err(RoleError::Escalation);
        }
        // What a role gives is what its holders may do: changing it acts on each of them.
        administers_all(&caller.permissions, &caller.roles(), &self.holders(&caller.account, &name).await?)?;
        let details = json!({
            "from": { "permissions": before },
            "to": { "title": content.title, "permissions": content.permissions },
        });
        let account = caller.account.clone().with_changed_role(&name, content, self.now())?;
        self.save_roles(caller, &account, AuditAction::RoleChanged, &name, details).await?;
        role_view(caller, &account, &name)
    }

    /// `DELETE …/roles/{name}`: refused while members hold it, unless `replacement` names the
    /// role to move them to (one the caller may grant them).
    pub async fn delete_role(
        &self,
        caller: &Caller<'_>,
        name: &str,
        replacement: Option<&str>,
    ) -> Result<(), RoleError> {
        let name = RoleName::new(name);
        own_role(caller, &name)?;
        let replacement = replacement.map(str::trim).filter(|r| !r.is_empty()).map(RoleName::new);
        if replacement.as_ref() == Some(&name) {
            return Err(invalid("replacement", "invalid_value", "Name another role."));
        }
        if replacement.as_ref().is_some_and(|r| !caller.roles().knows(r)) {
            return Err(invalid("replacement", "unknown_role", "Name a role of this account."));
        }
        caller.require_recent_second_step(self.now())?;
        let (mut account, mut moved) = (caller.account.clone(), 0);
        for _ in 0..=RECOUNTS {
            // Judged again on every count, under the roles as they are now: the role may give
            // more since the caller was read, and so may its holders' other roles.
            let roles = account.roles(caller.preset);
            let held = caller.member.effective_permissions(&roles);
            let role = roles.custom(&name).ok_or(RoleError::NotFound)?;
            if !held.covers(&role.permissions) {
                return Err(RoleError::Escalation);
            }
            let holders = self.holders(&account, &name).await?;
            if holders.is_empty() {
                let details = json!({ "replacement": replacement, "members_moved": moved });
                let without = account.clone().without_role(&name)?;
                match self.save_roles(caller, &without, AuditAction::RoleDeleted, &name, details).await {
                    Err(RoleError::ConcurrentChange) => {}
                    done => return done,
                }
            } else {
                let Some(replacement) = &replacement else {
                    return Err(RoleError::InUse(holders.len()));
                };
                administers_all(&held, &roles, &holders)?;
                moved += self.move_holders(caller, &mut account, holders, &name, replacement).await?;
            }
            account = self.account_as_is(&account).await?;
        }
        Err(RoleError::ConcurrentChange)
    }

    /// Every member holding `role`, whatever their status: read whole, as a deletion needs.
    async fn holders(&self, account: &Account, role: &RoleName) -> Result<Vec<Member>, InternalError> {
        let query = MemberQuery { role: Some(role.clone()), ..MemberQuery::default() };
        let (mut holders, mut after) = (Vec::new(), None);
        loop {
            let page = PageRequest { limit: HOLDERS_PAGE, after };
            let found =
                self.store().members(&account.id, &query, &page).await.map_err(store_failed("members"))?;
            holders.extend(found.items);
            match found.next {
                Some(next) => after = Some(next),
                None => return Ok(holders),
            }
        }
    }

    /// Moves each of `holders` (judged already) from `role` to `replacement`, as a role change
    /// by the caller would, each move requiring the account's roles as judged; a holder changed
    /// meanwhile is left for the next count. How many moved.
    async fn move_holders(
        &self,
        caller: &Caller<'_>,
        account: &mut Account,
        holders: Vec<Member>,
        role: &RoleName,
        replacement: &RoleName,
    ) -> Result<usize, RoleError> {
        // Every move is judged before the first is written: a refusal moves no one. Whether a
        // move grants an account's own role (and so raises the roles' version) is judged then.
        let moves = holders.into_iter().map(|holder| {
            let grant = replaced(&holder.grant(), role, replacement);
            let check = caller.may_grant(account, &grant).map_err(replacement_refused)?;
            Ok((holder, grant, check.is_some()))
        });
        let moves: Vec<_> = moves.collect::<Result<_, RoleError>>()?;
        let mut moved = 0;
        for (holder, grant, raises) in moves {
            // The holder's grant named the role: every move requires the roles as judged.
            let check = RolesCheck { read_version: account.roles_version, raises };
            let details = json!({
                "from": { "roles": holder.roles, "permissions": holder.permissions },
                "to": { "roles": grant.roles, "permissions": grant.permissions },
                "role_deleted": role,
            });
            let changed = holder.regranted(grant);
            let event = self.member_event(caller, &changed, AuditAction::MemberRolesChanged, details);
            match self
                .store()
                .update_member(&MemberUpdate { member: changed, event, roles: Some(check) })
                .await
            {
                Ok(()) => moved += 1,
                Err(StoreError::Conflict(Conflict::Stale)) => return Ok(moved),
                Err(other) => return Err(store_failed("update_member")(other).into()),
            }
            // A write that raised the version its check named: the next holder's names it so.
            account.roles_version += u32::from(raises);
        }
        Ok(moved)
    }

    /// The account as stored now, for a deletion that counts its holders again.
    async fn account_as_is(&self, account: &Account) -> Result<Account, RoleError> {
        let stored = self.store().account(&account.id).await.map_err(store_failed("account"))?;
        stored.ok_or(RoleError::NotFound)
    }

    async fn save_roles(
        &self,
        caller: &Caller<'_>,
        account: &Account,
        action: AuditAction,
        name: &RoleName,
        details: serde_json::Value,
    ) -> Result<(), RoleError> {
        let event =
            self.event(&account.id, Some(&caller.user.id), action, AuditTarget::Role, name.as_str(), details);
        self.store().save_roles(account, &event).await.map_err(saved)
    }
}

/// Refuses a change to a role held by someone holding more, under `roles`, than the caller's
/// `held` (the owner, who holds everything whatever their roles, aside): the rule of
/// `Caller::administers`, under the roles as judged.
fn administers_all(held: &PermissionSet, roles: &Roles<'_>, holders: &[Member]) -> Result<(), RoleError> {
    match holders.iter().any(|holder| !holder.is_owner && holds_more(held, roles, holder)) {
        true => Err(RoleError::Escalation),
        false => Ok(()),
    }
}

/// The permissions of the account's own role `name`; a preset's role cannot be changed here.
fn own_role(caller: &Caller<'_>, name: &RoleName) -> Result<PermissionSet, RoleError> {
    match caller.roles().custom(name) {
        Some(role) => Ok(role.permissions.clone()),
        None if caller.preset.role(name).is_some() => Err(RoleError::Fixed),
        None => Err(RoleError::NotFound),
    }
}

fn parse_content(caller: &Caller<'_>, command: &RoleCommand) -> Result<RoleContent, FieldErrors> {
    let description = command.description.as_deref().unwrap_or_default();
    RoleContent::parse(caller.preset, &command.title, description, &command.permissions)
}

/// The role `name` as written.
fn role_view(caller: &Caller<'_>, account: &Account, name: &RoleName) -> Result<RoleView, RoleError> {
    let role = account.roles(caller.preset).custom(name).ok_or(RoleError::NotFound)?;
    Ok(RoleView::custom(role, caller))
}
