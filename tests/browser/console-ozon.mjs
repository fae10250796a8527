// Ozon's seed scenario in the console, in Chromium at 1280 px: the owner invites someone by
// clicking, filters the invitation history by status, role and email, is told to wait when
// sending an invitation again past the hourly limit, revokes the new
// invitation (confirmed with the keyboard), reads it in the audit log and downloads the log,
// mistypes then types their password to hand the account to an active member; then each screen
// at 375 px as the former owner.
// Usage: node console-ozon.mjs <base url> <artifacts dir> <owner email> <password> <invitee email>
//   <new owner's email>
// Prints one JSON line: what the console showed. tests/tests/console_admin.rs runs it.
import { readFileSync } from "node:fs";
import { launch } from "./common.mjs";
import { consolePage, look, openScreen, outcome, rowsOf, said, settled, signIn } from "./console-steps.mjs";

const [base, artifacts, email, password, invitee, successor] = process.argv.slice(2);
const browser = await launch(artifacts);

/** The invitations the history shows once filtered by `status`, `role` and `email`. */
async function filtered(page, { status = "", role = "", search = "" }) {
  await page.selectOption("#inv-status", status);
  await page.selectOption("#inv-role", role);
  await page.fill("#inv-email", search);
  await page.click("#inv-filters button[type=submit]");
  await settled(page, "invitations");
  return rowsOf(page, "#inv-table");
}

try {
  const page = await consolePage(browser, base, 1280);
  await signIn(page, email, password);
  await page.click("#invite-open");
  await page.waitForSelector("#invite[open]");
  await page.fill("#invite-form [name=email]", invitee);
  await page.check("#invite-form [name=roles][value=product_manager]");
  await page.click("#invite-form button[type=submit]");
  await page.waitForSelector("#invite", { state: "hidden" });

  await openScreen(page, "invitations");
  outcome.history = await rowsOf(page, "#inv-table");
  await look(page, artifacts, "invitations", 1280);
  outcome.waiting = await filtered(page, { status: "sent" });
  outcome.product_managers = await filtered(page, { role: "product_manager" });
  const [limited] = await filtered(page, { search: "pavlo" });
  await page.click(`#inv-table tbody tr:has-text("pavlo") button:has-text("Resend")`);
  outcome.limited = await said(page, "Too many attempts");
  outcome.limited_button = await page.textContent(`#inv-table tbody tr:has-text("pavlo") button:disabled`);
  outcome.limited_row = limited;
  outcome.searched = await filtered(page, { search: invitee.split("@")[0] });

  await page.click(`#inv-table tbody tr:has-text("${invitee}") button:has-text("Revoke")`);
  await page.waitForSelector("#confirm[open]");
  outcome.confirm = await page.textContent("#confirm-h");
  await look(page, artifacts, "invitations-revoke", 1280);
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  outcome.revoked = await said(page, "was revoked");
  outcome.after_revoke = await rowsOf(page, "#inv-table");

  await openScreen(page, "audit");
  outcome.audit = await rowsOf(page, "#audit-table");
  await look(page, artifacts, "audit", 1280);
  await page.selectOption("#audit-action", "invitation.revoked");
  await page.click("#audit-filters button[type=submit]");
  await settled(page, "audit");
  outcome.audit_revocations = await rowsOf(page, "#audit-table");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#audit-export")]);
  outcome.export_name = download.suggestedFilename();
  outcome.exported = readFileSync(await download.path(), "utf8").split("\r\n").filter(Boolean);

  await openScreen(page, "settings");
  await look(page, artifacts, "settings", 1280);
  const choice = await page.$eval("#transfer-to", (select, who) =>
    [...select.options].find((option) => option.text.includes(who)).value, successor);
  await page.selectOption("#transfer-to", choice);
  await page.fill("#transfer-password", "not-the-owners-password");
  await page.click("#transfer-form button[type=submit]");
  await page.waitForSelector("#confirm[open]");
  await page.click("#confirm-ok");
  await page.waitForSelector("#transfer-password-err:not([hidden])");
  outcome.transfer_wrong = await page.textContent("#transfer-password-err");
  await page.fill("#transfer-password", password);
  await page.click("#transfer-form button[type=submit]");
  await page.waitForSelector("#confirm[open]");
  outcome.transfer_confirm = await page.textContent("#confirm-h");
  await look(page, artifacts, "settings-transfer", 1280);
  await page.click("#confirm-ok");
  outcome.transferred = await said(page, "now owns this account");
  await settled(page, "settings");
  outcome.transfer_offered_after = await page.isVisible("#transfer");
  outcome.settings_writable_after = !(await page.$eval("#settings-fields", (f) => f.disabled));
  await page.context().close();

  const narrow = await consolePage(browser, base, 375);
  await signIn(narrow, email, password);
  for (const screen of ["invitations", "audit", "settings", "profile"]) {
    await openScreen(narrow, screen);
    await look(narrow, artifacts, screen, 375);
    if (screen === "invitations") outcome.narrow_history = await rowsOf(narrow, "#inv-table");
  }
  await narrow.context().close();
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
