//! Using an emailed invitation link: inspecting it (never consumes it) and accepting it (once).

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::domain::{
    Account, AuditAction, AuditTarget, InvitationMode, InvitationStatus, Locale, Member, MemberStatus,
    Password, PasswordPolicy, ProfileInput, RoleName,
};
use crate::failure_codes;
use crate::ports::{Acceptance, Conflict, Membership, OwnershipTransfer, Redemption, StoreError};
use crate::service::Teamgate;
use crate::service::failure::{InternalError, Invalid};
use crate::service::invite::role_titles;
use crate::service::limits::RateLimited;
use crate::service::secrets::{hash_secret, is_well_formed};
use crate::service::views::SessionView;

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
    RateLimited(_) => RateLimited,
    Internal(_) => Internal,
});

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
    pub locale: Locale,
    pub profile_fields: BTreeMap<&'static str, &'static str>,
    pub password_policy: PasswordPolicy,
}

#[derive(Debug, Default)]
pub struct AcceptCommand {
    pub token: String,
    pub password: String,
    pub profile: ProfileInput,
}

impl Teamgate {
    pub async fn inspect_invitation(&self, token: &str) -> Result<InspectView, RedeemError> {
        let redemption = self.live_redemption(token).await?;
        let invitation = &redemption.invitation;
        let preset = self.preset(&redemption.account.preset);
        let locale = redemption.login.user.locale.unwrap_or(redemption.account.locale);
        Ok(InspectView {
            account_name: redemption.account.name.clone(),
            email: invitation.email.to_string(),
            roles: invitation.roles.clone(),
            role_titles: role_titles(preset, &invitation.grant(), locale),
            expires_at: invitation.expires_at,
            status: invitation.status_at(self.now()),
            requires_password: redemption.login.user.password_hash.is_none(),
            mode: invitation.mode,
            locale,
            profile_fields: preset.profile_fields(&redemption.login.user.profile()),
            password_policy: preset.password.clone(),
        })
    }

    /// Sets the password (or checks the existing one), activates the membership and signs in.
    /// Of concurrent accepts of one link exactly one succeeds.
    pub async fn accept_invitation(
        &self,
        command: AcceptCommand,
        client: &str,
    ) -> Result<SessionView, RedeemError> {
        self.throttle(&[(format!("accept:{client}"), self.settings.limits.accept_per_client)]).await??;
        let redemption = self.live_redemption(&command.token).await?;
        let Redemption { invitation, account, login, .. } = redemption;
        let preset = self.preset(&account.preset);
        let now = self.now();
        let mut user = login.user.clone();
        let known = user.profile().or(command.profile);
        let profile = preset.parse_profile(&known, true).map_err(Invalid)?;
        match &user.password_hash {
            Some(hash) => {
                if !self.passwords.verify(&command.password, Some(hash)).await {
                    return Err(RedeemError::InvalidCredentials);
                }
            }
            None => {
                let password = Password::parse("password", &command.password, &preset.password)
                    .map_err(Invalid::from)?;
                user.password_hash = Some(self.passwords.hash(&password).await?);
            }
        }
        let claim_phone =
            profile.phone.clone().filter(|p| preset.phone_unique && user.phone.as_ref() != Some(p));
        user.first_name = profile.first_name.map(|n| n.to_string()).or(user.first_name);
        user.last_name = profile.last_name.map(|n| n.to_string()).or(user.last_name);
        user.phone = profile.phone.or(user.phone);

        let membership =
            login.memberships.iter().find(|m| m.account.id == account.id).ok_or(RedeemError::Revoked)?;
        let mut member = membership.member.clone().with_profile(&user);
        if member.status == MemberStatus::NotActivated {
            member.status = MemberStatus::Active;
            member.activated_at = Some(now);
        }
        member.pending_until = None;
        member.last_login_at = Some(now);
        member.version += 1;
        let ownership = match invitation.for_owner && account.owner_id != user.id {
            true => {
                member.is_owner = true;
                Some(self.recovered_ownership(&account, &member).await?)
            }
            false => None,
        };
        let mut accepted = invitation.clone();
        accepted.status = InvitationStatus::Accepted;
        accepted.accepted_at = Some(now);
        let (session, refresh_token) = self.new_refresh_session(&user, now);
        let acceptance = Acceptance {
            token_hash: invitation.token_hash.clone(),
            invitation: accepted,
            member: member.clone(),
            user: user.clone(),
            claim_phone,
            session,
            event: self.event(
                &account.id,
                Some(&user.id),
                AuditAction::InvitationAccepted,
                AuditTarget::Invitation,
                invitation.id.as_str(),
                serde_json::json!({}),
            ),
            ownership,
        };
        self.store().accept_invitation(&acceptance).await.map_err(|e| match e {
            StoreError::Conflict(Conflict::PhoneTaken) => RedeemError::PhoneTaken,
            StoreError::Conflict(_) => RedeemError::AlreadyAccepted,
            other => InternalError::from(other).into(),
        })?;
        let memberships = login
            .memberships
            .into_iter()
            .map(|m| {
                if m.account.id == account.id {
                    Membership { member: member.clone(), account: m.account }
                } else {
                    m
                }
            })
            .collect::<Vec<_>>();
        Ok(self.session_view(&user, &memberships, refresh_token, now))
    }

    /// An owner-recovery acceptance hands the account to `successor`: the former owner keeps
    /// the preset's former-owner grant, as after a transfer.
    async fn recovered_ownership(
        &self,
        account: &Account,
        successor: &Member,
    ) -> Result<OwnershipTransfer, RedeemError> {
        let preset = self.preset(&account.preset);
        let former = self
            .store()
            .member(&account.id, &account.owner_id)
            .await
            .map_err(InternalError::from)?
            .ok_or(RedeemError::AlreadyAccepted)?;
        let former = former.former_owner(preset);
        let event = self.event(
            &account.id,
            Some(&successor.user_id),
            AuditAction::OwnershipTransferred,
            AuditTarget::Account,
            account.id.as_str(),
            serde_json::json!({ "from": former.user_id, "to": successor.user_id, "via": "owner_recovery" }),
        );
        Ok(OwnershipTransfer {
            account: Account { owner_id: successor.user_id.clone(), ..account.clone() },
            former,
            successor: successor.clone(),
            event,
        })
    }

    /// The redemption behind a link that is still usable, or why it is not.
    async fn live_redemption(&self, token: &str) -> Result<Redemption, RedeemError> {
        if !is_well_formed(token) {
            return Err(RedeemError::NotFound);
        }
        let hash = hash_secret(token);
        let redemption = self
            .store()
            .redemption(&hash)
            .await
            .map_err(InternalError::from)?
            .filter(|r| r.invitation.token_hash == hash)
            .ok_or(RedeemError::NotFound)?;
        match redemption.invitation.status_at(self.now()) {
            InvitationStatus::Sent => Ok(redemption),
            InvitationStatus::Accepted => Err(RedeemError::AlreadyAccepted),
            InvitationStatus::Revoked => Err(RedeemError::Revoked),
            InvitationStatus::Expired => Err(RedeemError::Expired),
        }
    }
}
