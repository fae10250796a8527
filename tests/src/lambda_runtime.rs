//! Deployed functions' binaries, run the way Lambda runs them: a Lambda Runtime API emulator on
//! a loopback port hands one API Gateway HTTP API (payload 2.0) events, or the EventBridge
//! schedule event for the cleanup, and receives what it answers. The binaries are the debug
//! builds of the function crates, built once per test binary by `cargo build`.
//!
//! Their AWS configuration (`teamgate_environment`) points at the emulators of
//! `crate::emulators`: a fresh table of DynamoDB Local per call (`STORE=dynamodb`, `TABLE_NAME`,
//! `DYNAMODB_ENDPOINT`) and moto's SES (`MAILER=ses`, `SES_ENDPOINT`, the verified `MAIL_FROM`),
//! with the harness's dummy credentials, as Lambda would hand them over, so that functions
//! started on one environment share its table as the deployed ones do. `for_function` keeps the
//! share of it the template gives one function.

use base64::Engine;
use serde_json::{Value, json};
use shared::http::routes::{ROUTES, Route};
use shared::service::support::access::AccessTokens;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::emulators::{VERIFIED_SENDER, dynamo_store, emulators, kms_key, sent_messages, ses_config};
use crate::workspace::{declared_keys, deployed_routes};

/// The longest a debug binary may take to start and answer one event on a busy two-core machine.
pub const ANSWER: Duration = Duration::from_secs(60);
/// The operator key and cursor key of `teamgate_environment`.
pub const OPERATOR_KEY: &str = "smoke-operator-key-0123456789";
pub const CURSOR_KEY: &str = "smoke-cursor-key-0123456789abcdef0123456789";
/// The variables of the keys, which each function gets only as its routes need them.
pub const KEY_VARIABLES: [&str; 4] = ["JWT_SIGNING_KEY", "JWT_PUBLIC_KEY", "OPERATOR_KEY", "CURSOR_KEY"];
/// `PUBLIC_BASE_URL` of `teamgate_environment`: where emailed links point.
pub const PUBLIC_BASE_URL: &str = "https://teamgate.smoke.example";
const RUNTIME_PATH: &str = "/2018-06-01/runtime";

/// The HTTP functions, from the route table, with their routes.
pub fn http_functions() -> BTreeMap<&'static str, Vec<&'static Route>> {
    let mut functions: BTreeMap<&str, Vec<&Route>> = BTreeMap::new();
    for route in deployed_routes() {
        functions.entry(route.function.name()).or_default().push(route);
    }
    functions
}

static BINARIES: OnceLock<Result<BTreeMap<String, PathBuf>, String>> = OnceLock::new();

/// Builds every function's debug binary, once per test run, and says where each one is.
pub fn binary(function: &str) -> PathBuf {
    let built = BINARIES.get_or_init(build_functions).as_ref().unwrap_or_else(|why| panic!("{why}"));
    built.get(function).unwrap_or_else(|| panic!("`cargo build` produced no binary `{function}`")).clone()
}

fn build_functions() -> Result<BTreeMap<String, PathBuf>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_owned());
    // The whole workspace's binaries, so that features unify as they did for the test build and
    // the libraries it compiled are reused as they are.
    let mut command = Command::new(&cargo);
    command.current_dir(crate::workspace::root()).args([
        "build",
        "--workspace",
        "--bins",
        "--quiet",
        "--message-format=json-render-diagnostics",
    ]);
    let output =
        command.stderr(Stdio::inherit()).output().map_err(|e| format!("cannot run {cargo} build: {e}"))?;
    if !output.status.success() {
        return Err(format!("`cargo build --workspace --bins` failed ({})", output.status));
    }
    // Cargo names each binary it built in a `compiler-artifact` message.
    let mut binaries = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else { continue };
        if message["reason"] == "compiler-artifact"
            && let Some(executable) = message["executable"].as_str()
        {
            let name = message["target"]["name"].as_str().unwrap_or_default().to_owned();
            binaries.insert(name, PathBuf::from(executable));
        }
    }
    Ok(binaries)
}

