// The outbox write. Callers pass the client of the transaction that makes the change (a Prisma interactive
// transaction or a pg client between BEGIN and COMMIT), so the event exists exactly when the change does: a
// rolled-back change leaves no event, and a committed one is delivered even if the process dies a moment later.
// The dispatcher (dispatcher.ts) turns committed events into deliveries.
import { randomBytes } from "node:crypto";
import type { OutboundEventType } from "./event-types";

/** A pg client (or pool client) inside the caller's transaction. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** A Prisma interactive-transaction client (`prisma.$transaction(async (tx) => …)`). */
export interface PrismaRawQueryable {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

export type OutboxClient = PgQueryable | PrismaRawQueryable;

export interface OutboundEventInput {
  /** The organisation the event concerns; null for none. Club endpoints receive only their club's events. */
  organisationId: number | null;
  type: OutboundEventType;
  /** The event's `data` object as receivers see it. BigInt values (cents) are written as JSON numbers. */
  data: Record<string, unknown>;
  /**
   * What caused the event, unique across all events (e.g. `iou.created:42`, `charge.succeeded:<posting ref>`).
   * Writing the same key again writes nothing and returns the first event's id, so a replayed posting does not
   * emit twice.
   */
  sourceKey?: string | null;
}

export interface RecordedEvent {
  /** The stable public id (`evt_…`) every delivery of this event carries. */
  id: string;
  /** False when `sourceKey` had already been recorded (a replay). */
  created: boolean;
}

// On a repeated source key the no-op update lets one statement return the existing row's id.
const INSERT_SQL = `
  INSERT INTO outbound_events (public_id, type, organisation_id, payload, source_key)
  VALUES ($1, $2, $3, $4::jsonb, $5)
  ON CONFLICT (source_key) DO UPDATE SET source_key = EXCLUDED.source_key
  RETURNING public_id, (xmax = 0) AS created`;

export function newEventId(): string {
  return `evt_${randomBytes(12).toString("hex")}`;
}

function toJson(data: Record<string, unknown>): string {
  return JSON.stringify(data, (_k, v) => {
    if (typeof v !== "bigint") return v;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new RangeError("an event amount does not fit a JSON number");
    }
    return Number(v);
  });
}

/**
 * Records one outbound event inside the caller's transaction (one INSERT). Call it with the same client that
 * writes the change the event reports, before COMMIT.
 */
export async function recordOutboundEvent(sql: OutboxClient, input: OutboundEventInput): Promise<RecordedEvent> {
  const values = [newEventId(), input.type, input.organisationId, toJson(input.data), input.sourceKey ?? null];
  type Row = { public_id: string; created: boolean };
  const rows =
    "$queryRawUnsafe" in sql
      ? await sql.$queryRawUnsafe<Row[]>(INSERT_SQL, ...values)
      : ((await sql.query(INSERT_SQL, values)).rows as Row[]);
  const row = rows[0]!;
  return { id: row.public_id, created: row.created };
}

const INSERT_MANY_SQL = `
  INSERT INTO outbound_events (public_id, type, organisation_id, payload, source_key)
  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::jsonb[], $5::text[])
  ON CONFLICT (source_key) DO NOTHING`;

/**
 * The INSERT of several events (an already recorded source key writes nothing), as text and parameters, for a
 * caller that sends it within a grouped write of many changes (the API's charge groups).
 */
export function outboundEventsStatement(inputs: OutboundEventInput[]) {
  return {
    text: INSERT_MANY_SQL,
    values: [
      inputs.map(() => newEventId()),
      inputs.map((e) => e.type),
      inputs.map((e) => e.organisationId),
      inputs.map((e) => toJson(e.data)),
      inputs.map((e) => e.sourceKey ?? null),
    ],
  };
}
