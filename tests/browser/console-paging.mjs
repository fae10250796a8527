// The console's long lists in Chromium: the members and the invitations history each show a
// first page, then the rest on "Show more". Usage: node console-paging.mjs <base url> <email>
// <password> <artifacts dir>. Prints one JSON line: how many rows each list showed, before and
// after. tests/tests/console.rs runs it.
import { launch } from "./common.mjs";

const [base, email, password, artifacts] = process.argv.slice(2);
const browser = await launch(artifacts);
const page = await browser.newPage();
const outcome = { errors: [] };
const rows = (table) => page.$$eval(`${table} tbody tr`, (trs) => trs.length);
const more = async (table, button) => {
  const before = await rows(table);
  await page.click(button);
  await page.waitForFunction(([t, n]) => document.querySelectorAll(`${t} tbody tr`).length > n, [table, before]);
  return { before, after: await rows(table), more_left: await page.isVisible(button) };
};
try {
  page.on("pageerror", (e) => outcome.errors.push(e.message));
  await page.goto(`${base}/console`);
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.press("#password", "Enter");
  await page.waitForSelector("#more:not([hidden])");
  outcome.members = await more("#members", "#more");
  await page.click('a[href="#/invitations"]');
  await page.waitForSelector("#inv-more:not([hidden])");
  outcome.invitations = await more("#inv-table", "#inv-more");
} catch (error) {
  outcome.errors.push(`the script stopped: ${error.message.split("\n")[0]}`);
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
