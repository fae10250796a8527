//! Rate limits: fixed-window counters in the store, so every Lambda instance shares them.
//! Keys pair the target with the client where a per-target limit alone would let a stranger
//! lock someone else out. The defaults are sized for people; a deployment resizes any of them
//! with `RATE_LIMITS` (`RateLimits::with_overrides`), as a big marketplace or a load test must.

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
    /// Requests for a new invitation link from one client (each may mail the team's managers;
    /// one invitation mails them once until it is sent again).
    pub renewal_per_client: Limit,
    /// Invitations sent by one member.
    pub invite_per_member: Limit,
    /// Owner recoveries started for one account (each mails a link that can take the account).
    pub owner_recovery_per_account: Limit,
    /// Uses of one API key, at the authorizer and `POST /v1/authorize` together.
    pub api_key_uses: Limit,
    /// Second-step codes tried for one person (sign-in, step-up, enrollment, turning it off):
    /// with three codes valid at a time, ten tries in 15 minutes guess one in about 33,000
    /// windows.
    pub second_step_per_user: Limit,
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
            renewal_per_client: limit(10, 3600),
            invite_per_member: limit(300, 3600),
            owner_recovery_per_account: limit(10, 86_400),
            api_key_uses: limit(600, 60),
            second_step_per_user: limit(10, 900),
        }
    }
}

/// Why a `RATE_LIMITS` entry was refused; each names the entry as written.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRateLimit {
    #[error("`{0}`: write name=count/window_seconds")]
    Shape(String),
    #[error("`{entry}`: no limit is named `{name}` (the limits: {})", RateLimits::names().join(", "))]
    UnknownName { entry: String, name: String },
    #[error("`{0}`: count and window_seconds are whole numbers from 1 to 4294967295")]
    Number(String),
    #[error("`{0}`: that limit is given twice")]
    Twice(String),
}

impl RateLimits {
    /// Each limit with its name in `RATE_LIMITS`. The destructuring makes a new field a compile
    /// error here until it has a name.
    fn named(&mut self) -> [(&'static str, &mut Limit); 10] {
        let Self {
            sign_in_per_email_and_client,
            sign_in_per_client,
            reset_per_email_and_client,
            reset_per_client,
            accept_per_client,
            renewal_per_client,
            invite_per_member,
            owner_recovery_per_account,
            api_key_uses,
            second_step_per_user,
        } = self;
        [
            ("sign_in_per_email_and_client", sign_in_per_email_and_client),
            ("sign_in_per_client", sign_in_per_client),
            ("reset_per_email_and_client", reset_per_email_and_client),
            ("reset_per_client", reset_per_client),
            ("accept_per_client", accept_per_client),
            ("renewal_per_client", renewal_per_client),
            ("invite_per_member", invite_per_member),
            ("owner_recovery_per_account", owner_recovery_per_account),
            ("api_key_uses", api_key_uses),
            ("second_step_per_user", second_step_per_user),
        ]
    }

    /// The names `RATE_LIMITS` knows, in the order of the fields.
    fn names() -> [&'static str; 10] {
        RateLimits::default().named().map(|(name, _)| name)
    }

    /// These limits with the entries of `spec` in place: `name=count/window_seconds`, separated
    /// by commas, e.g. `sign_in_per_client=1000/900,invite_per_member=5000/3600`. Limits not
    /// named keep their value. Nothing is half-applied: the first bad entry refuses the whole.
    pub fn with_overrides(mut self, spec: &str) -> Result<Self, InvalidRateLimit> {
        let mut given = Vec::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let shape = || InvalidRateLimit::Shape(entry.to_owned());
            let (name, value) = entry.split_once('=').ok_or_else(shape)?;
            let (count, window) = value.split_once('/').ok_or_else(shape)?;
            let name = name.trim();
            let number = |raw: &str| raw.trim().parse::<u32>().ok().filter(|n| *n > 0);
            let (Some(count), Some(window_seconds)) = (number(count), number(window)) else {
                return Err(InvalidRateLimit::Number(entry.to_owned()));
            };
            let mut named = self.named();
            let Some((name, limit)) = named.iter_mut().find(|(known, _)| *known == name) else {
                return Err(InvalidRateLimit::UnknownName { entry: entry.to_owned(), name: name.to_owned() });
            };
            if given.contains(name) {
                return Err(InvalidRateLimit::Twice(entry.to_owned()));
            }
            given.push(*name);
            **limit = Limit { count, window_seconds };
        }
        Ok(self)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_the_limits_they_name_and_keep_the_others() {
        // Given the defaults
        let defaults = RateLimits::default();
        // When two limits are given, with spaces around the pieces
        let limits = defaults
            .clone()
            .with_overrides(" sign_in_per_email_and_client=20/60 , invite_per_member = 1000/ 3600,")
            .unwrap();
        // Then those two change and every other keeps its default
        assert_eq!(limits.sign_in_per_email_and_client, Limit { count: 20, window_seconds: 60 });
        assert_eq!(limits.invite_per_member, Limit { count: 1000, window_seconds: 3600 });
        assert_eq!(limits.sign_in_per_client, defaults.sign_in_per_client);
        assert_eq!(limits.api_key_uses, defaults.api_key_uses);
    }

    #[test]
    fn every_limit_can_be_overridden_by_its_name() {
        // Given an entry for every name
        let spec: Vec<String> = RateLimits::names().iter().map(|name| format!("{name}=7/11")).collect();
        // When they are applied
        let mut limits = RateLimits::default().with_overrides(&spec.join(",")).unwrap();
        // Then every limit is the one given
        for (name, limit) in limits.named() {
            assert_eq!(*limit, Limit { count: 7, window_seconds: 11 }, "{name}");
        }
    }

    #[test]
    fn no_overrides_are_the_defaults() {
        let limits = RateLimits::default().with_overrides("").unwrap();
        assert_eq!(format!("{limits:?}"), format!("{:?}", RateLimits::default()));
    }

    #[test]
    fn bad_entries_are_refused_naming_the_entry() {
        let refused = |spec: &str| RateLimits::default().with_overrides(spec).unwrap_err();
        assert_eq!(
            refused("sign_in_per_client=10/900,sign_in_per_emial=10/900"),
            InvalidRateLimit::UnknownName {
                entry: "sign_in_per_emial=10/900".into(),
                name: "sign_in_per_emial".into()
            }
        );
        for entry in [
            "invite_per_member=ten/3600",
            "invite_per_member=-1/3600",
            "invite_per_member=10/4294967296",
            "invite_per_member=10/0",
            "invite_per_member=0/60",
        ] {
            assert_eq!(refused(entry), InvalidRateLimit::Number(entry.into()), "{entry}");
        }
        assert_eq!(refused("invite_per_member=10"), InvalidRateLimit::Shape("invite_per_member=10".into()));
        assert_eq!(refused("invite_per_member"), InvalidRateLimit::Shape("invite_per_member".into()));
        assert_eq!(
            refused("api_key_uses=1/1,api_key_uses=2/2"),
            InvalidRateLimit::Twice("api_key_uses=2/2".into())
        );
    }

    #[test]
    fn an_unknown_name_is_told_the_names_there_are() {
        let refused = RateLimits::default().with_overrides("sign_in=1/1").unwrap_err().to_string();
        assert!(refused.starts_with("`sign_in=1/1`: no limit is named `sign_in`"), "{refused}");
        for name in RateLimits::names() {
            assert!(refused.contains(name), "{refused}");
        }
    }
}
