// What the pages' scripts (pages-*.mjs) share: each screen looked at as a person would, at
// 1280 px and at 375 px, with axe-core run and a screenshot kept at each width; and every script
// error or console error the page had.
import { axe, launch } from "./common.mjs";

/// Opens Chromium on a page whose errors are watched, has `look(page, seen)` fill in what it
/// sees, closes it, and prints what was seen as one JSON line (with `violations` and `errors`).
export async function run(artifacts, look) {
  const browser = await launch(artifacts);
  const seen = { violations: [], errors: [] };
  try {
    const page = await browser.newPage();
    watch(page, seen.errors);
    await look(page, seen);
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(seen));
}

/// Screenshots `name` at both widths into `artifacts` (ending wide); the axe-core violations found.
export async function screen(page, artifacts, name) {
  const violations = [];
  for (const width of [375, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    violations.push(...(await axe(page, `${name}, ${width} px`)));
    await page.screenshot({ path: `${artifacts}/${name}-${width}.png`, fullPage: true });
  }
  return violations;
}

/// Collects the page's script errors and console errors into `errors`. Chromium's own note of
/// each 4xx answer ("Failed to load resource") is left out: a refused link is the scenario.
export function watch(page, errors) {
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource: the server responded with a status of 4")) {
      errors.push(m.text());
    }
  });
}

/// Types `password` in both password fields and sends the form with Enter; the status region
/// once `answered` (a selector) shows.
export async function choose(page, password, answered) {
  await page.fill("#password", password);
  await page.fill("#password2", password);
  await page.press("#password2", "Enter");
  await page.waitForSelector(answered);
  return status(page);
}

/// Reloads the page; the status region once `shown` (a selector) shows again.
export async function reloaded(page, shown) {
  await page.reload();
  await page.waitForSelector(shown);
  return status(page);
}

/// The status region as it reads: its title, sentences, links and buttons.
export async function status(page) {
  return page.$eval("#msg", (msg) => ({
    kind: msg.className,
    title: msg.querySelector("strong")?.textContent ?? "",
    text: [...msg.querySelectorAll("p")].map((p) => p.textContent).join(" "),
    links: [...msg.querySelectorAll("a")].map((a) => ({ text: a.textContent, href: a.getAttribute("href") })),
    buttons: [...msg.querySelectorAll("button")].map((b) => b.textContent),
  }));
}
