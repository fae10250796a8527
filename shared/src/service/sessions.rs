//! Signing in, refreshing (rotating, with reuse detection), signing out, and `/v1/me`.

use chrono::{DateTime, Duration, Utc};

use crate::domain::{Email, MemberStatus, RefreshSession, SessionFamilyId, User};
use crate::failure_codes;
use crate::ports::{Login, Membership, StoreError};
use crate::service::Teamgate;
use crate::service::caller::CallerError;
use crate::service::support::access::{ACCESS_TOKEN_SECONDS, Principal};
use crate::service::support::failure::InternalError;
use crate::service::support::failure::RateLimited;
use crate::service::support::failure::store_failed;
use crate::service::support::secrets::{
    constant_time_eq, hash_secret, new_secret, parse_refresh_token, refresh_token,
};
use crate::service::support::views::{MembershipView, SessionView, visible_memberships};

/// How long a chain of refresh tokens lives without a new sign-in.
const REFRESH_DAYS: i64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("email or password is wrong")]
    InvalidCredentials,
    #[error("every membership of the user is blocked")]
    Blocked,
    #[error("rate limited")]
    RateLimited(#[from] RateLimited),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

failure_codes!(SignInError {
    InvalidCredentials => InvalidCredentials,
    Blocked => UserBlocked,
    RateLimited(_) => RateLimited,
    Internal(_) => Internal,
});

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("the refresh token is not valid")]
    Invalid,
    #[error(transparent)]
    Internal(#[from] InternalError),
}

failure_codes!(RefreshError {
    Invalid => InvalidRefreshToken,
    Internal(_) => Internal,
});

/// Whether a login has nothing left to use: it has memberships and every one is blocked.
pub(crate) fn entirely_blocked(login: &Login) -> bool {
    let mut visible = visible_memberships(&login.memberships).peekable();
    visible.peek().is_some() && visible.all(|m| m.member.status == MemberStatus::Blocked)
}

