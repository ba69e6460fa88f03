// The pg-boss job: one attempt to deliver one event to one endpoint. The job carries only the delivery's id;
// the body is rebuilt from the stored event, so every attempt sends the same event id and data. A failed attempt
// throws, and pg-boss schedules the next one (retry-schedule.ts); the last failure marks the delivery failed.
import type pg from "pg";
import type { Logger } from "../../lib/logger";
import { postEvent } from "./post-event";
import { earliestNextAttempt } from "./retry-schedule";

export interface DeliveryAttemptDeps {
  pool: pg.Pool;
  logger: Logger;
  timeoutMs: number;
  allowPrivate: boolean;
}

export interface DeliveryJob {
  id: string;
  data: { deliveryId: string };
  retryCount: number;
  retryLimit: number;
  retryDelay: number;
  retryBackoff: boolean;
}

export class DeliveryFailed extends Error {}

interface DeliveryRow {
  job_id: string | null;
  public_id: string;
  type: string;
  payload: unknown;
  created_at: Date;
  url: string;
  secret: string;
  enabled: boolean;
}

const LOAD_SQL = `
  SELECT d.job_id::text, e.public_id, e.type, e.payload, e.created_at, ep.url, ep.secret, ep.enabled
    FROM webhook_deliveries d
    JOIN outbound_events e ON e.id = d.event_id
    JOIN webhook_endpoints ep ON ep.id = d.endpoint_id
   WHERE d.id = $1`;

// Guarded by job_id: a job superseded by a re-send records nothing.
const RECORD_SQL = `
  UPDATE webhook_deliveries
     SET attempts = attempts + 1, last_attempt_at = now(), last_response_code = $3, last_error = $4, status = $5,
         delivered_at = CASE WHEN $5 = 'succeeded' THEN now() ELSE delivered_at END, next_attempt_at = $6
   WHERE id = $1 AND job_id = $2::uuid`;

/** The JSON body receivers get: the same bytes on every attempt of an event. */
export function eventBody(row: Pick<DeliveryRow, "public_id" | "type" | "payload" | "created_at">): string {
  const created = Math.floor(row.created_at.getTime() / 1000);
  return JSON.stringify({ id: row.public_id, type: row.type, created, data: row.payload });
}

export async function attemptDelivery(deps: DeliveryAttemptDeps, job: DeliveryJob): Promise<void> {
  const { rows } = await deps.pool.query<DeliveryRow>(LOAD_SQL, [job.data.deliveryId]);
  const row = rows[0];
  // The endpoint was deleted, or a re-send replaced this job: nothing to do.
  if (!row || row.job_id !== job.id) return;
  if (!row.enabled) {
    await deps.pool.query(RECORD_SQL, [job.data.deliveryId, job.id, null, "endpoint disabled", "failed", null]);
    return;
  }
  const result = await postEvent({
    url: row.url,
    secret: row.secret,
    eventId: row.public_id,
    body: eventBody(row),
    timeoutMs: deps.timeoutMs,
    allowPrivate: deps.allowPrivate,
  });
  const last = job.retryCount >= job.retryLimit;
  const status = result.ok ? "succeeded" : last ? "failed" : "pending";
  const next = status === "pending" ? earliestNextAttempt(job, job.retryCount) : null;
  await deps.pool.query(RECORD_SQL, [job.data.deliveryId, job.id, result.status, result.error, status, next]);
  if (!result.ok) {
    deps.logger.warn(
      { deliveryId: job.data.deliveryId, eventId: row.public_id, attempt: job.retryCount + 1, error: result.error },
      last ? "webhook delivery failed for good" : "webhook delivery failed; will retry",
    );
    throw new DeliveryFailed(result.error ?? "delivery failed");
  }
}
