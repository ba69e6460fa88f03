// The outbox dispatcher: turns committed events into one delivery row and one pg-boss job per matching endpoint,
// in one transaction (pg-boss inserts its jobs on our client), so each (event, endpoint) is enqueued exactly once
// even if the dispatcher dies half-way or two processes run it. It also enqueues the re-sends asked for on the
// deliveries page. Matching: the endpoint is enabled, wants the event's type, belongs to the event's organisation
// (or is federation-wide) and existed when the event was recorded.

import type pg from "pg";
import type PgBoss from "pg-boss";
import { inTransaction } from "../ledger/transaction";

export const DELIVERY_QUEUE = "webhook-delivery";

export interface DeliveryJobData {
  deliveryId: string;
}

/** The part of PgBoss the dispatcher uses (its `insert`, on the caller's connection). */
export type JobInserter = Pick<PgBoss, "insert">;

const PICK_EVENTS_SQL = `
  UPDATE outbound_events e SET dispatched_at = now()
    FROM (SELECT id FROM outbound_events WHERE dispatched_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) p
   WHERE e.id = p.id
  RETURNING e.id`;

const NEW_DELIVERIES_SQL = `
  INSERT INTO webhook_deliveries (event_id, endpoint_id, next_attempt_at, job_id)
  SELECT ev.id, ep.id, now(), gen_random_uuid()
    FROM outbound_events ev JOIN webhook_endpoints ep
      ON ep.enabled AND ev.type = ANY(ep.event_types) AND ep.created_at <= ev.created_at
     AND (ep.organisation_id IS NULL OR ep.organisation_id = ev.organisation_id)
   WHERE ev.id = ANY($1::bigint[])
   ORDER BY ev.id, ep.id
  ON CONFLICT (event_id, endpoint_id) DO NOTHING
  RETURNING id::text, job_id::text`;

const RESENDS_SQL = `
  UPDATE webhook_deliveries d
     SET resend_requested_at = NULL, status = 'pending', next_attempt_at = now(), job_id = gen_random_uuid()
    FROM (SELECT id FROM webhook_deliveries WHERE resend_requested_at IS NOT NULL
           ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) r
   WHERE d.id = r.id
  RETURNING d.id::text, d.job_id::text`;

/**
 * One round: up to `limit` new events and `limit` re-sends. Returns how many jobs were enqueued and whether
 * events may remain (call again at once).
 */
export async function dispatchPending(pool: pg.Pool, boss: JobInserter, limit = 200) {
  return inTransaction(pool, async (client) => {
    const events = await client.query<{ id: string }>(PICK_EVENTS_SQL, [limit]);
    const fresh = await client.query<{ id: string; job_id: string }>(NEW_DELIVERIES_SQL, [
      events.rows.map((e) => e.id),
    ]);
    const resends = await client.query<{ id: string; job_id: string }>(RESENDS_SQL, [limit]);
    const rows = [...fresh.rows, ...resends.rows];
    if (rows.length > 0) {
      await boss.insert(
        rows.map((r) => ({
          id: r.job_id,
          name: DELIVERY_QUEUE,
          data: { deliveryId: r.id } satisfies DeliveryJobData,
          singletonKey: `delivery:${r.id}`,
        })),
        { db: { executeSql: (text: string, values: unknown[]) => client.query(text, values) } },
      );
    }
    const more = events.rows.length === limit || resends.rows.length === limit;
    return { enqueued: rows.length, more };
  });
}
