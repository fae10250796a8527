//! The pages around the console as a new person meets them, in Debian's Chromium (the scripts
//! tests/browser/pages-*.mjs; axe-core and screenshots at 1280 and 375 px on every screen, kept
//! in target/browser-artifacts/): each leads on to the sign-in, speaks the invitation's or the
//! account's language, asks for the link again after a reload (the token left the address bar,
//! and the page keeps none) or says what came of it, and says what is wrong with a link as soon
//! as it opens. The deployment names its marketplace's support here.

use serde_json::{Value, json};
use tests::app::{PASSWORD, TestApp};
use tests::browser::{artifacts, browse};

const NEW_PASSWORD: &str = "Another-Long-Passphrase-7";

/// A folder of its own for each run of `name` (the two backends run side by side).
fn folder(app: &TestApp, name: &str) -> String {
    artifacts(&format!("{name}-{}", app.base.rsplit(':').next().unwrap_or_default()))
}

/// What every script run must show: no accessibility violation and no script error.
fn clean(seen: &Value) {
    assert_eq!((&seen["violations"], &seen["errors"]), (&json!([]), &json!([])), "{seen}");
}

async fn a_new_owner_activates_in_the_accounts_language_and_is_led_to_the_sign_in(app: TestApp) {
    // Given a Polish account (amazon-associates speaks pl) and its owner's emailed link
    let email = "owner@pages-owner.example";
    assert_eq!(app.create_account("amazon-associates", email).await.status, 201);
    let token = app.link_token(email).await;

    // When the owner opens it in Chromium, reloads, opens it again, chooses a password, reloads
    // again and follows the page on
    let seen =
        browse("pages-activate.mjs", &[&app.base, &token, &folder(&app, "pages-owner"), PASSWORD]).await;

    // Then the page spoke Polish throughout and said they are the owner, each time the link
    // was opened, with the token gone from the address; the reload asked for the link again
    // (the page keeps no link where a reopened tab would find it), without blaming it
    assert_eq!(
        (&seen["reloaded"]["lang"], &seen["reloaded"]["title"]),
        (&json!("pl"), &json!("Otwórz link ponownie"))
    );
    for form in [&seen["form"], &seen["reopened_form"]] {
        assert_eq!(form["lang"], "pl", "{seen}");
        assert_eq!(form["heading"], "Aktywacja konta sprzedawcy", "{seen}");
        assert!(form["intro"].as_str().is_some_and(|i| i.starts_with("Jesteś właścicielem")), "{seen}");
        assert_eq!(form["roles"], "Właściciel", "{seen}");
        assert!(form["address"].as_str().is_some_and(|a| a.ends_with("/activate")), "{seen}");
    }
    // And once activated it said whose account it is and led to the console's sign-in; a reload
    // says it is done, and leads there too
    assert_eq!(seen["done"]["title"], "Gotowe.", "{seen}");
    assert!(seen["done"]["text"].as_str().is_some_and(|t| t.contains("należy do Ciebie")), "{seen}");
    let sign_in = json!([{"text": "Zaloguj się", "href": "/console"}]);
    assert_eq!(seen["done"]["links"], sign_in, "{seen}");
    assert_eq!(seen["reloaded_done"]["title"], "Gotowe.", "{seen}");
    assert_eq!(seen["reloaded_done"]["links"], sign_in, "{seen}");
    assert_eq!(seen["signed_in_at"], "/console", "{seen}");
    clean(&seen);
}

async fn an_expired_owner_link_says_to_ask_the_marketplaces_support_in_the_accounts_language(app: TestApp) {
    // Given a Ukrainian account (ua-marketplace) whose owner never used the link, a month ago
    let email = "owner@pages-expired-owner.example";
    assert_eq!(app.create_account("ua-marketplace", email).await.status, 201);
    let token = app.link_token(email).await;
    app.advance_clock(31 * 86_400).await;

    // When the owner opens it in Chromium, then reloads
    let path = format!("/activate#token={token}");
    let seen = browse(
        "pages-refusal.mjs",
        &[&app.base, &path, &folder(&app, "pages-expired-owner"), "activate-expired-owner"],
    )
    .await;

    // Then, in Ukrainian, it says the link expired and that the marketplace's support sends a new
    // one, linking to it; no request to the team is offered (an owner has no one above them)
    let shown = &seen["loaded"];
    assert_eq!(shown["lang"], "uk", "{seen}");
    assert_eq!(shown["title"], "Термін дії посилання для активації минув", "{seen}");
    assert!(shown["text"].as_str().is_some_and(|t| t.contains("від маркетплейсу")), "{seen}");
    let support = json!([{"text": "help@marketplace.example", "href": "mailto:help@marketplace.example"}]);
    assert_eq!(shown["links"], support, "{seen}");
    assert_eq!((&shown["buttons"], &shown["forms"]), (&json!([]), &json!([])), "{seen}");
    // And the reload, in Ukrainian still, asks for the link again
    assert_eq!(
        (&seen["reloaded"]["lang"], &seen["reloaded"]["title"]),
        (&json!("uk"), &json!("Відкрийте посилання ще раз"))
    );
    clean(&seen);
}

