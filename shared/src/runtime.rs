//! Process entry points: what each binary's `main` calls.

use std::sync::Arc;

use crate::config::{Config, Deployment, MailerChoice, StoreChoice};
use crate::http::routes::{Keys, NO_ROUTE, keys_of};

/// JSON log lines, one per request, at `RUST_LOG` (default `info`): a level, or
/// `target=level` pairs separated by commas (no regular expressions: their engine is left out of
/// the binaries).
fn init_logging(json: bool) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|wanted| wanted.parse::<tracing_subscriber::filter::Targets>().ok())
        .unwrap_or_else(|| tracing_subscriber::filter::Targets::new().with_default(tracing::Level::INFO));
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let builder = tracing_subscriber::fmt().with_target(false);
    if json {
        builder.json().flatten_event(true).without_time().finish().with(filter).init();
    } else {
        builder.compact().finish().with(filter).init();
    }
}

pub use lambda_http::Error as LambdaError;

/// A Lambda function's `main`, for the function whose `Function::scope` is `SCOPE`:
/// configuration read once per cold start, then the runtime loop. The function holds only the
/// keys its routes use, and refuses to start without them; its binary holds only its routes' use
/// cases and adapters.
pub async fn lambda<const SCOPE: u8>() -> Result<(), LambdaError> {
    init_logging(true);
    let config = Config::from_env_holding(Deployment::Lambda, keys_of(SCOPE))
        .inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?;
    let api = config
        .build_for::<SCOPE>()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?;
    crate::http::lambda::serve::<SCOPE>(api).await
}

/// The dev server's `main`: every route on one port with the embedded adapters.
pub async fn dev_server() -> Result<(), Box<dyn std::error::Error>> {
    init_logging(false);
    let config = Config::from_env(Deployment::DevServer)?;
    let api = Arc::new(config.build().await?);
    let address = format!("127.0.0.1:{}", config.port);
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .map_err(|e| format!("cannot listen on {address}: {e} (set PORT to use another port)"))?;
    println!("{}", welcome(&config));
    tokio::spawn(expire_every_minute(api.clone()));
    tokio::select! {
        served = crate::http::server::serve(api, listener) => served?,
        _ = tokio::signal::ctrl_c() => println!("stopped"),
    }
    Ok(())
}

/// The dev server's stand-in for the scheduled cleanup and mail-events' sweep of the outbox.
async fn expire_every_minute(api: Arc<crate::http::Api>) {
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        ticks.tick().await;
        match api.app.expire_invitations(None).await {
            Ok(report) if report.expired > 0 => tracing::info!(expired = report.expired, "cleanup"),
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "cleanup failed"),
        }
        match api.app.sweep_outbox(None).await {
            Ok(report) if report.sent + report.postponed + report.given_up > 0 => {
                tracing::info!(
                    sent = report.sent,
                    postponed = report.postponed,
                    given_up = report.given_up,
                    "outbox"
                )
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "outbox sweep failed"),
        }
    }
}

/// The start of a function fed events rather than requests, which holds none of the keys:
/// logging, then its configuration and what `build` makes of it (a failure named in the log).
async fn event_function<T>(
    build: impl AsyncFnOnce(&Config) -> Result<T, crate::config::ConfigError>,
) -> Result<Arc<T>, LambdaError> {
    init_logging(true);
    let built = match Config::from_env_holding(Deployment::Lambda, Keys::NONE) {
        Ok(config) => build(&config).await,
        Err(error) => Err(error),
    };
    Ok(Arc::new(built.inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?))
}

/// Time kept in hand before Lambda's deadline, to finish the page in flight and report.
const CLEANUP_MARGIN: std::time::Duration = std::time::Duration::from_secs(30);

/// The scheduled cleanup's `main`: one run per EventBridge event, stopping before the deadline,
/// reporting what it did in one log line (and as the invocation's result).
/// It mints, verifies and lists nothing, so it holds none of the keys.
pub async fn cleanup() -> Result<(), LambdaError> {
    let api = event_function(async |config: &Config| config.build_for::<NO_ROUTE>().await).await?;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let api = api.clone();
            async move {
                let report = api.app.expire_invitations(Some(deadline_of(&event.context))).await?;
                tracing::info!(
                    expired = report.expired,
                    already_handled = report.already_handled,
                    complete = report.complete,
                    "cleanup"
                );
                Ok::<_, LambdaError>(serde_json::to_value(&report)?)
            }
        },
    ))
    .await
}

