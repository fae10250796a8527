//! Inviting someone into an account, and the drafting and mailing every invitation shares.

use chrono::{DateTime, Utc};

use crate::domain::role::GrantRefusal;
use crate::domain::{
    Account, AuditAction, AuditTarget, Delivery, Email, FieldError, FieldErrors, Grant, Invitation,
    InvitationId, InvitationMessage, InvitationMode, InvitationStatus, LinkNames, Locale, MailKind, Member,
    MemberStatus, OneTimeToken, Preset, Profile, ProfileInput, Roles, TokenPurpose, User, UserId,
};
use crate::failure_codes;
use crate::ports::{
    AccountSummary, Conflict, InviteeUser, Letter, Login, MailedLink, NewInvitation, PendingMail, RolesCheck,
    SeatCheck, StoreError,
};
use crate::service::Teamgate;
use crate::service::caller::{Caller, CallerError, Claim};
use crate::service::idempotency::Once;
use crate::service::mailing::invitation_mail_key;
use crate::service::support::failure::RateLimited;
use crate::service::support::failure::store_failed;
use crate::service::support::failure::{InternalError, Invalid};
use crate::service::support::limits::Limit;
use crate::service::support::secrets::{hash_secret, link_token};
use crate::service::support::views::InvitationView;

#[derive(Debug, Default)]
pub struct InviteCommand {
    pub email: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
    pub profile: ProfileInput,
    pub locale: Option<String>,
    /// The inviter's note to the invitee (`InvitationMessage`).
    pub message: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    #[error("validation failed")]
    Invalid(#[from] Invalid),
    #[error("the invitation grants more than the caller holds")]
    RoleEscalation,
    #[error("the email already belongs to a member")]
    EmailTaken,
    #[error("the email already has a pending invitation")]
    InvitationPending,
    #[error("the phone already belongs to someone")]
    PhoneTaken,
    #[error("every seat of the account is taken")]
    SeatLimitReached,
    #[error("the invitee changed while the invitation was being written")]
    ConcurrentChange,
    #[error("rate limited")]
    RateLimited(#[from] RateLimited),
    #[error(transparent)]
    Caller(#[from] CallerError),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

/// A store error as the invite use case answers it: a lost race is a 409, never a 500.
impl From<StoreError> for InviteError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(_) => Self::ConcurrentChange,
            other => InternalError::from(other).into(),
        }
    }
}

failure_codes!(InviteError {
    Invalid(_) => ValidationFailed,
    RoleEscalation => RoleEscalation,
    EmailTaken => EmailTaken,
    InvitationPending => InvitationPending,
    PhoneTaken => PhoneTaken,
    SeatLimitReached => SeatLimitReached,
    ConcurrentChange => ConcurrentChange,
    RateLimited(_) => RateLimited,
    Internal(_) => Internal,
} delegating { Caller });

/// How many times an invitation that lost a race (for the invitee, or for a seat) is written
/// again from a fresh read before it answers `concurrent_change`.
const RETRIES_AFTER_A_LOST_RACE: usize = 3;

/// An invitation to send: to whom, granting what, and the invitation it replaces, if any.
pub(crate) struct InvitationRequest<'a> {
    pub email: Email,
    pub grant: Grant,
    pub profile: Profile,
    pub locale: Option<Locale>,
    pub message: Option<InvitationMessage>,
    /// A revoked or expired invitation this one replaces (a resend): its sends count on.
    pub replaces: Option<&'a Invitation>,
    /// The request's `Idempotency-Key`: its answer is written with the invitation.
    pub once: Option<&'a Once>,
}

/// Who the invitee is, as far as the use case has read: the login of their email, read before
/// the write (its user is trusted up to its version, which the write checks), or not read yet.
pub(crate) enum Invitee {
    Read(Box<Option<Login>>),
    Unread,
}

/// What a new invitation is made of, before it is written.
pub(crate) struct Draft<'a> {
    pub account: &'a Account,
    pub preset: &'a Preset,
    pub email: Email,
    pub grant: Grant,
    pub user: InviteeUser,
    pub profile: Profile,
    pub invited_by: Option<UserId>,
    pub for_owner: bool,
    pub supersedes: Option<InvitationId>,
    /// Whom the mail names as inviting (the inviter, or the marketplace for an owner link), and
    /// the language asked for it, if any (else the invitee's, else the account's).
    pub inviter: &'a str,
    pub locale: Option<Locale>,
    pub message: Option<InvitationMessage>,
}

/// `user` in the state an invitation leaves them in: one membership more, or the same one
/// replaced (`replaces_membership`).
fn joining(user: User, replaces_membership: bool) -> User {
    if replaces_membership { user.reinvited() } else { user.joined() }
}

