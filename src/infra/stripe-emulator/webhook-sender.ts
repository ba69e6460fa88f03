// Sends the emulator's events to the app as Stripe does: a JSON event posted with a `Stripe-Signature` header
// (t=<unix time>,v1=<HMAC-SHA256 of "t.body" with the endpoint's secret>), retried when the app does not answer
// 2xx. Tests can hold events back, then release them duplicated and shuffled, to prove the app applies each
// exactly once in any order.
import { createHmac } from "node:crypto";
import { stripeId } from "./store";

export interface StripeEventObject {
  id: string;
  object: "event";
  type: string;
  created: number;
  api_version: string;
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  data: { object: Record<string, unknown> };
}

export interface Delivery {
  eventId: string;
  type: string;
  status: number | "network-error";
}

export function signatureHeader(payload: string, secret: string, timestamp = Math.floor(Date.now() / 1000)) {
  const v1 = createHmac("sha256", secret).update(`${timestamp}.${payload}`, "utf8").digest("hex");
  return `t=${timestamp},v1=${v1}`;
}

export class WebhookSender {
  readonly events: StripeEventObject[] = [];
  readonly deliveries: Delivery[] = [];
  /** Where events go; none means they are only recorded. */
  endpoint: { url: string; secret: string } | null = null;
  /** When true, events wait in `held` until `release()`. */
  hold = false;
  /** Extra copies sent of every event (Stripe may deliver any event more than once). */
  duplicates = 0;
  maxAttempts = 3;
  retryDelayMs = 200;
  private held: StripeEventObject[] = [];
  private inFlight = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly apiVersion: string) {}

  record(type: string, object: Record<string, unknown>) {
    const event: StripeEventObject = {
      id: stripeId("evt"),
      object: "event",
      type,
      created: Math.floor(Date.now() / 1000),
      api_version: this.apiVersion,
      livemode: false,
      pending_webhooks: this.endpoint ? 1 : 0,
      request: { id: null, idempotency_key: null },
      data: { object: structuredClone(object) },
    };
    this.events.push(event);
    if (!this.endpoint) return;
    if (this.hold) this.held.push(event);
    else for (let i = 0; i <= this.duplicates; i++) this.send(event);
  }

  /** Sends the held events, each `copies` times, in shuffled order when asked. */
  release(opts: { shuffle?: boolean; copies?: number } = {}) {
    const batch: StripeEventObject[] = [];
    for (const e of this.held) for (let i = 0; i < (opts.copies ?? 1); i++) batch.push(e);
    this.held = [];
    if (opts.shuffle) {
      for (let i = batch.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [batch[i], batch[j]] = [batch[j]!, batch[i]!];
      }
    }
    for (const e of batch) this.send(e);
  }

  heldCount() {
    return this.held.length;
  }

  /** Resolves once nothing is being delivered (held events excepted). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private send(event: StripeEventObject) {
    this.inFlight += 1;
    void this.deliver(event).finally(() => {
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const w of this.waiters.splice(0)) w();
    });
  }

  private async deliver(event: StripeEventObject) {
    const endpoint = this.endpoint;
    if (!endpoint) return;
    const body = JSON.stringify(event, null, 2);
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      let status: number | "network-error";
      try {
        const res = await fetch(endpoint.url, {
          method: "POST",
          headers: {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signatureHeader(body, endpoint.secret),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
          },
          body,
        });
        status = res.status;
        await res.arrayBuffer();
      } catch {
        status = "network-error";
      }
      this.deliveries.push({ eventId: event.id, type: event.type, status });
      if (typeof status === "number" && status >= 200 && status < 300) return;
      await new Promise((r) => setTimeout(r, this.retryDelayMs * attempt));
    }
  }
}
