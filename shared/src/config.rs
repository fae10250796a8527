//! Configuration from environment variables, read and validated once at start-up, with
//! messages that name the variable at fault.

use std::sync::Arc;

use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_http_client::ConnectorBuilder;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use crate::adapters::aws;
use crate::adapters::dynamodb::DynamoStore;
use crate::adapters::eventbridge::EventBridgeBus;
use crate::adapters::memory::MemoryStore;
use crate::adapters::outbox::OutboxMailer;
use crate::adapters::ses::{Sender, SesMailer};
use crate::adapters::system::{AdjustableClock, NoMail, NoVault, OsRng, SystemClock};
use crate::adapters::vault::{KmsVault, LocalVault};
use crate::domain::{Guidance, SignIn, Support};
use crate::http::routes::{EVERY_ROUTE, Keys, NO_ROUTE, effects};
use crate::http::{Api, DevEvents, DevTools};
use crate::ports::{Clock, Mailer, Store, Vault};
use crate::service::bulk_invite::START_ROWS_WITHIN;
use crate::service::mailing::MailDispatch;
use crate::service::publish::Publisher;
use crate::service::support::access::AccessTokens;
use crate::service::support::limits::RateLimits;
use crate::service::{Ports, Settings, StartupError, Teamgate};

/// Where the process runs: the defaults differ (README, "Configuration").
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

/// Whether the team console is served: `CONSOLE` is `on` (or unset) or `off`.
fn console_served() -> Result<bool, ConfigError> {
    match var("CONSOLE").as_deref() {
        None | Some("on") => Ok(true),
        Some("off") => Ok(false),
        Some(other) => {
            Err(ConfigError::Invalid { name: "CONSOLE", reason: format!("`{other}` is neither on nor off") })
        }
    }
}

/// Where the pages lead people on: `SIGN_IN_URL` (else the console's sign-in, when it is
/// served), and `SUPPORT_CONTACT`, the marketplace's support (`domain/guidance.rs`).
fn guidance(console: bool) -> Result<Guidance, ConfigError> {
    let invalid = |name| move |reason| ConfigError::Invalid { name, reason };
    let sign_in = match var("SIGN_IN_URL") {
        Some(url) => Some(SignIn::parse(&url).map_err(invalid("SIGN_IN_URL"))?),
        None => console.then(SignIn::console),
    };
    let support =
        var("SUPPORT_CONTACT").map(|s| Support::parse(&s)).transpose().map_err(invalid("SUPPORT_CONTACT"))?;
    Ok(Guidance { sign_in, support })
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
    /// The process sends none (the authorizer): `MAIL_FROM` is not required.
    NoMail,
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
    /// The keys this process holds: a Lambda function its routes' (`Function::keys`), the dev
    /// server all of them.
    pub keys: Keys,
    /// PEM of the private key that signs access tokens (`JWT_SIGNING_KEY`).
    pub jwt_signing_key: Option<String>,
    /// PEM of the public key that verifies them (`JWT_PUBLIC_KEY`), for functions that mint none.
    pub jwt_public_key: Option<String>,
    pub store: StoreChoice,
    pub mailer: MailerChoice,
    /// Print each outbox message's links (the dev server on a terminal).
    pub announce_mail: bool,
}

impl Config {
    /// The configuration of a process that holds every key: the dev server (which generates
    /// the ones not set), or a Lambda function serving every route.
    pub fn from_env(deployment: Deployment) -> Result<Self, ConfigError> {
        Self::from_env_holding(deployment, Keys::ALL)
    }

    /// The configuration of a process that holds `keys`. On Lambda each of them is required
    /// (the error names the missing variable) and a secret the function does not need is left
    /// unused: an operator or cursor key is replaced by a random one nobody knows, and a signing
    /// key only verifies.
    pub fn from_env_holding(deployment: Deployment, keys: Keys) -> Result<Self, ConfigError> {
        let mut config = Self::read_env(deployment, keys)?;
        config.mailer = mailer_choice(deployment == Deployment::DevServer)?;
        Ok(config)
    }

    /// The configuration of a Lambda function that only reads the table and sends no mail (the
    /// authorizer); `build_reader` builds it.
    pub fn reader_from_env(keys: Keys) -> Result<Self, ConfigError> {
        Self::read_env(Deployment::Lambda, keys)
    }

