// The events the API's changes cause, for the outbound webhooks (src/services/webhooks-out). Each is recorded
// inside the transaction that writes the change it reports, so an event exists exactly when its change does;
// its source key keeps a re-run (a retry after a crash) from recording it twice.
import type { TxClient } from "../ledger/book-postings";
import type { OutboundEventType } from "../webhooks-out/event-types";

export type { OutboundEventType };

export interface OutboundEvent {
  /** The organisation whose endpoints hear of it; null: federation-wide endpoints only. */
  organisationId: number | null;
  type: OutboundEventType;
  data: Record<string, unknown>;
  /** What caused it, unique across events (e.g. "charge.succeeded:ch_42"). */
  sourceKey: string;
}

/** Writes one event with one parameterised statement on the caller's transaction (recordOutboundEvent). */
export type RecordOutboundEvent = (sql: TxClient, event: OutboundEvent) => Promise<unknown>;

/** One INSERT of several events, as text and parameters (outboundEventsStatement), for a grouped write. */
export type OutboundEventsStatement = (events: OutboundEvent[]) => { text: string; values: unknown[][] };
