// WEB_CONCURRENCY=2: one `npm start` becomes a primary and two workers behind one port. On a blank database the
// primary migrates and seeds once; requests on fresh connections are served by both workers (their pids are in
// the JSON request log); sessions hold across workers; a killed worker is replaced while the other keeps
// serving; SIGTERM stops the workers gracefully and the primary exits 0.

import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../src/infra/postgres/binaries";
import { DEMO_LOGINS, DEMO_PASSWORD } from "../../src/services/demo/seed-demo";
import { adminQuery } from "../helpers/db";
import { withDatabaseName } from "../helpers/db-url";
import { type SpawnedServer, spawnServer } from "../helpers/spawned-server";
import { WebClient } from "../helpers/web-client";

const dbName = `bc_cluster_${process.pid}`;
let server: SpawnedServer;
let port: number;
let dataDir: string;

/** GET on a connection of its own (no keep-alive), so the primary hands each request to the next worker. */
function freshGet(pathname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: pathname, agent: false }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      })
      .on("error", reject);
  });
}

/** The pids that logged a request for `pathname` since output offset `from` (pino's JSON lines carry the pid). */
function servingPids(pathname: string, from = 0): Set<number> {
  const pids = new Set<number>();
  for (const line of server.output().slice(from).split("\n")) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line) as { pid: number; msg?: string };
    if (entry.msg?.startsWith(`GET ${pathname} `)) pids.add(entry.pid);
  }
  return pids;
}

const workerPids = (from = 0) =>
  [
    ...server
      .output()
      .slice(from)
      .matchAll(/worker (\d) \(pid (\d+)\) is listening/g),
  ].map((m) => ({
    index: Number(m[1]),
    pid: Number(m[2]),
  }));

async function until(what: string, check: () => boolean, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${server.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

beforeAll(async () => {
  await adminQuery(`CREATE DATABASE "${dbName}"`);
  port = await freePort();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bc-cluster-"));
  server = await spawnServer(
    {
      // NODE_ENV=test: JSON log lines (with the pid), demo data, the local Stripe emulator.
      NODE_ENV: "test",
      WEB_CONCURRENCY: "2",
      DATABASE_URL: withDatabaseName(process.env.DATABASE_URL!, dbName),
      DATA_DIR: dataDir,
      PORT: String(port),
      STRIPE_EMULATOR_PORT: String(await freePort()),
      LOG_LEVEL: "info",
      MIGRATE_ON_START: "true",
      DEMO_DATA: "true",
      WEBHOOK_WORKER: "true",
    },
    120_000,
  );
}, 150_000);

afterAll(async () => {
  await server?.stop("SIGKILL");
  await adminQuery(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test("the primary migrates and seeds once, then two workers serve one port", async () => {
  const out = server.output();
  expect(out.match(/Demo data added/g)).toHaveLength(1);
  expect(out.match(/No Stripe keys configured: using the local Stripe emulator/g)).toHaveLength(1);
  expect(out.match(/Bridge Credits is serving on/g)).toHaveLength(1);
  // The primary says it is serving once both workers listen; a worker's own log line travels its own pipe and may
  // arrive just after (as in built-server.test.ts).
  await until("both workers' own log lines", () => workerPids().length >= 2);
  const workers = workerPids();
  expect(workers.map((w) => w.index).sort()).toEqual([1, 2]);
  expect(workers.map((w) => w.pid)).not.toContain(server.proc.pid);

  const statuses = await Promise.all(Array.from({ length: 12 }, () => freshGet("/login")));
  expect(statuses).toEqual(Array(12).fill(200));
  await until("request logs", () => servingPids("/login").size === 2);
  expect([...servingPids("/login")].sort()).toEqual(workers.map((w) => w.pid).sort());

  // A session begun on one worker is good on the other.
  const member = DEMO_LOGINS.find((l) => l.email.startsWith("margaret"))!;
  const browser = new WebClient();
  await browser.signIn(`http://127.0.0.1:${port}`, member.email, DEMO_PASSWORD);
  for (let i = 0; i < 4; i++) expect((await browser.get(`http://127.0.0.1:${port}/dashboard`)).status).toBe(200);
});

test("a worker that dies is replaced while the other keeps serving; SIGTERM stops them all", async () => {
  const before = workerPids();
  const victim = before.find((w) => w.index === 1)!;
  const from = server.output().length;
  process.kill(victim.pid, "SIGKILL");
  await until("the primary to notice", () =>
    server.output().slice(from).includes(`worker 1 (pid ${victim.pid}) exited with signal SIGKILL`),
  );
  // Meanwhile the other worker serves everything.
  const during = await Promise.all(Array.from({ length: 6 }, () => freshGet("/healthz")));
  expect(during).toEqual(Array(6).fill(200));
  await until("a new worker 1", () => workerPids(from).some((w) => w.index === 1));
  const replacement = workerPids(from).find((w) => w.index === 1)!;
  expect(replacement.pid).not.toBe(victim.pid);
  expect(alive(victim.pid)).toBe(false);

  const logFrom = server.output().length;
  expect(await Promise.all(Array.from({ length: 12 }, () => freshGet("/login")))).toEqual(Array(12).fill(200));
  await until("both workers to serve", () => servingPids("/login", logFrom).size === 2);
  expect(servingPids("/login", logFrom).has(replacement.pid)).toBe(true);

  const survivors = [replacement.pid, before.find((w) => w.index === 2)!.pid];
  expect(await server.stop("SIGTERM")).toBe(0);
  for (const pid of survivors) expect(alive(pid)).toBe(false);
  expect(server.output()).toContain("SIGTERM received: finishing requests in flight");
});
