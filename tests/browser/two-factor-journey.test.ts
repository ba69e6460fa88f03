// A finance editor in Chromium (issue 18): signs in with the password, is sent to set up two-factor sign-in,
// reads the key shown on the page, types the code an authenticator app would show (computed here from that
// key), keeps the recovery codes, goes on to the page they asked for; signs out and in again with a code; sees
// their sessions. The page's content security policy is the app's own (the QR code is a data: image).
import path from "node:path";
import type { Browser } from "playwright-core";
import { codeForStep, stepAt } from "../../src/services/two-factor/totp";
import { makeUser, PASSWORD, startTestApp, type TestApp } from "../helpers/app";
import { ARTIFACTS, browserAvailable, launchBrowser } from "../helpers/browser";

const maybe = browserAvailable() ? describe : describe.skip;

maybe("two-factor journey", () => {
  let t: TestApp;
  let base: string;
  let close: () => Promise<void>;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestApp();
    const server = t.app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const addr = server.address();
    base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
    close = () =>
      new Promise((r) => {
        server.close(() => r(undefined));
        server.closeAllConnections();
      });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
    await t?.close();
  });

  test("a finance editor enrols with a code from the page's key, then signs in with a code", async () => {
    const finance = await makeUser(t.db, { level: "EDIT", firstName: "Fiona", twoFactor: false });
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(String(e)));
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) problems.push(m.text());
    });

    await page.goto(`${base}/payments/manual-adjust-member`);
    await page.waitForURL(/\/login\?next=/);
    await page.getByLabel("ABF number or e-mail").fill(finance.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/account/two-factor?next=%2Fpayments%2Fmanual-adjust-member`);

    // The QR code is drawn (a data: image the CSP allows) and the key is shown as text.
    const qr = page.locator("#totp-qr");
    await expect(
      qr.evaluate((img) => {
        const i = img as unknown as { complete: boolean; naturalWidth: number };
        return i.complete && i.naturalWidth > 0;
      }),
    ).resolves.toBe(true);
    const shown = (await page.locator("#totp-secret").textContent())!;
    const secret = shown.replace(/\s/g, "");
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await page.screenshot({ path: path.join(ARTIFACTS, "two-factor-enrol.png"), fullPage: true });

    const enrolStep = stepAt(Date.now());
    await page.getByLabel("Code from the app").fill(codeForStep(secret, enrolStep));
    await page.getByRole("button", { name: "Turn on two-factor sign-in" }).click();
    await page.getByRole("heading", { name: "Two-factor sign-in is on" }).waitFor();
    await expect(page.locator("#recovery-codes li").count()).resolves.toBe(10);
    await page.getByRole("link", { name: /continue/ }).click();
    await page.waitForURL(`${base}/payments/manual-adjust-member`);
    await page.getByLabel("Member's ABF number").waitFor();

    // Sign out, and in again: the password, then a code of the next step (the enrolment's step is spent).
    await page.getByRole("button", { name: /Fiona/ }).click();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${base}/login`);
    await page.getByLabel("ABF number or e-mail").fill(finance.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/login/two-factor`);
    await page.getByLabel("Code or recovery code").fill(codeForStep(secret, enrolStep)); // replayed: refused
    await page.getByRole("button", { name: "Verify" }).click();
    await page.locator("#code-error").waitFor();
    await page.getByLabel("Code or recovery code").fill(codeForStep(secret, enrolStep + 1));
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL(`${base}/dashboard`);
    await page.goto(`${base}/payments/manual-adjust-member`);
    await page.getByLabel("Member's ABF number").waitFor();

    await page.goto(`${base}/account/sessions`);
    await expect(page.locator("#sessions tbody tr").count()).resolves.toBe(1);
    await expect(page.locator("#sessions tbody").textContent()).resolves.toMatch(/Chrome on Linux\s+This device/);
    await page.screenshot({ path: path.join(ARTIFACTS, "sessions.png"), fullPage: true });
    expect(problems).toEqual([]);
  });
});
