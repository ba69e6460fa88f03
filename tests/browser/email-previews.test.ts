// E-mails on the site in Chromium: a finance editor opens a template's preview (its HTML in a sandboxed frame, its
// text beside it) and a member reads the same e-mail on the Messages page — with no console errors and no
// Content-Security-Policy violations (the site's strict policy stays on; only the preview document allows the
// inline styles e-mails need).
import type { Browser, Page } from "playwright-core";
import { makeUser, PASSWORD } from "../helpers/app";
import { browserAvailable, launchBrowser, signInWithForm } from "../helpers/browser";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { fundMember, memberTransfer } from "../helpers/payments";

const maybe = browserAvailable() ? describe : describe.skip;

maybe("e-mails in the browser", () => {
  let s: CardStack;
  let browser: Browser;
  beforeAll(async () => {
    s = await startCardStack({ env: { FEDERATION_NAME: "Fédération Øresund de Bridge" } });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  async function watched() {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(String(e)));
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    return { page, problems, close: () => context.close() };
  }

  // Runs in the page (the tests compile without the DOM's types, hence the cast).
  type Styles = { getComputedStyle(e: unknown): { backgroundColor: string } };
  const background = (el: unknown) => (globalThis as unknown as Styles).getComputedStyle(el).backgroundColor;
  const styled = (page: Page, selector: string) => page.locator(selector).first().evaluate(background);

  test("a finance editor previews the low-balance e-mail: HTML framed with its inline styles, text beside it", async () => {
    const editor = await makeUser(s.p.db, { level: "EDIT" });
    const { page, problems, close } = await watched();
    await signInWithForm(page, s.base, editor.email, PASSWORD);
    await page.goto(`${s.base}/payments/email-previews`);
    await page.getByRole("link", { name: "Low balance warning" }).click();
    await page.waitForURL(`${s.base}/payments/email-previews/low-balance`);
    const frame = page.frameLocator('iframe[title="HTML part of the e-mail"]');
    await frame.getByText("Your last 5 transactions").waitFor();
    await frame.getByText("Fédération Øresund de Bridge · Bridge Credits").waitFor();
    // The e-mail's inline styles apply inside the frame (its own policy allows them).
    const button = frame.getByRole("link", { name: "Set up Auto Top Up" });
    expect(await button.evaluate(background)).toBe("rgb(11, 94, 215)");
    // The frame is sandboxed: no scripts, no same-origin access.
    expect(await page.locator("iframe").getAttribute("sandbox")).toBe("");
    await expect(page.locator("#email-text").textContent()).resolves.toContain("Set up Auto Top Up: http");
    expect(problems).toEqual([]);
    await close();
  });

  test("a member reads the transfer e-mail on the Messages page, with the page's own styles", async () => {
    const [zoe, kiri] = [await makeUser(s.p.db, { firstName: "Zoë" }), await makeUser(s.p.db, { firstName: "Kiri" })];
    await fundMember(s.p, kiri.id, 5_000n, zoe.id);
    await memberTransfer(s.p, kiri.id, zoe.id, 1_250n, "Dinner & drinks");
    const { page, problems, close } = await watched();
    await signInWithForm(page, s.base, zoe.email, PASSWORD);
    await page.goto(`${s.base}/payments/messages`);
    const message = page.locator(".message-content").first();
    await message.getByText(`Kiri ${kiri.lastName} has transferred $12.50`).waitFor();
    await message.getByText("Dinner & drinks").waitFor();
    // The action link is the site's button (a class, not an inline style the page's policy would refuse).
    expect(await styled(page, ".message-content a.btn")).not.toBe("rgba(0, 0, 0, 0)");
    expect(problems).toEqual([]);
    await close();
  });
});
