// The console's account switcher in Chromium: a person in two accounts signs in, switches to
// the second, and reloads. Usage: node console-switch.mjs <base url> <email> <password>
// <artifacts dir> <first account id> <second account id>
// Prints one JSON line: which account and members each step showed. tests/tests/console.rs runs it.
import { axe, launch } from "./common.mjs";

const [base, email, password, artifacts, first, second] = process.argv.slice(2);
const browser = await launch(artifacts);
const page = await browser.newPage();
const outcome = { errors: [], violations: [] };
const members = async () => {
  await page.waitForSelector("#members:not([hidden]) tbody tr");
  return page.$$eval("#members tbody tr", (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, " ").trim()));
};
try {
  page.on("pageerror", (e) => outcome.errors.push(e.message));
  await page.goto(`${base}/console`);
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.press("#password", "Enter");
  await page.selectOption("#account", first);
  await page.waitForFunction((id) => document.getElementById("account").value === id, first);
  outcome.first = await members();
  outcome.violations.push(...(await axe(page, "members of the first account")));

  await page.selectOption("#account", second);
  await page.waitForFunction((id) => document.getElementById("account").value === id && document.querySelector("#members tbody tr"), second);
  outcome.second = await members();
  await page.screenshot({ path: `${artifacts}/console-switched-1280.png`, fullPage: true });

  await page.reload();
  outcome.after_reload = await members();
  outcome.chosen_after_reload = await page.$eval("#account", (s) => s.value);
} catch (error) {
  outcome.errors.push(`the script stopped: ${error.message.split("\n")[0]}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
