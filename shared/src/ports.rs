//! The narrow interfaces the use cases need from the outside world. Adapters implement them;
//! `adapters::memory` and `adapters::dynamodb` must behave identically (the contract tests say so).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{
    Account, AccountId, ApiKey, ApiKeyId, AuditAction, AuditEvent, Delivery, Email, EventId, Invitation,
    InvitationId, InvitationStatus, LinkNames, Locale, MailKind, Member, MemberStatus, OneTimeToken, Phone,
    RefreshSession, RoleName, SessionFamilyId, User, UserId,
};

/// Why a store operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition of the write failed: someone else changed what it depends on.
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    /// The store could not be reached in time, or was throttled or failing on its side: a
    /// retry may succeed. Nothing is known to be written.
    #[error("store unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The store refused the request, or an item did not read back: a fault no retry fixes.
    #[error("store failed")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
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
    /// A request with the same `Idempotency-Key` wrote first: its outcome is remembered.
    Repeated,
    /// The item changed since it was read (refresh token rotated, member changed).
    Stale,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Whether an invitation creates its user or reuses one who already has a login.
#[derive(Clone, Debug)]
pub enum InviteeUser {
    /// A user to create (with its email claim), counting this one membership.
    New(User),
    /// An existing user in its new state (`User::joined`), written provided the stored version
    /// is one less (else `Stale`): the user item counts every membership added or removed.
    Existing(User),
}

impl InviteeUser {
    pub fn id(&self) -> &UserId {
        &self.user().id
    }

    pub fn user(&self) -> &User {
        match self {
            Self::New(user) | Self::Existing(user) => user,
        }
    }
}

/// Everything one invitation writes, in one atomic step.
#[derive(Clone, Debug)]
pub struct NewInvitation {
    /// The account, as every membership keeps it (it never changes, so the inviter's read of
    /// the account gives it; the write only checks the account still exists).
    pub account: AccountSummary,
    pub invitation: Invitation,
    pub member: Member,
    pub user: InviteeUser,
    pub token: OneTimeToken,
    /// Under a unique-phone preset, the phone this invitation reserves.
    pub claim_phone: Option<Phone>,
    /// A stale `not_activated` membership (its invitation lapsed) that this invitation replaces:
    /// its invitation id. That invitation is marked `expired` in the same write, provided it was
    /// neither accepted nor revoked, and the membership still waits on it.
    pub supersedes: Option<InvitationId>,
    pub event: AuditEvent,
    /// The link's mail, into the outbox: replacing one of the same key not sent yet.
    pub mail: PendingMail,
    /// The answer to remember, when the request came with an `Idempotency-Key`: written only
    /// if no request with that key wrote first (else `Repeated`).
    pub remembered: Option<Remembered>,
    /// How a member's invitation guards the account's seats (`create_invitation`); `None` for
    /// an owner link, which the operator's write guards.
    pub seat: Option<SeatCheck>,
    /// Whether the grant names the account's own roles, and the roles as read (`RolesCheck`).
    pub roles: Option<RolesCheck>,
}

/// A write judged under the account's own roles is written only if the account's
/// `roles_version` is still `read_version`, the one its roles were judged under (else `Stale`).
/// A grant of one of them also `raises` it: a role's deletion, which counts its holders under
/// that version, then never misses this one. A write to someone holding one (a block) only
/// checks it, so that it holds up no one else's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RolesCheck {
    pub read_version: u32,
    pub raises: bool,
}

/// An invitation is written only if the account's `seat_version` is still `read_version`, the
/// one its count of the seats was made under (else `Stale`); when it `takes_seat` of a limited
/// account, it raises it in the same write, so no other invitation counted alongside it can
/// take the same seat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeatCheck {
    pub read_version: u32,
    pub takes_seat: bool,
}

/// An invitee's request for a new link: the lapsed invitation with `renewal_requested_at` set,
/// written (that field alone) provided the stored one is `sent` or `expired` with the same link
/// and not asked yet (else `Stale`), its event, and the mails to the people who manage the
/// team, into the outbox. A later whole-record write of the invitation (the cleanup's expiry)
/// requires the request as it read it.
#[derive(Clone, Debug)]
pub struct RenewalRequest {
    pub invitation: Invitation,
    pub event: AuditEvent,
    pub mails: Vec<PendingMail>,
}

