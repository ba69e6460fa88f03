// A session's charges in one batch with mixed outcomes, refunds of API charges, IOUs, and a charge paid at a card
// checkout; ledger invariants after each.
import { createCheckoutIntent } from "../../src/services/cards/checkout";
import {
  type ApiStack,
  api,
  makeKey,
  memberWith,
  newIdempotencyKey,
  outboxEvents,
  startApiStack,
} from "../helpers/api";
import { makeClub } from "../helpers/app";
import { payAtBrowser, webhooksSettled } from "../helpers/card-stack";
import { payIou, payIouInteractive } from "../../src/services/payments/ious";
import { CARDS, fundMember, fundOrganisation, saveCard, violations } from "../helpers/payments";

let s: ApiStack;
let club: { id: number; clubNumber: string };
let key: string;
beforeAll(async () => {
  s = await startApiStack();
  club = await makeClub(s.p.db);
  key = (await makeKey(s, { organisationId: club.id })).secret;
});
afterAll(() => s.close());
afterEach(async () => expect(await violations(s.p)).toEqual([]));

const balanceOf = async (userId: number) =>
  (await s.p.db.account.findUnique({ where: { userId }, select: { balanceCents: true } }))?.balanceCents ?? 0n;

const item = (member: number, amount: number, extra: Record<string, unknown> = {}) => ({
  member,
  amount,
  currency: "aud",
  description: "Session 30 Nov",
  session_id: 4,
  ...extra,
});

test("a batch with mixed outcomes: paid, topped up, IOU, unknown member, not enough money — in order, each on its own", async () => {
  const paid = await memberWith(s, 2_000n);
  const topped = await memberWith(s, 100n);
  await saveCard(s, topped.id, CARDS.ok, 5_000n);
  const owes = await memberWith(s, 0n);
  const short = await memberWith(s, 100n);
  const k = newIdempotencyKey();
  const charges = [
    item(paid.systemNumber, 1_500),
    item(topped.systemNumber, 1_500),
    item(owes.systemNumber, 1_500, { when_insufficient: "iou" }),
    item(999_999_998, 1_500),
    item(short.systemNumber, 1_500),
  ];
  const res = await api(s, key).post("/charges/batch", { charges }, k);
  expect(res.status).toBe(200);
  const data = res.body.data as {
    index: number;
    status: number;
    charge?: Record<string, unknown>;
    error?: Record<string, unknown>;
  }[];
  expect(data.map((d) => [d.index, d.status])).toEqual([
    [0, 201],
    [1, 201],
    [2, 201],
    [3, 404],
    [4, 402],
  ]);
  expect(data[0]!.charge).toMatchObject({ status: "succeeded", top_up_amount: null, session_id: 4 });
  expect(data[1]!.charge).toMatchObject({ status: "succeeded", top_up_amount: 5_000 });
  expect(data[2]!.charge).toMatchObject({ status: "iou" });
  expect(data[3]!.error).toMatchObject({ code: "member_not_found" });
  expect(data[4]!.error).toMatchObject({ code: "insufficient_funds" });
  expect(await balanceOf(paid.id)).toBe(500n);
  expect(await balanceOf(topped.id)).toBe(3_600n);
  expect(await balanceOf(owes.id)).toBe(0n);
  expect(await balanceOf(short.id)).toBe(100n);
  expect(await s.p.db.iou.count({ where: { systemNumber: owes.systemNumber, organisationId: club.id } })).toBe(1);

  // The same batch again: the same answer, nothing new booked or charged.
  const entries = await s.p.db.entry.count();
  const again = await api(s, key).post("/charges/batch", { charges }, k);
  expect(again.text).toBe(res.text);
  expect(await s.p.db.entry.count()).toBe(entries);
  expect(await s.p.db.iou.count({ where: { systemNumber: owes.systemNumber } })).toBe(1);
});

test("batch limits: at most 500 charges, at least one", async () => {
  const m = await memberWith(s, 0n);
  const many = Array.from({ length: 501 }, () => item(m.systemNumber, 100));
  expect((await api(s, key).post("/charges/batch", { charges: many })).body.code).toBe("invalid_request");
  expect((await api(s, key).post("/charges/batch", { charges: [] })).body.code).toBe("invalid_request");
});

test("refunds: all or part of a charge, never more than is left; booked as Refund on both sides", async () => {
  const m = await memberWith(s, 5_000n);
  const c = await api(s, key).post("/charges", item(m.systemNumber, 2_000));
  expect(c.status).toBe(201);
  const part = await api(s, key).post("/refunds", { charge: c.body.id, amount: 500 });
  expect(part.status).toBe(201);
  expect(part.body).toMatchObject({ object: "refund", amount: 500, charge: c.body.id, charge_amount_refunded: 500 });
  expect(await balanceOf(m.id)).toBe(3_500n);
  expect(
    s.events.find((e) => e.type === "refund.succeeded" && (e.data.refund as { id: string }).id === part.body.id)
      ?.inTransaction,
  ).toBe(true);

  const tooMuch = await api(s, key).post("/refunds", { charge: c.body.id, amount: 1_501 });
  expect(tooMuch.status).toBe(422);
  expect(tooMuch.body.code).toBe("refund_too_large");
  const rest = await api(s, key).post("/refunds", { charge: c.body.id });
  expect(rest.body).toMatchObject({ amount: 1_500, charge_amount_refunded: 2_000 });
  expect((await api(s, key).post("/refunds", { charge: c.body.id, amount: 1 })).body.code).toBe("refund_too_large");
  expect(await balanceOf(m.id)).toBe(5_000n);
  expect((await api(s, key).get(`/charges/${c.body.id}`)).body.amount_refunded).toBe(2_000);
  const { rows: types } = await s.p.pool.query<{ type: string }>(
    `SELECT e.type FROM entries e JOIN accounts a ON a.id = e.account_id
      WHERE a.organisation_id = $1 ORDER BY e.entry_no DESC LIMIT 2`,
    [club.id],
  );
  expect(types.map((t) => t.type)).toEqual(["Refund", "Refund"]);

  // Another club's key cannot see (or refund) this charge.
  const other = await makeClub(s.p.db);
  await fundOrganisation(s.p, other.id, 10_000n, s.admin.id);
  const otherKey = (await makeKey(s, { organisationId: other.id })).secret;
  expect((await api(s, otherKey).post("/refunds", { charge: c.body.id, amount: 1 })).status).toBe(404);
});

