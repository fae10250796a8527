//! Use cases: one module per group of operations, each a method on `Teamgate` taking a typed
//! command and answering with a view or its own error type.

pub mod accept;
pub mod accounts;
pub mod api_keys;
pub mod authorize;
pub mod bulk_invite;
pub mod caller;
pub mod cleanup;
pub mod directory;
pub mod idempotency;
pub mod invite;
pub mod mail_events;
pub mod mailing;
pub mod me;
pub mod members;
pub mod mfa;
pub mod owner_recovery;
pub mod ownership;
pub mod password_change;
pub mod password_reset;
pub mod publish;
pub mod renewal;
pub mod revoke_and_resend;
pub mod roles;
pub mod seats;
pub mod sessions;
pub mod settings;
pub mod support;

use std::sync::Arc;

use crate::domain::Presets;
use crate::ports::{Clock, Mailer, Rng, Store, Vault};

use support::access::AccessTokens;
use support::cursor::Cursors;
use support::mail::MailTemplates;
use support::password_hashing::PasswordHasher;

/// The adapters a deployment runs with.
#[derive(Clone)]
pub struct Ports {
    pub store: Arc<dyn Store>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn Rng>,
    /// Seals the TOTP secrets (`ports::Vault`).
    pub vault: Arc<dyn Vault>,
}

/// Deployment settings the rules depend on.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where emailed links point, without a trailing slash; never taken from a request.
    pub public_base_url: String,
    pub operator_key: String,
    /// The key of the page cursors' MAC (`CURSOR_KEY`), a secret of its own.
    pub cursor_key: String,
    pub default_preset: String,
    pub limits: support::limits::RateLimits,
    /// The least time a password-reset request takes, so a known email and an unknown one
    /// answer alike (the known one sends mail).
    pub reset_answer_floor: std::time::Duration,
    /// Who sends a mail of the outbox first (`service/mailing.rs`).
    pub mail_dispatch: mailing::MailDispatch,
    /// How long after a bulk request began a row may still begin, where a timeout stops the
    /// process (a Lambda function: `bulk_invite::START_ROWS_WITHIN`); the dev server has none.
    pub bulk_rows_begin_within: Option<std::time::Duration>,
    /// Whether `/console` is served (`CONSOLE`, `on` unless `off`): a marketplace with its own
    /// screens keeps only the API.
    pub console: bool,
    /// Where the activation and reset pages lead people on (`SIGN_IN_URL`, `SUPPORT_CONTACT`).
    pub guidance: crate::domain::Guidance,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("DEFAULT_PRESET `{0}` is not a known preset")]
    UnknownDefaultPreset(String),
}

/// The application: ports, settings and everything built once per process.
pub struct Teamgate {
    pub ports: Ports,
    pub settings: Settings,
    pub access: AccessTokens,
    pub passwords: PasswordHasher,
    pub cursors: Cursors,
}

impl Teamgate {
    pub fn new(ports: Ports, settings: Settings, access: AccessTokens) -> Result<Self, StartupError> {
        if !Presets::is_compiled(&settings.default_preset) {
            return Err(StartupError::UnknownDefaultPreset(settings.default_preset));
        }
        Ok(Self {
            ports,
            access,
            passwords: PasswordHasher::default(),
            cursors: Cursors::new(settings.cursor_key.as_bytes()),
            settings,
        })
    }

    /// The compiled presets, parsed by the first request that reads one (`Presets::compiled`).
    pub fn presets(&self) -> &'static Presets {
        Presets::compiled()
    }

    /// The notices' templates, parsed by the first notice (`MailTemplates::notices`).
    fn mail(&self) -> &'static MailTemplates {
        MailTemplates::notices()
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.ports.clock.now()
    }

    fn store(&self) -> &dyn Store {
        self.ports.store.as_ref()
    }

    /// The preset an account was created with; presets are compiled in, so it always exists.
    fn preset(&self, id: &str) -> &crate::domain::Preset {
        self.presets()
            .get(id)
            .or_else(|| self.presets().get(&self.settings.default_preset))
            .expect("the default preset exists (checked at start)")
    }

    /// An audit event of `account`, now.
    fn event(
        &self,
        account: &crate::domain::AccountId,
        actor: Option<&crate::domain::UserId>,
        action: crate::domain::AuditAction,
        target: crate::domain::AuditTarget,
        target_id: &str,
        details: serde_json::Value,
    ) -> crate::domain::AuditEvent {
        crate::domain::AuditEvent {
            id: crate::domain::EventId::generate(),
            account_id: account.clone(),
            at: self.now(),
            actor_id: actor.cloned(),
            action,
            target_type: target,
            target_id: target_id.to_owned(),
            details,
        }
    }

    /// Counts one attempt against each `(key, limit)`; the inner error when any is over.
    async fn throttle(
        &self,
        rules: &[(String, support::limits::Limit)],
    ) -> Result<Result<(), support::failure::RateLimited>, support::failure::InternalError> {
        support::limits::throttle(self.store(), self.now(), rules).await
    }

    /// Re-entering one's password (ownership transfer, password change) is limited like sign-in,
    /// so a stolen access token cannot be used to guess it.
    async fn throttle_step_up(
        &self,
        user: &crate::domain::UserId,
    ) -> Result<Result<(), support::failure::RateLimited>, support::failure::InternalError> {
        let limit = self.settings.limits.sign_in_per_email_and_client;
        self.throttle(&[(format!("step-up:{user}"), limit)]).await
    }

    /// An emailed link: `<PUBLIC_BASE_URL><path>#token=<secret>`.
    fn link(&self, path: &str, secret: &str) -> String {
        format!("{}{path}#token={secret}", self.settings.public_base_url)
    }
}
