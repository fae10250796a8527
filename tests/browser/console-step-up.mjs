// The console's step-up in Chromium: an owner with two-step verification signs in with a code,
// reloads (a refreshed token carries no step-up), deletes a member, and is asked for a code:
// a wrong one first, then the right one. Usage: node console-step-up.mjs <base url> <email>
// <password> <artifacts dir> <sign-in code> <step-up code> <member's email>
// Prints one JSON line: what the console showed. tests/tests/console.rs runs it.
import { axe, launch } from "./common.mjs";

const [base, email, password, artifacts, signInCode, stepUpCode, member] = process.argv.slice(2);
const browser = await launch(artifacts);
const page = await browser.newPage();
const outcome = { errors: [], violations: [] };
try {
  page.on("pageerror", (e) => outcome.errors.push(e.message));
  await page.goto(`${base}/console`);
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.press("#password", "Enter");
  await page.waitForSelector("#code-field:not([hidden])");
  await page.fill("#code", signInCode);
  await page.press("#code", "Enter");
  await page.waitForSelector("#members:not([hidden]) tbody tr");
  await page.reload();

  await page.click(`#members button:has-text("${member}")`);
  await page.waitForSelector("#member[open]");
  await page.click('#member-actions button:has-text("Delete")');
  await page.click("#confirm-ok");
  await page.waitForSelector("#step-up[open]");
  outcome.asked = await page.textContent("#step-up-h");
  outcome.violations.push(...(await axe(page, "step-up")));
  await page.screenshot({ path: `${artifacts}/console-step-up-1280.png`, fullPage: true });
  await page.fill("#step-up-code", "000000");
  await page.press("#step-up-code", "Enter");
  await page.waitForSelector("#step-up-code-err:not([hidden])");
  outcome.wrong = await page.textContent("#step-up-code-err");
  await page.fill("#step-up-code", stepUpCode);
  await page.press("#step-up-code", "Enter");
  await page.waitForFunction((who) => !document.querySelector("#step-up[open]")
    && ![...document.querySelectorAll("#members tbody tr")].some((tr) => tr.innerText.includes(who)), member);
  outcome.said = await page.textContent("#msg");
} catch (error) {
  outcome.errors.push(`the script stopped: ${error.message.split("\n")[0]}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
