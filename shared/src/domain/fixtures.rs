//! Records for the model's unit tests.

use chrono::{DateTime, Utc};

use super::account::{Account, AccountSettings};
use super::email::Email;
use super::ids::{AccountId, InvitationId, UserId};
use super::invitation::{Invitation, InvitationStatus};
use super::locale::Locale;
use super::member::{Member, MemberStatus};
use super::permission::PermissionSet;
use super::preset::InvitationMode;
use super::user::User;

/// An instant, `seconds` after a fixed one.
pub fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + seconds, 0).expect("a valid instant")
}

/// An account of the `standard` preset with no limits.
pub fn account() -> Account {
    Account {
        id: AccountId::generate(),
        name: "Shop".into(),
        preset: "standard".into(),
        locale: Locale::default(),
        owner_id: UserId::generate(),
        settings: AccountSettings::default(),
        created_at: at(0),
        owner_link: None,
        version: 0,
        owner_version: 0,
        max_members: None,
        seat_version: 0,
        custom_roles: Vec::new(),
        roles_version: 0,
    }
}

/// A person who was invited and never set a password.
pub fn user() -> User {
    User {
        id: UserId::generate(),
        email: Email::parse("anna@shop.example").expect("valid"),
        first_name: None,
        last_name: None,
        phone: None,
        locale: None,
        password_hash: None,
        token_version: 0,
        reset_links: Vec::new(),
        created_at: at(0),
        version: 0,
        memberships: Some(1),
        second_factor: None,
    }
}

/// A membership waiting on its invitation, changed four times already.
pub fn waiting_member() -> Member {
    Member {
        account_id: AccountId::generate(),
        user_id: UserId::generate(),
        email: Email::parse("anna@shop.example").expect("valid"),
        first_name: None,
        last_name: None,
        phone: None,
        roles: Vec::new(),
        permissions: PermissionSet::default(),
        status: MemberStatus::NotActivated,
        is_owner: false,
        invited_by: None,
        created_at: at(0),
        activated_at: None,
        last_login_at: None,
        invitation_id: Some(InvitationId::generate()),
        pending_until: Some(at(3600)),
        sessions_ended_at: None,
        version: 4,
    }
}

/// A `sent` invitation mailed once at `at(0)`, its link dying an hour later.
pub fn sent_invitation() -> Invitation {
    Invitation {
        id: InvitationId::generate(),
        account_id: AccountId::generate(),
        user_id: UserId::generate(),
        email: Email::parse("anna@shop.example").expect("valid"),
        roles: Vec::new(),
        permissions: PermissionSet::default(),
        status: InvitationStatus::Sent,
        mode: InvitationMode::Invitation,
        for_owner: false,
        invited_by: None,
        created_at: at(0),
        expires_at: at(3600),
        accepted_at: None,
        revoked_at: None,
        revoked_by: None,
        send_count: 1,
        last_sent_at: at(0),
        recent_sends: vec![at(0)],
        token_hash: "first".into(),
        delivery: Default::default(),
        address_refused: None,
        message: None,
        renewal_requested_at: None,
    }
}
