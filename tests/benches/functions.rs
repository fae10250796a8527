//! The deployed functions as a platform team judges them, from the zips `make build` wrote: each
//! zip against its budget, and cold starts run the way Lambda runs them — a fresh process under
//! the Runtime API emulator, DynamoDB Local behind it — side by side with two baselines built the
//! same way (`tests/baselines/`): a bare `lambda_runtime` hello, and a hello that builds the same
//! DynamoDB client and primes it with one `GetItem` at init.

use serde_json::{Value, json};
use shared::http::routes::Route;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tests::lambda_runtime::{
    RunningFunction, concrete, for_function, http_event, http_functions, schedule_event, teamgate_environment,
};

/// Cold starts measured per function.
const COLD_STARTS: usize = 20;
/// Every zip's budget, in bytes, and the tighter one of a function that reaches no AWS service
/// (what makes a function big is the AWS client with its TLS, as the DynamoDB hello shows, far
/// more than mail or password hashing: README, "Zips and cold starts").
const BUDGET: u64 = 2_500_000;
const BUDGET_WITHOUT_AWS: u64 = 2_000_000;
/// The most a function's init may take, as a multiple of its baseline's.
const INIT_GOAL: f64 = 2.0;
const BARE_HELLO: &str = "hello";
const SDK_HELLO: &str = "hello-dynamodb";
/// The authorizer refuses to start without a route map.
const ROUTE_MAP: &str = "[routes]\n\"GET /sellers/{account_id}/orders\" = \"products:read\"\n";

/// One function's zip and cold starts.
struct Measured {
    name: String,
    zip_bytes: u64,
    /// Exec to the first request for an event, median, in milliseconds.
    init_ms: f64,
    /// The first event's answer, median, in milliseconds.
    first_ms: f64,
    /// Peak resident memory after the first event, median, in MiB.
    peak_mib: f64,
}

/// Prints the zip and cold-start table.
pub fn report() {
    let zips = tests::workspace::root().join("target/lambda");
    let mut names: Vec<String> = tests::workspace::function_crates().into_iter().collect();
    names.extend([BARE_HELLO.to_owned(), SDK_HELLO.to_owned()]);
    // Zips of an older checkout would be measured as this one's: every one must be there.
    let missing: Vec<&String> =
        names.iter().filter(|n| !zips.join(n).join("bootstrap.zip").is_file()).collect();
    if !missing.is_empty() {
        println!("\nno Lambda zips for {missing:?} yet: run `make build` first for sizes and cold starts");
        return;
    }
    let unpacked = std::env::temp_dir().join(format!("teamgate-cold-starts-{}", std::process::id()));
    let http = http_functions();
    let binaries: Vec<PathBuf> = names
        .iter()
        .map(|name| unpack(&zips.join(name).join("bootstrap.zip"), &unpacked.join(name)))
        .collect();
    let setups: Vec<ColdStart> =
        names.iter().map(|name| ColdStart::of(name, http.get(name.as_str()))).collect();
    // Round by round, each binary once a round: a machine that slows down in the middle slows
    // every function and both baselines alike, and the ratios stay true.
    let mut samples: Vec<Samples> = names.iter().map(|_| Samples::default()).collect();
    for _ in 0..COLD_STARTS {
        for ((name, binary), (setup, samples)) in
            names.iter().zip(&binaries).zip(setups.iter().zip(&mut samples))
        {
            samples.add(cold_start(name, binary, setup));
        }
    }
    let measured: Vec<Measured> = names
        .iter()
        .zip(samples)
        .map(|(name, samples)| {
            let zip_bytes = std::fs::metadata(zips.join(name).join("bootstrap.zip")).map_or(0, |m| m.len());
            Measured {
                name: name.clone(),
                zip_bytes,
                init_ms: median(samples.inits),
                first_ms: median(samples.firsts),
                peak_mib: median(samples.peaks),
            }
        })
        .collect();
    let _ = std::fs::remove_dir_all(&unpacked);
    print_tables(&measured, &http);
}

fn print_tables(measured: &[Measured], http: &BTreeMap<&'static str, Vec<&'static Route>>) {
    let of = |name: &str| measured.iter().find(|m| m.name == name).expect("measured");
    println!(
        "\n{:<16} {:>10} {:>10}  {:<8} {:>9} {:>9} {:>9} {:>10} {:>9}",
        "function zip", "bytes", "budget", "verdict", "init ms", "baseline", "ratio", "1st call", "peak MiB"
    );
    let (mut over, mut slow) = (Vec::new(), Vec::new());
    for m in measured {
        let (budget, verdict, baseline_name, ratio) = if is_baseline(&m.name) {
            ("-".to_owned(), "-", "-", "-".to_owned())
        } else {
            let budget = budget_of(&m.name, http);
            let baseline = of(baseline_of(&m.name, http));
            let ratio = m.init_ms / baseline.init_ms;
            if m.zip_bytes > budget {
                over.push(m.name.clone());
            }
            if ratio > INIT_GOAL {
                slow.push(m.name.clone());
            }
            let verdict = if m.zip_bytes <= budget { "within" } else { "OVER" };
            (budget.to_string(), verdict, baseline.name.as_str(), format!("{ratio:.2}×"))
        };
        println!(
            "{:<16} {:>10} {:>10}  {:<8} {:>9.1} {:>9} {:>9} {:>10.1} {:>9.1}",
            m.name, m.zip_bytes, budget, verdict, m.init_ms, baseline_name, ratio, m.first_ms, m.peak_mib
        );
    }
    println!(
        "(medians of {COLD_STARTS} cold starts each; init: exec to the first request for an event; 1st call: \
         that event's answer; budget {BUDGET} bytes, {BUDGET_WITHOUT_AWS} for a function that reaches \
         no AWS service; baselines are not deployed)"
    );
    if over.is_empty() {
        println!("every zip is within its budget");
    } else {
        println!("OVER budget: {}", over.join(", "));
    }
    if slow.is_empty() {
        println!("every init is within {INIT_GOAL}× its baseline's");
    } else {
        println!("init over {INIT_GOAL}× its baseline's: {}", slow.join(", "));
    }
}

