// The statistics page in Chromium (issue 19 item 3): a finance viewer reaches it from the menu, a club officer
// from the club's page; on both the three charts are drawn by Chart.js (served by us, under the strict policy:
// no inline script or style allowed) with pixels on their canvases, the period selector redraws them, and the
// browser reports no console error, no page error and no Content-Security-Policy violation.
/// <reference lib="dom" />
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { makeClub, makeUser, PASSWORD } from "../helpers/app";
import { ARTIFACTS, browserAvailable, launchBrowser, signInWithForm } from "../helpers/browser";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { key, violations } from "../helpers/payments";

const maybe = browserAvailable() ? describe : describe.skip;

declare global {
  interface Window {
    cspViolations?: string[];
    Chart?: { getChart(c: HTMLCanvasElement): unknown };
  }
}

maybe("statistics charts", () => {
  let s: CardStack;
  let browser: Browser;
  let club: { id: number; name: string };

  beforeAll(async () => {
    s = await startCardStack();
    browser = await launchBrowser();
    club = await makeClub(s.p.db, "Chart Club");
    // Twenty weeks of top-ups and payments to the club, so every chart has something to draw.
    const members = [await makeUser(s.p.db), await makeUser(s.p.db), await makeUser(s.p.db)];
    for (let w = 20; w >= 0; w--) {
      for (const [i, m] of members.entries()) {
        const at = new Date(Date.now() - (w * 7 + i) * 86_400_000);
        const cents = BigInt(1_000 + w * 250 + i * 100);
        await s.p.ledger.post({
          idempotencyKey: key("top"),
          type: "Manual Top Up",
          description: "Top up",
          at,
          entries: [
            { system: "CARD_FUNDS", amountCents: -cents * 2n, counterparty: 1 },
            { userId: m.id, amountCents: cents * 2n, counterparty: 0 },
          ],
        });
        await s.p.ledger.post({
          idempotencyKey: key("pay"),
          type: "Club Payment",
          description: "Table money",
          at: new Date(at.getTime() + 3_600_000),
          entries: [
            { userId: m.id, amountCents: -cents, counterparty: 1 },
            { organisationId: club.id, amountCents: cents, counterparty: 0 },
          ],
        });
      }
    }
  });
  afterAll(async () => {
    expect(await violations(s.p)).toEqual([]);
    await browser?.close();
    await s?.close();
  });

  /** A page that records console errors, page errors and CSP violations. */
  async function watchedPage() {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${String(e)}`));
    await page.addInitScript(() => {
      window.cspViolations = [];
      document.addEventListener("securitypolicyviolation", (e) =>
        window.cspViolations!.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    return { page, problems };
  }

  /** Each chart's canvas: drawn by Chart.js, a non-zero size, and some pixels not blank. */
  async function charts(page: Page) {
    await page.locator("canvas[data-chart]").first().waitFor();
    return page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLCanvasElement>("canvas[data-chart]")).map((c) => {
        const pixels = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++;
        return { id: c.id, chart: !!window.Chart?.getChart(c), width: c.width, height: c.height, painted };
      }),
    );
  }

  function expectDrawn(found: Awaited<ReturnType<typeof charts>>) {
    expect(found.map((c) => c.id)).toEqual(["chart-held", "chart-flows", "chart-balances"]);
    for (const c of found) {
      expect(c).toMatchObject({ chart: true });
      expect(c.width).toBeGreaterThan(100);
      expect(c.height).toBeGreaterThan(100);
      expect(c.painted).toBeGreaterThan(500);
    }
  }

  test("a finance viewer opens Statistics from the menu: charts drawn, no console or CSP errors", async () => {
    const finance = await makeUser(s.p.db, { level: "VIEW", firstName: "Fiona" });
    const { page, problems } = await watchedPage();
    await signInWithForm(page, s.base, finance.email, PASSWORD);
    await page.getByRole("link", { name: "Statistics", exact: true }).click();
    await page.waitForURL(`${s.base}/payments/statistics`);
    expectDrawn(await charts(page));
    await expect(page.locator("#flows-table caption").textContent()).resolves.toBe("Top-ups and payments per week");

    // The period selector: a year of weeks, drawn again.
    await page.getByLabel("Period", { exact: true }).selectOption("52w");
    await page.getByRole("button", { name: "Show", exact: true }).click();
    await page.waitForURL(/\?period=52w$/);
    expectDrawn(await charts(page));
    await expect(page.locator("#held-table tbody tr").count()).resolves.toBeGreaterThanOrEqual(52);
    await page.screenshot({ path: path.join(ARTIFACTS, "statistics-finance.png"), fullPage: true });

    // Chosen dates (the end left blank: today), drawn again.
    const from = new Date(Date.now() - 70 * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel("From", { exact: true }).fill(from);
    await page.getByRole("button", { name: "Show dates" }).click();
    await page.waitForURL(new RegExp(`\\?from=${from}&to=$`));
    await expect(page.locator("#period-shown").textContent()).resolves.toContain(`From ${from} to `);
    expectDrawn(await charts(page));

    expect(await page.evaluate(() => window.cspViolations)).toEqual([]);
    expect(problems).toEqual([]);

    // A bad period: the 400 page with the message (the browser notes the status; nothing else goes wrong).
    await page.getByLabel("From", { exact: true }).fill("2030-01-01");
    await page.getByRole("button", { name: "Show dates" }).click();
    await page.locator("#period-error").waitFor();
    await expect(page.locator("#period-error").textContent()).resolves.toContain("in the future");
    expect(await page.evaluate(() => window.cspViolations)).toEqual([]);
    expect(problems).toEqual([
      "console: Failed to load resource: the server responded with a status of 400 (Bad Request)",
    ]);
    await page.close();
  });

  test("a club officer opens their club's statistics from the club page: charts drawn, no errors", async () => {
    const officer = await makeUser(s.p.db, { level: "EDIT", orgId: club.id, firstName: "Olwen" });
    const { page, problems } = await watchedPage();
    await signInWithForm(page, s.base, officer.email, PASSWORD);
    await page.getByRole("link", { name: "My club" }).click();
    await page.getByRole("link", { name: "Statistics" }).click();
    await page.waitForURL(`${s.base}/payments/org-statistics/${club.id}`);
    await expect(page.locator("h1").textContent()).resolves.toBe(`Statistics: ${club.name}`);
    expectDrawn(await charts(page));
    await page.screenshot({ path: path.join(ARTIFACTS, "statistics-club.png"), fullPage: true });
    expect(await page.evaluate(() => window.cspViolations)).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
