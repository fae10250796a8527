// The presets' team scenarios done through the console in Debian's Chromium, by clicking at
// 1280 px (and one with the keyboard alone), the screens and dialogs also seen at 375 px.
// axe-core checks every screen and dialog; screenshots go to the artifacts folder.
// Usage: node console-team.mjs <scenario> <base url> <email> <password> <artifacts dir> [<json>]
// where <json> carries what the scenario needs (emails, the code of the owner's app).
// Prints one JSON line: what the console showed. tests/tests/console_team.rs runs it.
import { axe, launch } from "./common.mjs";

const [scenario, base, email, password, artifacts, extra] = process.argv.slice(2);
const given = JSON.parse(extra || "{}");
const browser = await launch(artifacts);
const outcome = { violations: [], errors: [], refused: [] };

/** A page at `width` px whose script errors are collected. */
async function open(width) {
  const context = await browser.newContext({ viewport: { width, height: 900 }, locale: "en-GB" });
  const page = await context.newPage();
  // A refused request the scenario meant to make is logged by Chromium: kept apart, counted.
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    (/^Failed to load resource: .* status of 4\d\d/.test(m.text()) ? outcome.refused : outcome.errors).push(m.text());
  });
  page.on("pageerror", (e) => outcome.errors.push(e.message));
  return page;
}

/** axe-core on what the page shows, and its screenshot as `console-<name>-<width>.png`. */
async function seen(page, name) {
  const width = page.viewportSize().width;
  outcome.violations.push(...(await axe(page, `${name}, ${width} px`)));
  await page.screenshot({ path: `${artifacts}/console-${name}-${width}.png`, fullPage: true });
}

/** Signs in (typing the app's code when asked) and waits for the members. */
async function signIn(page) {
  await page.goto(`${base}/console`);
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.press("#password", "Enter");
  if (given.code) {
    await page.waitForSelector("#code-field:not([hidden])");
    await page.fill("#code", given.code);
    await page.press("#code", "Enter");
  }
  await page.waitForSelector("#members:not([hidden]) tbody tr");
}

const text = (page, selector) => page.$eval(selector, (node) => node.innerText.replace(/\s+/g, " ").trim());
const row = (address) => `#members tbody tr:has-text("${address}")`;
const rowText = (page, address) => text(page, row(address));
const dialogClosed = (page, id) => page.waitForSelector(`dialog#${id}:not([open])`, { state: "attached" });

/** What the message area says once it says something other than `before` (an action's word). */
async function saidAfter(page, before) {
  await page.waitForFunction((earlier) => ![earlier, ""].includes(document.getElementById("msg").textContent), before);
  return text(page, "#msg");
}

/** Opens the invite dialog and types `fields` (by name) into it; ticks `boxes` (by id). */
async function fillInvite(page, fields, boxes = []) {
  for (const [name, value] of Object.entries(fields)) await page.fill(`#invite-form [name=${name}]`, value);
  for (const id of boxes) await page.check(`#${id}`);
}

/**
 * Sends the invite form and waits for the dialog to close and the invitee's row to show; `hurried`
 * double-clicks the button, as a hurried person does.
 */
async function sendInvite(page, address, hurried = false) {
  await (hurried ? page.dblclick("#invite-submit") : page.click("#invite-submit"));
  await dialogClosed(page, "invite");
  await page.waitForSelector(row(address));
}

/** Clicks the member's name and waits for the detail. */
async function openMember(page, address) {
  await page.click(`${row(address)} button.link`);
  await page.waitForSelector("dialog#member[open]");
}

/** The field errors shown next to the invite form's fields, by name. */
const inviteErrors = (page) => page.$$eval("#invite-form [aria-invalid=true]", (inputs) =>
  Object.fromEntries(inputs.map((input) => [input.name, document.getElementById(`${input.id}-err`).textContent])));

/** Presses Tab until `selector` has the focus (at most 40 times); whether it got there. */
async function tabTo(page, selector) {
  for (let presses = 0; presses < 40; presses += 1) {
    if (await page.$eval(selector, (node) => node === document.activeElement).catch(() => false)) return true;
    await page.keyboard.press("Tab");
  }
  return false;
}

/** The members screen, the invite dialog and a member's detail at 375 px, with axe and screenshots. */
async function narrow(address) {
  const page = await open(375);
  await signIn(page);
  await seen(page, "members");
  await page.click("#invite-open");
  await page.waitForSelector("dialog#invite[open]");
  await seen(page, "invite");
  await page.click("#invite-cancel");
  await openMember(page, address);
  await seen(page, "member");
  outcome.narrow_overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  await page.click("#member-close");
  outcome.narrow_focus_back = await page.evaluate(() => document.activeElement.matches("button.link"));
}

