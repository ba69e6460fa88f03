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
// Then the same payments over HTTP (POST /api/v1/charges, autocannon) against 1 app process and against a
// WEB_CONCURRENCY=2 cluster (2 app processes behind one port), in alternating rounds, printed beside each other
// and the service layer: BENCH_HTTP=0 skips it, BENCH_HTTP_CONNECTIONS (16), BENCH_HTTP_SECONDS (10 per mode and
// kind). Figures and what they mean for one PostgreSQL: docs/scaling.md.

import os from "node:os";
import { connectDatabase } from "../src/db/client";
import { migrateDeploy } from "../src/db/migrate";
import { createApiKey } from "../src/services/api/keys";
import { cliActor } from "../src/services/audit/record";
import { benchDatabase } from "./bench/bench-database";
import { benchPayments } from "./bench/bench-payments-core";
import { type ApiRound, runApi, startServer, stopServer } from "./bench/http-load";
import { findPgbench, runPgbench, setupBaselineTables, verifyBaselineTables } from "./bench/pgbench-baselines";
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
const WORKERS = envNumber("BENCH_WORKERS", 16);
const SECONDS = envNumber("BENCH_SECONDS", 15);
const WARMUP = envNumber("BENCH_WARMUP", 3);
const CONNECTIONS = envNumber("BENCH_CONNECTIONS", 2);
const LINGER_BELOW = envNumber("BENCH_LINGER_BELOW", 8);
const LINGER_MS = envNumber("BENCH_LINGER_MS", 1);
const ROUNDS = envNumber("BENCH_ROUNDS", 3);
const MODES = benchModes();
const HTTP = process.env.BENCH_HTTP !== "0";
const HTTP_CONNECTIONS = envNumber("BENCH_HTTP_CONNECTIONS", 16);
const HTTP_SECONDS = envNumber("BENCH_HTTP_SECONDS", 10);

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
    const p = benchPayments(db, { connections: CONNECTIONS, lingerBelow: LINGER_BELOW, lingerMs: LINGER_MS });
    const ids = await seed(db, p, MEMBERS, CLUBS);
    // BENCH_BASELINES=0 skips pgbench (quicker runs while tuning the engine; the ratios then read n/a).
    const pgbench = process.env.BENCH_BASELINES === "0" ? null : findPgbench();
    if (pgbench) await setupBaselineTables(db.pool, MEMBERS, CLUBS);
    else if (process.env.BENCH_BASELINES !== "0") {
      log("pgbench not found (it comes with a PostgreSQL server install): baselines skipped");
    }

    const table: string[][] = [];
    const serviceTps = new Map<string, number>();
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
        rounds.push(await runService(p, mode, ids, seconds, r === 0 ? WARMUP : 1, WORKERS));
        if (pgbench) {
          fives.push(runPgbench(pgbench, url, { ...o, kind: "five" }).tps);
          ones.push(runPgbench(pgbench, url, { ...o, kind: "one" }).tps);
        }
      }
      const ours = combine(rounds);
      serviceTps.set(mode, ours.tps);
      const problems = await ledgerProblems(db.pool);
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
    if (HTTP) failed = (await httpProcesses(url, db, serviceTps, log)) || failed;
    await p.ledger.close();
    await db.close();
    if (failed) process.exitCode = 1;
  } finally {
    await bench.stop();
  }
}

/**
 * POST /api/v1/charges against one app process and against two (WEB_CONCURRENCY=2), alternating rounds on the
 * same database; answers whether something broke.
 */
async function httpProcesses(
  url: string,
  db: ReturnType<typeof connectDatabase>,
  serviceTps: Map<string, number>,
  log: (s: string) => void,
): Promise<boolean> {
  const { secret } = await createApiKey(
    db.prisma,
    { name: "benchmark", organisationId: null, scopes: ["charges:write"], live: false },
    cliActor(),
  );
  const servers = [
    await startServer(url, { members: MEMBERS, clubs: CLUBS, workers: 1 }),
    await startServer(url, { members: MEMBERS, clubs: CLUBS, workers: 2 }),
  ];
  let failed = false;
  try {
    log(
      `\nover HTTP: POST /api/v1/charges, ${HTTP_CONNECTIONS} connections, ${HTTP_SECONDS} s per mode and kind, ` +
        "1 app process vs 2 (WEB_CONCURRENCY=2) in alternating rounds",
    );
    const table: string[][] = [];
    for (const mode of MODES) {
      const seconds = Math.max(1, Math.round(HTTP_SECONDS / ROUNDS));
      const runs: ApiRound[][] = [[], []];
      for (const s of servers) await runApi(s, secret, mode, WARMUP, HTTP_CONNECTIONS);
      for (let r = 0; r < ROUNDS; r++) {
        for (const [i, s] of servers.entries()) runs[i]!.push(await runApi(s, secret, mode, seconds, HTTP_CONNECTIONS));
      }
      const tps = (rs: ApiRound[]) => rs.reduce((a, r) => a + r.created, 0) / rs.reduce((a, r) => a + r.secs, 0);
      const p99 = (rs: ApiRound[]) => Math.max(...rs.map((r) => r.p99));
      const errors = runs.flat().reduce((a, r) => a + r.errors, 0);
      const problems = await ledgerProblems(db.pool);
      if (errors) problems.push(`${errors} failed requests`);
      failed ||= problems.length > 0;
      const [one, two] = [tps(runs[0]!), tps(runs[1]!)];
      table.push([
        mode,
        `${(serviceTps.get(mode) ?? 0).toFixed(0)}/s`,
        `${one.toFixed(0)}/s (p99 ${p99(runs[0]!).toFixed(0)} ms)`,
        `${two.toFixed(0)}/s (p99 ${p99(runs[1]!).toFixed(0)} ms)`,
        `${(two / one).toFixed(2)}×`,
        problems.length ? `BROKEN: ${problems.join("; ")}` : "ok",
      ]);
    }
    const head = ["mode", "service layer", "HTTP, 1 process", "HTTP, 2 processes", "2 ÷ 1", "invariants"];
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ");
    log(line(head));
    for (const r of table) log(line(r));
    log(`(${os.cpus().length} cores: a second process helps only while the app, not PostgreSQL, is the bottleneck)`);
  } finally {
    for (const s of servers) await stopServer(s.proc);
  }
  return failed;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
