// Two-factor enrolment and second approval in Chromium (issue 18): a new finance editor enrols with a code computed
// from the key the page shows, then asks for a large adjustment, which books nothing;
// a second editor approves it on the approvals page; the member's balance changes once, and the requester reads
// the outcome on their Messages page.
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { getBalance } from "../../src/services/payments/balances";
import { codeForStep, stepAt } from "../../src/services/two-factor/totp";
import { makeUser, PASSWORD } from "../helpers/app";
import { ARTIFACTS, browserAvailable, launchBrowser, signInWithForm } from "../helpers/browser";
import { type CardStack, startCardStack } from "../helpers/card-stack";
import { violations } from "../helpers/payments";

const maybe = browserAvailable() ? describe : describe.skip;

maybe("approval journey", () => {
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

  const watched = async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(String(e)));
    return { page, problems, close: () => context.close() };
  };

  test("a large adjustment waits for a second finance editor, who approves it; it books once", async () => {
    // Fiona is new to the back office: not enrolled in two-factor sign-in yet (Grace is).
    const fiona = await makeUser(s.p.db, { level: "EDIT", firstName: "Fiona", twoFactor: false });
    const grace = await makeUser(s.p.db, { level: "EDIT", firstName: "Grace" });
    const member = await makeUser(s.p.db, { firstName: "Harold" });

    const a = await watched();
    // She opens the adjustment page, signs in, is sent to enrol, and enrols with a code computed here from the
    // key the page shows (as her authenticator app would); then she is taken on to the page she asked for.
    await a.page.goto(`${s.base}/payments/manual-adjust-member`);
    await a.page.waitForURL(/\/login\?next=/);
    await a.page.getByLabel("ABF number or e-mail").fill(fiona.email);
    await a.page.getByLabel("Password").fill(PASSWORD);
    await a.page.getByRole("button", { name: "Sign in" }).click();
    await a.page.waitForURL(`${s.base}/account/two-factor?next=%2Fpayments%2Fmanual-adjust-member`);
    const secret = (await a.page.locator("#totp-secret").textContent())!.replace(/\s/g, "");
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await a.page.getByLabel("Code from the app").fill(codeForStep(secret, stepAt(Date.now())));
    await a.page.getByRole("button", { name: "Turn on two-factor sign-in" }).click();
    await a.page.getByRole("heading", { name: "Two-factor sign-in is on" }).waitFor();
    await a.page.getByRole("link", { name: /continue/ }).click();
    await a.page.waitForURL(`${s.base}/payments/manual-adjust-member`);
    await a.page.getByLabel("Member's ABF number").fill(String(member.systemNumber));
    await a.page.getByLabel("Amount $ (negative to take money away)").fill("1250.00");
    await a.page.getByLabel("Reason").fill("Congress prize money");
    await a.page.getByRole("button", { name: "Review" }).click();
    await a.page.getByRole("button", { name: "Confirm" }).click();
    await a.page.waitForURL(`${s.base}/payments/approvals`);
    await a.page.getByText("waits for another finance editor. Nothing is booked until then.").waitFor();
    const row = (p: Page) => p.locator("#waiting tbody tr", { hasText: "Congress prize money" });
    await expect(row(a.page).textContent()).resolves.toContain("Your request: another finance editor decides.");
    await expect(row(a.page).getByRole("button", { name: "Approve and book" }).count()).resolves.toBe(0);
    expect(await getBalance(s.p, member.id)).toBe(0n);

    const b = await watched();
    await signInWithForm(b.page, s.base, grace.email, PASSWORD);
    await b.page.getByRole("link", { name: "Approvals" }).click();
    await expect(row(b.page).textContent()).resolves.toContain("$1,250.00");
    await row(b.page).getByRole("button", { name: "Approve and book" }).click();
    await b.page.getByText(/Request \d+ approved and booked\./).waitFor();
    await expect(b.page.locator("#decided tbody").textContent()).resolves.toContain("approved");
    await b.page.screenshot({ path: path.join(ARTIFACTS, "approval-approved.png"), fullPage: true });
    expect(await getBalance(s.p, member.id)).toBe(125_000n);

    // The requester is told, and the member's statement shows the adjustment once.
    await a.page.getByRole("link", { name: "Messages" }).click();
    await a.page
      .getByText(/Approval request \d+ approved/)
      .first()
      .waitFor();
    await b.page.goto(`${s.base}/payments/statement-admin-view/${member.id}`);
    await expect(b.page.locator("#balance").textContent()).resolves.toBe("$1,250.00");
    expect(await getBalance(s.p, member.id)).toBe(125_000n);

    expect([...a.problems, ...b.problems]).toEqual([]);
    await a.close();
    await b.close();
    expect(await violations(s.p)).toEqual([]);
  });
});