/// The publisher's `main`: each batch of the table's stream (audit items only, by the
/// event-source mapping's filter) onto the event bus, answering the first record it could not
/// publish as the batch's failure, so the stream gives it and those after it again
/// (`ReportBatchItemFailures`).
pub async fn publisher() -> Result<(), LambdaError> {
    use crate::adapters::dynamodb::stream::{StreamBatch, streamed};
    let publisher = event_function(async |config: &Config| config.build_publisher().await).await?;
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<StreamBatch>| {
        let publisher = publisher.clone();
        async move {
            let records: Vec<_> = event.payload.records.into_iter().map(streamed).collect();
            Ok::<_, LambdaError>(batch_item_failures(publisher.publish(&records).await))
        }
    }))
    .await
}

/// The mail-events function's `main`: everything about mail after the request, by what fed it.
/// - The table's stream, filtered to the outbox: each mail sent (`service/mailing.rs`); the first
///   record whose mail could not be read or settled is the batch's failure, so the stream gives
///   it and those after it again (`ReportBatchItemFailures`). A send that failed is not one: it
///   is postponed in the outbox, for the sweep.
/// - Its schedule: the outbox swept for what is due, stopping before the deadline.
/// - SES's reports through the EventBridge rule (bounces, complaints, deliveries): each recorded
///   on the invitation its mail's tags name. An event of mail Teamgate did not tag is ignored; a
///   failure is the invocation's error, which EventBridge's asynchronous invocation retries (a
///   retried report that was recorded changes nothing).
pub async fn mail_events() -> Result<(), LambdaError> {
    use crate::service::mail_events::Reported;
    let app = event_function(async |config: &Config| config.build_mail_events().await).await?;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let app = app.clone();
            async move {
                if let Some(records) = event.payload["Records"].as_array() {
                    return Ok(batch_item_failures(send_streamed_mail(&app, records).await));
                }
                if event.payload["detail-type"] == "Scheduled Event" {
                    let report = app.sweep_outbox(Some(deadline_of(&event.context))).await?;
                    tracing::info!(
                        sent = report.sent,
                        postponed = report.postponed,
                        given_up = report.given_up,
                        failed = report.failed,
                        complete = report.complete,
                        "outbox swept"
                    );
                    return Ok(serde_json::to_value(&report)?);
                }
                let reported = match crate::adapters::ses::mail_event(&event.payload) {
                    Some(report) => app.record_mail_event(&report).await.inspect_err(|error| {
                        tracing::error!(%error, "recording a mail report failed");
                    })?,
                    None => Reported::Ignored,
                };
                tracing::info!(?reported, "mail report");
                Ok::<_, LambdaError>(serde_json::json!({ "reported": reported }))
            }
        },
    ))
    .await
}

/// Sends the outbox mail each stream record names, in order; the sequence number of the first
/// that failed, if any.
async fn send_streamed_mail(app: &crate::service::Teamgate, records: &[serde_json::Value]) -> Option<String> {
    use crate::adapters::dynamodb::stream::outbox_key;
    for record in records {
        let sequence_number = record["dynamodb"]["SequenceNumber"].as_str().unwrap_or_default();
        // A record of no outbox mail cannot become one: skipped, never retried.
        let key = match outbox_key(record) {
            Ok(key) => key,
            Err(why) => {
                tracing::error!(why, sequence_number, "a stream record of no outbox mail");
                continue;
            }
        };
        match app.send_outbox_mail(&key).await {
            Ok(handed) => tracing::info!(?handed, sequence_number, "outbox mail"),
            Err(error) => {
                tracing::error!(%error, sequence_number, "an outbox mail could not be sent or settled");
                return Some(sequence_number.to_owned());
            }
        }
    }
    None
}

