// A page opened from a link that no longer works, in Debian's Chromium: what it says on load,
// before anything is typed (then after a reload, which forgot the link), and which forms it
// offers. axe-core
// and screenshots at 1280 and 375 px.
// Usage: node pages-refusal.mjs <base url> <path#token=…> <artifacts dir> <screen name>
// Prints one JSON line: what the page showed. tests/tests/pages_browser.rs runs it.
import { run, screen, status } from "./pages-common.mjs";

const [base, path, artifacts, name] = process.argv.slice(2);
await run(artifacts, async (page, seen) => {
  const look = async () => {
    await page.waitForSelector("#msg.is-err strong");
    return {
      lang: await page.getAttribute("html", "lang"),
      heading: await page.textContent("#h"),
      forms: await page.$$eval("form:not([hidden])", (forms) => forms.map((f) => f.id)),
      ...(await status(page)),
    };
  };
  await page.goto(`${base}${path}`);
  seen.loaded = await look();
  seen.violations.push(...(await screen(page, artifacts, name)));
  await page.reload();
  seen.reloaded = await look();
});