/// The baseline a function's init is judged against: the SDK hello where it primes the table
/// at init (every function whose routes touch the table, the authorizer and the cleanup), the
/// bare hello where it touches no AWS service.
fn baseline_of(name: &str, http: &BTreeMap<&'static str, Vec<&'static Route>>) -> &'static str {
    match http.get(name) {
        Some(routes) if routes.iter().all(|r| !r.effects.uses_table) => BARE_HELLO,
        _ => SDK_HELLO,
    }
}

fn budget_of(name: &str, http: &BTreeMap<&'static str, Vec<&'static Route>>) -> u64 {
    let without_aws =
        http.get(name).is_some_and(|routes| routes.iter().all(|r| !r.effects.uses_table && !r.effects.mails));
    if without_aws { BUDGET_WITHOUT_AWS } else { BUDGET }
}

fn is_baseline(name: &str) -> bool {
    name == BARE_HELLO || name == SDK_HELLO
}

/// The `bootstrap` of `zip`, unpacked into `into`.
fn unpack(zip: &Path, into: &Path) -> PathBuf {
    std::fs::create_dir_all(into).expect("a directory to unpack into");
    let status = std::process::Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(zip)
        .arg(into)
        .status()
        .expect("python3 unpacks zips");
    assert!(status.success(), "unpacking {}", zip.display());
    let binary = into.join("bootstrap");
    let mut permissions = std::fs::metadata(&binary).expect("a bootstrap in the zip").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&binary, permissions).expect("an executable bootstrap");
    binary
}

/// What a function's cold starts share: its environment and the first event it gets.
struct ColdStart {
    environment: BTreeMap<&'static str, String>,
    event: Value,
}

impl ColdStart {
    fn of(name: &str, routes: Option<&Vec<&'static Route>>) -> Self {
        let environment = teamgate_environment();
        let mut environment = if is_baseline(name) { environment } else { for_function(name, &environment) };
        environment.insert("AUTHZ_ROUTE_MAP", ROUTE_MAP.to_owned());
        Self { environment, event: first_event(name, routes) }
    }
}

/// Init, first-event and peak-memory samples of one function, in milliseconds and MiB.
#[derive(Default)]
struct Samples {
    inits: Vec<f64>,
    firsts: Vec<f64>,
    peaks: Vec<f64>,
}

impl Samples {
    fn add(&mut self, (init, first, peak): (f64, f64, f64)) {
        self.inits.push(init);
        self.firsts.push(first);
        self.peaks.push(peak);
    }
}

/// One cold start: a fresh process, its init, its first event, its peak memory.
fn cold_start(name: &str, binary: &Path, setup: &ColdStart) -> (f64, f64, f64) {
    let mut function = RunningFunction::start_binary(binary, name, setup.environment.clone());
    assert!(function.wait_for_init(), "{name} did not finish its init\n{}", function.logs());
    let init = function.started.elapsed().as_secs_f64() * 1000.0;
    let asked = std::time::Instant::now();
    // A refusal is an answer too: the authorizer refuses a request without a token.
    let _ = function.invoke(setup.event.clone());
    let first = asked.elapsed().as_secs_f64() * 1000.0;
    (init, first, function.peak_resident_kib().unwrap_or(0) as f64 / 1024.0)
}

/// The first event a cold function gets: an unauthenticated request on its first route (a GET
/// where it has one), the schedule's event for the cleanup, an empty stream batch for the
/// publisher, an SES event of no Teamgate mail for mail-events, a request without a token for the
/// authorizer, anything for a baseline.
fn first_event(name: &str, routes: Option<&Vec<&'static Route>>) -> Value {
    match (name, routes) {
        (_, Some(routes)) => {
            let route = routes.iter().find(|r| r.method.as_str() == "GET").unwrap_or(&routes[0]);
            let body = (route.method.as_str() != "GET").then(|| json!({}));
            http_event(route.method.as_str(), &concrete(route.path), &[], body)
        }
        ("cleanup", None) => schedule_event(),
        ("publisher", None) => json!({ "Records": [] }),
        ("mail-events", None) => {
            json!({ "detail-type": "Email Delivered", "source": "aws.ses", "detail": {} })
        }
        ("authorizer", None) => tests::authorizer_events::http_api_event(
            "GET",
            "/sellers/{account_id}/orders",
            &[("account_id", "01890a5d-ac96-774b-bcce-b302099a8057")],
            &[],
        ),
        _ => json!({}),
    }
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}
