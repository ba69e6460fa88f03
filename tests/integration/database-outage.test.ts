// The app survives its database (issue 15, item 7). The real server runs in its own process on a private
// PostgreSQL, and while members send transfers and open pages, PostgreSQL (a) kills the app's connections
// (pg_terminate_backend) and (b) restarts in fast mode. The process must keep running, answer 503 "try again"
// meanwhile (HTML or JSON, never a stack trace), report /readyz 503 while the database is away and 200 within a
// second of its return, and serve normally afterwards with no restart. Money: every transfer that answered
// success is booked exactly once, and one answered 503 and sent again as the page had it (same request id) is
// booked exactly once too.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import request from "supertest";
import { type RunningPostgres, startPostgres } from "../../src/infra/postgres/server";
import { DEMO_PASSWORD } from "../../src/services/demo/seed-demo";
import { csrfFrom } from "../helpers/app";
import { type SpawnedServer, spawnServerOn } from "../helpers/spawned-server";

jest.setTimeout(180_000);

type Agent = ReturnType<typeof request.agent>;
const MEMBERS = [620001, 620002, 620003];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let pgDir: string;
let database: RunningPostgres;
let server: SpawnedServer;
let base: string;
const agents = new Map<number, Agent>();

/** The hidden fields of the first form on `html` whose action is `action`. */
function hiddenFields(html: string, action: string): Record<string, string> {
  const form = html.slice(html.indexOf(`action="${action}"`));
  const fields: Record<string, string> = {};
  for (const m of form.slice(0, form.indexOf("</form>")).matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)"/g))
    fields[m[1]!] = m[2]!;
  return fields;
}

async function admin<T extends pg.QueryResultRow>(sql: string, values: unknown[] = []) {
  const c = new pg.Client({ connectionString: database.url });
  await c.connect();
  try {
    return (await c.query<T>(sql, values)).rows;
  } finally {
    await c.end();
  }
}

async function signIn(systemNumber: number) {
  const agent = request.agent(base);
  const page = await agent.get("/login");
  const res = await agent
    .post("/login")
    .type("form")
    .send({ _csrf: csrfFrom(page.text), identifier: String(systemNumber), password: DEMO_PASSWORD });
  expect(res.status).toBe(302);
  // The session's CSRF token is made on the first page after signing in; made here, not by two workers at once.
  expect((await agent.get("/payments/member-transfer")).status).toBe(200);
  agents.set(systemNumber, agent);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bc-outage-"));
  fs.chmodSync(dir, 0o755);
  pgDir = path.join(dir, "pg");
  database = await startPostgres({ dataDir: pgDir });
  ({ server, base } = await spawnServerOn(database.url, path.join(dir, "app")));
  for (const m of MEMBERS) await signIn(m);
});

