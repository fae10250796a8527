//! `make bench`, memory: the dev server's resident memory while owners activate their accounts
//! (each activation hashes a password with argon2id, 19 MiB), one at a time as a Lambda function
//! serves them, and 25 at once. Each scenario runs a dev server process of its own, the debug
//! build the tests use (`tests::lambda_runtime::binary`; its argon2 is optimised as in release),
//! and reads `VmRSS` and `VmHWM` (the peak) from `/proc/<pid>/status`: before the activations
//! (accounts created, nothing hashed yet), after them, and the peak over the whole run.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use tests::app::PASSWORD;

const OPERATOR_KEY: &str = "bench-operator-key-0123456789";
/// Every activation comes from this one client: more than the default 30 accepts per client.
const RATE_LIMITS: &str = "accept_per_client=1000/900";

pub async fn resident_memory() {
    println!(
        "\n{:<52} {:>12} {:>12} {:>12}",
        "dev server (debug build), activations", "RSS before", "RSS after", "peak"
    );
    let one_at_a_time = scenario(10, 1).await;
    for (name, footprint) in [
        ("10, one at a time (as Lambda serves them)", &one_at_a_time),
        ("25 at once", &scenario(25, 25).await),
        ("100, 25 at a time", &scenario(100, 25).await),
    ] {
        let Footprint { before, after, peak } = footprint;
        println!("{name:<52} {before:>8.1} MiB {after:>8.1} MiB {peak:>8.1} MiB");
    }
    println!(
        "one activation at a time peaks {:.1} MiB above the server before it (its hash and request)",
        one_at_a_time.peak - one_at_a_time.before
    );
}

/// Resident memory in MiB: before the activations, after them, and the process's peak.
struct Footprint {
    before: f64,
    after: f64,
    peak: f64,
}

/// `activations` owners activate, `at_once` at a time, on a fresh dev server.
async fn scenario(activations: usize, at_once: usize) -> Footprint {
    let server = DevServer::start();
    let emails: Vec<String> = (0..activations).map(|n| format!("owner{n}@memory-bench.example")).collect();
    for email in &emails {
        let body = json!({"name": "memory bench", "owner_email": email, "preset": "standard"});
        let created = server.post("/v1/operator/accounts", body).await;
        assert_eq!(created.0, 201, "{}", created.1);
    }
    let tokens = server.activation_tokens().await;
    let before = server.memory().0;
    for batch in emails.chunks(at_once) {
        let accepts = batch.iter().map(|email| {
            let body = json!({"token": tokens[email], "password": PASSWORD});
            server.post("/v1/invitations/accept", body)
        });
        for (status, body) in futures::future::join_all(accepts).await {
            assert_eq!(status, 200, "{body}");
        }
    }
    let (after, peak) = server.memory();
    Footprint { before, after, peak }
}

/// A dev server process on a free loopback port, with the embedded store and the outbox; killed
/// when dropped.
struct DevServer {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl DevServer {
    fn start() -> Self {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
            probe.local_addr().expect("bound").port()
        };
        let mut child = Command::new(tests::lambda_runtime::binary("dev-server"))
            .env("PORT", port.to_string())
            .env("OPERATOR_KEY", OPERATOR_KEY)
            .env("RUST_LOG", "warn")
            .env("RATE_LIMITS", RATE_LIMITS)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the dev server starts");
        // It prints its welcome once it listens, then a line per mail: read them all, so that
        // the pipe never fills.
        let mut lines = BufReader::new(child.stdout.take().expect("its output")).lines();
        let welcome = lines.by_ref().map_while(Result::ok).any(|line| line.contains("dev server on"));
        assert!(welcome, "the dev server stopped before listening");
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, base: format!("http://127.0.0.1:{port}"), http: reqwest::Client::new() }
    }

    /// `VmRSS` and `VmHWM`, in MiB.
    fn memory(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("Linux's /proc/<pid>/status");
        let field = |name: &str| {
            let line = status.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no {name}"));
            let kib: f64 = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("a size in kB");
            kib / 1024.0
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let request = self.http.post(format!("{}{path}", self.base)).header("x-operator-key", OPERATOR_KEY);
        let response = request.json(&body).send().await.expect("the dev server answers");
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    /// The token of each activation link in the outbox, by the address it went to.
    async fn activation_tokens(&self) -> std::collections::HashMap<String, String> {
        let response = self.http.get(format!("{}/_dev/mail", self.base)).send().await.expect("an answer");
        let outbox: Value = response.json().await.expect("the outbox");
        let items = outbox["items"].as_array().expect("items").iter();
        items
            .filter_map(|mail| {
                let link = mail["links"][0].as_str()?;
                let (_, token) = link.split_once("#token=")?;
                Some((mail["to"].as_str()?.to_owned(), token.to_owned()))
            })
            .collect()
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
