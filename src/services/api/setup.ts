// Builds the API's services on a payments core and registers its callback route (once per core).
import type { Payments } from "../payments/context";
import { API_ROUTE_CODE, type ApiServices } from "./api-services";
import { settleCheckoutCharge } from "./checkout-charges";
import type { OutboundEventsStatement, RecordOutboundEvent } from "./outbound-events";

export function createApiServices(
  p: Payments,
  opts: { publicUrl: string; recordEvent?: RecordOutboundEvent | null; eventsStatement?: OutboundEventsStatement },
): ApiServices {
  const s: ApiServices = {
    p,
    publicUrl: opts.publicUrl.replace(/\/$/, ""),
    recordEvent: opts.recordEvent ?? null,
    eventsStatement: (opts.recordEvent && opts.eventsStatement) || null,
  };
  if (!p.callbacks.has(API_ROUTE_CODE)) {
    p.callbacks.registerOnSettle(API_ROUTE_CODE, async (client, chargeKey, ctx) => {
      await settleCheckoutCharge(s, client, chargeKey, ctx);
    });
  }
  return s;
}
