//! A signed-in session: a chain of rotating refresh tokens.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{SessionFamilyId, UserId};

/// The live end of a chain of refresh tokens. Presenting an older token of the chain
/// (its secret no longer matches) is treated as theft and ends the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshSession {
    pub family_id: SessionFamilyId,
    pub user_id: UserId,
    pub secret_hash: String,
    pub token_version: u32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When its last token was issued (sign-in, refresh, a second step): how recently it was
    /// used, to a refresh interval (an access token lives 15 minutes).
    #[serde(default)]
    pub last_used_at: Option<DateTime<Utc>>,
    /// Where it was last used from, for the person to recognise it.
    #[serde(default)]
    pub client: SessionClient,
    /// The hash of the secret this one replaced: presenting it again is a copied token (theft),
    /// and ends the chain. Any other wrong secret is refused alone, so someone who knows only
    /// the session's id (every access token names it) cannot end it.
    #[serde(default)]
    pub previous_secret_hash: Option<String>,
}

/// Where a session was used from, as the request said: shown to its owner, never trusted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClient {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The longest user agent kept: enough to recognise a browser, never a whole header.
const USER_AGENT_CHARS: usize = 256;

impl SessionClient {
    pub fn new(ip: Option<String>, user_agent: Option<&str>) -> Self {
        let user_agent = user_agent
            .map(|ua| ua.chars().filter(|c| !c.is_control()).take(USER_AGENT_CHARS).collect::<String>())
            .filter(|ua| !ua.is_empty());
        Self { ip, user_agent }
    }
}

impl RefreshSession {
    /// The session as its next token is issued at `now`, from `client`.
    pub fn used(self, secret_hash: String, client: SessionClient, now: DateTime<Utc>) -> Self {
        let previous_secret_hash = Some(self.secret_hash.clone());
        Self { secret_hash, previous_secret_hash, last_used_at: Some(now), client, ..self }
    }
}
