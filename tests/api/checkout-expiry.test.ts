// Checkouts made by when_insufficient "checkout" expire: the charge fails with failure_code "checkout_expired",
// checkout.expired and charge.failed are recorded in the same transaction, a late card payment stays on the
// member's balance (the charge is not made), and several processes expiring at once expire each charge once.
// A checkout whose card payment lands when the purchase can no longer be made (the member spent the balance
// meanwhile, or their account was made inactive) fails in the transaction that books the card payment:
// failure_code said, charge.failed recorded, the card's money left on the member's balance, the member told. A
// charge left pending on a booked card payment (by earlier code) is settled by the expiry job.
import type { ApiServices } from "../../src/services/api/api-services";
import { CHECKOUT_EXPIRY_JOB, expireCheckoutCharges } from "../../src/services/api/checkout-expiry";
import { createCheckoutIntent } from "../../src/services/cards/checkout";
import { createLogger } from "../../src/lib/logger";
import { startScheduler } from "../../src/services/jobs/scheduler";
import { type ApiStack, api, makeKey, memberWith, outboxEvents, startApiStack } from "../helpers/api";
import { makeClub } from "../helpers/app";
import { payAtBrowser, webhooksSettled } from "../helpers/card-stack";
import { CARDS, violations } from "../helpers/payments";

const DAY = 24 * 3_600_000;
/** The app's API services (its outbound-event recorder is the stack's watched one). */
const services = () => s.app.locals.apiServices as ApiServices;

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

const balanceOf = async (where: { userId: number } | { organisationId: number }) =>
  (await s.p.db.account.findFirst({ where, select: { balanceCents: true } }))?.balanceCents ?? 0n;

/** A checkout charge of $20 for a member holding $3, made `hoursAgo` hours ago. */
async function checkoutCharge(hoursAgo: number) {
  const m = await memberWith(s, 300n);
  const res = await api(s, key).post("/charges", {
    member: m.systemNumber,
    amount: 2_000,
    currency: "aud",
    description: "Congress entry",
    when_insufficient: "checkout",
  });
  expect(res.body.status).toBe("pending");
  const id = Number(String(res.body.id).slice(3));
  await s.p.pool.query("UPDATE api_charges SET created_at = now() - $2 * interval '1 hour' WHERE id = $1", [
    id,
    hoursAgo,
  ]);
  const cardId = Number(/\/payments\/checkout\/(\d+)$/.exec(res.body.checkout_url)?.[1]);
  return { m, chargeId: res.body.id as string, cardId };
}

/** The balance recorded with the charge (shown only to federation keys with read). */
const balanceAfter = async (chargeId: string) =>
  (await s.p.db.apiCharge.findUniqueOrThrow({ where: { id: Number(chargeId.slice(3)) } })).balanceAfterCents;

const eventsOf = (chargeId: string) =>
  s.events.filter((e) => (e.data.charge as { id?: string } | undefined)?.id === chargeId);

test("a checkout older than the expiry fails with checkout.expired and charge.failed in its transaction; a newer one stays", async () => {
  const old = await checkoutCharge(25);
  const fresh = await checkoutCharge(1);
  expect(await expireCheckoutCharges(services(), DAY)).toBeGreaterThanOrEqual(1);

  const after = await api(s, key).get(`/charges/${old.chargeId}`);
  expect(after.body).toMatchObject({ status: "failed", failure_code: "checkout_expired", checkout_url: null });
  expect(eventsOf(old.chargeId).map((e) => [e.type, e.inTransaction])).toEqual([
    ["checkout.expired", true],
    ["charge.failed", true],
  ]);
  const outbox = await outboxEvents(s, "checkout.expired");
  expect(outbox.map((e) => e.source_key)).toContain(`checkout.expired:${old.chargeId}`);
  // The card payment can no longer be started.
  await expect(createCheckoutIntent(s.p, old.m.id, old.cardId)).rejects.toThrow();

  expect((await api(s, key).get(`/charges/${fresh.chargeId}`)).body.status).toBe("pending");
  expect(eventsOf(fresh.chargeId)).toEqual([]);
  // Run again: nothing more.
  await expireCheckoutCharges(services(), DAY);
  expect(eventsOf(old.chargeId)).toHaveLength(2);
});