/// What the function sent the Runtime API.
#[derive(Debug)]
pub enum Report {
    /// It asked for the next event: initialisation is over.
    Next,
    Response {
        request_id: String,
        body: Value,
    },
    Error {
        request_id: String,
        body: Value,
    },
    InitError(Value),
}

/// A Lambda Runtime API on a free loopback port: `GET .../invocation/next` hands out the queued
/// events (blocking until there is one, as Lambda does), `POST .../invocation/{id}/response` and
/// `.../error` and `POST .../init/error` are reported on a channel.
pub struct RuntimeApi {
    pub address: SocketAddr,
    events: Option<Sender<(String, Value)>>,
    reports: Receiver<Report>,
    stop: Arc<AtomicBool>,
}

impl RuntimeApi {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let address = listener.local_addr().expect("bound");
        let (events, queued) = channel::<(String, Value)>();
        let queued = Arc::new(Mutex::new(queued));
        let (report, reports) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (queued, report) = (queued.clone(), report.clone());
                std::thread::spawn(move || serve_connection(stream, &queued, &report));
            }
        });
        Self { address, events: Some(events), reports, stop }
    }

    /// Queues one invocation and returns its request id.
    pub fn invoke(&self, event: Value) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = format!("smoke-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        self.events.as_ref().expect("running").send((id.clone(), event)).expect("the emulator runs");
        id
    }

    /// The next report other than a request for work, or `None` when none came in time.
    pub fn next_report(&self, within: Duration) -> Option<Report> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.reports.recv_timeout(left) {
                Ok(Report::Next) => continue,
                Ok(report) => return Some(report),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        // Ends the connections blocked in `next`, then the accept loop.
        self.events.take();
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.address);
    }
}

/// One HTTP/1.1 request as the runtime client sends it.
struct HttpRequest {
    method: String,
    path: String,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<HttpRequest> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let (mut length, mut chunked) = (0usize, false);
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "transfer-encoding" => chunked = value.trim().eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some(HttpRequest { method, path, body })
}

fn write_response(stream: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) -> bool {
    let mut head =
        format!("HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body)).is_ok()
}

fn serve_connection(stream: TcpStream, queued: &Mutex<Receiver<(String, Value)>>, report: &Sender<Report>) {
    let mut writer = stream.try_clone().expect("a socket clone");
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let accepted = br#"{"status":"OK"}"#;
        let path = request.path.strip_prefix(RUNTIME_PATH).unwrap_or("");
        let body = || serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let written = match (request.method.as_str(), path) {
            ("GET", "/invocation/next") => {
                let _ = report.send(Report::Next);
                // Blocks until the test queues an event; the test ending closes the queue.
                let Ok((id, event)) = queued.lock().expect("the queue").recv() else { return };
                let deadline =
                    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970") + ANSWER * 10;
                let headers = [
                    ("lambda-runtime-aws-request-id", id),
                    ("lambda-runtime-deadline-ms", deadline.as_millis().to_string()),
                    (
                        "lambda-runtime-invoked-function-arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:smoke".to_owned(),
                    ),
                    (
                        "lambda-runtime-trace-id",
                        "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
                    ),
                ];
                write_response(&mut writer, "200 OK", &headers, event.to_string().as_bytes())
            }
            ("POST", "/init/error") => {
                let _ = report.send(Report::InitError(body()));
                write_response(&mut writer, "202 Accepted", &[], accepted)
            }
            ("POST", path) if path.starts_with("/invocation/") => {
                let rest = &path["/invocation/".len()..];
                let sent = match rest.rsplit_once('/') {
                    Some((id, "response")) => {
                        Some(Report::Response { request_id: id.to_owned(), body: body() })
                    }
                    Some((id, "error")) => Some(Report::Error { request_id: id.to_owned(), body: body() }),
                    _ => None,
                };
                match sent {
                    Some(sent) => {
                        let _ = report.send(sent);
                        write_response(&mut writer, "202 Accepted", &[], accepted)
                    }
                    None => write_response(&mut writer, "404 Not Found", &[], b"{}"),
                }
            }
            _ => write_response(&mut writer, "404 Not Found", &[], b"{}"),
        };
        if !written {
            return;
        }
    }
}

