//! Two-step verification: enrolling an authenticator app (TOTP), the second step of a sign-in,
//! stepping up before a sensitive action, and turning it off. Every code is accepted once
//! (`User::passed_code`), every attempt counts against `RateLimits::second_step_per_user`, and
//! the secret is only ever stored sealed by the vault.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::domain::MailKind;
use crate::domain::totp::{SECRET_BYTES, normalize_code, qr_svg};
use crate::domain::{
    MemberStatus, MfaPolicy, OneTimeToken, RefreshSession, SecondFactorRefusal, SessionClient, TokenPurpose,
    TotpSecret, User, UserId,
};
use crate::failure_codes;
use crate::ports::{Login, SecondStepSpent, StoreError, VaultError};
use crate::service::Teamgate;
use crate::service::caller::CallerError;
use crate::service::invite::format_time;
use crate::service::sessions::{StartSessionError, entirely_blocked};
use crate::service::support::access::{ACCESS_TOKEN_SECONDS, Principal};
use crate::service::support::failure::{InternalError, RateLimited, store_failed};
use crate::service::support::secrets::{hash_secret, is_well_formed, new_secret};
use crate::service::support::views::SessionView;

/// How long a sign-in waits for its second step.
pub const CHALLENGE_SECONDS: i64 = 300;
/// Recovery codes handed out when two-step verification is turned on.
pub const RECOVERY_CODES: usize = 10;
/// Characters of a recovery code (base32: 80 bits each), shown in four groups of four: with
/// each hash salted by its user, a copy of the table cracks none of them.
const RECOVERY_CODE_CHARS: usize = 16;
const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// What proves the second step: a code from the authenticator app, or one recovery code.
#[derive(Clone, Debug)]
pub enum SecondStep {
    Code(String),
    RecoveryCode(String),
}

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("the code is wrong, expired or already used")]
    WrongCode,
    #[error("the sign-in's challenge is unknown, expired or spent")]
    InvalidChallenge,
    #[error("the password is not correct")]
    InvalidCredentials,
    #[error("two-step verification is already on")]
    AlreadyOn,
    #[error("two-step verification is off")]
    NotOn,
    #[error("no enrollment is in progress")]
    NotEnrolling,
    #[error("an account of the person requires two-step verification")]
    RequiredByAccount,
    #[error("every membership of the user is blocked")]
    Blocked,
    #[error("the person changed at the same time; retry")]
    ConcurrentChange,
    #[error(transparent)]
    Caller(#[from] CallerError),
    #[error("rate limited")]
    RateLimited(#[from] RateLimited),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

failure_codes!(MfaError {
    WrongCode => InvalidMfaCode,
    InvalidChallenge => InvalidMfaChallenge,
    InvalidCredentials => InvalidCredentials,
    AlreadyOn => MfaAlreadyEnabled,
    NotOn => MfaNotEnabled,
    NotEnrolling => MfaNotEnrolling,
    RequiredByAccount => MfaRequiredByAccount,
    Blocked => UserBlocked,
    ConcurrentChange => ConcurrentChange,
    RateLimited(_) => RateLimited,
    Internal(_) => Internal,
}
delegating { Caller });

impl From<SecondFactorRefusal> for MfaError {
    fn from(refusal: SecondFactorRefusal) -> Self {
        match refusal {
            SecondFactorRefusal::AlreadyOn => Self::AlreadyOn,
            SecondFactorRefusal::NotEnrolling => Self::NotEnrolling,
            SecondFactorRefusal::NotOn => Self::NotOn,
            SecondFactorRefusal::Replayed | SecondFactorRefusal::UnknownRecoveryCode => Self::WrongCode,
        }
    }
}

impl From<StartSessionError> for MfaError {
    fn from(error: StartSessionError) -> Self {
        match error {
            StartSessionError::SecondStepSpent => Self::InvalidChallenge,
            StartSessionError::Internal(error) => Self::Internal(error),
        }
    }
}

fn vault_failed(context: &'static str) -> impl Fn(VaultError) -> InternalError {
    move |error| InternalError::new(context, error)
}

fn write_failed(context: &'static str) -> impl Fn(StoreError) -> MfaError {
    move |error| match error {
        StoreError::Conflict(_) => MfaError::ConcurrentChange,
        other => store_failed(context)(other).into(),
    }
}

/// A sign-in waiting for its second step (`202`).
#[derive(Debug, Serialize)]
pub struct ChallengeView {
    pub mfa_required: bool,
    pub challenge: String,
    pub expires_at: DateTime<Utc>,
    pub methods: [&'static str; 2],
}

/// An enrollment begun: the secret to put in an authenticator app, three ways.
#[derive(Debug, Serialize)]
pub struct EnrollmentView {
    /// Base32, to type in.
    pub secret: String,
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG document.
    pub qr_svg: String,
}

/// Two-step verification turned on: the recovery codes, shown this once, and a new access
/// token of the caller's session (every other session ended with the old token version).
#[derive(Debug, Serialize)]
pub struct RecoveryCodesView {
    pub recovery_codes: Vec<String>,
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

/// A fresh access token of the caller's session (a step-up, a password change).
#[derive(Debug, Serialize)]
pub struct AccessTokenView {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

/// The stored form of a recovery code of `user`, as typed: case, spaces and hyphens do not
/// matter; the user's id salts it.
fn recovery_hash(user: &UserId, code: &str) -> String {
    let typed = code.chars().filter(|c| !matches!(c, ' ' | '-')).collect::<String>().to_ascii_lowercase();
    hash_secret(&format!("{user}:{typed}"))
}

impl Teamgate {
    /// The challenge of a sign-in whose password passed, for `complete_sign_in`.
    pub(crate) fn new_challenge(&self, user: &User) -> (OneTimeToken, ChallengeView) {
        let secret = new_secret(self.ports.rng.as_ref());
        let expires_at = self.now() + Duration::seconds(CHALLENGE_SECONDS);
        let token = OneTimeToken {
            hash: hash_secret(&secret),
            user_id: user.id.clone(),
            purpose: TokenPurpose::SecondStep { token_version: user.token_version },
            expires_at,
        };
        let view = ChallengeView {
            mfa_required: true,
            challenge: secret,
            expires_at,
            methods: ["totp", "recovery_code"],
        };
        (token, view)
    }

    /// Stores a new challenge for `user` and answers it.
    pub(crate) async fn challenge(&self, user: &User) -> Result<ChallengeView, InternalError> {
        let (token, view) = self.new_challenge(user);
        self.store().issue_challenge(&token).await.map_err(store_failed("issue_challenge"))?;
        Ok(view)
    }

    /// Finishes a sign-in with its second step. The code and the challenge are spent in the
    /// same write as the session starts, so two attempts with one code start one session.
    pub async fn complete_sign_in(
        &self,
        challenge: &str,
        step: &SecondStep,
        from: SessionClient,
    ) -> Result<SessionView, MfaError> {
        if !is_well_formed(challenge) {
            return Err(MfaError::InvalidChallenge);
        }
        let hash = hash_secret(challenge);
        let token = self
            .store()
            .challenge(&hash)
            .await
            .map_err(store_failed("challenge"))?
            .filter(|t| t.expires_at > self.now())
            .ok_or(MfaError::InvalidChallenge)?;
        // The person is counted only once the challenge proved to be theirs: a stranger naming
        // them cannot use up their attempts.
        let (login, user, counted) = tokio::join!(
            self.store().login_by_id(&token.user_id),
            self.store().user(&token.user_id),
            self.throttle_second_step(&token.user_id)
        );
        counted??;
        let login = login.map_err(store_failed("login_by_id"))?.ok_or(MfaError::InvalidChallenge)?;
        let user = user.map_err(store_failed("user"))?.ok_or(MfaError::InvalidChallenge)?;
        // A password changed or reset since the sign-in ends its challenge with the password.
        if token.purpose != (TokenPurpose::SecondStep { token_version: user.token_version }) {
            return Err(MfaError::InvalidChallenge);
        }
        let login = Login { user, ..login };
        if entirely_blocked(&login) {
            return Err(MfaError::Blocked);
        }
        let user = match self.pass_second_step(login.user.clone(), step).await {
            Err(MfaError::NotOn) => return Err(MfaError::InvalidChallenge),
            other => other?,
        };
        let spent = SecondStepSpent { user, challenge_hash: hash };
        Ok(self.start_session(login, from, Some(spent)).await?)
    }

    /// Starts turning two-step verification on: a new secret, shown once, sealed in the store.
    /// Until a code confirms it nothing changes for the person. The password is asked first: a
    /// stolen access token alone must not enroll the thief's app and lock the person out.
    pub async fn start_totp(
        &self,
        principal: &Principal,
        password: &str,
    ) -> Result<EnrollmentView, MfaError> {
        let (login, counted) =
            tokio::join!(self.own_login(principal), self.throttle_step_up(&principal.user_id));
        let login = login?;
        counted??;
        if login.user.has_second_factor() {
            return Err(MfaError::AlreadyOn);
        }
        if !self.passwords.verify(password, login.user.password_hash.as_deref()).await {
            return Err(MfaError::InvalidCredentials);
        }
        let mut bytes = vec![0u8; SECRET_BYTES];
        self.ports.rng.fill(&mut bytes);
        let secret = TotpSecret::from_bytes(bytes);
        let sealed = self
            .ports
            .vault
            .seal(secret.as_bytes(), login.user.id.as_str())
            .await
            .map_err(vault_failed("sealing a TOTP secret"))?;
        let user = login.user.clone().enrolling(sealed)?;
        self.store().save_user(&user, &[], None).await.map_err(write_failed("save_user"))?;
        let issuer = &self.personal_preset(&login).name;
        let otpauth_uri = secret.otpauth_uri(issuer, user.email.as_str());
        Ok(EnrollmentView { secret: secret.base32(), qr_svg: qr_svg(&otpauth_uri), otpauth_uri })
    }

    /// Turns two-step verification on with the first code of the enrolled secret, and hands
    /// out the recovery codes (only their hashes are kept).
    pub async fn confirm_totp(
        &self,
        principal: &Principal,
        code: &str,
    ) -> Result<RecoveryCodesView, MfaError> {
        let (login, counted, session) = tokio::join!(
            self.own_login(principal),
            self.throttle_second_step(&principal.user_id),
            self.store().refresh_session(&principal.session)
        );
        let user = login?.user;
        counted??;
        let session =
            session.map_err(store_failed("refresh_session"))?.ok_or(CallerError::Unauthenticated)?;
        let factor =
            user.second_factor.as_ref().filter(|f| !f.is_on()).ok_or(match user.has_second_factor() {
                true => MfaError::AlreadyOn,
                false => MfaError::NotEnrolling,
            })?;
        let secret = self.open_secret(&user, &factor.sealed_secret).await?;
        let step = secret.matching_step(code, self.now()).ok_or(MfaError::WrongCode)?;
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| self.recovery_code()).collect();
        let hashes = codes.iter().map(|c| recovery_hash(&user.id, c)).collect();
        // Every session begun with the password alone ends with it (the token version rises);
        // this one is carried over, with a token that passed the step just now.
        let user = user.confirming(step, hashes, self.now())?;
        let kept = RefreshSession { token_version: user.token_version, ..session };
        self.store().save_user(&user, &[], Some(&kept)).await.map_err(write_failed("save_user"))?;
        self.notify_second_factor(&user, MailKind::SecondFactorEnabled).await;
        let now = self.now();
        Ok(RecoveryCodesView {
            recovery_codes: codes,
            access_token: self.access_token(&user, &principal.session, Some(now), now)?,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_SECONDS,
        })
    }

    /// Turns two-step verification off: the password and a second step, and no account of the
    /// person may require it.
    pub async fn disable_totp(
        &self,
        principal: &Principal,
        password: &str,
        step: &SecondStep,
    ) -> Result<(), MfaError> {
        let (login, password_counted, code_counted) = tokio::join!(
            self.own_login(principal),
            self.throttle_step_up(&principal.user_id),
            self.throttle_second_step(&principal.user_id)
        );
        let login = login?;
        password_counted??;
        code_counted??;
        if !login.user.has_second_factor() {
            return Err(MfaError::NotOn);
        }
        if !self.passwords.verify(password, login.user.password_hash.as_deref()).await {
            return Err(MfaError::InvalidCredentials);
        }
        if self.required_by_an_account(&login).await? {
            return Err(MfaError::RequiredByAccount);
        }
        // The code is checked, not spent: the factor it would be spent on goes.
        self.pass_second_step(login.user.clone(), step).await?;
        let user = login.user.without_second_factor()?;
        self.store().save_user(&user, &[], None).await.map_err(write_failed("save_user"))?;
        self.notify_second_factor(&user, MailKind::SecondFactorDisabled).await;
        Ok(())
    }

    /// Tells the person their two-step verification changed, so a change they did not make is
    /// noticed (the mail failing changes nothing: it is logged).
    async fn notify_second_factor(&self, user: &User, kind: MailKind) {
        let changed_at = format_time(self.now());
        let values = [("email", user.email.as_str()), ("changed_at", changed_at.as_str())];
        let mail = self.mail().render(kind, user.locale.unwrap_or_default(), &user.email, &values);
        if let Err(error) = self.ports.mailer.send(&mail).await {
            tracing::error!(%error, "the two-step verification notice was not sent");
        }
    }

    /// A fresh access token of the caller's session carrying a second step passed now: what
    /// sensitive actions ask for (`Caller::require_recent_second_step`).
    pub async fn step_up(
        &self,
        principal: &Principal,
        step: &SecondStep,
    ) -> Result<AccessTokenView, MfaError> {
        let (login, counted) =
            tokio::join!(self.own_login(principal), self.throttle_second_step(&principal.user_id));
        let login = login?;
        counted??;
        let user = self.pass_second_step(login.user, step).await?;
        self.store().save_user(&user, &[], None).await.map_err(write_failed("save_user"))?;
        let now = self.now();
        Ok(AccessTokenView {
            access_token: self.access_token(&user, &principal.session, Some(now), now)?,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_SECONDS,
        })
    }

    /// Whether an account the person is an active member of requires two-step verification.
    async fn required_by_an_account(&self, login: &Login) -> Result<bool, InternalError> {
        let reads = login
            .memberships
            .iter()
            .filter(|m| m.member.status == MemberStatus::Active)
            .map(|m| self.store().account(&m.account.id));
        for account in futures::future::join_all(reads).await {
            let account = account.map_err(store_failed("account"))?;
            if account.is_some_and(|a| a.settings.mfa_policy(self.preset(&a.preset)) == MfaPolicy::Required) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The user once `step` passed, or why not. The caller counts the attempt
    /// (`throttle_second_step`) beside its first read.
    async fn pass_second_step(&self, user: User, step: &SecondStep) -> Result<User, MfaError> {
        let factor = user.second_factor.as_ref().filter(|f| f.is_on()).ok_or(MfaError::NotOn)?;
        match step {
            SecondStep::Code(code) => {
                normalize_code(code).ok_or(MfaError::WrongCode)?;
                let secret = self.open_secret(&user, &factor.sealed_secret).await?;
                let step = secret.matching_step(code, self.now()).ok_or(MfaError::WrongCode)?;
                Ok(user.passed_code(step)?)
            }
            SecondStep::RecoveryCode(code) => {
                let hash = recovery_hash(&user.id, code);
                Ok(user.spent_recovery_code(&hash)?)
            }
        }
    }

    /// Every second-step code tried for a person counts here, whichever route it came by.
    async fn throttle_second_step(&self, user: &UserId) -> Result<Result<(), RateLimited>, InternalError> {
        let limit = self.settings.limits.second_step_per_user;
        self.throttle(&[(format!("second-step:{user}"), limit)]).await
    }

    async fn open_secret(&self, user: &User, sealed: &str) -> Result<TotpSecret, InternalError> {
        let bytes = self
            .ports
            .vault
            .open(sealed, user.id.as_str())
            .await
            .map_err(vault_failed("opening a TOTP secret"))?;
        Ok(TotpSecret::from_bytes(bytes))
    }

    /// A new recovery code: sixteen base32 characters, `xxxx-xxxx-xxxx-xxxx`.
    fn recovery_code(&self) -> String {
        let mut bytes = [0u8; RECOVERY_CODE_CHARS];
        self.ports.rng.fill(&mut bytes);
        let chars: Vec<char> = bytes.iter().map(|b| RECOVERY_ALPHABET[usize::from(b % 32)] as char).collect();
        chars.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recovery_code_is_read_whatever_its_case_spaces_and_hyphens_and_salted_by_its_user() {
        let (anna, bob) = (UserId::generate(), UserId::generate());
        assert_eq!(recovery_hash(&anna, "AbCd-eFgH-2345-6Z7Q"), recovery_hash(&anna, "abcd efgh 2345 6z7q"));
        assert_ne!(recovery_hash(&anna, "abcd-efgh-2345-6z7q"), recovery_hash(&bob, "abcd-efgh-2345-6z7q"));
    }
}
