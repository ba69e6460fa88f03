// Applies a verified Stripe event exactly once (decisions 4 and 5). The event goes into the inbox (unique on
// Stripe's event id) in the same database transaction that applies it, so a redelivery — even a concurrent
// one — finds it there and changes nothing; a failure rolls both back and Stripe's retry applies it again.
// Work that must not run inside the transaction (callbacks, notifications, Stripe calls) runs after commit.

import type pg from "pg";
import { type AuditActor, recordAudit } from "../audit/record";
import { applyDisputeEvent, type DisputeFacts, disputeFacts } from "../disputes/dispute-events";
import { inTransaction } from "../ledger/transaction";
import { autoTopUpMember } from "../payments/auto-topup-member";
import { LOW_BALANCE_THRESHOLD_CENTS } from "../payments/calculate-auto-topup-amount";
import type { CardCharge, CardWebhookEvent } from "../payments/card-gateway";
import type { Payments } from "../payments/context";
import { applyPayoutEvent, type PayoutFacts, payoutFacts } from "../payouts/payout-events";
import { applyRefundUpdate } from "./card-refunds";
import { type Purchase, type SettleOutcome, settleCardPayment } from "./settle-card-payment";
import { holderOf, type Mismatch, mismatchOf, notOurs } from "./stripe-match";

export const DEFAULT_AUTO_TOP_UP_CENTS = 10_000n;

type After = () => Promise<void>;
interface Applied {
  outcome: string;
  after?: After;
  /** The object is not the one our record names: nothing was changed. */
  mismatch?: Mismatch;
}

type O = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" ? v : null);
const obj = (v: unknown): O => (v && typeof v === "object" ? (v as O) : {});

/** Card fields from a charge object as Stripe sends it. */
function chargeOf(o: O): CardCharge {
  const card = obj(obj(o.payment_method_details).card);
  const txn = o.balance_transaction;
  return {
    paymentIntentId: str(o.payment_intent),
    chargeId: str(o.id),
    paymentMethodId: str(o.payment_method),
    amountCents: BigInt(Number.isSafeInteger(o.amount) ? (o.amount as number) : -1),
    currency: str(o.currency) ?? "",
    receiptUrl: str(o.receipt_url),
    balanceTransactionId: typeof txn === "string" ? txn : str(obj(txn).id),
    brand: str(card.brand),
    country: str(card.country),
    expMonth: typeof card.exp_month === "number" ? card.exp_month : null,
    expYear: typeof card.exp_year === "number" ? card.exp_year : null,
    last4: str(card.last4),
  };
}

function ourId(o: O, key: string): number | null {
  const v = str(obj(o.metadata)[key]);
  return v && /^\d{1,9}$/.test(v) ? Number(v) : null;
}

async function chargeSucceeded(p: Payments, client: pg.PoolClient, o: O): Promise<Applied> {
  // Our metadata travels from the PaymentIntent to its charge; failing that, the PaymentIntent id finds the record.
  const named = ourId(o, "bc_card_payment_id");
  const holder = await holderOf(client, "card_payments", "stripe_payment_intent_id", o.payment_intent);
  const id = named ?? holder;
  if (id === null) return { outcome: "ignored: not one of our card payments" };
  const { rows } = await client.query<{
    stripe_charge_id: string | null;
    stripe_payment_intent_id: string | null;
    amount_cents: string;
    currency: string;
    stripe_customer_id: string | null;
  }>(
    `SELECT c.stripe_charge_id, c.stripe_payment_intent_id, c.amount_cents::text, c.currency, u.stripe_customer_id
       FROM card_payments c LEFT JOIN users u ON u.id = c.user_id WHERE c.id = $1`,
    [id],
  );
  const ours = rows[0];
  if (!ours) return { outcome: `ignored: card payment ${id} not found` };
  // A saved-card charge whose answer was lost has no PaymentIntent id yet: the member's customer ties it to us.
  const m = mismatchOf([
    { name: "payment_intent's card payment", theirs: holder, ours: id },
    { name: "id", theirs: o.id, ours: ours.stripe_charge_id, required: true, link: true },
    { name: "payment_intent", theirs: o.payment_intent, ours: ours.stripe_payment_intent_id, link: true },
    { name: "customer", theirs: o.customer, ours: ours.stripe_customer_id, link: true },
    { name: "amount", theirs: o.amount, ours: ours.amount_cents, required: true },
    { name: "currency", theirs: o.currency, ours: ours.currency, required: true },
  ]);
  if (m) return notOurs(`card payment ${id}`, m);
  const r = await settleCardPayment(client, id, chargeOf(o), p.callbacks);
  if (r.status === "not_found") return { outcome: `ignored: card payment ${id} not found` };
  if (r.status === "mismatch") {
    p.logger.error({ cardPaymentId: id, reason: r.reason }, "Stripe charge does not match our card payment");
    return { outcome: `rejected: ${r.reason}` };
  }
  if (r.status === "already_booked") return { outcome: `already booked: card payment ${id}` };
  return {
    outcome: `booked: card payment ${id}${purchaseMade(r.purchase) ? "" : ` (purchase not made: ${r.purchase})`}`,
    after: () => afterCardBooked(p, r),
  };
}

