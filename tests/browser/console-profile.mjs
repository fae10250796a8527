// My profile and the settings in Chromium: an owner gives their first name, mistypes their current password (the field
// says so), changes it, looks at turning on two-step verification, sets an invitation lifetime
// the marketplace does not allow (the field says so) then one it does; every screen and dialog
// is seen at 1280 px, and again at 375 px signed in with the new password.
// Usage: node console-profile.mjs <base url> <artifacts dir> <email> <password> <new password>
// Prints one JSON line: what the console showed. tests/tests/console_admin.rs runs it.
import { launch } from "./common.mjs";
import { consolePage, look, openScreen, outcome, said, signIn } from "./console-steps.mjs";

const [base, artifacts, email, password, newPassword] = process.argv.slice(2);
const browser = await launch(artifacts);
try {
  const page = await consolePage(browser, base, 1280);
  await signIn(page, email, password);
  await openScreen(page, "profile");
  outcome.email = await page.textContent("#profile-email");
  outcome.mfa = await page.textContent("#mfa-state");
  await look(page, artifacts, "profile", 1280);
  await page.fill("#profile-first", "Olena");
  await page.click("#profile-form button[type=submit]");
  outcome.profile_saved = await said(page, "Your profile is saved.");

  await page.fill("#password-current", "not-my-password-at-all");
  await page.fill("#password-new", newPassword);
  await page.press("#password-new", "Enter");
  await page.waitForSelector("#password-current-err:not([hidden])");
  outcome.wrong_current = await page.textContent("#password-current-err");
  outcome.focused_after_wrong = await page.evaluate(() => document.activeElement.id);
  await page.fill("#password-current", password);
  await page.click("#password-form button[type=submit]");
  outcome.changed = await said(page, "password is changed");

  await page.click("#mfa-on");
  await page.waitForSelector("#mfa-dialog[open] #mfa-start:not([hidden])");
  await look(page, artifacts, "profile-mfa-password", 1280);
  await page.fill("#mfa-password", newPassword);
  await page.press("#mfa-password", "Enter");
  await page.waitForSelector("#mfa-confirm:not([hidden]) #mfa-qr[src^='data:image/svg+xml']");
  outcome.mfa_key_shown = ((await page.textContent("#mfa-secret")) || "").length > 0;
  await look(page, artifacts, "profile-mfa-code", 1280);
  await page.keyboard.press("Escape");
  await page.waitForSelector("#mfa-dialog", { state: "hidden" });
  outcome.focus_after_dialog = await page.evaluate(() => document.activeElement.id);

  await openScreen(page, "settings");
  await look(page, artifacts, "settings", 1280);
  await page.fill("#settings-ttl", "100");
  await page.click("#settings-save");
  await page.waitForSelector("#settings-ttl-err:not([hidden])");
  outcome.ttl_refused = await page.textContent("#settings-ttl-err");
  await page.fill("#settings-ttl", "12");
  await page.click("#settings-save");
  outcome.saved = await said(page, "settings are saved");
  outcome.ttl_after = await page.inputValue("#settings-ttl");
  await page.context().close();

  const narrow = await consolePage(browser, base, 375);
  await signIn(narrow, email, newPassword);
  await openScreen(narrow, "profile");
  await look(narrow, artifacts, "profile", 375);
  await openScreen(narrow, "settings");
  outcome.ttl_narrow = await narrow.inputValue("#settings-ttl");
  await look(narrow, artifacts, "settings", 375);
  await narrow.context().close();
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
