// Every webhook handler compares the Stripe object's ids, amount and currency with our record before changing
// anything: an event signed with our secret whose metadata names one of our rows, but whose object is not that
// row's, is kept in the inbox as ignored (reason shown to finance), logged, answered 200, and changes nothing.
// Events are signed with the official SDK and posted to the real route; objects are Stripe's own fixtures.
import Stripe from "stripe";
import { adminRefund } from "../../src/services/cards/card-refunds";
import { createCheckout } from "../../src/services/cards/checkout";
import { ensureStripeCustomer } from "../../src/services/cards/stripe-customer";
import { getBalance } from "../../src/services/payments/balances";
import fixtures from "../fixtures/stripe/fixtures3-subset.json";
import { makeUser, signIn } from "../helpers/app";
import {
  type CardStack,
  checkoutWithCharge,
  startCardStack,
  topUpByCard,
  webhooksSettled,
} from "../helpers/card-stack";
import { key, ledgerSnapshot, violations } from "../helpers/payments";

const sdk = new Stripe("sk_test_only_for_signing");
let s: CardStack;
let finance: { id: number; email: string };
beforeAll(async () => {
  s = await startCardStack();
  finance = await makeUser(s.p.db, { level: "EDIT", firstName: "Fin" });
});
afterAll(() => s.close());
afterEach(async () => expect(await violations(s.p)).toEqual([]));

/** Posts a Stripe event, signed as Stripe signs it (at `timestamp`, now by default). */
async function deliver(type: string, object: Record<string, unknown>, timestamp?: number) {
  const id = `evt_${key().replaceAll("-", "_")}`;
  const payload = JSON.stringify({ ...fixtures.resources.event, id, type, data: { object } });
  const header = sdk.webhooks.generateTestHeaderString({ payload, secret: s.emulator.webhookSecret, timestamp });
  const res = await fetch(`${s.base}/payments/stripe-webhook`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Stripe-Signature": header },
    body: payload,
  });
  return { id, status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));

/** The ledger and the given rows, to compare before and after. */
async function state(rows: () => Promise<unknown>) {
  return json({ ledger: await ledgerSnapshot(s.p), rows: await rows() });
}

/** Delivers each variant; every one must be answered 200, kept as ignored, logged, and change nothing. */
async function expectIgnored(
  type: string,
  variants: Record<string, Record<string, unknown>>,
  rows: () => Promise<unknown>,
  reason: RegExp,
) {
  const warn = jest.spyOn(s.p.logger, "warn");
  try {
    for (const [what, object] of Object.entries(variants)) {
      const before = await state(rows);
      const r = await deliver(type, object);
      expect({ what, status: r.status, outcome: r.body.outcome }).toEqual({
        what,
        status: 200,
        outcome: expect.stringMatching(reason),
      });
      expect({ what, state: await state(rows) }).toEqual({ what, state: before });
      const inbox = await s.p.db.stripeEvent.findUniqueOrThrow({ where: { id: r.id } });
      expect(inbox.processedAt).not.toBeNull(); // kept, marked, not offered for re-applying
      expect(inbox.outcome).toBe(r.body.outcome);
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({ eventId: r.id, type, field: expect.any(String) }),
        "Stripe event does not match our record",
      );
    }
  } finally {
    warn.mockRestore();
  }
}

