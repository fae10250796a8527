//! `Idempotency-Key`: a request that creates something, sent again with the same key, answers
//! what the first answered and changes nothing, for a day (README, "When AWS has a bad day").
//! The answer is written in the same write as what the request created (`NewInvitation::
//! remembered`), its mail with it into the outbox (`service/mailing.rs`), so the answer is
//! final once written and a retry never makes a second one: it gets the answer. Twins sent at
//! once both try to write; the one that loses gets the winner's answer (`http::remembering`).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::domain::FieldError;
use crate::failure_codes;
use crate::ports::Remembered;
use crate::service::Teamgate;
use crate::service::caller::{CallerError, Claim};
use crate::service::support::failure::{InternalError, Invalid, RateLimited, store_failed};
use crate::service::support::secrets::hash_secret;

/// How long an answer is remembered.
pub const REMEMBERED_FOR: Duration = Duration::hours(24);

/// The longest key accepted: a UUID fits many times over.
const MAX_KEY_CHARS: usize = 255;

/// A request sent with an `Idempotency-Key`: whose key it is and what was asked, both hashed,
/// and this request's own random id.
#[derive(Clone, Debug)]
pub struct Once {
    key_hash: String,
    fingerprint: String,
    request: String,
}

impl Once {
    /// The key of a request, `None` without one. `scope` says whose key it is (a key is the
    /// client's, so two callers' keys never meet); `asked` is the operation, its path parameters
    /// and its body, so the key cannot be reused for another request.
    pub fn of(key: Option<&str>, scope: &str, asked: &[&str]) -> Result<Option<Self>, ReplayError> {
        let Some(key) = key else { return Ok(None) };
        if key.is_empty() || key.len() > MAX_KEY_CHARS || !key.bytes().all(|b| b.is_ascii_graphic()) {
            let error = FieldError::new(
                "Idempotency-Key",
                "invalid_value",
                "Use 1 to 255 printable ASCII characters without spaces, such as a UUID.",
            );
            return Err(ReplayError::Invalid(error.into()));
        }
        // Each part after its length, so that no two lists of parts read the same.
        let fingerprint =
            hash_secret(&asked.iter().map(|part| format!("{}:{part}", part.len())).collect::<String>());
        let request = uuid::Uuid::now_v7().to_string();
        Ok(Some(Self { key_hash: hash_secret(&format!("{scope}\n{key}")), fingerprint, request }))
    }

    /// The key of row `row` of a bulk request: each row's answer is kept with the row's own
    /// write, so a retry after a failure part-way replays the rows written and writes the rest.
    pub fn row(&self, row: usize) -> Self {
        let of_row = |hash: &str| hash_secret(&format!("{hash}\nrow {row}"));
        Self {
            key_hash: of_row(&self.key_hash),
            fingerprint: of_row(&self.fingerprint),
            request: self.request.clone(),
        }
    }

    /// The record that takes the key for this request while it is under way (a bulk request
    /// writing its rows), held until `held_until` (`None`: let go): a twin, or a retry of it,
    /// learns it is one, and another request with the key is refused.
    pub fn under_way(&self, now: DateTime<Utc>, held_until: Option<DateTime<Utc>>) -> Remembered {
        Remembered {
            key_hash: self.key_hash.clone(),
            fingerprint: self.fingerprint.clone(),
            status: Remembered::UNDER_WAY,
            body: String::new(),
            request: self.request.clone(),
            created_at: now,
            expires_at: now + REMEMBERED_FOR,
            held_until,
        }
    }

    /// This request's random id: whose record under way it is.
    pub fn request(&self) -> &str {
        &self.request
    }

    /// The answer to keep with the request's write: its HTTP status and body.
    pub fn remember(
        &self,
        status: http::StatusCode,
        body: &impl Serialize,
        now: DateTime<Utc>,
    ) -> Remembered {
        Remembered {
            key_hash: self.key_hash.clone(),
            fingerprint: self.fingerprint.clone(),
            status: status.as_u16(),
            body: serde_json::to_string(body).expect("answers serialize"),
            request: self.request.clone(),
            created_at: now,
            expires_at: now + REMEMBERED_FOR,
            held_until: None,
        }
    }
}

