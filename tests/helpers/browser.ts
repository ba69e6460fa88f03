// Debian's Chromium driven by playwright-core (never a downloaded browser). CI installs the package; on a
// developer machine without it the browser journeys are skipped with a note, unless CI=true, where a missing
// browser is a failure.
import fs from "node:fs";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { nextCodeFor } from "./two-factor";

const CANDIDATES = [
  process.env.CHROMIUM_PATH,
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
];

export const chromiumPath = CANDIDATES.find((p): p is string => !!p && fs.existsSync(p)) ?? null;

export function browserAvailable(): boolean {
  if (chromiumPath) return true;
  if (process.env.CI === "true") throw new Error("CI=true but no Chromium found: install Debian's chromium package");
  console.warn("No Chromium found (set CHROMIUM_PATH or apt-get install chromium): browser journeys skipped.");
  return false;
}

// playwright gives every launch a fresh, empty profile of its own.
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath!,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export const ARTIFACTS = path.resolve(__dirname, "..", "..", "test-artifacts");

/**
 * Signs in through the sign-in form, as a person would (with a current code from the authenticator when the
 * user is enrolled in two-factor sign-in: see two-factor.ts), and waits for the dashboard.
 */
export async function signInWithForm(page: Page, base: string, identifier: string, password: string) {
  await page.goto(`${base}/login`);
  await page.getByLabel("ABF number or e-mail").fill(identifier);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => u.pathname === "/dashboard" || u.pathname === "/login/two-factor");
  if (new URL(page.url()).pathname === "/login/two-factor") {
    const code = await nextCodeFor(identifier);
    if (!code) throw new Error(`${identifier} has two-factor sign-in, but the tests do not know their secret`);
    await page.getByLabel("Code or recovery code").fill(code);
    await page.getByRole("button", { name: "Verify" }).click();
    try {
      await page.waitForURL(`${base}/dashboard`);
    } catch (e) {
      // Seen once or twice under a loaded machine: say where the browser stood and what the page said, with a
      // screenshot, so the next occurrence tells a refused code from a slow page.
      const shot = path.join(ARTIFACTS, `sign-in-timeout-${Date.now()}.png`);
      await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
      const said = await page
        .locator(".alert, h1")
        .allInnerTexts()
        .catch(() => []);
      throw new Error(
        `after Verify (code ${code}) the browser is at ${page.url()}, showing ${JSON.stringify(said)}; screenshot ${shot}\n${e}`,
      );
    }
  }
}
