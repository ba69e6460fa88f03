// charge.dispute.created / funds_withdrawn / funds_reinstated / closed (and updated): the dispute is retrieved
// from Stripe before the inbox transaction; the event's object must match both our card payment (charge,
// PaymentIntent, currency, an amount no larger than the payment) and Stripe's dispute (id, amount, currency,
// charge). Then the ledger follows Stripe's dispute as it is now (book-dispute.ts).
import type pg from "pg";
import { holderOf, type Mismatch, mismatchOf, notOurs } from "../cards/stripe-match";
import type { StripeDisputeInfo } from "../payments/card-gateway";
import type { Payments } from "../payments/context";
import { bookDispute, type DisputedCard } from "./book-dispute";

export interface DisputeFacts {
  kind: "dispute";
  dispute: StripeDisputeInfo | null;
}

export async function disputeFacts(p: Payments, id: string): Promise<DisputeFacts> {
  return { kind: "dispute", dispute: await p.gateway.retrieveDispute(id) };
}

interface Card extends DisputedCard {
  stripe_charge_id: string | null;
  stripe_payment_intent_id: string | null;
}

export async function applyDisputeEvent(
  p: Payments,
  client: pg.PoolClient,
  o: Record<string, unknown>,
  facts: DisputeFacts,
) {
  const d = facts.dispute;
  if (!d) return { outcome: `ignored: Stripe has no dispute ${String(o.id)}` };
  const byCharge =
    typeof o.charge === "string"
      ? ((await client.query<{ id: number }>("SELECT id FROM card_payments WHERE stripe_charge_id = $1", [o.charge]))
          .rows[0]?.id ?? null)
      : null;
  const byIntent = await holderOf(client, "card_payments", "stripe_payment_intent_id", o.payment_intent);
  const id = byCharge ?? byIntent;
  if (id === null) return { outcome: "ignored: not one of our card payments" };
  const { rows } = await client.query<Card>(
    `SELECT id, user_id, amount_cents::text, currency, status::text, stripe_charge_id, stripe_payment_intent_id
       FROM card_payments WHERE id = $1`,
    [id],
  );
  const card = rows[0];
  if (!card?.user_id) return { outcome: `ignored: card payment ${id} not found` };
  const { rows: known } = await client.query<{
    amount_cents: string;
    stripe_charge_id: string;
    card_payment_id: number;
  }>("SELECT amount_cents::text, stripe_charge_id, card_payment_id FROM card_disputes WHERE id = $1", [d.id]);
  const m =
    mismatchOf([
      { name: "payment_intent's card payment", theirs: byIntent, ours: id },
      { name: "charge", theirs: o.charge, ours: card.stripe_charge_id, required: true, link: true },
      { name: "payment_intent", theirs: o.payment_intent, ours: card.stripe_payment_intent_id, link: true },
      { name: "currency", theirs: o.currency, ours: card.currency, required: true },
      { name: "amount", theirs: o.amount, ours: null, required: true },
    ]) ??
    mismatchOf([
      { name: "id", theirs: o.id, ours: d.id, required: true, link: true },
      { name: "amount", theirs: o.amount, ours: d.amountCents },
      { name: "currency", theirs: o.currency, ours: d.currency },
      { name: "charge", theirs: o.charge, ours: d.chargeId },
      { name: "payment_intent", theirs: o.payment_intent, ours: d.paymentIntentId },
      { name: "amount", theirs: o.amount, ours: known[0]?.amount_cents },
      { name: "charge", theirs: o.charge, ours: known[0]?.stripe_charge_id },
      { name: "charge's card payment", theirs: id, ours: known[0]?.card_payment_id },
    ]) ??
    overCharged(d, card);
  if (m) return notOurs(`card payment ${id}`, m);
  return bookDispute(p, client, card, d);
}

/** A dispute can never be for more than the payment. */
function overCharged(d: StripeDisputeInfo, card: Card): Mismatch | null {
  if (d.amountCents > 0n && d.amountCents <= BigInt(card.amount_cents)) return null;
  return { field: "amount", theirs: d.amountCents.toString(), ours: `at most ${card.amount_cents}` };
}
