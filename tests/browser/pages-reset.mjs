// A reset link used as a person would, in Debian's Chromium: what the page shows before anything
// is typed (whose password, the rules); a reload (the page forgot the token: it asks for the link
// again); the link opened again, the new password sent, and what it says then (then the same
// reloaded). axe-core and screenshots at 1280 and 375 px.
// Usage: node pages-reset.mjs <base url> <link token> <artifacts dir> <new password>
// Prints one JSON line: what the page showed. tests/tests/pages_browser.rs runs it.
import { choose, reloaded, run, screen } from "./pages-common.mjs";

const [base, token, artifacts, password] = process.argv.slice(2);
await run(artifacts, async (page, seen) => {
  const form = async () => {
    await page.waitForSelector("#set:not([hidden])");
    return {
      lang: await page.getAttribute("html", "lang"),
      heading: await page.textContent("#h"),
      login: await page.inputValue("#login"),
      rules: await page.textContent("#pw-hint"),
      no_access: (await page.isVisible("#no-access")) ? await page.textContent("#no-access") : null,
      address: page.url(),
    };
  };
  const open = async () => {
    await page.goto("about:blank");
    await page.goto(`${base}/reset-password#token=${token}`);
  };
  await open();
  seen.form = await form();
  seen.violations.push(...(await screen(page, artifacts, "reset-form")));
  seen.reloaded = await reloaded(page, "#msg.is-err strong");
  seen.reloaded.lang = await page.getAttribute("html", "lang");
  await open();
  seen.reopened_form = await form();
  seen.done = await choose(page, password, "#msg.is-ok strong");
  seen.violations.push(...(await screen(page, artifacts, "reset-done")));
  seen.reloaded_done = await reloaded(page, "#msg.is-ok strong");
});
