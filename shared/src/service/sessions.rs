//! Signing in, refreshing (rotating, with reuse detection), signing out, and `/v1/me`.

use chrono::{DateTime, Duration, Utc};

use crate::domain::{Email, MemberStatus, RefreshSession, Roles, SessionClient, SessionFamilyId, User};
use crate::failure_codes;
use crate::ports::{Login, Membership, SecondStepSpent, SignIn, StoreError};
use crate::service::Teamgate;
use crate::service::caller::{CallerError, session_admits};
use crate::service::mfa::{AccessTokenView, ChallengeView};
use crate::service::support::access::{ACCESS_TOKEN_SECONDS, Grantee, Principal};
use crate::service::support::failure::InternalError;
use crate::service::support::failure::RateLimited;
use crate::service::support::failure::store_failed;
use crate::service::support::secrets::{
    PresentedRefresh, constant_time_eq, hash_secret, parse_refresh_token, refresh_token,
};
use crate::service::support::views::{MembershipView, SessionInfoView, SessionView, visible_memberships};

/// How long a chain of refresh tokens lives without a new sign-in.
const REFRESH_DAYS: i64 = 30;

/// What a sign-in answers: a session, or (two-step verification on) the challenge its second
/// step answers.
#[derive(Debug)]
pub enum SignedIn {
    Session(SessionView),
    SecondStepRequired(ChallengeView),
}

