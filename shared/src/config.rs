//! Configuration from environment variables, read and validated once at start-up, with
//! messages that name the variable at fault.

use std::sync::Arc;

use crate::adapters::dynamodb::DynamoStore;
use crate::adapters::memory::MemoryStore;
use crate::adapters::outbox::OutboxMailer;
use crate::adapters::ses::{Backoff, Sender, SesMailer};
use crate::adapters::system::{AdjustableClock, OsRng, SystemClock};
use crate::http::{Api, DevTools};
use crate::ports::{Clock, Mailer, Store};
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
    #[error("the DynamoDB table {table} cannot be used: {reason}")]
    Table { table: String, reason: String },
}

/// Reads a variable, treating an empty value as unset.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Where records live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreChoice {
    Memory,
    DynamoDb { table: String, endpoint: Option<String> },
}

/// How mail leaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MailerChoice {
    Outbox,
    Ses {
        from: String,
        reply_to: Option<String>,
        configuration_set: Option<String>,
        endpoint: Option<String>,
    },
}

#[derive(Clone, Debug)]
pub struct Config {
    pub deployment: Deployment,
    pub port: u16,
    pub settings: Settings,
    /// Whether the operator key was generated here (and must be shown to the developer).
    pub operator_key_generated: bool,
    pub jwt_signing_key: Option<String>,
    pub store: StoreChoice,
    pub mailer: MailerChoice,
    /// Print each outbox message's links (the dev server on a terminal).
    pub announce_mail: bool,
    /// Warm the DynamoDB connection during a Lambda function's init (not for `web`, which
    /// never reads the table and has no permission to).
    pub prime_store: bool,
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
            store: store_choice(dev)?,
            mailer: mailer_choice(dev)?,
            announce_mail: dev,
            prime_store: !dev,
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

    /// Builds the application with the configured adapters. The dev server creates a missing
    /// DynamoDB table; a Lambda function only checks it can reach it (which also warms the
    /// connection during init, where CPU is plentiful), and ignores a failure there.
    pub async fn build(&self) -> Result<Api, ConfigError> {
        let dev = self.deployment == Deployment::DevServer;
        let aws = match (&self.store, &self.mailer) {
            (StoreChoice::Memory, MailerChoice::Outbox) => None,
            _ => Some(aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await),
        };
        let store: Arc<dyn Store> = match &self.store {
            StoreChoice::Memory => Arc::new(MemoryStore::new()),
            StoreChoice::DynamoDb { table, endpoint } => {
                let mut builder =
                    aws_sdk_dynamodb::config::Builder::from(aws.as_ref().expect("loaded above"));
                if let Some(endpoint) = endpoint {
                    builder = builder.endpoint_url(endpoint);
                }
                let dynamo = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(builder.build()), table);
                if dev {
                    dynamo
                        .ensure_table()
                        .await
                        .map_err(|e| ConfigError::Table { table: table.clone(), reason: e.to_string() })?;
                } else if self.prime_store {
                    dynamo.prime().await;
                }
                Arc::new(dynamo)
            }
        };
        let clock = Arc::new(AdjustableClock::default());
        let shared_clock: Arc<dyn Clock> = if dev { clock.clone() } else { Arc::new(SystemClock) };
        let (mailer, outbox): (Arc<dyn Mailer>, _) = match &self.mailer {
            MailerChoice::Outbox => {
                let outbox = Arc::new(OutboxMailer::new(shared_clock.clone(), self.announce_mail));
                (outbox.clone(), Some(outbox))
            }
            MailerChoice::Ses { from, reply_to, configuration_set, endpoint } => {
                let mut builder = aws_sdk_sesv2::config::Builder::from(aws.as_ref().expect("loaded above"));
                if let Some(endpoint) = endpoint {
                    builder = builder.endpoint_url(endpoint);
                }
                let sender = Sender {
                    from: from.clone(),
                    reply_to: reply_to.clone(),
                    configuration_set: configuration_set.clone(),
                };
                (Arc::new(SesMailer::new(builder, sender, Backoff::default())), None)
            }
        };
        let ports = Ports { store, mailer, clock: shared_clock, rng: Arc::new(OsRng) };
        self.assemble(ports, dev.then_some(DevTools { outbox, clock }))
    }

    /// The application over the given adapters (tests bring their own).
    pub fn assemble(&self, ports: Ports, dev: Option<DevTools>) -> Result<Api, ConfigError> {
        let app = Teamgate::new(ports, self.settings.clone(), self.access_tokens()?)?;
        Ok(Api::new(app, dev))
    }
}

fn store_choice(dev: bool) -> Result<StoreChoice, ConfigError> {
    match var("STORE").as_deref() {
        Some("memory") => Ok(StoreChoice::Memory),
        None if dev => Ok(StoreChoice::Memory),
        Some("dynamodb") | None => Ok(StoreChoice::DynamoDb {
            table: var("TABLE_NAME").unwrap_or_else(|| "teamgate".into()),
            endpoint: var("DYNAMODB_ENDPOINT"),
        }),
        Some(other) => {
            Err(ConfigError::Invalid { name: "STORE", reason: format!("`{other}`: use memory or dynamodb") })
        }
    }
}

fn mailer_choice(dev: bool) -> Result<MailerChoice, ConfigError> {
    match var("MAILER").as_deref() {
        Some("outbox") => Ok(MailerChoice::Outbox),
        None if dev => Ok(MailerChoice::Outbox),
        Some("ses") | None => Ok(MailerChoice::Ses {
            from: match var("MAIL_FROM") {
                Some(from) => from,
                None if dev => "no-reply@teamgate.localhost".into(),
                None => return Err(ConfigError::Missing("MAIL_FROM")),
            },
            reply_to: var("MAIL_REPLY_TO"),
            configuration_set: var("SES_CONFIGURATION_SET"),
            endpoint: var("SES_ENDPOINT"),
        }),
        Some(other) => {
            Err(ConfigError::Invalid { name: "MAILER", reason: format!("`{other}`: use outbox or ses") })
        }
    }
}