/// A message in the table's outbox: written in the same write as the change it tells of, sent
/// after it (`service/mailing.rs`), and deleted once sent or given up. So no mail goes out for
/// a change that was not written, and no written change loses its mail to an SES outage.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingMail {
    /// Where it waits: one per invitation (a resend's mail replaces one not sent yet, whose
    /// link is dead), one per reset link.
    pub key: String,
    /// Which write made this version of it (random): sending settles only the version it sent.
    pub version: String,
    /// What to send, rendered only when it is sent: a fraction of the rendered mail's size,
    /// which each write of it is billed by.
    pub letter: Letter,
    /// The invitation whose link it carries, and that link: its `delivery` follows the mail,
    /// and it is sent only while the invitation is `sent` with that link.
    pub invitation: Option<MailedLink>,
    /// The reset link it carries: sent only while its user still holds it live.
    #[serde(default)]
    pub reset: Option<MailedReset>,
    pub created_at: DateTime<Utc>,
    /// Attempts made so far: each is claimed (written) before SES is called, so a sender that
    /// finds one made leaves the mail to the sweep.
    pub attempts: u32,
    /// When the outbox's sweep next sends it (the first send is the stream's, or inline).
    pub due_at: DateTime<Utc>,
    /// When its link dies: it is given up rather than sent after, and TTL collects it.
    pub expires_at: DateTime<Utc>,
}

/// A message before it is rendered: its template, language, recipient and the template's values,
/// and the tags SES gives back with each report on it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Letter {
    pub kind: MailKind,
    pub locale: Locale,
    pub to: Email,
    pub values: Vec<(String, String)>,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
}

impl Letter {
    /// A letter of `kind` in `locale` to `to`, filling its template's named `values`; no tags.
    pub fn new<'a>(
        kind: MailKind,
        locale: Locale,
        to: &Email,
        values: impl IntoIterator<Item = (&'a str, String)>,
    ) -> Self {
        let values = values.into_iter().map(|(name, value)| (name.to_owned(), value)).collect();
        Self { kind, locale, to: to.clone(), values, tags: Vec::new() }
    }
}

/// The reset link a pending mail carries: whose, and its hash.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MailedReset {
    pub user_id: UserId,
    pub token_hash: String,
}

/// The invitation a pending mail carries the link of.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MailedLink {
    pub account_id: AccountId,
    pub invitation_id: InvitationId,
    pub token_hash: String,
}

/// The answer to a request sent with an `Idempotency-Key`, kept beside what the request wrote so
/// that a retry answers the same (`service/idempotency.rs`). It is final when written: the
/// request's mail is in the outbox by then.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Remembered {
    /// SHA-256 of whose key it is and the key: never the key itself.
    pub key_hash: String,
    /// SHA-256 of what was asked (operation, path parameters, body).
    pub fingerprint: String,
    pub status: u16,
    /// The answer's JSON body, as sent.
    pub body: String,
    /// Which request wrote it (a random id of the request): never given back to that request.
    pub request: String,
    pub created_at: DateTime<Utc>,
    /// After this, the key is forgotten and may be used again.
    pub expires_at: DateTime<Utc>,
    /// While under way: until when the request that took the key holds it. A twin or a retry
    /// sent before then is told to wait; one sent after takes the key over (the request that
    /// held it was cut off). `None`: nobody holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_until: Option<DateTime<Utc>>,
}

impl Remembered {
    /// The `status` of a request under way: its key is taken for what it asks, and it has no
    /// answer yet (a bulk request writing its rows).
    pub const UNDER_WAY: u16 = 0;

    pub fn is_under_way(&self) -> bool {
        self.status == Self::UNDER_WAY
    }
}

/// Ending a `sent` invitation that no membership waits on: the invitation in its new state
/// (revoked or expired), provided it is still `sent` with the same link (else `TokenSpent`).
#[derive(Clone, Debug)]
pub struct Withdrawal {
    pub invitation: Invitation,
    pub event: AuditEvent,
}

/// What SES reported of an invitation's mail: the invitation with its new `delivery` and
/// `address_refused` (nothing else of it is written), provided its mail count, delivery and
/// refusal are still `read`'s (else `Stale`), and the audit event of a bounce or complaint.
#[derive(Clone, Debug)]
pub struct DeliveryReport {
    pub read: Invitation,
    pub invitation: Invitation,
    pub event: Option<AuditEvent>,
}

