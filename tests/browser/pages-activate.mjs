// An activation link used as a new person would, in Debian's Chromium: the form (then the same
// after a reload, the token having left the address bar), filled in and sent; the page that
// says so (then the same link reloaded); and the way on to the sign-in, followed. axe-core and
// screenshots at 1280 and 375 px on each screen.
// Usage: node pages-activate.mjs <base url> <link token> <artifacts dir> <password>
// Prints one JSON line: what the page showed. tests/tests/pages_browser.rs runs it.
import { choose, reloaded, run, screen } from "./pages-common.mjs";

const [base, token, artifacts, password] = process.argv.slice(2);
await run(artifacts, async (page, seen) => {
  await page.goto(`${base}/activate#token=${token}`);
  await page.waitForSelector("#form:not([hidden])");
  const form = async () => ({
    lang: await page.getAttribute("html", "lang"),
    heading: await page.textContent("#h"),
    intro: await page.textContent("#intro"),
    roles: await page.textContent("#v-roles"),
    address: page.url(),
  });
  seen.form = await form();
  seen.violations.push(...(await screen(page, artifacts, "activate-form")));
  await page.reload();
  await page.waitForSelector("#form:not([hidden])");
  seen.reloaded_form = await form();
  // The profile fields the account asks for, as a Ukrainian seller would fill them in.
  for (const [id, value] of [["first_name", "Олена"], ["last_name", "Коваль"], ["phone", "+380671234567"]]) {
    if (await page.isVisible(`#${id}`)) await page.fill(`#${id}`, value);
  }
  seen.done = await choose(page, password, "#msg.is-ok a");
  seen.violations.push(...(await screen(page, artifacts, "activate-done")));
  seen.reloaded_done = await reloaded(page, "#msg.is-err strong");
  seen.violations.push(...(await screen(page, artifacts, "activate-reloaded")));
  await page.click("#msg a");
  await page.waitForURL((url) => !url.pathname.startsWith("/activate"));
  seen.signed_in_at = new URL(page.url()).pathname;
});
