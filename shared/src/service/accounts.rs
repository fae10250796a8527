//! The operator's account creation, and reading an account.

use crate::domain::{
    Account, AccountId, AccountSettings, AuditAction, AuditTarget, Email, FieldError, FieldErrors, Grant,
    Invitation, InvitationId, InvitationStatus, Locale, Member, MemberStatus, Preset, Profile,
};
use crate::failure_codes;
use crate::ports::{Conflict, InviteeUser, Login, OwnerLinkChange, StoreError};
use crate::service::Teamgate;
use crate::service::caller::Caller;
use crate::service::failure::{InternalError, Invalid};
use crate::service::invite::{Draft, Drafted};
use crate::service::limits::RateLimited;
use crate::service::views::{AccountView, InvitationView};

const MAX_ACCOUNT_NAME_CHARS: usize = 200;

#[derive(Debug, Default)]
pub struct CreateAccountCommand {
    pub name: String,
    pub owner_email: String,
    pub preset: Option<String>,
    pub locale: Option<String>,
}

#[derive(Debug, serde::Serialize)]
pub struct CreatedAccount {
    pub account: AccountView,
    pub owner_invitation: InvitationView,
}

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("validation failed")]
    Invalid(#[from] Invalid),
    #[error("the email is already in use")]
    EmailTaken,
    #[error("no such account, or no owner link to cancel")]
    NotFound,
    #[error("the account's owner or owner link changed meanwhile")]
    ConcurrentChange,
    #[error("rate limited")]
    RateLimited(#[from] RateLimited),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

failure_codes!(OperatorError {
    Invalid(_) => ValidationFailed,
    EmailTaken => EmailTaken,
    NotFound => NotFound,
    ConcurrentChange => ConcurrentChange,
    RateLimited(_) => RateLimited,
    Internal(_) => Internal,
});

/// A store error as the operator's routes answer it: a lost race is a 409, never a 500.
impl From<StoreError> for OperatorError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(_) => Self::ConcurrentChange,
            other => InternalError::from(other).into(),
        }
    }
}

/// An owner-link change's conflict, as the operator's routes answer it.
fn link_change_failed(error: StoreError) -> OperatorError {
    match error {
        StoreError::Conflict(Conflict::EmailTaken | Conflict::AlreadyMember | Conflict::PhoneTaken) => {
            OperatorError::EmailTaken
        }
        StoreError::Conflict(_) => OperatorError::ConcurrentChange,
        other => InternalError::from(other).into(),
    }
}

impl Teamgate {
    /// Creates the account and sends its owner the activation link; the owner is a
    /// `not_activated` member until they use it.
    pub async fn create_account(
        &self,
        command: CreateAccountCommand,
    ) -> Result<CreatedAccount, OperatorError> {
        let mut errors = FieldErrors::default();
        let name = command.name.trim();
        if name.is_empty()
            || name.chars().count() > MAX_ACCOUNT_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            errors.push(FieldError::new(
                "name",
                "invalid_value",
                "Give the account a name of 1 to 200 characters.",
            ));
        }
        let email = errors.check(Email::parse(&command.owner_email).map_err(|e| {
            let mut error = FieldError::from(e);
            error.field = "owner_email".into();
            error
        }));
        let preset_id = command.preset.as_deref().unwrap_or(&self.settings.default_preset);
        let preset = self.presets.get(preset_id);
        if preset.is_none() {
            let known = self.presets.ids().collect::<Vec<_>>().join(", ");
            errors.push(FieldError::new("preset", "unknown_preset", format!("Use one of: {known}.")));
        }
        let locale = match command.locale.as_deref() {
            Some(raw) => errors.check(
                Locale::parse(raw)
                    .ok_or_else(|| FieldError::new("locale", "invalid_value", "Use en, uk or pl.")),
            ),
            None => preset.map(|p| p.default_locale),
        };
        let (Some(email), Some(preset), Some(locale), true) = (email, preset, locale, errors.is_empty())
        else {
            return Err(Invalid(errors).into());
        };

