//! Inviting many at once (`POST …/invitations/bulk`, README "Inviting a whole team"): up to
//! `MAX_ROWS` rows, each checked and written exactly as a single invitation is
//! (`invite::checked_request`, `Teamgate::written_invitation`: the caller's ceiling, refused
//! domains, both mail limits counted per row, seats, uniqueness), each with a result of its own,
//! so that no row fails another.
//!
//! With an `Idempotency-Key`, the request first takes the key for what it asks, held for
//! `HOLD_KEY_FOR` (a record under way, `Once::under_way`): another request with the key is
//! refused whole, and the same one sent meanwhile is told to wait. Each row's answer is kept
//! with that row's write under a key of its own (`Once::row`), and the whole answer replaces
//! the record once every row has one. A retry answers the first answer; a retry of a request
//! cut off part-way takes the key over once the hold lapsed, reads each row's earlier answer,
//! and counts and sends only the rows without one.

use http::StatusCode;
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::domain::{Email, FieldError, FieldErrors, Phone};
use crate::failure_codes;
use crate::ports::{PendingMail, Remembered, StoreError};
use crate::service::Teamgate;
use crate::service::caller::{Caller, CallerError, Claim};
use crate::service::idempotency::{Kept, Once, ReplayError};
use crate::service::invite::{InvitationRequest, InviteCommand, InviteError, Invitee, checked_request};
use crate::service::support::failure::{Failure, InternalError, Invalid, Problem, RateLimited};

/// The most rows one request takes: a warehouse shift, and an answer far under Lambda's 6 MB.
pub const MAX_ROWS: usize = 100;

/// How long after the request began a row may still start in a Lambda function
/// (`Settings::bulk_rows_begin_within`). The rows not started by then answer `503` at once (a
/// retry with the key sends them), so that a table slow enough for each row to wait its whole
/// budget still gets an answer before Lambda stops the function: a row started last, then the
/// answer's write, fit in what is left (`adapters::aws`, checked there).
pub const START_ROWS_WITHIN: Duration = Duration::from_secs(6);

/// How long a bulk request holds its key while under way: longer than a Lambda function may
/// run (`adapters::aws`, checked there), so that a twin or a quick retry waits for it rather
/// than sending its rows alongside, and a retry after takes the key over.
pub const HOLD_KEY_FOR: chrono::Duration = chrono::Duration::seconds(20);

/// A row as the request gave it: an invitation to check, or why it could not be read as one.
pub type BulkRow = Result<InviteCommand, Invalid>;

#[derive(Debug, thiserror::Error)]
pub enum BulkInviteError {
    #[error("validation failed")]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Replay(#[from] ReplayError),
    #[error(transparent)]
    Caller(#[from] CallerError),
}

failure_codes!(BulkInviteError {
    Invalid(_) => ValidationFailed,
} delegating { Replay, Caller });

/// A bulk request's answer: what its rows did now, or the answer a request with its key gave.
pub enum BulkAnswer {
    Sent(BulkInvitationsView),
    Replayed(Remembered),
}

/// What a bulk request did: how many rows were sent and how many failed, and each row's result
/// in the request's order.
#[derive(Debug, Serialize)]
pub struct BulkInvitationsView {
    pub created: usize,
    pub failed: usize,
    pub results: Vec<RowResult>,
}

/// One row's result: the invitation it sent, or the problem it would have answered alone.
#[derive(Debug, Serialize)]
pub struct RowResult {
    /// The row's place among the request's invitations, from 1 (a CSV's header and the lines it
    /// skips are not counted).
    pub row: usize,
    /// The status the row would have answered alone: `201`, or its problem's.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
    /// Seconds to wait before sending the row again (`rate_limited`, `service_unavailable`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl RowResult {
    fn sent(row: usize, invitation: serde_json::Value) -> Self {
        let status = StatusCode::CREATED.as_u16();
        Self { row, status, invitation: Some(invitation), problem: None, retry_after: None }
    }

    /// The row as an earlier request with the key answered it, if it did: its kept answer, or
    /// the refusal of a key another request holds.
    fn earlier(row: usize, kept: Result<Option<Remembered>, ReplayError>) -> Option<Self> {
        match kept {
            Ok(Some(kept)) => {
                let invitation = serde_json::from_str(&kept.body).unwrap_or(serde_json::Value::Null);
                Some(Self { status: kept.status, ..Self::sent(row, invitation) })
            }
            Ok(None) => None,
            Err(refused) => Some(Self::failed(row, &refused)),
        }
    }