    fn read_env(deployment: Deployment, keys: Keys) -> Result<Self, ConfigError> {
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
        let (operator_key, operator_key_generated) =
            match secret("OPERATOR_KEY", 16, keys.operator_key || dev, deployment)? {
                Some(key) => (key, false),
                None => (crate::service::support::secrets::new_secret(&OsRng), dev),
            };
        let cursor_key = secret("CURSOR_KEY", 32, keys.cursor_key || dev, deployment)?
            .unwrap_or_else(|| crate::service::support::secrets::new_secret(&OsRng));
        let jwt_signing_key = var("JWT_SIGNING_KEY");
        let jwt_public_key = var("JWT_PUBLIC_KEY");
        if !dev {
            if keys.signing_key && jwt_signing_key.is_none() {
                return Err(ConfigError::Missing("JWT_SIGNING_KEY"));
            }
            if keys.verifying_key && jwt_signing_key.is_none() && jwt_public_key.is_none() {
                return Err(ConfigError::Missing("JWT_PUBLIC_KEY"));
            }
            if !keys.signing_key && jwt_signing_key.is_some() {
                tracing::warn!(
                    "JWT_SIGNING_KEY is set, but this function mints no access token: it only verifies \
                     with it. Give it JWT_PUBLIC_KEY instead."
                );
            }
        }
        let console = console_served()?;
        Ok(Self {
            deployment,
            port,
            settings: Settings {
                public_base_url: public_base_url.trim_end_matches('/').to_owned(),
                operator_key,
                cursor_key,
                default_preset: var("DEFAULT_PRESET").unwrap_or_else(|| "standard".into()),
                limits: rate_limits()?,
                reset_answer_floor: std::time::Duration::from_millis(300),
                mail_dispatch: if dev { MailDispatch::Inline } else { MailDispatch::Stream },
                bulk_rows_begin_within: (!dev).then_some(START_ROWS_WITHIN),
                console,
                guidance: guidance(console)?,
            },
            operator_key_generated,
            keys: if dev { Keys::ALL } else { keys },
            jwt_signing_key,
            jwt_public_key,
            store: store_choice(dev)?,
            mailer: MailerChoice::NoMail,
            announce_mail: dev,
        })
    }

    /// Signs where this process mints tokens; otherwise verifies only, with the public key or
    /// with the public half of a signing key it was given anyway. Both keys given must be a pair.
    fn access_tokens(&self) -> Result<AccessTokens, ConfigError> {
        let issuer = &self.settings.public_base_url;
        let signer = match &self.jwt_signing_key {
            Some(pem) => Some(
                AccessTokens::from_pem(&pem.replace("\\n", "\n"), issuer)
                    .map_err(|e| ConfigError::Invalid { name: "JWT_SIGNING_KEY", reason: e.to_string() })?,
            ),
            None if self.deployment == Deployment::DevServer => Some(AccessTokens::generate(issuer)),
            None => None,
        };
        let verifier = match &self.jwt_public_key {
            Some(pem) => Some(
                AccessTokens::verifier_from_pem(&pem.replace("\\n", "\n"), issuer)
                    .map_err(|e| ConfigError::Invalid { name: "JWT_PUBLIC_KEY", reason: e.to_string() })?,
            ),
            None => None,
        };
        Ok(match (signer, verifier) {
            (Some(signer), Some(verifier)) if signer.public_pem() != verifier.public_pem() => {
                let reason = match self.jwt_signing_key {
                    Some(_) => "it is not the public key of JWT_SIGNING_KEY",
                    None => "the dev server signs with a key of its own: set JWT_SIGNING_KEY too",
                };
                return Err(ConfigError::Invalid { name: "JWT_PUBLIC_KEY", reason: reason.into() });
            }
            (Some(signer), _) if self.keys.signing_key => signer,
            (Some(signer), _) => signer.verifier(),
            (None, Some(verifier)) => verifier,
            // Neither mints nor verifies (the cleanup): a key nobody holds, which verifies nothing.
            (None, None) => AccessTokens::generate(issuer).verifier(),
        })
    }

