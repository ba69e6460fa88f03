// A store for express-rate-limit kept in PostgreSQL, so that every app process (WEB_CONCURRENCY workers, or
// several containers on one database) counts against the same limit; an in-memory store would let a client make
// N times the limit by landing on N processes. Fixed windows, one upsert per counted request on an UNLOGGED table
// (no WAL flush), the row lock of the upsert making concurrent increments of one key exact.
import { createHash } from "node:crypto";
import type { ClientRateLimitInfo, IncrementResponse, Options, Store } from "express-rate-limit";
import type pg from "pg";

/** Expired counters are swept now and then by the request that happens to draw it (about one in `SWEEP_EVERY`). */
const SWEEP_EVERY = 500;

/** A counter's row key: the limiter's prefix and a SHA-256 of its key (see PgRateLimitStore.rowKey). */
export const rateLimitRowKey = (prefix: string, key: string) =>
  prefix + createHash("sha256").update(key, "utf8").digest("hex");

export class PgRateLimitStore implements Store {
  readonly localKeys = false;
  private windowMs = 60_000;

  constructor(
    private readonly pool: pg.Pool,
    /** Keeps limiters apart in the one table ("api:", "login-account:", …). */
    readonly prefix: string,
  ) {}

  /**
   * The row's key: the prefix and a SHA-256 of the limiter's key. Keys carry what a client typed (the sign-in
   * identifier), and PostgreSQL text cannot hold every string (a NUL byte is refused, which answered 500);
   * hashed, any input is a fixed-length key and a long one cannot bloat the table.
   */
  private rowKey(key: string) {
    return rateLimitRowKey(this.prefix, key);
  }

  init(options: Options) {
    this.windowMs = options.windowMs;
  }

  async increment(key: string): Promise<IncrementResponse> {
    const { rows } = await this.pool.query<{ hits: number; reset_at: Date }>(
      `INSERT INTO rate_limit_hits AS h (key, hits, reset_at)
       VALUES ($1, 1, now() + $2 * interval '1 millisecond')
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN h.reset_at <= now() THEN 1 ELSE h.hits + 1 END,
         reset_at = CASE WHEN h.reset_at <= now() THEN EXCLUDED.reset_at ELSE h.reset_at END
       RETURNING hits, reset_at`,
      [this.rowKey(key), this.windowMs],
    );
    if (Math.random() * SWEEP_EVERY < 1) {
      this.pool.query("DELETE FROM rate_limit_hits WHERE reset_at < now() - interval '1 hour'").catch(() => {});
    }
    return { totalHits: rows[0]!.hits, resetTime: rows[0]!.reset_at };
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const { rows } = await this.pool.query<{ hits: number; reset_at: Date }>(
      "SELECT hits, reset_at FROM rate_limit_hits WHERE key = $1 AND reset_at > now()",
      [this.rowKey(key)],
    );
    return rows[0] ? { totalHits: rows[0].hits, resetTime: rows[0].reset_at } : undefined;
  }

  async decrement(key: string): Promise<void> {
    await this.pool.query(
      "UPDATE rate_limit_hits SET hits = greatest(hits - 1, 0) WHERE key = $1 AND reset_at > now()",
      [this.rowKey(key)],
    );
  }

  async resetKey(key: string): Promise<void> {
    await this.pool.query("DELETE FROM rate_limit_hits WHERE key = $1", [this.rowKey(key)]);
  }
}
