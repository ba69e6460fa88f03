// npm run bench:api — charges per second through the payments API over HTTP (autocannon driving
// POST /api/v1/charges, a unique Idempotency-Key per request) against the real server (`src/server.ts`, spawned
// as its own process, as in production), side by side with the service layer (paymentApiBatch from concurrent
// workers in this process) on the same database in the same run, in two modes: charges spread over many clubs
// and members (a federation key naming the club), and every charge to one hot club. The two alternate in rounds
// so both see the same machine. Then POST /api/v1/charges/batch with 500 items is timed. Ledger invariants are
// checked after each mode. Settings (environment): BENCH_MEMBERS (10000), BENCH_CLUBS (200), BENCH_CONNECTIONS
// (16: HTTP connections and service-layer workers), BENCH_SECONDS (10, measured per mode and kind, split over the
// rounds), BENCH_ROUNDS (2), BENCH_WARMUP (2), BENCH_MODES (spread,hot), BENCH_BATCHES (3), DATABASE_URL (else a
// fresh PostgreSQL with durable settings in a temp folder).

import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import os from "node:os";
import { connectDatabase } from "../src/db/client";
import { migrateDeploy } from "../src/db/migrate";
import { createApiKey } from "../src/services/api/keys";
import { cliActor } from "../src/services/audit/record";
import { benchDatabase } from "./bench/bench-database";
import { benchPayments } from "./bench/bench-payments-core";
import { type ApiRound, FIRST_MEMBER, runApi, startServer, stopServer } from "./bench/http-load";
import {
  benchModes,
  combine,
  envNumber,
  ledgerProblems,
  runService,
  type ServiceRound,
  seed,
} from "./bench/service-load";

const MEMBERS = envNumber("BENCH_MEMBERS", 10_000);
const CLUBS = envNumber("BENCH_CLUBS", 200);
const CONNECTIONS = envNumber("BENCH_CONNECTIONS", 16);
const SECONDS = envNumber("BENCH_SECONDS", 10);
const ROUNDS = envNumber("BENCH_ROUNDS", 2);
const WARMUP = envNumber("BENCH_WARMUP", 2);
const BATCHES = envNumber("BENCH_BATCHES", 3);
const MODES = benchModes();
const pick = (n: number) => 1 + Math.floor(Math.random() * n);

