//! Passwords and the caller's own profile: reset by emailed link, change with the current
//! password, and profile edits. Every password change ends every session (token version).

use chrono::Duration;

use crate::domain::{
    Email, FieldError, FieldErrors, Locale, OneTimeToken, Password, Preset, ProfileInput, ResetLink,
    TokenPurpose, User, UserId,
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
    #[error("this link is invalid, used, ended by a password change, or expired")]
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
        // Decided per client: a stranger's requests cannot use up the person's own.
        self.throttle(&[
            (format!("reset:{email}:{client}"), limits.reset_per_email_and_client),
            (format!("reset-client:{client}"), limits.reset_per_client),
        ])
        .await??;
        let login = self.store().login_by_email(&email).await.map_err(InternalError::from)?;
        if let Some(login) = login.filter(|l| !crate::service::sessions::entirely_blocked(l)) {
            // A failure must not answer differently from an unknown email: logged, not returned.
            if let Err(error) = self.mail_reset_link(&login.user.id, &email).await {
                tracing::error!(%error, email = %email.masked(), "a reset link was not sent");
            }
        }
        tokio::time::sleep_until(started + self.settings.reset_answer_floor).await;
        Ok(ResetRequested {
            message: "If an account uses this email, we sent it a link to choose a new password.",
        })
    }

    /// Mails a new reset link, unless the person already holds `LIVE_RESET_LINKS` live ones:
    /// then nothing is sent, silently (the answer must not tell), and their links stay live.
    async fn mail_reset_link(&self, user: &UserId, email: &Email) -> Result<(), InternalError> {
        let secret = new_secret(self.ports.rng.as_ref());
        let token = OneTimeToken {
            hash: hash_secret(&secret),
            user_id: user.clone(),
            purpose: TokenPurpose::PasswordReset,
            expires_at: self.now() + Duration::hours(RESET_LINK_HOURS),
        };
        let issued = match self.issue_reset_link(user, &token).await {
            Err(StoreError::Conflict(_)) => self.issue_reset_link(user, &token).await,
            other => other,
        }?;
        let Some(user) = issued else {
            tracing::warn!(email = %email.masked(), "reset mail cap reached: live links held; no mail sent");
            return Ok(());
        };
        let link = self.link("/reset-password", &secret);
        let expires_at = format_time(token.expires_at);
        let values =
            [("link", link.as_str()), ("expires_at", expires_at.as_str()), ("email", user.email.as_str())];
        let mail =
            self.mail.render(MailKind::PasswordReset, user.locale.unwrap_or_default(), &user.email, &values);
        self.ports.mailer.send(&mail).await.map_err(|e| InternalError::new("sending a reset link", e))
    }

    /// Adds `token` to the user's live reset links, on the user as read now; `None` while the
    /// user holds as many live links as they may.
    async fn issue_reset_link(
        &self,
        user: &UserId,
        token: &OneTimeToken,
    ) -> Result<Option<User>, StoreError> {
        let stored = self.store().user(user).await?.ok_or(StoreError::Conflict(Conflict::Stale))?;
        let link = ResetLink { hash: token.hash.clone(), expires_at: token.expires_at };
        let Some(user) = stored.with_reset_link(link, self.now()) else {
            return Ok(None);
        };
        self.store().issue_password_reset(&user, token).await?;
        Ok(Some(user))
    }

    /// Sets a new password from a reset link (once); every session and every other reset link of
    /// the user ends. A write that raced another change of the user starts once more from a
    /// fresh read.
    pub async fn confirm_password_reset(&self, token: &str, new_password: &str) -> Result<(), PasswordError> {
        if !is_well_formed(token) {
            return Err(PasswordError::InvalidOrExpiredToken);
        }
        let hash = hash_secret(token);
        let login = self.reset_login(&hash).await?;
        let password = self.new_password(&login, new_password)?;
        let phc = self.passwords.hash(&password).await?;
        match self.set_password(login.user, phc.clone()).await {
            Err(PasswordError::ConcurrentChange) => {
                self.set_password(self.reset_login(&hash).await?.user, phc).await
            }
            other => other,
        }
    }

    /// The login whose live reset link `hash` is, or why there is none.
    async fn reset_login(&self, hash: &str) -> Result<Login, PasswordError> {
        let (_, login) = self
            .store()
            .password_reset(hash)
            .await
            .map_err(InternalError::from)?
            .filter(|(_, l)| l.user.has_reset_link(hash, self.now()))
            .ok_or(PasswordError::InvalidOrExpiredToken)?;
        Ok(login)
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
        let phc = self.passwords.hash(&password).await?;
        self.set_password(login.user, phc).await
    }

    /// Writes the password hash `phc` over the user as read: every session and reset link ends.
    async fn set_password(&self, user: User, phc: String) -> Result<(), PasswordError> {
        let spent_links = user.reset_links.iter().map(|l| l.hash.clone()).collect();
        let change = PasswordChange { user: user.with_password(phc), spent_links };
        self.store().change_password(&change).await.map_err(|e| match e {
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

    /// The caller's login with their user read consistently: what their own changes are based on.
    async fn own_login(&self, principal: &Principal) -> Result<Login, PasswordError> {
        let (login, user) =
            tokio::join!(self.signed_in_login(principal), self.store().user(&principal.user_id));
        let user = user
            .map_err(InternalError::from)?
            .filter(|u| u.token_version == principal.token_version)
            .ok_or(CallerError::Unauthenticated)?;
        Ok(Login { user, ..login? })
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
        let profile = errors.check_all(preset.profile.parse(&command.profile, false));
        let locale = match command.locale.as_deref() {
            Some(raw) => errors.check(
                Locale::parse(raw)
                    .map(Some)
                    .ok_or_else(|| FieldError::new("locale", "invalid_value", "Use en, uk or pl.")),
            ),
            None => Some(login.user.locale),
        };
        let (Some(mut profile), Some(locale), true) = (profile, locale, errors.is_empty()) else {
            return Err(Invalid(errors).into());
        };
        let unique_phone = login.memberships.iter().any(|m| self.preset(&m.account.preset).phone_unique);
        profile.phone = profile.phone.filter(|p| login.user.phone.as_ref() != Some(p));
        let (claim_phone, release_phone) = match (&profile.phone, unique_phone) {
            (Some(phone), true) => (Some(phone.clone()), login.user.phone.clone()),
            _ => (None, None),
        };
        let user = login.user.clone().with_profile(profile, Some(locale));
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
