//! The pages in a real browser: Debian's Chromium driven by playwright-core, with axe-core on
//! every screen (the scripts and their pinned packages are in tests/browser/, installed by
//! `make test` through tests/browser/install.sh). Screenshots are kept in
//! target/browser-artifacts/.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use tests::app::{PASSWORD, TestApp};

/// Runs `script` of tests/browser/ with `args`; what it printed, as JSON.
async fn browse(script: &str, args: &[&str]) -> Value {
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

fn artifacts(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser-artifacts").join(name);
    dir.to_string_lossy().into_owned()
}

async fn a_new_owner_of_an_account_requiring_two_step_verification_enrolls_on_the_activation_page(
    app: TestApp,
) {
    // Given an amazon-seller account (its preset requires two-step verification) and its
    // owner's emailed link
    let email = "owner@browser-mfa.example";
    assert_eq!(app.create_account("amazon-seller", email).await.status, 201);
    let token = app.link_token(email).await;

    // When the owner opens it in Chromium, chooses a password, mistypes the app's code once,
    // then types it
    let port = app.base.rsplit(':').next().unwrap_or_default();
    let seen =
        browse("activate-mfa.mjs", &[&app.base, &token, &artifacts(&format!("activate-mfa-{port}"))]).await;

    // Then the page asked for the code, said the wrong one was wrong, and ended on ten recovery
    // codes; the link is used; no screen has an accessibility violation
    assert_eq!(seen["heading"], "Turn on two-step verification", "{seen}");
    assert_eq!(seen["qr"], true, "{seen}");
    assert!(seen["wrong"].as_str().is_some_and(|w| w.contains("isn't right")), "{seen}");
    assert_eq!(seen["done"], "Two-step verification is on.", "{seen}");
    assert_eq!(seen["recovery_codes"].as_array().map(Vec::len), Some(10), "{seen}");
    assert_eq!(seen["used"], "This invitation has already been used", "{seen}");
    assert_eq!(seen["violations"], json!([]), "{seen}");

    // And the server agrees: the owner's sign-in asks for a code
    assert_eq!(app.sign_in(email, PASSWORD).await.status, 202);
}

tests::scenarios!(a_new_owner_of_an_account_requiring_two_step_verification_enrolls_on_the_activation_page);