/// An invitation to write, its link's mail in it, and how the answer shows it.
pub(crate) struct Drafted {
    pub new: NewInvitation,
    pub view: InvitationView,
}

impl Teamgate {
    /// The invitee's login is read with the caller (one round trip), the mail is counted (a
    /// second), and the invitation is written with its mail (a third).
    pub async fn invite(
        &self,
        claim: &Claim,
        command: InviteCommand,
        once: Option<&Once>,
    ) -> Result<InvitationView, InviteError> {
        let mut errors = FieldErrors::default();
        let email = errors.check(Email::parse(&command.email));
        let login = async {
            match &email {
                Some(email) => self.store().login_by_email(email).await,
                None => Ok(None),
            }
        };
        let (caller, login) = self.caller_with(claim, login).await?;
        let login = login.map_err(store_failed("login_by_email"))?;
        let request = InvitationRequest { once, ..checked_request(&caller, email, errors, &command)? };
        self.send_invitation(&caller, &request, Invitee::Read(Box::new(login))).await
    }

    /// Writes an invitation (`written_invitation`), then sends its mail (`service/mailing.rs`).
    pub(crate) async fn send_invitation(
        &self,
        caller: &Caller<'_>,
        request: &InvitationRequest<'_>,
        invitee: Invitee,
    ) -> Result<InvitationView, InviteError> {
        let written = self.written_invitation(caller, request, invitee).await?;
        self.dispatch(&written.new.mail).await;
        Ok(written.view)
    }

    /// Every new invitation passes here, a resend that replaces a revoked or expired one
    /// included: refused domains, the caller's ceiling, the inviter's and the address's mail
    /// limits (counted first: what is written is never taken back), uniqueness, then one write
    /// with the mail, which is the caller's to send once written.
    pub(crate) async fn written_invitation(
        &self,
        caller: &Caller<'_>,
        request: &InvitationRequest<'_>,
        invitee: Invitee,
    ) -> Result<Drafted, InviteError> {
        let preset = caller.preset;
        if let Some(refused) = refused_domain(caller, &request.email) {
            return Err(Invalid::from(refused).into());
        }
        let mut roles = caller.may_grant(&caller.account, &request.grant)?;
        // A refused attempt counts too. An invitee not read yet is read meanwhile, and trusted
        // as one read with the caller is (the write checks their version).
        let login = async {
            match invitee {
                Invitee::Read(login) => Ok(*login),
                Invitee::Unread => self.store().login_by_email(&request.email).await,
            }
        };
        let (counted, seat, login) = tokio::join!(
            self.throttle_invitation_mail(caller, &request.email),
            self.free_seat(&caller.account),
            login
        );
        counted??;
        let mut seat = seat?;
        let invitee = Invitee::Read(Box::new(login.map_err(store_failed("login_by_email"))?));
        let mut attempt = self.write_invitation(caller, request, invitee, (seat, roles)).await;
        let (mut invitee_read_again, mut recounts) = (false, 0);
        loop {
            match &attempt {
                // Someone created this email's user between our read and our write (another
                // account invited them at the same moment): invite the user as they are now.
                Err(InviteError::EmailTaken)
                    if !preset.email_unique_across_accounts && !invitee_read_again =>
                {
                    invitee_read_again = true;
                }
                // ... or changed the user, or the seats changed (another invitation took one,
                // the limit moved), or the account's roles did: count and judge again too, a
                // few times, as invitations into one account may come in bursts.
                Err(InviteError::ConcurrentChange) if recounts < RETRIES_AFTER_A_LOST_RACE => {
                    recounts += 1;
                    let account = self.account_now(&caller.account.id).await?;
                    seat = self.free_seat(&account).await?;
                    roles = caller.may_grant(&account, &request.grant)?;
                }
                _ => return attempt,
            }
            attempt = self.write_invitation(caller, request, Invitee::Unread, (seat, roles)).await;
        }
    }

    /// Counts one invitation mail against the inviter and against the address (across every
    /// invitation of the account to it, so revoking and resending cannot flood an inbox).
    pub(crate) async fn throttle_invitation_mail(
        &self,
        caller: &Caller<'_>,
        email: &Email,
    ) -> Result<Result<(), RateLimited>, InternalError> {
        let account = &caller.account.id;
        let per_address = Limit { count: caller.preset.resend_limit_per_hour, window_seconds: 3600 };
        self.throttle(&[
            (format!("invite:{account}:{}", caller.user.id), self.settings.limits.invite_per_member),
            (format!("invitation-mail:{account}:{email}"), per_address),
        ])
        .await
    }