test("paid after it expired: the money stays on the member's balance as a top-up, the charge is not made", async () => {
  const c = await checkoutCharge(0);
  // The member opened the card form (a PaymentIntent exists) and pays only after the checkout expired.
  const { clientSecret } = await createCheckoutIntent(s.p, c.m.id, c.cardId);
  const clubBefore = await balanceOf({ organisationId: club.id });
  await new Promise((r) => setTimeout(r, 20));
  expect(await expireCheckoutCharges(services(), 10)).toBeGreaterThanOrEqual(1);
  await payAtBrowser(s.emulator, clientSecret, CARDS.ok);
  await webhooksSettled(s.emulator);

  const card = await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: c.cardId } });
  expect(card.status).toBe("SUCCEEDED");
  expect(await balanceOf({ userId: c.m.id })).toBe(300n + card.amountCents); // credited, nothing taken
  expect(await balanceOf({ organisationId: club.id })).toBe(clubBefore);
  const after = await api(s, key).get(`/charges/${c.chargeId}`);
  expect(after.body).toMatchObject({ status: "failed", failure_code: "checkout_expired", posting_reference: null });
  expect(eventsOf(c.chargeId).map((e) => e.type)).toEqual(["checkout.expired", "charge.failed"]);
});

test("paid before it would expire: the charge completes and the expiry leaves it alone", async () => {
  const c = await checkoutCharge(0);
  const { clientSecret } = await createCheckoutIntent(s.p, c.m.id, c.cardId);
  await payAtBrowser(s.emulator, clientSecret, CARDS.ok);
  await webhooksSettled(s.emulator);
  await new Promise((r) => setTimeout(r, 20));
  await expireCheckoutCharges(services(), 10);
  expect((await api(s, key).get(`/charges/${c.chargeId}`)).body.status).toBe("succeeded");
  expect(eventsOf(c.chargeId).map((e) => e.type)).toEqual(["checkout.completed", "charge.succeeded"]);
});

