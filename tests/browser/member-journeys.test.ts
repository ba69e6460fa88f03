// Member journeys in Chromium: find a member and transfer to them; download the statement as CSV and as PDF.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { makeUser, PASSWORD } from "../helpers/app";
import { ARTIFACTS, browserAvailable, launchBrowser } from "../helpers/browser";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { fundMember, violations } from "../helpers/payments";

const maybe = browserAvailable() ? describe : describe.skip;

maybe("member journeys", () => {
  let s: CardStack;
  let browser: Browser;
  let sender: { id: number; email: string };
  let recipient: { id: number; lastName: string; systemNumber: number };

  beforeAll(async () => {
    s = await startCardStack();
    browser = await launchBrowser();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const admin = await makeUser(s.p.db, { level: "EDIT" });
    sender = await makeUser(s.p.db, { firstName: "Sender" });
    recipient = await makeUser(s.p.db, { firstName: "Rosalind" });
    await fundMember(s.p, sender.id, 5_000n, admin.id);
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  async function signedIn(): Promise<Page> {
    const page = await browser.newPage({ acceptDownloads: true });
    await page.goto(`${s.base}/login`);
    await page.getByLabel("ABF number or e-mail").fill(sender.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${s.base}/dashboard`);
    return page;
  }

  test("find a member by name and transfer credits to them", async () => {
    const page = await signedIn();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(String(e)));
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    await page.getByRole("link", { name: "Transfer" }).first().click();
    await page.getByLabel("Find a member by name or ABF number").fill("Rosa");
    await page.getByRole("option", { name: new RegExp(`Rosalind ${recipient.lastName}`) }).click();
    await expect(page.locator("#chosen").textContent()).resolves.toContain(`Rosalind ${recipient.lastName}`);
    await page.getByLabel("Amount $").fill("12.34");
    await page.getByLabel("Description").fill("Thanks for partnering");
    await page.getByRole("button", { name: "Transfer" }).click();
    await page.waitForURL(`${s.base}/dashboard`);
    await page.getByText(`Payment of $12.34 to Rosalind ${recipient.lastName} successful`).waitFor(); // waits for the page after the redirect
    await expect(page.locator("#balance").textContent()).resolves.toBe("$37.66");
    await page.screenshot({ path: path.join(ARTIFACTS, "transfer-done.png"), fullPage: true });
    expect(problems).toEqual([]);
    expect(await violations(s.p)).toEqual([]);
  });

  test("download the statement as CSV and as PDF", async () => {
    const page = await signedIn();
    await page.goto(`${s.base}/payments/statement`);
    const [csv] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download as CSV" }).click(),
    ]);
    expect(csv.suggestedFilename()).toMatch(/^statement-\d+-to-\d{4}-\d{2}-\d{2}-\d{4}\.csv$/);
    const csvText = fs.readFileSync((await csv.path())!, "utf8");
    expect(csvText.split("\n")[0]).toBe("Date,Counterparty,Reference,Type,Description,Amount,Balance");
    expect(csvText).toContain("Thanks for partnering");

    const [pdf] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download as PDF" }).click(),
    ]);
    expect(pdf.suggestedFilename()).toMatch(/^statement-\d+-to-\d{4}-\d{2}-\d{2}-\d{4}\.pdf$/);
    const file = (await pdf.path())!;
    expect(fs.readFileSync(file).subarray(0, 5).toString()).toBe("%PDF-");
    const text = execFileSync("pdftotext", [file, "-"], { encoding: "utf8" });
    expect(text).toContain("Thanks for partnering");
    expect(text).toContain("Closing balance: $37.66");
  });
});