/// A function process under the emulator, killed when dropped (also when a test fails).
pub struct RunningFunction {
    name: String,
    child: Child,
    output: PathBuf,
    api: RuntimeApi,
    /// What it reported to `/runtime/init/error`, if it did.
    pub init_error: Option<Value>,
    /// When the process was started: its init lasts until it asks for its first event.
    pub started: Instant,
}

/// Runs `future` to its end on a runtime of its own: the functions' tests are plain `#[test]`s,
/// since the processes they start are waited on synchronously.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime").block_on(future)
}

/// What the template gives `function` of `environment`: everything but the keys its routes do
/// not use.
pub fn for_function(
    function: &str,
    environment: &BTreeMap<&'static str, String>,
) -> BTreeMap<&'static str, String> {
    let keys = declared_keys(function).variables();
    let mut environment = environment.clone();
    environment.retain(|name, _| !KEY_VARIABLES.contains(name) || keys.contains(name));
    environment
}

/// Teamgate's configuration for Lambda, every variable valid and every key set, on a table of
/// its own; `for_function` keeps one function's share of it.
pub fn teamgate_environment() -> BTreeMap<&'static str, String> {
    static SIGNING_KEY: OnceLock<String> = OnceLock::new();
    let pem = SIGNING_KEY.get_or_init(AccessTokens::generate_pem).clone();
    let public_pem = AccessTokens::from_pem(&pem, PUBLIC_BASE_URL).expect("a valid key").public_pem();
    let (table, kms_key) = block_on(async {
        ses_config().await;
        (dynamo_store().await.table_name().to_owned(), kms_key().await)
    });
    let emulators = emulators();
    BTreeMap::from([
        ("PUBLIC_BASE_URL", PUBLIC_BASE_URL.to_owned()),
        ("OPERATOR_KEY", OPERATOR_KEY.to_owned()),
        ("JWT_SIGNING_KEY", pem),
        ("JWT_PUBLIC_KEY", public_pem),
        ("CURSOR_KEY", CURSOR_KEY.to_owned()),
        ("DEFAULT_PRESET", "standard".to_owned()),
        ("STORE", "dynamodb".to_owned()),
        ("TABLE_NAME", table),
        ("DYNAMODB_ENDPOINT", emulators.dynamodb.clone()),
        ("MAILER", "ses".to_owned()),
        ("MAIL_FROM", VERIFIED_SENDER.to_owned()),
        ("SES_ENDPOINT", emulators.moto.clone()),
        ("MFA_KMS_KEY_ID", kms_key),
        ("KMS_ENDPOINT", emulators.moto.clone()),
        // The emulators' dummy credentials and region (DynamoDB Local keeps tables per both).
        ("AWS_ACCESS_KEY_ID", "teamgate".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "teamgate".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ("RUST_LOG", "info".to_owned()),
    ])
}

impl RunningFunction {
    /// Starts `name` with its share of the configuration, as the template gives it.
    pub fn start(name: &str) -> Self {
        Self::start_with(name, for_function(name, &teamgate_environment()))
    }

    /// Starts `name` with what Lambda sets and `teamgate` (nothing else from this process's
    /// environment).
    pub fn start_with(name: &str, teamgate: BTreeMap<&'static str, String>) -> Self {
        Self::start_binary(&binary(name), name, teamgate)
    }

