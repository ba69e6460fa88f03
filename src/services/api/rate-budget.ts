// The per-key API rate limit without a database round trip per call. The count is kept in PostgreSQL
// (rate_limit_hits, fixed windows of one minute from a key's first call), so every app process counts against
// the same limit; but a process takes its budget from that shared counter in chunks (limit ÷ 20, between 1 and
// 100 calls) and spends it locally, asking again only once the chunk is spent.
//
// Semantics kept: a key never gets more than `limit` calls in a window, whatever the number of processes (every
// call spends budget the shared counter granted). It may get fewer: budget a process took but did not spend
// before the window ended is lost, so with P processes a key can be refused up to P × (chunk − 1) calls early
// (≤ 5 % of the limit per process). With a limit under 40 the chunk is 1 and the count is exact. A refused call
// learns when the window resets (Retry-After); once the shared counter answers "nothing left", the process
// refuses that key locally until the reset, without asking again.
import type pg from "pg";
import { rateLimitRowKey } from "../../web/shared-rate-limit";

interface Budget {
  remaining: number;
  /** Date.now() at which the window resets. */
  resetAt: number;
  /** The shared counter had nothing left for this window. */
  exhausted: boolean;
  fetching: Promise<void> | null;
}

/** Local budgets kept before old ones are dropped (a dropped budget's unspent calls are lost, never added). */
const MAX_KEYS = 10_000;

export class RateBudget {
  readonly chunk: number;
  private readonly budgets = new Map<string, Budget>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly prefix: string,
    readonly limit: number,
    private readonly windowMs = 60_000,
  ) {
    this.chunk = Math.max(1, Math.min(100, Math.floor(limit / 20)));
  }

  /** Spends one call of `key`'s budget: null when it may go ahead, else the milliseconds until the window resets. */
  async take(key: string): Promise<number | null> {
    for (;;) {
      const now = Date.now();
      let b = this.budgets.get(key);
      if (b && b.resetAt <= now && !b.fetching) b = undefined; // that window is over
      if (b && !b.fetching) {
        if (b.remaining > 0) {
          b.remaining--;
          return null;
        }
        if (b.exhausted) return b.resetAt - now;
      }
      if (b?.fetching) {
        await b.fetching;
        continue;
      }
      const next: Budget = b ?? { remaining: 0, resetAt: 0, exhausted: false, fetching: null };
      if (!b) {
        if (this.budgets.size >= MAX_KEYS) this.budgets.clear();
        this.budgets.set(key, next);
      }
      next.fetching = this.fetch(key, next).finally(() => {
        next.fetching = null;
      });
      await next.fetching;
    }
  }

  /** Takes a chunk from the shared counter (counted whether or not granted, as a refused call was before). */
  private async fetch(key: string, b: Budget) {
    const { rows } = await this.pool.query<{ hits: number; reset_in_ms: number }>(
      `INSERT INTO rate_limit_hits AS h (key, hits, reset_at)
       VALUES ($1, $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN h.reset_at <= now() THEN $2 ELSE h.hits + $2 END,
         reset_at = CASE WHEN h.reset_at <= now() THEN EXCLUDED.reset_at ELSE h.reset_at END
       RETURNING hits, (extract(epoch FROM reset_at - now()) * 1000)::float8 AS reset_in_ms`,
      [rateLimitRowKey(this.prefix, key), this.chunk, this.windowMs],
    );
    const { hits, reset_in_ms } = rows[0]!;
    const granted = Math.max(0, Math.min(this.chunk, this.limit - (hits - this.chunk)));
    // The database's clock says how long the window has left; our own clock times it from here.
    b.resetAt = Date.now() + Math.max(1, reset_in_ms);
    b.remaining = granted;
    b.exhausted = granted === 0;
  }
}