    /// Writes the invitation for the invitee, reading who they are unless already read, under
    /// the seats as counted and the roles as judged.
    async fn write_invitation(
        &self,
        caller: &Caller<'_>,
        request: &InvitationRequest<'_>,
        invitee: Invitee,
        (seat, roles): (SeatCheck, Option<RolesCheck>),
    ) -> Result<Drafted, InviteError> {
        let InvitationRequest { email, grant, profile, locale, message, replaces, once } = request;
        let locale = *locale;
        let (account, preset) = (&caller.account, caller.preset);
        let (invitee, read_with_caller) = match invitee {
            Invitee::Read(login) => (*login, true),
            Invitee::Unread => {
                (self.store().login_by_email(email).await.map_err(store_failed("login_by_email"))?, false)
            }
        };
        let (user, supersedes) = match invitee {
            None => (InviteeUser::New(self.new_user(email, profile, locale)), None),
            Some(login) => {
                let supersedes = self.stale_membership(&login, account)?;
                let used_elsewhere = login.user.password_hash.is_some()
                    || login.memberships.iter().any(|m| m.account.id != account.id);
                if preset.email_unique_across_accounts && used_elsewhere {
                    return Err(InviteError::EmailTaken);
                }
                // The login's user stands when read with the caller (a stale one fails the
                // write's version check, and the retry reads it consistently).
                let user = match read_with_caller {
                    true => joining(login.user.clone(), supersedes.is_some()),
                    false => self.invitee(&login.user.id, supersedes.is_some()).await?,
                };
                (InviteeUser::Existing(user), supersedes)
            }
        };
        let inviter = display_name(&caller.user);
        let mut drafted = self.draft_invitation(Draft {
            account,
            preset,
            email: email.clone(),
            grant: grant.clone(),
            user,
            profile: profile.clone(),
            invited_by: Some(caller.user.id.clone()),
            for_owner: false,
            supersedes,
            inviter: &inviter,
            locale,
            message: message.clone(),
        });
        if let Some(previous) = replaces {
            // The chain's sends count together: the hourly limit spans every invitation of it.
            let invitation = &mut drafted.new.invitation;
            invitation.send_count = previous.send_count;
            invitation.address_refused = previous.address_refused;
            invitation.recent_sends = previous.recent_sends.clone();
            invitation.record_send(self.now(), preset.resend_limit_per_hour).map_err(|wait| {
                InviteError::RateLimited(RateLimited { retry_after: seconds_to_wait(wait) })
            })?;
            // SES's reports on the mail name its send in the chain.
            drafted.new.mail.letter.tags = super::mail_events::invitation_tags(invitation);
        }
        let superseding = drafted.new.supersedes.is_some();
        drafted.view = InvitationView::new(&drafted.new.invitation, self.now());
        let created = http::StatusCode::CREATED;
        drafted.new.remembered = once.map(|once| once.remember(created, &drafted.view, self.now()));
        drafted.new.seat = Some(seat);
        drafted.new.roles = roles;
        self.store().create_invitation(&drafted.new).await.map_err(|e| match e {
            // A twin request with the same key wrote it: its answer is the answer (`http`).
            StoreError::Conflict(Conflict::Repeated) => InviteError::InvitationPending,
            // The lapsed membership it replaces went meanwhile (the cleanup): read again.
            StoreError::Conflict(Conflict::AlreadyMember) if superseding => InviteError::ConcurrentChange,
            StoreError::Conflict(Conflict::AlreadyMember) => InviteError::InvitationPending,
            StoreError::Conflict(Conflict::EmailTaken) => InviteError::EmailTaken,
            StoreError::Conflict(Conflict::PhoneTaken) => InviteError::PhoneTaken,
            StoreError::Conflict(_) => InviteError::ConcurrentChange,
            other => store_failed("create_invitation")(other).into(),
        })?;
        Ok(drafted)
    }

    /// The invitee's membership of `account` that a new invitation may replace: none, or one whose
    /// invitation expired before the cleanup removed it. Any other membership is a conflict.
    fn stale_membership(
        &self,
        login: &Login,
        account: &Account,
    ) -> Result<Option<InvitationId>, InviteError> {
        let Some(membership) = login.memberships.iter().find(|m| m.account.id == account.id) else {
            return Ok(None);
        };
        let member = &membership.member;
        match (member.status, member.pending_until) {
            (MemberStatus::NotActivated, Some(until)) if until <= self.now() => {
                Ok(member.invitation_id.clone())
            }
            (MemberStatus::NotActivated, _) => Err(InviteError::InvitationPending),
            _ => Err(InviteError::EmailTaken),
        }
    }

