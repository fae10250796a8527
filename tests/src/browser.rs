//! Browser scripts (tests/browser/*.mjs: Debian's Chromium driven by playwright-core, axe-core
//! on every screen) run from Rust tests, and the folder their screenshots go to.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

/// Runs `script` of tests/browser/ with `args`; what it printed, as JSON.
pub async fn browse(script: &str, args: &[&str]) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser").join(script);
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    // Each of the script's waits gives up within Playwright's 30 s; the run as a whole within this.
    let run =
        tokio::task::spawn_blocking(move || std::process::Command::new("node").arg(path).args(args).output());
    let output = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .unwrap_or_else(|_| panic!("{script} ran over five minutes"))
        .expect("the script's thread")
        .unwrap_or_else(|e| panic!("node runs {script} (make test installs it): {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script} failed:\n{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{script} printed no JSON ({e}):\n{stdout}\n{stderr}"))
}

/// target/browser-artifacts/`name`, where a script keeps its screenshots.
pub fn artifacts(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser-artifacts").join(name);
    dir.to_string_lossy().into_owned()
}
