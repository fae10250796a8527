//! The narrow interfaces the use cases need from the outside world. Adapters implement them;
//! `adapters::memory` and `adapters::dynamodb` must behave identically (the contract tests say so).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{
    Account, AccountId, Email, Invitation, InvitationId, InvitationStatus, Member, MemberStatus,
    OneTimeToken, Phone, RefreshSession, RoleName, SessionFamilyId, User, UserId,
};

/// Why a store operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition of the write failed: someone else changed what it depends on.
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    /// The store could not be reached or answered with an error; nothing is known to be written.
    #[error("store unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Which rule a failed write condition protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// The email already belongs to a member of the account (or, under a unique-email preset,
    /// to anyone).
    EmailTaken,
    /// The phone number already belongs to someone.
    PhoneTaken,
    /// The invitee already has a membership in the account that this write would overwrite.
    AlreadyMember,
    /// The one-time token was used, or the invitation left `sent`, since it was read.
    TokenSpent,
    /// The item changed since it was read (refresh token rotated, member changed).
    Stale,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Who the invitee of an invitation is, as far as the store knows.
#[derive(Clone, Debug, Default)]
pub struct Invitee {
    pub user: Option<User>,
    pub member: Option<Member>,
    /// Their latest invitation into the account, when they have a membership from one.
    pub pending_invitation: Option<Invitation>,
}

/// Whether an invitation creates its user or reuses one who already has a login.
#[derive(Clone, Debug)]
pub enum InviteeUser {
    New(User),
    Existing(UserId),
}

/// Everything one invitation writes, in one atomic step.
#[derive(Clone, Debug)]
pub struct NewInvitation {
    pub invitation: Invitation,
    pub member: Member,
    pub user: InviteeUser,
    pub token: OneTimeToken,
    /// Under a unique-phone preset, the phone this invitation reserves.
    pub claim_phone: Option<Phone>,
}

/// What a link token leads to.
#[derive(Clone, Debug)]
pub struct Redemption {
    pub token: OneTimeToken,
    pub invitation: Invitation,
    pub account: Account,
    /// The invitee with every membership they have.
    pub login: Login,
}

/// Accepting an invitation: the new states of everything it touches, written at once,
/// provided the token is unspent and the invitation still `sent`.
#[derive(Clone, Debug)]
pub struct Acceptance {
    pub token_hash: String,
    pub invitation: Invitation,
    pub member: Member,
    pub user: User,
    /// Set when the acceptance records a phone number the user did not have.
    pub claim_phone: Option<Phone>,
    pub session: RefreshSession,
}

/// A member of one account together with that account.
#[derive(Clone, Debug)]
pub struct Membership {
    pub member: Member,
    pub account: Account,
}

/// A user and all their memberships: what sign-in, refresh and `/v1/me` answer with.
#[derive(Clone, Debug)]
pub struct Login {
    pub user: User,
    pub memberships: Vec<Membership>,
}

/// The caller of an account route, read in one go.
#[derive(Clone, Debug)]
pub struct CallerRecord {
    pub account: Account,
    pub user: User,
    pub member: Member,
}

/// One page request; `after` is a position a previous page returned.
#[derive(Clone, Debug)]
pub struct PageRequest {
    pub limit: usize,
    pub after: Option<String>,
}

/// Items in list order and, unless this is the last page, the position to continue after.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct MemberQuery {
    pub status: Option<MemberStatus>,
    pub role: Option<RoleName>,
    /// Lowercase text that the email or either name must contain.
    pub text: Option<String>,
}

#[derive(Clone, Debug)]
pub struct InvitationQuery {
    pub status: Option<InvitationStatus>,
    pub role: Option<RoleName>,
    /// Lowercase text the email must contain.
    pub email: Option<String>,
    /// Statuses are judged as of this instant (a passed `sent` invitation is `expired`).
    pub now: DateTime<Utc>,
}

/// Persistence of Teamgate's records. Every method is one atomic read or write.
#[async_trait]
pub trait Store: Send + Sync {
    /// Creates the account, its owner's pending membership and activation invitation.
    async fn create_account(&self, account: &Account, owner: &NewInvitation) -> StoreResult<()>;
    async fn account(&self, id: &AccountId) -> StoreResult<Option<Account>>;

    /// The user behind `email` and their membership in `account`.
    async fn invitee(&self, account: &AccountId, email: &Email) -> StoreResult<Invitee>;
    /// Writes the invitation, membership, token and (for a new user) the user and email claim.
    /// Fails with `AlreadyMember`, `EmailTaken` or `PhoneTaken` and then writes nothing.
    async fn create_invitation(&self, new: &NewInvitation) -> StoreResult<()>;
    /// What a link token points to; `None` for an unknown token. Expiry is the caller's to judge.
    async fn redemption(&self, token_hash: &str) -> StoreResult<Option<Redemption>>;
    /// Fails with `TokenSpent` when the token was used or the invitation changed, and with
    /// `PhoneTaken` when the claimed phone belongs to someone else; then writes nothing.
    async fn accept_invitation(&self, acceptance: &Acceptance) -> StoreResult<()>;
    async fn invitation(
        &self,
        account: &AccountId,
        id: &InvitationId,
    ) -> StoreResult<Option<Invitation>>;
    /// Newest first.
    async fn invitations(
        &self,
        account: &AccountId,
        query: &InvitationQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Invitation>>;

    async fn login_by_email(&self, email: &Email) -> StoreResult<Option<Login>>;
    async fn login_by_id(&self, user: &UserId) -> StoreResult<Option<Login>>;
    /// Starts a refresh-token chain and stamps `last_login_at` on the given memberships.
    async fn record_sign_in(
        &self,
        session: &RefreshSession,
        accounts: &[AccountId],
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    async fn refresh_session(
        &self,
        family: &SessionFamilyId,
    ) -> StoreResult<Option<RefreshSession>>;
    /// Replaces the chain's secret, provided it is still `previous_hash` (else `Stale`).
    async fn rotate_session(&self, previous_hash: &str, next: &RefreshSession) -> StoreResult<()>;
    async fn end_session(&self, family: &SessionFamilyId) -> StoreResult<()>;

    /// The account, the user and their membership, or `None` if any is missing.
    async fn caller(&self, account: &AccountId, user: &UserId)
    -> StoreResult<Option<CallerRecord>>;
    async fn member(&self, account: &AccountId, user: &UserId) -> StoreResult<Option<Member>>;
    /// In order of joining.
    async fn members(
        &self,
        account: &AccountId,
        query: &MemberQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Member>>;
}

/// An email to send.
#[derive(Clone, Debug)]
pub struct OutgoingMail {
    pub to: Email,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The mail service refused this message (unverified sender, suppressed address…).
    #[error("message rejected: {0}")]
    Rejected(String),
    /// The mail service could not be reached or kept failing.
    #[error("mail service unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError>;
}

/// The current time; the dev server's can be moved forward.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Cryptographically secure random bytes.
pub trait Rng: Send + Sync {
    fn fill(&self, bytes: &mut [u8]);
}
