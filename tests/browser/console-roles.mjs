// The console's Roles screen in Chromium: an owner names a role of the account's own in the
// section × read/write grid, then deletes it while someone holds it, moving them to another role.
// axe-core checks each screen and dialog; screenshots at 1280 and 375 px go to the artifacts folder.
// Usage: node console-roles.mjs <base url> <email> <password> <artifacts dir>
// Prints one JSON line: what the console showed. tests/tests/console.rs runs it.
import { axe, launch } from "./common.mjs";

const [base, email, password, artifacts] = process.argv.slice(2);
const browser = await launch(artifacts);
const outcome = { violations: [], errors: [] };
const titles = (page) => page.$$eval("#roles-list h2", (hs) => hs.map((h) => h.textContent));
const shot = async (page, screen, width) => {
  outcome.violations.push(...(await axe(page, `${screen}, ${width} px`)));
  await page.screenshot({ path: `${artifacts}/console-${screen}-${width}.png`, fullPage: true });
};
try {
  for (const width of [1280, 375]) {
    const context = await browser.newContext({ viewport: { width, height: 900 }, locale: "en-GB" });
    const page = await context.newPage();
    // A refusal the screen answers (409 role_in_use) is no error; a script error is.
    page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && outcome.errors.push(m.text()));
    page.on("pageerror", (e) => outcome.errors.push(e.message));
    await page.goto(`${base}/console#/roles`);
    await page.fill("#email", email);
    await page.fill("#password", password);
    await page.press("#password", "Enter");
    await page.waitForSelector("#screen-roles:not([hidden]) #roles-list li");
    await shot(page, "roles", width);
    if (width === 375) {
      await context.close();
      continue;
    }
    outcome.before = await titles(page);

    // A courier: writes the warehouse, reads the messages
    await page.click("#role-new");
    await page.fill("#role-name", "courier");
    await page.fill("#role-title", "Courier");
    await page.fill("#role-description", "Takes the day's parcels out.");
    await page.check("#role-warehouse-write");
    await page.check("#role-messages-read");
    await shot(page, "role-dialog", width);
    await page.click("#role-form button[type=submit]");
    await page.waitForFunction(() => [...document.querySelectorAll("#roles-list h2")].some((h) => h.textContent === "Courier"));
    outcome.created = await page.textContent("#msg");
    outcome.after_create = await titles(page);
    outcome.courier = await page.$eval("#roles-list li:last-child", (li) => li.innerText.replace(/\s+/g, " ").trim());

    // The packer role, which someone holds: deleting it asks where they go
    await page.click("button[aria-label='Delete: Packer']");
    await page.waitForSelector("#confirm[open]");
    await page.click("#confirm-ok");
    await page.waitForSelector("#role-move[open]");
    outcome.move_text = await page.textContent("#role-move-text");
    await shot(page, "role-move", width);
    await page.selectOption("#role-replacement", "warehouse_manager");
    await page.click("#role-move-form button[type=submit]");
    await page.waitForFunction(() => ![...document.querySelectorAll("#roles-list h2")].some((h) => h.textContent === "Packer"));
    outcome.deleted = await page.textContent("#msg");
    outcome.after_delete = await titles(page);
    await context.close();
  }
} catch (error) {
  outcome.errors.push(`the script stopped: ${error.message.split("\n")[0]}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
