// Amazon Associates' seed scenario in the console, in Chromium at 1280 px: the owner (their
// account in Polish, switched to English) finds an
// invitation past its lifetime among the expired ones and sends it again by clicking; then the
// history at 375 px, and a member whose roles do not let them read the log or the history.
// Usage: node console-associates.mjs <base url> <artifacts dir> <owner email> <password>
//   <expired invitee's email> <member's email>
// Prints one JSON line: what the console showed. tests/tests/console_admin.rs runs it.
import { launch } from "./common.mjs";
import { consolePage, look, openScreen, outcome, rowsOf, said, settled, signIn } from "./console-steps.mjs";

const [base, artifacts, email, password, expired, member] = process.argv.slice(2);
const browser = await launch(artifacts);
try {
  const page = await consolePage(browser, base, 1280);
  await signIn(page, email, password);
  await openScreen(page, "invitations");
  outcome.heading_in_account_language = await page.textContent("#invitations-h");
  await page.selectOption("#language", "en");
  await settled(page, "invitations");
  await page.selectOption("#inv-status", "expired");
  await page.click("#inv-filters button[type=submit]");
  await settled(page, "invitations");
  outcome.expired = await rowsOf(page, "#inv-table");
  await look(page, artifacts, "invitations", 1280);
  await page.click(`#inv-table tbody tr:has-text("${expired}") button:has-text("Resend")`);
  outcome.resent = await said(page, "A new link was mailed");
  await page.selectOption("#inv-status", "");
  await page.click("#inv-filters button[type=submit]");
  await settled(page, "invitations");
  outcome.after = (await rowsOf(page, "#inv-table")).filter((row) => row.includes(expired));
  await page.context().close();

  const narrow = await consolePage(browser, base, 375);
  await signIn(narrow, email, password);
  await openScreen(narrow, "invitations");
  await look(narrow, artifacts, "invitations", 375);
  await narrow.click("#signout");
  await signIn(narrow, member, password);
  await openScreen(narrow, "audit");
  outcome.audit_denied = await narrow.isVisible("#audit-denied") && (await narrow.isHidden("#audit-view"));
  await look(narrow, artifacts, "audit-denied", 375);
  await openScreen(narrow, "invitations");
  outcome.invitations_denied = await narrow.isVisible("#inv-denied") && (await narrow.isHidden("#inv-view"));
  await openScreen(narrow, "settings");
  outcome.settings_read_only = await narrow.isVisible("#settings-readonly") && (await narrow.$eval("#settings-fields", (f) => f.disabled));
  await look(narrow, artifacts, "settings-read-only", 375);
  await narrow.context().close();
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
