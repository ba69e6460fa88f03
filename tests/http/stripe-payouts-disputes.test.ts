// Stripe payouts and card disputes (issue 20, items 2 and 3), driven through the emulator: it pays out, opens and
// decides disputes, and posts its signed events to the real webhook route — held back, then released shuffled
// and duplicated, or re-posted in a chosen order. Each step must be booked exactly once, the ledger's rules must
// hold (ledger_violations() clean after every test), and the card-funds check on reconciliation must agree.
import { randomUUID } from "node:crypto";
import { signatureHeader } from "../../src/infra/stripe-emulator";
import { emulatedFee } from "../../src/infra/stripe-emulator/store";
import type { StripeEventObject } from "../../src/infra/stripe-emulator/webhook-sender";
import { createCheckout, createCheckoutIntent } from "../../src/services/cards/checkout";
import { getBalance } from "../../src/services/payments/balances";
import { paymentApiBatch } from "../../src/services/payments/payment-api-batch";
import { activePaymentSettings } from "../../src/services/payments/settings";
import { expectedCardFee } from "../../src/services/payouts/book-payout";
import { reconciliationSummary } from "../../src/services/settlement/reconciliation";
import { csrfToken, makeClub, makeUser, signIn } from "../helpers/app";
import { type CardStack, payAtBrowser, startCardStack, topUpByCard, webhooksSettled } from "../helpers/card-stack";
import { key, ledgerSnapshot, violations } from "../helpers/payments";

let s: CardStack;
beforeAll(async () => {
  s = await startCardStack();
  // The federation's own organisation: IOUs for disputes are owed to it.
  await s.p.db.organisation.create({
    data: { clubNumber: "ABF", name: "Australian Bridge Federation", type: "NATIONAL" },
  });
});
afterAll(() => s.close());
afterEach(async () => {
  s.emulator.webhooks.hold = false;
  s.emulator.sendWebhooksTo(`${s.base}/payments/stripe-webhook`);
  expect(await violations(s.p)).toEqual([]);
  // Stripe's money, computed from the payout, dispute, card and refund records, equals the ledger's card funds.
  const rec = await reconciliationSummary(s.p, new Date().toISOString().slice(0, 10));
  expect(rec.cardFunds.differenceCents).toBe(0n);
});

const system = async (code: string) =>
  (await s.p.db.account.findFirstOrThrow({ where: { systemCode: code } })).balanceCents;
const systems = async () => ({
  card: await system("CARD_FUNDS"),
  bank: await system("FEDERATION_BANK"),
  fees: await system("STRIPE_FEES"),
  disputes: await system("DISPUTES"),
});
const postings = (prefix: string) => s.p.db.posting.count({ where: { idempotencyKey: { startsWith: prefix } } });
const eventsOf = (id: string) => s.emulator.webhooks.events.filter((e) => e.data.object.id === id);

/** Posts a Stripe event to the app, signed as the emulator signs it; answers status and the handler's answer. */
async function post(event: StripeEventObject) {
  const body = JSON.stringify(event);
  const res = await fetch(`${s.base}/payments/stripe-webhook`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "Stripe-Signature": signatureHeader(body, s.emulator.webhookSecret),
    },
    body,
  });
  return { status: res.status, body: (await res.json()) as { outcome?: string; duplicate?: boolean } };
}

/** The same event with a new id and its object changed: what a forged or foreign event would carry. */
const forged = (e: StripeEventObject, change: Record<string, unknown>): StripeEventObject => ({
  ...e,
  id: `evt_${randomUUID().replaceAll("-", "")}`,
  data: { object: { ...e.data.object, ...change } },
});

/** Releases held events, each `copies` times, shuffled; waits until Stripe's retries are done. */
async function releaseShuffled(copies: number) {
  s.emulator.webhooks.hold = false;
  s.emulator.webhooks.release({ copies, shuffle: true });
  await webhooksSettled(s.emulator);
  await new Promise((r) => setTimeout(r, 150)); // a retry after a 500 (dispute before its charge) lands
  await webhooksSettled(s.emulator);
}

