//! What every AWS client here shares: how long a call may take, how it is retried, and which
//! failures are an outage (answered `503 service_unavailable` with `Retry-After`: the same request
//! may succeed later) rather than a fault of the request itself (a bug: answered `500`).
//!
//! The budgets are sized so that a request on its usual worst path finishes, or gives up, inside
//! its function's timeout (`FUNCTION_TIMEOUT`, the template's `Globals`, as `tests/tests/infra.rs`
//! checks), which sits inside API Gateway's 29 s: at most `MAX_STORE_ROUND_TRIPS` sequential
//! DynamoDB calls (`tests/tests/calls_per_route.rs` holds every route's pinned count to it), one
//! KMS call, one mail and one password hash, each taking its whole budget (the test below). A
//! path that meets a conflict and retries can take longer: past the timeout Lambda stops it
//! (README, "When AWS has a bad day").

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use std::time::Duration;

/// The timeout of every function that answers HTTP requests (`infra/template.yaml`, `Globals`).
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(15);

/// The most sequential DynamoDB round trips a route makes on its usual path.
pub const MAX_STORE_ROUND_TRIPS: u32 = 3;

/// What hashing a password (argon2) may take on the smallest function, with room to spare.
pub const PASSWORD_HASHING: Duration = Duration::from_secs(1);

/// How long opening a connection (TLS included) to a regional endpoint may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// One AWS service's call budget: each attempt, the whole call with its retries, and the
/// backoff between attempts.
#[derive(Clone, Copy, Debug)]
pub struct CallBudget {
    pub attempt: Duration,
    pub operation: Duration,
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

/// DynamoDB answers in milliseconds: an attempt that takes a second is stalled.
pub const DYNAMODB: CallBudget = CallBudget {
    attempt: Duration::from_secs(1),
    operation: Duration::from_millis(2500),
    max_attempts: 3,
    initial_backoff: Duration::from_millis(25),
    max_backoff: Duration::from_millis(500),
};

/// KMS seals and opens one small secret.
pub const KMS: CallBudget = CallBudget {
    attempt: Duration::from_secs(1),
    operation: Duration::from_secs(2),
    max_attempts: 3,
    initial_backoff: Duration::from_millis(25),
    max_backoff: Duration::from_millis(500),
};

/// SES's send rate is per second: its retries wait longer. `SendEmail` is not idempotent: an
/// attempt that timed out may have been sent, so an attempt may take the whole budget rather
/// than be cut short and sent again (errors SES answers at once are still retried).
pub const SES: CallBudget = CallBudget {
    attempt: Duration::from_secs(3),
    operation: Duration::from_secs(3),
    max_attempts: 4,
    initial_backoff: Duration::from_millis(200),
    max_backoff: Duration::from_secs(2),
};

/// The publisher (60 s timeout, no one waiting on it) gives EventBridge longer.
pub const EVENTBRIDGE: CallBudget = CallBudget {
    attempt: Duration::from_secs(2),
    operation: Duration::from_secs(10),
    max_attempts: 5,
    initial_backoff: Duration::from_millis(100),
    max_backoff: Duration::from_secs(2),
};

impl CallBudget {
    /// The longest one request can wait on its calls: every store round trip, a KMS call and a
    /// mail each taking their whole budget, and a password hash.
    pub const fn worst_request() -> Duration {
        let store = DYNAMODB.operation.as_millis() as u64 * MAX_STORE_ROUND_TRIPS as u64;
        let rest = KMS.operation.as_millis() + SES.operation.as_millis() + PASSWORD_HASHING.as_millis();
        Duration::from_millis(store + rest as u64)
    }

    pub fn timeouts(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }

    /// Standard retries: exponential backoff with jitter, and a retry quota that stops retrying
    /// when most calls fail. Not adaptive: its client-side rate limiter is shared by the whole
    /// process and, once one call is throttled, makes every later call of the container wait
    /// inside its request's budget, while a Lambda container serves one request at a time and
    /// cannot shape the fleet's traffic anyway.
    pub fn retries(&self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(self.initial_backoff)
            .with_max_backoff(self.max_backoff)
    }
}

/// Error codes AWS services use for throttling and for transient trouble on their side.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "KMSInternalException",
    // A cancelled transaction's reasons.
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// Whether a failed call is an outage that a later retry may get past: a timeout, a connection
/// that could not be made or broke, throttling, or a 5xx. Everything else is a fault no retry
/// fixes: an invalid request, a denied permission, missing credentials or an endpoint that
/// cannot be resolved (failures before anything was sent), an answer that cannot be read.
pub fn is_outage<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    let unavailable = |status: u16| status >= 500 || status == 429;
    match error {
        SdkError::TimeoutError(_) => true,
        SdkError::DispatchFailure(failure) => failure.is_timeout() || failure.is_io(),
        SdkError::ResponseError(response) => unavailable(response.raw().status().as_u16()),
        SdkError::ServiceError(service) => {
            unavailable(service.raw().status().as_u16())
                || service.err().code().is_some_and(is_transient_code)
        }
        _ => false,
    }
}

/// A failed call as a port's error: `outage` for an outage (`is_outage`), `fault` for anything
/// else; each adapter passes its error's two variants.
pub fn sorted<E, T>(
    error: SdkError<E, HttpResponse>,
    outage: impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> T,
    fault: impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> T,
) -> T
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if is_outage(&error) { outage(Box::new(error)) } else { fault(Box::new(error)) }
}

/// Whether a service's error code (or a transaction's cancellation reason) says "try again".
pub fn is_transient_code(code: &str) -> bool {
    TRANSIENT_CODES.contains(&code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_request_finishes_inside_the_function_timeout_which_sits_inside_api_gateways() {
        assert!(CallBudget::worst_request() < FUNCTION_TIMEOUT, "{:?}", CallBudget::worst_request());
        assert!(FUNCTION_TIMEOUT < Duration::from_secs(29));
    }

    #[test]
    fn a_bulk_invitations_last_row_and_its_answer_finish_inside_the_function_timeout() {
        // The row: its counters and invitee, then its write; then the answer kept.
        let last = crate::service::bulk_invite::START_ROWS_WITHIN + DYNAMODB.operation * 3;
        assert!(last < FUNCTION_TIMEOUT, "{last:?}");
    }

    #[test]
    fn a_bulk_invitation_holds_its_key_longer_than_the_function_may_run() {
        let held = crate::service::bulk_invite::HOLD_KEY_FOR.to_std().expect("positive");
        assert!(held > FUNCTION_TIMEOUT, "{held:?}");
    }

    #[test]
    fn every_attempt_fits_its_call_and_every_call_allows_a_retry() {
        for budget in [DYNAMODB, KMS, SES, EVENTBRIDGE] {
            assert!(budget.attempt <= budget.operation, "{budget:?}");
            assert!(budget.max_attempts >= 2, "{budget:?}");
        }
    }
}
