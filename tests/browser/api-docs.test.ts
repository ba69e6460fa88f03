// The API reference renders in Chromium under the page's Content-Security-Policy: Redoc's bundle from
// node_modules, the operations of the served OpenAPI document on screen, and no script or style refused.
import type { Server } from "node:http";
import type { Browser } from "playwright-core";
import { startTestApp, type TestApp } from "../helpers/app";
import { browserAvailable, launchBrowser } from "../helpers/browser";

const maybe = browserAvailable() ? describe : describe.skip;

maybe("API reference page", () => {
  let t: TestApp;
  let server: Server;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestApp();
    server = t.app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const addr = server.address();
    base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    await t?.close();
  });

  test("/api/docs shows the operations with no refused script or style", async () => {
    const page = await browser.newPage();
    const refused: string[] = [];
    page.on("console", (m) => {
      // Redoc's footer links a logo on its CDN; the CSP blocks that image on purpose (no third-party requests).
      if (m.type() === "error" && /Content Security Policy/.test(m.text()) && !/img-src/.test(m.text()))
        refused.push(m.text());
    });
    page.on("pageerror", (e) => refused.push(e.message));
    await page.goto(`${base}/api/docs`);
    await page.getByRole("heading", { name: "Charge a member" }).waitFor({ timeout: 20_000 });
    expect(await page.textContent("body")).not.toContain("Something went wrong");
    expect(refused).toEqual([]);
    await page.close();
  });
});