async fn a_reset_link_shows_whose_password_and_the_rules_before_anything_is_typed(app: TestApp) {
    // Given the owner of a Ukrainian account (Latin characters only, 6 or more) who asked for a
    // reset link
    let owner = app.owner("ua-marketplace", "owner@pages-reset.example").await;
    let token = app.reset_link(&owner.email).await;

    // When they open it in Chromium, reload, choose a new password and reload again
    let seen =
        browse("pages-reset.mjs", &[&app.base, &token, &folder(&app, "pages-reset"), NEW_PASSWORD]).await;

    // Then before anything was typed, in Ukrainian, the page named the login and the rules,
    // each time the link was opened, the token gone from the address; the reload asked for the
    // link again
    assert_eq!(
        (&seen["reloaded"]["lang"], &seen["reloaded"]["title"]),
        (&json!("uk"), &json!("Відкрийте посилання ще раз"))
    );
    for form in [&seen["form"], &seen["reopened_form"]] {
        assert_eq!((&form["lang"], &form["heading"]), (&json!("uk"), &json!("Новий пароль")), "{seen}");
        assert_eq!(form["login"], owner.email, "{seen}");
        assert_eq!(
            form["rules"],
            "Від 6 до 128 символів. Добре підходить довга фраза. Лише латинські літери, цифри та символи."
        );
        assert_eq!(form["no_access"], Value::Null, "{seen}");
        assert!(form["address"].as_str().is_some_and(|a| a.ends_with("/reset-password")), "{seen}");
    }
    // And once changed it led to the sign-in, and a reload says the same, not that the link broke
    for done in [&seen["done"], &seen["reloaded_done"]] {
        assert_eq!(done["title"], "Пароль змінено", "{seen}");
        assert_eq!(done["links"], json!([{"text": "Увійти", "href": "/console"}]), "{seen}");
    }
    clean(&seen);
    assert_eq!(app.sign_in(&owner.email, NEW_PASSWORD).await.status, 200);
}

async fn a_reset_for_a_login_with_no_access_left_says_so_instead_of_signing_into_nothing(app: TestApp) {
    // Given Anna, removed from the one account she used, whose only other is an invitation she
    // has not accepted, holding a reset link
    app.removed_with_an_invitation_pending("anna@pages-no-access.example").await;
    let token = app.reset_link("anna@pages-no-access.example").await;

    // When she opens it and sets a new password
    let seen =
        browse("pages-reset.mjs", &[&app.base, &token, &folder(&app, "pages-no-access"), NEW_PASSWORD]).await;

    // Then the page said before and after that signing in will show her no account, and offered
    // no sign-in
    assert!(seen["form"]["no_access"].as_str().is_some_and(|t| t.contains("no active access")), "{seen}");
    for done in [&seen["done"], &seen["reloaded_done"]] {
        assert!(done["text"].as_str().is_some_and(|t| t.contains("no active access")), "{seen}");
        assert_eq!(done["links"], json!([]), "{seen}");
    }
    clean(&seen);
}

async fn a_used_reset_link_says_so_as_it_opens(app: TestApp) {
    // Given a reset link already used
    let owner = app.owner("standard", "owner@pages-used-reset.example").await;
    let token = app.reset_link(&owner.email).await;
    let used =
        app.post("/v1/password-reset/confirm", json!({"token": token, "new_password": NEW_PASSWORD})).await;
    assert_eq!(used.status, 204, "{}", used.body);

    // When it is opened again, then reloaded
    let path = format!("/reset-password#token={token}");
    let seen =
        browse("pages-refusal.mjs", &[&app.base, &path, &folder(&app, "pages-used-reset"), "reset-used"])
            .await;

    // Then the page says at once that the link no longer works and offers only a new one; a
    // reload asks for the link again, and offers a new one too
    assert_eq!(seen["loaded"]["title"], "This link is no longer valid", "{seen}");
    assert_eq!(seen["reloaded"]["title"], "Open your link again", "{seen}");
    for shown in [&seen["loaded"], &seen["reloaded"]] {
        assert_eq!(shown["forms"], json!(["req"]), "{seen}");
    }
    clean(&seen);
}

/// Without the console and with no sign-in named (`CONSOLE=off`, no `SIGN_IN_URL`), the pages
/// send people back to the marketplace instead of to a sign-in that is not there.
#[tokio::test]
async fn without_a_sign_in_the_pages_send_people_back_to_the_marketplace() {
    // Given a deployment with the console off and no sign-in named, and an owner's reset link
    let app = tests::app::spawn_app_with(|settings| {
        settings.console = false;
        settings.guidance.sign_in = None;
    })
    .await;
    let owner = app.owner("standard", "owner@pages-marketplace.example").await;
    let token = app.reset_link(&owner.email).await;

    // When the owner resets their password in Chromium
    let seen =
        browse("pages-reset.mjs", &[&app.base, &token, &folder(&app, "pages-marketplace"), NEW_PASSWORD])
            .await;

    // Then the page says to sign in at the marketplace, and links nowhere
    assert_eq!(seen["done"]["links"], json!([]), "{seen}");
    let text = seen["done"]["text"].as_str().unwrap_or_default();
    assert!(text.contains("go back to the marketplace where you manage your shop"), "{seen}");
    clean(&seen);
}

tests::scenarios!(
    settings: |settings| settings.guidance.support = shared::domain::Support::parse("help@marketplace.example").ok();
    a_new_owner_activates_in_the_accounts_language_and_is_led_to_the_sign_in,
    an_expired_owner_link_says_to_ask_the_marketplaces_support_in_the_accounts_language,
    a_reset_link_shows_whose_password_and_the_rules_before_anything_is_typed,
    a_reset_for_a_login_with_no_access_left_says_so_instead_of_signing_into_nothing,
    a_used_reset_link_says_so_as_it_opens,
);