    /// The dev server's application: every route, and the adapters configured.
    pub async fn build(&self) -> Result<Api, ConfigError> {
        self.build_for::<EVERY_ROUTE>().await
    }

    /// The application a binary of `SCOPE` serves, linking only the adapters its routes use:
    /// DynamoDB where a route touches the table, SES where one mails, the in-memory store and the
    /// outbox only in the dev server (and, as a store never called, in a function of static
    /// answers).
    pub async fn build_for<const SCOPE: u8>(&self) -> Result<Api, ConfigError> {
        let dev = self.deployment == Deployment::DevServer;
        let clock = Arc::new(AdjustableClock::default());
        let shared_clock: Arc<dyn Clock> = if dev { clock.clone() } else { Arc::new(SystemClock) };
        let (mailer, outbox): (Arc<dyn Mailer>, _) = match &self.mailer {
            MailerChoice::Outbox if const { SCOPE == EVERY_ROUTE } => {
                let outbox = Arc::new(OutboxMailer::new(shared_clock.clone(), self.announce_mail));
                (outbox.clone(), Some(outbox))
            }
            MailerChoice::Ses { .. } if const { effects(SCOPE).mails } => (self.ses_mailer()?, None),
            MailerChoice::Outbox => return Err(lambda_only("MAILER", "outbox")),
            MailerChoice::Ses { .. } | MailerChoice::NoMail => (Arc::new(NoMail), None),
        };
        // The dev server keeps its in-memory store at hand, to publish its stream of audit events.
        let memory = match &self.store {
            StoreChoice::Memory if const { SCOPE == EVERY_ROUTE } && dev => {
                Some(Arc::new(MemoryStore::new()))
            }
            _ => None,
        };
        let store: Arc<dyn Store> = match &memory {
            Some(memory) => memory.clone(),
            None => self.store::<SCOPE>().await?,
        };
        let events = memory.map(DevEvents::new);
        let vault: Arc<dyn Vault> =
            if const { effects(SCOPE).seals } { self.vault()? } else { Arc::new(NoVault) };
        let ports = Ports { store, mailer, clock: shared_clock, rng: Arc::new(OsRng), vault };
        self.assemble(ports, dev.then_some(DevTools { outbox, clock, events }))
    }

    /// The application of a function that reads the table and sends no mail (the authorizer).
    pub async fn build_reader<const SCOPE: u8>(&self) -> Result<Teamgate, ConfigError> {
        let ports = Ports {
            store: self.store::<SCOPE>().await?,
            mailer: Arc::new(NoMail),
            clock: Arc::new(SystemClock),
            rng: Arc::new(OsRng),
            vault: Arc::new(NoVault),
        };
        Ok(Teamgate::new(ports, self.settings.clone(), self.access_tokens()?)?)
    }

    /// The publisher function's use case: the table it reads events again from, and the
    /// EventBridge bus `EVENT_BUS_NAME` names (the default bus when unset), reached at
    /// `EVENTBRIDGE_ENDPOINT` when one is given (an emulator).
    pub async fn build_publisher(&self) -> Result<Publisher, ConfigError> {
        let mut builder = AwsAccess::from_env()?.eventbridge();
        if let Some(endpoint) = var("EVENTBRIDGE_ENDPOINT") {
            builder = builder.endpoint_url(endpoint);
        }
        let bus = EventBridgeBus::new(builder, var("EVENT_BUS_NAME"));
        Ok(Publisher::new(Arc::new(bus), self.store::<NO_ROUTE>().await?))
    }

    /// The mail-events function's application: the table, and SES to tell inviters.
    pub async fn build_mail_events(&self) -> Result<Teamgate, ConfigError> {
        let ports = Ports {
            store: self.store::<NO_ROUTE>().await?,
            mailer: self.ses_mailer()?,
            clock: Arc::new(SystemClock),
            rng: Arc::new(OsRng),
            vault: Arc::new(NoVault),
        };
        Ok(self.assemble(ports, None)?.app)
    }