describe("charge.succeeded", () => {
  /** A checkout whose PaymentIntent exists, and the charge Stripe would send for it. */
  async function checkout() {
    const c = await checkoutWithCharge(s, 10_000n);
    const rows = () => s.p.db.cardPayment.findUniqueOrThrow({ where: { id: c.card.id } });
    return { ...c, rows };
  }

  test("another PaymentIntent, customer, amount or currency changes nothing; the right charge books", async () => {
    const { m, card, charge, rows } = await checkout();
    await expectIgnored(
      "charge.succeeded",
      {
        "payment intent": { ...charge, payment_intent: "pi_not_ours" },
        customer: { ...charge, customer: "cus_not_ours" },
        amount: { ...charge, amount: 9_999 },
        currency: { ...charge, currency: "usd" },
      },
      rows,
      new RegExp(`^ignored: does not match card payment ${card.id}: (payment_intent|customer|amount|currency) is `),
    );
    expect(await getBalance(s.p, m.id)).toBe(0n);

    const ok = await deliver("charge.succeeded", charge);
    expect(ok.body.outcome).toBe(`booked: card payment ${card.id}`);
    expect(await getBalance(s.p, m.id)).toBe(10_000n);

    // Once booked, a second charge (another id) for the same record is not ours either.
    await expectIgnored(
      "charge.succeeded",
      { "charge id": { ...charge, id: "ch_not_ours" } },
      rows,
      /^ignored: does not match card payment \d+: id is ch_not_ours, ours is ch_/,
    );
  });

  test("a record with no PaymentIntent id yet is matched by the member's customer, and the id stored", async () => {
    const m = await makeUser(s.p.db);
    const customer = await ensureStripeCustomer(s.p, m.id);
    const card = await createCheckout(s.p, {
      userId: m.id,
      amountCents: 5_000n,
      description: "Manual Top Up",
      requestKey: key(),
    });
    const charge = {
      ...fixtures.resources.charge,
      amount: 5_000,
      currency: "aud",
      customer,
      payment_intent: `pi_${key().replaceAll("-", "_")}`,
      metadata: { bc_card_payment_id: String(card.id) },
    };
    const rows = () => s.p.db.cardPayment.findUniqueOrThrow({ where: { id: card.id } });
    await expectIgnored(
      "charge.succeeded",
      {
        "no customer": { ...charge, customer: null },
        "another customer": { ...charge, customer: "cus_not_ours" },
      },
      rows,
      /^ignored: (not matched to|does not match) card payment \d+: /,
    );
    const ok = await deliver("charge.succeeded", charge);
    expect(ok.body.outcome).toBe(`booked: card payment ${card.id}`);
    expect((await rows()).stripePaymentIntentId).toBe(charge.payment_intent);
  });

  test("a PaymentIntent that is another record's is not booked to this one", async () => {
    const a = await checkout();
    const b = await checkout();
    await expectIgnored(
      "charge.succeeded",
      { "b's intent, a's metadata": { ...a.charge, payment_intent: b.charge.payment_intent } },
      async () => [await a.rows(), await b.rows()],
      /^ignored: does not match card payment \d+: /,
    );
  });
});

