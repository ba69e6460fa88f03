// The payments API over HTTP for the benchmarks: the real server spawned as its own process (optionally as a
// WEB_CONCURRENCY=N cluster behind one port), and autocannon driving POST /api/v1/charges at it.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import autocannon from "autocannon";
import { freePort } from "../../src/infra/postgres/binaries";
import { projectRoot } from "../../src/lib/paths";
import type { Mode } from "./service-load";

export const FIRST_MEMBER = 900_000_001; // seed(): members are 900000000 + 1…MEMBERS, clubs BENCH1…BENCHn
const pick = (n: number) => 1 + Math.floor(Math.random() * n);

export interface BenchServer {
  base: string;
  proc: ChildProcess;
  members: number;
  clubs: number;
}

/**
 * The real server in its own process, on this database, answering once it is ready. `workers` > 1: a
 * WEB_CONCURRENCY cluster, ready once every worker serves (the primary says so last).
 */
export async function startServer(
  url: string,
  o: { members: number; clubs: number; workers?: number },
): Promise<BenchServer> {
  const port = await freePort();
  const profile = process.env.BENCH_PROFILE_DIR
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  const proc = spawn(process.execPath, [...profile, "--import", "tsx", "src/server.ts"], {
    cwd: projectRoot,
    env: {
      ...process.env,
      DATABASE_URL: url,
      PORT: String(port),
      STRIPE_EMULATOR_PORT: String(await freePort()),
      // Production-like logging (one JSON line per request) without production's live-Stripe requirement.
      NODE_ENV: "test",
      // A cluster says it is serving (all workers up) at info level.
      LOG_LEVEL: (o.workers ?? 1) > 1 ? "info" : (process.env.BENCH_SERVER_LOG_LEVEL ?? "info"),
      DEMO_DATA: "false",
      MIGRATE_ON_START: "false",
      SESSION_SECRET: randomUUID() + randomUUID(),
      APP_ENCRYPTION_KEY: randomUUID() + randomUUID(),
      // The benchmark is one key sending thousands of calls a second.
      API_RATE_LIMIT_PER_MINUTE: "1000000",
      WEB_CONCURRENCY: String(o.workers ?? 1),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (d: Buffer) => {
    if (out.length < 100_000) out += d; // start-up output, for the error below; the request log is dropped
  };
  proc.stdout!.on("data", keep);
  proc.stderr!.on("data", keep);
  const base = `http://127.0.0.1:${port}`;
  for (let waited = 0; ; waited += 200) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${out}`);
    if (waited > 120_000) throw new Error(`server did not start:\n${out}`);
    const ready =
      (o.workers ?? 1) > 1
        ? out.includes("Bridge Credits is serving on")
        : await fetch(`${base}/readyz`).then(
            (r) => r.ok,
            () => false,
          );
    if (ready) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return { base, proc, members: o.members, clubs: o.clubs };
}

export async function stopServer(proc: ChildProcess) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  await exited;
}

const chargeBody = (s: BenchServer, mode: Mode) =>
  JSON.stringify({
    member: FIRST_MEMBER - 1 + pick(s.members),
    amount: pick(1000),
    currency: "aud",
    description: "Benchmark session",
    organisation: `BENCH${mode === "hot" ? 1 : pick(s.clubs)}`,
  });

export interface ApiRound {
  requests: number;
  created: number;
  secs: number;
  p50: number;
  p99: number;
  errors: number;
}

/** One autocannon run of POST /api/v1/charges; every request has its own Idempotency-Key and body. */
export async function runApi(
  s: BenchServer,
  secret: string,
  mode: Mode,
  seconds: number,
  connections: number,
): Promise<ApiRound> {
  let created = 0;
  const r = await autocannon({
    url: s.base,
    connections,
    duration: seconds,
    requests: [
      {
        method: "POST",
        path: "/api/v1/charges",
        setupRequest: (req) => ({
          ...req,
          headers: {
            "content-type": "application/json",
            authorization: `Bearer ${secret}`,
            "idempotency-key": randomUUID(),
          },
          body: chargeBody(s, mode),
        }),
        onResponse: (status) => {
          if (status === 201) created++;
        },
      },
    ],
  });
  return {
    requests: r.requests.total,
    created,
    secs: r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
  };
}
