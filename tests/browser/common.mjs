// What every browser script shares: Debian's Chromium launched for a container, axe-core run on
// a screen, and an artifacts folder for screenshots.
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/// The accessibility violations axe-core finds on the page as it is, each named with `screen`.
export async function axe(page, screen) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations.map((v) => `${screen}: ${v.id} (${v.nodes.length})`);
}

/// Debian's Chromium, headless, with the artifacts folder made.
export async function launch(artifacts) {
  mkdirSync(artifacts, { recursive: true });
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}
