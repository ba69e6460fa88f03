// pg-boss creates a queue in one transaction that inserts the queue's row and then adds foreign keys to the queue
// table and attaches a partition to the job table. Two of those for different queues at once lock the same tables
// in opposite orders, and PostgreSQL ends one as a deadlock victim (40P01): two app processes (or containers)
// starting together on a fresh database made one of them exit. The victim's transaction rolled back whole and
// creating a queue is idempotent (ON CONFLICT DO NOTHING), so it is simply run again.
const DEADLOCK = "40P01";

export async function retryOnDeadlock<T>(run: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      if (attempt >= attempts || (e as { code?: unknown } | null)?.code !== DEADLOCK) throw e;
      // A little apart, so the processes that collided do not collide again.
      await new Promise((r) => setTimeout(r, 10 * attempt + Math.random() * 40));
    }
  }
}