test("several processes expiring at once expire each charge once; the scheduled pg-boss job runs it", async () => {
  const due = await Promise.all(Array.from({ length: 6 }, () => checkoutCharge(30)));
  const counts = await Promise.all(Array.from({ length: 3 }, () => expireCheckoutCharges(services(), DAY)));
  expect(counts.reduce((a, b) => a + b, 0)).toBe(6);
  for (const c of due) expect(eventsOf(c.chargeId).map((e) => e.type)).toEqual(["checkout.expired", "charge.failed"]);

  // The job as the server schedules it, sent now rather than waiting for the minute's tick.
  const late = await checkoutCharge(30);
  const scheduler = await startScheduler({
    connectionString: s.database.url,
    logger: createLogger("silent"),
    pollingIntervalSeconds: 0.5,
    jobs: [{ name: CHECKOUT_EXPIRY_JOB, cron: "* * * * *", run: () => expireCheckoutCharges(services(), DAY) }],
  });
  try {
    await scheduler.runNow(CHECKOUT_EXPIRY_JOB);
    for (let i = 0; (await api(s, key).get(`/charges/${late.chargeId}`)).body.status === "pending"; i++) {
      if (i > 100) throw new Error("the scheduled job did not expire the checkout");
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await scheduler.stop();
  }
  expect(eventsOf(late.chargeId).map((e) => e.type)).toEqual(["checkout.expired", "charge.failed"]);
}, 60_000);

/** A checkout charge made now whose member has opened the card form (a PaymentIntent exists). */
async function openCheckout() {
  const c = await checkoutCharge(0);
  const { clientSecret } = await createCheckoutIntent(s.p, c.m.id, c.cardId);
  return { ...c, clientSecret };
}

/** The member pays at the browser; the emulator's webhook reaches the app and is applied. */
async function pay(c: { clientSecret: string }) {
  await payAtBrowser(s.emulator, c.clientSecret, CARDS.ok);
  await webhooksSettled(s.emulator);
}

test("balance spent while at the checkout: the charge fails with insufficient_funds when the card payment lands; the money stays as a top-up", async () => {
  const c = await openCheckout();
  // Another system charges the member's $3 from the balance before the card payment lands.
  const other = await api(s, key).post("/charges", {
    member: c.m.systemNumber,
    amount: 300,
    currency: "aud",
    description: "Table money",
    when_insufficient: "fail",
  });
  expect(other.body.status).toBe("succeeded");
  const clubBefore = await balanceOf({ organisationId: club.id });

  await pay(c);

  const card = await s.p.db.cardPayment.findUniqueOrThrow({ where: { id: c.cardId } });
  expect(card.status).toBe("SUCCEEDED");
  expect(card.amountCents).toBe(1_700n);
  expect(await balanceOf({ userId: c.m.id })).toBe(1_700n); // the card's money, nothing taken
  expect(await balanceOf({ organisationId: club.id })).toBe(clubBefore);
  const after = await api(s, key).get(`/charges/${c.chargeId}`);
  expect(after.body).toMatchObject({
    status: "failed",
    failure_code: "insufficient_funds",
    posting_reference: null,
    checkout_url: null,
  });
  expect(await balanceAfter(c.chargeId)).toBe(1_700n);
  // charge.failed written in the transaction that booked the card payment; nothing else about this charge.
  expect(eventsOf(c.chargeId).map((e) => [e.type, e.inTransaction])).toEqual([["charge.failed", true]]);
  expect((await outboxEvents(s, "charge.failed")).map((e) => e.source_key)).toContain(`charge.failed:${c.chargeId}`);
  const told = await s.p.db.notification.findMany({ where: { userId: c.m.id, kind: "PURCHASE_NOT_MADE" } });
  expect(told).toHaveLength(1);
  expect(told[0]!.body).toContain("$17.00 has been added to your Bridge Credits balance");
  expect(told[0]!.body).toContain("your balance no longer covered it");

  // The expiry job later finds nothing to do with it.
  await expireCheckoutCharges(services(), DAY);
  expect((await api(s, key).get(`/charges/${c.chargeId}`)).body.status).toBe("failed");
  expect(eventsOf(c.chargeId)).toHaveLength(1);
});

test("member made inactive while at the checkout: the charge fails with member_inactive; the money stays on the balance", async () => {
  const c = await openCheckout();
  await s.p.db.user.update({ where: { id: c.m.id }, data: { isActive: false } });
  const clubBefore = await balanceOf({ organisationId: club.id });

  await pay(c);

  expect(await balanceOf({ userId: c.m.id })).toBe(300n + 1_700n);
  expect(await balanceOf({ organisationId: club.id })).toBe(clubBefore);
  const after = await api(s, key).get(`/charges/${c.chargeId}`);
  expect(after.body).toMatchObject({ status: "failed", failure_code: "member_inactive", posting_reference: null });
  expect(eventsOf(c.chargeId).map((e) => [e.type, e.inTransaction])).toEqual([["charge.failed", true]]);
  const told = await s.p.db.notification.findMany({ where: { userId: c.m.id, kind: "PURCHASE_NOT_MADE" } });
  expect(told.map((n) => n.body)).toEqual([expect.stringContaining("your account is not active")]);
});

test("a charge left pending on a booked card payment is settled by the expiry job from the ledger", async () => {
  // Earlier code settled the charge after the commit (and not at all when the purchase was refused): detach
  // the charges from their card payments while these land, then put them back, as that code left them.
  const madeOne = await openCheckout();
  const refused = await openCheckout();
  await api(s, key).post("/charges", {
    member: refused.m.systemNumber,
    amount: 300,
    currency: "aud",
    description: "Table money",
    when_insufficient: "fail",
  });
  const ids = [madeOne, refused].map((c) => Number(c.chargeId.slice(3)));
  await s.p.pool.query("UPDATE api_charges SET card_payment_id = NULL WHERE id = ANY($1::int[])", [ids]);
  await pay(madeOne);
  await pay(refused);
  await s.p.pool.query(
    "UPDATE api_charges c SET card_payment_id = x.card FROM unnest($1::int[], $2::int[]) x(id, card) WHERE c.id = x.id",
    [ids, [madeOne.cardId, refused.cardId]],
  );
  expect((await api(s, key).get(`/charges/${madeOne.chargeId}`)).body.status).toBe("pending");

  // Young charges, far from expiring: they are settled, not expired.
  await Promise.all([expireCheckoutCharges(services(), DAY), expireCheckoutCharges(services(), DAY)]);

  const made = await api(s, key).get(`/charges/${madeOne.chargeId}`);
  expect(made.body).toMatchObject({ status: "succeeded", failure_code: null, checkout_url: null });
  expect(await balanceAfter(madeOne.chargeId)).toBe(0n);
  expect(made.body.posting_reference).toMatch(/\S/);
  expect(eventsOf(madeOne.chargeId).map((e) => [e.type, e.inTransaction])).toEqual([
    ["checkout.completed", true],
    ["charge.succeeded", true],
  ]);
  const notMade = await api(s, key).get(`/charges/${refused.chargeId}`);
  expect(notMade.body).toMatchObject({ status: "failed", failure_code: "insufficient_funds", posting_reference: null });
  expect(eventsOf(refused.chargeId).map((e) => e.type)).toEqual(["charge.failed"]);
  expect(await balanceOf({ userId: refused.m.id })).toBe(1_700n);
  expect(await s.p.db.notification.count({ where: { userId: refused.m.id, kind: "PURCHASE_NOT_MADE" } })).toBe(1);
});
