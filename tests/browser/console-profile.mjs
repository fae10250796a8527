// My profile and the settings in Chromium: an owner gives their first name, mistypes their
// current password (the field says so), changes it, turns two-step verification on with the
// app's code and off with a recovery code, sets an invitation lifetime the marketplace does not
// allow (the field says so) then one it does; every screen and dialog is seen at 1280 px, and
// again at 375 px signed in with the new password, where it signs out everywhere else.
// Usage: node console-profile.mjs <base url> <artifacts dir> <email> <password> <new password>
// Prints one JSON line: what the console showed. tests/tests/console_admin.rs runs it.
import { createHmac } from "node:crypto";
import { launch } from "./common.mjs";
import { consolePage, look, openScreen, outcome, said, signIn } from "./console-steps.mjs";

const [base, artifacts, email, password, newPassword] = process.argv.slice(2);

/** The code an authenticator app shows now for the base32 `secret` (RFC 6238: SHA-1, 30 s, 6 digits). */
function totp(secret) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bits = [...secret.replace(/=+$/, "")].map((c) => alphabet.indexOf(c.toUpperCase()).toString(2).padStart(5, "0")).join("");
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const at = mac[19] & 15;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1000000).padStart(6, "0");
}
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
  await look(page, artifacts, "profile-mfa-code", 1280);
  await page.fill("#mfa-code", totp(await page.textContent("#mfa-secret")));
  await page.press("#mfa-code", "Enter");
  await page.waitForSelector("#mfa-done:not([hidden]) #mfa-codes li");
  const recoveryCodes = await page.$$eval("#mfa-codes li", (items) => items.map((li) => li.textContent));
  outcome.recovery_codes = recoveryCodes.length;
  await look(page, artifacts, "profile-mfa-done", 1280);
  await page.click("#mfa-done button");
  await page.waitForSelector("#mfa-dialog", { state: "hidden" });
  outcome.mfa_on = await page.textContent("#mfa-state");

  await page.click("#mfa-off");
  await page.waitForSelector("#mfa-off-dialog[open]");
  await look(page, artifacts, "profile-mfa-off", 1280);
  await page.fill("#mfa-off-password", newPassword);
  await page.fill("#mfa-off-code", recoveryCodes[0]);
  await page.press("#mfa-off-code", "Enter");
  outcome.mfa_turned_off = await said(page, "Two-step verification is off.");
  outcome.mfa_after = await page.textContent("#mfa-state");

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
  await narrow.click("#sessions-end-others");
  outcome.others_ended = await said(narrow, "You are signed out everywhere else.");
  outcome.sessions_left = await narrow.$$eval("#sessions-table tbody tr", (rows) => rows.map((row) => row.innerText.includes("This browser")));
  await openScreen(narrow, "settings");
  outcome.ttl_narrow = await narrow.inputValue("#settings-ttl");
  await look(narrow, artifacts, "settings", 375);
  await narrow.context().close();
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