/// A new link for a `sent` invitation: the invitation in its new state (new link hash, expiry,
/// `send_count`), written provided its link is still `previous_token_hash` (else `TokenSpent`).
/// The previous link's token is deleted, so it no longer leads anywhere.
#[derive(Clone, Debug)]
pub struct Resend {
    pub invitation: Invitation,
    pub previous_token_hash: String,
    /// What SES reported of the previous mail, as read (a report since makes it `Stale`).
    pub previous_delivery: Delivery,
    pub token: OneTimeToken,
    /// The waiting membership's new state (its new `pending_until`), provided the stored one's
    /// version is one less (else `Stale`).
    pub member: Option<Member>,
    pub event: AuditEvent,
    /// The new link's mail, replacing in the outbox the previous link's if not sent yet.
    pub mail: PendingMail,
    /// The answer to a request with an `Idempotency-Key`, unless a request with that key wrote
    /// first (`Repeated`).
    pub remembered: Option<Remembered>,
}

/// A membership's new state, written provided the stored one's version is `member.version - 1`
/// (else `Stale`): role changes, blocking, unblocking.
#[derive(Clone, Debug)]
pub struct MemberUpdate {
    pub member: Member,
    pub event: AuditEvent,
    /// A new grant naming the account's own roles: the roles as read (`RolesCheck`).
    pub roles: Option<RolesCheck>,
}

/// What a removal does to the membership's user.
#[derive(Clone, Debug)]
pub enum UserAfterRemoval {
    /// The user keeps their login: their new state (`User::left_membership`), written provided
    /// the stored version is one less (else `Stale`).
    Kept(User),
    /// It was the user's last membership: the user as read goes, with their email and phone
    /// claims, provided the stored version is unchanged (else `Stale`).
    Released(User),
}

impl UserAfterRemoval {
    /// The user, as kept or as released.
    pub fn user(&self) -> &User {
        match self {
            Self::Kept(user) | Self::Released(user) => user,
        }
    }
}

/// Removing a membership, provided its stored version is still `member.version` (else `Stale`):
/// deleting a member, revoking an invitation someone waits on, expiring it.
#[derive(Clone, Debug)]
pub struct MemberRemoval {
    pub member: Member,
    /// The user, read consistently with the membership: kept (one membership fewer) or released.
    pub user: UserAfterRemoval,
    /// The invitation the membership came from, ended (revoked or expired) in the same write,
    /// provided it is still `sent` with the same link (else `TokenSpent`).
    pub end_invitation: Option<Invitation>,
    pub event: AuditEvent,
    /// A member holding the account's own roles: the roles as judged (`RolesCheck`).
    pub roles: Option<RolesCheck>,
}

/// Handing ownership over in one step: the account with its new `owner_id`, provided its stored
/// `owner_version` is one less, and both memberships in their new states, provided each stored
/// version is one less (else `Stale`).
#[derive(Clone, Debug)]
pub struct OwnershipTransfer {
    pub account: Account,
    pub former: Member,
    pub successor: Member,
    pub event: AuditEvent,
}

/// Replacing an account's owner link (owner recovery) or cancelling it (the operator): the
/// account's owner and owner link in their new state, provided its stored `owner_version` is one
/// less (else `Stale`), so of concurrent changes exactly one wins and at most one owner link is
/// ever live. A settings change does not stand in the way (it raises `version` only).
#[derive(Clone, Debug)]
pub struct OwnerLinkChange {
    pub account: Account,
    /// The previous owner link, revoked, provided it is still `sent` with its link.
    pub cancelled: Option<Invitation>,
    /// The previous link's candidate (never the owner), removed provided its version is unchanged.
    pub dropped_candidate: Option<MemberRemoval>,
    /// The new owner link, written as `create_invitation` writes one, except that a membership
    /// it supersedes (the owner's own, or the same candidate's) is replaced without touching
    /// that membership's old invitation, which this change cancels or which ended already.
    pub new_link: Option<NewInvitation>,
    /// Events besides the removal's and the new link's own.
    pub events: Vec<AuditEvent>,
}