    /// An existing user about to be invited, read consistently, in the state the invitation
    /// leaves them in: one membership more, or the same one replaced (`replaces_membership`).
    pub(crate) async fn invitee(&self, user: &UserId, replaces_membership: bool) -> Result<User, StoreError> {
        let user = self.store().user(user).await?.ok_or(StoreError::Conflict(Conflict::Stale))?;
        Ok(joining(user, replaces_membership))
    }

    pub(crate) fn new_user(&self, email: &Email, profile: &Profile, locale: Option<Locale>) -> User {
        User {
            id: UserId::generate(),
            email: email.clone(),
            first_name: profile.first_name.as_ref().map(|n| n.to_string()),
            last_name: profile.last_name.as_ref().map(|n| n.to_string()),
            phone: profile.phone.clone(),
            locale,
            password_hash: None,
            token_version: 0,
            reset_links: Vec::new(),
            created_at: self.now(),
            version: 0,
            memberships: Some(1),
            second_factor: None,
        }
    }

    /// Builds the invitation, the membership it creates and its link token.
    pub(crate) fn draft_invitation(&self, draft: Draft<'_>) -> Drafted {
        let now = self.now();
        let Draft {
            account,
            preset,
            email,
            grant,
            user,
            profile,
            invited_by,
            for_owner,
            supersedes,
            inviter,
            locale,
            message,
        } = draft;
        let user_id = user.id().clone();
        let mode = if for_owner { InvitationMode::Invitation } else { preset.mode };
        let expires_at = now + account.settings.invitation_lifetime(preset);
        let id = InvitationId::generate();
        let purpose = TokenPurpose::Invitation { account_id: account.id.clone(), invitation_id: id.clone() };
        let secret = link_token(self.ports.rng.as_ref(), &LinkNames { user_id: user_id.clone(), purpose });
        let token_hash = hash_secret(&secret);
        let invitation = Invitation {
            id,
            account_id: account.id.clone(),
            user_id: user_id.clone(),
            email: email.clone(),
            roles: grant.roles.clone(),
            permissions: grant.permissions.clone(),
            status: InvitationStatus::Sent,
            mode,
            for_owner,
            invited_by: invited_by.clone(),
            created_at: now,
            expires_at,
            accepted_at: None,
            revoked_at: None,
            revoked_by: None,
            send_count: 1,
            last_sent_at: now,
            recent_sends: vec![now],
            token_hash: token_hash.clone(),
            delivery: Delivery::Pending,
            address_refused: None,
            message,
            renewal_requested_at: None,
        };
        let direct = mode == InvitationMode::Direct;
        let member = Member {
            account_id: account.id.clone(),
            user_id: user_id.clone(),
            email,
            first_name: profile.first_name.as_ref().map(|n| n.to_string()),
            last_name: profile.last_name.as_ref().map(|n| n.to_string()),
            phone: profile.phone.clone(),
            roles: grant.roles,
            permissions: grant.permissions,
            status: if direct { MemberStatus::Active } else { MemberStatus::NotActivated },
            is_owner: for_owner,
            invited_by,
            created_at: now,
            activated_at: direct.then_some(now),
            last_login_at: None,
            invitation_id: Some(invitation.id.clone()),
            pending_until: (!direct).then_some(expires_at),
            sessions_ended_at: None,
            version: 0,
        };
        let token = OneTimeToken {
            hash: token_hash,
            user_id,
            purpose: TokenPurpose::Invitation {
                account_id: account.id.clone(),
                invitation_id: invitation.id.clone(),
            },
            expires_at,
        };
        let claim_phone = if preset.phone_unique { profile.phone } else { None };
        let event = self.event(
            &account.id,
            invitation.invited_by.as_ref(),
            AuditAction::InvitationCreated,
            AuditTarget::Invitation,
            invitation.id.as_str(),
            serde_json::json!({
                "email": invitation.email.masked(),
                "roles": invitation.roles,
                "permissions": invitation.permissions,
                "mode": mode,
            }),
        );
        let view = InvitationView::new(&invitation, now);
        let locale = locale.or(user.user().locale);
        let mail = self.invitation_mail(account, preset, &invitation, &secret, locale, inviter);
        Drafted {
            new: NewInvitation {
                account: AccountSummary::from(account),
                invitation,
                member,
                user,
                token,
                claim_phone,
                supersedes,
                event,
                mail,
                remembered: None,
                seat: None,
                roles: None,
            },
            view,
        }
    }