    fn failed(row: usize, error: &dyn Failure) -> Self {
        let problem = Problem::of(error);
        Self {
            row,
            status: problem.status,
            retry_after: problem.retry_after,
            invitation: None,
            problem: Some(problem),
        }
    }
}

impl BulkInvitationsView {
    fn new(results: Vec<RowResult>) -> Self {
        let created = results.iter().filter(|r| r.invitation.is_some()).count();
        Self { created, failed: results.len() - created, results }
    }

    /// Whether sending again could answer otherwise: a row failed on our side (a `5xx`), so the
    /// answer is not kept and a retry with the key sends that row again.
    fn unfinished(&self) -> bool {
        self.results.iter().any(|r| r.status >= 500)
    }
}

impl Teamgate {
    /// The caller is read (one round trip), the key taken (a second, with a key); then each
    /// row's counters, seats and invitee together and its write (two more), and the answer is
    /// kept last. Rows go one at a time: every invitation's write checks the account's item
    /// (its seats), and DynamoDB cancels transactions on one item that overlap, so rows written
    /// together would cancel each other and retry.
    pub async fn bulk_invite(
        &self,
        claim: &Claim,
        rows: Vec<BulkRow>,
        once: Option<&Once>,
    ) -> Result<BulkAnswer, BulkInviteError> {
        let began = Instant::now();
        let count = match rows.len() {
            0 => Some("required"),
            n if n > MAX_ROWS => Some("too_many"),
            _ => None,
        };
        if let Some(code) = count {
            let message = format!("Send 1 to {MAX_ROWS} invitations; this request has {}.", rows.len());
            return Err(Invalid::from(FieldError::new("invitations", code, message)).into());
        }
        // The key is taken only for a request that will run: one refused whole frees it.
        let caller = self.caller(claim).await?;
        let caller = &caller;
        let sent_before: Vec<Result<Option<Remembered>, ReplayError>> =
            match (self.take_key(once).await?, once) {
                (Taken::Answered(kept), _) => return Ok(BulkAnswer::Replayed(kept)),
                // A try cut off part-way may have sent rows: their answers are read first, so
                // that they are given again and nothing of theirs is counted again.
                (Taken::Over, Some(once)) => {
                    let keys: Vec<Once> = (1..=rows.len()).map(|row| once.row(row)).collect();
                    futures::future::join_all(keys.iter().map(|key| self.remembered(key))).await
                }
                _ => rows.iter().map(|_| Ok(None)).collect(),
            };
        let (mut results, mut mails) = (Vec::new(), Vec::new());
        for (index, (request, before)) in checked_rows(caller, rows).into_iter().zip(sent_before).enumerate()
        {
            let (result, mail) = self.invite_row(caller, index + 1, request, before, once, began).await;
            results.push(result);
            mails.extend(mail);
        }
        let view = BulkInvitationsView::new(results);
        // The rows' mail goes once every row is written (in AWS the table's stream sends it).
        let dispatched = futures::future::join_all(mails.iter().map(|mail| self.dispatch(mail)));
        let kept = async {
            let Some(once) = once else { return };
            let now = self.now();
            // An answer with a row that failed on our side is not kept: the key is let go, so
            // a retry takes it over at once and sends that row.
            let record = match view.unfinished() {
                true => once.under_way(now, None),
                false => once.remember(StatusCode::OK, &view, now),
            };
            match self.store().replace_under_way(&record, once.request()).await {
                // A retry took the key over meanwhile (this try outlived its hold).
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                // Every row is written with its own answer, and the hold lapses: a retry
                // replays the rows sent, so the failure is only logged.
                Err(error) => tracing::warn!(%error, "a bulk invitation's answer was not kept"),
            }
        };
        tokio::join!(dispatched, kept);
        Ok(BulkAnswer::Sent(view))
    }

    /// Takes the key of `once` for this request, held for `HOLD_KEY_FOR`. A key another
    /// request holds is refused (`422`); the same request's answer is given again; the same
    /// request under way is waited for while it holds the key (`409` with how long), and
    /// taken over after.
    async fn take_key(&self, once: Option<&Once>) -> Result<Taken, ReplayError> {
        let Some(once) = once else { return Ok(Taken::Free) };
        let now = self.now();
        let held = once.under_way(now, Some(now + HOLD_KEY_FOR));
        let wait = |seconds: i64| {
            ReplayError::InProgress(RateLimited { retry_after: seconds.max(1).unsigned_abs() })
        };
        // A record read as forgotten may stand a moment past its expiry (the table's clock
        // counts whole seconds): then the key is taken a second time.
        for _ in 0..2 {
            match self.store().remember(&held).await {
                Ok(()) => return Ok(Taken::Free),
                Err(StoreError::Conflict(_)) => {}
                Err(error) => return Err(InternalError::new("remember", error).into()),
            }
            let record = match self.kept(once).await? {
                Kept::Nothing => continue,
                Kept::Answer(kept) => return Ok(Taken::Answered(kept)),
                Kept::UnderWay(record) => record,
            };
            if let Some(until) = record.held_until.filter(|until| *until > now) {
                return Err(wait((until - now).num_seconds() + 1));
            }
            return match self.store().replace_under_way(&held, &record.request).await {
                Ok(()) => Ok(Taken::Over),
                // Another retry took it over first.
                Err(StoreError::Conflict(_)) => Err(wait(HOLD_KEY_FOR.num_seconds())),
                Err(error) => Err(InternalError::new("replace_under_way", error).into()),
            };
        }
        Err(wait(1))
    }

