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
    /// How many times the chain rotated: its current refresh token's generation. A genuine
    /// token of an earlier generation presented again was copied (theft) and ends the chain.
    #[serde(default)]
    pub generation: u32,
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
    /// The session as its next token (of the next generation, its secret hashed) is issued at
    /// `now`, from `client`.
    pub fn used(self, secret_hash: String, client: SessionClient, now: DateTime<Utc>) -> Self {
        Self { secret_hash, generation: self.generation + 1, last_used_at: Some(now), client, ..self }
    }
}
