// The page of an expired invitation link, in Debian's Chromium, at 1280 and 375 px: it says the
// link expired and offers to ask for a new one; asking says the request is on its way. axe-core
// checks each screen; screenshots go to the artifacts folder.
// Usage: node activate-renewal.mjs <base url> <link token> <artifacts dir>
// Prints one JSON line: what the page showed. tests/tests/browser.rs runs it.
import { axe, launch } from "./common.mjs";

const [base, token, artifacts] = process.argv.slice(2);
const browser = await launch(artifacts);
const outcome = { violations: [], screens: [] };
try {
  for (const width of [1280, 375]) {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await page.goto(`${base}/activate#token=${token}`);
    const ask = page.getByRole("button", { name: "Ask for a new link" });
    await ask.waitFor();
    const expired = await page.textContent("#msg strong");
    outcome.violations.push(...(await axe(page, `expired link, ${width} px`)));
    await page.screenshot({ path: `${artifacts}/activate-expired-${width}.png`, fullPage: true });
    await ask.press("Enter");
    await page.waitForSelector("#msg.is-ok strong");
    outcome.screens.push({ expired, asked: await page.textContent("#msg strong"), said: await page.textContent("#msg p") });
    outcome.violations.push(...(await axe(page, `request sent, ${width} px`)));
    await page.screenshot({ path: `${artifacts}/activate-renewal-asked-${width}.png`, fullPage: true });
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
