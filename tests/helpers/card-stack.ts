// The whole card path on real parts: a private database, a private Stripe emulator, the payments core using the
// real Stripe gateway, and the real app listening on a port that the emulator posts its signed webhooks to.

import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { Express } from "express";
import { type AppDeps, createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { type StripeEmulator, startStripeEmulator } from "../../src/infra/stripe-emulator";
import { createLogger } from "../../src/lib/logger";
import type { ChargeGroupWriter } from "../../src/services/api/charge-group";
import { createCheckout, createCheckoutIntent } from "../../src/services/cards/checkout";
import type { Payments } from "../../src/services/payments/context";
import fixtures from "../fixtures/stripe/fixtures3-subset.json";
import { makeUser } from "./app";
import type { TestDatabase } from "./db";
import { createTestDatabase } from "./db";
import { paymentsOn } from "./payments";
import { TEST_ENCRYPTION_KEY } from "./two-factor";

export interface CardStack {
  p: Payments;
  emulator: StripeEmulator;
  database: TestDatabase;
  app: Express;
  base: string;
  close: () => Promise<void>;
}

/** `env`: more settings for the app; `app`: more of its dependencies (e.g. an outbound event recorder). */
export async function startCardStack(
  opts: { env?: Record<string, string>; app?: Partial<AppDeps>; maxConnections?: number } = {},
): Promise<CardStack> {
  const database = await createTestDatabase({ max: opts.maxConnections ?? 10 });
  const emulator = await startStripeEmulator();
  emulator.webhooks.retryDelayMs = 20;
  const { p } = paymentsOn(database, emulator);
  const config = loadConfig({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    DATABASE_URL: database.url,
    APP_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    ...opts.env,
  });
  const app = createApp({
    config,
    database,
    logger: createLogger(process.env.TEST_LOG_LEVEL === "error" ? "error" : "silent"),
    sessionSecret: "test-secret-test-secret-test-secret-0123",
    payments: p,
    ...opts.app,
  });
  const server: Server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const addr = server.address();
  const base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  emulator.sendWebhooksTo(`${base}/payments/stripe-webhook`);
  return {
    p,
    emulator,
    database,
    app,
    base,
    close: async () => {
      await emulator.close();
      await new Promise((r) => server.close(r));
      server.closeAllConnections();
      await (app.locals.chargeGroup as ChargeGroupWriter).close();
      await database.drop();
    },
  };
}

/** What the browser script does on "Pay": confirm the PaymentIntent at the emulator with the publishable key. */
export async function payAtBrowser(emulator: StripeEmulator, clientSecret: string, cardNumber: string) {
  const id = clientSecret.split("_secret_")[0];
  const body = new URLSearchParams({
    client_secret: clientSecret,
    "payment_method_data[type]": "card",
    "payment_method_data[card][number]": cardNumber,
    "payment_method_data[card][exp_month]": "12",
    "payment_method_data[card][exp_year]": "34",
    "payment_method_data[card][cvc]": "123",
  });
  const res = await fetch(`${emulator.url}/v1/payment_intents/${id}/confirm`, {
    method: "POST",
    headers: { Authorization: `Bearer ${emulator.publishableKey}` },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Waits until the emulator has delivered every event it was not told to hold. */
export async function webhooksSettled(emulator: StripeEmulator) {
  await new Promise((r) => setTimeout(r, 10));
  await emulator.webhooks.idle();
}

/** A member tops up by card through the checkout, as at the browser; answers the card payment's id once booked. */
export async function topUpByCard(s: CardStack, userId: number, amountCents: bigint) {
  const card = await createCheckout(s.p, {
    userId,
    amountCents,
    description: "Manual Top Up",
    requestKey: `t-${randomUUID()}`,
  });
  const { clientSecret } = await createCheckoutIntent(s.p, userId, card.id);
  await payAtBrowser(s.emulator, clientSecret, "4242424242424242");
  await webhooksSettled(s.emulator);
  return card.id;
}

/**
 * A member pays a checkout at the browser, but Stripe's webhooks are held (a lost webhook): the card payment is
 * left PENDING, as the browser reported, with nothing booked. `release` lets the held webhooks go.
 */
export async function paidWithWebhookHeld(s: CardStack, userId: number, amountCents: bigint) {
  const card = await createCheckout(s.p, {
    userId,
    amountCents,
    description: "Manual Top Up",
    requestKey: `t-${randomUUID()}`,
  });
  s.emulator.webhooks.hold = true;
  try {
    const { clientSecret } = await createCheckoutIntent(s.p, userId, card.id);
    await payAtBrowser(s.emulator, clientSecret, "4242424242424242");
  } finally {
    s.emulator.webhooks.hold = false;
  }
  await s.p.db.cardPayment.update({ where: { id: card.id }, data: { status: "PENDING" } }); // the browser said so
  return card;
}

/** A Stripe event stored as failed (not applied), for finance to re-apply. */
export async function failedStripeEvent(s: CardStack, charge: object) {
  const id = `evt_failed_${randomUUID()}`;
  await s.p.db.stripeEvent.create({
    data: {
      id,
      type: "charge.succeeded",
      payload: { id, type: "charge.succeeded", created: 1, data: { object: charge } },
      outcome: "failed: database was down",
    },
  });
  return id;
}

/**
 * A member's checkout of `amountCents` whose PaymentIntent exists at the emulator, and the charge Stripe would
 * send for it: Stripe's sample charge, made for that PaymentIntent and the member's customer.
 */
export async function checkoutWithCharge(s: Pick<CardStack, "p">, amountCents: bigint) {
  const m = await makeUser(s.p.db);
  const created = await createCheckout(s.p, {
    userId: m.id,
    amountCents,
    description: "Manual Top Up",
    requestKey: `t-${randomUUID()}`,
  });
  await createCheckoutIntent(s.p, m.id, created.id);
  const card = await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: created.id } });
  const user = await s.p.db.user.findUniqueOrThrow({ where: { id: m.id } });
  const charge = {
    ...fixtures.resources.charge,
    id: `ch_${randomUUID().replaceAll("-", "")}`,
    amount: Number(amountCents),
    currency: "aud",
    customer: user.stripeCustomerId,
    payment_intent: card.stripePaymentIntentId,
    metadata: { bc_card_payment_id: String(card.id) },
  };
  return { m, card, charge };
}