const scenarios = {
  /** ua-marketplace, first part: an invitation with a Latin name and a bad phone, then right. */
  async ua_invite() {
    const page = await open(1280);
    await signIn(page);
    outcome.heading = await text(page, "#team-h");
    await seen(page, "members");
    await page.click("#invite-open");
    await page.waitForSelector("dialog#invite[open]");
    outcome.focus_in_dialog = await page.evaluate(() => document.activeElement.id);
    await seen(page, "invite");
    await fillInvite(page, { email: given.invitee, first_name: "Olena", last_name: "Koval", phone: "12345" },
      ["invite-role-administrator"]);
    await page.click("#invite-submit");
    await page.waitForSelector("#invite-first-name-err:not([hidden])");
    outcome.field_errors = await inviteErrors(page);
    outcome.focus_after_errors = await page.evaluate(() => document.activeElement.id);
    await seen(page, "invite-errors");
    await fillInvite(page, { first_name: "Олена", last_name: "Коваль", phone: "+380 50 123 45 67" });
    await sendInvite(page, given.invitee);
    outcome.listed = await rowText(page, given.invitee);
    outcome.said = await text(page, "#msg");
    outcome.focus_after_invite = await page.evaluate(() => document.activeElement.id);
  },

  /** ua-marketplace, second part: the activated employee blocked, confirmed; then 375 px. */
  async ua_block() {
    const page = await open(1280);
    await signIn(page);
    await openMember(page, given.invitee);
    outcome.detail = await text(page, "dialog#member");
    outcome.actions = await page.$$eval("#member-actions button", (b) => b.map((button) => button.dataset.action));
    await seen(page, "member");
    await page.click("#member-actions [data-action=block]");
    await page.waitForSelector("dialog#confirm[open]");
    outcome.asked = await text(page, "#confirm-h");
    await seen(page, "confirm");
    await page.click("#confirm-ok");
    await page.waitForSelector(`${row(given.invitee)} .badge.is-blocked`);
    outcome.listed = await rowText(page, given.invitee);
    outcome.said = await text(page, "#msg");
    await openMember(page, given.invitee);
    outcome.actions_after = await page.$$eval("#member-actions button", (b) => b.map((button) => button.dataset.action));
    await narrow(given.invitee);
  },

  /** amazon-seller: an invitation of permissions chosen in the grid, then changed in the detail. */
  async amazon() {
    const page = await open(1280);
    await signIn(page);
    await page.click("#invite-open");
    await page.waitForSelector("dialog#invite[open]");
    outcome.roles_offered = await page.isVisible("#invite-roles");
    await fillInvite(page, { email: given.invitee }, ["invite-orders-write", "invite-reports-read"]);
    await seen(page, "invite-grid");
    await sendInvite(page, given.invitee);
    outcome.invited = await rowText(page, given.invitee);
    await openMember(page, given.invitee);
    outcome.grid_before = await page.$$eval("#member-grant [name=permissions]:checked", (b) => b.map((box) => box.value));
    await page.uncheck("#member-reports-read");
    await page.check("#member-pricing-write");
    await page.check("#member-payments-read");
    await seen(page, "member-grid");
    await page.click("#member-grant button[type=submit]");
    await dialogClosed(page, "member");
    await page.waitForSelector(`${row(given.invitee)}:has-text("Pricing")`);
    outcome.changed = await rowText(page, given.invitee);
    outcome.said = await text(page, "#msg");
  },

  /**
   * joom: an invitation with two roles by clicking (twice on the button), the role filter, roles
   * changed by keyboard alone, then the invitation sent again and revoked.
   */
  async joom() {
    const page = await open(1280);
    await signIn(page);
    await page.click("#invite-open");
    await page.waitForSelector("dialog#invite[open]");
    outcome.roles_shown = await page.$$eval("#invite-roles label", (l) => l.map((label) => label.innerText.split("\n")[0]));
    await fillInvite(page, { email: given.invitee, message: "Welcome to the team!" }, ["invite-role-operations", "invite-role-finance"]);
    await sendInvite(page, given.invitee, true);
    outcome.invited = await rowText(page, given.invitee);

    await page.selectOption("#role", "finance");
    await page.click("#filters button[type=submit]");
    await page.waitForFunction(() => document.querySelectorAll("#members tbody tr").length === 1);
    outcome.filtered = await text(page, "#members tbody");
    await page.selectOption("#role", "");
    await page.click("#filters button[type=submit]");
    await page.waitForSelector(row(given.member));

    // The keyboard alone from here: to the member's name, into the detail, a role off and
    // another on, save.
    await page.focus("body");
    outcome.keyboard = { reached_name: await tabTo(page, `${row(given.member)} button.link`) };
    await page.keyboard.press("Enter");
    await page.waitForSelector("dialog#member[open]");
    outcome.keyboard.focus_in_dialog = await page.evaluate(() => document.activeElement.closest("dialog")?.id);
    outcome.keyboard.reached_operations = await tabTo(page, "#member-role-operations");
    await page.keyboard.press("Space");
    outcome.keyboard.reached_finance = await tabTo(page, "#member-role-finance");
    await page.keyboard.press("Space");
    outcome.keyboard.reached_save = await tabTo(page, "#member-grant button[type=submit]");
    await page.keyboard.press("Enter");
    await dialogClosed(page, "member");
    await page.waitForSelector(`${row(given.member)}:has-text("Finance")`);
    outcome.keyboard.changed = await rowText(page, given.member);
    outcome.keyboard.focus_back = await page.evaluate(() => document.activeElement.dataset.user !== undefined);
    outcome.keyboard.said = await text(page, "#msg");

    // The waiting invitee's detail: her invitation sent again, then revoked, confirmed.
    await openMember(page, given.invitee);
    outcome.pending_actions = await page.$$eval("#member-actions button", (b) => b.map((button) => button.dataset.action));
    await page.click("#member-actions [data-action=resend]");
    outcome.resent = await saidAfter(page, outcome.keyboard.said);
    await openMember(page, given.invitee);
    await page.click("#member-actions [data-action=revoke]");
    await page.waitForSelector("dialog#confirm[open]");
    outcome.asked = await text(page, "#confirm-h");
    await page.click("#confirm-ok");
    outcome.revoked = await saidAfter(page, outcome.resent);
    outcome.still_listed = await page.isVisible(row(given.invitee));
  },
};

try {
  await scenarios[scenario]();
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
