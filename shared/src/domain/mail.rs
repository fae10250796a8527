//! The messages Teamgate sends, by kind (their templates: `service/support/mail.rs`).

use serde::{Deserialize, Serialize};

/// The kinds of message Teamgate sends; each has a table in every language's file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    Invitation,
    OwnerActivation,
    PasswordSet,
    PasswordReset,
    PasswordChanged,
    OwnershipTransferredNewOwner,
    OwnershipTransferredFormerOwner,
    InvitationUndelivered,
    /// To the people who manage an account's team: an invitee asked for a new link.
    RenewalRequested,
    SecondFactorReset,
    SecondFactorEnabled,
    SecondFactorDisabled,
}

impl MailKind {
    /// Whether it is one of the outbox's letters (a link, or a request the team must answer),
    /// rendered where the outbox is sent; else a notice its function sends itself.
    pub fn is_letter(self) -> bool {
        matches!(
            self,
            Self::Invitation
                | Self::OwnerActivation
                | Self::PasswordSet
                | Self::PasswordReset
                | Self::RenewalRequested
        )
    }

    /// The name of its table in the templates (`shared/templates/mail/`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::OwnerActivation => "owner_activation",
            Self::PasswordSet => "password_set",
            Self::PasswordReset => "password_reset",
            Self::PasswordChanged => "password_changed",
            Self::OwnershipTransferredNewOwner => "ownership_transferred_new_owner",
            Self::OwnershipTransferredFormerOwner => "ownership_transferred_former_owner",
            Self::InvitationUndelivered => "invitation_undelivered",
            Self::RenewalRequested => "renewal_requested",
            Self::SecondFactorReset => "second_factor_reset",
            Self::SecondFactorEnabled => "second_factor_enabled",
            Self::SecondFactorDisabled => "second_factor_disabled",
        }
    }
}