impl Teamgate {
    /// Same answer and similar time whether or not the email exists; `user_blocked` only after
    /// a correct password.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: &str,
    ) -> Result<SessionView, SignInError> {
        let limits = &self.settings.limits;
        let email = Email::parse(email).ok();
        // Counted per person, by the canonical address: another spelling of it gets no fresh
        // budget, and every address that cannot be anyone's shares one.
        let person = email.as_ref().map_or("", Email::as_str);
        // The attempt is counted while the login is read: one round trip, then the session's write.
        let rules = [
            (format!("sign-in:{person}:{client}"), limits.sign_in_per_email_and_client),
            (format!("sign-in-client:{client}"), limits.sign_in_per_client),
        ];
        let login = async {
            match &email {
                Some(email) => self.store().login_by_email(email).await,
                None => Ok(None),
            }
        };
        let (counted, login) = tokio::join!(self.throttle(&rules), login);
        counted??;
        let login = login.map_err(store_failed("login_by_email"))?;
        let hash = login.as_ref().and_then(|l| l.user.password_hash.as_deref());
        if !self.passwords.verify(password, hash).await {
            return Err(SignInError::InvalidCredentials);
        }
        let login = login.ok_or(SignInError::InvalidCredentials)?;
        if entirely_blocked(&login) {
            return Err(SignInError::Blocked);
        }
        let now = self.now();
        let (session, token) = self.new_refresh_session(&login.user, now);
        let active: Vec<_> = login
            .memberships
            .iter()
            .filter(|m| m.member.status == MemberStatus::Active)
            .map(|m| m.account.id.clone())
            .collect();
        match self.store().record_sign_in(&session, &active, now).await {
            // A membership went away since the (eventually consistent) login read: the session
            // matters, the `last_login_at` stamp does not.
            Err(StoreError::Conflict(_)) => self
                .store()
                .record_sign_in(&session, &[], now)
                .await
                .map_err(store_failed("record_sign_in"))?,
            other => other.map_err(InternalError::from)?,
        }
        let memberships = login
            .memberships
            .into_iter()
            .map(|mut m| {
                if active.contains(&m.account.id) {
                    m.member.last_login_at = Some(now);
                }
                m
            })
            .collect::<Vec<_>>();
        Ok(self.session_view(&login.user, &memberships, token, now)?)
    }

    /// Exchanges a refresh token for a new session; the presented token dies. Presenting a token
    /// that was already exchanged ends the whole chain (it was copied).
    ///
    /// The session is read, then rotated while the user's login is read: two round trips. A
    /// login that no longer stands (token version changed, blocked everywhere) refuses the
    /// refresh after the rotation, whose new secret is never given out: the chain ends with it.
    pub async fn refresh(&self, token: &str) -> Result<SessionView, RefreshError> {
        let (family, secret) = parse_refresh_token(token).ok_or(RefreshError::Invalid)?;
        let session = self
            .store()
            .refresh_session(&family)
            .await
            .map_err(store_failed("refresh_session"))?
            .ok_or(RefreshError::Invalid)?;
        let now = self.now();
        if !constant_time_eq(&session.secret_hash, &hash_secret(secret)) {
            self.store().end_session(&family).await.map_err(store_failed("end_session"))?;
            return Err(RefreshError::Invalid);
        }
        if session.expires_at <= now {
            return Err(RefreshError::Invalid);
        }
        let next_secret = new_secret(self.ports.rng.as_ref());
        let next = RefreshSession { secret_hash: hash_secret(&next_secret), ..session.clone() };
        let (rotated, login) = tokio::join!(
            self.store().rotate_session(&session.secret_hash, &next),
            self.store().login_by_id(&session.user_id)
        );
        rotated.map_err(|e| match e {
            StoreError::Conflict(_) => RefreshError::Invalid,
            other => store_failed("rotate_session")(other).into(),
        })?;
        let login = login
            .map_err(store_failed("login_by_id"))?
            .filter(|l| l.user.token_version == session.token_version && !entirely_blocked(l))
            .ok_or(RefreshError::Invalid)?;
        Ok(self.session_view(&login.user, &login.memberships, refresh_token(&family, &next_secret), now)?)
    }

    /// Ends the chain of a refresh token that is current; anything else is ignored.
    pub async fn sign_out(&self, token: &str) -> Result<(), InternalError> {
        let Some((family, secret)) = parse_refresh_token(token) else {
            return Ok(());
        };
        let session = self.store().refresh_session(&family).await?;
        if session.is_some_and(|s| constant_time_eq(&s.secret_hash, &hash_secret(secret))) {
            self.store().end_session(&family).await?;
        }
        Ok(())
    }

    /// The caller's own login: their token must still be current, and a user blocked in every
    /// account is refused here as everywhere else.
    pub(crate) async fn signed_in_login(&self, principal: &Principal) -> Result<Login, CallerError> {
        let login = self
            .store()
            .login_by_id(&principal.user_id)
            .await
            .map_err(store_failed("login_by_id"))?
            .filter(|l| l.user.token_version == principal.token_version)
            .ok_or(CallerError::Unauthenticated)?;
        if entirely_blocked(&login) {
            return Err(CallerError::Blocked);
        }
        Ok(login)
    }

    /// A new chain of refresh tokens and its first token.
    pub(crate) fn new_refresh_session(&self, user: &User, now: DateTime<Utc>) -> (RefreshSession, String) {
        let family = SessionFamilyId::generate();
        let secret = new_secret(self.ports.rng.as_ref());
        let session = RefreshSession {
            family_id: family.clone(),
            user_id: user.id.clone(),
            secret_hash: hash_secret(&secret),
            token_version: user.token_version,
            created_at: now,
            expires_at: now + Duration::days(REFRESH_DAYS),
        };
        (session, refresh_token(&family, &secret))
    }

    pub(crate) fn session_view(
        &self,
        user: &User,
        memberships: &[Membership],
        refresh_token: String,
        now: DateTime<Utc>,
    ) -> Result<SessionView, InternalError> {
        Ok(SessionView {
            access_token: self.access.issue(&user.id, user.token_version, now)?,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_SECONDS,
            refresh_token,
            user_id: user.id.to_string(),
            memberships: self.membership_views(memberships),
        })
    }

    pub(crate) fn membership_views(&self, memberships: &[Membership]) -> Vec<MembershipView> {
        visible_memberships(memberships)
            .map(|m| MembershipView::new(m, self.preset(&m.account.preset)))
            .collect()
    }
}