/// The tokens of a session as they are handed out.
pub(crate) struct Issued<'a> {
    pub session: &'a RefreshSession,
    pub refresh_token: String,
    pub second_step_at: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum EndSessionsError {
    #[error(transparent)]
    Caller(#[from] CallerError),
    #[error("the person or this session changed at the same time; retry")]
    ConcurrentChange,
    #[error(transparent)]
    Internal(#[from] InternalError),
}

failure_codes!(EndSessionsError {
    ConcurrentChange => ConcurrentChange,
    Internal(_) => Internal,
}
delegating { Caller });

/// Why a session could not start once every credential passed.
#[derive(Debug, thiserror::Error)]
pub enum StartSessionError {
    /// Another attempt spent the second step's code or challenge first.
    #[error("the second step was spent by another attempt")]
    SecondStepSpent,
    #[error(transparent)]
    Internal(#[from] InternalError),
}

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

impl From<StartSessionError> for SignInError {
    /// Without a second step nothing is spent, so only an internal error gets here.
    fn from(error: StartSessionError) -> Self {
        match error {
            StartSessionError::Internal(error) => Self::Internal(error),
            StartSessionError::SecondStepSpent => {
                Self::Internal(InternalError::new("signing in", StartSessionError::SecondStepSpent))
            }
        }
    }
}

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
    /// a correct password. A login with two-step verification gets a challenge instead of a
    /// session, answered by `complete_sign_in`.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: &str,
        from: SessionClient,
    ) -> Result<SignedIn, SignInError> {
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
        if login.user.has_second_factor() {
            return Ok(SignedIn::SecondStepRequired(self.challenge(&login.user).await?));
        }
        Ok(SignedIn::Session(self.start_session(login, from, None).await?))
    }

    /// Signs a login in whose credentials all passed: a new session, `last_login_at` stamped
    /// on its active memberships; with the second step that passed, what it spent.
    pub(crate) async fn start_session(
        &self,
        login: Login,
        from: SessionClient,
        second_step: Option<SecondStepSpent>,
    ) -> Result<SessionView, StartSessionError> {
        let now = self.now();
        let user = second_step.as_ref().map_or(login.user, |spent| spent.user.clone());
        let (session, token) = self.new_refresh_session(&user, from, now)?;
        let active: Vec<_> = login
            .memberships
            .iter()
            .filter(|m| m.member.status == MemberStatus::Active)
            .map(|m| m.account.id.clone())
            .collect();
        let second_step_at = second_step.is_some().then_some(now);
        let spent = second_step.is_some();
        // Read before the write, which may spend a second step: nothing after it may fail.
        let memberships = self.membership_views(&login.memberships).await?;
        let sign_in = SignIn { session: session.clone(), accounts: active.clone(), at: now, second_step };
        match self.store().record_sign_in(&sign_in).await {
            // A membership went away since the (eventually consistent) login read: the session
            // matters, the `last_login_at` stamp does not. A second step's code or challenge
            // spent first is another matter: the other attempt won.
            Err(StoreError::Conflict(_)) if spent => {
                let retry = SignIn { accounts: Vec::new(), ..sign_in };
                self.store().record_sign_in(&retry).await.map_err(|e| match e {
                    StoreError::Conflict(_) => StartSessionError::SecondStepSpent,
                    other => store_failed("record_sign_in")(other).into(),
                })?
            }
            Err(StoreError::Conflict(_)) => self
                .store()
                .record_sign_in(&SignIn { accounts: Vec::new(), ..sign_in })
                .await
                .map_err(store_failed("record_sign_in"))?,
            other => other.map_err(InternalError::from)?,
        }
        let issued = Issued { session: &session, refresh_token: token, second_step_at };
        Ok(self.session_view(&user, memberships, issued, now)?)
    }

    /// Exchanges a refresh token for a new session; the presented token dies. A genuine token
    /// of the chain that is no longer current was copied: presenting it ends the whole chain
    /// (the thief's and the person's). A token that is not genuine is refused alone, so the
    /// session's id, which every access token shows, ends nothing.
    ///
    /// The session is read, then the user's login (then the accounts of memberships naming a
    /// role of their own: a fourth round trip for them only), then the session is rotated, last,
    /// so that nothing after it can fail and leave the client without the new token while its
    /// old one, presented again, would end the chain as a copy. A login that no longer stands
    /// (token version changed, blocked everywhere) refuses the refresh.
    pub async fn refresh(&self, token: &str, from: SessionClient) -> Result<SessionView, RefreshError> {
        let presented = parse_refresh_token(token).ok_or(RefreshError::Invalid)?;
        let family = presented.family().clone();
        let session = self
            .store()
            .refresh_session(&family)
            .await
            .map_err(store_failed("refresh_session"))?
            .ok_or(RefreshError::Invalid)?;
        if !self.is_current(&presented, &session)? {
            if self.is_copied(&presented, &session)? {
                self.store().end_session(&family).await.map_err(store_failed("end_session"))?;
            }
            return Err(RefreshError::Invalid);
        }
        let now = self.now();
        if session.expires_at <= now {
            return Err(RefreshError::Invalid);
        }
        let login = self
            .store()
            .login_by_id(&session.user_id)
            .await
            .map_err(store_failed("login_by_id"))?
            .filter(|l| l.user.token_version == session.token_version && !entirely_blocked(l))
            .ok_or(RefreshError::Invalid)?;
        // Read before the rotation: nothing after it may fail (an account's own roles are read).
        let memberships = self.membership_views(&login.memberships).await?;
        let next_secret = self.access.refresh_secret(&family, session.generation + 1)?;
        let next = session.clone().used(hash_secret(&next_secret), from, now);
        self.store().rotate_session(&session.secret_hash, &next).await.map_err(|e| match e {
            StoreError::Conflict(_) => RefreshError::Invalid,
            other => store_failed("rotate_session")(other).into(),
        })?;
        let issued = Issued {
            session: &next,
            refresh_token: refresh_token(&family, next.generation, &next_secret),
            second_step_at: None,
        };
        Ok(self.session_view(&login.user, memberships, issued, now)?)
    }

    /// Whether `presented` is the chain's current token.
    fn is_current(
        &self,
        presented: &PresentedRefresh<'_>,
        session: &RefreshSession,
    ) -> Result<bool, InternalError> {
        let generation_is_current = match presented {
            PresentedRefresh::Current { generation, .. } => *generation == session.generation,
            PresentedRefresh::Legacy { .. } => true,
        };
        Ok(generation_is_current && constant_time_eq(&session.secret_hash, &hash_secret(presented.secret())))
    }

    /// Whether `presented`, not current, is a genuine token of an earlier generation of the chain
    /// (this deployment's MAC over its chain and generation): a copy.
    fn is_copied(
        &self,
        presented: &PresentedRefresh<'_>,
        session: &RefreshSession,
    ) -> Result<bool, InternalError> {
        let PresentedRefresh::Current { family, generation, secret } = presented else {
            return Ok(false);
        };
        Ok(*generation < session.generation
            && constant_time_eq(&self.access.refresh_secret(family, *generation)?, secret))
    }

    /// Ends the chain of a refresh token that is current; anything else is ignored.
    pub async fn sign_out(&self, token: &str) -> Result<(), InternalError> {
        let Some(presented) = parse_refresh_token(token) else {
            return Ok(());
        };
        let session = self.store().refresh_session(presented.family()).await?;
        if let Some(session) = session
            && self.is_current(&presented, &session)?
        {
            self.store().end_session(presented.family()).await?;
        }
        Ok(())
    }

    /// The caller's own login: their token and its session must still be current, and a user
    /// blocked in every account is refused here as everywhere else.
    pub(crate) async fn signed_in_login(&self, principal: &Principal) -> Result<Login, CallerError> {
        let (login, session) = tokio::join!(
            self.store().login_by_id(&principal.user_id),
            self.store().refresh_session(&principal.session)
        );
        let session = session.map_err(store_failed("refresh_session"))?;
        if !session.is_some_and(|s| session_admits(&s, principal)) {
            return Err(CallerError::Unauthenticated);
        }
        let login = login
            .map_err(store_failed("login_by_id"))?
            .filter(|l| l.user.token_version == principal.token_version)
            .ok_or(CallerError::Unauthenticated)?;
        if entirely_blocked(&login) {
            return Err(CallerError::Blocked);
        }
        Ok(login)
    }

    /// The caller's sessions that still work, newest first, the current one marked.
    pub async fn own_sessions(&self, principal: &Principal) -> Result<Vec<SessionInfoView>, CallerError> {
        let (login, sessions) =
            tokio::join!(self.signed_in_login(principal), self.store().sessions_of(&principal.user_id));
        let login = login?;
        let now = self.now();
        let sessions = sessions.map_err(store_failed("sessions_of"))?;
        Ok(sessions
            .into_iter()
            .filter(|s| s.token_version == login.user.token_version && s.expires_at > now)
            .map(|s| SessionInfoView {
                current: s.family_id == principal.session,
                id: s.family_id.to_string(),
                created_at: s.created_at,
                last_used_at: s.last_used_at,
                client_ip: s.client.ip,
                user_agent: s.client.user_agent,
            })
            .collect())
    }

    /// Ends one of the caller's sessions (the current one too: that is signing out).
    pub async fn end_own_session(&self, principal: &Principal, id: &str) -> Result<(), CallerError> {
        let family = SessionFamilyId::parse(id);
        let (login, session) = tokio::join!(self.signed_in_login(principal), async {
            match &family {
                Some(family) => self.store().refresh_session(family).await,
                None => Ok(None),
            }
        });
        login?;
        let session = session.map_err(store_failed("refresh_session"))?;
        let session = session.filter(|s| s.user_id == principal.user_id).ok_or(CallerError::NotFound)?;
        self.store().end_session(&session.family_id).await.map_err(store_failed("end_session"))?;
        Ok(())
    }

    /// Ends every session of the caller but the current one, at once and whatever their number:
    /// the token version rises and this session is carried over to it. Its access token is
    /// answered anew (the old one was of the old version).
    pub async fn end_other_sessions(
        &self,
        principal: &Principal,
    ) -> Result<AccessTokenView, EndSessionsError> {
        let (login, user, session) = tokio::join!(
            self.signed_in_login(principal),
            self.store().user(&principal.user_id),
            self.store().refresh_session(&principal.session)
        );
        login?;
        let user = user
            .map_err(store_failed("user"))?
            .filter(|u| u.token_version == principal.token_version)
            .ok_or(CallerError::Unauthenticated)?;
        let session =
            session.map_err(store_failed("refresh_session"))?.ok_or(CallerError::Unauthenticated)?;
        let user = user.signed_out_everywhere();
        let kept = RefreshSession { token_version: user.token_version, ..session };
        self.store().save_user(&user, &[], Some(&kept)).await.map_err(|e| match e {
            StoreError::Conflict(_) => EndSessionsError::ConcurrentChange,
            other => store_failed("save_user")(other).into(),
        })?;
        let now = self.now();
        Ok(AccessTokenView {
            access_token: self.access_token(&user, &principal.session, principal.second_step_at, now)?,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_SECONDS,
        })
    }

    /// A new chain of refresh tokens and its first token.
    pub(crate) fn new_refresh_session(
        &self,
        user: &User,
        from: SessionClient,
        now: DateTime<Utc>,
    ) -> Result<(RefreshSession, String), InternalError> {
        let family = SessionFamilyId::generate();
        let secret = self.access.refresh_secret(&family, 0)?;
        let session = RefreshSession {
            family_id: family.clone(),
            user_id: user.id.clone(),
            secret_hash: hash_secret(&secret),
            token_version: user.token_version,
            created_at: now,
            expires_at: now + Duration::days(REFRESH_DAYS),
            last_used_at: Some(now),
            client: from,
            generation: 0,
        };
        Ok((session, refresh_token(&family, 0, &secret)))
    }

    /// The answer of a request that started or renewed a session, its memberships as their
    /// person sees them (`membership_views`, read before any write that cannot be taken back).
    pub(crate) fn session_view(
        &self,
        user: &User,
        memberships: Vec<MembershipView>,
        issued: Issued<'_>,
        now: DateTime<Utc>,
    ) -> Result<SessionView, InternalError> {
        Ok(SessionView {
            access_token: self.access_token(user, &issued.session.family_id, issued.second_step_at, now)?,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_SECONDS,
            refresh_token: issued.refresh_token,
            user_id: user.id.to_string(),
            memberships,
        })
    }

    /// An access token of `user` in `session`, carrying when a second step last passed.
    pub(crate) fn access_token(
        &self,
        user: &User,
        session: &SessionFamilyId,
        second_step_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<String, InternalError> {
        let grantee = Grantee { user: &user.id, token_version: user.token_version, session, second_step_at };
        self.access.issue(&grantee, now)
    }

    /// The memberships as their person sees them. A login does not carry the accounts' own
    /// roles (they live on the account's item): the account of a membership naming one is read.
    pub(crate) async fn membership_views(
        &self,
        memberships: &[Membership],
    ) -> Result<Vec<MembershipView>, InternalError> {
        let views = visible_memberships(memberships).map(|m| async move {
            let preset = self.preset(&m.account.preset);
            let names_own_role = m.member.roles.iter().any(|role| preset.role(role).is_none());
            let account = match names_own_role {
                true => self.store().account(&m.account.id).await.map_err(store_failed("account"))?,
                false => None,
            };
            let custom = account.as_ref().map_or(&[][..], |a| a.custom_roles.as_slice());
            Ok::<_, InternalError>(MembershipView::new(m, &Roles { preset, custom }))
        });
        futures::future::try_join_all(views).await
    }
}
