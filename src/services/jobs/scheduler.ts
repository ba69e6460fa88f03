// Scheduled jobs on pg-boss (its own schema in the app's PostgreSQL; no second datastore). pg-boss sends each
// schedule's job at most once per cron tick whatever the number of processes scheduling it, and one worker takes
// each job; the jobs themselves are also safe to run twice at once (they claim their rows with SKIP LOCKED).
// Schedules: checkout expiry (api/checkout-expiry.ts), every minute.
import PgBoss from "pg-boss";
import type { Logger } from "../../lib/logger";
import { retryOnDeadlock } from "./deadlock-retry";

export interface ScheduledJob {
  /** The pg-boss queue's name. */
  name: string;
  /** Cron expression (pg-boss: minute resolution). */
  cron: string;
  run: () => Promise<unknown>;
}

export interface Scheduler {
  /** Sends a job of `name` now (it runs on whichever process's worker takes it first). */
  runNow(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startScheduler(o: {
  connectionString: string;
  logger: Logger;
  jobs: ScheduledJob[];
  /** How often an idle worker polls for jobs; default 10 s. */
  pollingIntervalSeconds?: number;
}): Promise<Scheduler> {
  const log = o.logger.child({ component: "scheduler" });
  const boss = new PgBoss({ connectionString: o.connectionString, max: 2, application_name: "bridge-scheduler" });
  boss.on("error", (err) => log.warn({ err }, "scheduler: database error (retrying)"));
  await boss.start();
  for (const job of o.jobs) {
    // A run that fails is logged; the next tick runs it again (no retries piling up behind it).
    await retryOnDeadlock(() => boss.createQueue(job.name, { name: job.name, retryLimit: 0, expireInSeconds: 300 }));
    await boss.schedule(job.name, job.cron);
    await boss.work(job.name, { pollingIntervalSeconds: o.pollingIntervalSeconds ?? 10 }, async () => {
      try {
        const result = await job.run();
        log.debug({ job: job.name, result }, "scheduled job done");
      } catch (err) {
        log.error({ err, job: job.name }, "scheduled job failed");
        throw err;
      }
    });
  }
  return {
    runNow: async (name) => {
      await boss.send(name, {});
    },
    stop: () => boss.stop({ graceful: true, wait: true, timeout: 10_000 }),
  };
}
