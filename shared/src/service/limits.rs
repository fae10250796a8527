//! Rate limits: fixed-window counters in the store, so every Lambda instance shares them.
//! Keys pair the target with the client where a per-target limit alone would let a stranger
//! lock someone else out.

use futures::future::join_all;

use crate::ports::RateDecision;
use crate::service::Teamgate;
use crate::service::failure::InternalError;
use crate::service::secrets::hash_secret;

/// One limit: at most `count` attempts per `window_seconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub count: u32,
    pub window_seconds: u32,
}

/// The deployment's limits (defaults sized for people, not scripts).
#[derive(Clone, Debug)]
pub struct RateLimits {
    /// Sign-in attempts for one email from one client.
    pub sign_in_per_email_and_client: Limit,
    /// Sign-in attempts from one client, whatever the email.
    pub sign_in_per_client: Limit,
    /// Reset requests for one email from one client: answered 429 past it.
    pub reset_per_email_and_client: Limit,
    /// Reset requests from one client, whatever the email: answered 429 past it. (Mail to one
    /// address is capped by the live links a person may hold: `domain::LIVE_RESET_LINKS`.)
    pub reset_per_client: Limit,
    /// Attempts to accept an invitation (each may hash a password) from one client.
    pub accept_per_client: Limit,
    /// Invitations sent by one member.
    pub invite_per_member: Limit,
    /// Owner recoveries started for one account (each mails a link that can take the account).
    pub owner_recovery_per_account: Limit,
}

impl Default for RateLimits {
    fn default() -> Self {
        let limit = |count, window_seconds| Limit { count, window_seconds };
        Self {
            sign_in_per_email_and_client: limit(10, 900),
            sign_in_per_client: limit(100, 900),
            reset_per_email_and_client: limit(5, 3600),
            reset_per_client: limit(30, 3600),
            accept_per_client: limit(30, 900),
            invite_per_member: limit(300, 3600),
            owner_recovery_per_account: limit(10, 86_400),
        }
    }
}

/// Too many attempts: retry after `retry_after` seconds. Use cases wrap it in a variant whose
/// source it is, so `Failure::retry_after` finds it.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("too many attempts; retry in {retry_after} s")]
pub struct RateLimited {
    pub retry_after: u64,
}

impl Teamgate {
    /// Re-entering one's password (ownership transfer, password change) is limited like sign-in,
    /// so a stolen access token cannot be used to guess it.
    pub(crate) async fn throttle_step_up(
        &self,
        user: &crate::domain::UserId,
    ) -> Result<Result<(), RateLimited>, InternalError> {
        self.throttle(&[(format!("step-up:{user}"), self.settings.limits.sign_in_per_email_and_client)]).await
    }

    /// Counts one attempt against each `(key, limit)`; the inner error when any is over.
    pub(crate) async fn throttle(
        &self,
        rules: &[(String, Limit)],
    ) -> Result<Result<(), RateLimited>, InternalError> {
        let now = self.now();
        // Keys name emails and addresses: only their hashes are stored, at a fixed length.
        let keys: Vec<String> = rules.iter().map(|(key, _)| hash_secret(key)).collect();
        let hits = rules.iter().zip(&keys).map(|((_, limit), key)| {
            self.store().hit_rate_limit(key, limit.count, limit.window_seconds, now)
        });
        let mut wait = None;
        for decision in join_all(hits).await {
            if let RateDecision::Limited { retry_after_seconds } = decision? {
                wait = wait.max(Some(retry_after_seconds));
            }
        }
        Ok(wait.map_or(Ok(()), |retry_after| Err(RateLimited { retry_after })))
    }
}
