// A member signs in with the real form in Chromium, sees the dashboard, and signs out.
import fs from "node:fs";
import type { Server } from "node:http";
import path from "node:path";
import type { Browser } from "playwright-core";
import { DEMO_PASSWORD, seedDemoData } from "../../src/services/demo/seed-demo";
import { startTestApp, type TestApp } from "../helpers/app";
import { ARTIFACTS, browserAvailable, launchBrowser } from "../helpers/browser";
import { testBox } from "../helpers/two-factor";

const maybe = browserAvailable() ? describe : describe.skip;

maybe("browser journey", () => {
  let t: TestApp;
  let server: Server;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestApp();
    await seedDemoData(t.db, testBox);
    server = t.app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const addr = server.address();
    base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
    browser = await launchBrowser();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    await t?.close();
  });

  test("sign in as a demo member, see the dashboard, sign out", async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    page.on("pageerror", (e) => problems.push(String(e)));
    page.on("response", (r) => r.status() >= 400 && r.status() !== 401 && problems.push(`${r.status()} ${r.url()}`));

    await page.goto(`${base}/dashboard`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.getByLabel("ABF number or e-mail").fill("lukasz@demo.bridgecredits.test");
    await page.getByLabel("Password").fill(DEMO_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${base}/dashboard`);
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toContain("Welcome, Łukasz");
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard.png"), fullPage: true });

    await page.getByRole("button", { name: /Łukasz Żółć/ }).click();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${base}/login`);
    await page.goto(`${base}/dashboard`);
    expect(new URL(page.url()).pathname).toBe("/login");
    expect(problems).toEqual([]); // no CSP violations or script errors
  });
});
