// POST /payments/stripe-webhook (reference §3.5, decisions 4 and 5): the raw body's signature is checked on every
// request; a bad or missing one is a 400 that changes nothing. A handler failure is a 500 so Stripe retries.
import express from "express";
import { handleStripeEvent } from "../../services/cards/stripe-webhook";
import { WebhookSignatureError } from "../../services/payments/card-gateway";
import type { Payments } from "../../services/payments/context";
import { inputRouter } from "../../web/input";

export function stripeWebhookRoutes(deps: { payments: Payments }) {
  const r = inputRouter();
  // The body stays raw bytes: the signature check is its validation.
  const rawBody = { guard: express.raw({ type: () => true, limit: "1mb" }), body: "raw" } as const;
  r.post("/payments/stripe-webhook", rawBody, async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let event: ReturnType<typeof deps.payments.gateway.verifyWebhook>;
    try {
      event = deps.payments.gateway.verifyWebhook(raw, req.header("stripe-signature"));
    } catch (e) {
      if (!(e instanceof WebhookSignatureError)) throw e;
      req.log.warn({ reason: e.message }, "Stripe webhook refused: bad signature");
      res.status(400).json({ error: "Invalid signature" });
      return;
    }
    try {
      const result = await handleStripeEvent(deps.payments, event);
      res.status(200).json({ received: true, ...result });
    } catch (err) {
      req.log.error({ err, eventId: event.id, type: event.type }, "Stripe webhook handler failed");
      res.status(500).json({ error: "Handler failed; please retry" });
    }
  });
  r.all("/payments/stripe-webhook", {}, (_req, res) => {
    res.status(405).set("Allow", "POST").json({ error: "POST required" });
  });
  return r.router;
}