test("IOUs: record one for a player (registered or not), read it, cancel it; a cancelled one is gone", async () => {
  const m = await memberWith(s, 0n);
  const made = await api(s, key).post("/ious", {
    member: m.systemNumber,
    amount: 1_200,
    currency: "aud",
    description: "Table money",
  });
  expect(made.status).toBe(201);
  expect(made.body).toMatchObject({ object: "iou", status: "unpaid", amount: 1_200, organisation: club.clubNumber });
  const unregistered = await api(s, key).post("/ious", {
    member: 123_456_789,
    amount: 500,
    currency: "aud",
    description: "Visitor",
  });
  expect(unregistered.status).toBe(201);
  expect((await api(s, key).get(`/ious/${made.body.id}`)).body).toEqual(made.body);
  const cancelled = await api(s, key).delete(`/ious/${made.body.id}`);
  expect(cancelled.body).toMatchObject({ id: made.body.id, status: "cancelled" });
  expect((await api(s, key).get(`/ious/${made.body.id}`)).status).toBe(404);
  expect((await api(s, key).delete(`/ious/${made.body.id}`)).status).toBe(404);
  const id = Number(made.body.id.replace("iou_", ""));
  expect((await outboxEvents(s, "iou.cancelled")).map((e) => e.source_key)).toEqual([`iou.cancelled:${id}`]);
});

test("when_insufficient checkout: the answer carries the checkout URL; the charge completes when the card payment lands", async () => {
  const m = await memberWith(s, 300n);
  const res = await api(s, key).post("/charges", item(m.systemNumber, 2_000, { when_insufficient: "checkout" }));
  expect(res.status).toBe(201);
  expect(res.body.status).toBe("pending");
  const cardId = Number(/\/payments\/checkout\/(\d+)$/.exec(res.body.checkout_url)?.[1]);
  expect(cardId).toBeGreaterThan(0);
  const card = await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: cardId } });
  expect(card.amountCents).toBe(1_700n); // the balance is used first
  const { clientSecret } = await createCheckoutIntent(s.p, m.id, cardId);
  await payAtBrowser(s.emulator, clientSecret, CARDS.ok);
  await webhooksSettled(s.emulator);
  const after = await api(s, key).get(`/charges/${res.body.id}`);
  expect(after.body).toMatchObject({ status: "succeeded", checkout_url: null });
  expect(after.body.posting_reference).toMatch(/\S/);
  expect(await balanceOf(m.id)).toBe(0n);
  const kinds = s.events
    .filter((e) => (e.data.charge as { id?: string } | undefined)?.id === res.body.id)
    .map((e) => e.type);
  expect(kinds).toEqual(["checkout.completed", "charge.succeeded"]);
});

test("a charge that became an IOU succeeds once the IOU is paid (from the balance or by card) and can be refunded", async () => {
  for (const by of ["balance", "card"] as const) {
    const m = await memberWith(s, 300n);
    const c = await api(s, key).post("/charges", item(m.systemNumber, 1_000, { when_insufficient: "iou" }));
    expect(c.body).toMatchObject({ status: "iou", posting_reference: null, failure_code: "insufficient_funds" });
    const iouId = Number(String(c.body.iou).replace("iou_", ""));
    if (by === "balance") {
      await fundMember(s.p, m.id, 1_000n, s.admin.id);
      expect((await payIou(s.p, { iouId, payerUserId: m.id })).ok).toBe(true);
    } else {
      // The member's Pay button: the balance first, a card for the rest (as the dashboard does).
      const started = await payIouInteractive(s.p, { iouId, payerUserId: m.id });
      expect(started.kind).toBe("checkout");
      const cardId = (started as { cardPaymentId: number }).cardPaymentId;
      const { clientSecret } = await createCheckoutIntent(s.p, m.id, cardId);
      await payAtBrowser(s.emulator, clientSecret, CARDS.ok);
      await webhooksSettled(s.emulator);
    }
    expect(await s.p.db.iou.count({ where: { id: iouId } })).toBe(0);
    const paid = await api(s, key).get(`/charges/${c.body.id}`);
    expect({ by, body: paid.body }).toMatchObject({
      by,
      body: { status: "succeeded", iou: c.body.iou, failure_code: null, amount: 1_000 },
    });
    expect(paid.body.posting_reference).toMatch(/\S/);
    const balance = await balanceOf(m.id);
    const refund = await api(s, key).post("/refunds", { charge: c.body.id, amount: 400 });
    expect({ by, status: refund.status }).toEqual({ by, status: 201 });
    expect(await balanceOf(m.id)).toBe(balance + 400n);
  }
});
