//! Passwords and the caller's own profile: reset by emailed link, change with the current
//! password, and profile edits. Every password change ends every session (token version).

use chrono::Duration;

use crate::domain::{
    Email, FieldError, FieldErrors, Locale, OneTimeToken, Password, Preset, ProfileInput, TokenPurpose, User,
};
use crate::ports::{Conflict, Login, PasswordChange, ProfileUpdate, StoreError};
use crate::service::Teamgate;
use crate::service::access::Principal;
use crate::service::caller::CallerError;
use crate::service::failure::{Code, Failure, InternalError, Invalid, fields_of, retry_after_of};
use crate::service::invite::format_time;
use crate::service::limits::RateLimited;
use crate::service::mail::MailKind;
use crate::service::secrets::{hash_secret, is_well_formed, new_secret};
use crate::service::views::{MeView, visible_memberships};

/// How long a reset link works.
const RESET_LINK_HOURS: i64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("validation failed")]
    Invalid(#[from] Invalid),
    #[error("this link is invalid, used, replaced by a newer one, or expired")]
    InvalidOrExpiredToken,
    #[error("the current password is not correct")]
    InvalidCredentials,
    #[error(transparent)]
    Caller(#[from] CallerError),
    #[error("the phone number already belongs to someone")]
    PhoneTaken,
    #[error("the password changed at the same time; sign in again and retry")]
    ConcurrentChange,
    #[error("rate limited")]
    RateLimited(#[from] RateLimited),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

impl Failure for PasswordError {
    fn code(&self) -> Code {
        match self {
            Self::Invalid(_) => Code::ValidationFailed,
            Self::InvalidOrExpiredToken => Code::InvalidOrExpiredToken,
            Self::InvalidCredentials => Code::InvalidCredentials,
            Self::Caller(e) => e.code(),
            Self::PhoneTaken => Code::PhoneTaken,
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

/// The same answer for every reset request.
#[derive(Debug, serde::Serialize)]
pub struct ResetRequested {
    pub message: &'static str,
}

#[derive(Debug, Default)]
pub struct ProfileCommand {
    pub profile: ProfileInput,
    pub locale: Option<String>,
}

impl Teamgate {
    /// The preset whose rules govern a person's password and profile: that of their first
    /// account, or the deployment's default.
    fn personal_preset(&self, login: &Login) -> &Preset {
        let account = visible_memberships(&login.memberships).next().or(login.memberships.first());
        self.preset(account.map_or(self.settings.default_preset.as_str(), |m| m.account.preset.as_str()))
    }

    /// A new password must satisfy the policy of every account the person belongs to (a person in
    /// a ua-marketplace and a standard account needs Latin characters only, and 15 of them).
    fn new_password(&self, login: &Login, raw: &str) -> Result<Password, Invalid> {
        let mut policies = login.memberships.iter().map(|m| &self.preset(&m.account.preset).password);
        let first = policies.next().unwrap_or(&self.personal_preset(login).password);
        let password = Password::parse("new_password", raw, first)?;
        for policy in policies {
            Password::parse("new_password", raw, policy)?;
        }
        Ok(password)
    }

    /// Mails a reset link when the email belongs to a user who is not blocked everywhere. The
    /// answer, and roughly its time, are the same either way.
    pub async fn request_password_reset(
        &self,
        email: &str,
        client: &str,
    ) -> Result<ResetRequested, PasswordError> {
        let started = tokio::time::Instant::now();
        let email = Email::parse(email).map_err(|e| Invalid::from(FieldError::from(e)))?;
        let limits = &self.settings.limits;
        self.throttle(&[
            (format!("reset:{email}"), limits.reset_per_email),
            (format!("reset-client:{client}"), limits.reset_per_client),
        ])
        .await??;
        let login = self.store().login_by_email(&email).await.map_err(InternalError::from)?;
        if let Some(login) = login.filter(|l| !crate::service::sessions::entirely_blocked(l)) {
            // A failure must not answer differently from an unknown email: logged, not returned.
            if let Err(error) = self.send_reset_link(&login.user).await {
                tracing::error!(%error, email = %email.masked(), "a reset link was not sent");
            }
        }
        tokio::time::sleep_until(started + self.settings.reset_answer_floor).await;
        Ok(ResetRequested {
            message: "If an account uses this email, we sent it a link to choose a new password.",
        })
    }

    async fn send_reset_link(&self, user: &User) -> Result<(), InternalError> {
        let secret = new_secret(self.ports.rng.as_ref());
        let token = OneTimeToken {
            hash: hash_secret(&secret),
            user_id: user.id.clone(),
            purpose: TokenPurpose::PasswordReset,
            expires_at: self.now() + Duration::hours(RESET_LINK_HOURS),
        };
        self.store().issue_password_reset(&token).await?;
        let link = self.link("/reset-password", &secret);
        let expires_at = format_time(token.expires_at);
        let values =
            [("link", link.as_str()), ("expires_at", expires_at.as_str()), ("email", user.email.as_str())];
        let mail =
            self.mail.render(MailKind::PasswordReset, user.locale.unwrap_or_default(), &user.email, &values);
        self.ports.mailer.send(&mail).await.map_err(|e| InternalError::new("sending a reset link", e))
    }

    /// Sets a new password from a reset link (once); every session of the user ends.
    pub async fn confirm_password_reset(&self, token: &str, new_password: &str) -> Result<(), PasswordError> {
        if !is_well_formed(token) {
            return Err(PasswordError::InvalidOrExpiredToken);
        }
        let hash = hash_secret(token);
        let (token, login) = self
            .store()
            .password_reset(&hash)
            .await
            .map_err(InternalError::from)?
            .filter(|(t, l)| {
                t.expires_at > self.now() && l.user.reset_token_hash.as_deref() == Some(hash.as_str())
            })
            .ok_or(PasswordError::InvalidOrExpiredToken)?;
        let password = self.new_password(&login, new_password)?;
        self.set_password(login.user, &password, Some(token.hash)).await
    }

    /// Changes the caller's password after checking the current one; every session ends.
    pub async fn change_own_password(
        &self,
        principal: &Principal,
        current: &str,
        new_password: &str,
    ) -> Result<(), PasswordError> {
        let login = self.own_login(principal).await?;
        self.throttle_step_up(&login.user.id).await??;
        if !self.passwords.verify(current, login.user.password_hash.as_deref()).await {
            return Err(PasswordError::InvalidCredentials);
        }
        let password = self.new_password(&login, new_password)?;
        self.set_password(login.user, &password, None).await
    }

    async fn set_password(
        &self,
        user: User,
        password: &Password,
        reset: Option<String>,
    ) -> Result<(), PasswordError> {
        let changed = User {
            password_hash: Some(self.passwords.hash(password).await?),
            token_version: user.token_version + 1,
            reset_token_hash: None,
            ..user
        };
        let by_link = reset.is_some();
        let change = PasswordChange { user: changed, reset_token_hash: reset };
        self.store().change_password(&change).await.map_err(|e| match e {
            StoreError::Conflict(_) if by_link => PasswordError::InvalidOrExpiredToken,
            StoreError::Conflict(_) => PasswordError::ConcurrentChange,
            other => InternalError::from(other).into(),
        })?;
        let user = &change.user;
        let changed_at = format_time(self.now());
        let values = [("email", user.email.as_str()), ("changed_at", changed_at.as_str())];
        let mail = self.mail.render(
            MailKind::PasswordChanged,
            user.locale.unwrap_or_default(),
            &user.email,
            &values,
        );
        if let Err(error) = self.ports.mailer.send(&mail).await {
            tracing::error!(%error, "the password-changed notice was not sent");
        }
        Ok(())
    }

    async fn own_login(&self, principal: &Principal) -> Result<Login, PasswordError> {
        Ok(self.signed_in_login(principal).await?)
    }

    /// Edits the caller's name, phone and language, under their account's rules.
    pub async fn update_me(
        &self,
        principal: &Principal,
        command: ProfileCommand,
    ) -> Result<MeView, PasswordError> {
        let login = self.own_login(principal).await?;
        let preset = self.personal_preset(&login);
        let mut errors = FieldErrors::default();
        let profile = errors.check_all(preset.parse_profile(&command.profile, false));
        let locale = match command.locale.as_deref() {
            Some(raw) => errors.check(
                Locale::parse(raw)
                    .map(Some)
                    .ok_or_else(|| FieldError::new("locale", "invalid_value", "Use en, uk or pl.")),
            ),
            None => Some(login.user.locale),
        };
        let (Some(profile), Some(locale), true) = (profile, locale, errors.is_empty()) else {
            return Err(Invalid(errors).into());
        };
        let mut user = login.user.clone();
        user.first_name = profile.first_name.map(|n| n.to_string()).or(user.first_name);
        user.last_name = profile.last_name.map(|n| n.to_string()).or(user.last_name);
        user.locale = locale;
        let unique_phone = login.memberships.iter().any(|m| self.preset(&m.account.preset).phone_unique);
        let new_phone = profile.phone.filter(|p| user.phone.as_ref() != Some(p));
        let (claim_phone, release_phone) = match (&new_phone, unique_phone) {
            (Some(phone), true) => (Some(phone.clone()), user.phone.clone()),
            _ => (None, None),
        };
        user.phone = new_phone.or(user.phone);
        let update = ProfileUpdate {
            user,
            accounts: login.memberships.iter().map(|m| m.account.id.clone()).collect(),
            claim_phone,
            release_phone,
        };
        self.store().update_profile(&update).await.map_err(|e| match e {
            StoreError::Conflict(Conflict::PhoneTaken) => PasswordError::PhoneTaken,
            StoreError::Conflict(_) => PasswordError::ConcurrentChange,
            other => InternalError::from(other).into(),
        })?;
        let memberships: Vec<_> = login
            .memberships
            .into_iter()
            .map(|mut m| {
                m.member = m.member.with_profile(&update.user);
                m
            })
            .collect();
        Ok(MeView::new(&update.user, self.membership_views(&memberships)))
    }
}
