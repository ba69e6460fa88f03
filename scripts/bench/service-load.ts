// What the benchmarks share: the seeded members and clubs, payments through the service layer
// (paymentApiBatch) from concurrent workers, the latency and CPU figures, and the ledger checks after a run.
import fs from "node:fs";
import type pg from "pg";
import type { Database } from "../../src/db/client";
import type { Payments } from "../../src/services/payments/context";
import { paymentApiBatch } from "../../src/services/payments/payment-api-batch";

export type Mode = "spread" | "hot";

/** A numeric setting from the environment. */
export const envNumber = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);

/** BENCH_MODES (default both). */
export const benchModes = () =>
  (process.env.BENCH_MODES ?? "spread,hot").split(",").filter((m): m is Mode => m === "spread" || m === "hot");

/** `members` members with $1,000,000 each, and `clubs` clubs (club numbers BENCH1…). */
export async function seed(db: Database, p: Payments, members: number, clubs: number) {
  await db.pool.query(
    `INSERT INTO users (system_number, first_name, last_name, email, password_hash, updated_at)
     SELECT 900000000 + g, 'Bench', 'Member ' || g, 'bench' || g || '@example.test', 'x', now()
       FROM generate_series(1, $1::int) g`,
    [members],
  );
  await db.pool.query(
    `INSERT INTO organisations (club_number, name, updated_at)
     SELECT 'BENCH' || g, 'Bench Club ' || g, now() FROM generate_series(1, $1::int) g`,
    [clubs],
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
export function cpuTicks(): { busy: number; total: number } | null {
  try {
    const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

export function pct(sorted: number[], q: number) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : Number.NaN;
}

let paymentNo = 0; // numbers every payment of the run, so no idempotency key is used twice

export interface ServiceRound {
  measured: number;
  secs: number;
  lat: number[];
  refused: number;
  busyTicks: number;
  totalTicks: number;
  appMicros: number;
}

/** One measured stretch of payments through the service layer, after `warmup` seconds of the same load. */
export async function runService(
  p: Payments,
  mode: Mode,
  ids: { userIds: number[]; orgIds: number[] },
  seconds: number,
  warmup: number,
  workers: number,
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
  const running = Array.from({ length: workers }, worker);
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
  await Promise.all(running);
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
export function combine(rounds: ServiceRound[]) {
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

/** Ledger invariants and negative balances after a run (empty: all is well). */
export async function ledgerProblems(pool: pg.Pool) {
  await pool.query("CHECKPOINT");
  const bad = await pool.query("SELECT rule, subject FROM ledger_violations() LIMIT 5");
  const neg = await pool.query("SELECT count(*)::int AS n FROM accounts WHERE kind <> 'SYSTEM' AND balance_cents < 0");
  return [...bad.rows.map((r) => `${r.rule} (${r.subject})`), ...(neg.rows[0].n ? ["negative balances"] : [])];
}
