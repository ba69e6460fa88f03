// SIGTERM drains the real server (issue 15, item 8): a transfer in flight (held up by a row lock the test owns)
// still gets its answer and is booked, new connections are refused at once, a request still running at
// SHUTDOWN_TIMEOUT_SECONDS is cut off rather than holding the shutdown forever, and the process exits 0.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import request from "supertest";
import { DEMO_PASSWORD } from "../../src/services/demo/seed-demo";
import { csrfFrom } from "../helpers/app";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { type SpawnedServer, spawnServerOn } from "../helpers/spawned-server";

jest.setTimeout(120_000);

const TIMEOUT_S = 3;
let dir: string;
let database: TestDatabase;
let server: SpawnedServer;
let base: string;
const locks: pg.Client[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bc-drain-"));
  database = await createTestDatabase();
  ({ server, base } = await spawnServerOn(database.url, dir, { SHUTDOWN_TIMEOUT_SECONDS: String(TIMEOUT_S) }));
});

afterAll(async () => {
  await server?.stop("SIGKILL");
  for (const c of locks) await c.end().catch(() => {});
  await database?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Holds a lock on the member's account in an open transaction, so a payment from them waits. */
async function lockAccount(systemNumber: number) {
  const c = new pg.Client({ connectionString: database.url });
  await c.connect();
  locks.push(c);
  await c.query("BEGIN");
  await c.query(
    "SELECT a.id FROM accounts a JOIN users u ON u.id = a.user_id WHERE u.system_number = $1 FOR UPDATE OF a",
    [systemNumber],
  );
  return () => c.query("COMMIT");
}

/** Signs the member in and answers a transfer of $1 to 620005, ready to send as the page renders it. */
async function transferForm(systemNumber: number) {
  const agent = request.agent(base);
  const login = await agent.get("/login");
  await agent
    .post("/login")
    .type("form")
    .send({ _csrf: csrfFrom(login.text), identifier: String(systemNumber), password: DEMO_PASSWORD });
  const page = await agent.get("/payments/member-transfer");
  expect(page.status).toBe(200);
  const requestId = /name="request_id" value="([^"]+)"/.exec(page.text)![1]!;
  const fields = {
    _csrf: csrfFrom(page.text),
    request_id: requestId,
    to: "",
    abf: "620005",
    amount: "1.00",
    description: "Drain test",
  };
  const send = () => agent.post("/payments/member-transfer").type("form").redirects(0).send(fields);
  return { send, key: `transfer:%:${requestId}` };
}

async function postingsWithKey(pattern: string) {
  const { rows } = await database.pool.query("SELECT count(*)::int AS n FROM postings WHERE idempotency_key LIKE $1", [
    pattern,
  ]);
  return rows[0].n as number;
}

/** Waits until `n` statements are waiting for a lock (the requests are in flight, inside the database). */
async function waitForLockWaiters(n: number) {
  for (let i = 0; i < 200; i++) {
    const { rows } = await database.pool.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
    );
    if (rows[0].n >= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the transfers never reached the database:\n${server.output().slice(-3_000)}`);
}

test("SIGTERM: the request in flight completes, new connections are refused, a stuck one is cut at the timeout, exit 0", async () => {
  const quick = await transferForm(620001);
  const stuck = await transferForm(620002);
  const releaseQuick = await lockAccount(620001);
  const releaseStuck = await lockAccount(620002);
  const quickAnswer = quick.send().then(
    (r) => ({ status: r.status, at: Date.now() }),
    (e: Error) => ({ status: e.message, at: Date.now() }),
  );
  const stuckAnswer = stuck.send().then(
    (r) => ({ status: r.status as number | string, at: Date.now() }),
    (e: Error) => ({ status: e.message, at: Date.now() }),
  );
  await waitForLockWaiters(2);

  const exit = server.stop("SIGTERM");
  const signalled = Date.now();
  while (!server.output().includes("SIGTERM received")) await new Promise((r) => setTimeout(r, 20));
  // Not listening any more: a new connection is refused while the requests in flight carry on.
  await expect(fetch(`${base}/healthz`)).rejects.toThrow();

  await new Promise((r) => setTimeout(r, 500));
  await releaseQuick();
  expect((await quickAnswer).status).toBe(302);
  expect(await postingsWithKey(quick.key)).toBe(1);

  // The other is still waiting at the timeout: its connection is cut, and shutdown goes on.
  const late = new Promise<{ status: string; at: number }>((resolve) =>
    setTimeout(() => resolve({ status: "still waiting", at: Date.now() }), TIMEOUT_S * 1000 + 5_000),
  );
  const cut = await Promise.race([stuckAnswer, late]);
  expect(cut.status).toMatch(/socket hang up|ECONNRESET|terminated|other side closed/i);
  expect(cut.at - signalled).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 200);
  expect(cut.at - signalled).toBeLessThan(TIMEOUT_S * 1000 + 2_000);
  // Once the database lets it go, its posting finishes inside the engine before the pools close; asking again
  // with the same form would answer it as a replay.
  await releaseStuck();
  expect(await exit).toBe(0);
  expect(await postingsWithKey(stuck.key)).toBeLessThanOrEqual(1);
  expect(server.output()).toMatch(/requests still running at the shutdown timeout were cut off/);
});

test("SIGTERM: API calls answered before the shutdown are all in the call log, even those queued behind a slow write", async () => {
  const { server: api, base: apiBase } = await spawnServerOn(database.url, dir, {
    SHUTDOWN_TIMEOUT_SECONDS: String(TIMEOUT_S),
  });
  try {
    const before = Number((await database.pool.query("SELECT count(*) AS n FROM api_call_log")).rows[0].n);
    // The log's first write waits on this lock, so the calls after it queue in the writer.
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    locks.push(c);
    await c.query("BEGIN");
    await c.query("LOCK TABLE api_call_log IN EXCLUSIVE MODE");
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(`${apiBase}/api/v1/charges/ch_1`, { headers: { Authorization: "Bearer x" } }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(401));
    const exit = api.stop("SIGTERM");
    while (!api.output().includes("shutting down")) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    await c.query("COMMIT");
    expect(await exit).toBe(0);
    const after = Number((await database.pool.query("SELECT count(*) AS n FROM api_call_log")).rows[0].n);
    expect(after - before).toBe(20);
    expect(api.output()).not.toMatch(/could not write/);
  } finally {
    await api.stop("SIGKILL").catch(() => {});
  }
});
