//! Using an emailed invitation link: inspecting it (never consumes it) and accepting it (once).

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::domain::{
    Account, AuditAction, AuditTarget, InvitationMode, InvitationStatus, Locale, Member, MfaPolicy, Password,
    PasswordPolicy, ProfileInput, Refusal, RoleName, SessionClient, UserId,
};
use crate::failure_codes;
use crate::ports::{Acceptance, AccountSummary, Conflict, Membership, Redemption, SignsIn, StoreError};
use crate::service::Teamgate;
use crate::service::invite::role_titles;
use crate::service::sessions::{Issued, SignedIn};
use crate::service::support::failure::RateLimited;
use crate::service::support::failure::store_failed;
use crate::service::support::failure::{InternalError, Invalid};
use crate::service::support::secrets::read_link_token;
use crate::service::support::views::MembershipView;

#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    #[error("validation failed")]
    Invalid(#[from] Invalid),
    #[error("no invitation has this link")]
    NotFound,
    #[error("the invitation expired")]
    Expired,
    #[error("the invitation was revoked")]
    Revoked,
    #[error("the invitation was already accepted")]
    AlreadyAccepted,
    #[error("the existing password does not match")]
    InvalidCredentials,
    #[error("the phone already belongs to someone")]
    PhoneTaken,
    #[error("the member was blocked before accepting")]
    MemberBlocked,
    #[error("the invitation changed while it was being accepted")]
    ConcurrentChange,
    #[error("rate limited")]
    RateLimited(#[from] RateLimited),
    #[error(transparent)]
    Internal(#[from] InternalError),
}

failure_codes!(RedeemError {
    Invalid(_) => ValidationFailed,
    NotFound => InvitationNotFound,
    Expired => InvitationExpired,
    Revoked => InvitationRevoked,
    AlreadyAccepted => InvitationAlreadyAccepted,
    InvalidCredentials => InvalidCredentials,
    PhoneTaken => PhoneTaken,
    MemberBlocked => MemberBlocked,
    ConcurrentChange => ConcurrentChange,
    RateLimited(_) => RateLimited,
    Internal(_) => Internal,
});

/// Why an invitation link shows nothing to accept, and what its page may still say of a link
/// that was genuine but is spent (expired, used or withdrawn): in which language, and whether it
/// was an owner's (only the marketplace can send an owner a new one). The link's holder learns
/// nothing the mailed link did not already tell them.
#[derive(Debug)]
pub struct InspectRefused {
    pub refusal: RedeemError,
    pub link: Option<SpentLink>,
}

#[derive(Debug, Serialize)]
pub struct SpentLink {
    pub locale: Locale,
    pub mode: InvitationMode,
    pub owner: bool,
}

impl From<RedeemError> for InspectRefused {
    fn from(refusal: RedeemError) -> Self {
        Self { refusal, link: None }
    }
}

/// The password an accept proved or chose, decided before the records are read for writing.
enum PasswordStep {
    /// The person's existing password hash, which the given password matched.
    Checked(String),
    /// The hash of the person's first password.
    First(String),
}

/// A link that can be accepted, with its records as read and the membership as it becomes.
struct Acceptable {
    invitation: crate::domain::Invitation,
    account: Account,
    user: crate::domain::User,
    member: Member,
    profile: crate::domain::Profile,
}

/// What the activation page shows before the person commits.
#[derive(Debug, Serialize)]
pub struct InspectView {
    pub account_name: String,
    pub email: String,
    pub roles: Vec<RoleName>,
    pub role_titles: Vec<String>,
    pub expires_at: DateTime<Utc>,
    pub status: InvitationStatus,
    /// Whether the person must choose a password (they have none yet); otherwise they confirm theirs.
    pub requires_password: bool,
    pub mode: InvitationMode,
    /// Whether accepting makes the person the account's owner (its first activation, or an
    /// owner recovery).
    pub owner: bool,
    pub locale: Locale,
    pub profile_fields: BTreeMap<&'static str, &'static str>,
    pub password_policy: PasswordPolicy,
    /// The account's two-step policy: under `required` the page has the person enroll right
    /// after activating.
    pub mfa: MfaPolicy,
    /// The inviter's note, as plain text.
    pub message: Option<String>,
}

#[derive(Debug, Default)]
pub struct AcceptCommand {
    pub token: String,
    pub password: String,
    pub profile: ProfileInput,
}

impl Teamgate {
    pub async fn inspect_invitation(&self, token: &str) -> Result<InspectView, InspectRefused> {
        let redemption = self.redemption(token).await?;
        let invitation = &redemption.invitation;
        let locale = redemption.user.as_ref().and_then(|u| u.locale).unwrap_or(redemption.account.locale);
        let spent = |refusal| InspectRefused {
            refusal,
            link: Some(SpentLink { locale, mode: invitation.mode, owner: invitation.for_owner }),
        };
        live(&redemption, self.now()).map_err(spent)?;
        let user = redemption.user.as_ref().ok_or(RedeemError::Revoked).map_err(spent)?;
        let preset = self.preset(&redemption.account.preset);
        // What the invitee will hold: their waiting membership's grant, which a role's deletion
        // moved to its replacement, else the invitation's.
        let granted = redemption.member.as_ref().map_or_else(|| invitation.grant(), Member::grant);
        Ok(InspectView {
            account_name: redemption.account.name.clone(),
            email: invitation.email.to_string(),
            roles: granted.roles.clone(),
            role_titles: role_titles(&redemption.account.roles(preset), &granted, locale),
            expires_at: invitation.expires_at,
            status: invitation.status_at(self.now()),
            requires_password: user.password_hash.is_none(),
            mode: invitation.mode,
            owner: invitation.for_owner,
            locale,
            profile_fields: preset.profile.fields(&user.profile()),
            password_policy: preset.password.clone(),
            mfa: redemption.account.settings.mfa_policy(preset),
            message: invitation.message.as_ref().map(|m| m.as_str().to_owned()),
        })
    }

    /// Sets the password (or checks the existing one), activates the membership and signs in.
    /// Of concurrent accepts of one link exactly one succeeds. The link's records are read while
    /// the attempt is counted, the password is hashed, and the acceptance is written conditioned
    /// on the versions read, so an accept never writes back a state someone changed meanwhile (a
    /// block, a role change, another accept); one that lost such a race starts once more from a
    /// fresh read.
    pub async fn accept_invitation(
        &self,
        command: AcceptCommand,
        client: &str,
        from: SessionClient,
    ) -> Result<SignedIn, RedeemError> {
        let rule = [(format!("accept:{client}"), self.settings.limits.accept_per_client)];
        let (counted, seen) = tokio::join!(self.throttle(&rule), self.acceptable(&command));
        counted??;
        let seen = seen?;
        let preset = self.preset(&seen.account.preset);
        let password = match &seen.user.password_hash {
            Some(hash) => match self.passwords.verify(&command.password, Some(hash)).await {
                true => PasswordStep::Checked(hash.clone()),
                false => return Err(RedeemError::InvalidCredentials),
            },
            None => {
                let password = Password::parse("password", &command.password, &preset.password)
                    .map_err(Invalid::from)?;
                PasswordStep::First(self.passwords.hash(&password).await?)
            }
        };
        match self.write_acceptance(seen, &password, from.clone()).await {
            Err(RedeemError::ConcurrentChange) => {
                self.write_acceptance(self.acceptable(&command).await?, &password, from).await
            }
            other => other,
        }
    }

    /// What the link leads to, if it can be accepted now: the owner link still the account's,
    /// the membership still waiting on it and not blocked, the profile complete.
    async fn acceptable(&self, command: &AcceptCommand) -> Result<Acceptable, RedeemError> {
        let Redemption { invitation, account, user, member, .. } =
            self.live_redemption(&command.token).await?;
        let link_is_live = !invitation.for_owner || account.owner_link_is(&invitation.id);
        let waiting = member.filter(|m| link_is_live && m.invitation_id.as_ref() == Some(&invitation.id));
        let (Some(user), Some(member)) = (user, waiting) else {
            return Err(self.why_not_waiting(&invitation).await);
        };
        let member =
            member.activated(self.now()).map_err(|Refusal::MemberBlocked| RedeemError::MemberBlocked)?;
        let known = user.profile().or(command.profile.clone());
        let profile = self.preset(&account.preset).profile.parse(&known, true).map_err(Invalid)?;
        Ok(Acceptable { invitation, account, user, member, profile })
    }

    /// Writes the acceptance of the link's records as read, provided they are still as read.
    async fn write_acceptance(
        &self,
        acceptable: Acceptable,
        password: &PasswordStep,
        from: SessionClient,
    ) -> Result<SignedIn, RedeemError> {
        let Acceptable { invitation, account, user, member, profile } = acceptable;
        let first_password = match (password, &user.password_hash) {
            (PasswordStep::First(phc), None) => Some(phc.clone()),
            (PasswordStep::Checked(checked), Some(stored)) if checked == stored => None,
            // The password changed while this one was checked or hashed.
            _ => return Err(RedeemError::ConcurrentChange),
        };
        let now = self.now();
        let preset = self.preset(&account.preset);
        let claim_phone =
            profile.phone.clone().filter(|p| preset.phone_unique && user.phone.as_ref() != Some(p));
        let user = user.accepting(profile, first_password);
        let member = member.with_profile(&user);
        let mut events = vec![self.event(
            &account.id,
            Some(&user.id),
            AuditAction::InvitationAccepted,
            AuditTarget::Invitation,
            invitation.id.as_str(),
            serde_json::json!({}),
        )];
        let (account_after, former_owner) = match invitation.for_owner {
            false => (None, None),
            true if account.owner_id == user.id => (Some(account.clone().owned_by(user.id.clone())), None),
            true => {
                let former = self.former_owner(&account, &member.user_id).await?;
                events.push(self.event(
                    &account.id,
                    Some(&member.user_id),
                    AuditAction::OwnershipTransferred,
                    AuditTarget::Account,
                    account.id.as_str(),
                    serde_json::json!({ "from": former.user_id, "to": member.user_id, "via": "owner_recovery" }),
                ));
                (Some(account.clone().owned_by(user.id.clone())), Some(former))
            }
        };
        // A person whose login has a second step is not signed in by their password alone: the
        // acceptance stands, and the sign-in waits for the code.
        let (signs_in, signed_in) = match user.has_second_factor() {
            true => {
                let (challenge, view) = self.new_challenge(&user);
                (SignsIn::Challenge(challenge), Err(view))
            }
            false => {
                let (session, refresh_token) = self.new_refresh_session(&user, from, now)?;
                (SignsIn::Session(session.clone()), Ok((session, refresh_token)))
            }
        };
        let acceptance = Acceptance {
            token_hash: invitation.token_hash.clone(),
            invitation: invitation.accepted(now),
            member: member.clone(),
            user: user.clone(),
            claim_phone,
            signs_in,
            events,
            account: account_after,
            former_owner,
        };
        // The person's other memberships, for the answer only, are read while the write goes.
        let (written, login) =
            tokio::join!(self.store().accept_invitation(&acceptance), self.store().login_by_id(&user.id));
        written.map_err(|e| match e {
            StoreError::Conflict(Conflict::PhoneTaken) => RedeemError::PhoneTaken,
            StoreError::Conflict(_) => RedeemError::ConcurrentChange,
            other => store_failed("accept_invitation")(other).into(),
        })?;
        // The acceptance stands: a failed read of the others answers with this membership alone.
        let others = match login {
            Ok(login) => login.map(|l| l.memberships).unwrap_or_default(),
            Err(error) => {
                tracing::warn!(%error, "an accepted invitation answered without the person's other accounts");
                Vec::new()
            }
        };
        let accepted = Membership { member: member.clone(), account: AccountSummary::from(&account) };
        let mut memberships: Vec<Membership> = others
            .into_iter()
            .map(|m| if m.account.id == account.id { accepted.clone() } else { m })
            .collect();
        if !memberships.iter().any(|m| m.account.id == account.id) {
            memberships.push(accepted.clone());
        }
        Ok(match signed_in {
            Ok((session, refresh_token)) => {
                let issued = Issued { session: &session, refresh_token, second_step_at: None };
                // The accepted account is read already; another's roles, read now, may fail.
                let views = match self.membership_views(&memberships).await {
                    Ok(views) => views,
                    Err(error) => {
                        tracing::warn!(%error, "an accepted invitation answered without the person's other accounts");
                        let roles = account.roles(self.preset(&account.preset));
                        vec![MembershipView::new(&accepted, &roles)]
                    }
                };
                SignedIn::Session(self.session_view(&user, views, issued, now)?)
            }
            Err(challenge) => SignedIn::SecondStepRequired(challenge),
        })
    }

    /// The owner's membership as it becomes when an owner-recovery link hands the account to
    /// `successor`: the preset's former-owner grant, as after a transfer.
    async fn former_owner(&self, account: &Account, successor: &UserId) -> Result<Member, RedeemError> {
        let preset = self.preset(&account.preset);
        let former = self
            .store()
            .member(&account.id, &account.owner_id)
            .await
            .map_err(store_failed("member"))?
            .filter(|m| &m.user_id != successor)
            .ok_or(RedeemError::ConcurrentChange)?;
        Ok(former.former_owner(preset))
    }

    /// Why a link that read as sent has records no longer waiting on it. The link's records are
    /// read together but not as one snapshot, so a concurrent accept may have moved the account
    /// and membership on before its invitation read as accepted: the invitation, read again,
    /// tells that race (already accepted) from a link that was replaced (revoked).
    async fn why_not_waiting(&self, invitation: &crate::domain::Invitation) -> RedeemError {
        let reread = self.store().invitation(&invitation.account_id, &invitation.id).await;
        match reread.map(|found| found.map(|i| i.status_at(self.now()))) {
            Ok(Some(InvitationStatus::Accepted)) => RedeemError::AlreadyAccepted,
            Ok(Some(InvitationStatus::Expired)) => RedeemError::Expired,
            Ok(_) => RedeemError::Revoked,
            Err(failure) => store_failed("invitation")(failure).into(),
        }
    }

    /// The redemption behind a link that is still usable, or why it is not.
    async fn live_redemption(&self, token: &str) -> Result<Redemption, RedeemError> {
        let redemption = self.redemption(token).await?;
        live(&redemption, self.now())?;
        Ok(redemption)
    }

    /// The records of the invitation whose link `token` is, whatever its state.
    async fn redemption(&self, token: &str) -> Result<Redemption, RedeemError> {
        let (hash, names) = read_link_token(token).ok_or(RedeemError::NotFound)?;
        self.store()
            .redemption(&hash, names.as_ref())
            .await
            .map_err(store_failed("redemption"))?
            .filter(|r| r.invitation.token_hash == hash)
            .ok_or(RedeemError::NotFound)
    }
}

/// Whether the invitation still waits at `now`; otherwise why its link is spent.
fn live(redemption: &Redemption, now: DateTime<Utc>) -> Result<(), RedeemError> {
    match redemption.invitation.status_at(now) {
        InvitationStatus::Sent => Ok(()),
        InvitationStatus::Accepted => Err(RedeemError::AlreadyAccepted),
        InvitationStatus::Revoked => Err(RedeemError::Revoked),
        InvitationStatus::Expired => Err(RedeemError::Expired),
    }
}