describe("refund.created / refund.updated / refund.failed", () => {
  /** A member's $100 card top-up, $40 of it refunded by finance (SUCCEEDED at Stripe). */
  async function refunded(opts: { holdWebhooks?: boolean } = {}) {
    const m = await makeUser(s.p.db);
    const cardId = await topUpByCard(s, m.id, 10_000n);
    s.emulator.webhooks.hold = !!opts.holdWebhooks;
    let r: Awaited<ReturnType<typeof adminRefund>>;
    try {
      if (opts.holdWebhooks) {
        // The answer is lost: our refund row never learns its Stripe id, and its events wait.
        s.emulator.faults.push(
          { kind: "drop_after", path: "/v1/refunds" },
          { kind: "drop_after", path: "/v1/refunds" },
        );
      }
      r = await adminRefund(s.p, {
        adminUserId: finance.id,
        cardPaymentId: cardId,
        amountCents: 4_000n,
        description: "",
      });
    } finally {
      s.emulator.webhooks.hold = false;
    }
    await webhooksSettled(s.emulator);
    const card = await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: cardId } });
    const row = await s.p.db.cardRefund.findUniqueOrThrow({ where: { id: r.refundId } });
    const refund = {
      ...fixtures.resources.refund,
      id: row.stripeRefundId ?? `re_${key().replaceAll("-", "_")}`,
      amount: 4_000,
      currency: "aud",
      charge: card.stripeChargeId,
      payment_intent: card.stripePaymentIntentId,
      metadata: { bc_refund_id: String(row.id), bc_card_payment_id: String(cardId) },
    };
    const rows = async () => [
      await s.p.db.cardRefund.findUniqueOrThrow({ where: { id: row.id } }),
      await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: cardId } }),
    ];
    return { m, row, refund, rows };
  }

  test("refund.failed for a refund we never made does not reverse a succeeded refund", async () => {
    const { m, row, refund, rows } = await refunded();
    expect(row.status).toBe("SUCCEEDED");
    const failed = { ...refund, status: "failed", failure_reason: "expired_or_canceled_card" };
    for (const type of ["refund.failed", "refund.updated"]) {
      await expectIgnored(
        type,
        {
          "another refund id": { ...failed, id: "re_not_ours" },
          "another charge": { ...failed, charge: "ch_not_ours" },
          "another payment intent": { ...failed, payment_intent: "pi_not_ours" },
          "another amount": { ...failed, amount: 3_999 },
          "another currency": { ...failed, currency: "usd" },
          "another card payment": { ...failed, metadata: { ...failed.metadata, bc_card_payment_id: "999999" } },
        },
        rows,
        new RegExp(`^ignored: does not match refund ${row.id}: `),
      );
    }
    expect(await getBalance(s.p, m.id)).toBe(6_000n);

    // The finance page lists each ignored event with its reason.
    const { agent } = await signIn(s.app, finance.email);
    const page = await agent.get("/payments/admin-stripe-events");
    expect(page.text).toContain(`does not match refund ${row.id}: id is re_not_ours, ours is ${row.stripeRefundId}`);

    // The same event about our own refund is applied: Stripe may fail a refund after it succeeded.
    const ok = await deliver("refund.failed", failed);
    expect(ok.body.outcome).toBe(`refund ${row.id} failed: credits returned`);
    expect(await getBalance(s.p, m.id)).toBe(10_000n);
  });

  test("a refund whose Stripe id we have not stored is matched by its charge and amount, then the id stored", async () => {
    const { row, refund, rows } = await refunded({ holdWebhooks: true });
    expect(row).toMatchObject({ status: "PENDING", stripeRefundId: null });
    const failed = { ...refund, status: "failed" };
    await expectIgnored(
      "refund.failed",
      {
        "another charge": { ...failed, charge: "ch_not_ours" },
        "no charge": { ...failed, charge: null, payment_intent: null },
        "another amount": { ...failed, amount: 4_001 },
      },
      rows,
      new RegExp(`^ignored: (does not match|not matched to) refund ${row.id}: `),
    );
    // Stripe's own events for it (held until now) match: the refund succeeds and learns its id.
    s.emulator.webhooks.release();
    await webhooksSettled(s.emulator);
    const saved = await s.p.db.cardRefund.findUniqueOrThrow({ where: { id: row.id } });
    expect(saved.status).toBe("SUCCEEDED");
    expect(saved.stripeRefundId).toMatch(/^re_/);
    await expectIgnored(
      "refund.failed",
      { "the id we made up above": failed },
      rows,
      new RegExp(`^ignored: does not match refund ${row.id}: id is ${refund.id}, ours is re_`),
    );
  });
});

describe("setup_intent.succeeded", () => {
  test("a set-up for another customer does not switch auto top-up on", async () => {
    const m = await makeUser(s.p.db);
    await ensureStripeCustomer(s.p, m.id);
    await s.p.db.user.update({ where: { id: m.id }, data: { autoTopUpStatus: "PENDING" } });
    const si = { ...fixtures.resources.setup_intent, status: "succeeded", metadata: { bc_user_id: String(m.id) } };
    await expectIgnored(
      "setup_intent.succeeded",
      { "another customer": { ...si, customer: "cus_not_ours" }, "no customer": { ...si, customer: null } },
      () => s.p.db.user.findUniqueOrThrow({ where: { id: m.id } }),
      /^ignored: does not match member \d+'s card set-up: customer is /,
    );
  });
});

describe("signature timestamps", () => {
  test("a signature stamped beyond the tolerance in the future is refused; slight clock skew is not", async () => {
    const { card, charge } = await checkoutWithCharge(s, 5_000n);
    // The emulator's own events for that checkout (customer.created, payment_intent.created) arrive on their own
    // time; count the inbox once they are in.
    await webhooksSettled(s.emulator);
    const now = Math.floor(Date.now() / 1000);
    const before = await ledgerSnapshot(s.p);
    const future = await deliver("charge.succeeded", charge, now + 6 * 60);
    expect(future.status).toBe(400);
    // This event only: the emulator may still be delivering other tests' events to the same inbox.
    expect(await s.p.db.stripeEvent.count({ where: { id: future.id } })).toBe(0);
    expect(await ledgerSnapshot(s.p)).toBe(before);

    const skewed = await deliver("charge.succeeded", charge, now + 60);
    expect(skewed).toMatchObject({ status: 200, body: { outcome: `booked: card payment ${card.id}` } });
  });
});
