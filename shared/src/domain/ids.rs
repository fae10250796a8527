//! The ids of records: time-ordered UUIDs, parsed only in the shape they are minted in.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A new, time-ordered id (UUIDv7), so keys sort by creation.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }

            /// Accepts only the shape ids are minted in (a lower-case, hyphenated UUID); anything
            /// else cannot name a record, so one record has one spelling everywhere.
            pub fn parse(raw: &str) -> Option<Self> {
                let canonical = uuid::Uuid::try_parse(raw).ok()?.to_string();
                (canonical == raw).then_some(Self(canonical))
            }

            /// Sorts before every real id: where a key range starts.
            pub fn lowest() -> Self {
                Self(String::new())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A seller account.
    AccountId
);
id_type!(
    /// A person with one login, possibly a member of several accounts.
    UserId
);
id_type!(
    /// One invitation into one account.
    InvitationId
);
id_type!(
    /// A chain of rotated refresh tokens from one sign-in.
    SessionFamilyId
);
id_type!(
    /// One entry of an account's audit log.
    EventId
);
id_type!(
    /// One API key of an account.
    ApiKeyId
);

#[cfg(test)]
mod tests {
    use super::AccountId;

    #[test]
    fn an_id_has_one_spelling() {
        let id = AccountId::generate();
        assert_eq!(AccountId::parse(id.as_str()), Some(id.clone()));
        let simple = id.as_str().replace('-', "");
        for other in [
            id.as_str().to_uppercase(),
            simple.clone(),
            format!("{{{id}}}"),
            format!("urn:uuid:{id}"),
            String::new(),
        ] {
            assert_eq!(AccountId::parse(&other), None, "{other}");
        }
    }
}