    /// Writes one row, with the mail to send once every row is written, or answers why not. A
    /// row sent before (`sent_before`: by a try cut off part-way), or written by a twin at the
    /// same time, answers as that request's row.
    async fn invite_row(
        &self,
        caller: &Caller<'_>,
        row: usize,
        request: Result<InvitationRequest<'static>, Invalid>,
        sent_before: Result<Option<Remembered>, ReplayError>,
        once: Option<&Once>,
        began: Instant,
    ) -> (RowResult, Option<PendingMail>) {
        if let Some(earlier) = RowResult::earlier(row, sent_before) {
            return (earlier, None);
        }
        if self.settings.bulk_rows_begin_within.is_some_and(|within| began.elapsed() >= within) {
            let late = StoreError::Unavailable("the request's time ran out before this row began".into());
            let late = InviteError::from(InternalError::new("bulk_invite", late));
            return (RowResult::failed(row, &late), None);
        }
        let once = once.map(|once| once.row(row));
        let sent = match request {
            Ok(request) => {
                let request = InvitationRequest { once: once.as_ref(), ..request };
                self.written_invitation(caller, &request, Invitee::Unread).await
            }
            Err(invalid) => Err(InviteError::from(invalid)),
        };
        let error = match sent {
            Ok(written) => {
                let view = serde_json::to_value(&written.view).expect("views serialize");
                return (RowResult::sent(row, view), Some(written.new.mail));
            }
            Err(error) => error,
        };
        // A twin with the key may have sent it meanwhile: then its answer is this row's.
        let twins = match &once {
            Some(once) => self.remembered(once).await,
            None => Ok(None),
        };
        (RowResult::earlier(row, twins).unwrap_or_else(|| RowResult::failed(row, &error)), None)
    }
}

/// What taking a request's key found.
enum Taken {
    /// The key was free: this request holds it.
    Free,
    /// The same request's answer, to give again.
    Answered(Remembered),
    /// The same request, cut off part-way (its hold lapsed): this one holds the key now.
    Over,
}

/// Each row checked as a single invitation is. An address a row before it invites already, or
/// (where a phone is anyone's once) a phone a row before it gives, is that row's field error:
/// rows sent together would race for it, and which one won would be chance.
fn checked_rows(caller: &Caller<'_>, rows: Vec<BulkRow>) -> Vec<Result<InvitationRequest<'static>, Invalid>> {
    let mut first_with_email: HashMap<Email, usize> = HashMap::new();
    let mut first_with_phone: HashMap<Phone, usize> = HashMap::new();
    rows.into_iter()
        .enumerate()
        .map(|(index, row)| {
            let row_number = index + 1;
            let command = row?;
            let mut errors = FieldErrors::default();
            let email = errors.check(Email::parse(&command.email));
            if let Some(first) = email.as_ref().and_then(|e| earlier(&mut first_with_email, e, row_number)) {
                let message = format!("Row {first} invites this address already.");
                errors.push(FieldError::new("email", "duplicate_email", message));
            }
            let request = checked_request(caller, email, errors, &command)?;
            let phone = request.profile.phone.as_ref().filter(|_| caller.preset.phone_unique);
            if let Some(first) = phone.and_then(|phone| earlier(&mut first_with_phone, phone, row_number)) {
                let message = format!("Row {first} gives this phone already.");
                return Err(FieldError::new("phone", "duplicate_phone", message).into());
            }
            Ok(request)
        })
        .collect()
}

/// The row before `row` that gave `value`, else none (and `row` is now the first).
fn earlier<T: Clone + Eq + std::hash::Hash>(
    first: &mut HashMap<T, usize>,
    value: &T,
    row: usize,
) -> Option<usize> {
    let first = *first.entry(value.clone()).or_insert(row);
    (first != row).then_some(first)
}
