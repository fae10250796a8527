//! The production mailer: SES v2 `SendEmail` with a simple message (UTF-8 subject, text and HTML
//! bodies). Throttling and transient failures (429, 5xx, timeouts, dropped connections) are
//! retried by the SDK's standard retry strategy with bounded exponential backoff, configured
//! here; a message SES refuses is `MailError::Rejected`, which retrying cannot fix.

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::config::retry::RetryConfig;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use std::time::Duration;

use crate::ports::{MailError, Mailer, OutgoingMail};

/// Who mail comes from, as configuration gives it (`MAIL_FROM`, `MAIL_REPLY_TO`,
/// `SES_CONFIGURATION_SET`).
#[derive(Clone, Debug)]
pub struct Sender {
    pub from: String,
    pub reply_to: Option<String>,
    pub configuration_set: Option<String>,
}

/// How often and how patiently a send is retried. Tests shorten the backoff so they never wait.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first retry waits up to this long; each further one up to twice as long as the last.
    pub initial: Duration,
    /// No single wait is longer than this.
    pub max: Duration,
}

impl Default for Backoff {
    /// Four attempts within about three seconds: enough to ride out SES's per-second send rate,
    /// short enough for a request that waits on it.
    fn default() -> Self {
        Self { max_attempts: 4, initial: Duration::from_millis(200), max: Duration::from_secs(2) }
    }
}

pub struct SesMailer {
    client: Client,
    sender: Sender,
}

impl SesMailer {
    /// A mailer over `config` (region, credentials, endpoint), with `backoff` as its retries.
    pub fn new(config: aws_sdk_sesv2::config::Builder, sender: Sender, backoff: Backoff) -> Self {
        let retry = RetryConfig::standard()
            .with_max_attempts(backoff.max_attempts)
            .with_initial_backoff(backoff.initial)
            .with_max_backoff(backoff.max);
        Self { client: Client::from_conf(config.retry_config(retry).build()), sender }
    }
}

fn utf8(text: &str) -> Result<Content, MailError> {
    Content::builder().data(text).charset("UTF-8").build().map_err(|e| MailError::Unavailable(Box::new(e)))
}

/// SES's answers that no retry changes: the message, sender or account is refused. Only the error
/// code is kept: SES's messages can name addresses, which must not reach a log line.
fn rejection(error: &SendEmailError) -> Option<&'static str> {
    Some(match error {
        SendEmailError::MessageRejected(_) => "MessageRejected",
        SendEmailError::MailFromDomainNotVerifiedException(_) => "MailFromDomainNotVerified",
        SendEmailError::AccountSuspendedException(_) => "AccountSuspended",
        SendEmailError::SendingPausedException(_) => "SendingPaused",
        SendEmailError::BadRequestException(_) => "BadRequest",
        SendEmailError::NotFoundException(_) => "NotFound",
        _ => return None,
    })
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let body = Body::builder().text(utf8(&mail.text)?).html(utf8(&mail.html)?).build();
        let message = Message::builder().subject(utf8(&mail.subject)?).body(body).build();
        let sent = self
            .client
            .send_email()
            .from_email_address(&self.sender.from)
            .set_reply_to_addresses(self.sender.reply_to.clone().map(|r| vec![r]))
            .set_configuration_set_name(self.sender.configuration_set.clone())
            .destination(Destination::builder().to_addresses(mail.to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await;
        let Err(error) = sent else { return Ok(()) };
        match error.as_service_error().and_then(rejection) {
            Some(code) => Err(MailError::Rejected(code.to_owned())),
            None => Err(MailError::Unavailable(Box::new(error))),
        }
    }
}
