//! Handing an account to another active member, confirmed with the owner's password.

use crate::domain::MailKind;
use crate::domain::{AuditAction, AuditTarget, MemberStatus, RoleName, UserId};
use crate::ports::OwnershipTransfer;
use crate::service::Teamgate;
use crate::service::caller::{Caller, Claim};
use crate::service::invite::display_name;
use crate::service::members::{MemberError, write_failed};
use crate::service::support::failure::store_failed;
use crate::service::support::views::AccountView;
use serde_json::json;

impl Teamgate {
    /// Hands ownership to an active member, confirmed with the owner's password. The former owner
    /// keeps the preset's `former_owner_role` (or its direct grants); both are told by email.
    ///
    /// The caller, the successor and the password attempt's count go together (one round trip),
    /// then the transfer is written.
    pub async fn transfer_ownership(
        &self,
        claim: &Claim,
        user_id: &str,
        password: &str,
    ) -> Result<AccountView, MemberError> {
        let account = claim.account()?;
        let user_id = UserId::parse(user_id).ok_or(MemberError::NotFound);
        let successor = async {
            match &user_id {
                Ok(user_id) if user_id != claim.user_id() => self.store().member(&account, user_id).await,
                _ => Ok(None),
            }
        };
        let (found, counted) =
            tokio::join!(self.caller_with(claim, successor), self.throttle_step_up(claim.user_id()));
        let (caller, successor) = found?;
        let caller = &caller;
        counted??;
        if !self.passwords.verify(password, caller.user.password_hash.as_deref()).await {
            return Err(MemberError::InvalidCredentials);
        }
        caller.require_recent_second_step(self.now())?;
        if user_id? == caller.user.id {
            return Err(MemberError::SelfActionForbidden);
        }
        let successor = successor.map_err(store_failed("member"))?.ok_or(MemberError::NotFound)?;
        if successor.status != MemberStatus::Active {
            return Err(MemberError::MemberNotActive);
        }
        let former = caller.member.clone().former_owner(caller.preset);
        let successor = successor.made_owner();
        let account = caller.account.clone().handed_to(successor.user_id.clone());
        let event = self.event(
            &account.id,
            Some(&caller.user.id),
            AuditAction::OwnershipTransferred,
            AuditTarget::Account,
            account.id.as_str(),
            json!({ "from": former.user_id, "to": successor.user_id }),
        );
        let transfer = OwnershipTransfer { account, former, successor, event };
        self.store().transfer_ownership(&transfer).await.map_err(write_failed)?;
        self.mail_transfer(caller, &transfer).await;
        Ok(AccountView::new(&transfer.account, caller.preset))
    }

    /// Tells both sides of a transfer. The transfer stands even if a message cannot be sent.
    async fn mail_transfer(&self, caller: &Caller<'_>, transfer: &OwnershipTransfer) {
        let preset = caller.preset;
        let locale = caller.account.locale;
        let role_title = |roles: &[RoleName]| {
            roles
                .iter()
                .filter_map(|r| preset.role(r))
                .map(|r| r.title.get(locale).to_owned())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let successor_name =
            transfer.successor.first_name.clone().unwrap_or_else(|| transfer.successor.email.to_string());
        let former_role = role_title(&transfer.former.roles);
        let common = [("account_name", caller.account.name.as_str()), ("marketplace", preset.name.as_str())];
        let messages = [
            (
                MailKind::OwnershipTransferredNewOwner,
                &transfer.successor.email,
                ("former_owner", display_name(&caller.user)),
            ),
            (
                MailKind::OwnershipTransferredFormerOwner,
                &transfer.former.email,
                ("new_owner", successor_name),
            ),
        ];
        for (kind, to, (name, value)) in messages {
            let mut values = common.to_vec();
            values.push((name, &value));
            values.push(("former_role", &former_role));
            let mail = self.mail().render(kind, locale, to, &values);
            if let Err(error) = self.ports.mailer.send(&mail).await {
                tracing::error!(%error, "the ownership transfer notice was not sent");
            }
        }
    }
}
