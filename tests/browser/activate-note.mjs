// The activation page of an invitation that carries the inviter's note, in Debian's Chromium,
// at 1280 and 375 px: the note shows as the inviter wrote it, line breaks kept and markup as
// plain text. axe-core checks each width; screenshots go to the artifacts folder.
// Usage: node activate-note.mjs <base url> <link token> <artifacts dir>
// Prints one JSON line: what the page showed. tests/tests/browser.rs runs it.
import { axe, launch } from "./common.mjs";

const [base, token, artifacts] = process.argv.slice(2);
const browser = await launch(artifacts);
const outcome = { violations: [], notes: [] };
try {
  for (const width of [1280, 375]) {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    await page.goto(`${base}/activate#token=${token}`);
    await page.waitForSelector("#form:not([hidden])");
    outcome.notes.push({
      label: await page.textContent("#note figcaption"),
      text: await page.$eval("#v-note", (note) => note.innerText),
      elements: await page.$$eval("#v-note *", (inside) => inside.length),
      visible: await page.isVisible("#v-note"),
    });
    outcome.violations.push(...(await axe(page, `form with a note, ${width} px`)));
    await page.screenshot({ path: `${artifacts}/activate-note-${width}.png`, fullPage: true });
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
