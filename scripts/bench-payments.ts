// npm run bench:payments — payments per second through the service layer (paymentApiBatch → posting engine →
// PostgreSQL), side by side with two pgbench baselines on the same database in the same run, in two modes:
// payments spread over many clubs, and every payment to one hot club. Ledger invariants are checked after each
// mode. Each mode runs in rounds of service layer, 5-statement and 1-statement baselines in turn, so all three
// see the same machine. Settings (environment): BENCH_MEMBERS (10000), BENCH_CLUBS (200), BENCH_WORKERS (16),
// BENCH_SECONDS (15, measured per mode and kind, split over the rounds), BENCH_ROUNDS (3), BENCH_WARMUP (3),
// BENCH_MODES (spread,hot),
// BENCH_CONNECTIONS (posting engine connections, 2), BENCH_LINGER_BELOW (8) and BENCH_LINGER_MS (1) (the engine's
// batching), BENCH_BASELINES=0 (skip pgbench), BENCH_SOCKET=1 (connect over a Unix-domain socket), DATABASE_URL
// (else a fresh PostgreSQL with durable settings — fsync on — in a temp folder).
import fs from "node:fs";
import os from "node:os";
import { connectDatabase, type Database } from "../src/db/client";
import { migrateDeploy } from "../src/db/migrate";
import { createLogger } from "../src/lib/logger";
import { UnconfiguredCardGateway } from "../src/services/payments/card-gateway";
import { createPayments, type Payments } from "../src/services/payments/context";
import { paymentApiBatch } from "../src/services/payments/payment-api-batch";
import { benchDatabase } from "./bench/bench-database";
import { findPgbench, runPgbench, setupBaselineTables, verifyBaselineTables } from "./bench/pgbench-baselines";

const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const MEMBERS = env("BENCH_MEMBERS", 10_000);
const CLUBS = env("BENCH_CLUBS", 200);
const WORKERS = env("BENCH_WORKERS", 16);
const SECONDS = env("BENCH_SECONDS", 15);
const WARMUP = env("BENCH_WARMUP", 3);
const CONNECTIONS = env("BENCH_CONNECTIONS", 2);
const LINGER_BELOW = env("BENCH_LINGER_BELOW", 8);
const LINGER_MS = env("BENCH_LINGER_MS", 1);
const ROUNDS = env("BENCH_ROUNDS", 3);
const MODES = (process.env.BENCH_MODES ?? "spread,hot")
  .split(",")
  .filter((m): m is Mode => m === "spread" || m === "hot");

type Mode = "spread" | "hot";

async function seed(db: Database, p: Payments) {
  await db.pool.query(
    `INSERT INTO users (system_number, first_name, last_name, email, password_hash, updated_at)
     SELECT 900000000 + g, 'Bench', 'Member ' || g, 'bench' || g || '@example.test', 'x', now()
       FROM generate_series(1, $1::int) g`,
    [MEMBERS],
  );
  await db.pool.query(
    `INSERT INTO organisations (club_number, name, updated_at)
     SELECT 'BENCH' || g, 'Bench Club ' || g, now() FROM generate_series(1, $1::int) g`,
    [CLUBS],
  );
  const users = await db.prisma.user.findMany({ select: { id: true }, orderBy: { id: "asc" } });
  const adjustments = await p.accounts.forSystem("ADJUSTMENTS");
  const accounts = await db.prisma.account.findMany({ where: { kind: "MEMBER" }, select: { id: true } });
  for (let i = 0; i < accounts.length; i += 200) {
    await Promise.all(
      accounts.slice(i, i + 200).map((a) =>
        p.ledger.post({
          idempotencyKey: `bench-fund-${a.id}`,
          type: "Transfer In",
          description: "Benchmark funds",
          entries: [
            { accountId: a.id, amountCents: 100_000_000n },
            { accountId: adjustments, amountCents: -100_000_000n },
          ],
        }),
      ),
    );
  }
  const orgs = await db.prisma.organisation.findMany({ select: { id: true }, orderBy: { id: "asc" } });
  await db.pool.query("VACUUM ANALYZE");
  return { userIds: users.map((u) => u.id), orgIds: orgs.map((o) => o.id) };
}