    /// The vault of the TOTP secrets: KMS with `MFA_KMS_KEY_ID` (reached at `KMS_ENDPOINT` when
    /// one is given, an emulator), else AES-256-GCM under `MFA_LOCAL_KEY` (32 bytes, base64),
    /// else, in the dev server only, a key generated per start.
    fn vault(&self) -> Result<Arc<dyn Vault>, ConfigError> {
        if let Some(key_id) = var("MFA_KMS_KEY_ID") {
            let mut builder = AwsAccess::from_env()?.kms();
            if let Some(endpoint) = var("KMS_ENDPOINT") {
                builder = builder.endpoint_url(endpoint);
            }
            return Ok(Arc::new(KmsVault::new(builder, key_id)));
        }
        match var("MFA_LOCAL_KEY") {
            Some(key) => LocalVault::from_base64(&key, Box::new(OsRng))
                .map(|v| Arc::new(v) as Arc<dyn Vault>)
                .ok_or(ConfigError::Invalid {
                    name: "MFA_LOCAL_KEY",
                    reason: "use 32 random bytes, base64-encoded".into(),
                }),
            None if self.deployment == Deployment::DevServer => {
                Ok(Arc::new(LocalVault::generate(Box::new(OsRng))))
            }
            None => Err(ConfigError::Missing("MFA_KMS_KEY_ID")),
        }
    }

    /// SES as `MAILER=ses` configures it.
    fn ses_mailer(&self) -> Result<Arc<dyn Mailer>, ConfigError> {
        let MailerChoice::Ses { from, reply_to, configuration_set, endpoint } = &self.mailer else {
            return Err(ConfigError::Invalid {
                name: "MAILER",
                reason: "this function mails through SES: set ses".into(),
            });
        };
        let mut builder = AwsAccess::from_env()?.sesv2();
        if let Some(endpoint) = endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        let sender = Sender {
            from: from.clone(),
            reply_to: reply_to.clone(),
            configuration_set: configuration_set.clone(),
        };
        Ok(Arc::new(SesMailer::new(builder, sender, aws::SES)))
    }

    /// The store of a binary of `SCOPE`. The dev server creates a missing DynamoDB table; a
    /// Lambda function only reads one item of it when priming (which also warms the connection
    /// during init, where CPU is plentiful), and ignores a failure there.
    async fn store<const SCOPE: u8>(&self) -> Result<Arc<dyn Store>, ConfigError> {
        let dev = self.deployment == Deployment::DevServer;
        Ok(match &self.store {
            StoreChoice::DynamoDb { table, endpoint } if const { effects(SCOPE).uses_table } => {
                let dynamo = dynamo_store(table, endpoint.as_deref())?;
                // Only the dev server creates its table; a function's binary leaves that code out.
                if const { SCOPE == EVERY_ROUTE } && dev {
                    dynamo
                        .ensure_table()
                        .await
                        .map_err(|e| ConfigError::Table { table: table.clone(), reason: e.to_string() })?;
                } else {
                    dynamo.prime().await;
                }
                Arc::new(dynamo)
            }
            StoreChoice::Memory if const { SCOPE != EVERY_ROUTE && effects(SCOPE).uses_table } => {
                return Err(lambda_only("STORE", "memory"));
            }
            // The dev server's store, or one that a function of static answers never calls.
            StoreChoice::Memory | StoreChoice::DynamoDb { .. } => Arc::new(MemoryStore::new()),
        })
    }

    /// The application over the given adapters (tests bring their own).
    pub fn assemble(&self, ports: Ports, dev: Option<DevTools>) -> Result<Api, ConfigError> {
        let app = Teamgate::new(ports, self.settings.clone(), self.access_tokens()?)?;
        Ok(Api::new(app, dev))
    }
}

/// The store on DynamoDB `table`, reached at `endpoint` when one is given (DynamoDB Local), with
/// the environment's region and credentials.
pub fn dynamo_store(table: &str, endpoint: Option<&str>) -> Result<DynamoStore, ConfigError> {
    let mut builder = AwsAccess::from_env()?.dynamodb();
    if let Some(endpoint) = endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    Ok(DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(builder.build()), table))
}

