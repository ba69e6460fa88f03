// The events a receiver can subscribe to (issue 16). The database checks the same list (outbound_events_type_chk).

export const EVENT_TYPES = [
  "charge.succeeded",
  "charge.failed",
  "checkout.completed",
  "checkout.expired",
  "iou.created",
  "iou.paid",
  "iou.cancelled",
  "refund.succeeded",
] as const;

export type OutboundEventType = (typeof EVENT_TYPES)[number];

export function isEventType(v: string): v is OutboundEventType {
  return (EVENT_TYPES as readonly string[]).includes(v);
}