/** Busy and total CPU time of the whole machine so far, in clock ticks (Linux); null elsewhere. */
function cpuTicks(): { busy: number; total: number } | null {
  try {
    const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

function pct(sorted: number[], q: number) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : Number.NaN;
}

let paymentNo = 0; // numbers every payment of the run, so no idempotency key is used twice

interface ServiceRound {
  measured: number;
  secs: number;
  lat: number[];
  refused: number;
  busyTicks: number;
  totalTicks: number;
  appMicros: number;
}

/** One measured stretch of payments through the service layer, after `warmup` seconds of the same load. */
async function runService(
  p: Payments,
  mode: Mode,
  ids: { userIds: number[]; orgIds: number[] },
  seconds: number,
  warmup: number,
): Promise<ServiceRound> {
  let phase: "warm" | "measure" | "done" = "warm";
  let measured = 0;
  let refused = 0;
  const lat: number[] = [];
  const worker = async () => {
    while (phase !== "done") {
      const member = ids.userIds[Math.floor(Math.random() * ids.userIds.length)]!;
      const club = mode === "hot" ? ids.orgIds[0]! : ids.orgIds[Math.floor(Math.random() * ids.orgIds.length)]!;
      const start = process.hrtime.bigint();
      const r = await paymentApiBatch(p, {
        memberId: member,
        organisationId: club,
        amountCents: BigInt(1 + Math.floor(Math.random() * 1000)),
        description: "Benchmark session",
        type: "Club Payment",
        idempotencyKey: `bench-${mode}-${process.pid}-${++paymentNo}`,
      });
      if (!r.ok) refused++;
      if (phase === "measure") {
        measured++;
        lat.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    }
  };
  const workers = Array.from({ length: WORKERS }, worker);
  await new Promise((r) => setTimeout(r, warmup * 1000));
  phase = "measure";
  const t0 = process.hrtime.bigint();
  const c0 = cpuTicks();
  const n0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const c1 = cpuTicks();
  const n1 = process.cpuUsage(n0);
  phase = "done";
  await Promise.all(workers);
  return {
    measured,
    secs,
    lat,
    refused,
    busyTicks: c0 && c1 ? c1.busy - c0.busy : Number.NaN,
    totalTicks: c0 && c1 ? c1.total - c0.total : Number.NaN,
    appMicros: n1.user + n1.system,
  };
}

/** The rounds of one mode taken together. */
function combine(rounds: ServiceRound[]) {
  const sum = (f: (r: ServiceRound) => number) => rounds.reduce((a, r) => a + f(r), 0);
  const measured = sum((r) => r.measured);
  const secs = sum((r) => r.secs);
  const lat = rounds.flatMap((r) => r.lat).sort((a, b) => a - b);
  return {
    tps: measured / secs,
    p50: pct(lat, 0.5),
    p99: pct(lat, 0.99),
    refused: sum((r) => r.refused),
    // Machine-wide CPU (app, database, kernel) per payment: steadier than throughput on a noisy shared machine.
    cpuMs: (sum((r) => r.busyTicks) * 10) / Math.max(measured, 1),
    busy:
      (100 * sum((r) => r.busyTicks)) /
      Math.max(
        sum((r) => r.totalTicks),
        1,
      ),
    nodeShare: (100 * sum((r) => r.appMicros)) / 1e6 / secs, // % of one core used by this process
  };
}

async function main() {
  // BENCH_SOCKET=1: connect (app and pgbench alike) over a Unix-domain socket instead of TCP.
  const bench = await benchDatabase({ socket: process.env.BENCH_SOCKET === "1" });
  const url = bench.url;
  const log = (s: string) => console.log(s);
  try {
    log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
    const db = connectDatabase(url, { max: CONNECTIONS + 4 });
    const { rows } = await db.pool.query(
      "SELECT version(), current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc",
    );
    log(`${String(rows[0].version).split(",")[0]}; fsync=${rows[0].fsync}, synchronous_commit=${rows[0].sc}`);
    log(
      `members ${MEMBERS}, clubs ${CLUBS}, ${WORKERS} concurrent workers, ${SECONDS} s measured after ${WARMUP} s warm-up`,
    );
    await migrateDeploy(url);
    const p = createPayments({
      db: db.prisma,
      pool: db.pool,
      gateway: new UnconfiguredCardGateway(),
      logger: createLogger("silent"),
      timeZone: "Australia/Sydney",
      ledger: { connections: CONNECTIONS, lingerBelow: LINGER_BELOW, lingerMs: LINGER_MS },
    });
    const ids = await seed(db, p);
    // BENCH_BASELINES=0 skips pgbench (quicker runs while tuning the engine; the ratios then read n/a).
    const pgbench = process.env.BENCH_BASELINES === "0" ? null : findPgbench();
    if (pgbench) await setupBaselineTables(db.pool, MEMBERS, CLUBS);
    else if (process.env.BENCH_BASELINES !== "0") {
      log("pgbench not found (it comes with a PostgreSQL server install): baselines skipped");
    }

    const table: string[][] = [];
    const roundLines: string[] = [];
    let failed = false;
    for (const mode of MODES) {
      // Rounds of service, 5-statement and 1-statement runs in turn, so all three see the same machine: on a
      // shared machine, conditions drift more between consecutive 15-s runs than within a round.
      const seconds = Math.max(1, Math.round(SECONDS / ROUNDS));
      const o = { mode, clients: WORKERS, seconds, members: MEMBERS, clubs: CLUBS };
      const rounds: ServiceRound[] = [];
      const fives: number[] = [];
      const ones: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        rounds.push(await runService(p, mode, ids, seconds, r === 0 ? WARMUP : 1));
        if (pgbench) {
          fives.push(runPgbench(pgbench, url, { ...o, kind: "five" }).tps);
          ones.push(runPgbench(pgbench, url, { ...o, kind: "one" }).tps);
        }
      }
      const ours = combine(rounds);
      await db.pool.query("CHECKPOINT");
      const bad = await db.pool.query("SELECT rule, subject FROM ledger_violations() LIMIT 5");
      const neg = await db.pool.query(
        "SELECT count(*)::int AS n FROM accounts WHERE kind <> 'SYSTEM' AND balance_cents < 0",
      );
      const problems = [
        ...bad.rows.map((r) => `${r.rule} (${r.subject})`),
        ...(neg.rows[0].n ? ["negative balances"] : []),
      ];
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const five = pgbench ? { tps: mean(fives) } : null;
      const one = pgbench ? { tps: mean(ones) } : null;
      if (pgbench) {
        problems.push(...(await verifyBaselineTables(db.pool, MEMBERS)));
        const perRound = rounds.map((r, i) => {
          const tps = r.measured / r.secs;
          return `${tps.toFixed(0)}/s ${(tps / fives[i]!).toFixed(2)}× ${(tps / ones[i]!).toFixed(2)}×`;
        });
        roundLines.push(`${mode} rounds (service, vs 5-stmt, vs 1-stmt): ${perRound.join(" | ")}`);
      }
      failed ||= problems.length > 0;
      const ratio = (b: { tps: number } | null) => (b ? `${(ours.tps / b.tps).toFixed(2)}×` : "n/a");
      table.push([
        mode,
        `${ours.tps.toFixed(0)}/s`,
        `${ours.p50.toFixed(1)} / ${ours.p99.toFixed(1)} ms`,
        `${ours.cpuMs.toFixed(2)} ms (${ours.busy.toFixed(0)} %, app ${ours.nodeShare.toFixed(0)} %)`,
        five ? `${five.tps.toFixed(0)}/s` : "n/a",
        one ? `${one.tps.toFixed(0)}/s` : "n/a",
        ratio(five),
        ratio(one),
        problems.length ? `BROKEN: ${problems.join("; ")}` : `ok (${ours.refused} refused)`,
      ]);
    }
    const head = [
      "mode",
      "service layer",
      "p50 / p99",
      "CPU/payment (machine busy, app of a core)",
      "pgbench 5-stmt",
      "pgbench 1-stmt",
      "vs 5-stmt",
      "vs 1-stmt",
      "invariants",
    ];
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ");
    log("");
    log(line(head));
    for (const r of table) log(line(r));
    if (roundLines.length) log(`\n${roundLines.join("\n")}`);
    log("\ngoals: ≥ 1.0× the 5-statement baseline and ≥ 0.5× the single-statement baseline in both modes");
    await p.ledger.close();
    await db.close();
    if (failed) process.exitCode = 1;
  } finally {
    await bench.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
