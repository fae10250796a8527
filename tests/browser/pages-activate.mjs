// An activation link used as a new person would, in Debian's Chromium: the form; a reload (the
// page forgot the token, which left the address bar: it asks for the link again), the link
// opened again, filled in and sent; the page that says so (then the same reloaded); and the way
// on to the sign-in, followed. axe-core and screenshots at 1280 and 375 px on each screen.
// Usage: node pages-activate.mjs <base url> <link token> <artifacts dir> <password>
// Prints one JSON line: what the page showed. tests/tests/pages_browser.rs runs it.
import { choose, reloaded, run, screen, status } from "./pages-common.mjs";

const [base, token, artifacts, password] = process.argv.slice(2);
await run(artifacts, async (page, seen) => {
  const open = async () => {
    await page.goto("about:blank");
    await page.goto(`${base}/activate#token=${token}`);
    await page.waitForSelector("#form:not([hidden])");
  };
  await open();
  const form = async () => ({
    lang: await page.getAttribute("html", "lang"),
    heading: await page.textContent("#h"),
    intro: await page.textContent("#intro"),
    roles: await page.textContent("#v-roles"),
    address: page.url(),
  });
  seen.form = await form();
  seen.violations.push(...(await screen(page, artifacts, "activate-form")));
  seen.reloaded = await reloaded(page, "#msg.is-err strong");
  seen.reloaded.lang = await page.getAttribute("html", "lang");
  seen.violations.push(...(await screen(page, artifacts, "activate-reread")));
  await open();
  seen.reopened_form = await form();
  // The profile fields the account asks for, as a Ukrainian seller would fill them in.
  for (const [id, value] of [["first_name", "Олена"], ["last_name", "Коваль"], ["phone", "+380671234567"]]) {
    if (await page.isVisible(`#${id}`)) await page.fill(`#${id}`, value);
  }
  seen.done = await choose(page, password, "#msg.is-ok a");
  seen.violations.push(...(await screen(page, artifacts, "activate-done")));
  seen.reloaded_done = await reloaded(page, "#msg.is-ok strong");
  seen.violations.push(...(await screen(page, artifacts, "activate-reloaded")));
  await page.click("#msg a");
  await page.waitForURL((url) => !url.pathname.startsWith("/activate"));
  seen.signed_in_at = new URL(page.url()).pathname;
});