/// A new password: the user in its new state (`User::with_password`), provided the stored
/// version is one less (else `Stale`). The reset links' tokens in `spent_links` are deleted.
#[derive(Clone, Debug)]
pub struct PasswordChange {
    pub user: User,
    pub spent_links: Vec<String>,
    /// The session the change was made in, carried over to the new token version (it goes on
    /// working; every other ends with the old version), provided its secret is still the one
    /// read (no refresh rotated it meanwhile, which this write would undo).
    pub kept_session: Option<RefreshSession>,
}

/// A sign-in: a new session, `last_login_at` stamped on the memberships in `accounts`, and
/// when a second step completed it, what that spent.
#[derive(Clone, Debug)]
pub struct SignIn {
    pub session: RefreshSession,
    pub accounts: Vec<AccountId>,
    pub at: DateTime<Utc>,
    pub second_step: Option<SecondStepSpent>,
}

/// What a completed second step uses up: the code (the user in its new state, provided the
/// stored version is one less) and the sign-in's challenge (provided it still exists).
#[derive(Clone, Debug)]
pub struct SecondStepSpent {
    pub user: User,
    pub challenge_hash: String,
}

/// The caller's own profile: the user in its new state, provided the stored version is one less
/// (else `Stale`), the profile copies on the memberships in `accounts` (each membership's version
/// raised), and the phone claims that change (under unique-phone presets).
#[derive(Clone, Debug)]
pub struct ProfileUpdate {
    pub user: User,
    pub accounts: Vec<AccountId>,
    pub claim_phone: Option<Phone>,
    pub release_phone: Option<Phone>,
}

/// A counter's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateDecision {
    Allowed,
    Limited { retry_after_seconds: u64 },
}

/// The fixed window of a rate limit that contains an instant: every store counts by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateWindow {
    /// Which window since the epoch: part of the counter's key.
    pub index: i64,
    /// When it ends, in epoch seconds: when its counter may be forgotten.
    pub ends_at: i64,
    now: i64,
}

impl RateWindow {
    pub fn containing(now: DateTime<Utc>, window_seconds: u32) -> Self {
        let window = i64::from(window_seconds.max(1));
        let index = now.timestamp().div_euclid(window);
        Self { index, ends_at: (index + 1) * window, now: now.timestamp() }
    }

    /// The verdict once `count` events, this one included, fell in the window.
    pub fn decide(&self, count: u64, limit: u32) -> RateDecision {
        if count <= u64::from(limit) {
            RateDecision::Allowed
        } else {
            RateDecision::Limited {
                retry_after_seconds: u64::try_from(self.ends_at - self.now).unwrap_or(0).max(1),
            }
        }
    }
}

/// What a link token leads to. The invitation, account, user and membership are read from their
/// own items, consistently: decisions are made on them.
#[derive(Clone, Debug)]
pub struct Redemption {
    pub token: OneTimeToken,
    pub invitation: Invitation,
    pub account: Account,
    /// The invitee; `None` once their login was released (the invitation was revoked).
    pub user: Option<User>,
    /// The invitee's membership of the account, if it still exists.
    pub member: Option<Member>,
}

/// Accepting an invitation: the new states of everything it touches, written at once, provided
/// the token is unspent, the invitation still `sent` with it (else `TokenSpent`), and the
/// membership, the user and (for an owner link) the account and former owner's membership are
/// each one version past what was read (else `Stale`).
#[derive(Clone, Debug)]
pub struct Acceptance {
    pub token_hash: String,
    pub invitation: Invitation,
    pub member: Member,
    pub user: User,
    /// Set when the acceptance records a phone number the user did not have.
    pub claim_phone: Option<Phone>,
    /// The session the acceptance signs in, or, when the person's login asks for a second
    /// step, the challenge that step answers (`TokenPurpose::SecondStep`).
    pub signs_in: SignsIn,
    pub events: Vec<AuditEvent>,
    /// An owner link: the account with the link used up (and its new owner), provided its stored
    /// `owner_version` is one less.
    pub account: Option<Account>,
    /// An owner-recovery link: the former owner's membership, no longer owner.
    pub former_owner: Option<Member>,
}

/// How a write that signs someone in does it.
#[derive(Clone, Debug)]
pub enum SignsIn {
    Session(RefreshSession),
    Challenge(OneTimeToken),
}

/// A member of one account together with that account.
#[derive(Clone, Debug)]
pub struct Membership {
    pub member: Member,
    pub account: AccountSummary,
}

