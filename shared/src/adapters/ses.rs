//! The production mailer: SES v2 `SendEmail` with a simple message (UTF-8 subject, text and HTML
//! bodies). Throttling and transient failures (429, 5xx, timeouts, dropped connections) are
//! retried by the SDK's standard retry strategy within `adapters::aws::SES`; what still fails is
//! `MailError::Unavailable` (an outage). A message SES refuses is `MailError::Rejected`, any
//! other failure `MailError::Failed`: retrying fixes neither.

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageTag};

use crate::adapters::aws::{CallBudget, sorted};
use crate::domain::MailOutcome;
use crate::ports::{MailError, Mailer, OutgoingMail};
use crate::service::mail_events::{MailEvent, TAG_ACCOUNT, TAG_INVITATION, TAG_SEND};

/// Who mail comes from, as configuration gives it (`MAIL_FROM`, `MAIL_REPLY_TO`,
/// `SES_CONFIGURATION_SET`).
#[derive(Clone, Debug)]
pub struct Sender {
    pub from: String,
    pub reply_to: Option<String>,
    pub configuration_set: Option<String>,
}

pub struct SesMailer {
    client: Client,
    sender: Sender,
}

impl SesMailer {
    /// A mailer over `config` (region, credentials, endpoint), within `budget`: its timeouts and
    /// retries (`adapters::aws::SES`; tests shorten the backoff so they never wait).
    pub fn new(config: aws_sdk_sesv2::config::Builder, sender: Sender, budget: CallBudget) -> Self {
        let config = config.retry_config(budget.retries()).timeout_config(budget.timeouts());
        Self { client: Client::from_conf(config.build()), sender }
    }
}

fn utf8(text: &str) -> Result<Content, MailError> {
    Content::builder().data(text).charset("UTF-8").build().map_err(|e| MailError::Failed(Box::new(e)))
}

/// SES's answer that this message is refused (`MessageRejected`): no retry sends it. Only the
/// error code is kept: SES's messages can name addresses, which must not reach a log line.
fn rejection(error: &SendEmailError) -> Option<&'static str> {
    match error {
        SendEmailError::MessageRejected(_) => Some("MessageRejected"),
        _ => None,
    }
}

/// SES's answers about the sender or the account (paused, suspended, an unverified domain, a
/// missing configuration set, a bad request): a fault of the deployment, which the outbox
/// retries with backoff, so mail written meanwhile goes once it is fixed.
fn account_refusal(error: &SendEmailError) -> Option<&'static str> {
    Some(match error {
        SendEmailError::MailFromDomainNotVerifiedException(_) => "MailFromDomainNotVerified",
        SendEmailError::AccountSuspendedException(_) => "AccountSuspended",
        SendEmailError::SendingPausedException(_) => "SendingPaused",
        SendEmailError::BadRequestException(_) => "BadRequest",
        SendEmailError::NotFoundException(_) => "NotFound",
        _ => return None,
    })
}

/// The message's tags, which SES gives back with each event about it; none for an untagged one.
fn tags(mail: &OutgoingMail) -> Result<Option<Vec<MessageTag>>, MailError> {
    if mail.tags.is_empty() {
        return Ok(None);
    }
    let tags = mail.tags.iter().map(|(name, value)| MessageTag::builder().name(name).value(value).build());
    tags.collect::<Result<_, _>>().map(Some).map_err(|e| MailError::Failed(Box::new(e)))
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
            .set_email_tags(tags(mail)?)
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await;
        let Err(error) = sent else { return Ok(()) };
        let service = error.as_service_error();
        match (service.and_then(rejection), service.and_then(account_refusal)) {
            (Some(code), _) => Err(MailError::Rejected(code.to_owned())),
            (None, Some(code)) => {
                Err(MailError::Failed(format!("SES refused the sender or account: {code}").into()))
            }
            (None, None) => Err(sorted(error, MailError::Unavailable, MailError::Failed)),
        }
    }
}

/// SES's event about a message, as EventBridge delivers it (`detail-type` `Email Delivered`,
/// `Email Bounced`, `Email Complaint Received`; the `detail` is SES's event-publishing record),
/// read as the report on a Teamgate mail its tags name. `None` for mail Teamgate did not tag and
/// for the events it does not read (sends, delays, opens, clicks). A bounce SES could not
/// classify (`Undetermined`) counts as temporary.
pub fn mail_event(event: &serde_json::Value) -> Option<MailEvent> {
    let detail = &event["detail"];
    let outcome = match detail["eventType"].as_str()? {
        "Delivery" => MailOutcome::Delivered,
        "Bounce" => MailOutcome::Bounced { permanent: detail["bounce"]["bounceType"] == "Permanent" },
        "Complaint" => MailOutcome::Complained,
        _ => return None,
    };
    let tag = |name: &str| detail["mail"]["tags"][name][0].as_str();
    Some(MailEvent {
        account_id: tag(TAG_ACCOUNT)?.to_owned(),
        invitation_id: tag(TAG_INVITATION)?.to_owned(),
        send: tag(TAG_SEND)?.parse().ok()?,
        outcome,
    })
}
