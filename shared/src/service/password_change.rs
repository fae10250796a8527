//! Passwords and the caller's own profile: reset by emailed link, change with the current
//! password, and profile edits. A password change ends every session but the one it was made in
//! (token version); a reset by link ends them all.

use crate::domain::MailKind;
use crate::domain::{Password, PasswordPolicy, Preset, RefreshSession, User};
use crate::failure_codes;
use crate::ports::{Login, PasswordChange, StoreError};
use crate::service::Teamgate;
use crate::service::caller::{CallerError, require_recent_second_step};
use crate::service::invite::format_time;
use crate::service::support::access::Principal;
use crate::service::support::failure::RateLimited;
use crate::service::support::failure::store_failed;
use crate::service::support::failure::{InternalError, Invalid};
use crate::service::support::views::visible_memberships;

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

failure_codes!(PasswordError {
    Invalid(_) => ValidationFailed,
    InvalidOrExpiredToken => InvalidOrExpiredToken,
    InvalidCredentials => InvalidCredentials,
    PhoneTaken => PhoneTaken,
    ConcurrentChange => ConcurrentChange,
    RateLimited(_) => RateLimited,
    Internal(_) => Internal,
}
delegating { Caller });

impl Teamgate {
    /// The preset whose rules govern a person's password and profile: that of their first
    /// account, or the deployment's default.
    pub(crate) fn personal_preset(&self, login: &Login) -> &Preset {
        let account = visible_memberships(&login.memberships).next().or(login.memberships.first());
        self.preset(account.map_or(self.settings.default_preset.as_str(), |m| m.account.preset.as_str()))
    }

    /// A new password must satisfy the policy of every account the person belongs to (a person in
    /// a ua-marketplace and a standard account needs Latin characters only, and 15 of them).
    pub(crate) fn new_password(&self, login: &Login, raw: &str) -> Result<Password, Invalid> {
        Ok(Password::parse("new_password", raw, &self.password_policy(login))?)
    }

    /// The rules a person's new password follows: every one of their accounts' together, or
    /// their personal preset's when they are in none.
    pub(crate) fn password_policy(&self, login: &Login) -> PasswordPolicy {
        let mut policies = login.memberships.iter().map(|m| &self.preset(&m.account.preset).password);
        let first = policies.next().unwrap_or(&self.personal_preset(login).password);
        PasswordPolicy::all_of(first, policies)
    }

    /// Changes the caller's password after checking the current one: the session it was
    /// changed in goes on (its refresh token gets access tokens of the new version; this
    /// function holds no signing key to mint one), every other session ends.
    pub async fn change_own_password(
        &self,
        principal: &Principal,
        current: &str,
        new_password: &str,
    ) -> Result<(), PasswordError> {
        // The attempt is counted while the login and session are read: one round trip, then
        // the write.
        let (login, counted, session) = tokio::join!(
            self.own_login(principal),
            self.throttle_step_up(&principal.user_id),
            self.store().refresh_session(&principal.session)
        );
        let login = login?;
        counted??;
        let session =
            session.map_err(store_failed("refresh_session"))?.ok_or(CallerError::Unauthenticated)?;
        // A new password ends every other session: with a second step on, a stolen token and a
        // guessed password must not be enough to lock the person out.
        require_recent_second_step(&login.user, principal.second_step_at, self.now())?;
        if !self.passwords.verify(current, login.user.password_hash.as_deref()).await {
            return Err(PasswordError::InvalidCredentials);
        }
        let password = self.new_password(&login, new_password)?;
        let phc = self.passwords.hash(&password).await?;
        self.set_password(login.user, phc, Some(session)).await?;
        Ok(())
    }

    /// Writes the password hash `phc` over the user as read: every reset link and every session
    /// but `kept` (carried over to the new token version) ends. Answers the user as written.
    pub(crate) async fn set_password(
        &self,
        user: User,
        phc: String,
        kept: Option<RefreshSession>,
    ) -> Result<User, PasswordError> {
        let spent_links = user.reset_links.iter().map(|l| l.hash.clone()).collect();
        let user = user.with_password(phc);
        let kept_session =
            kept.map(|session| RefreshSession { token_version: user.token_version, ..session });
        let change = PasswordChange { user, spent_links, kept_session };
        self.store().change_password(&change).await.map_err(|e| match e {
            StoreError::Conflict(_) => PasswordError::ConcurrentChange,
            other => store_failed("change_password")(other).into(),
        })?;
        let user = &change.user;
        let changed_at = format_time(self.now());
        let values = [("email", user.email.as_str()), ("changed_at", changed_at.as_str())];
        let mail = self.mail().render(
            MailKind::PasswordChanged,
            user.locale.unwrap_or_default(),
            &user.email,
            &values,
        );
        if let Err(error) = self.ports.mailer.send(&mail).await {
            tracing::error!(%error, "the password-changed notice was not sent");
        }
        Ok(change.user)
    }

    /// The caller's login with their user read consistently: what their own changes are based on.
    pub(crate) async fn own_login(&self, principal: &Principal) -> Result<Login, CallerError> {
        let (login, user) =
            tokio::join!(self.signed_in_login(principal), self.store().user(&principal.user_id));
        let user = user
            .map_err(store_failed("user"))?
            .filter(|u| u.token_version == principal.token_version)
            .ok_or(CallerError::Unauthenticated)?;
        Ok(Login { user, ..login? })
    }
}
