// The activation page in Debian's Chromium, as a new member of an account that requires
// two-step verification meets it: choose a password, scan the code (here: read the key the page
// shows), type the app's code, keep the recovery codes. axe-core checks each screen; screenshots
// go to the artifacts folder. Usage: node activate-mfa.mjs <base url> <link token> <artifacts dir>
// Prints one JSON line: what the page ended showing. tests/tests/browser.rs runs it.
import { createHmac } from "node:crypto";
import { axe, launch } from "./common.mjs";

const [base, token, artifacts] = process.argv.slice(2);

// RFC 6238 with HMAC-SHA-1, six digits, 30-second steps: what an authenticator app computes.
function totp(base32, at) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of base32.replace(/[\s=]/g, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30000)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, "0");
}

const browser = await launch(artifacts);
const outcome = { violations: [] };
try {
  for (const width of [1280, 375]) {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    if (width === 375) {
      // The link is used up at the wider width: the narrow one shows the page's used-link state.
      await page.goto(`${base}/activate#token=${token}`);
      await page.waitForSelector("#msg.is-err strong");
      outcome.used = await page.textContent("#msg strong");
      outcome.violations.push(...(await axe(page, "used link, 375 px")));
      await page.screenshot({ path: `${artifacts}/activate-used-375.png`, fullPage: true });
      break;
    }
    await page.goto(`${base}/activate#token=${token}`);
    await page.waitForSelector("#form:not([hidden])");
    outcome.violations.push(...(await axe(page, "form")));
    await page.screenshot({ path: `${artifacts}/activate-form-${width}.png`, fullPage: true });
    await page.fill("#password", "Correct-Horse-Battery-42");
    await page.fill("#password2", "Correct-Horse-Battery-42");
    await page.click("#submit");
    await page.waitForSelector("#mfa:not([hidden])");
    outcome.heading = await page.textContent("#h");
    outcome.qr = await page.getAttribute("#qr", "src").then((src) => src.startsWith("data:image/svg+xml;base64,"));
    outcome.violations.push(...(await axe(page, "enrollment")));
    await page.screenshot({ path: `${artifacts}/activate-enroll-${width}.png`, fullPage: true });
    // A wrong code first: the page says so next to the field.
    await page.fill("#code", "000000");
    await page.click("#mfa button[type=submit]");
    await page.waitForSelector("#code-err:not([hidden])");
    outcome.wrong = await page.textContent("#code-err");
    const secret = await page.textContent("#mfa-secret");
    await page.fill("#code", totp(secret, Date.now()));
    await page.click("#mfa button[type=submit]");
    await page.waitForSelector("#codes:not([hidden])");
    outcome.done = await page.textContent("#msg strong");
    outcome.recovery_codes = await page.$$eval("#codes-list li", (items) => items.map((i) => i.textContent));
    outcome.violations.push(...(await axe(page, "recovery codes")));
    await page.screenshot({ path: `${artifacts}/activate-codes-${width}.png`, fullPage: true });
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(outcome));