        let account_id = AccountId::generate();
        let login = self.store().login_by_email(&email).await.map_err(InternalError::from)?;
        let user = self.owner_invitee(login, &email, &account_id, locale, preset).await?;
        let owner_id = user.id().clone();
        let mut account = Account {
            id: account_id,
            name: name.to_owned(),
            preset: preset.id.clone(),
            locale,
            owner_id,
            settings: AccountSettings::default(),
            created_at: self.now(),
            owner_link: None,
            version: 0,
            owner_version: 0,
        };
        let created = self.event(
            &account.id,
            None,
            AuditAction::AccountCreated,
            AuditTarget::Account,
            account.id.as_str(),
            serde_json::json!({ "name": account.name, "preset": account.preset }),
        );
        let drafted = self.draft_owner_invitation(&account, preset, email, user);
        account.owner_link = Some(drafted.new.invitation.id.clone());
        self.store().create_account(&account, &created, &drafted.new).await.map_err(|e| match e {
            StoreError::Conflict(Conflict::EmailTaken) => OperatorError::EmailTaken,
            StoreError::Conflict(_) => OperatorError::ConcurrentChange,
            other => InternalError::from(other).into(),
        })?;
        let invitation = &drafted.new.invitation;
        let sent =
            self.mail_invitation(&account, preset, invitation, &drafted.secret, Some(locale), &preset.name);
        if let Err(error) = sent.await {
            self.store().discard_account(&account, &created, &drafted.new).await?;
            return Err(error.into());
        }
        Ok(CreatedAccount {
            account: AccountView::from(&account),
            owner_invitation: InvitationView::new(&drafted.new.invitation, self.now()),
        })
    }

    /// The support path to restore an owner's access (after the marketplace verified the
    /// person): a fresh owner link goes to `new_email` and every other owner link dies with its
    /// pending candidate, in one write. Whoever accepts it becomes the owner, and the former owner
    /// keeps the preset's former-owner grant.
    pub async fn recover_owner(&self, account_id: &str, new_email: &str) -> Result<(), OperatorError> {
        let account = self.operated_account(account_id).await?;
        let email = Email::parse(new_email).map_err(|e| {
            let mut error = FieldError::from(e);
            error.field = "new_email".into();
            Invalid::from(error)
        })?;
        let limit = self.settings.limits.owner_recovery_per_account;
        self.throttle(&[(format!("owner-recovery:{}", account.id), limit)]).await??;
        let preset = self.preset(&account.preset);
        let live = self.live_owner_link(&account).await?;
        let candidate = self.owner_candidate(&account, live.as_ref()).await?;
        let login = self.store().login_by_email(&email).await.map_err(InternalError::from)?;
        let (user, supersedes) = match login {
            // The owner never activated: a fresh link replaces theirs, live or ended.
            Some(login) if login.user.id == account.owner_id => {
                let member =
                    self.store().member(&account.id, &login.user.id).await.map_err(InternalError::from)?;
                match member {
                    Some(member) if member.status == MemberStatus::NotActivated => (
                        InviteeUser::Existing(self.invitee(&login.user.id, true).await?),
                        member.invitation_id,
                    ),
                    _ => return Err(OperatorError::EmailTaken),
                }
            }
            // The same candidate again: their new link replaces their old one.
            Some(login) if candidate.as_ref().is_some_and(|c| c.user_id == login.user.id) => {
                let supersedes = candidate.as_ref().and_then(|c| c.invitation_id.clone());
                (InviteeUser::Existing(self.invitee(&login.user.id, true).await?), supersedes)
            }
            other => (self.owner_invitee(other, &email, &account.id, account.locale, preset).await?, None),
        };
        // The pending member is marked owner from the start, so nobody but the owner can touch it.
        let mut drafted = self.draft_owner_invitation(&account, preset, email, user);
        drafted.new.supersedes = supersedes;
        drafted.new.event.action = AuditAction::OwnerRecoveryStarted;
        let candidate = candidate.filter(|c| c.user_id != drafted.new.member.user_id);
        let mut change =
            self.owner_link_cancellation(&account, live, candidate, Some(&drafted.new.invitation.id)).await?;
        change.new_link = Some(drafted.new.clone());
        self.store().change_owner_link(&change).await.map_err(link_change_failed)?;
        let invitation = &drafted.new.invitation;
        let sent = self.mail_invitation(
            &account,
            preset,
            invitation,
            &drafted.secret,
            Some(account.locale),
            &preset.name,
        );
        if let Err(error) = sent.await {
            // Nobody got the link: cancel it as the operator would (never touching the owner).
            let candidate = Some(drafted.new.member.clone()).filter(|m| m.user_id != account.owner_id);
            let cancel = self
                .owner_link_cancellation(&change.account, Some(invitation.clone()), candidate, None)
                .await?;
            self.store().change_owner_link(&cancel).await.map_err(link_change_failed)?;
            return Err(error.into());
        }
        Ok(())
    }

    /// `GET /v1/operator/accounts/{id}/owner-recovery`: the account's live owner link (a
    /// recovery, or the activation of an owner who never activated).
    pub async fn owner_recovery(&self, account_id: &str) -> Result<InvitationView, OperatorError> {
        let account = self.operated_account(account_id).await?;
        let now = self.now();
        let live = self.live_owner_link(&account).await?;
        let link =
            live.filter(|i| i.status_at(now) == InvitationStatus::Sent).ok_or(OperatorError::NotFound)?;
        Ok(InvitationView::new(&link, now))
    }

    /// `DELETE /v1/operator/accounts/{id}/owner-recovery`: the live owner link dies with its
    /// candidate (never the owner); no owner link is left.
    pub async fn cancel_owner_recovery(&self, account_id: &str) -> Result<(), OperatorError> {
        let account = self.operated_account(account_id).await?;
        let live = self.live_owner_link(&account).await?.ok_or(OperatorError::NotFound)?;
        let candidate = self.owner_candidate(&account, Some(&live)).await?;
        let change = self.owner_link_cancellation(&account, Some(live), candidate, None).await?;
        self.store().change_owner_link(&change).await.map_err(link_change_failed)
    }

    async fn operated_account(&self, account_id: &str) -> Result<Account, OperatorError> {
        let account_id = AccountId::parse(account_id).ok_or(OperatorError::NotFound)?;
        self.store().account(&account_id).await.map_err(InternalError::from)?.ok_or(OperatorError::NotFound)
    }

    /// The account's owner link, while it is stored as `sent` (past its expiry included: the
    /// cleanup may not have recorded that yet).
    async fn live_owner_link(&self, account: &Account) -> Result<Option<Invitation>, InternalError> {
        let Some(id) = &account.owner_link else {
            return Ok(None);
        };
        let link = self.store().invitation(&account.id, id).await?;
        Ok(link.filter(|i| i.status == InvitationStatus::Sent))
    }

    /// The person an owner link waits on, unless that is the owner (who never activated).
    async fn owner_candidate(
        &self,
        account: &Account,
        link: Option<&Invitation>,
    ) -> Result<Option<Member>, InternalError> {
        let Some(link) = link.filter(|l| l.user_id != account.owner_id) else {
            return Ok(None);
        };
        let member = self.store().member(&account.id, &link.user_id).await?;
        Ok(member.filter(|m| m.waits_on(&link.id)))
    }

    /// The change that ends `live` (revoked by the operator) and removes `candidate`, leaving
    /// `next` as the account's owner link.
    async fn owner_link_cancellation(
        &self,
        account: &Account,
        live: Option<Invitation>,
        candidate: Option<Member>,
        next: Option<&InvitationId>,
    ) -> Result<OwnerLinkChange, InternalError> {
        let cancelled = live.map(|link| link.revoked(None, self.now()));
        let revoked_event = cancelled.as_ref().map(|link| {
            self.event(
                &account.id,
                None,
                AuditAction::InvitationRevoked,
                AuditTarget::Invitation,
                link.id.as_str(),
                serde_json::json!({ "email": link.email.masked(), "owner_link": true }),
            )
        });
        let (dropped_candidate, events) = match (candidate, revoked_event) {
            (Some(member), Some(event)) => (Some(self.removal(member, None, event).await?), Vec::new()),
            (_, event) => (None, event.into_iter().collect()),
        };
        Ok(OwnerLinkChange {
            account: account.clone().with_owner_link(next.cloned()),
            cancelled,
            dropped_candidate,
            new_link: None,
            events,
        })
    }

    /// Who receives an owner activation link for `account`: an existing login, unless the preset
    /// wants never-used emails or they already belong to the account, else a new user.
    async fn owner_invitee(
        &self,
        login: Option<Login>,
        email: &Email,
        account: &AccountId,
        locale: Locale,
        preset: &Preset,
    ) -> Result<InviteeUser, OperatorError> {
        match login {
            Some(login)
                if (preset.email_unique_across_accounts
                    && (login.user.password_hash.is_some() || !login.memberships.is_empty()))
                    || login.memberships.iter().any(|m| &m.account.id == account) =>
            {
                Err(OperatorError::EmailTaken)
            }
            Some(login) => Ok(InviteeUser::Existing(self.invitee(&login.user.id, false).await?)),
            None => Ok(InviteeUser::New(self.new_user(email, &Profile::default(), Some(locale)))),
        }
    }

    fn draft_owner_invitation(
        &self,
        account: &Account,
        preset: &Preset,
        email: Email,
        user: InviteeUser,
    ) -> Drafted {
        self.draft_invitation(Draft {
            account,
            preset,
            email,
            grant: Grant::default(),
            user,
            profile: Profile::default(),
            invited_by: None,
            for_owner: true,
            supersedes: None,
        })
    }

    /// `GET /v1/accounts/{id}`: any active member may read their account.
    pub fn account_view(&self, caller: &Caller<'_>) -> AccountView {
        AccountView::from(&caller.account)
    }
}
