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
}
