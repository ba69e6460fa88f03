// A club officer in Chromium charges a session: club page → "Charge a session" → pastes the lines → preview
// (paid, auto top-up, IOU, unknown member; nothing booked) → confirm → results → the results CSV downloaded.
// The auto top-up charges the member's saved card at the Stripe emulator. Also: a CSV file chosen in the page is
// read into the lines box by its script.
import fs from "node:fs";
import path from "node:path";
import { parse } from "csv-parse/sync";
import type { Browser } from "playwright-core";
import { makeClub, makeUser, PASSWORD } from "../helpers/app";
import { ARTIFACTS, browserAvailable, launchBrowser, signInWithForm } from "../helpers/browser";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { CARDS, fundMember, ledgerSnapshot, saveCard, savedCardCharges, violations } from "../helpers/payments";

const maybe = browserAvailable() ? describe : describe.skip;

maybe("club session journey", () => {
  let s: CardStack;
  let browser: Browser;
  let admin: { id: number };
  beforeAll(async () => {
    s = await startCardStack({ maxConnections: 20 });
    browser = await launchBrowser();
    admin = await makeUser(s.p.db);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await s?.p.ledger.close();
    await s?.close();
  });

  const balanceOf = async (userId: number) =>
    (await s.p.db.account.findUnique({ where: { userId }, select: { balanceCents: true } }))?.balanceCents ?? 0n;

  test("paste → preview → confirm → results with paid, topped up, IOU and unknown member", async () => {
    const club = await makeClub(s.p.db, "Harbour Bridge Club");
    const officer = await makeUser(s.p.db, { level: "EDIT", orgId: club.id, firstName: "Olive" });
    const paid = await makeUser(s.p.db, { firstName: "Paula" });
    await fundMember(s.p, paid.id, 5_000n, admin.id);
    const topped = await makeUser(s.p.db, { firstName: "Tom" });
    await fundMember(s.p, topped.id, 500n, admin.id);
    await saveCard(s, topped.id, CARDS.ok, 5_000n);
    const owes = await makeUser(s.p.db, { firstName: "Oscar" });
    const unknown = 999_999_996;

    const page = await browser.newPage({ acceptDownloads: true });
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(String(e)));
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    await signInWithForm(page, s.base, officer.email, PASSWORD);
    await page.goto(`${s.base}/payments/statement-org/${club.id}`);
    await page.getByRole("link", { name: "Charge a session" }).click();
    await page.waitForURL(`${s.base}/payments/club-session/${club.id}`);

    await page.getByLabel("Session description").fill("Table money, Monday pairs");
    await page
      .getByLabel("Lines: ABF number, amount, description (optional)")
      .fill(
        [
          `${paid.systemNumber}, 15.00`,
          `${topped.systemNumber}\t15`,
          `${owes.systemNumber} 12.50 Visitor`,
          `${unknown}, 15`,
        ].join("\n"),
      );
    const before = await ledgerSnapshot(s.p);
    await page.getByRole("button", { name: "Preview" }).click();
    await page.getByRole("heading", { name: "Preview: Table money, Monday pairs" }).waitFor();
    const previewRows = page.locator("#preview tbody tr");
    await expect(previewRows.count()).resolves.toBe(4);
    await expect(previewRows.nth(0).textContent()).resolves.toContain("Pays from balance");
    await expect(previewRows.nth(1).textContent()).resolves.toContain("Auto top-up, then pays");
    await expect(previewRows.nth(2).textContent()).resolves.toContain("IOU to the club");
    await expect(previewRows.nth(3).textContent()).resolves.toContain("Unknown ABF number: not charged");
    await page.screenshot({ path: path.join(ARTIFACTS, "club-session-preview.png"), fullPage: true });
    expect(await ledgerSnapshot(s.p)).toBe(before); // the preview books nothing

    await page.getByRole("button", { name: "Confirm and charge" }).click();
    await page.waitForURL(new RegExp(`/payments/club-session/${club.id}/batch/\\d+$`));
    const resultRows = page.locator("#results tbody tr");
    await expect(resultRows.count()).resolves.toBe(4);
    await expect(resultRows.nth(0).textContent()).resolves.toContain("Paid from balance");
    await expect(resultRows.nth(1).textContent()).resolves.toContain("Paid after auto top-up");
    await expect(resultRows.nth(1).textContent()).resolves.toContain("topped up $50.00");
    await expect(resultRows.nth(2).textContent()).resolves.toContain("IOU to the club");
    await expect(resultRows.nth(3).textContent()).resolves.toContain("Unknown ABF number: not charged");
    await expect(page.locator("#collected").textContent()).resolves.toBe("$30.00");
    await expect(page.locator("#iou-total").textContent()).resolves.toBe("$12.50");
    await page.screenshot({ path: path.join(ARTIFACTS, "club-session-results.png"), fullPage: true });

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download results (CSV)" }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(
      new RegExp(`^session-charges-${club.clubNumber.toLowerCase()}-\\d{4}-\\d{2}-\\d{2}-\\d+\\.csv$`),
    );
    const csv = parse(fs.readFileSync((await download.path())!, "utf8"), { columns: true }) as Record<string, string>[];
    expect(csv.map((r) => [r.abf_number, r.result])).toEqual([
      [String(paid.systemNumber), "paid"],
      [String(topped.systemNumber), "topped_up"],
      [String(owes.systemNumber), "iou"],
      [String(unknown), "unknown_member"],
    ]);

    expect(await balanceOf(paid.id)).toBe(3_500n);
    expect(await balanceOf(topped.id)).toBe(4_000n); // 5 + 50 topped up − 15
    expect(savedCardCharges(s.emulator, topped.id)).toHaveLength(1);
    expect(await s.p.db.iou.count({ where: { systemNumber: owes.systemNumber, organisationId: club.id } })).toBe(1);
    expect((await s.p.db.account.findUniqueOrThrow({ where: { organisationId: club.id } })).balanceCents).toBe(3_000n);
    expect(problems).toEqual([]);
    expect(await violations(s.p)).toEqual([]);
  });

  test("a CSV file chosen on the page is read into the lines box, and previews like pasted lines", async () => {
    const club = await makeClub(s.p.db, "File Club");
    const officer = await makeUser(s.p.db, { level: "EDIT", orgId: club.id });
    const m = await makeUser(s.p.db, { firstName: "Fay" });
    await fundMember(s.p, m.id, 2_000n, admin.id);
    const page = await browser.newPage();
    await signInWithForm(page, s.base, officer.email, PASSWORD);
    await page.goto(`${s.base}/payments/club-session/${club.id}`);
    const file = `abf_number,amount,description\r\n${m.systemNumber},7.50,"Pairs, B section"\r\n`;
    await page.getByLabel("Or load a CSV file into the box").setInputFiles({
      name: "session.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(`\uFEFF${file}`),
    });
    await page.getByText("Loaded session.csv.").waitFor();
    await expect(page.getByLabel("Lines: ABF number, amount, description (optional)").inputValue()).resolves.toBe(
      file.replace(/\r\n/g, "\n"),
    );
    await page.getByLabel("Session description").fill("Table money");
    await page.getByRole("button", { name: "Preview" }).click();
    const row = page.locator("#preview tbody tr");
    await expect(row.count()).resolves.toBe(1);
    await expect(row.first().textContent()).resolves.toContain("Pairs, B section");
    await expect(row.first().textContent()).resolves.toContain("$7.50");
  });
});