/// A stream-fed function's answer: the record it stopped at, from which the stream gives that
/// record and every later one again (`ReportBatchItemFailures`); none when all went.
fn batch_item_failures(stopped_at: Option<String>) -> serde_json::Value {
    let failures: Vec<_> = stopped_at.iter().map(|id| serde_json::json!({ "itemIdentifier": id })).collect();
    serde_json::json!({ "batchItemFailures": failures })
}

/// When to stop, with `CLEANUP_MARGIN` in hand before Lambda's deadline.
fn deadline_of(context: &lambda_runtime::Context) -> std::time::Instant {
    let remaining_ms = context.deadline.saturating_sub(chrono::Utc::now().timestamp_millis() as u64);
    std::time::Instant::now() + std::time::Duration::from_millis(remaining_ms).saturating_sub(CLEANUP_MARGIN)
}

/// The Lambda authorizer's `main`: the route map and the public key checked at init (a bad
/// line of the map stops the cold start, named in the log), then one decision per event.
/// `authorizer --check <route-map.toml>` checks a map the same way before it is deployed.
pub async fn authorizer() -> Result<(), LambdaError> {
    if let [_, flag, path] = std::env::args().collect::<Vec<_>>().as_slice()
        && flag == "--check"
    {
        match check_route_map(path) {
            Ok(report) => println!("{report}"),
            Err(error) => {
                eprintln!("{error}");
                std::process::exit(1);
            }
        }
        return Ok(());
    }
    init_logging(true);
    let config = Config::reader_from_env(crate::authorizer::KEYS)
        .inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?;
    let app = Arc::new(config.build_reader::<NO_ROUTE>().await?);
    let authorizer = Arc::new(
        crate::authorizer::Authorizer::from_env(app.presets())
            .inspect_err(|e| tracing::error!(error = %e, "bad configuration"))?,
    );
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let (app, authorizer) = (app.clone(), authorizer.clone());
            async move {
                authorizer.answer(&app, event.payload).await.inspect_err(|error| {
                    if !matches!(error, crate::authorizer::AuthorizerError::Unauthorized(_)) {
                        tracing::error!(%error, "authorization failed");
                    }
                })
            }
        },
    ))
    .await
}

/// Checks a route map file as the authorizer's cold start would, and says what it found.
fn check_route_map(path: &str) -> Result<String, LambdaError> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let catalog = crate::domain::Presets::compiled().catalog();
    let map = crate::authorizer::route_map::RouteMap::parse(&text, path, &catalog)?;
    Ok(format!("{path}: {} routes, every permission a section of some preset", map.route_count()))
}

fn welcome(config: &Config) -> String {
    let base = &config.settings.public_base_url;
    let key = &config.settings.operator_key;
    let store = match &config.store {
        StoreChoice::Memory => "in-memory store".to_owned(),
        StoreChoice::DynamoDb { table, endpoint } => {
            format!("DynamoDB table {table} at {}", endpoint.as_deref().unwrap_or("AWS"))
        }
    };
    let mailer = match &config.mailer {
        MailerChoice::NoMail => "no mailer".to_owned(),
        MailerChoice::Outbox => format!("outbox mailer: GET {base}/_dev/mail"),
        MailerChoice::Ses { from, endpoint, .. } => {
            format!("SES from {from} at {}", endpoint.as_deref().unwrap_or("AWS"))
        }
    };
    let adapters = format!("{store}, {mailer}");
    let key_note = if config.operator_key_generated {
        " (generated for this run; set OPERATOR_KEY to fix it)"
    } else {
        ""
    };
    format!(
        "Teamgate dev server on {base} ({adapters})\n\
         Operator key: {key}{key_note}\n\n\
         Create a first account; its owner's activation link is printed below and kept in /_dev/mail:\n\
         \x20 curl -s -X POST {base}/v1/operator/accounts -H 'X-Operator-Key: {key}' \\\n\
         \x20   -H 'Content-Type: application/json' \\\n\
         \x20   -d '{{\"name\": \"Demo Shop\", \"owner_email\": \"owner@shop.example\", \"preset\": \"ozon\"}}'\n\
         Then open the printed /activate link in a browser and choose a password (15 characters or more).\n"
    )
}
