// POST /payments/stripe-webhook: signatures checked on the raw body every time, events applied exactly once in
// any order, real-shaped payloads (Stripe's own fixtures) accepted, objects we did not create ignored.

import { signatureHeader } from "../../src/infra/stripe-emulator";
import { createCheckout, createCheckoutIntent } from "../../src/services/cards/checkout";
import { getBalance } from "../../src/services/payments/balances";
import fixtures from "../fixtures/stripe/fixtures3-subset.json";
import { makeUser } from "../helpers/app";
import {
  type CardStack,
  checkoutWithCharge,
  payAtBrowser,
  startCardStack,
  webhooksSettled,
} from "../helpers/card-stack";
import { CARDS, key, violations } from "../helpers/payments";

let s: CardStack;
beforeAll(async () => {
  s = await startCardStack();
});
afterAll(() => s.close());
afterEach(async () => expect(await violations(s.p)).toEqual([]));

function post(body: string, signature?: string) {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (signature !== undefined) headers["Stripe-Signature"] = signature;
  return fetch(`${s.base}/payments/stripe-webhook`, { method: "POST", headers, body });
}

function event(type: string, object: Record<string, unknown>, id = `evt_test_${key()}`) {
  return JSON.stringify({ ...fixtures.resources.event, id, type, data: { object } });
}

const inbox = () => s.p.db.stripeEvent.count();

describe("signature", () => {
  const body = event("charge.succeeded", fixtures.resources.charge);

  test("missing, wrong or stale signatures get 400 and change nothing", async () => {
    const before = await inbox();
    expect((await post(body)).status).toBe(400);
    expect((await post(body, "t=1,v1=deadbeef")).status).toBe(400);
    expect((await post(body, signatureHeader(body, "whsec_someone_else"))).status).toBe(400);
    const stale = Math.floor(Date.now() / 1000) - 10 * 60;
    expect((await post(body, signatureHeader(body, s.emulator.webhookSecret, stale))).status).toBe(400);
    // A valid signature over different bytes: the body was tampered with.
    expect((await post(body.replace("Jenny", "Jonny"), signatureHeader(body, s.emulator.webhookSecret))).status).toBe(
      400,
    );
    expect(await inbox()).toBe(before);
  });

  test("anything but POST is 405", async () => {
    expect((await fetch(`${s.base}/payments/stripe-webhook`)).status).toBe(405);
  });
});

describe("real-shaped events from Stripe's fixtures", () => {
  test("an event type we do not use is stored and answered 200", async () => {
    const body = JSON.stringify(fixtures.resources.event).replace(fixtures.resources.event.id, `evt_${key()}`);
    const res = await post(body, signatureHeader(body, s.emulator.webhookSecret));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ received: true, outcome: "ignored: event type not used" });
  });

  test("a charge we did not create is ignored", async () => {
    const body = event("charge.succeeded", fixtures.resources.charge);
    const res = await post(body, signatureHeader(body, s.emulator.webhookSecret));
    expect(await res.json()).toMatchObject({ outcome: "ignored: not one of our card payments" });
  });

  test("Stripe's sample charge, for our PaymentIntent and customer, books the top-up; a wrong amount does not", async () => {
    const { m, card, charge } = await checkoutWithCharge(s, 10_000n);
    const wrong = event("charge.succeeded", { ...charge, amount: 9_999 });
    expect(await (await post(wrong, signatureHeader(wrong, s.emulator.webhookSecret))).json()).toMatchObject({
      outcome: `ignored: does not match card payment ${card.id}: amount is 9999, ours is 10000`,
    });
    expect(await getBalance(s.p, m.id)).toBe(0n);

    const right = event("charge.succeeded", charge);
    const res = await post(right, signatureHeader(right, s.emulator.webhookSecret));
    expect(await res.json()).toMatchObject({ outcome: `booked: card payment ${card.id}` });
    expect(await getBalance(s.p, m.id)).toBe(10_000n);
    const saved = await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: card.id } });
    expect(saved).toMatchObject({ status: "SUCCEEDED", cardBrand: "visa", cardLast4: "4242", cardExpYear: 2030 });
  });
});

describe("exactly once, in any order", () => {
  test("a manual top-up's events delivered three times each, shuffled, book the top-up once", async () => {
    const m = await makeUser(s.p.db);
    const card = await createCheckout(s.p, {
      userId: m.id,
      amountCents: 7_500n,
      description: "Manual Top Up",
      requestKey: key(),
    });
    s.emulator.webhooks.hold = true;
    try {
      const { clientSecret } = await createCheckoutIntent(s.p, m.id, card.id);
      expect((await payAtBrowser(s.emulator, clientSecret, CARDS.ok)).body.status).toBe("succeeded");
      expect(s.emulator.webhooks.heldCount()).toBeGreaterThanOrEqual(4); // customer, intent, charge, intent.succeeded
    } finally {
      s.emulator.webhooks.hold = false;
    }
    s.emulator.webhooks.release({ copies: 3, shuffle: true });
    await webhooksSettled(s.emulator);
    expect(await getBalance(s.p, m.id)).toBe(7_500n);
    const postings = await s.p.db.posting.findMany({ where: { cardPaymentId: card.id } });
    expect(postings.map((p) => p.type)).toEqual(["Manual Top Up"]);
    const ok = s.emulator.webhooks.deliveries.filter((d) => d.status === 200);
    expect(ok.length).toBe(s.emulator.webhooks.deliveries.length); // every delivery answered 200
  });

  test("concurrent deliveries of the same event book once", async () => {
    const { m, charge } = await checkoutWithCharge(s, 5_000n);
    const body = event("charge.succeeded", charge);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => post(body, signatureHeader(body, s.emulator.webhookSecret))),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(await getBalance(s.p, m.id)).toBe(5_000n);
  });
});