/** POST /api/v1/charges/batch with 500 charges to one club (a session's table money): the answer's wall time. */
async function timeBatch(base: string, secret: string) {
  const charges = Array.from({ length: 500 }, () => ({
    member: FIRST_MEMBER - 1 + pick(MEMBERS),
    amount: pick(2000),
    currency: "aud",
    description: "Table money",
    organisation: "BENCH2",
  }));
  const t0 = performance.now();
  const res = await fetch(`${base}/api/v1/charges/batch`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${secret}`, "idempotency-key": randomUUID() },
    body: JSON.stringify({ charges }),
  });
  const body = (await res.json()) as { data?: { status: number }[] };
  const ms = performance.now() - t0;
  const ok = res.status === 200 && body.data?.length === 500 && body.data.every((d) => d.status === 201);
  return { ms, ok, status: res.status };
}

async function main() {
  const bench = await benchDatabase();
  const url = bench.url;
  const log = (s: string) => console.log(s);
  let server: ChildProcess | null = null;
  try {
    log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
    if (process.env.BENCH_DEBUG) log(`database: ${url}`);
    log(
      `load average before: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
    await migrateDeploy(url);
    const db = connectDatabase(url, { max: 6 });
    const { rows } = await db.pool.query("SELECT version(), current_setting('fsync') AS fsync");
    log(`${String(rows[0].version).split(",")[0]}; fsync=${rows[0].fsync}; Node ${process.version}`);
    log(`members ${MEMBERS}, clubs ${CLUBS}, ${CONNECTIONS} connections / workers, ${SECONDS} s per mode and kind`);
    const p = benchPayments(db);
    const ids = await seed(db, p, MEMBERS, CLUBS);
    const { secret } = await createApiKey(
      db.prisma,
      {
        name: "benchmark",
        organisationId: null,
        scopes: ["charges:write"],
        live: false,
      },
      cliActor(),
    );
    const started = await startServer(url, { members: MEMBERS, clubs: CLUBS });
    server = started.proc;

    const table: string[][] = [];
    let failed = false;
    for (const mode of MODES) {
      const seconds = Math.max(1, Math.round(SECONDS / ROUNDS));
      await runApi(started, secret, mode, WARMUP, CONNECTIONS);
      const apiRounds: ApiRound[] = [];
      const serviceRounds: ServiceRound[] = [];
      const chargesBefore = Number((await db.pool.query("SELECT count(*) FROM api_charges")).rows[0].count);
      for (let r = 0; r < ROUNDS; r++) {
        apiRounds.push(await runApi(started, secret, mode, seconds, CONNECTIONS));
        serviceRounds.push(await runService(p, mode, ids, seconds, r === 0 ? WARMUP : 1, CONNECTIONS));
      }
      const chargesAfter = Number((await db.pool.query("SELECT count(*) FROM api_charges")).rows[0].count);
      const sum = (f: (r: ApiRound) => number) => apiRounds.reduce((a, r) => a + f(r), 0);
      const apiTps = sum((r) => r.created) / sum((r) => r.secs);
      // autocannon's percentiles per round; the worse round is shown.
      const apiP50 = Math.max(...apiRounds.map((r) => r.p50));
      const apiP99 = Math.max(...apiRounds.map((r) => r.p99));
      const service = combine(serviceRounds);
      const problems = await ledgerProblems(db.pool);
      if (sum((r) => r.errors) > 0) problems.push(`${sum((r) => r.errors)} failed requests`);
      // Every 201 is one charge row. autocannon stops with up to one request per connection in flight, which the
      // server still books (uncounted): at most that many more rows per run.
      const extra = chargesAfter - chargesBefore - sum((r) => r.created);
      if (extra < 0 || extra > CONNECTIONS * (ROUNDS + 1)) {
        problems.push(`${sum((r) => r.created)} created, ${chargesAfter - chargesBefore} charge rows`);
      }
      failed ||= problems.length > 0;
      const ratio = apiTps / service.tps;
      table.push([
        mode,
        `${apiTps.toFixed(0)}/s`,
        `${apiP50.toFixed(1)} / ${apiP99.toFixed(1)} ms`,
        `${service.tps.toFixed(0)}/s`,
        `${service.p50.toFixed(1)} / ${service.p99.toFixed(1)} ms`,
        `${ratio.toFixed(2)}× ${ratio >= 0.5 ? "(goal met)" : "(goal ≥ 0.5× missed)"}`,
        `${apiP99 < 50 ? "met" : "missed"}`,
        problems.length ? `BROKEN: ${problems.join("; ")}` : "ok",
      ]);
    }
    const head = [
      "mode",
      "API charges",
      "API p50 / p99",
      "service layer",
      "service p50 / p99",
      "API ÷ service (goal ≥ 0.5×)",
      "p99 < 50 ms",
      "invariants",
    ];
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ");
    log("");
    log(line(head));
    for (const r of table) log(line(r));

    const batches = [];
    for (let i = 0; i < BATCHES; i++) batches.push(await timeBatch(started.base, secret));
    const problems = await ledgerProblems(db.pool);
    const bad = batches.filter((b) => !b.ok);
    if (bad.length) problems.push(`batch answers ${bad.map((b) => b.status).join(", ")}`);
    failed ||= problems.length > 0;
    const times = batches.map((b) => b.ms).sort((a, b) => a - b);
    log(
      `\nPOST /charges/batch, 500 items: ${times.map((t) => `${(t / 1000).toFixed(2)} s`).join(", ")} ` +
        `(goal < 1 s: ${times[times.length - 1]! < 1000 ? "met" : "missed"}); invariants ` +
        `${problems.length ? `BROKEN: ${problems.join("; ")}` : "ok"}`,
    );
    log(
      `load average after: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
    await p.ledger.close();
    await db.close();
    if (failed) process.exitCode = 1;
  } finally {
    if (server) await stopServer(server);
    await bench.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
