// The team console in Debian's Chromium, at 1280 and 375 px: an owner signs in, finds a member
// by searching, reloads (the session stays), and signs out. axe-core checks each screen;
// screenshots go to the artifacts folder.
// Usage: node console-members.mjs <base url> <email> <password> <artifacts dir>
// Prints one JSON line: what the console showed. tests/tests/browser.rs runs it.
import { axe, launch } from "./common.mjs";

const [base, email, password, artifacts] = process.argv.slice(2);
const browser = await launch(artifacts);
const outcome = { violations: [], screens: [], errors: [] };
const rows = (page) => page.$$eval("#members tbody tr", (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, " ").trim()));
try {
  for (const width of [1280, 375]) {
    const context = await browser.newContext({ viewport: { width, height: 900 }, locale: "en-GB" });
    const page = await context.newPage();
    page.on("console", (m) => m.type() === "error" && outcome.errors.push(m.text()));
    page.on("pageerror", (e) => outcome.errors.push(e.message));
    await page.goto(`${base}/console`);
    await page.waitForSelector("#signin:not([hidden])");
    outcome.violations.push(...(await axe(page, `sign in, ${width} px`)));
    await page.screenshot({ path: `${artifacts}/console-signin-${width}.png`, fullPage: true });

    await page.fill("#email", email);
    await page.fill("#password", password);
    await page.press("#password", "Enter");
    await page.waitForSelector("#members:not([hidden]) tbody tr");
    const screen = { heading: await page.textContent("#team-h"), account: await page.$eval("#account", (s) => s.selectedOptions[0].text) };
    screen.listed = await rows(page);
    outcome.violations.push(...(await axe(page, `members, ${width} px`)));
    await page.screenshot({ path: `${artifacts}/console-members-${width}.png`, fullPage: true });

    await page.fill("#q", "anna");
    await page.press("#q", "Enter");
    await page.waitForFunction(() => document.querySelectorAll("#members tbody tr").length === 1);
    screen.searched = await rows(page);

    await page.reload();
    await page.waitForSelector("#members:not([hidden]) tbody tr");
    screen.after_reload = await page.isVisible("#team");

    await page.click("#signout");
    await page.waitForSelector("#signin:not([hidden])");
    await page.reload();
    await page.waitForSelector("#signin:not([hidden])");
    screen.signed_out = await page.isHidden("#team");
    outcome.screens.push(screen);
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
