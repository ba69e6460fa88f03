// A member tops up $60 in Chromium: manual top-up form → checkout page → card 4242 4242 4242 4242 typed into the
// (emulated) Stripe card element → Pay → the emulator's webhook books it → the statement shows the new balance.
// The page code is the same that runs with real Stripe.js.
import fs from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { makeUser, PASSWORD } from "../helpers/app";
import { ARTIFACTS, browserAvailable, launchBrowser } from "../helpers/browser";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { violations } from "../helpers/payments";

const maybe = browserAvailable() ? describe : describe.skip;

maybe("top-up journey", () => {
  let s: CardStack;
  let browser: Browser;

  beforeAll(async () => {
    s = await startCardStack();
    browser = await launchBrowser();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  async function signIn(page: Page, email: string) {
    await page.goto(`${s.base}/login`);
    await page.getByLabel("ABF number or e-mail").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${s.base}/dashboard`);
  }

  test("top up $60 with 4242 4242 4242 4242 and see it on the statement", async () => {
    const member = await makeUser(s.p.db, { firstName: "Journey" });
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    page.on("pageerror", (e) => problems.push(String(e)));

    await signIn(page, member.email);
    await page.goto(`${s.base}/payments/manual-topup`);
    await page.getByLabel("Amount $").fill("20");
    await page.getByRole("button", { name: "Top Up" }).click();
    await expect(page.getByRole("alert").first().textContent()).resolves.toContain("Minimum is $50");

    await page.getByLabel("Amount $").fill("60");
    await page.getByRole("button", { name: "Top Up" }).click();
    await page.waitForURL(/\/payments\/checkout\/\d+$/);
    await expect(page.locator("#amount").textContent()).resolves.toBe("$60.00");

    await page.getByLabel("Card number").fill("4000 0000 0000 9995");
    await page.getByLabel("Expiry date (MM / YY)").fill("12 / 34");
    await page.getByLabel("CVC").fill("123");
    await page.getByRole("button", { name: /Pay/ }).click();
    await page.getByText("Your card has insufficient funds.").waitFor();

    await page.getByLabel("Card number").fill("4242 4242 4242 4242");
    await page.getByRole("button", { name: /Pay/ }).click();
    await page.getByText("Success! Your payment has been processed.").waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "checkout-success.png"), fullPage: true });

    // The webhook books it; the member looks at the statement (reloading, as a person would, until it shows).
    await page.getByRole("link", { name: "To Statement" }).click();
    for (let i = 0; i < 50; i++) {
      if ((await page.locator("#balance").textContent()) === "$60.00") break;
      await new Promise((r) => setTimeout(r, 100));
      await page.reload();
    }
    await expect(page.locator("#balance").textContent()).resolves.toBe("$60.00");
    await expect(page.locator("#statement tbody tr").first().textContent()).resolves.toContain("Manual Top Up");
    await page.screenshot({ path: path.join(ARTIFACTS, "statement-after-top-up.png"), fullPage: true });
    // Expected: the refused $20 form (400) and the declined card (402); nothing else may fail.
    expect(problems.filter((p) => !/status of 40[02]/.test(p))).toEqual([]);
    expect(await violations(s.p)).toEqual([]);
  });
});
