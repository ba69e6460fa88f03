// A finance editor in Chromium: adjusts a member's balance (form, confirmation) and sees it on the member's
// statement; settles two clubs for September, then one of them for October, and gets two distinct batches.
import path from "node:path";
import type { Browser } from "playwright-core";
import { makeUser, PASSWORD } from "../helpers/app";
import { ARTIFACTS, browserAvailable, launchBrowser, signInWithForm } from "../helpers/browser";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { violations } from "../helpers/payments";
import { clubWithHistory, setDirectEntry } from "../helpers/settlement";

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
    await signInWithForm(page, s.base, finance.email, PASSWORD);

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

  // Two settlements in a row (issue 15 items 1 and 2): each is its own batch, the second pays only what was left.
  test("two settlements in a row are two batches, and the second pays only what was left", async () => {
    await setDirectEntry(s.p.db);
    const finance = await makeUser(s.p.db, { level: "EDIT", firstName: "Fiona" });
    // Minimum $100, fee 3 %: September $1,000 and $400; October $500 more for the first club.
    const harbour = await clubWithHistory(
      s.p,
      [
        ["2025-09-15T02:00:00Z", 100_000n],
        ["2025-10-15T02:00:00Z", 50_000n],
      ],
      { name: "Harbour" },
    );
    const valley = await clubWithHistory(s.p, [["2025-09-20T02:00:00Z", 40_000n]], { name: "Valley" });
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(String(e)));
    await signInWithForm(page, s.base, finance.email, PASSWORD);

    const settleFor = async (date: string, clubs: string[]) => {
      await page.getByLabel("Reference Date", { exact: true }).fill(date);
      await page.getByRole("button", { name: "Update" }).click();
      await page.waitForURL(`${s.base}/payments/settlement?reference_date=${date}&q=`);
      for (const name of clubs) await page.getByLabel(`Settle ${name}`).check();
      await page.getByRole("button", { name: "Confirm Payment" }).click();
      await page.waitForURL(/\/payments\/settlement-complete\/\d+$/);
      await page.getByText("Settlement processed successfully.").waitFor();
      return Number(page.url().split("/").at(-1));
    };

    await page.goto(`${s.base}/payments/statement-admin-summary`);
    await page.getByRole("link", { name: "Settlement", exact: true }).click();
    const september = await settleFor("2025-09-30", [harbour.name, valley.name]);
    await expect(page.locator("#total-gross").textContent()).resolves.toBe("$1,200.00"); // $900 + $300
    await expect(page.locator("#total-net").textContent()).resolves.toBe("$1,164.00");

    await page.getByRole("link", { name: "Back to Settlement" }).click();
    await page.getByLabel("Reference Date", { exact: true }).fill("2025-10-31");
    await page.getByRole("button", { name: "Update" }).click();
    await page.waitForURL(/reference_date=2025-10-31/);
    // Valley was paid in full in September; Harbour has October's $500 left, not $1,400.
    await expect(page.getByLabel(`Settle ${valley.name}`).count()).resolves.toBe(0);
    await expect(page.locator(`#club-${harbour.id} .settleable`).textContent()).resolves.toBe("$500.00");
    await expect(page.locator("#max-gross").textContent()).resolves.toBe("$500.00");
    const october = await settleFor("2025-10-31", [harbour.name]);
    expect(october).not.toBe(september);
    await expect(page.locator("#total-gross").textContent()).resolves.toBe("$500.00");
    await expect(page.locator("#total-net").textContent()).resolves.toBe("$485.00");
    await page.screenshot({ path: path.join(ARTIFACTS, "settlement-second-batch.png"), fullPage: true });

    const batches = await s.p.db.settlementBatch.findMany({
      where: { id: { in: [september, october] } },
      include: { settlements: true },
      orderBy: { id: "asc" },
    });
    expect(batches.map((b) => [b.grossCents, b.settlements.length])).toEqual([
      [120_000n, 2],
      [50_000n, 1],
    ]);
    expect(problems).toEqual([]);
    expect(await violations(s.p)).toEqual([]);
  });
});
