//! `SesMailer` against moto's SES v2 (what a send looks like on the wire, and that SES refuses
//! unverified senders) and against a scripted endpoint (what is retried and what is not).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use shared::adapters::aws::CallBudget;
use shared::adapters::ses::{Sender, SesMailer};
use shared::domain::Email;
use shared::ports::{MailError, Mailer, OutgoingMail};
use tests::emulators::{EMULATOR_SES, VERIFIED_SENDER, sent_messages, ses_config, ses_config_at};

/// Retries without waiting noticeably: three attempts, millisecond backoff.
const QUICK: CallBudget = CallBudget {
    max_attempts: 3,
    initial_backoff: Duration::from_millis(1),
    max_backoff: Duration::from_millis(4),
    ..EMULATOR_SES
};

fn sender(from: &str) -> Sender {
    Sender { from: from.into(), reply_to: Some("support@teamgate.test".into()), configuration_set: None }
}

fn mail(subject: &str, marker: &str) -> OutgoingMail {
    OutgoingMail {
        tags: vec![("teamgate-invitation".into(), "01938f6c-0000-7000-8000-000000000000".into())],
        to: Email::parse("olena@example.com").expect("a valid address"),
        subject: subject.into(),
        text: format!("Open {marker} to join."),
        html: format!("<p>Open <a href=\"https://teamgate.test/activate\">{marker}</a> to join.</p>"),
    }
}

#[tokio::test]
async fn a_sent_message_reaches_ses_with_its_subject_and_bodies() {
    let mailer = SesMailer::new(ses_config().await, sender(VERIFIED_SENDER), QUICK);
    let marker = uuid::Uuid::new_v4().to_string();
    let subject = format!("Запрошення до Kvitka ✓ {marker}");
    mailer.send(&mail(&subject, &marker)).await.expect("moto accepts a verified sender");

    let messages = sent_messages().await;
    let message = messages
        .iter()
        .find(|m| m["subject"] == subject.as_str())
        .unwrap_or_else(|| panic!("the message is in moto's store: {messages:?}"));
    assert_eq!(message["source"], VERIFIED_SENDER);
    assert_eq!(message["destinations"]["ToAddresses"][0], "olena@example.com");
    assert!(message["body"].as_str().is_some_and(|b| b.contains(&marker)), "{message}");
}

#[tokio::test]
async fn an_unverified_sender_is_rejected() {
    let mailer = SesMailer::new(ses_config().await, sender("stranger@unverified.test"), QUICK);
    let refused = mailer.send(&mail("Hello", "nothing")).await;
    assert!(matches!(&refused, Err(MailError::Rejected(code)) if code == "MessageRejected"), "{refused:?}");
}

/// A stand-in for SES that answers each request with the next scripted response (the last one
/// repeats) and counts the requests.
async fn scripted_ses(script: Vec<(u16, Option<&'static str>)>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free loopback port");
    let endpoint = format!("http://{}", listener.local_addr().expect("bound"));
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let at = counter.fetch_add(1, Ordering::SeqCst);
            let (status, error) = script[at.min(script.len() - 1)];
            read_request(&mut stream).await;
            let (body, error_header) = match error {
                Some(code) => {
                    (format!("{{\"message\":\"scripted {code}\"}}"), format!("x-amzn-ErrorType: {code}\r\n"))
                }
                None if status == 200 => ("{\"MessageId\":\"scripted-1\"}".to_owned(), String::new()),
                None => ("{}".to_owned(), String::new()),
            };
            let response = format!(
                "HTTP/1.1 {status} Scripted\r\ncontent-type: application/json\r\n{error_header}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        }
    });
    (endpoint, requests)
}

/// Reads one request: headers, then as many body bytes as `content-length` says.
async fn read_request(stream: &mut tokio::net::TcpStream) {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Ok(n) = stream.read(&mut chunk).await else { return };
        if n == 0 {
            return;
        }
        seen.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&seen);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if seen.len() >= end + 4 + length {
                return;
            }
        }
    }
}

#[tokio::test]
async fn throttling_is_retried_until_ses_accepts() {
    let (endpoint, requests) =
        scripted_ses(vec![(429, Some("TooManyRequestsException")), (503, None), (200, None)]).await;
    let mailer = SesMailer::new(ses_config_at(&endpoint), sender(VERIFIED_SENDER), QUICK);
    mailer.send(&mail("Hello", "retried")).await.expect("the third attempt goes through");
    assert_eq!(requests.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_service_that_keeps_failing_is_unavailable_after_the_last_attempt() {
    let (endpoint, requests) = scripted_ses(vec![(503, None)]).await;
    let mailer = SesMailer::new(ses_config_at(&endpoint), sender(VERIFIED_SENDER), QUICK);
    let failed = mailer.send(&mail("Hello", "unavailable")).await;
    assert!(matches!(failed, Err(MailError::Unavailable(_))), "{failed:?}");
    assert_eq!(requests.load(Ordering::SeqCst), 3, "bounded by max_attempts");
}

#[tokio::test]
async fn a_rejection_is_not_retried() {
    let (endpoint, requests) = scripted_ses(vec![(400, Some("MessageRejected"))]).await;
    let mailer = SesMailer::new(ses_config_at(&endpoint), sender(VERIFIED_SENDER), QUICK);
    let refused = mailer.send(&mail("Hello", "rejected")).await;
    assert!(matches!(&refused, Err(MailError::Rejected(code)) if code == "MessageRejected"), "{refused:?}");
    assert_eq!(requests.load(Ordering::SeqCst), 1);
}