/// The AWS clients' HTTPS: rustls on ring, the binaries' one cryptography library (the SDK's
/// default client would link AWS-LC besides), trusting the platform's root certificates and,
/// as the SDK's default does, the proxy `HTTPS_PROXY`/`NO_PROXY` name.
pub fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector = ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::Ring));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// A choice only the dev server can make: a Lambda function's records live in DynamoDB and its
/// mail leaves through SES.
fn lambda_only(name: &'static str, value: &str) -> ConfigError {
    ConfigError::Invalid {
        name,
        reason: format!("`{value}` is for the dev server; a Lambda function cannot use it"),
    }
}

/// What an AWS client needs besides its endpoint: the region and the credentials Lambda puts in
/// the environment. The SDK's provider chain (profiles, SSO, STS, instance metadata) is left
/// out of the binaries: a Lambda function never uses it. A developer pointing the dev server at
/// AWS exports credentials the same way (README, "Configuration").
struct AwsAccess {
    region: aws_sdk_dynamodb::config::Region,
    credentials: aws_sdk_dynamodb::config::Credentials,
    https: SharedHttpClient,
}

impl AwsAccess {
    fn from_env() -> Result<Self, ConfigError> {
        let region = var("AWS_REGION")
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .ok_or(ConfigError::Missing("AWS_REGION"))?;
        let credentials = aws_sdk_dynamodb::config::Credentials::new(
            var("AWS_ACCESS_KEY_ID").ok_or(ConfigError::Missing("AWS_ACCESS_KEY_ID"))?,
            var("AWS_SECRET_ACCESS_KEY").ok_or(ConfigError::Missing("AWS_SECRET_ACCESS_KEY"))?,
            var("AWS_SESSION_TOKEN"),
            None,
            "environment",
        );
        Ok(Self { region: aws_sdk_dynamodb::config::Region::new(region), credentials, https: https_client() })
    }

    fn dynamodb(self) -> aws_sdk_dynamodb::config::Builder {
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .retry_config(aws::DYNAMODB.retries())
            .timeout_config(aws::DYNAMODB.timeouts())
            .region(self.region)
            .credentials_provider(self.credentials)
            .http_client(self.https)
    }

    fn eventbridge(self) -> aws_sdk_eventbridge::config::Builder {
        aws_sdk_eventbridge::Config::builder()
            .behavior_version(aws_sdk_eventbridge::config::BehaviorVersion::latest())
            .retry_config(aws::EVENTBRIDGE.retries())
            .timeout_config(aws::EVENTBRIDGE.timeouts())
            .region(self.region)
            .credentials_provider(self.credentials)
            .http_client(self.https)
    }

    fn kms(self) -> aws_sdk_kms::config::Builder {
        aws_sdk_kms::Config::builder()
            .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
            .retry_config(aws::KMS.retries())
            .timeout_config(aws::KMS.timeouts())
            .region(self.region)
            .credentials_provider(self.credentials)
            .http_client(self.https)
    }

    fn sesv2(self) -> aws_sdk_sesv2::config::Builder {
        aws_sdk_sesv2::Config::builder()
            .behavior_version(aws_sdk_sesv2::config::BehaviorVersion::latest())
            .region(self.region)
            .credentials_provider(self.credentials)
            .http_client(self.https)
    }
}

/// A secret of at least `min_len` characters: required on Lambda where `needed`, generated by
/// the caller where absent otherwise (`None`). One set where it is not needed is ignored.
fn secret(
    name: &'static str,
    min_len: usize,
    needed: bool,
    deployment: Deployment,
) -> Result<Option<String>, ConfigError> {
    match var(name) {
        Some(_) if !needed => {
            tracing::warn!("{name} is set, but this function does not use it: ignored. Remove it.");
            Ok(None)
        }
        Some(value) if value.chars().count() >= min_len => Ok(Some(value)),
        Some(_) => Err(ConfigError::Invalid { name, reason: format!("use at least {min_len} characters") }),
        None if needed && deployment == Deployment::Lambda => Err(ConfigError::Missing(name)),
        None => Ok(None),
    }
}

/// The default limits, with those `RATE_LIMITS` names in their place.
fn rate_limits() -> Result<RateLimits, ConfigError> {
    let defaults = RateLimits::default();
    match var("RATE_LIMITS") {
        Some(spec) => defaults
            .with_overrides(&spec)
            .map_err(|e| ConfigError::Invalid { name: "RATE_LIMITS", reason: e.to_string() }),
        None => Ok(defaults),
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
