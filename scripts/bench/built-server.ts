// The built server (`node dist/server.js`, plain Node, NODE_ENV=production) in its own process for the HTTP and
// memory benchmarks, on a database the benchmark has migrated. Production requires Stripe keys: well-formed test
// keys serve, as no benchmarked request calls Stripe; the webhook secret is what signed events are checked with.
// With `probe`, a small preload (memory-probe.mjs) answers the process's own memory figures over IPC after a
// full garbage collection, so a figure is what the process retains rather than where its GC happened to be.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../src/infra/postgres/binaries";
import { projectRoot } from "../../src/lib/paths";

export const BENCH_WEBHOOK_SECRET = "whsec_benchmarkbuiltserver";

export interface MemoryFigures {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** V8 heap space → [size, used], bytes. */
  spaces: Record<string, [number, number]>;
}

export interface BuiltServer {
  base: string;
  pid: number;
  /** RSS of the process now, from /proc (no GC first). */
  rss(): number;
  /** process.memoryUsage() inside the server after a full GC (only with `probe`). */
  memory(): Promise<MemoryFigures>;
  /** Writes a heap snapshot inside the server (only with `probe`); answers its path. */
  heapSnapshot(dir: string): Promise<string>;
  stop(): Promise<void>;
}

const SERVER = path.join(projectRoot, "dist", "server.js");
const PROBE = path.join(projectRoot, "scripts", "bench", "memory-probe.mjs");

export async function startBuiltServer(
  url: string,
  opts: { probe?: boolean; nodeArgs?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<BuiltServer> {
  if (!fs.existsSync(SERVER)) throw new Error("dist/server.js is missing: run `npm run build` first");
  const port = await freePort();
  const profile = process.env.BENCH_PROFILE_DIR
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];
  const probe = opts.probe ? ["--expose-gc", "--import", PROBE] : [];
  const proc: ChildProcess = spawn(process.execPath, [...profile, ...probe, ...(opts.nodeArgs ?? []), SERVER], {
    cwd: projectRoot,
    env: {
      ...process.env,
      NODE_OPTIONS: undefined, // plain node: no loader from the environment
      NODE_ENV: "production",
      DATABASE_URL: url,
      HOST: "127.0.0.1",
      PORT: String(port),
      SESSION_SECRET: randomUUID() + randomUUID(),
      APP_ENCRYPTION_KEY: randomUUID() + randomUUID(),
      STRIPE_SECRET_KEY: "sk_test_benchmarkbuiltserver",
      STRIPE_PUBLISHABLE_KEY: "pk_test_benchmarkbuiltserver",
      STRIPE_WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET,
      MIGRATE_ON_START: "false",
      DEMO_DATA: "false",
      LOG_LEVEL: process.env.BENCH_SERVER_LOG_LEVEL ?? "info",
      // As the Dockerfile and `npm run start:prod` run it (argon2's blocks are given back after each sign-in).
      MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? "131072",
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "pipe", ...(opts.probe ? (["ipc"] as const) : [])],
  });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const base = `http://127.0.0.1:${port}`;
  await untilReady(proc, base);

  let asked = 0;
  const ask = <T>(msg: Record<string, unknown>) =>
    new Promise<T>((resolve, reject) => {
      if (!proc.send) return reject(new Error("the server was started without the memory probe"));
      const id = ++asked;
      const onMessage = (m: { id: number; result?: T; error?: string }) => {
        if (m.id !== id) return;
        proc.off("message", onMessage);
        if (m.error) reject(new Error(m.error));
        else resolve(m.result as T);
      };
      proc.on("message", onMessage);
      proc.send({ ...msg, id });
    });

  return {
    base,
    pid: proc.pid!,
    rss: () => {
      const kb = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${proc.pid}/status`, "utf8"))?.[1];
      return Number(kb ?? 0) * 1024;
    },
    memory: () => ask<MemoryFigures>({ op: "memory" }),
    heapSnapshot: (dir) => ask<string>({ op: "snapshot", dir }),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await exited;
    },
  };
}

/** Waits until a spawned server answers /readyz; its start-up output is in the error when it exits or never does. */
export async function untilReady(proc: ChildProcess, base: string) {
  let out = "";
  const keep = (d: Buffer) => {
    if (out.length < 100_000) out += d; // start-up output, for the error below; the request log is dropped
  };
  proc.stdout!.on("data", keep);
  proc.stderr!.on("data", keep);
  for (let waited = 0; ; waited += 200) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${out}`);
    if (waited > 120_000) throw new Error(`server did not start:\n${out}`);
    if (
      await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** "machine: 2 × <cpu>, 24 GiB" for the head of a benchmark's output. */
export const machine = () =>
  `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`;

/** The load average (1, 5, 15 minutes): the machine may be shared, so figures are read beside it. */
export const loadAverage = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

/** Megabytes (MiB), one decimal. */
export const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
