// The Stripe gateway (the official SDK over HTTP) against the emulator: idempotency keys, the one place where
// Stripe errors become failure kinds, and webhook signatures.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type StripeEmulator, signatureHeader, startStripeEmulator } from "../../src/infra/stripe-emulator";
import { CardGatewayError, WebhookSignatureError } from "../../src/services/payments/card-gateway";
import type { StripeGateway } from "../../src/services/stripe/stripe-gateway";
import { CARDS, gatewayFor } from "../helpers/payments";

let emulator: StripeEmulator;
let g: StripeGateway;
beforeAll(async () => {
  emulator = await startStripeEmulator();
  g = gatewayFor(emulator);
});
afterAll(() => emulator.close());

async function customerWithCard(number: string) {
  const customerId = await g.createCustomer({
    name: "Test",
    email: "t@example.test",
    userId: 1,
    idempotencyKey: `c-${Math.random()}`,
  });
  const si = emulator.store.createSetupIntent({ customer: customerId });
  emulator.store.confirmSetupIntent(si.id, {
    payment_method_data: { type: "card", card: { number, exp_month: "12", exp_year: "2030" } },
  });
  if (si.status === "requires_action") emulator.store.authenticate(si.id, true);
  return customerId;
}

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    if (e instanceof CardGatewayError) return e;
    throw e;
  }
  throw new Error("expected a CardGatewayError");
}

const charge = (customerId: string, idempotencyKey: string, amountCents = 2_500n) =>
  g.chargeSavedCard({ customerId, amountCents, description: "Auto Top Up", metadata: {}, idempotencyKey });

test("the same idempotency key and parameters give the same charge; other parameters are refused", async () => {
  const cus = await customerWithCard(CARDS.ok);
  const a = await charge(cus, "topup:1");
  const b = await charge(cus, "topup:1");
  expect(b.paymentIntentId).toBe(a.paymentIntentId);
  expect(b.chargeId).toBe(a.chargeId);
  const e = await failure(charge(cus, "topup:1", 2_600n));
  expect(e.kind).toBe("invalid");
  expect(e.message).toMatch(/same parameters/);
});

test("declines: hard for a refused card, authentication_required for 3-D Secure cards off-session", async () => {
  expect((await failure(charge(await customerWithCard(CARDS.declinesWhenCharged), "k2"))).kind).toBe("hard_decline");
  const auth = await failure(charge(await customerWithCard(CARDS.authentication), "k3"));
  expect(auth.kind).toBe("authentication_required");
  expect(auth.details.paymentIntentId).toMatch(/^pi_/);
});

test("rate limits are retryable; processor errors and lost answers are unknown outcomes", async () => {
  const cus = await customerWithCard(CARDS.ok);
  emulator.faults.push({ kind: "rate_limit", path: "/v1/payment_intents" });
  expect((await failure(charge(cus, "k4"))).kind).toBe("retryable");
  emulator.faults.push({ kind: "api_error", path: "/v1/payment_intents" });
  expect((await failure(charge(cus, "k5"))).kind).toBe("unknown");
  const path = "/v1/payment_intents";
  emulator.faults.push({ kind: "drop_after", path }, { kind: "drop_after", path });
  expect((await failure(charge(cus, "k6"))).kind).toBe("unknown");
  // It did happen: retrying with the same key returns that charge instead of making another.
  const before = [...emulator.store.objects.values()].filter((o) => o.object === "charge").length;
  const again = await charge(cus, "k6");
  expect(again.chargeId).toMatch(/^ch_/);
  expect([...emulator.store.objects.values()].filter((o) => o.object === "charge").length).toBe(before);
});

test("refunds beyond what is left are invalid; fees come from the balance transaction", async () => {
  const c = await charge(await customerWithCard(CARDS.ok), "k7", 10_000n);
  expect(await g.balanceTransaction(c.balanceTransactionId!)).toEqual({
    amountCents: 10_000n,
    feeCents: 205n,
    netCents: 9_795n,
  });
  expect(
    (await failure(g.refund({ chargeId: c.chargeId!, amountCents: 10_001n, metadata: {}, idempotencyKey: "r1" }))).kind,
  ).toBe("invalid");
});

test("webhook signatures: valid ones parse, anything else is a WebhookSignatureError", () => {
  const body = JSON.stringify({
    id: "evt_1",
    object: "event",
    type: "charge.succeeded",
    created: 1,
    data: { object: { id: "ch_1" } },
  });
  const ok = g.verifyWebhook(Buffer.from(body), signatureHeader(body, emulator.webhookSecret));
  expect(ok).toMatchObject({ id: "evt_1", type: "charge.succeeded", object: { id: "ch_1" } });
  expect(() => g.verifyWebhook(Buffer.from(body), undefined)).toThrow(WebhookSignatureError);
  expect(() => g.verifyWebhook(Buffer.from(`${body} `), signatureHeader(body, emulator.webhookSecret))).toThrow(
    WebhookSignatureError,
  );
});

test("with a state file, the emulator keeps its keys, customers and saved cards across a restart", async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "emu-")), "state.json");
  const first = await startStripeEmulator({ stateFile: file });
  const g1 = gatewayFor(first);
  const cus = await g1.createCustomer({ name: "Kept", email: "k@example.test", userId: 9, idempotencyKey: "keep" });
  const si = await g1.createSetupIntent({ customerId: cus, description: "d", metadata: {}, idempotencyKey: "keep-si" });
  await fetch(`${first.url}/v1/setup_intents/${si.id}/confirm`, {
    method: "POST",
    headers: { Authorization: `Bearer ${first.publishableKey}` },
    body: new URLSearchParams({
      client_secret: si.clientSecret,
      "payment_method_data[card][number]": CARDS.ok,
      "payment_method_data[card][exp_month]": "12",
      "payment_method_data[card][exp_year]": "2031",
    }),
  });
  await first.close();
  const second = await startStripeEmulator({ stateFile: file });
  try {
    expect(second.secretKey).toBe(first.secretKey);
    const g2 = gatewayFor(second);
    expect(await g2.defaultCard(cus)).toMatchObject({ last4: "4242", expYear: 2031 });
    const c = await g2.chargeSavedCard({
      customerId: cus,
      amountCents: 5_000n,
      description: "x",
      metadata: {},
      idempotencyKey: "after-restart",
    });
    expect(c.last4).toBe("4242");
  } finally {
    await second.close();
  }
});
