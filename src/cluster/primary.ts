// WEB_CONCURRENCY=N: the node:cluster primary. It does what must happen once per start — the database (embedded or
// DATABASE_URL), migrations, the development session secret, the Stripe emulator (one, with one state file), demo
// data — then forks N workers that share the port (the primary accepts connections and hands them out round-robin).
// A worker that dies is replaced; SIGTERM/SIGINT is passed to every worker, each drains its requests in flight
// (web/drain.ts, SHUTDOWN_TIMEOUT_SECONDS) and exits, then the primary stops what it started.
import cluster, { type Worker } from "node:cluster";
import type { Config } from "../config";
import { connectDatabase } from "../db/client";
import { type LocalDatabase, localSecret } from "../infra/local-database";
import { createSecretBox } from "../services/two-factor/secret-box";
import type { Logger } from "../lib/logger";
import { addDemoData } from "../services/demo/add-demo-data";
import { createPayments } from "../services/payments/context";
import { type CardProcessor, emulatorAttachment, startCardProcessor } from "../services/stripe/card-processor";
import { announce, openDatabase, WORKER_ENV, type WorkerRole } from "./startup";

/** A worker that dies sooner than this after its start is replaced only after RESTART_DELAY_MS (no busy loop). */
const QUICK_DEATH_MS = 5_000;
const RESTART_DELAY_MS = 2_000;

export async function runPrimary(config: Config, logger: Logger) {
  const say = (msg: string) => logger.info(msg);
  const n = config.WEB_CONCURRENCY;
  const workers = new Map<number, Worker>();
  let local: LocalDatabase | null = null;
  let cards: CardProcessor | null = null;
  let stopping = false;
  let serving = false;

  const shutdown = async (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    say(`${signal} received: stopping ${workers.size} worker(s); each finishes its requests in flight first`);
    const alive = [...workers.values()].filter((w) => !w.isDead());
    const exited = alive.map((w) => new Promise<void>((resolve) => w.once("exit", () => resolve())));
    for (const w of alive) w.process.kill("SIGTERM");
    // Each worker cuts its own requests at SHUTDOWN_TIMEOUT_SECONDS; this only catches one that hangs after that.
    const killer = setTimeout(
      () => {
        for (const w of alive) if (!w.isDead()) w.process.kill("SIGKILL");
      },
      (config.SHUTDOWN_TIMEOUT_SECONDS + 10) * 1000,
    );
    await Promise.all(exited);
    clearTimeout(killer);
    say("shutting down");
    await cards?.close().catch(() => {});
    await local?.stop();
    process.exit(exitCode);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));

  say(`Starting ${n} workers (WEB_CONCURRENCY=${n})`);
  let url: string;
  ({ url, local } = await openDatabase(config, say));
  // Made here, once, so the workers all read the same file rather than race to create it.
  if (!config.SESSION_SECRET) localSecret(config.DATA_DIR, "session-secret");
  const encryptionKey = config.APP_ENCRYPTION_KEY ?? localSecret(config.DATA_DIR, "encryption-key");
  const appHost = config.HOST === "0.0.0.0" ? "127.0.0.1" : config.HOST;
  cards = await startCardProcessor(config, `http://${appHost}:${config.PORT}`);
  if (cards.emulator) say(`No Stripe keys configured: using the local Stripe emulator on ${cards.emulator.url}`);
  let showLogins = false;
  if (config.DEMO_DATA) {
    const database = connectDatabase(url, { max: 2 });
    const payments = createPayments({
      db: database.prisma,
      pool: database.pool,
      gateway: cards.gateway,
      logger,
      timeZone: config.TIME_ZONE,
    });
    try {
      showLogins = await addDemoData(config, payments, say, createSecretBox(encryptionKey));
    } finally {
      await payments.ledger.close();
      await database.close();
    }
  }
  const emulator = cards.emulator ? emulatorAttachment(cards.emulator) : undefined;
  if (!config.SMTP_URL) say("SMTP_URL not set: e-mails are not sent; members read them on their Messages page");

  const listening = new Set<number>();
  const fork = (index: number) => {
    const role: WorkerRole = { index, background: index === 1, emulator };
    const worker = cluster.fork({ DATABASE_URL: url, [WORKER_ENV]: JSON.stringify(role) });
    const startedAt = Date.now();
    workers.set(index, worker);
    worker.once("listening", () => {
      listening.add(index);
      if (!serving && listening.size === n) {
        serving = true;
        announce(config, showLogins, say);
      }
    });
    worker.once("exit", (code, signal) => {
      if (stopping) return;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (!serving) {
        // A worker that cannot start (bad configuration, port taken) would fail again: give up, loudly.
        logger.fatal(`worker ${index} (pid ${worker.process.pid}) exited with ${how} before serving`);
        void shutdown("worker start-up failure", 1);
        return;
      }
      const quick = Date.now() - startedAt < QUICK_DEATH_MS;
      logger.error(`worker ${index} (pid ${worker.process.pid}) exited with ${how}: starting a new one`);
      setTimeout(() => stopping || fork(index), quick ? RESTART_DELAY_MS : 0);
    });
  };
  for (let i = 1; i <= n; i++) fork(i);
}