describe("payouts", () => {
  test("payout.paid shuffled and duplicated books the payout and Stripe's fees once; a later failure reverses the payment once", async () => {
    await topUpByCard(s, (await makeUser(s.p.db)).id, 5_000n);
    await topUpByCard(s, (await makeUser(s.p.db)).id, 3_000n);
    const before = await systems();
    s.emulator.webhooks.hold = true;
    const po = s.emulator.store.createPayout();
    await releaseShuffled(3);

    const fees = BigInt(emulatedFee(5_000) + emulatedFee(3_000));
    expect(po.amount).toBe(8_000 - Number(fees));
    const after = await systems();
    expect(after.bank - before.bank).toBe(-BigInt(po.amount as number));
    expect(after.fees - before.fees).toBe(-fees);
    expect(after.card - before.card).toBe(8_000n);
    expect(await postings(`payout:${po.id}`)).toBe(2);
    const settings = await activePaymentSettings(s.p.db);
    const row = await s.p.db.stripePayout.findUniqueOrThrow({ where: { id: po.id } });
    expect(row).toMatchObject({ status: "paid", feeCents: fees, transactionCount: 2 });
    expect(row.expectedFeeCents).toBe(expectedCardFee(5_000n, settings) + expectedCardFee(3_000n, settings));

    // The bank returns it days later (Stripe documents paid → failed): the bank money goes back, once.
    s.emulator.webhooks.hold = true;
    s.emulator.store.failPayout(po.id);
    await releaseShuffled(2);
    const failed = await systems();
    expect(failed.bank).toBe(before.bank);
    expect(failed.fees - before.fees).toBe(-fees);
    expect(await postings(`payout:${po.id}`)).toBe(3);
    expect((await s.p.db.stripePayout.findUniqueOrThrow({ where: { id: po.id } })).status).toBe("failed");

    // Stripe pays the returned money out again: no new fees (the failure's balance transaction has none).
    const again = s.emulator.store.createPayout();
    await webhooksSettled(s.emulator);
    expect(again.amount).toBe(po.amount);
    expect((await systems()).bank - before.bank).toBe(-BigInt(po.amount as number));
    expect(await s.p.db.stripePayout.findUniqueOrThrow({ where: { id: again.id } })).toMatchObject({ feeCents: 0n });
  });

  test("payout.paid arriving after payout.failed books no payment; every copy after the first changes nothing", async () => {
    await topUpByCard(s, (await makeUser(s.p.db)).id, 2_000n);
    s.emulator.sendWebhooksTo(null); // recorded only; posted below in the order chosen
    const po = s.emulator.store.createPayout();
    s.emulator.store.failPayout(po.id);
    const [paid] = eventsOf(po.id).filter((e) => e.type === "payout.paid");
    const [fail] = eventsOf(po.id).filter((e) => e.type === "payout.failed");
    const before = await systems();
    expect((await post(fail!)).body.outcome).toMatch(/fees .* booked .*; failed before it was paid/);
    const once = await ledgerSnapshot(s.p);
    expect((await post(paid!)).body.outcome).toMatch(/nothing to book/);
    expect((await post(fail!)).body).toMatchObject({ duplicate: true });
    expect(await ledgerSnapshot(s.p)).toBe(once);
    expect((await systems()).bank).toBe(before.bank);
    expect(await postings(`payout:${po.id}`)).toBe(1); // the fees
  });

  test("a payout event whose amount or currency differs from Stripe's payout changes nothing", async () => {
    await topUpByCard(s, (await makeUser(s.p.db)).id, 1_500n);
    s.emulator.sendWebhooksTo(null);
    const po = s.emulator.store.createPayout();
    const [paid] = eventsOf(po.id).filter((e) => e.type === "payout.paid");
    const before = await ledgerSnapshot(s.p);
    for (const change of [
      { amount: (po.amount as number) + 100 },
      { currency: "usd" },
      { balance_transaction: "txn_x" },
    ]) {
      const r = await post(forged(paid!, change));
      expect({ change, status: r.status, outcome: r.body.outcome }).toEqual({
        change,
        status: 200,
        outcome: expect.stringMatching(/^ignored: does not match Stripe's payout/),
      });
    }
    expect(await ledgerSnapshot(s.p)).toBe(before);
    expect(await s.p.db.stripePayout.findUnique({ where: { id: po.id } })).toBeNull();
    expect((await post(paid!)).body.outcome).toMatch(/paid .* booked/); // Stripe's own event books it
  });

  test("finance's Check with Stripe books a payout whose webhook never came; the late webhook books nothing more", async () => {
    await topUpByCard(s, (await makeUser(s.p.db)).id, 4_000n);
    s.emulator.sendWebhooksTo(null);
    const po = s.emulator.store.createPayout();
    const member = (await signIn(s.app, (await makeUser(s.p.db)).email)).agent;
    const viewer = (await signIn(s.app, (await makeUser(s.p.db, { level: "VIEW" })).email)).agent;
    const editor = (await signIn(s.app, (await makeUser(s.p.db, { level: "EDIT" })).email)).agent;
    expect((await member.get("/payments/stripe-payouts")).status).toBe(403);
    const seen = await viewer.get("/payments/stripe-payouts");
    expect(seen.status).toBe(200);
    expect(seen.text).not.toContain("Check with Stripe");
    const viewerToken = await csrfToken(viewer, "/payments/stripe-payouts");
    expect((await viewer.post("/payments/stripe-payouts/check").type("form").send({ _csrf: viewerToken })).status).toBe(
      403,
    );
    expect(await s.p.db.stripePayout.findUnique({ where: { id: po.id } })).toBeNull();

    const token = await csrfToken(editor, "/payments/stripe-payouts");
    expect((await editor.post("/payments/stripe-payouts/check").type("form").send({ _csrf: token })).status).toBe(302);
    const page = (await editor.get("/payments/stripe-payouts")).text;
    expect(page).toContain(`payout ${po.id}: fees`);
    expect(page).toContain(po.id);
    expect(await postings(`payout:${po.id}`)).toBe(2);
    const audited = await s.p.db.$queryRaw<{ action: string }[]>`
      SELECT action FROM audit_events WHERE target_type = 'stripe_payout' AND target_id = ${po.id}`;
    expect(audited).toEqual([{ action: "stripe.repair" }]);
    const booked = await ledgerSnapshot(s.p);
    const [paid] = eventsOf(po.id).filter((e) => e.type === "payout.paid");
    expect((await post(paid!)).body.outcome).toMatch(/nothing to book/);
    expect(await ledgerSnapshot(s.p)).toBe(booked);

    // The emulator's pay-out button, as rendered: with nothing left to pay out, the emulator's refusal is shown.
    const form = (await editor.get("/payments/stripe-payouts")).text;
    const value = /action="\/payments\/stripe-payouts\/emulator\/pay-out"[\s\S]*?name="action" value="([a-z]+)"/.exec(
      form,
    )![1]!;
    expect(
      (await editor.post("/payments/stripe-payouts/emulator/pay-out").type("form").send({ _csrf: token })).status,
    ).toBe(400);
    await editor.post("/payments/stripe-payouts/emulator/pay-out").type("form").send({ _csrf: token, action: value });
    expect((await editor.get("/payments/stripe-payouts")).text).toContain("There is no available balance to pay out.");
    expect(await ledgerSnapshot(s.p)).toBe(booked);
  });
});

describe("disputes", () => {
  /** A member tops up by card through the checkout with `card`, all events held back until the end. */
  async function checkoutHeld(userId: number, cents: bigint, card: string) {
    const c = await createCheckout(s.p, {
      userId,
      amountCents: cents,
      description: "Manual Top Up",
      requestKey: key(),
    });
    const { clientSecret } = await createCheckoutIntent(s.p, userId, c.id);
    s.emulator.webhooks.hold = true;
    await payAtBrowser(s.emulator, clientSecret, card);
    return c.id;
  }

  test("Stripe's test card 0259: the charge and its dispute's events, shuffled and duplicated, book once", async () => {
    const m = await makeUser(s.p.db);
    await s.p.db.user.update({ where: { id: m.id }, data: { autoTopUpStatus: "ON" } });
    const finance = await makeUser(s.p.db, { level: "VIEW" });
    const before = await systems();
    const cardId = await checkoutHeld(m.id, 5_000n, "4000000000000259");
    await releaseShuffled(2);

    const [d] = await s.p.db.cardDispute.findMany({ where: { cardPaymentId: cardId } });
    expect(d).toMatchObject({
      amountCents: 5_000n,
      feeCents: 1_500n,
      takenCents: 5_000n,
      iouCents: 0n,
      reason: "fraudulent",
    });
    expect(d!.withdrawnAt).not.toBeNull();
    expect(await getBalance(s.p, m.id)).toBe(0n);
    const after = await systems();
    expect(after.card - before.card).toBe(-5_000n + 6_500n);
    expect(after.disputes - before.disputes).toBe(-1_500n);
    expect(await postings(`dispute:${d!.id}`)).toBe(2);
    expect((await s.p.db.user.findUniqueOrThrow({ where: { id: m.id } })).autoTopUpStatus).toBe("OFF");
    const told = await s.p.db.notification.findMany({ where: { kind: "CARD_DISPUTE" } });
    expect(told.map((n) => n.userId)).toEqual(expect.arrayContaining([m.id, finance.id]));
  });

  test("a member who spent the credits ends at zero plus an IOU; reinstatement puts every balance back exactly", async () => {
    const m = await makeUser(s.p.db);
    const club = await makeClub(s.p.db);
    const cardId = await topUpByCard(s, m.id, 5_000n);
    const spent = await paymentApiBatch(s.p, {
      memberId: m.id,
      organisationId: club.id,
      amountCents: 4_000n,
      description: "Congress entry",
      idempotencyKey: key(),
    });
    expect(spent.ok).toBe(true);
    const card = await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: cardId } });
    const balances = async () =>
      JSON.stringify(
        await s.p.db.account.findMany({ orderBy: { id: "asc" }, select: { id: true, balanceCents: true } }),
        (_k, v) => (typeof v === "bigint" ? v.toString() : v),
      );
    const beforeWithdrawal = await balances();

    s.emulator.webhooks.hold = true;
    const dp = s.emulator.store.openDispute(card.stripeChargeId!, "product_not_received");
    await releaseShuffled(3);
    expect(await getBalance(s.p, m.id)).toBe(0n);
    const row = await s.p.db.cardDispute.findUniqueOrThrow({ where: { id: dp.id } });
    expect(row).toMatchObject({ takenCents: 1_000n, iouCents: 4_000n });
    const iou = await s.p.db.iou.findUniqueOrThrow({ where: { id: row.iouId! } });
    expect(iou).toMatchObject({ systemNumber: m.systemNumber, amountCents: 4_000n });
    expect((await s.p.db.organisation.findUniqueOrThrow({ where: { id: iou.organisationId } })).clubNumber).toBe("ABF");

    s.emulator.webhooks.hold = true;
    s.emulator.store.closeDispute(dp.id, "won");
    await releaseShuffled(2);
    expect(await balances()).toBe(beforeWithdrawal);
    expect(await s.p.db.iou.findUnique({ where: { id: iou.id } })).toBeNull();
    expect(await s.p.db.cardDispute.findUniqueOrThrow({ where: { id: dp.id } })).toMatchObject({
      status: "won",
      givenBackCents: 1_000n,
      reinstatedCents: 6_500n,
    });
    expect(await postings(`dispute:${dp.id}`)).toBe(4);
    // Every event again, in reverse: nothing more.
    const done = await ledgerSnapshot(s.p);
    for (const e of eventsOf(dp.id).reverse()) expect((await post(forged(e, {}))).status).toBe(200);
    expect(await ledgerSnapshot(s.p)).toBe(done);
  });

  test("a dispute event whose amount, currency or charge does not match our card payment changes nothing", async () => {
    const m = await makeUser(s.p.db);
    const other = await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: await topUpByCard(s, m.id, 2_000n) } });
    const card = await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: await topUpByCard(s, m.id, 3_000n) } });
    s.emulator.sendWebhooksTo(null);
    const dp = s.emulator.store.openDispute(card.stripeChargeId!, "fraudulent");
    const [withdrawn] = eventsOf(dp.id).filter((e) => e.type === "charge.dispute.funds_withdrawn");
    const before = await ledgerSnapshot(s.p);
    const variants: Record<string, Record<string, unknown>> = {
      amount: { amount: 2_999 },
      currency: { currency: "usd" },
      charge: { charge: other.stripeChargeId, payment_intent: other.stripePaymentIntentId },
      "charge unknown": { charge: "ch_not_ours", payment_intent: card.stripePaymentIntentId },
      "more than the payment": { amount: 3_001 },
    };
    for (const [what, change] of Object.entries(variants)) {
      const r = await post(forged(withdrawn!, change));
      expect({ what, status: r.status, outcome: r.body.outcome }).toEqual({
        what,
        status: 200,
        outcome: expect.stringMatching(/^ignored: /),
      });
    }
    expect(await ledgerSnapshot(s.p)).toBe(before);
    expect(await s.p.db.cardDispute.count({ where: { id: dp.id } })).toBe(0);
    expect((await post(withdrawn!)).body.outcome).toMatch(/withdrawn \$30\.00/); // the real one books
  });
});

