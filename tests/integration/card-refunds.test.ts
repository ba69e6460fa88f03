// Refunds to the card (reference §3.8 member, §3.9 admin): every refusal rule, the fee to federation income, and
// ledger, card record and refund record agreeing when Stripe refuses — at once or days later by webhook.
import { adminRefund, memberRefund, memberRefundQuote } from "../../src/services/cards/card-refunds";
import { createCheckout } from "../../src/services/cards/checkout";
import { getBalance } from "../../src/services/payments/balances";
import { makeUser } from "../helpers/app";
import { type CardStack, startCardStack, topUpByCard, webhooksSettled } from "../helpers/card-stack";
import { fundMember, key, violations } from "../helpers/payments";

let s: CardStack;
let finance: { id: number };
beforeAll(async () => {
  s = await startCardStack();
  finance = await makeUser(s.p.db, { level: "EDIT" });
});
afterAll(() => s.close());
afterEach(async () => {
  s.emulator.store.availableOverride = null;
  expect(await violations(s.p)).toEqual([]);
});

/** A member who topped up `cents` by card through the checkout (booked by the webhook). */
async function toppedUp(cents: bigint) {
  const m = await makeUser(s.p.db);
  const card = { id: await topUpByCard(s, m.id, cents) };
  expect(await getBalance(s.p, m.id)).toBe(cents);
  return { m, cardId: card.id };
}

async function systemBalance(code: string) {
  return (await s.p.db.account.findUniqueOrThrow({ where: { systemCode: code } })).balanceCents;
}

const stripeRefunds = () => [...s.emulator.store.objects.values()].filter((o) => o.object === "refund");

describe("member self-refund (§3.8)", () => {
  test("refunds the rest less 3 %: $100 → $97 to the card, $3 to federation fees", async () => {
    const { m, cardId } = await toppedUp(10_000n);
    const fees = await systemBalance("FEE_INCOME");
    expect(await memberRefundQuote(s.p, m.id, cardId)).toMatchObject({
      creditsCents: 10_000n,
      feeCents: 300n,
      cardAmountCents: 9_700n,
      balanceAfterCents: 0n,
    });
    const r = await memberRefund(s.p, m.id, cardId);
    expect(r).toMatchObject({ status: "SUCCEEDED", message: "Refund Request Submitted" });
    expect(await getBalance(s.p, m.id)).toBe(0n);
    expect((await systemBalance("FEE_INCOME")) - fees).toBe(300n);
    expect(stripeRefunds().at(-1)).toMatchObject({ amount: 9_700, status: "succeeded" });
    expect(await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: cardId } })).toMatchObject({
      status: "REFUNDED",
      refundedCents: 10_000n,
    });
  });

  test("every refusal, with the original's message, changing nothing", async () => {
    const { m, cardId } = await toppedUp(6_000n);
    const other = await makeUser(s.p.db);
    const before = stripeRefunds().length;
    await expect(memberRefund(s.p, other.id, cardId)).rejects.toThrow("Action Prohibited - transaction is not yours");
    await expect(memberRefund(s.p, m.id, 999_999)).rejects.toThrow("Invalid transaction for a refund");
    const unpaid = await createCheckout(s.p, {
      userId: m.id,
      amountCents: 5_000n,
      description: "Manual Top Up",
      requestKey: key(),
    });
    await expect(memberRefund(s.p, m.id, unpaid.id)).rejects.toThrow("Invalid transaction for a refund");

    // Spent part of it: the balance would go negative.
    await fundMember(s.p, m.id, -1_000n, finance.id);
    await expect(memberRefund(s.p, m.id, cardId)).rejects.toThrow("Cannot refund. Balance will be negative");
    await fundMember(s.p, m.id, 1_000n, finance.id);

    s.emulator.store.availableOverride = 5_819; // one cent short of the $58.20 that would go back to the card
    await expect(memberRefund(s.p, m.id, cardId)).rejects.toThrow(
      "Cannot refund. We have insufficient funds available with Stripe. Please try again later.",
    );
    s.emulator.store.availableOverride = null;

    await s.p.db.$executeRaw`UPDATE card_payments SET created_at = now() - interval '13 weeks' WHERE id = ${cardId}`;
    await expect(memberRefund(s.p, m.id, cardId)).rejects.toThrow("Cannot refund. Transaction is too old.");
    await s.p.db.$executeRaw`UPDATE card_payments SET created_at = now() WHERE id = ${cardId}`;

    expect(stripeRefunds()).toHaveLength(before);
    expect(await getBalance(s.p, m.id)).toBe(6_000n);
    await memberRefund(s.p, m.id, cardId);
    await expect(memberRefund(s.p, m.id, cardId)).rejects.toThrow("Transaction already refunded");
  });

  test("two refunds of the same payment at once: one is made", async () => {
    const { m, cardId } = await toppedUp(5_000n);
    const results = await Promise.allSettled([memberRefund(s.p, m.id, cardId), memberRefund(s.p, m.id, cardId)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await getBalance(s.p, m.id)).toBe(0n);
  });
});

