//! An account's seats: every member takes one, the owner and each pending invitee included
//! (`Member::holds_seat`). The operator may limit them (`max_members`); an invitation then takes
//! a seat only if one is free when it is written, even against invitations written at the same
//! moment (`SeatCheck`).

use serde::Serialize;

use crate::domain::{Account, AccountId, AuditAction, AuditTarget};
use crate::ports::SeatCheck;
use crate::service::Teamgate;
use crate::service::accounts::OperatorError;
use crate::service::caller::{Caller, CallerError};
use crate::service::invite::InviteError;
use crate::service::support::failure::{InternalError, Invalid, store_failed};
use crate::service::support::views::AccountView;

/// An account as its members and the operator read it: with the seats it uses.
#[derive(Debug, Serialize)]
pub struct AccountSeatsView {
    #[serde(flatten)]
    pub account: AccountView,
    /// Seats taken now: members, the owner included, and pending invitations.
    pub seats_used: u32,
}

impl Teamgate {
    /// The check an invitation into `account` (as read) is written under: an account with no
    /// limit only requires that none was set meanwhile; a limited one counts its seats, read
    /// after the account, and refuses the invitation when none is free.
    pub(crate) async fn free_seat(&self, account: &Account) -> Result<SeatCheck, InviteError> {
        let read_version = account.seat_version;
        if account.max_members.is_none() {
            return Ok(SeatCheck { read_version, takes_seat: false });
        }
        let used = self.seats_used(&account.id).await?;
        if !account.has_free_seat(used) {
            return Err(InviteError::SeatLimitReached);
        }
        Ok(SeatCheck { read_version, takes_seat: true })
    }

    /// The account as it is now, for an invitation that lost a race to count its seats and
    /// judge its grant under again.
    pub(crate) async fn account_now(&self, account: &AccountId) -> Result<Account, InviteError> {
        let account = self.store().account(account).await.map_err(store_failed("account"))?;
        account.ok_or(InviteError::ConcurrentChange)
    }

    async fn seats_used(&self, account: &AccountId) -> Result<u32, InternalError> {
        self.store().seats_used(account, self.now()).await.map_err(store_failed("seats_used"))
    }

    /// `GET /v1/accounts/{id}`: any active member may read their account and its seats.
    pub async fn account_view(&self, caller: &Caller<'_>) -> Result<AccountSeatsView, CallerError> {
        let seats_used = self.seats_used(&caller.account.id).await?;
        Ok(AccountSeatsView { account: AccountView::new(&caller.account, caller.preset), seats_used })
    }

    /// The operator's `PUT …/seat-limit`: at most `max` members from now on (`None`: no limit).
    /// Members already past a lowered limit stay; invitations wait until seats are free.
    pub async fn set_seat_limit(
        &self,
        account_id: &str,
        max: Option<u32>,
    ) -> Result<AccountSeatsView, OperatorError> {
        let account = self.operated_account(account_id).await?;
        let before = account.max_members;
        let limited = account.with_seat_limit(max).map_err(Invalid::from)?;
        let event = self.event(
            &limited.id,
            None,
            AuditAction::SeatLimitChanged,
            AuditTarget::Account,
            limited.id.as_str(),
            serde_json::json!({ "max_members": max, "previous_max_members": before }),
        );
        // The members do not change with the limit: counted while it is written.
        let (written, seats_used) =
            tokio::join!(self.store().set_seat_limit(&limited, &event), self.seats_used(&limited.id));
        written?;
        let seats_used = seats_used?;
        let preset = self.preset(&limited.preset);
        Ok(AccountSeatsView { account: AccountView::new(&limited, preset), seats_used })
    }
}
