//! The real clock and the OS random source, plus the dev server's movable clock, and the
//! mailer of a process that sends no mail.

use chrono::{DateTime, Duration, Utc};
use std::sync::Mutex;

use crate::ports::{Clock, MailError, Mailer, OutgoingMail, Rng};

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The system time plus an offset that `POST /_dev/clock` and tests move forward,
/// so expiry can be exercised without waiting.
#[derive(Default)]
pub struct AdjustableClock {
    offset: Mutex<Duration>,
}

impl AdjustableClock {
    pub fn advance(&self, by: Duration) -> DateTime<Utc> {
        let mut offset = self.offset.lock().unwrap_or_else(|p| p.into_inner());
        *offset += by;
        Utc::now() + *offset
    }
}

impl Clock for AdjustableClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + *self.offset.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct OsRng;

impl Rng for OsRng {
    fn fill(&self, bytes: &mut [u8]) {
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), bytes)
            .expect("the OS random source is available");
    }
}

/// The vault of a process none of whose routes keeps a secret: asked, it refuses.
pub struct NoVault;

#[async_trait::async_trait]
impl crate::ports::Vault for NoVault {
    async fn seal(&self, _: &[u8], _: &str) -> Result<String, crate::ports::VaultError> {
        Err(crate::ports::VaultError::Failed("this function keeps no secrets".into()))
    }

    async fn open(&self, _: &str, _: &str) -> Result<Vec<u8>, crate::ports::VaultError> {
        Err(crate::ports::VaultError::Failed("this function keeps no secrets".into()))
    }
}

/// The mailer of a process that sends no mail (the authorizer): asked to send, it refuses.
pub struct NoMail;

#[async_trait::async_trait]
impl Mailer for NoMail {
    async fn send(&self, _mail: &OutgoingMail) -> Result<(), MailError> {
        Err(MailError::Rejected("this function sends no mail".into()))
    }
}
