// Cross-cutting behaviour of every page: error pages, body limits, security headers, health probes.
import request from "supertest";
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { connectDatabase } from "../../src/db/client";
import { migrateDeploy } from "../../src/db/migrate";
import { startTempPostgres } from "../../src/infra/postgres/server";
import { createLogger } from "../../src/lib/logger";
import { csrfFrom, makeUser, signIn, startTestApp, type TestApp } from "../helpers/app";
import { TEST_ENCRYPTION_KEY } from "../helpers/two-factor";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe("pages and errors", () => {
  test("unknown pages get a friendly 404 page", async () => {
    const res = await request(t.app).get("/no/such/page");
    expect(res.status).toBe(404);
    expect(res.text).toContain("Not found");
    expect(res.headers["content-type"]).toMatch(/html/);
  });

  test("the sign-in page has labelled inputs and the site's stylesheets from this server", async () => {
    const res = await request(t.app).get("/login");
    expect(res.status).toBe(200);
    for (const id of ["identifier", "password"]) expect(res.text).toContain(`<label for="${id}"`);
    expect(res.text).toContain('href="/static/bootstrap/css/bootstrap.min.css"');
    const css = await request(t.app).get("/static/bootstrap/css/bootstrap.min.css");
    expect(css.status).toBe(200);
    const icons = await request(t.app).get("/static/bootstrap-icons/bootstrap-icons.min.css");
    expect(icons.status).toBe(200);
  });

  test("security headers: CSP allows nothing external but Stripe", async () => {
    const res = await request(t.app).get("/login");
    const csp = res.headers["content-security-policy"] as string;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self' https://js.stripe.com");
    expect(csp).toContain("frame-ancestors 'none'");
    const hosts = csp.match(/https:\/\/[^\s;]+/g) ?? [];
    for (const h of hosts) expect(h).toMatch(/stripe\.com$/);
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["x-powered-by"]).toBeUndefined();
    expect(res.headers["x-request-id"]).toMatch(/^[\w-]{8,}$/);
  });

  test("an oversized body is refused with 413 and a clear message", async () => {
    const user = await makeUser(t.db);
    const { agent } = await signIn(t.app, user.email);
    const token = csrfFrom((await agent.get("/dashboard")).text);
    const res = await agent
      .post("/change-password")
      .set("X-CSRF-Token", token)
      .type("form")
      .send({ currentPassword: "x".repeat(200_000) });
    expect(res.status).toBe(413);
    expect(res.text).toContain("too large");
  });

  test("malformed JSON gets a 400 JSON error, not a stack trace", async () => {
    const res = await request(t.app).post("/login").set("Content-Type", "application/json").send("{not json");
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "The request body could not be read." });
  });
});

describe("the top menu", () => {
  test("offers every page a member uses, member transfer included, on every page", async () => {
    const user = await makeUser(t.db);
    const { agent } = await signIn(t.app, user.email);
    for (const page of ["/dashboard", "/payments/statement", "/payments/messages"]) {
      const html = (await agent.get(page)).text;
      const nav = /<nav\b[^>]*aria-label="Main navigation"[^>]*>[\s\S]*?<\/nav>/.exec(html)![0];
      const links = [...nav.matchAll(/<a class="nav-link[^"]*"[^>]*href="([^"#]+)"[^>]*>([^<]+)</g)].map((m) => [
        m[1],
        m[2]!.trim(),
      ]);
      expect(links).toEqual([
        ["/dashboard", "Dashboard"],
        ["/payments/statement", "Statement"],
        ["/payments/manual-topup", "Top Up"],
        ["/payments/member-transfer", "Transfer"],
        ["/payments/setup-autotopup", "Auto Top Up"],
        ["/payments/messages", "Messages"],
      ]);
    }
    const transfer = await agent.get("/payments/member-transfer");
    expect(transfer.text).toMatch(/<a class="nav-link active" aria-current="page" href="\/payments\/member-transfer">/);
  });
});

describe("health", () => {
  test("/healthz and /readyz answer when the database is up", async () => {
    expect((await request(t.app).get("/healthz")).body).toEqual({ status: "ok" });
    const ready = await request(t.app).get("/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body.database).toBe("ok");
  });

  test("/readyz reports a stopped database with 503 while /healthz stays up", async () => {
    const server = await startTempPostgres();
    try {
      await migrateDeploy(server.url);
      const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent", DATABASE_URL: server.url });
      const database = connectDatabase(server.url);
      const app = createApp({
        config,
        database,
        logger: createLogger("silent"),
        sessionSecret: "x".repeat(40),
        encryptionKey: TEST_ENCRYPTION_KEY,
      });
      expect((await request(app).get("/readyz")).status).toBe(200);
      await server.stop();
      const down = await request(app).get("/readyz");
      expect(down.status).toBe(503);
      expect(down.body).toEqual({ status: "unavailable", database: "unreachable" });
      expect((await request(app).get("/healthz")).status).toBe(200);
      await database.close();
    } finally {
      await server.stop();
    }
  });
});
