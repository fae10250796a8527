//! Administering members: roles and direct permissions, blocking, removal, ownership transfer,
//! and the account's settings. Every change is one conditional write with an audit event.

use serde_json::json;

use crate::domain::{
    AuditAction, AuditEvent, AuditTarget, FieldError, FieldErrors, Invitation, InvitationStatus, Locale,
    Member, MemberStatus, RoleName, UserId,
};
use crate::ports::{Conflict, MemberRemoval, MemberUpdate, OwnershipTransfer, StoreError, UserAfterRemoval};
use crate::service::Teamgate;
use crate::service::caller::{Caller, CallerError};
use crate::service::failure::{Code, Failure, InternalError, Invalid, fields_of, retry_after_of};
use crate::service::invite::display_name;
use crate::service::limits::RateLimited;
use crate::service::mail::MailKind;
use crate::service::views::{AccountView, MemberView, effective_permissions};

const MAX_BLOCKED_DOMAINS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    #[error("validation failed")]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Caller(#[from] CallerError),
    #[error("no such member in this account")]
    NotFound,
    #[error("the change grants or touches more than the caller holds")]
    RoleEscalation,
    #[error("only the owner can change the owner, and the owner cannot be blocked, demoted or deleted")]
    OwnerProtected,
    #[error("you cannot do this to yourself")]
    SelfActionForbidden,
    #[error("the new owner must be an active member")]
    MemberNotActive,
    #[error("the password is not correct")]
    InvalidCredentials,
    #[error("the member changed while this request was being handled; read it again and retry")]
    ConcurrentChange,
    #[error("rate limited")]
    RateLimited(#[from] RateLimited),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

impl Failure for MemberError {
    fn code(&self) -> Code {
        match self {
            Self::Invalid(_) => Code::ValidationFailed,
            Self::Caller(e) => e.code(),
            Self::NotFound => Code::NotFound,
            Self::RoleEscalation => Code::RoleEscalation,
            Self::OwnerProtected => Code::OwnerProtected,
            Self::SelfActionForbidden => Code::SelfActionForbidden,
            Self::MemberNotActive => Code::MemberNotActive,
            Self::InvalidCredentials => Code::InvalidCredentials,
            Self::ConcurrentChange => Code::ConcurrentChange,
            Self::RateLimited(_) => Code::RateLimited,
            Self::Internal(_) => Code::Internal,
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        fields_of(self)
    }

    fn retry_after(&self) -> Option<u64> {
        retry_after_of(self)
    }
}

/// A store error of a conditional write, as the member use cases answer it.
fn write_failed(error: StoreError) -> MemberError {
    match error {
        StoreError::Conflict(_) => MemberError::ConcurrentChange,
        other => InternalError::from(other).into(),
    }
}

#[derive(Debug, Default)]
pub struct SettingsCommand {
    pub invitation_ttl_hours: Option<u32>,
    pub blocked_email_domains: Option<Vec<String>>,
    pub locale: Option<String>,
}

impl Teamgate {
    /// Another member of the caller's account whom the caller may administer: not themselves,
    /// not the owner, and nobody holding rights the caller lacks.
    async fn administered(&self, caller: &Caller<'_>, user_id: &str) -> Result<Member, MemberError> {
        if !caller.can_manage_users() {
            return Err(CallerError::Forbidden.into());
        }
        let user_id = UserId::parse(user_id).ok_or(MemberError::NotFound)?;
        if user_id == caller.user.id {
            return Err(MemberError::SelfActionForbidden);
        }
        let member = self
            .store()
            .member(&caller.account.id, &user_id)
            .await
            .map_err(InternalError::from)?
            .ok_or(MemberError::NotFound)?;
        if member.is_owner {
            return Err(MemberError::OwnerProtected);
        }
        if !caller.permissions.covers(&effective_permissions(&member, caller.preset)) {
            return Err(MemberError::RoleEscalation);
        }
        Ok(member)
    }

    fn member_event(
        &self,
        caller: &Caller<'_>,
        member: &Member,
        action: AuditAction,
        details: serde_json::Value,
    ) -> crate::domain::AuditEvent {
        self.event(
            &caller.account.id,
            Some(&caller.user.id),
            action,
            AuditTarget::Member,
            member.user_id.as_str(),
            details,
        )
    }

    /// Replaces a member's roles and direct permissions; applies from their very next request.
    pub async fn set_roles(
        &self,
        caller: &Caller<'_>,
        user_id: &str,
        roles: &[String],
        permissions: &[String],
    ) -> Result<MemberView, MemberError> {
        let member = self.administered(caller, user_id).await?;
        let grant = caller.preset.parse_grant(roles, permissions).map_err(Invalid)?;
        if !caller.permissions.covers(&caller.preset.effective(&grant)) {
            return Err(MemberError::RoleEscalation);
        }
        let details = json!({
            "from": { "roles": member.roles, "permissions": member.permissions },
            "to": { "roles": grant.roles, "permissions": grant.permissions },
        });
        let changed = member.regranted(grant);
        let event = self.member_event(caller, &changed, AuditAction::MemberRolesChanged, details);
        self.store()
            .update_member(&MemberUpdate { member: changed.clone(), event })
            .await
            .map_err(write_failed)?;
        Ok(MemberView::new(&changed, caller.preset))
    }

    /// Blocks (or unblocks) a member; a blocked member's tokens stop working on the next request.
    pub async fn set_blocked(
        &self,
        caller: &Caller<'_>,
        user_id: &str,
        blocked: bool,
    ) -> Result<MemberView, MemberError> {
        let member = self.administered(caller, user_id).await?;
        if blocked == (member.status == MemberStatus::Blocked) {
            return Ok(MemberView::new(&member, caller.preset));
        }
        let (action, changed) = match blocked {
            true => (AuditAction::MemberBlocked, member.blocked()),
            false => (AuditAction::MemberUnblocked, member.unblocked()),
        };
        let event = self.member_event(caller, &changed, action, json!({}));
        self.store()
            .update_member(&MemberUpdate { member: changed.clone(), event })
            .await
            .map_err(write_failed)?;
        Ok(MemberView::new(&changed, caller.preset))
    }

    /// Removes a member. Their email and phone become free again when this was their last account.
    pub async fn delete_member(&self, caller: &Caller<'_>, user_id: &str) -> Result<(), MemberError> {
        let member = self.administered(caller, user_id).await?;
        let pending = match &member.invitation_id {
            Some(id) if member.status == MemberStatus::NotActivated => {
                self.store().invitation(&caller.account.id, id).await.map_err(InternalError::from)?
            }
            _ => None,
        };
        let revoked = pending
            .filter(|i| i.status == InvitationStatus::Sent)
            .map(|i| i.revoked(Some(caller.user.id.clone()), self.now()));
        let event = self.member_event(
            caller,
            &member,
            AuditAction::MemberDeleted,
            json!({ "email": member.email.masked() }),
        );
        let removal = self.removal(member, revoked, event).await.map_err(InternalError::from)?;
        self.store().remove_member(&removal).await.map_err(write_failed)
    }

    /// Removing `member` (and ending `invitation`, the one it came from): the user, read
    /// consistently, loses one membership, or goes when this was their last.
    pub(crate) async fn removal(
        &self,
        member: Member,
        invitation: Option<Invitation>,
        event: AuditEvent,
    ) -> Result<MemberRemoval, StoreError> {
        let user = self.store().user(&member.user_id).await?.ok_or(StoreError::Conflict(Conflict::Stale))?;
        let last = match user.has_one_membership() {
            Some(last) => last,
            // A user stored before memberships were counted: ask their memberships.
            None => self
                .store()
                .login_by_id(&user.id)
                .await?
                .is_none_or(|login| login.memberships.iter().all(|m| m.account.id == member.account_id)),
        };
        let user = if last {
            UserAfterRemoval::Released(user)
        } else {
            UserAfterRemoval::Kept(user.left_membership())
        };
        Ok(MemberRemoval { user, member, end_invitation: invitation, event })
    }

    /// Hands ownership to an active member, confirmed with the owner's password. The former owner
    /// keeps the preset's `former_owner_role` (or its direct grants); both are told by email.
    pub async fn transfer_ownership(
        &self,
        caller: &Caller<'_>,
        user_id: &str,
        password: &str,
    ) -> Result<AccountView, MemberError> {
        if !caller.member.is_owner {
            return Err(CallerError::Forbidden.into());
        }
        self.throttle_step_up(&caller.user.id).await??;
        if !self.passwords.verify(password, caller.user.password_hash.as_deref()).await {
            return Err(MemberError::InvalidCredentials);
        }
        let user_id = UserId::parse(user_id).ok_or(MemberError::NotFound)?;
        if user_id == caller.user.id {
            return Err(MemberError::SelfActionForbidden);
        }
        let successor = self
            .store()
            .member(&caller.account.id, &user_id)
            .await
            .map_err(InternalError::from)?
            .ok_or(MemberError::NotFound)?;
        if successor.status != MemberStatus::Active {
            return Err(MemberError::MemberNotActive);
        }
        let former = caller.member.clone().former_owner(caller.preset);
        let successor = successor.made_owner();
        let account = caller.account.clone().handed_to(successor.user_id.clone());
        let event = self.event(
            &account.id,
            Some(&caller.user.id),
            AuditAction::OwnershipTransferred,
            AuditTarget::Account,
            account.id.as_str(),
            json!({ "from": former.user_id, "to": successor.user_id }),
        );
        let transfer = OwnershipTransfer { account, former, successor, event };
        self.store().transfer_ownership(&transfer).await.map_err(write_failed)?;
        self.mail_transfer(caller, &transfer).await;
        Ok(AccountView::from(&transfer.account))
    }

    /// Tells both sides of a transfer. The transfer stands even if a message cannot be sent.
    async fn mail_transfer(&self, caller: &Caller<'_>, transfer: &OwnershipTransfer) {
        let preset = caller.preset;
        let locale = caller.account.locale;
        let role_title = |roles: &[RoleName]| {
            roles
                .iter()
                .filter_map(|r| preset.role(r))
                .map(|r| r.title.get(locale).to_owned())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let successor_name =
            transfer.successor.first_name.clone().unwrap_or_else(|| transfer.successor.email.to_string());
        let former_role = role_title(&transfer.former.roles);
        let common = [("account_name", caller.account.name.as_str()), ("marketplace", preset.name.as_str())];
        let messages = [
            (
                MailKind::OwnershipTransferredNewOwner,
                &transfer.successor.email,
                ("former_owner", display_name(&caller.user)),
            ),
            (
                MailKind::OwnershipTransferredFormerOwner,
                &transfer.former.email,
                ("new_owner", successor_name),
            ),
        ];
        for (kind, to, (name, value)) in messages {
            let mut values = common.to_vec();
            values.push((name, &value));
            values.push(("former_role", &former_role));
            let mail = self.mail.render(kind, locale, to, &values);
            if let Err(error) = self.ports.mailer.send(&mail).await {
                tracing::error!(%error, "the ownership transfer notice was not sent");
            }
        }
    }

    /// Changes the account's invitation lifetime, refused domains and language.
    pub async fn update_settings(
        &self,
        caller: &Caller<'_>,
        command: SettingsCommand,
    ) -> Result<AccountView, MemberError> {
        if !caller.can_manage_users() {
            return Err(CallerError::Forbidden.into());
        }
        let mut errors = FieldErrors::default();
        let mut settings = caller.account.settings.clone();
        let mut locale = caller.account.locale;
        if let Some(hours) = command.invitation_ttl_hours {
            if (1..=caller.preset.invitation_ttl_hours).contains(&hours) {
                settings.invitation_ttl_hours = Some(hours);
            } else {
                errors.push(FieldError::new(
                    "invitation_ttl_hours",
                    "invalid_value",
                    format!(
                        "Use 1 to {} hours: links may live shorter than the marketplace's, not longer.",
                        caller.preset.invitation_ttl_hours
                    ),
                ));
            }
        }
        if let Some(domains) = command.blocked_email_domains {
            match parse_domains(&domains) {
                Some(domains) => settings.blocked_email_domains = domains,
                None => errors.push(FieldError::new(
                    "blocked_email_domains",
                    "invalid_value",
                    format!(
                        "List up to {MAX_BLOCKED_DOMAINS} domains or suffixes such as example.com or .su."
                    ),
                )),
            }
        }
        if let Some(raw) = command.locale {
            match Locale::parse(&raw) {
                Some(parsed) => locale = parsed,
                None => errors.push(FieldError::new("locale", "invalid_value", "Use en, uk or pl.")),
            }
        }
        if !errors.is_empty() {
            return Err(Invalid(errors).into());
        }
        let account = caller.account.clone().with_settings(settings, locale);
        let event = self.event(
            &account.id,
            Some(&caller.user.id),
            AuditAction::SettingsChanged,
            AuditTarget::Account,
            account.id.as_str(),
            json!({ "settings": account.settings, "locale": account.locale }),
        );
        self.store().update_account_settings(&account, &event).await.map_err(write_failed)?;
        Ok(AccountView::from(&account))
    }
}

/// Refused domains as typed: trimmed, lowercase, punycode, a leading dot kept as a suffix marker.
fn parse_domains(raw: &[String]) -> Option<Vec<String>> {
    if raw.len() > MAX_BLOCKED_DOMAINS {
        return None;
    }
    raw.iter()
        .map(|entry| {
            let entry = entry.trim().to_lowercase();
            let (dot, name) = entry.strip_prefix('.').map_or(("", entry.as_str()), |rest| (".", rest));
            let ascii = idna::domain_to_ascii(name).ok().filter(|d| {
                !d.is_empty()
                    && d.split('.')
                        .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            })?;
            Some(format!("{dot}{ascii}"))
        })
        .collect()
}
