// Every API call is written to api_call_log (for the API log page); the key's last-used time is updated by the
// same statement, at most once a minute per key.
import type pg from "pg";
import type { Db } from "../../db/client";
import type { Logger } from "../../lib/logger";

export interface CallRecord {
  apiKeyId: number | null;
  method: string;
  route: string;
  status: number;
  requestId: string;
  idempotencyKey: string | null;
  replayed: boolean;
  durationMs: number;
}

/** Writes calls, many in one statement (one round trip and one commit for the lot). */
export async function logApiCalls(pool: pg.Pool, calls: CallRecord[]) {
  const col = <T>(f: (c: CallRecord) => T) => calls.map(f);
  await pool.query(
    `WITH used AS (
       UPDATE api_keys SET last_used_at = now()
        WHERE id = ANY($1::int[]) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))
     INSERT INTO api_call_log (api_key_id, method, route, status, request_id, idempotency_key, replayed, duration_ms)
     SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[], $7::bool[],
                          $8::int[])`,
    [
      col((c) => c.apiKeyId),
      col((c) => c.method),
      col((c) => c.route),
      col((c) => c.status),
      col((c) => c.requestId),
      col((c) => c.idempotencyKey),
      col((c) => c.replayed),
      col((c) => c.durationMs),
    ],
  );
}

/**
 * The call log's writer, off the request's path. A call is written at once when nothing is being written; calls
 * that come while a write is running go together in the next one (group commit), so under load the log costs one
 * statement per many calls instead of one per call. A write that fails is logged with the calls it lost.
 */
export class CallLogWriter {
  private queue: CallRecord[] = [];
  private writing: Promise<void> | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
    private readonly maxBatch = 500,
  ) {}

  add(c: CallRecord) {
    this.queue.push(c);
    this.writing ??= this.drain();
  }

  /** Resolves once every call added so far is written (or its failure logged). */
  async flush() {
    while (this.writing) await this.writing;
  }

  private async drain() {
    while (this.queue.length > 0) {
      const calls = this.queue.splice(0, this.maxBatch);
      await logApiCalls(this.pool, calls).catch((err) =>
        this.logger.error({ err, lostCalls: calls }, `could not write ${calls.length} API call log rows`),
      );
    }
    this.writing = null;
  }
}

export const CALL_LOG_PAGE = 100;

/** Newest first, 100 a page; `before` is the last id of the page before. Optionally one key's calls. */
export async function listApiCalls(db: Db, opts: { keyId?: number; before?: bigint }) {
  const rows = await db.apiCallLog.findMany({
    where: {
      ...(opts.keyId ? { apiKeyId: opts.keyId } : {}),
      ...(opts.before ? { id: { lt: opts.before } } : {}),
    },
    orderBy: { id: "desc" },
    take: CALL_LOG_PAGE + 1,
  });
  const keyIds = [...new Set(rows.map((r) => r.apiKeyId).filter((id): id is number => id !== null))];
  const keys = await db.apiKey.findMany({
    where: { id: { in: keyIds } },
    select: { id: true, name: true, prefix: true },
  });
  const byId = new Map(keys.map((k) => [k.id, k]));
  const page = rows.slice(0, CALL_LOG_PAGE);
  return {
    rows: page.map((r) => ({ ...r, key: r.apiKeyId === null ? null : (byId.get(r.apiKeyId) ?? null) })),
    nextBefore: rows.length > CALL_LOG_PAGE ? page[page.length - 1]!.id : null,
  };
}