/// What a membership tells of its account: only what never changes after the account is
/// created, so a store may keep a copy with every membership and read a whole login at once
/// (settings, locale and owner change; reading them means reading the account).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountSummary {
    pub id: AccountId,
    pub name: String,
    pub preset: String,
}

impl From<&Account> for AccountSummary {
    fn from(account: &Account) -> Self {
        Self { id: account.id.clone(), name: account.name.clone(), preset: account.preset.clone() }
    }
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
    /// `None` once the session ended.
    pub session: Option<RefreshSession>,
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
    /// What became of its last mail.
    pub delivery: Option<Delivery>,
    /// Statuses are judged as of this instant (a passed `sent` invitation is `expired`).
    pub now: DateTime<Utc>,
}

/// Which of an account's audit events a list or an export keeps.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    /// Events at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Events before this instant.
    pub to: Option<DateTime<Utc>>,
    pub action: Option<AuditAction>,
    /// Events done by this member (`None` keeps the system's too).
    pub actor: Option<UserId>,
    /// Events about this record (a user's, an invitation's or a key's id).
    pub target: Option<String>,
}

impl AuditQuery {
    /// Whether it leaves events out: a page of it may read past its limit to fill itself.
    pub fn is_filtered(&self) -> bool {
        self.from.is_some()
            || self.to.is_some()
            || self.action.is_some()
            || self.actor.is_some()
            || self.target.is_some()
    }

    /// The one definition of the filter, which every store applies.
    pub fn matches(&self, event: &AuditEvent) -> bool {
        self.from.is_none_or(|from| event.at >= from)
            && self.to.is_none_or(|to| event.at < to)
            && self.action.is_none_or(|a| event.action == a)
            && self.actor.as_ref().is_none_or(|actor| event.actor_id.as_ref() == Some(actor))
            && self.target.as_deref().is_none_or(|target| event.target_id == target)
    }
}

impl MemberQuery {
    /// Whether it leaves members out: a page of it may read past its limit to fill itself.
    pub fn is_filtered(&self) -> bool {
        self.status.is_some() || self.role.is_some() || self.text.is_some()
    }

    /// The one definition of the filter, which every store applies.
    pub fn matches(&self, member: &Member) -> bool {
        let contains = |field: &Option<String>, text: &str| {
            field.as_deref().is_some_and(|v| v.to_lowercase().contains(text))
        };
        self.status.is_none_or(|s| member.status == s)
            && self.role.as_ref().is_none_or(|r| member.roles.contains(r))
            && self.text.as_deref().is_none_or(|text| {
                member.email.as_str().contains(text)
                    || contains(&member.first_name, text)
                    || contains(&member.last_name, text)
            })
    }
}

impl InvitationQuery {
    /// Whether it leaves invitations out: a page of it may read past its limit to fill itself.
    pub fn is_filtered(&self) -> bool {
        self.status.is_some() || self.role.is_some() || self.email.is_some() || self.delivery.is_some()
    }

    /// The one definition of the filter, which every store applies.
    pub fn matches(&self, invitation: &Invitation) -> bool {
        self.status.is_none_or(|s| invitation.status_at(self.now) == s)
            && self.role.as_ref().is_none_or(|r| invitation.roles.contains(r))
            && self.email.as_deref().is_none_or(|text| invitation.email.as_str().contains(text))
            && self.delivery.is_none_or(|d| invitation.delivery == d)
    }
}

/// How finely a key's last use is kept: at most one write per key in this time.
pub const API_KEY_USE_RESOLUTION: chrono::Duration = chrono::Duration::minutes(1);

/// Persistence of Teamgate's records. Every method is one atomic read or write.
#[async_trait]
pub trait Store: Send + Sync {
    /// Creates the account, its owner's pending membership and activation invitation, and the
    /// events of both (the invitation's is `owner.event`; `created` is the account's).
    async fn create_account(
        &self,
        account: &Account,
        created: &AuditEvent,
        owner: &NewInvitation,
    ) -> StoreResult<()>;
    async fn account(&self, id: &AccountId) -> StoreResult<Option<Account>>;

