// Every API call is written to api_call_log (for the API log page); the key's last-used time is updated by the
// same statement, at most once a minute per key.
import type pg from "pg";
import type { Db } from "../../db/client";

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

export async function logApiCall(pool: pg.Pool, c: CallRecord) {
  await pool.query(
    `WITH used AS (
       UPDATE api_keys SET last_used_at = now()
        WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))
     INSERT INTO api_call_log (api_key_id, method, route, status, request_id, idempotency_key, replayed, duration_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [c.apiKeyId, c.method, c.route, c.status, c.requestId, c.idempotencyKey, c.replayed, c.durationMs],
  );
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
