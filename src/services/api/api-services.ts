// What the API's use cases share: the payments core, where outbound events are recorded, and the site's address
// (for checkout links). Registers the API's callback route: a charge waiting for a card payment completes when
// the payment's webhook books the purchase.
import type { Payments } from "../payments/context";
import type { ChargeGroupWriter } from "./charge-group";
import type { ApiCaller } from "./keys";
import type { OutboundEventsStatement, RecordOutboundEvent } from "./outbound-events";

export interface ApiServices {
  p: Payments;
  /** Writes an outbound webhook event on the caller's transaction (null: none recorded). */
  recordEvent: RecordOutboundEvent | null;
  /** The outbox's INSERT of several events, sent within a charge group's last query; null: one by one as above. */
  eventsStatement: OutboundEventsStatement | null;
  /** Base URL of the site, for the checkout links given to callers. */
  publicUrl: string;
  /** Where batches book the items they can in shared transactions (set once the writer exists); else one by one. */
  chargeGroup?: ChargeGroupWriter;
}

/** Route code of charges paid at a card checkout; the payload is the charge's key. */
export const API_ROUTE_CODE = "API";

/**
 * Who books a charge: an API key, or a club's "Charge a session" page (no key: the page's batch is named
 * instead, and the charges go to that club).
 */
export type ChargeCaller = Pick<ApiCaller, "organisationId" | "scopes"> & {
  keyId: number | null;
  sessionBatchId?: number | null;
};

/** Federation keys with `read` may see balances; nobody else. */
export const mayReadBalances = (caller: ChargeCaller | null) =>
  caller !== null && caller.organisationId === null && caller.scopes.includes("read");
