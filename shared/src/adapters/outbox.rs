//! The dev server's mailer: keeps every message for `GET /_dev/mail` and prints its links.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::{Arc, Mutex};

use crate::ports::{Clock, MailError, Mailer, OutgoingMail};

#[derive(Clone, Debug, Serialize)]
pub struct SentMail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub sent_at: DateTime<Utc>,
    pub links: Vec<String>,
    /// What SES would give back with each report on it (`POST /_dev/mail-events` takes them).
    pub tags: std::collections::BTreeMap<String, String>,
}

pub struct OutboxMailer {
    sent: Mutex<Vec<SentMail>>,
    clock: Arc<dyn Clock>,
    /// Whether to print each message's links, as `make run` does.
    announce: bool,
}

impl OutboxMailer {
    pub fn new(clock: Arc<dyn Clock>, announce: bool) -> Self {
        Self { sent: Mutex::default(), clock, announce }
    }

    /// Newest first.
    pub fn messages(&self) -> Vec<SentMail> {
        let sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.iter().rev().cloned().collect()
    }
}

/// The absolute http(s) URLs in a text, in order of appearance.
pub fn links_in(text: &str) -> Vec<String> {
    let mut links: Vec<String> = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>' | '\'')) {
        if (word.starts_with("http://") || word.starts_with("https://")) && !links.iter().any(|l| l == word) {
            links.push(word.trim_end_matches(['.', ',', ')']).to_owned());
        }
    }
    links
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = SentMail {
            id: uuid::Uuid::now_v7().to_string(),
            to: mail.to.as_str().to_owned(),
            subject: mail.subject.clone(),
            text: mail.text.clone(),
            html: mail.html.clone(),
            sent_at: self.clock.now(),
            links: links_in(&mail.text),
            tags: mail.tags.iter().cloned().collect(),
        };
        if self.announce {
            println!("mail to {}: {}", message.to, message.subject);
            for link in &message.links {
                println!("  {link}");
            }
        }
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).push(message);
        Ok(())
    }
}
