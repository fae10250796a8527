//! Rate limits: fixed-window counters in the store, so every Lambda instance shares them.
//! Keys pair the target with the client where a per-target limit alone would let a stranger
//! lock someone else out.

use futures::future::join_all;

use chrono::{DateTime, Utc};

use crate::ports::{RateDecision, Store};
use crate::service::support::failure::{InternalError, RateLimited};
use crate::service::support::secrets::hash_secret;

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
    /// Uses of one API key, at the authorizer and `POST /v1/authorize` together.
    pub api_key_uses: Limit,
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
            api_key_uses: limit(600, 60),
        }
    }
}

/// Counts one attempt against each `(key, limit)` at `now`; the inner error when any is over.
pub async fn throttle(
    store: &dyn Store,
    now: DateTime<Utc>,
    rules: &[(String, Limit)],
) -> Result<Result<(), RateLimited>, InternalError> {
    // Keys name emails and addresses: only their hashes are stored, at a fixed length.
    let keys: Vec<String> = rules.iter().map(|(key, _)| hash_secret(key)).collect();
    let hits = rules
        .iter()
        .zip(&keys)
        .map(|((_, limit), key)| store.hit_rate_limit(key, limit.count, limit.window_seconds, now));
    let mut wait = None;
    for decision in join_all(hits).await {
        if let RateDecision::Limited { retry_after_seconds } = decision? {
            wait = wait.max(Some(retry_after_seconds));
        }
    }
    Ok(wait.map_or(Ok(()), |retry_after| Err(RateLimited { retry_after })))
}