/** Whether the card payment's purchase (if it paid for one) was made. */
const purchaseMade = (purchase: Purchase) => purchase === "booked" || purchase === "none";

/** After a card payment's booking has committed: the caller's callback (if the purchase was made), and the news. */
export async function afterCardBooked(p: Payments, r: Extract<SettleOutcome, { status: "booked" }>) {
  const card = r.card;
  if (purchaseMade(r.purchase)) {
    await p.callbacks.run(card.routeCode, card.routePayload ?? "", { cardPaymentId: card.id });
  }
  p.events.emit("cardPaymentSucceeded", { userId: card.userId, cardPaymentId: card.id, amountCents: card.amountCents });
}

async function setupSucceeded(p: Payments, client: pg.PoolClient, o: O): Promise<Applied> {
  const userId = ourId(o, "bc_user_id");
  const customer = str(o.customer);
  const pm = str(o.payment_method);
  if (userId === null) return { outcome: "ignored: not one of our card set-ups" };
  const { rows: found } = await client.query<{ stripe_customer_id: string | null }>(
    "SELECT stripe_customer_id FROM users WHERE id = $1 FOR UPDATE",
    [userId],
  );
  if (!found[0]) return { outcome: `ignored: member ${userId} not found` };
  // We keep no SetupIntent ids (each visit to the set-up page makes one, and any of them may be the one the member
  // completes), so the customer we created for the member is what ties the set-up to them.
  const m = mismatchOf([
    { name: "id", theirs: o.id, ours: null, required: true },
    { name: "customer", theirs: customer, ours: found[0].stripe_customer_id, required: true, link: true },
  ]);
  if (m) return notOurs(`member ${userId}'s card set-up`, m);
  await client.query(
    `UPDATE users SET auto_top_up_status = 'ON',
            auto_top_up_amount_cents = coalesce(auto_top_up_amount_cents, $2), updated_at = now()
      WHERE id = $1`,
    [userId, DEFAULT_AUTO_TOP_UP_CENTS.toString()],
  );
  const setupId = str(o.id);
  return {
    outcome: `auto top-up on for member ${userId}`,
    after: async () => {
      if (pm && customer) {
        await p.gateway
          .setDefaultCard(customer, pm, `default-card:${setupId}`)
          .catch((err) => p.logger.warn({ err, userId }, "could not make the new card the default"));
      }
      // §3.3.1: a member already below the threshold is topped up at once.
      const account = await p.db.account.findUnique({ where: { userId }, select: { balanceCents: true } });
      if ((account?.balanceCents ?? 0n) < LOW_BALANCE_THRESHOLD_CENTS) {
        const r = await autoTopUpMember(p, { userId, idempotencyKey: `setup:${setupId}` });
        p.logger.info({ userId, ok: r.ok, message: r.message }, "top-up after saving a card");
      }
    },
  };
}

const PAYOUT_EVENTS = new Set(["payout.paid", "payout.failed"]);
const DISPUTE_EVENTS = new Set([
  "charge.dispute.created",
  "charge.dispute.updated",
  "charge.dispute.funds_withdrawn",
  "charge.dispute.funds_reinstated",
  "charge.dispute.closed",
]);
type Facts = PayoutFacts | DisputeFacts | null;

/**
 * What Stripe says now about the object of a payout or dispute event, asked before the inbox transaction (no
 * transaction is held across a Stripe call). Those handlers match the event against it and book from it.
 */
async function factsFor(p: Payments, e: CardWebhookEvent): Promise<Facts> {
  const id = e.object.id;
  if (typeof id !== "string" || !/^[A-Za-z0-9_]{1,255}$/.test(id)) return null;
  if (PAYOUT_EVENTS.has(e.type)) return payoutFacts(p, id);
  if (DISPUTE_EVENTS.has(e.type)) return disputeFacts(p, id);
  return null;
}

async function apply(p: Payments, client: pg.PoolClient, e: CardWebhookEvent, facts: Facts): Promise<Applied> {
  if (PAYOUT_EVENTS.has(e.type)) {
    return facts?.kind === "payout"
      ? applyPayoutEvent(client, e.type, e.object, facts)
      : { outcome: "ignored: payout without an id" };
  }
  if (DISPUTE_EVENTS.has(e.type)) {
    return facts?.kind === "dispute"
      ? applyDisputeEvent(p, client, e.object, facts)
      : { outcome: "ignored: dispute without an id" };
  }
  switch (e.type) {
    case "charge.succeeded":
      return chargeSucceeded(p, client, e.object);
    case "setup_intent.succeeded":
      return setupSucceeded(p, client, e.object);
    case "refund.created":
    case "refund.updated":
    case "refund.failed":
      return applyRefundUpdate(p, client, e.object);
    default:
      return { outcome: "ignored: event type not used" };
  }
}