    /// The outbox's mail of an invitation's link, in `locale` (else the account's).
    pub(crate) fn invitation_mail(
        &self,
        account: &Account,
        preset: &Preset,
        invitation: &Invitation,
        secret: &str,
        locale: Option<Locale>,
        inviter: &str,
    ) -> PendingMail {
        let locale = locale.unwrap_or(account.locale);
        let kind = match (invitation.for_owner, invitation.mode) {
            (true, _) => MailKind::OwnerActivation,
            (false, InvitationMode::Invitation) => MailKind::Invitation,
            (false, InvitationMode::Direct) => MailKind::PasswordSet,
        };
        let roles = role_titles(&account.roles(preset), &invitation.grant(), locale).join(", ");
        let values = [
            ("account_name", account.name.clone()),
            ("marketplace", preset.name.clone()),
            ("inviter", inviter.to_owned()),
            ("roles", roles),
            ("link", self.link("/activate", secret)),
            ("expires_at", format_time(invitation.expires_at)),
            ("email", invitation.email.to_string()),
            ("message", invitation.message.as_ref().map_or_else(String::new, |m| m.as_str().to_owned())),
        ];
        let letter = Letter {
            tags: super::mail_events::invitation_tags(invitation),
            ..Letter::new(kind, locale, &invitation.email, values)
        };
        let link = MailedLink {
            account_id: invitation.account_id.clone(),
            invitation_id: invitation.id.clone(),
            token_hash: invitation.token_hash.clone(),
        };
        self.outbox_mail(invitation_mail_key(&invitation.id), letter, Some(link), None, invitation.expires_at)
    }
}

/// The invitation `command` asks `caller` to send, its email parsed already (`email`, else an
/// error in `errors`): every bad field at once, in the account's terms.
pub(crate) fn checked_request(
    caller: &Caller<'_>,
    email: Option<Email>,
    mut errors: FieldErrors,
    command: &InviteCommand,
) -> Result<InvitationRequest<'static>, Invalid> {
    let preset = caller.preset;
    if let Some(refused) = email.as_ref().and_then(|email| refused_domain(caller, email)) {
        errors.push(refused);
    }
    let grant = errors.check_all(caller.roles().parse_grant(&command.roles, &command.permissions));
    if grant.as_ref().is_some_and(Grant::is_empty) {
        errors.push(FieldError::new("roles", "required", "Choose at least one role or permission."));
    }
    let profile = errors.check_all(preset.profile.parse(&command.profile, true));
    let locale = command.locale.as_deref().map(|raw| {
        Locale::parse(raw).ok_or_else(|| FieldError::new("locale", "invalid_value", "Use en, uk or pl."))
    });
    let locale = errors.check(locale.transpose()).flatten();
    let message = command.message.as_deref().map(InvitationMessage::parse);
    let message = errors.check(message.transpose()).flatten().flatten();
    let (Some(email), Some(grant), Some(profile), true) = (email, grant, profile, errors.is_empty()) else {
        return Err(Invalid(errors));
    };
    Ok(InvitationRequest { email, grant, profile, locale, message, replaces: None, once: None })
}

/// Titles of a grant's roles in `locale`, then its direct permissions as written.
pub(crate) fn role_titles(roles: &Roles<'_>, grant: &Grant, locale: Locale) -> Vec<String> {
    grant
        .roles
        .iter()
        .map(|name| roles.title(name, locale))
        .chain(grant.permissions.iter().map(|p| p.to_string()))
        .collect()
}

impl From<GrantRefusal> for InviteError {
    fn from(refusal: GrantRefusal) -> Self {
        match refusal {
            GrantRefusal::Gone(errors) => Self::Invalid(Invalid(errors)),
            GrantRefusal::Escalation => Self::RoleEscalation,
        }
    }
}

/// The field error for an address at a domain the preset or the account refuses.
pub(crate) fn refused_domain(caller: &Caller<'_>, email: &Email) -> Option<FieldError> {
    caller.preset.refuses_domain(email, &caller.account.settings.blocked_email_domains).then(|| {
        FieldError::new(
            "email",
            "blocked_email_domain",
            format!("Addresses at {} cannot be invited to this account.", email.domain()),
        )
    })
}

/// Whole seconds, rounded up, so that retrying after `Retry-After` succeeds.
pub(crate) fn seconds_to_wait(wait: chrono::Duration) -> u64 {
    u64::try_from((wait.num_milliseconds() + 999) / 1000).unwrap_or(0).max(1)
}

pub(crate) fn display_name(user: &User) -> String {
    match (&user.first_name, &user.last_name) {
        (Some(first), Some(last)) => format!("{first} {last}"),
        (Some(name), None) | (None, Some(name)) => name.clone(),
        (None, None) => user.email.to_string(),
    }
}

pub(crate) fn format_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}