    /// Starts `binary` as the function `name` (a release build: `make bench`'s cold starts).
    pub fn start_binary(binary: &Path, name: &str, teamgate: BTreeMap<&'static str, String>) -> Self {
        let api = RuntimeApi::start();
        let output = std::env::temp_dir().join(format!(
            "teamgate-smoke-{}-{name}-{}.log",
            std::process::id(),
            api.address.port()
        ));
        let log = std::fs::File::create(&output).expect("a log file");
        let started = Instant::now();
        let child = Command::new(binary)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", api.address.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", format!("teamgate-{name}"))
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]0123456789abcdef")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/teamgate-{name}"))
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("_HANDLER", "bootstrap")
            .env("LAMBDA_TASK_ROOT", binary.parent().expect("a directory"))
            .envs(teamgate)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("a log file handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        Self { name: name.to_owned(), child, output, api, init_error: None, started }
    }

    /// Waits until the function asks for its first event, as Lambda ends its init phase then;
    /// false if it did not within the time an answer may take.
    pub fn wait_for_init(&self) -> bool {
        let deadline = Instant::now() + ANSWER;
        while let Ok(report) =
            self.api.reports.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if matches!(report, Report::Next) {
                return true;
            }
        }
        false
    }

    /// The most memory the process has held resident so far (`VmHWM`), in KiB.
    pub fn peak_resident_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    /// Sends one event and waits for the function's answer to it (`Err` for an error report).
    pub fn invoke(&mut self, event: Value) -> Result<Value, Value> {
        let id = self.api.invoke(event);
        match self.api.next_report(ANSWER) {
            Some(Report::Response { request_id, body }) if request_id == id => Ok(body),
            Some(Report::Error { request_id, body }) if request_id == id => Err(body),
            other => panic!(
                "{}: no answer to {id} within {ANSWER:?} (got {other:?}; exited: {:?})\n{}",
                self.name,
                self.child.try_wait().ok().flatten(),
                self.logs()
            ),
        }
    }

    /// Sends an API Gateway HTTP API event and returns the function's HTTP answer.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> HttpAnswer {
        let event = http_event(method, path, headers, body);
        let answer = self.invoke(event).unwrap_or_else(|error| {
            panic!("{}: {method} {path} was reported as an error: {error}\n{}", self.name, self.logs())
        });
        HttpAnswer::from_lambda(&answer)
    }

    /// Waits for the process to end by itself, as it does when initialisation fails.
    pub fn wait_for_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + ANSWER;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child's status") {
                return status;
            }
            // The function reports on the channel when it gives up on init, or asks for work
            // when it did not: either wakes this wait well before the deadline.
            match self.api.reports.recv_timeout(Duration::from_millis(100)) {
                Ok(Report::Next) => {
                    panic!("{} finished its init: it asked for an event\n{}", self.name, self.logs())
                }
                Ok(Report::InitError(body)) => {
                    self.init_error = Some(body);
                }
                Ok(other) => panic!("{}: unexpected {other:?}", self.name),
                Err(_) => {}
            }
            assert!(Instant::now() < deadline, "{} neither exited nor answered\n{}", self.name, self.logs());
        }
    }
}

impl Drop for RunningFunction {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.output);
    }
}

/// What API Gateway turns the function's answer into.
#[derive(Debug)]
pub struct HttpAnswer {
    pub status: u16,
    pub headers: serde_json::Map<String, Value>,
    pub body: Value,
    pub text: String,
}

