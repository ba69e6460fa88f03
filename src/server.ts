// Entry point of `npm start` (and, built, of `node dist/server.js`): validate configuration, get a database (the
// embedded one unless DATABASE_URL is set), apply migrations (or, with MIGRATE_ON_START=false, check they were
// applied), add demo data to an empty database, serve, and shut everything down cleanly on Ctrl-C or SIGTERM
// (requests in flight finish first, for at most SHUTDOWN_TIMEOUT_SECONDS). The demo logins and the address come
// last at start-up, so they are what the terminal shows.
import type { Server } from "node:http";
import dotenv from "dotenv";
import nodemailer from "nodemailer";
import { createApp } from "./app";
import { ConfigError, loadConfig } from "./config";
import { connectDatabase } from "./db/client";
import { prepareSchema } from "./db/migrate";
import { type LocalDatabase, localSecret, openLocalDatabase } from "./infra/local-database";
import { createLogger } from "./lib/logger";
import { createSecretBox } from "./services/two-factor/secret-box";
import { seedDemoActivity } from "./services/demo/seed-activity";
import { DEMO_LOGINS, DEMO_PASSWORD, hasDemoLogins, seedDemoData } from "./services/demo/seed-demo";
import { createMailer } from "./services/notifications/mailer";
import { createPayments, type Payments } from "./services/payments/context";
import { type CardProcessor, startCardProcessor } from "./services/stripe/card-processor";
import { startWebhookWorker, type WebhookWorker } from "./services/webhooks-out/worker";
import { drainServer } from "./web/drain";

dotenv.config({ quiet: true });

let local: LocalDatabase | null = null;
let cards: CardProcessor | null = null;
let mailer: ReturnType<typeof createMailer> | null = null;
let webhooks: WebhookWorker | null = null;

async function main() {
  let config: ReturnType<typeof loadConfig>;
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
  const say = (msg: string) => logger.info(msg);

  let server: Server | null = null;
  let app: ReturnType<typeof createApp> | null = null;
  let database: ReturnType<typeof connectDatabase> | null = null;
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
    await mailer?.stop().catch(() => {});
    await webhooks?.stop().catch(() => {});
    await cards?.close().catch(() => {});
    await payments?.ledger.close().catch(() => {});
    await database?.close().catch(() => {});
    await local?.stop();
    process.exit();
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));

  if (!config.DATABASE_URL) local = await openLocalDatabase(config.DATA_DIR, say);
  const url = config.DATABASE_URL ?? local!.url;
  await prepareSchema(url, config.MIGRATE_ON_START);
  database = connectDatabase(url);
  const sessionSecret = config.SESSION_SECRET ?? localSecret(config.DATA_DIR, "session-secret");
  const encryptionKey = config.APP_ENCRYPTION_KEY ?? localSecret(config.DATA_DIR, "encryption-key");
  const appHost = config.HOST === "0.0.0.0" ? "127.0.0.1" : config.HOST;
  cards = await startCardProcessor(config, `http://${appHost}:${config.PORT}`);
  if (cards.emulator) say(`No Stripe keys configured: using the local Stripe emulator on ${cards.emulator.url}`);
  payments = createPayments({
    db: database.prisma,
    pool: database.pool,
    gateway: cards.gateway,
    logger,
    timeZone: config.TIME_ZONE,
  });
  if (config.DEMO_DATA) {
    const seeded = await seedDemoData(database.prisma, createSecretBox(encryptionKey));
    if (seeded) {
      await seedDemoActivity(payments);
      say("Demo data added");
    }
  }
  const showLogins = config.DEMO_DATA && (await hasDemoLogins(database.prisma));
  app = createApp({ config, database, logger, sessionSecret, encryptionKey, payments, draining: () => stopping });
  if (config.SMTP_URL) {
    mailer = createMailer({
      pool: database.pool,
      transport: nodemailer.createTransport(config.SMTP_URL),
      from: config.MAIL_FROM,
      publicUrl: config.PUBLIC_URL ?? `http://localhost:${config.PORT}`,
      logger,
    });
    mailer.start();
  } else {
    say("SMTP_URL not set: e-mails are not sent; members read them on their Messages page");
  }
  if (config.WEBHOOK_WORKER) {
    webhooks = await startWebhookWorker({
      connectionString: url,
      pool: database.pool,
      logger,
      allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
      timeoutMs: config.WEBHOOK_TIMEOUT_SECONDS * 1000,
    });
  }
  server = app.listen(config.PORT, config.HOST, () => {
    if (showLogins) {
      const lines = DEMO_LOGINS.map((l) => `  ${l.role.padEnd(28)} ${l.email.padEnd(36)} ABF ${l.systemNumber}`);
      console.log(
        `\nDemo logins. Every demo login uses the password "${DEMO_PASSWORD}" (unless changed since).\n` +
          "Staff then give a two-factor code: `npm run admin -- demo-code --user <e-mail>` prints the current one.\n" +
          `${lines.join("\n")}\n`,
      );
    }
    say(`Bridge Credits is serving on http://${config.HOST === "0.0.0.0" ? "localhost" : config.HOST}:${config.PORT}`);
  });
  server.on("error", (err) => {
    logger.fatal({ err }, "cannot listen");
    process.exitCode = 1;
    void shutdown("listen error");
  });
}

main().catch(async (err) => {
  console.error(err instanceof Error ? err.message : err);
  await local?.stop();
  process.exit(1);
});
