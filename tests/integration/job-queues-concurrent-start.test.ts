// Two app processes (or containers) starting at once on a fresh database: each starts its scheduler and its
// outbound webhook worker, and each of those creates its pg-boss queues. pg-boss creates a queue in a transaction
// that locks its queue table and job table in an order that deadlocks against another queue being created at
// the same moment; one process exited with "deadlock detected" (seen in the two-process test). Creating a queue
// is retried when PostgreSQL picks it as the deadlock victim (src/services/jobs/deadlock-retry.ts).
import { createLogger } from "../../src/lib/logger";
import { startScheduler } from "../../src/services/jobs/scheduler";
import { startWebhookWorker } from "../../src/services/webhooks-out/worker";
import { createTestDatabase } from "../helpers/db";

const logger = createLogger("silent");

test.each([1, 2, 3])("round %i: four job runners start together on a fresh database", async () => {
  const db = await createTestDatabase({ max: 4 });
  try {
    const jobs = ["first", "second", "third"].map((name) => ({ name, cron: "0 0 1 1 *", run: async () => null }));
    const started = await Promise.allSettled([
      startScheduler({ connectionString: db.url, logger, jobs }),
      startWebhookWorker({ connectionString: db.url, pool: db.pool, logger, allowPrivate: true }),
      startScheduler({ connectionString: db.url, logger, jobs: [...jobs].reverse() }),
      startWebhookWorker({ connectionString: db.url, pool: db.pool, logger, allowPrivate: true }),
    ]);
    await Promise.all(started.map((s) => (s.status === "fulfilled" ? s.value.stop() : null)));
    expect(
      started.filter((s) => s.status === "rejected").map((s) => String((s as PromiseRejectedResult).reason)),
    ).toEqual([]);
    const { rows } = await db.pool.query<{ name: string }>(
      "SELECT name FROM pgboss.queue WHERE name NOT LIKE '\\_\\_pgboss%' ORDER BY name",
    );
    expect(rows.map((r) => r.name)).toEqual(["first", "second", "third", "webhook-delivery"]);
  } finally {
    await db.drop();
  }
});
