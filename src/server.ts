// Entry point of `npm start` (and, built, of `node dist/server.js`): validate configuration, get a database (the
// embedded one unless DATABASE_URL is set), apply migrations (or, with MIGRATE_ON_START=false, check they were
// applied), add demo data to an empty database, serve, and shut everything down cleanly on Ctrl-C or SIGTERM
// (requests in flight finish first, for at most SHUTDOWN_TIMEOUT_SECONDS). The demo logins and the address come
// last at start-up, so they are what the terminal shows.
//
// With WEB_CONCURRENCY=N (> 1) this process becomes a node:cluster primary (cluster/primary.ts) that does the
// once-per-start work (database, migrations, demo data, the Stripe emulator) and forks N workers, each of which
// runs serve() below on the shared port, skipping what the primary did.
import cluster from "node:cluster";
import type { Server } from "node:http";
import dotenv from "dotenv";
import nodemailer from "nodemailer";
import { createApp } from "./app";
import { runPrimary } from "./cluster/primary";
import { announce, openDatabase, workerRole } from "./cluster/startup";
import { type Config, ConfigError, loadConfig } from "./config";
import { connectDatabase } from "./db/client";
import type { LocalDatabase } from "./infra/local-database";
import { localSecret } from "./infra/local-database";
import { createLogger, type Logger } from "./lib/logger";
import type { ApiServices } from "./services/api/api-services";
import type { ChargeGroupWriter } from "./services/api/charge-group";
import { CHECKOUT_EXPIRY_JOB, expireCheckoutCharges } from "./services/api/checkout-expiry";
import { addDemoData } from "./services/demo/add-demo-data";
import { createMailer } from "./services/notifications/mailer";
import { emailRendererFor } from "./services/notifications/render-email";
import { createPayments, type Payments } from "./services/payments/context";
import { type CardProcessor, startCardProcessor } from "./services/stripe/card-processor";
import { createSecretBox } from "./services/two-factor/secret-box";
import { type Scheduler, startScheduler } from "./services/jobs/scheduler";
import { startWebhookWorker, type WebhookWorker } from "./services/webhooks-out/worker";
import { drainServer } from "./web/drain";

dotenv.config({ quiet: true });

let local: LocalDatabase | null = null;
let cards: CardProcessor | null = null;
let mailer: ReturnType<typeof createMailer> | null = null;
let webhooks: WebhookWorker | null = null;
let scheduler: Scheduler | null = null;

async function serve(config: Config, logger: Logger) {
  const say = (msg: string) => logger.info(msg);
  // In a cluster worker: the primary has opened the database, migrated, seeded and started the emulator.
  const worker = cluster.isWorker ? workerRole() : null;

  let server: Server | null = null;
  let app: ReturnType<typeof createApp> | null = null;
  let database: ReturnType<typeof connectDatabase> | null = null;
  let readDatabase: ReturnType<typeof connectDatabase> | null = null;
  let payments: Payments | null = null;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true; // from here /readyz answers 503
    if (server) {
      say(`${signal} received: finishing requests in flight (at most ${config.SHUTDOWN_TIMEOUT_SECONDS} s)`);
      const { cut } = await drainServer(server, config.SHUTDOWN_TIMEOUT_SECONDS * 1000);
      if (cut) logger.warn("requests still running at the shutdown timeout were cut off");
    }
    say("shutting down");
    await (app?.locals.flushCallLog as (() => Promise<void>) | undefined)?.().catch(() => {});
    await (app?.locals.chargeGroup as ChargeGroupWriter | undefined)?.close().catch(() => {});
    await mailer?.stop().catch(() => {});
    await webhooks?.stop().catch(() => {});
    await scheduler?.stop().catch(() => {});
    await cards?.close().catch(() => {});
    await payments?.ledger.close().catch(() => {});
    await readDatabase?.close().catch(() => {});
    await database?.close().catch(() => {});
    await local?.stop();
    process.exit();
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));

  let url: string;
  if (worker) url = config.DATABASE_URL!;
  else ({ url, local } = await openDatabase(config, say));
  database = connectDatabase(url, { max: config.DATABASE_POOL_MAX });
  if (config.DATABASE_READ_URL) readDatabase = connectDatabase(config.DATABASE_READ_URL, { name: "read" });
  const sessionSecret = config.SESSION_SECRET ?? localSecret(config.DATA_DIR, "session-secret");
  const encryptionKey = config.APP_ENCRYPTION_KEY ?? localSecret(config.DATA_DIR, "encryption-key");
  const appHost = config.HOST === "0.0.0.0" ? "127.0.0.1" : config.HOST;
  cards = await startCardProcessor(config, `http://${appHost}:${config.PORT}`, worker?.emulator);
  if (cards.emulator) say(`No Stripe keys configured: using the local Stripe emulator on ${cards.emulator.url}`);
  payments = createPayments({
    db: database.prisma,
    pool: database.pool,
    read: readDatabase ? { db: readDatabase.prisma, pool: readDatabase.pool } : undefined,
    gateway: cards.gateway,
    logger,
    timeZone: config.TIME_ZONE,
  });
  const showLogins = worker ? false : await addDemoData(config, payments, say, createSecretBox(encryptionKey));
  app = createApp({ config, database, logger, sessionSecret, encryptionKey, payments, draining: () => stopping });
  // The background senders run once per primary (in its first worker) or in the single process; either way a
  // second copy elsewhere (another container) is safe: both claim their work with FOR UPDATE SKIP LOCKED.
  const background = worker?.background ?? true;
  if (config.SMTP_URL && background) {
    mailer = createMailer({
      pool: database.pool,
      transport: nodemailer.createTransport(config.SMTP_URL),
      from: config.MAIL_FROM,
      renderer: emailRendererFor(config),
      logger,
    });
    mailer.start();
  } else if (!config.SMTP_URL && !worker) {
    say("SMTP_URL not set: e-mails are not sent; members read them on their Messages page");
  }
  if (config.WEBHOOK_WORKER && background) {
    webhooks = await startWebhookWorker({
      connectionString: url,
      pool: database.pool,
      logger,
      allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
      timeoutMs: config.WEBHOOK_TIMEOUT_SECONDS * 1000,
    });
  }
  if (background) {
    const api = app.locals.apiServices as ApiServices;
    const maxAgeMs = config.API_CHECKOUT_EXPIRY_HOURS * 3_600_000;
    scheduler = await startScheduler({
      connectionString: url,
      logger,
      jobs: [{ name: CHECKOUT_EXPIRY_JOB, cron: "* * * * *", run: () => expireCheckoutCharges(api, maxAgeMs) }],
    });
  }
  server = app.listen(config.PORT, config.HOST, () => {
    if (worker) say(`worker ${worker.index} (pid ${process.pid}) is listening`);
    else announce(config, showLogins, say);
  });
  server.on("error", (err) => {
    logger.fatal({ err }, "cannot listen");
    process.exitCode = 1;
    void shutdown("listen error");
  });
}

async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(1);
    }
    throw e;
  }
  const logger = createLogger(config.LOG_LEVEL, { pretty: config.NODE_ENV === "development" });
  if (config.WEB_CONCURRENCY > 1 && cluster.isPrimary) return runPrimary(config, logger);
  return serve(config, logger);
}

main().catch(async (err) => {
  console.error(err instanceof Error ? err.message : err);
  await local?.stop();
  process.exit(1);
});
