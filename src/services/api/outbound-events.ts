// The events the API's changes cause, for the outbound webhooks (src/services/webhooks-out, built separately).
// Each is recorded through `RecordOutboundEvent` inside the transaction that writes the change it reports, so
// an event exists exactly when its change does.
import type { TxClient } from "../ledger/book-postings";

export type OutboundEventType =
  | "charge.succeeded"
  | "charge.failed"
  | "checkout.completed"
  | "checkout.expired"
  | "iou.created"
  | "iou.paid"
  | "iou.cancelled"
  | "refund.succeeded";

export interface OutboundEvent {
  /** The organisation whose endpoints hear of it; null: federation-wide endpoints only. */
  organisationId: number | null;
  type: OutboundEventType;
  data: Record<string, unknown>;
}

/** Writes one event with one parameterised statement on the caller's transaction. */
export type RecordOutboundEvent = (sql: TxClient, event: OutboundEvent) => Promise<void>;
