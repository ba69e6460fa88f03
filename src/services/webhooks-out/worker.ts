// The webhook worker: pg-boss (its own schema, "pgboss", in the app's PostgreSQL; no second datastore) runs the
// delivery jobs, and a small loop runs the outbox dispatcher. Both survive a database restart: pg-boss reports
// its pool's errors as "error" events (logged here; an unhandled one would crash the process) and keeps polling,
// and the dispatcher loop logs a failed round and tries again on the next tick.

import type pg from "pg";
import PgBoss from "pg-boss";
import type { Logger } from "../../lib/logger";
import { retryOnDeadlock } from "../jobs/deadlock-retry";
import { attemptDelivery } from "./deliver-job";
import { DELIVERY_QUEUE, type DeliveryJobData, dispatchPending } from "./dispatcher";
import { DEFAULT_SCHEDULE, type RetrySchedule } from "./retry-schedule";

export interface WebhookWorkerOptions {
  connectionString: string;
  /** The app's pool: the outbox tables and the dispatcher's transactions. */
  pool: pg.Pool;
  logger: Logger;
  /** WEBHOOK_ALLOW_PRIVATE: deliver to private and loopback addresses. */
  allowPrivate: boolean;
  /** Retry schedule of new jobs; default: exponential backoff over about 3 days. */
  schedule?: RetrySchedule;
  /** Deadline of one HTTP attempt; default 10 s. */
  timeoutMs?: number;
  /** How often the dispatcher looks for new events; default 1 s. */
  dispatchIntervalMs?: number;
  /** How often an idle delivery worker polls for jobs; default 2 s (pg-boss minimum 0.5). */
  pollingIntervalSeconds?: number;
  /** Deliveries attempted at once; default 4. */
  concurrency?: number;
}

export interface WebhookWorker {
  /** Runs the dispatcher now (e.g. right after recording events) instead of waiting for its next tick. */
  dispatchNow(): Promise<void>;
  stop(): Promise<void>;
}

export async function startWebhookWorker(o: WebhookWorkerOptions): Promise<WebhookWorker> {
  const schedule = o.schedule ?? DEFAULT_SCHEDULE;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const log = o.logger.child({ component: "webhooks-out" });
  const boss = new PgBoss({
    connectionString: o.connectionString,
    max: 3,
    application_name: "bridge-webhooks",
    schedule: false, // no cron jobs here; maintenance (expiring stuck jobs, archiving) still runs
  });
  boss.on("error", (err) => log.warn({ err }, "webhook queue: database error (retrying)"));
  await boss.start();
  // An attempt that hangs past its deadline plus a margin is expired by pg-boss and counts as a failure.
  const queue = { name: DELIVERY_QUEUE, ...schedule, expireInSeconds: Math.ceil(timeoutMs / 1000) + 30 };
  await retryOnDeadlock(() => boss.createQueue(DELIVERY_QUEUE, queue));
  await retryOnDeadlock(() => boss.updateQueue(DELIVERY_QUEUE, queue));

  const deps = { pool: o.pool, logger: log, timeoutMs, allowPrivate: o.allowPrivate };
  const workOptions = {
    batchSize: 1,
    includeMetadata: true as const,
    pollingIntervalSeconds: o.pollingIntervalSeconds ?? 2,
  };
  for (let i = 0; i < (o.concurrency ?? 4); i++) {
    await boss.work<DeliveryJobData>(DELIVERY_QUEUE, workOptions, async ([job]) => {
      if (job) await attemptDelivery(deps, job);
    });
  }

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const round = async () => {
    try {
      for (let r = 0; r < 50; r++) {
        const { more } = await dispatchPending(o.pool, boss);
        if (!more || stopped) break;
      }
    } catch (err) {
      log.warn({ err }, "webhook dispatcher: round failed (retrying)");
    }
  };
  const dispatchNow = () => {
    running = running.then(round);
    return running;
  };
  const tick = () => {
    if (stopped) return;
    void dispatchNow().then(() => {
      if (!stopped) timer = setTimeout(tick, o.dispatchIntervalMs ?? 1000);
    });
  };
  tick();

  return {
    dispatchNow,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      await running;
      // Graceful: attempts in flight finish (each is bounded by its deadline) before the pool closes.
      await boss.stop({ graceful: true, wait: true, timeout: timeoutMs + 5_000 });
    },
  };
}
