// The production build as it is deployed: `node dist/server.js` and `node dist/cli/admin.js`, plain Node with no
// TypeScript loader, NODE_ENV=production (so every production check of the configuration applies) and
// MIGRATE_ON_START=false (the deploy's migrate step has run: here, the test template's migrations). CI builds
// dist/ before the tests; locally run `npm run build` first, or this file is skipped with a note.
//
// Stripe: production requires the three keys and real Stripe. None of these checks calls Stripe's API (no card
// operation), so well-formed test keys suffice; the webhook secret is what the built server verifies
// signatures with, and both a bad and a good signature are tried.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import request from "supertest";
import { freePort } from "../../src/infra/postgres/binaries";
import { signatureHeader } from "../../src/infra/stripe-emulator";
import { projectRoot } from "../../src/lib/paths";
import fixtures from "../fixtures/stripe/fixtures3-subset.json";
import { csrfFrom } from "../helpers/app";
import { adminQuery, createTestDatabase, publicTableCount, type TestDatabase } from "../helpers/db";
import { withDatabaseName } from "../helpers/db-url";
import { type SpawnedServer, spawnServer } from "../helpers/spawned-server";

const SERVER = path.join(projectRoot, "dist", "server.js");
const CLI = path.join(projectRoot, "dist", "cli", "admin.js");
const WEBHOOK_SECRET = "whsec_builtserversmoketest";
const PASSWORD = "built-server-smoke-password";

function builtServerPresent(): boolean {
  if (fs.existsSync(SERVER)) return true;
  if (process.env.CI === "true") throw new Error("CI=true but dist/server.js is missing: run `npm run build` first");
  console.warn("dist/server.js not found (run `npm run build`): built-server smoke test skipped.");
  return false;
}

const suite = builtServerPresent() ? describe : describe.skip;

suite("the built server (node dist/server.js, NODE_ENV=production)", () => {
  let db: TestDatabase;
  let port: number;
  let base: string;
  let server: SpawnedServer | null = null;

  function productionEnv(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: db.url,
      SESSION_SECRET: "built-server-smoke-test-session-secret-0123456789",
      APP_ENCRYPTION_KEY: "built-server-smoke-test-encryption-key-0123456789",
      STRIPE_SECRET_KEY: "sk_test_builtserversmoketest",
      STRIPE_PUBLISHABLE_KEY: "pk_test_builtserversmoketest",
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      MIGRATE_ON_START: "false",
      DEMO_DATA: "false",
      HOST: "127.0.0.1",
      PORT: String(port),
      LOG_LEVEL: "info",
      // Plain node: no loader may come in through the environment either.
      NODE_OPTIONS: undefined,
    };
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await server?.stop("SIGKILL");
    await db.drop();
  });

  test("refuses to start on a database the deploy has not migrated, and leaves it untouched", async () => {
    const blank = `bc_unmigrated_${process.pid}`;
    await adminQuery(`CREATE DATABASE "${blank}"`);
    try {
      const env = { ...productionEnv(), DATABASE_URL: withDatabaseName(db.url, blank) };
      const run = spawnSync(process.execPath, [SERVER], { cwd: projectRoot, env, encoding: "utf8", timeout: 30_000 });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain("migration(s)");
      expect(run.stderr).toContain("MIGRATE_ON_START is false: run `npm run db:migrate`");
      expect(await publicTableCount(withDatabaseName(db.url, blank))).toBe(0);
    } finally {
      await adminQuery(`DROP DATABASE IF EXISTS "${blank}" WITH (FORCE)`);
    }
  });

  test("the built CLI creates a member", () => {
    const args = ["create-user", "--system-number", "654321", "--first-name", "Smoke", "--last-name", "Tester"];
    args.push("--email", "smoke@example.test", "--password", PASSWORD);
    const run = spawnSync(process.execPath, [CLI, ...args], {
      cwd: projectRoot,
      env: productionEnv(),
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain("Created user Smoke Tester (ABF 654321, smoke@example.test)");
    expect(run.status).toBe(0);
  });

  test("starts and serves probes, sign-in, pages, static files and the Stripe webhook", async () => {
    server = await spawnServer(productionEnv(), 30_000, [SERVER]);

    const agent = request.agent(base);
    expect((await agent.get("/healthz")).body).toEqual({ status: "ok" });
    expect((await agent.get("/readyz")).body).toEqual({ status: "ready", database: "ok" });

    const login = await agent.get("/login");
    expect(login.status).toBe(200);
    expect(login.text).toContain('name="identifier"');
    const signedIn = await agent
      .post("/login")
      .type("form")
      .send({ _csrf: csrfFrom(login.text), identifier: "654321", password: PASSWORD });
    expect(signedIn.status).toBe(302);
    expect(signedIn.headers.location).toBe("/dashboard");

    const dashboard = await agent.get("/dashboard");
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain("Smoke");
    const statement = await agent.get("/payments/statement");
    expect(statement.status).toBe(200);
    expect(statement.text).toContain("Bridge Credits - Smoke Tester");
    // The PDF reads its fonts through the project root, found from dist/ too.
    const pdf = await agent.get("/payments/statement-pdf").buffer(true);
    expect(pdf.status).toBe(200);
    expect(pdf.headers["content-type"]).toBe("application/pdf");

    const css = await agent.get("/static/css/app.css");
    expect(css.status).toBe(200);
    expect(css.headers["content-type"]).toMatch(/^text\/css/);
    expect((await agent.get("/static/bootstrap/css/bootstrap.min.css")).status).toBe(200);

    const event = JSON.stringify(fixtures.resources.event).replace(fixtures.resources.event.id, "evt_built_smoke_1");
    const hook = (signature: string) =>
      request(base)
        .post("/payments/stripe-webhook")
        .set("Content-Type", "application/json")
        .set("Stripe-Signature", signature)
        .send(event);
    expect((await hook(signatureHeader(event, "whsec_someone_else"))).status).toBe(400);
    const good = await hook(signatureHeader(event, WEBHOOK_SECRET));
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ received: true, outcome: "ignored: event type not used" });

    expect(await server.stop("SIGTERM")).toBe(0);
  });

  test("WEB_CONCURRENCY=2: the built primary forks two built workers on the one port", async () => {
    const env = { ...productionEnv(), WEB_CONCURRENCY: "2", PORT: String(await freePort()) };
    const cluster = await spawnServer(env, 30_000, [SERVER]);
    try {
      // The primary says it is serving once both workers listen; a worker's own log line travels its own pipe
      // and may arrive just after, so wait a little for both.
      const workerPids = () =>
        [...cluster.output().matchAll(/worker \d \(pid (\d+)\) is listening/g)].map((m) => Number(m[1]));
      for (let i = 0; i < 100 && new Set(workerPids()).size < 2; i++) await new Promise((r) => setTimeout(r, 100));
      const pids = workerPids();
      expect(new Set(pids).size).toBe(2);
      expect(pids).not.toContain(cluster.proc.pid);
      const res = await fetch(`http://127.0.0.1:${env.PORT}/readyz`);
      expect(await res.json()).toEqual({ status: "ready", database: "ok" });
    } finally {
      expect(await cluster.stop("SIGTERM")).toBe(0);
    }
  });
});