describe("the disputes page", () => {
  test("finance viewers see disputes with a link to the card payment; only editors act, in emulator mode", async () => {
    const m = await makeUser(s.p.db);
    const cardId = await topUpByCard(s, m.id, 2_500n);
    const anonymous = await fetch(`${s.base}/payments/disputes`, { redirect: "manual" });
    expect(anonymous.status).toBe(302);
    const member = (await signIn(s.app, m.email)).agent;
    const viewer = (await signIn(s.app, (await makeUser(s.p.db, { level: "VIEW" })).email)).agent;
    const editor = (await signIn(s.app, (await makeUser(s.p.db, { level: "EDIT" })).email)).agent;
    expect((await member.get("/payments/disputes")).status).toBe(403);
    const seen = await viewer.get("/payments/disputes");
    expect(seen.status).toBe(200);
    expect(seen.text).not.toContain("Open a dispute");
    const viewerToken = await csrfToken(viewer, "/payments/disputes");
    const refused = await viewer
      .post("/payments/disputes/emulator/open")
      .type("form")
      .send({ _csrf: viewerToken, card_payment_id: String(cardId), reason: "fraudulent" });
    expect(refused.status).toBe(403);

    // The editor opens a dispute with the page's own form, as rendered.
    const page = (await editor.get("/payments/disputes")).text;
    expect(page).toContain('action="/payments/disputes/emulator/open"');
    const token = await csrfToken(editor, "/payments/disputes");
    const reason = /<option>([a-z_]+)<\/option>/.exec(page)![1]!;
    const bad = await editor
      .post("/payments/disputes/emulator/open")
      .type("form")
      .send({ _csrf: token, card_payment_id: "999999", reason });
    expect(bad.status).toBe(302);
    expect((await editor.get("/payments/disputes")).text).toContain("is not a succeeded card payment");
    await editor
      .post("/payments/disputes/emulator/open")
      .type("form")
      .send({ _csrf: token, card_payment_id: String(cardId), reason });
    await webhooksSettled(s.emulator);
    const [d] = await s.p.db.cardDispute.findMany({ where: { cardPaymentId: cardId } });
    expect(d).toBeDefined();
    const listed = (await viewer.get("/payments/disputes")).text;
    expect(listed).toContain(d!.id);
    expect(listed).toContain(`href="/payments/admin-view-stripe-transaction-detail/${cardId}"`);
    expect(listed).toContain("needs_response");
    expect(listed).toContain("$25.00");

    const close = /action="(\/payments\/disputes\/emulator\/[^"]+\/close)"[\s\S]*?name="outcome" value="(won)"/.exec(
      (await editor.get("/payments/disputes")).text,
    )!;
    expect((await viewer.post(close[1]!).type("form").send({ _csrf: viewerToken, outcome: close[2]! })).status).toBe(
      403,
    );
    await editor.post(close[1]!).type("form").send({ _csrf: token, outcome: close[2]! });
    await webhooksSettled(s.emulator);
    expect(await s.p.db.cardDispute.findUniqueOrThrow({ where: { id: d!.id } })).toMatchObject({ status: "won" });
    expect(await getBalance(s.p, m.id)).toBe(2_500n);
  });
});