    /// Writes the invitation, membership, token, event and (for a new user) the user and email
    /// claim. Fails with `AlreadyMember` (a membership exists that `supersedes` does not name),
    /// `EmailTaken` or `PhoneTaken` and then writes nothing.
    async fn create_invitation(&self, new: &NewInvitation) -> StoreResult<()>;
    async fn withdraw_invitation(&self, withdrawal: &Withdrawal) -> StoreResult<()>;
    /// The remembered answer of a request with this key hash, read consistently; also one
    /// past its `expires_at` (the caller judges).
    async fn remembered(&self, key_hash: &str) -> StoreResult<Option<Remembered>>;
    /// Keeps a record that no other write carries: a bulk request's, under way while its rows
    /// are written one by one (`Remembered::UNDER_WAY`). Fails with `Repeated` while a request
    /// with its key is remembered, under way or answered.
    async fn remember(&self, remembered: &Remembered) -> StoreResult<()>;
    /// Replaces the record under way of request `held_by` (its `request`) with `record`: that
    /// request's answer, its record let go, or another try's record taking the key over. Fails
    /// with `Stale` when the record is not that request's under way any more.
    async fn replace_under_way(&self, record: &Remembered, held_by: &str) -> StoreResult<()>;
    /// Fails with `Stale` when the account changed since it was read, `TokenSpent` when the
    /// cancelled link was used or ended meanwhile, and as `create_invitation` does for the new link.
    async fn change_owner_link(&self, change: &OwnerLinkChange) -> StoreResult<()>;
    async fn resend_invitation(&self, resend: &Resend) -> StoreResult<()>;
    async fn record_delivery(&self, report: &DeliveryReport) -> StoreResult<()>;
    /// The outbox's mail under `key`, read consistently.
    async fn pending_mail(&self, key: &str) -> StoreResult<Option<PendingMail>>;
    /// Up to `limit` mails of the outbox due at `now`, across all accounts: the sweep's work.
    /// Served by the outbox's own partitions, never a scan.
    async fn due_mail(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<PendingMail>>;
    /// Takes `mail` out of the outbox, provided it is still at its version (else `Stale`: a
    /// newer mail replaced it), with what its invitation records of it (as `record_delivery`
    /// writes it, with its conditions) in the same write.
    async fn settle_mail(&self, mail: &PendingMail, invitation: Option<&DeliveryReport>) -> StoreResult<()>;
    /// Writes `mail` (a new version, its attempts and next due time) in place of the stored one,
    /// provided that is still at `read_version` (else `Stale`): a sender's claim on it.
    async fn claim_mail(&self, read_version: &str, mail: &PendingMail) -> StoreResult<()>;
    /// `sent` invitations whose links died before `now`, across all accounts, oldest expiry
    /// first: the scheduled cleanup's work list. Served by an index, never a scan.
    async fn lapsed_invitations(
        &self,
        now: DateTime<Utc>,
        page: &PageRequest,
    ) -> StoreResult<Page<Invitation>>;
    /// What a link token points to; `None` for an unknown token, or one that does not name what
    /// `names` (read from the link, when it names anything) says. Expiry is the caller's to judge.
    async fn redemption(
        &self,
        token_hash: &str,
        names: Option<&LinkNames>,
    ) -> StoreResult<Option<Redemption>>;
    /// Fails with `TokenSpent` when the token was used or the invitation changed, and with
    /// `PhoneTaken` when the claimed phone belongs to someone else; then writes nothing.
    async fn accept_invitation(&self, acceptance: &Acceptance) -> StoreResult<()>;
    async fn invitation(&self, account: &AccountId, id: &InvitationId) -> StoreResult<Option<Invitation>>;
    /// Newest first.
    async fn invitations(
        &self,
        account: &AccountId,
        query: &InvitationQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Invitation>>;

    /// The user behind `email` with every membership: sign-in, and who an invitee already is.
    async fn login_by_email(&self, email: &Email) -> StoreResult<Option<Login>>;
    async fn login_by_id(&self, user: &UserId) -> StoreResult<Option<Login>>;
    /// Starts a refresh-token chain and stamps `last_login_at` on the given memberships; with a
    /// second step, spends its code and challenge in the same write (`Stale` when either was
    /// spent first, `Stale` when a membership went away).
    async fn record_sign_in(&self, sign_in: &SignIn) -> StoreResult<()>;
    /// Stores the challenge of a sign-in waiting for its second step.
    async fn issue_challenge(&self, challenge: &OneTimeToken) -> StoreResult<()>;
    /// The challenge stored under `hash`, if it is one (`TokenPurpose::SecondStep`).
    async fn challenge(&self, hash: &str) -> StoreResult<Option<OneTimeToken>>;
    async fn refresh_session(&self, family: &SessionFamilyId) -> StoreResult<Option<RefreshSession>>;
    /// Every session of the user still stored, newest first (an index: a session begun a
    /// moment ago may be missing).
    async fn sessions_of(&self, user: &UserId) -> StoreResult<Vec<RefreshSession>>;
    /// Replaces the chain's secret, provided it is still `previous_hash` (else `Stale`).
    async fn rotate_session(&self, previous_hash: &str, next: &RefreshSession) -> StoreResult<()>;
    async fn end_session(&self, family: &SessionFamilyId) -> StoreResult<()>;

    /// The account, the user, their membership and the session the caller's token names, or
    /// `None` if the account, user or membership is missing.
    async fn caller(
        &self,
        account: &AccountId,
        user: &UserId,
        session: &SessionFamilyId,
    ) -> StoreResult<Option<CallerRecord>>;
    async fn member(&self, account: &AccountId, user: &UserId) -> StoreResult<Option<Member>>;
    /// The user's own item, read consistently (a login's user may come from an index).
    async fn user(&self, user: &UserId) -> StoreResult<Option<User>>;
    /// Writes the user in its new state, provided the stored version is one less (else
    /// `Stale`), with its events; and, when the change raised the token version (ending every
    /// session), the session it was made in carried over to the new version, provided its
    /// secret is still the one read.
    async fn save_user(
        &self,
        user: &User,
        events: &[AuditEvent],
        kept: Option<&RefreshSession>,
    ) -> StoreResult<()>;
    async fn update_member(&self, update: &MemberUpdate) -> StoreResult<()>;
    async fn remove_member(&self, removal: &MemberRemoval) -> StoreResult<()>;
    async fn transfer_ownership(&self, transfer: &OwnershipTransfer) -> StoreResult<()>;
    /// Writes the account's settings and locale in their new state, provided the stored
    /// `version` is one less (else `Stale`), with an event; never its owner or owner link.
    async fn update_account_settings(&self, account: &Account, event: &AuditEvent) -> StoreResult<()>;
    /// The account's own roles as `account` has them, provided the stored `roles_version` is
    /// one less (else `Stale`).
    async fn save_roles(&self, account: &Account, event: &AuditEvent) -> StoreResult<()>;
    async fn request_renewal(&self, request: &RenewalRequest) -> StoreResult<()>;
    /// Writes the account's seat limit, raising its `seat_version` (invitations counted under
    /// the old limit count again), with an event; `Stale` if the account is gone.
    async fn set_seat_limit(&self, account: &Account, event: &AuditEvent) -> StoreResult<()>;
    /// How many of the account's members hold a seat at `now` (`Member::holds_seat`), read
    /// strongly consistent.
    async fn seats_used(&self, account: &AccountId, now: DateTime<Utc>) -> StoreResult<u32>;

    async fn change_password(&self, change: &PasswordChange) -> StoreResult<()>;
    /// Stores a reset link's token with the user in its new state (`User::with_reset_link`),
    /// provided the stored version is one less (else `Stale`), and the link's mail.
    async fn issue_password_reset(
        &self,
        user: &User,
        token: &OneTimeToken,
        mail: &PendingMail,
    ) -> StoreResult<()>;
    /// A reset link's token with its user's login, the user read consistently; `None` for an
    /// unknown token, or one that does not name what `names` says.
    async fn password_reset(
        &self,
        token_hash: &str,
        names: Option<&LinkNames>,
    ) -> StoreResult<Option<(OneTimeToken, Login)>>;
    /// Fails with `PhoneTaken` when the claimed phone belongs to someone else.
    async fn update_profile(&self, update: &ProfileUpdate) -> StoreResult<()>;

    /// Counts one event against `key` in the fixed window of `window_seconds` containing `now`;
    /// `Limited` once more than `limit` were counted there. Counters expire with their window.
    async fn hit_rate_limit(
        &self,
        key: &str,
        limit: u32,
        window_seconds: u32,
        now: DateTime<Utc>,
    ) -> StoreResult<RateDecision>;

    /// Writes the key in its new state with its event: a first version provided no key has its
    /// id, a later one provided the stored version is one less (else `Stale`). When it was last
    /// used is left as stored.
    async fn save_api_key(&self, key: &ApiKey, event: &AuditEvent) -> StoreResult<()>;
    /// The key, read consistently, with when it was last used.
    async fn api_key(&self, account: &AccountId, id: &ApiKeyId) -> StoreResult<Option<ApiKey>>;
    /// Every key of the account, newest first.
    async fn api_keys(&self, account: &AccountId) -> StoreResult<Vec<ApiKey>>;
    /// Notes that the key was used at `at`, unless a use within `API_KEY_USE_RESOLUTION` before
    /// it is noted already (then it writes nothing).
    async fn note_api_key_use(
        &self,
        account: &AccountId,
        id: &ApiKeyId,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// The audit events `keys` name, in their order, read consistently: `Gone` for one no longer
    /// in the table (TTL), `Unreadable` for one this version cannot read (each apart).
    async fn audit_events_named(&self, keys: &[EventKey]) -> StoreResult<Vec<NamedEvent>>;
    /// Newest first.
    async fn audit_events(
        &self,
        account: &AccountId,
        query: &AuditQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<AuditEvent>>;
    /// Ordered by user id (time-ordered: oldest users first).
    async fn members(
        &self,
        account: &AccountId,
        query: &MemberQuery,
        page: &PageRequest,
    ) -> StoreResult<Page<Member>>;
}

/// An email to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Names SES gives back with each report on the message (`service/mail_events.rs`).
    pub tags: Vec<(String, String)>,
    pub to: Email,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Where an audit event is: what the table's stream names of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventKey {
    pub account_id: AccountId,
    pub event_id: EventId,
}

impl From<&AuditEvent> for EventKey {
    fn from(event: &AuditEvent) -> Self {
        Self { account_id: event.account_id.clone(), event_id: event.id.clone() }
    }
}

/// What the store holds where an `EventKey` points.
#[derive(Clone, Debug, PartialEq)]
pub enum NamedEvent {
    Found(AuditEvent),
    Gone,
    Unreadable(String),
}

/// One event as the event bus carries it: an audit event, named for the rules that match it.
#[derive(Clone, Debug, PartialEq)]
pub struct BusEvent {
    /// `Invitation Sent`, `Member Blocked`… (`AuditAction::detail_type`).
    pub detail_type: &'static str,
    /// The event as JSON (`service/publish.rs`, `Detail`).
    pub detail: String,
    pub time: DateTime<Utc>,
}

/// The most events one `EventBus::put` takes (EventBridge's `PutEvents` limit).
pub const BUS_BATCH: usize = 10;

#[derive(Debug, thiserror::Error)]
#[error("event bus unavailable")]
pub struct BusUnavailable(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// Where events go: EventBridge, or the dev server's outbox.
#[async_trait]
pub trait EventBus: Send + Sync {
    /// Puts at most `BUS_BATCH` events; whether each was taken, in their order (a bus may take
    /// some of a batch and refuse others).
    async fn put(&self, events: &[BusEvent]) -> Result<Vec<bool>, BusUnavailable>;
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The mail service refused this message (unverified sender, suppressed address…).
    #[error("message rejected: {0}")]
    Rejected(String),
    /// The mail service could not be reached in time, or was throttling or failing: a retry
    /// may succeed.
    #[error("mail service unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The message could not be built, or the service refused the call (a permission, a
    /// setting): a fault no retry fixes.
    #[error("mail service failed")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError>;
}

/// Why a secret could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// Not sealed by this vault's key for this context (another deployment's key, another
    /// user's secret copied over, a damaged value).
    #[error("the sealed value does not open with this key and context")]
    Unopenable,
    /// The key service could not be reached in time, or was throttling or failing: a retry
    /// may succeed.
    #[error("key service unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The key service refused the call (a permission, a disabled key), or this function keeps
    /// no secrets: a fault no retry fixes.
    #[error("key service failed")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Keeps secrets the table must hold but never show (the TOTP secrets): KMS in AWS, a local
/// key in the dev server. A value is sealed for a context (the user it belongs to) and opens
/// only for it, so a sealed secret moved onto another record opens nothing.
#[async_trait]
pub trait Vault: Send + Sync {
    async fn seal(&self, plaintext: &[u8], context: &str) -> Result<String, VaultError>;
    async fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, VaultError>;
}

/// The current time; the dev server's can be moved forward.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Cryptographically secure random bytes.
pub trait Rng: Send + Sync {
    fn fill(&self, bytes: &mut [u8]);
}
