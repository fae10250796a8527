// Steps the console's browser scripts share: a page at a width that keeps the script errors it
// meets, signing in, opening a screen by its tab, and looking at a screen (axe-core's findings,
// whether the page scrolls sideways, its screenshot).
import { axe } from "./common.mjs";

/// What a script reports: accessibility violations, script errors, screens wider than the window.
export const outcome = { violations: [], errors: [], overflow: [] };

/// The console in a new window `width` px wide, in British English.
export async function consolePage(browser, base, width) {
  const context = await browser.newContext({ viewport: { width, height: 900 }, locale: "en-GB", acceptDownloads: true });
  const page = await context.newPage();
  // A refusal the scenario provokes (a wrong password's 401) is logged by Chromium as a failed
  // load: the page shows it; only the page's own errors count.
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && outcome.errors.push(m.text()));
  page.on("pageerror", (e) => outcome.errors.push(e.message));
  await page.goto(`${base}/console`);
  return page;
}

/// Signs in from the console's form and waits for the account to open.
export async function signIn(page, email, password) {
  await page.waitForSelector("#signin:not([hidden])");
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.press("#password", "Enter");
  await page.waitForSelector("#team:not([hidden])");
}

/// Opens the screen `name` by its tab and waits until it has read what it shows.
export async function openScreen(page, name) {
  await page.click(`[data-screen-link=${name}]`);
  await page.waitForSelector(`[data-screen-link=${name}][aria-current=page]`);
  await settled(page, name);
}

/// Waits until the screen `name` has read what it shows (its section is no longer aria-busy).
export const settled = (page, name) => page.waitForSelector(`#screen-${name}[aria-busy=false]:not([hidden])`);

/// axe-core on the page as it is, whether it scrolls sideways, and its screenshot as `name`.
export async function look(page, artifacts, name, width) {
  outcome.violations.push(...(await axe(page, `${name}, ${width} px`)));
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  if (wide > 0) outcome.overflow.push(`${name}, ${width} px: ${wide} px too wide`);
  await page.screenshot({ path: `${artifacts}/console-${name}-${width}.png`, fullPage: true });
}

/// The text of the table's rows, each as one line.
export const rowsOf = (page, table) =>
  page.$$eval(`${table} tbody tr`, (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, " ").trim()));

/// The message the console shows at the top once it says `text`.
export async function said(page, text) {
  await page.waitForFunction((t) => document.getElementById("msg").textContent.includes(t), text);
  return page.textContent("#msg");
}