afterAll(async () => {
  await server?.stop();
  await database?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Transfer {
  from: number;
  fields: Record<string, string>;
  status: number;
}
interface Answer {
  what: string;
  status: number;
  body: string;
}

/** One member sending 1 cent to the next, opening pages in between, until `done()`. */
async function member(i: number, done: () => boolean, transfers: Transfer[], answers: Answer[]) {
  const from = MEMBERS[i]!;
  const to = MEMBERS[(i + 1) % MEMBERS.length]!;
  const agent = agents.get(from)!;
  const note = (what: string, res: { status: number; text?: string; body?: unknown }) =>
    answers.push({ what, status: res.status, body: res.text ?? JSON.stringify(res.body ?? "") });
  const noAnswer = (what: string) => (e: Error) => {
    answers.push({ what, status: 0, body: e.message });
    return null;
  };
  while (!done()) {
    const page = await agent.get("/payments/member-transfer").catch(noAnswer("transfer page"));
    if (!page) {
      await sleep(50);
      continue;
    }
    note("transfer page", page);
    if (page.status === 200) {
      const fields = {
        ...hiddenFields(page.text, "/payments/member-transfer"),
        abf: String(to),
        amount: "0.01",
        description: "Outage test",
      };
      const sent = await agent
        .post("/payments/member-transfer")
        .type("form")
        .redirects(0)
        .send(fields)
        .catch(noAnswer("transfer"));
      if (sent) {
        note("transfer", sent);
        transfers.push({ from, fields, status: sent.status });
      }
    }
    const search = await agent
      .get("/payments/member-search?q=62")
      .set("Accept", "application/json")
      .catch(noAnswer("member search"));
    if (search) note("member search (JSON)", search);
    const dash = await agent.get("/dashboard").catch(noAnswer("dashboard"));
    if (dash) note("dashboard", dash);
  }
}

/** Runs two workers per member while `during` does its damage, and a while before and after it. */
async function burst(during: () => Promise<void>) {
  const transfers: Transfer[] = [];
  const answers: Answer[] = [];
  let stop = false;
  const workers = [0, 1, 2, 0, 1, 2].map((i) => member(i, () => stop, transfers, answers));
  await sleep(1_500);
  await during();
  await sleep(1_500);
  stop = true;
  await Promise.all(workers);
  return { transfers, answers };
}

/** Every answer was a normal one or a 503 saying to try again; never a 500, a stack trace or a dead socket. */
function expectOnlyOkOrTryAgain(answers: Answer[]) {
  if (!server.alive()) throw new Error(`the app exited:\n${server.output().slice(-3_000)}`);
  const odd = answers.filter((a) => ![200, 302, 503].includes(a.status));
  expect([...new Set(odd.map((a) => `${a.what}: ${a.status} ${a.body.slice(0, 300)}`))]).toEqual([]);
  for (const a of answers.filter((x) => x.status === 503)) {
    expect(a.body).toMatch(/try again/i);
    expect(a.body).not.toMatch(/\n\s+at \S+ \(/); // no stack frame
    if (a.what.includes("JSON")) expect(JSON.parse(a.body)).toEqual({ error: expect.stringMatching(/try again/i) });
  }
}

async function readyz() {
  return (await fetch(`${base}/readyz`).catch(() => null))?.status ?? 0;
}

async function balances() {
  const rows = await admin<{ n: number; cents: string }>(
    `SELECT u.system_number AS n, a.balance_cents::text AS cents FROM users u JOIN accounts a ON a.user_id = u.id
      WHERE u.system_number = ANY($1)`,
    [MEMBERS],
  );
  return new Map(rows.map((r) => [r.n, BigInt(r.cents)]));
}

/**
 * After the burst: the app still runs and is ready; each 503 transfer is sent again as the page had it; then each
 * transfer is booked exactly once, balances moved by exactly what was booked, and the ledger's rules hold.
 */
async function expectBookedOnce(transfers: Transfer[], before: Map<number, bigint>) {
  expect(server.alive()).toBe(true);
  expect(await readyz()).toBe(200);
  expect(transfers.filter((t) => t.status === 302).length).toBeGreaterThan(0);
  for (const t of transfers.filter((x) => x.status !== 302)) {
    const again = await agents.get(t.from)!.post("/payments/member-transfer").type("form").redirects(0).send(t.fields);
    expect([again.status, again.status === 302 ? "" : again.text.slice(0, 2_000)]).toEqual([302, ""]);
  }
  const ids = transfers.map((t) => t.fields.request_id!);
  expect(new Set(ids).size).toBe(ids.length);
  const booked = await admin<{ rid: string; n: number }>(
    `SELECT split_part(idempotency_key, ':', 3) AS rid, count(*)::int AS n FROM postings
      WHERE idempotency_key LIKE 'transfer:%' AND split_part(idempotency_key, ':', 3) = ANY($1)
      GROUP BY 1`,
    [ids],
  );
  expect(booked.length).toBe(ids.length);
  expect(booked.filter((b) => b.n !== 1)).toEqual([]);
  const after = await balances();
  for (const [i, m] of MEMBERS.entries()) {
    const sent = transfers.filter((t) => t.from === m).length;
    const received = transfers.filter((t) => t.from === MEMBERS[(i + MEMBERS.length - 1) % MEMBERS.length]).length;
    expect(after.get(m)! - before.get(m)!).toBe(BigInt(received - sent));
  }
  expect(await admin("SELECT rule, subject FROM ledger_violations()")).toEqual([]);
}

test("PostgreSQL killing the app's connections mid-burst: the app answers 503 meanwhile and carries on", async () => {
  const before = await balances();
  let killed = 0;
  const { transfers, answers } = await burst(async () => {
    // Several rounds, so connections are caught checked out, mid-statement and idle.
    for (let round = 0; round < 6; round++) {
      const rows = await admin<{ ok: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
          WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
      );
      killed += rows.length;
      await sleep(200);
    }
  });
  expect(killed).toBeGreaterThan(0);
  expectOnlyOkOrTryAgain(answers);
  await expectBookedOnce(transfers, before);
});

test("PostgreSQL restarting (fast mode) mid-burst: /readyz is 503 while it is down and 200 within a second of its return", async () => {
  const before = await balances();
  const readiness: number[] = [];
  let backAfterMs = -1;
  const { transfers, answers } = await burst(async () => {
    const port = database.port;
    await database.stop(); // SIGINT: what `pg_ctl -m fast` sends
    for (let i = 0; i < 10; i++) {
      readiness.push(await readyz());
      await sleep(100);
    }
    database = await startPostgres({ dataDir: pgDir, port });
    const back = Date.now();
    while (Date.now() - back < 10_000 && (await readyz()) !== 200) await sleep(50);
    backAfterMs = Date.now() - back;
  });
  expect(readiness.every((s) => s === 503)).toBe(true);
  expect(backAfterMs).toBeGreaterThanOrEqual(0);
  expect(backAfterMs).toBeLessThan(1_000);
  expect(answers.some((a) => a.status === 503)).toBe(true);
  expectOnlyOkOrTryAgain(answers);
  await expectBookedOnce(transfers, before);
});
