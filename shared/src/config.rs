//! Configuration from environment variables, read and validated once at start-up, with
//! messages that name the variable at fault.

use std::sync::Arc;

use crate::adapters::memory::MemoryStore;
use crate::adapters::outbox::OutboxMailer;
use crate::adapters::system::{AdjustableClock, OsRng, SystemClock};
use crate::http::{Api, DevTools};
use crate::ports::Clock;
use crate::service::access::AccessTokens;
use crate::service::{Ports, Settings, StartupError, Teamgate};

/// Where the process runs: the defaults differ (DESIGN.md, "Configuration").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deployment {
    DevServer,
    Lambda,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is required")]
    Missing(&'static str),
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error(transparent)]
    Startup(#[from] StartupError),
}

/// Reads a variable, treating an empty value as unset.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[derive(Clone, Debug)]
pub struct Config {
    pub deployment: Deployment,
    pub port: u16,
    pub settings: Settings,
    /// Whether the operator key was generated here (and must be shown to the developer).
    pub operator_key_generated: bool,
    pub jwt_signing_key: Option<String>,
}

impl Config {
    pub fn from_env(deployment: Deployment) -> Result<Self, ConfigError> {
        let dev = deployment == Deployment::DevServer;
        let port = match var("PORT") {
            Some(raw) => raw.parse().map_err(|_| ConfigError::Invalid {
                name: "PORT",
                reason: format!("`{raw}` is not a port number"),
            })?,
            None => 3000,
        };
        let public_base_url = match var("PUBLIC_BASE_URL") {
            Some(url) => url,
            None if dev => format!("http://127.0.0.1:{port}"),
            None => return Err(ConfigError::Missing("PUBLIC_BASE_URL")),
        };
        if !(public_base_url.starts_with("https://") || public_base_url.starts_with("http://")) {
            return Err(ConfigError::Invalid {
                name: "PUBLIC_BASE_URL",
                reason: "must start with https:// or http://".into(),
            });
        }
        let (operator_key, operator_key_generated) = match var("OPERATOR_KEY") {
            Some(key) if key.len() >= 16 => (key, false),
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: "OPERATOR_KEY",
                    reason: "use at least 16 characters".into(),
                });
            }
            None if dev => (crate::service::secrets::new_secret(&OsRng), true),
            None => return Err(ConfigError::Missing("OPERATOR_KEY")),
        };
        let jwt_signing_key = var("JWT_SIGNING_KEY");
        if jwt_signing_key.is_none() && !dev {
            return Err(ConfigError::Missing("JWT_SIGNING_KEY"));
        }
        Ok(Self {
            deployment,
            port,
            settings: Settings {
                public_base_url: public_base_url.trim_end_matches('/').to_owned(),
                operator_key,
                default_preset: var("DEFAULT_PRESET").unwrap_or_else(|| "standard".into()),
                limits: Default::default(),
                reset_answer_floor: std::time::Duration::from_millis(300),
            },
            operator_key_generated,
            jwt_signing_key,
        })
    }

    fn access_tokens(&self) -> Result<AccessTokens, ConfigError> {
        let issuer = &self.settings.public_base_url;
        match &self.jwt_signing_key {
            Some(pem) => AccessTokens::from_pem(&pem.replace("\\n", "\n"), issuer)
                .map_err(|e| ConfigError::Invalid { name: "JWT_SIGNING_KEY", reason: e.to_string() }),
            None => Ok(AccessTokens::generate(issuer)),
        }
    }

    /// Builds the application with the embedded adapters: the memory store and the outbox.
    pub fn embedded_api(&self, announce_mail: bool) -> Result<Api, ConfigError> {
        let clock = Arc::new(AdjustableClock::default());
        let shared_clock: Arc<dyn Clock> = clock.clone();
        let outbox = Arc::new(OutboxMailer::new(shared_clock.clone(), announce_mail));
        let ports = Ports {
            store: Arc::new(MemoryStore::new()),
            mailer: outbox.clone(),
            clock: shared_clock,
            rng: Arc::new(OsRng),
        };
        let app = Teamgate::new(ports, self.settings.clone(), self.access_tokens()?)?;
        Ok(Api::new(app, Some(DevTools { outbox, clock })))
    }

    /// Builds the application for a Lambda function.
    pub fn lambda_api(&self) -> Result<Api, ConfigError> {
        let ports = Ports {
            store: Arc::new(MemoryStore::new()),
            mailer: Arc::new(OutboxMailer::new(Arc::new(SystemClock), false)),
            clock: Arc::new(SystemClock),
            rng: Arc::new(OsRng),
        };
        let app = Teamgate::new(ports, self.settings.clone(), self.access_tokens()?)?;
        Ok(Api::new(app, None))
    }
}