export type WebhookResult = { duplicate: true } | { duplicate: false; outcome: string };

/** `audit`: finance staff re-applying a stored event; its audit row is written in the transaction that applies it. */
export async function handleStripeEvent(p: Payments, e: CardWebhookEvent, audit?: AuditActor): Promise<WebhookResult> {
  const payload = JSON.stringify({ id: e.id, type: e.type, created: e.created, data: { object: e.object } });
  let done: Applied | null;
  try {
    // A redelivery of an applied event asks Stripe nothing (the locked check below stays the real guard).
    const seen = await p.pool.query<{ processed_at: Date | null }>(
      "SELECT processed_at FROM stripe_events WHERE id = $1",
      [e.id],
    );
    if (seen.rows[0]?.processed_at) return { duplicate: true };
    const facts = await factsFor(p, e);
    done = await inTransaction(p.pool, async (client) => {
      await client.query(
        "INSERT INTO stripe_events (id, type, payload) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        [e.id, e.type, payload],
      );
      // The row lock makes a concurrent delivery of the same event wait here, then find it applied.
      const { rows } = await client.query<{ processed_at: Date | null }>(
        "SELECT processed_at FROM stripe_events WHERE id = $1 FOR UPDATE",
        [e.id],
      );
      if (rows[0]?.processed_at) return null;
      const applied = await apply(p, client, e, facts);
      await client.query("UPDATE stripe_events SET processed_at = now(), outcome = $2 WHERE id = $1", [
        e.id,
        applied.outcome,
      ]);
      if (audit) {
        await recordAudit(client, {
          ...audit,
          action: "stripe.reapply",
          targetType: "stripe_event",
          targetId: e.id,
          before: { processedAt: null },
          after: { type: e.type, outcome: applied.outcome },
        });
      }
      return applied;
    });
  } catch (err) {
    // Nothing was applied. Keep the event, marked failed, so finance staff can see it and re-apply it; Stripe's
    // retry will also apply it once the cause is fixed.
    await p.pool
      .query(
        `INSERT INTO stripe_events (id, type, payload, outcome) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET outcome = EXCLUDED.outcome WHERE stripe_events.processed_at IS NULL`,
        [e.id, e.type, payload, `failed: ${(err as Error).message}`.slice(0, 500)],
      )
      .catch(() => {});
    throw err;
  }
  if (!done) return { duplicate: true };
  if (done.mismatch) {
    const { field, theirs, ours } = done.mismatch;
    p.logger.warn({ eventId: e.id, type: e.type, field, theirs, ours }, "Stripe event does not match our record");
  } else p.logger.info({ eventId: e.id, type: e.type, outcome: done.outcome }, "stripe event applied");
  if (done.after) {
    // Committed already: a failure here must not make Stripe resend (that would find the event done anyway).
    await done
      .after()
      .catch((err) => p.logger.error({ err, eventId: e.id }, "after-commit work of a Stripe event failed"));
  }
  return { duplicate: false, outcome: done.outcome };
}

/** Finance staff's "re-apply" of a stored event that failed: the same handling, so at most once in effect. */
export async function reapplyStripeEvent(p: Payments, id: string, audit?: AuditActor): Promise<string> {
  const row = await p.db.stripeEvent.findUnique({ where: { id } });
  if (!row) return "No such event.";
  if (row.processedAt) return `Already applied: ${row.outcome ?? ""}`;
  const payload = row.payload as { type: string; created: number; data: { object: Record<string, unknown> } };
  try {
    const event = { id, type: row.type, created: payload.created, object: payload.data.object };
    const r = await handleStripeEvent(p, event, audit);
    return r.duplicate ? "Already applied." : `Applied: ${r.outcome}`;
  } catch (err) {
    return `Failed again: ${(err as Error).message}`;
  }
}

export function listStripeEvents(p: Payments, opts: { failedOnly?: boolean; beforeReceivedAt?: Date } = {}) {
  return p.db.stripeEvent.findMany({
    where: {
      ...(opts.failedOnly ? { processedAt: null } : {}),
      ...(opts.beforeReceivedAt ? { receivedAt: { lt: opts.beforeReceivedAt } } : {}),
    },
    orderBy: { receivedAt: "desc" },
    take: 50,
    select: { id: true, type: true, receivedAt: true, processedAt: true, outcome: true },
  });
}
