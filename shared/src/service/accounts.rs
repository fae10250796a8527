//! The operator's account creation, and reading an account.

use crate::domain::{
    Account, AccountId, AccountSettings, AuditAction, AuditTarget, Email, FieldError, FieldErrors, Grant,
    Locale, Preset, Profile, plain_text, seat_limit,
};
use crate::failure_codes;
use crate::ports::{Conflict, InviteeUser, Login, StoreError};
use crate::service::Teamgate;
use crate::service::idempotency::Once;
use crate::service::invite::{Draft, Drafted};
use crate::service::support::failure::RateLimited;
use crate::service::support::failure::store_failed;
use crate::service::support::failure::{InternalError, Invalid};
use crate::service::support::views::{AccountView, InvitationView};

const MAX_ACCOUNT_NAME_CHARS: usize = 200;

#[derive(Debug, Default)]
pub struct CreateAccountCommand {
    pub name: String,
    pub owner_email: String,
    pub preset: Option<String>,
    pub locale: Option<String>,
    /// The account's seat limit, if any (`Account::max_members`).
    pub max_members: Option<u32>,
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
    #[error("no such account, or it has no live owner link")]
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

impl Teamgate {
    /// Creates the account and sends its owner the activation link; the owner is a
    /// `not_activated` member until they use it.
    pub async fn create_account(
        &self,
        command: CreateAccountCommand,
        once: Option<&Once>,
    ) -> Result<CreatedAccount, OperatorError> {
        let mut errors = FieldErrors::default();
        let name = plain_text(&command.name, 1..=MAX_ACCOUNT_NAME_CHARS).unwrap_or_default();
        if name.is_empty() {
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
        let preset = self.presets().get(preset_id);
        if preset.is_none() {
            let known = self.presets().ids().collect::<Vec<_>>().join(", ");
            errors.push(FieldError::new("preset", "unknown_preset", format!("Use one of: {known}.")));
        }
        let locale = match command.locale.as_deref() {
            Some(raw) => errors.check(
                Locale::parse(raw)
                    .ok_or_else(|| FieldError::new("locale", "invalid_value", "Use en, uk or pl.")),
            ),
            None => preset.map(|p| p.default_locale),
        };
        let max_members = errors.check(seat_limit(command.max_members));
        let (Some(email), Some(preset), Some(locale), Some(max_members), true) =
            (email, preset, locale, max_members, errors.is_empty())
        else {
            return Err(Invalid(errors).into());
        };

        let account_id = AccountId::generate();
        let login = self.store().login_by_email(&email).await.map_err(store_failed("login_by_email"))?;
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
            max_members,
            seat_version: 0,
            custom_roles: Vec::new(),
            roles_version: 0,
        };
        let created = self.event(
            &account.id,
            None,
            AuditAction::AccountCreated,
            AuditTarget::Account,
            account.id.as_str(),
            serde_json::json!({ "name": account.name, "preset": account.preset, "max_members": max_members }),
        );
        let mut drafted = self.draft_owner_invitation(&account, preset, email, user);
        account.owner_link = Some(drafted.new.invitation.id.clone());
        let answer =
            CreatedAccount { account: AccountView::new(&account, preset), owner_invitation: drafted.view };
        let status = http::StatusCode::CREATED;
        drafted.new.remembered = once.map(|once| once.remember(status, &answer, self.now()));
        self.store().create_account(&account, &created, &drafted.new).await.map_err(|e| match e {
            StoreError::Conflict(Conflict::EmailTaken) => OperatorError::EmailTaken,
            StoreError::Conflict(_) => OperatorError::ConcurrentChange,
            other => store_failed("create_account")(other).into(),
        })?;
        self.dispatch(&drafted.new.mail).await;
        Ok(answer)
    }

    /// Who receives an owner activation link for `account`: an existing login, unless the preset
    /// wants never-used emails or they already belong to the account, else a new user.
    pub(crate) async fn owner_invitee(
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

    pub(crate) fn draft_owner_invitation(
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
            inviter: &preset.name,
            locale: Some(account.locale),
            message: None,
        })
    }
}
