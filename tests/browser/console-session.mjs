// The console's session in Chromium: signed in, left open past the access token's life (the
// server's clock moved on by /_dev/clock), then two reads at once (the members asked for by
// the filters and again by the language switch), then a reload.
// Usage: node console-session.mjs <base url> <email> <password> <artifacts dir>
// Prints one JSON line: how many refreshes the console sent and whether the members showed.
// tests/tests/console.rs runs it.
import { launch } from "./common.mjs";

const [base, email, password, artifacts] = process.argv.slice(2);
const browser = await launch(artifacts);
const page = await browser.newPage();
const outcome = { errors: [] };
let refreshes = 0;
const listed = (page) => page.waitForSelector("#members:not([hidden]) tbody tr").then(() => true);
try {
  page.on("pageerror", (e) => outcome.errors.push(e.message));
  page.on("request", (r) => r.url().endsWith("/v1/sessions/refresh") && (refreshes += 1));
  await page.goto(`${base}/console`);
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.press("#password", "Enter");
  await listed(page);

  const moved = await fetch(`${base}/_dev/clock`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ advance_seconds: 20 * 60 }),
  });
  if (!moved.ok) throw new Error(`the clock did not move: ${moved.status}`);
  await page.$eval("#members tbody", (body) => body.replaceChildren());
  await page.evaluate(() => {
    document.getElementById("filters").requestSubmit();
    document.getElementById("language").dispatchEvent(new Event("change"));
  });
  outcome.listed_after_expiry = await listed(page);
  outcome.refreshes = refreshes;

  await page.reload();
  outcome.listed_after_reload = await listed(page);
} catch (error) {
  outcome.errors.push(`the script stopped: ${error.message.split("\n")[0]}`);
  outcome.said = await page.textContent("#msg");
  outcome.signing_in = await page.isVisible("#signin");
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
