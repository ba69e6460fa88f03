// A finance editor adjusts a member's balance in Chromium (form, confirmation) and sees it on the member's statement.
import path from "node:path";
import type { Browser } from "playwright-core";
import { makeUser, PASSWORD } from "../helpers/app";
import { ARTIFACTS, browserAvailable, launchBrowser } from "../helpers/browser";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { violations } from "../helpers/payments";

const maybe = browserAvailable() ? describe : describe.skip;

maybe("finance journey", () => {
  let s: CardStack;
  let browser: Browser;
  beforeAll(async () => {
    s = await startCardStack();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  test("adjust a member's balance and see it on their statement", async () => {
    const finance = await makeUser(s.p.db, { level: "EDIT", firstName: "Fiona" });
    const member = await makeUser(s.p.db, { firstName: "Harold" });
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(String(e)));
    await page.goto(`${s.base}/login`);
    await page.getByLabel("ABF number or e-mail").fill(finance.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${s.base}/dashboard`);

    await page.getByRole("link", { name: "Finance", exact: true }).click();
    await page.getByRole("link", { name: "Manual Adjustment (member)" }).click();
    await page.getByLabel("Member's ABF number").fill(String(member.systemNumber));
    await page.getByLabel("Amount $ (negative to take money away)").fill("42.50");
    await page.getByLabel("Reason").fill("Goodwill credit for the cancelled congress");
    await page.getByRole("button", { name: "Review" }).click();
    await expect(page.locator("#balance-after").textContent()).resolves.toBe("$42.50");
    await page.getByRole("button", { name: "Confirm" }).click();
    await page.waitForURL(`${s.base}/payments/statement-admin-view/${member.id}`);
    await page.getByText(`Manual adjustment successful. Harold ${member.lastName} adjusted by $42.50`).waitFor(); // waits for the page after the redirect
    await expect(page.locator("#balance").textContent()).resolves.toBe("$42.50");
    await expect(page.locator("#statement tbody").textContent()).resolves.toContain(
      "Goodwill credit for the cancelled congress",
    );
    await page.screenshot({ path: path.join(ARTIFACTS, "finance-adjustment.png"), fullPage: true });
    expect(problems).toEqual([]);
    expect(await violations(s.p)).toEqual([]);
  });
});
