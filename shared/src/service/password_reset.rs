//! Password reset by emailed link: requesting one (the same answer for everyone) and using it.

use crate::domain::{
    Email, FieldError, LinkNames, Locale, MailKind, MemberStatus, OneTimeToken, PasswordPolicy, ResetLink,
    TokenPurpose, User,
};
use crate::ports::{Conflict, Letter, Login, MailedReset, PendingMail, StoreError};
use crate::service::Teamgate;
use crate::service::invite::format_time;
use crate::service::mailing::reset_mail_key;
use crate::service::password_change::PasswordError;
use crate::service::support::failure::store_failed;
use crate::service::support::failure::{InternalError, Invalid};
use crate::service::support::secrets::{hash_secret, link_token, read_link_token};
use chrono::Duration;

/// The same answer for every reset request.
#[derive(Debug, serde::Serialize)]
pub struct ResetRequested {
    pub message: &'static str,
}

/// What the reset page shows before anything is typed: whose password the link resets, the
/// rules the new one follows, the language to speak, and whether signing in leads anywhere.
/// Only the link's holder learns it, from the link itself: the token is the secret.
#[derive(Debug, serde::Serialize)]
pub struct ResetPreview {
    pub email: String,
    pub locale: Locale,
    pub password_policy: PasswordPolicy,
    /// The accounts the person may use once signed in: none when their every membership is
    /// blocked or still waits for its invitation to be accepted.
    pub active_accounts: usize,
}

/// How long a reset link works.
const RESET_LINK_HOURS: i64 = 1;

impl Teamgate {
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
        // The request is counted while the login is read: one round trip, then the link's write.
        let rules = [
            (format!("reset:{email}:{client}"), limits.reset_per_email_and_client),
            (format!("reset-client:{client}"), limits.reset_per_client),
        ];
        let (counted, login) = tokio::join!(self.throttle(&rules), self.store().login_by_email(&email));
        counted??;
        let login = login.map_err(store_failed("login_by_email"))?;
        if let Some(login) = login.filter(|l| !crate::service::sessions::entirely_blocked(l)) {
            // A failure must not answer differently from an unknown email: logged, not returned.
            if let Err(error) = self.mail_reset_link(login.user, &email).await {
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
    ///
    /// The link is added to `user` as the login read them (the write checks their version); a
    /// user changed meanwhile is read again, consistently, and the link added once more.
    async fn mail_reset_link(&self, user: User, email: &Email) -> Result<(), InternalError> {
        let names = LinkNames { user_id: user.id.clone(), purpose: TokenPurpose::PasswordReset };
        let secret = link_token(self.ports.rng.as_ref(), &names);
        let token = OneTimeToken {
            hash: hash_secret(&secret),
            user_id: user.id.clone(),
            purpose: TokenPurpose::PasswordReset,
            expires_at: self.now() + Duration::hours(RESET_LINK_HOURS),
        };
        let id = user.id.clone();
        // A stale user (written since, or holding links since spent) is read again, consistently.
        let issued = match self.issue_reset_link(user, &token, &secret).await {
            Err(StoreError::Conflict(_)) | Ok(None) => match self.store().user(&id).await? {
                Some(stored) => self.issue_reset_link(stored, &token, &secret).await,
                None => Err(StoreError::Conflict(Conflict::Stale)),
            },
            other => other,
        }?;
        match issued {
            Some(mail) => self.dispatch(&mail).await,
            None => {
                tracing::warn!(email = %email.masked(), "reset mail cap reached: live links held; no mail sent")
            }
        }
        Ok(())
    }

    /// Adds `token` to the live reset links of `stored` (written only if they are still at its
    /// version) with its mail to them, carrying `secret`; `None` while the user holds as many
    /// live links as they may.
    async fn issue_reset_link(
        &self,
        stored: User,
        token: &OneTimeToken,
        secret: &str,
    ) -> Result<Option<PendingMail>, StoreError> {
        let link = ResetLink { hash: token.hash.clone(), expires_at: token.expires_at };
        let Some(user) = stored.with_reset_link(link, self.now()) else {
            return Ok(None);
        };
        let values = [
            ("link", self.link("/reset-password", secret)),
            ("expires_at", format_time(token.expires_at)),
            ("email", user.email.to_string()),
        ];
        let mail = Letter::new(MailKind::PasswordReset, user.locale.unwrap_or_default(), &user.email, values);
        let reset = MailedReset { user_id: user.id.clone(), token_hash: token.hash.clone() };
        let mail = self.outbox_mail(reset_mail_key(), mail, None, Some(reset), token.expires_at);
        self.store().issue_password_reset(&user, token, &mail).await?;
        Ok(Some(mail))
    }

    /// What a live reset link resets, without using it; `InvalidOrExpiredToken` for any other
    /// link, used, expired, ended or unknown alike.
    pub async fn inspect_password_reset(&self, token: &str) -> Result<ResetPreview, PasswordError> {
        let (hash, names) = read_link_token(token).ok_or(PasswordError::InvalidOrExpiredToken)?;
        let login = self.reset_login(&hash, names.as_ref()).await?;
        let active = login.memberships.iter().filter(|m| m.member.status == MemberStatus::Active);
        Ok(ResetPreview {
            email: login.user.email.to_string(),
            locale: login.user.locale.unwrap_or_default(),
            password_policy: self.password_policy(&login),
            active_accounts: active.count(),
        })
    }

    /// Sets a new password from a reset link (once); every session and every other reset link of
    /// the user ends. A write that raced another change of the user starts once more from a
    /// fresh read.
    pub async fn confirm_password_reset(&self, token: &str, new_password: &str) -> Result<(), PasswordError> {
        let (hash, names) = read_link_token(token).ok_or(PasswordError::InvalidOrExpiredToken)?;
        let login = self.reset_login(&hash, names.as_ref()).await?;
        let password = self.new_password(&login, new_password)?;
        let phc = self.passwords.hash(&password).await?;
        match self.set_password(login.user, phc.clone(), None).await {
            Err(PasswordError::ConcurrentChange) => {
                self.set_password(self.reset_login(&hash, names.as_ref()).await?.user, phc, None).await?;
            }
            other => drop(other?),
        }
        Ok(())
    }

    /// The login whose live reset link `hash` is (the link naming `names`), or why there is none.
    async fn reset_login(&self, hash: &str, names: Option<&LinkNames>) -> Result<Login, PasswordError> {
        let (_, login) = self
            .store()
            .password_reset(hash, names)
            .await
            .map_err(store_failed("password_reset"))?
            .filter(|(_, l)| l.user.has_reset_link(hash, self.now()))
            .ok_or(PasswordError::InvalidOrExpiredToken)?;
        Ok(login)
    }
}