describe("admin refund (§3.9)", () => {
  test("any part, no fee, repeated until the whole; the balance may go negative", async () => {
    const { m, cardId } = await toppedUp(8_000n);
    await fundMember(s.p, m.id, -7_000n, finance.id); // the member spent most of it
    await adminRefund(s.p, { adminUserId: finance.id, cardPaymentId: cardId, amountCents: 3_000n, description: "" });
    expect(await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: cardId } })).toMatchObject({
      status: "PARTIAL_REFUND",
      refundedCents: 3_000n,
    });
    expect(await getBalance(s.p, m.id)).toBe(-2_000n);
    const r = await adminRefund(s.p, {
      adminUserId: finance.id,
      cardPaymentId: cardId,
      amountCents: 5_000n,
      description: "Goodwill",
    });
    expect(r.message).toBe("Refund Successful. Paid $50.00 to the member's card");
    expect(await getBalance(s.p, m.id)).toBe(-7_000n);
    expect(
      stripeRefunds()
        .slice(-2)
        .map((x) => x.amount),
    ).toEqual([3_000, 5_000]);
    expect((await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: cardId } })).status).toBe("REFUNDED");
  });

  test("refusals: own payment, zero, negative, more than is left", async () => {
    const { m, cardId } = await toppedUp(5_000n);
    const refund = (adminUserId: number, amountCents: bigint) =>
      adminRefund(s.p, { adminUserId, cardPaymentId: cardId, amountCents, description: "x" });
    await expect(refund(m.id, 1_000n)).rejects.toThrow("You cannot refund your own transactions");
    await expect(refund(finance.id, 0n)).rejects.toThrow("Please enter a value");
    await expect(refund(finance.id, -1n)).rejects.toThrow("Amount cannot be negative");
    await expect(refund(finance.id, 5_001n)).rejects.toThrow("Too large. Refund is more than was paid.");
    expect(await getBalance(s.p, m.id)).toBe(5_000n);
  });
});

describe("when Stripe refuses", () => {
  test("at once: the credits come back and the refund is marked failed", async () => {
    const { m, cardId } = await toppedUp(5_000n);
    s.emulator.store.availableOverride = 0; // Stripe answers balance_insufficient
    await expect(
      adminRefund(s.p, { adminUserId: finance.id, cardPaymentId: cardId, amountCents: 5_000n, description: "x" }),
    ).rejects.toThrow("The card refund failed");
    expect(await getBalance(s.p, m.id)).toBe(5_000n);
    expect(await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: cardId } })).toMatchObject({
      status: "SUCCEEDED",
      refundedCents: 0n,
    });
    expect((await s.p.db.cardRefund.findFirstOrThrow({ where: { cardPaymentId: cardId } })).status).toBe("FAILED");
  });

  test("days later (refund.failed webhook): the credits come back once, however often it is delivered", async () => {
    const { m, cardId } = await toppedUp(5_000n);
    s.emulator.store.refundsToFailLater = 1;
    const r = await memberRefund(s.p, m.id, cardId);
    expect(r.status).toBe("PENDING");
    await webhooksSettled(s.emulator);
    expect(await getBalance(s.p, m.id)).toBe(0n);
    s.emulator.webhooks.duplicates = 2;
    try {
      s.emulator.store.failPendingRefunds();
      await webhooksSettled(s.emulator);
    } finally {
      s.emulator.webhooks.duplicates = 0;
    }
    expect(await getBalance(s.p, m.id)).toBe(5_000n);
    expect(await s.p.db.cardRefund.findUniqueOrThrow({ where: { id: r.refundId } })).toMatchObject({
      status: "FAILED",
    });
    expect((await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: cardId } })).refundedCents).toBe(0n);
  });

  test("no answer: the refund stays pending with the credits held, and Stripe's webhook settles it", async () => {
    const { m, cardId } = await toppedUp(5_000n);
    // The SDK retries a dropped connection once by itself, so drop both attempts.
    s.emulator.faults.push({ kind: "drop_after", path: "/v1/refunds" }, { kind: "drop_after", path: "/v1/refunds" });
    const r = await memberRefund(s.p, m.id, cardId);
    expect(r.status).toBe("PENDING");
    await webhooksSettled(s.emulator);
    expect(await getBalance(s.p, m.id)).toBe(0n);
    const saved = await s.p.db.cardRefund.findUniqueOrThrow({ where: { id: r.refundId } });
    expect(saved.status).toBe("SUCCEEDED"); // refund.created carried our id and "succeeded"
    expect(saved.stripeRefundId).toMatch(/^re_/);
  });
});
