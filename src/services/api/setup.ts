// Builds the API's services on a payments core and registers its callback route (once per core).
import type { Payments } from "../payments/context";
import { API_ROUTE_CODE, type ApiServices } from "./api-services";
import { completeCheckoutCharge } from "./charges";
import type { RecordOutboundEvent, RecordOutboundEvents } from "./outbound-events";

export function createApiServices(
  p: Payments,
  opts: { publicUrl: string; recordEvent?: RecordOutboundEvent | null; recordEvents?: RecordOutboundEvents },
): ApiServices {
  const one = opts.recordEvent ?? null;
  // Without a recorder for many, events are recorded one by one with the recorder for one.
  const many: RecordOutboundEvents | null =
    one &&
    (opts.recordEvents ??
      (async (sql, events) => {
        for (const e of events) await one(sql, e);
      }));
  const s: ApiServices = { p, publicUrl: opts.publicUrl.replace(/\/$/, ""), recordEvent: one, recordEvents: many };
  if (!p.callbacks.has(API_ROUTE_CODE)) {
    p.callbacks.register(API_ROUTE_CODE, (chargeKey, ctx) =>
      completeCheckoutCharge(s, chargeKey, ctx.cardPaymentId ?? null),
    );
  }
  return s;
}