impl HttpAnswer {
    pub fn from_lambda(answer: &Value) -> Self {
        let raw = answer["body"].as_str().unwrap_or_default();
        let bytes = if answer["isBase64Encoded"] == true {
            base64::engine::general_purpose::STANDARD.decode(raw).expect("a base64 body")
        } else {
            raw.as_bytes().to_vec()
        };
        let text = String::from_utf8(bytes).expect("a UTF-8 body");
        Self {
            status: answer["statusCode"].as_u64().and_then(|s| u16::try_from(s).ok()).expect("a statusCode"),
            headers: answer["headers"].as_object().cloned().unwrap_or_default(),
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

/// An API Gateway HTTP API event, payload format 2.0, as API Gateway sends it for `path`
/// (its route key is the route table's path when one matches, else `$default`).
pub fn http_event(method: &str, path: &str, headers: &[(&str, &str)], body: Option<Value>) -> Value {
    let route_key = ROUTES
        .iter()
        .find(|r| r.method.as_str() == method && route_matches(r.path, path))
        .map_or_else(|| "$default".to_owned(), |r| format!("{method} {}", r.path));
    let mut all_headers = serde_json::Map::from_iter([
        ("host".to_owned(), json!("smoke.execute-api.us-east-1.amazonaws.com")),
        ("user-agent".to_owned(), json!("teamgate-smoke")),
        ("x-forwarded-for".to_owned(), json!("203.0.113.7")),
        ("x-forwarded-proto".to_owned(), json!("https")),
    ]);
    if body.is_some() {
        all_headers.insert("content-type".to_owned(), json!("application/json"));
    }
    for (name, value) in headers {
        all_headers.insert(name.to_ascii_lowercase(), json!(value));
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_millis() as u64;
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "smoke",
            "domainName": "smoke.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "smoke",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "teamgate-smoke"
            },
            "requestId": format!("smoke-request-{now}"),
            "routeKey": route_key,
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": now
        },
        "isBase64Encoded": false
    });
    if let Some(body) = body {
        event["body"] = json!(body.to_string());
    }
    event
}

fn route_matches(pattern: &str, path: &str) -> bool {
    let (wanted, given): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), path.split('/').collect());
    wanted.len() == given.len()
        && wanted.iter().zip(&given).all(|(w, g)| w == g || (w.starts_with('{') && !g.is_empty()))
}

/// A concrete path for a route pattern: each `{param}` becomes a made-up id.
pub fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|segment| if segment.starts_with('{') { "smoke-id" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

/// The EventBridge scheduled event the cleanup's rule sends.
pub fn schedule_event() -> Value {
    json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/teamgate-cleanup"],
        "detail": {}
    })
}

/// Sends the outbox of `environment`'s table as AWS does: the table's stream, as the template
/// filters it, given to the mail-events function's own binary.
pub fn deliver_outbox(environment: &BTreeMap<&'static str, String>) {
    let filter = crate::streams::template_filter("MailEventsFunction", "Outbox");
    let records: Vec<Value> = block_on(crate::streams::stream_records(&environment["TABLE_NAME"]))
        .into_iter()
        .filter(|record| crate::streams::matches(&filter, record))
        .collect();
    let mut mailer = RunningFunction::start_with("mail-events", for_function("mail-events", environment));
    let answer = mailer
        .invoke(crate::streams::stream_event(&records))
        .unwrap_or_else(|e| panic!("{e}\n{}", mailer.logs()));
    assert_eq!(answer, json!({"batchItemFailures": []}), "{}", mailer.logs());
}

/// The token of the newest activation link SES (moto) sent to `to`, once the mail-events
/// function has sent the outbox of `environment`'s table.
pub fn activation_token(environment: &BTreeMap<&'static str, String>, to: &str) -> String {
    deliver_outbox(environment);
    let messages = block_on(sent_messages());
    let body = messages
        .iter()
        .rev()
        .filter(|m| m["destinations"]["ToAddresses"][0] == to)
        .find_map(|m| m["body"].as_str().filter(|b| b.contains("/activate#token=")))
        .unwrap_or_else(|| panic!("SES sent no activation link to {to}: {messages:?}"));
    let link = &body[body.find(PUBLIC_BASE_URL).expect("links point at PUBLIC_BASE_URL")..];
    let token = link.split_once("#token=").expect("the token is in the fragment").1;
    token.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}