/// What a key holds for a request, as `Teamgate::kept` judges it.
#[derive(Debug)]
pub enum Kept {
    /// Nothing: the request is made.
    Nothing,
    /// The same request, under way (a twin in flight, or an earlier try cut off part-way): its
    /// record.
    UnderWay(Remembered),
    /// The same request's answer, to give again.
    Answer(Remembered),
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("validation failed")]
    Invalid(#[from] Invalid),
    #[error("this Idempotency-Key was sent with another request")]
    KeyReused,
    #[error("a request with this Idempotency-Key is still under way")]
    InProgress(#[source] RateLimited),
    #[error(transparent)]
    Caller(#[from] CallerError),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

failure_codes!(ReplayError {
    Invalid(_) => ValidationFailed,
    KeyReused => IdempotencyKeyReused,
    InProgress(_) => RequestInProgress,
    Internal(_) => Internal,
} delegating { Caller });

impl Teamgate {
    /// What an earlier request with this key answered, if it is remembered and the same
    /// request; a key sent with another request is refused (`422`). Never this request's own
    /// answer.
    pub async fn remembered(&self, once: &Once) -> Result<Option<Remembered>, ReplayError> {
        Ok(self.kept(once).await?.answer())
    }

    /// What the key of `once` holds for it: nothing, the same request under way, or its answer;
    /// a key taken by another request is refused (`422`).
    pub async fn kept(&self, once: &Once) -> Result<Kept, ReplayError> {
        let kept = self.store().remembered(&once.key_hash).await.map_err(store_failed("remembered"))?;
        self.judged(once, kept)
    }

    /// `remembered`, for a member's request: read in the round trip that reads the caller, and
    /// given only while the claim holds (a person blocked or removed since hears that).
    pub async fn remembered_as(&self, claim: &Claim, once: &Once) -> Result<Option<Remembered>, ReplayError> {
        let (_, kept) = self.caller_with(claim, self.store().remembered(&once.key_hash)).await?;
        Ok(self.judged(once, kept.map_err(store_failed("remembered"))?)?.answer())
    }

    fn judged(&self, once: &Once, kept: Option<Remembered>) -> Result<Kept, ReplayError> {
        let now = self.now();
        match kept.filter(|kept| kept.expires_at > now && kept.request != once.request) {
            None => Ok(Kept::Nothing),
            Some(kept) if kept.fingerprint != once.fingerprint => Err(ReplayError::KeyReused),
            Some(kept) if kept.is_under_way() => Ok(Kept::UnderWay(kept)),
            Some(kept) => Ok(Kept::Answer(kept)),
        }
    }
}

impl Kept {
    /// The answer to give again, if there is one.
    fn answer(self) -> Option<Remembered> {
        match self {
            Self::Answer(kept) => Some(kept),
            Self::Nothing | Self::UnderWay(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_its_callers_and_its_requests() {
        let once = |key, scope, body| Once::of(Some(key), scope, &["invite", body]).unwrap().unwrap();
        let first = once("k-1", "user:a", "{}");
        assert_eq!(first.key_hash, once("k-1", "user:a", "{\"x\":1}").key_hash);
        assert_ne!(first.key_hash, once("k-1", "user:b", "{}").key_hash, "another caller's key");
        assert_ne!(first.fingerprint, once("k-1", "user:a", "{\"x\":1}").fingerprint, "another request");
        let split = |parts: &[&str]| Once::of(Some("k-1"), "user:a", parts).unwrap().unwrap().fingerprint;
        assert_ne!(split(&["ab", "c"]), split(&["a", "bc"]), "parts never run into each other");
        assert!(!first.key_hash.contains("k-1"));
    }

    #[test]
    fn a_key_is_printable_ascii_of_at_most_255_characters() {
        assert!(Once::of(None, "s", &[]).unwrap().is_none());
        for bad in ["", "has space", "ключ", &"k".repeat(256)] {
            assert!(Once::of(Some(bad), "s", &[]).is_err(), "{bad}");
        }
        assert!(Once::of(Some(&"k".repeat(255)), "s", &[]).unwrap().is_some());
    }
}
