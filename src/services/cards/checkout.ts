// The card checkout (reference §3.4): a card payment record the member pays at the browser. The amount always
// comes from our record, never from the browser; only its owner can pay it, and only once.
import { badInput, notFound } from "../../lib/errors";
import { formatMoney } from "../../lib/money";
import type { Payments } from "../payments/context";
import { ensureStripeCustomer } from "./stripe-customer";

/** Stripe refuses card payments under 50 cents (in AUD). */
export const STRIPE_MINIMUM_CENTS = 50n;

export interface NewCheckout {
  userId: number;
  amountCents: bigint;
  description: string;
  /** What the card pays for, booked after the credit once Stripe confirms (null: a plain top-up). */
  linked?: {
    type: string;
    amountCents: bigint;
    organisationId?: number | null;
    userId?: number | null;
    clubSessionId?: number | null;
    eventId?: number | null;
  };
  routeCode?: string | null;
  routePayload?: string | null;
  /** The same key gives back the same checkout (a refreshed page does not make a second one). */
  requestKey: string;
}

export async function createCheckout(p: Payments, c: NewCheckout) {
  const requestKey = `checkout:${c.requestKey}`;
  const existing = await p.db.cardPayment.findUnique({ where: { requestKey } });
  if (existing) return existing;
  return p.db.cardPayment.create({
    data: {
      userId: c.userId,
      kind: "CHECKOUT",
      description: c.description,
      amountCents: c.amountCents,
      requestKey,
      linkedType: c.linked?.type ?? null,
      linkedAmountCents: c.linked?.amountCents ?? null,
      linkedOrganisationId: c.linked?.organisationId ?? null,
      linkedUserId: c.linked?.userId ?? null,
      clubSessionId: c.linked?.clubSessionId ?? null,
      eventId: c.linked?.eventId ?? null,
      routeCode: c.routeCode ?? null,
      routePayload: c.routePayload ?? null,
    },
  });
}

const PAYABLE = new Set(["INITIATED", "INTENT", "PENDING"]);

/** The checkout record, if `userId` may pay it now; otherwise the same "not found" whatever the reason. */
export async function payableCheckout(p: Payments, userId: number, id: number) {
  const card = Number.isSafeInteger(id) ? await p.db.cardPayment.findUnique({ where: { id } }) : null;
  if (!card || card.userId !== userId || card.kind !== "CHECKOUT") throw notFound("That payment does not exist.");
  return card;
}

/**
 * create-payment-intent: the Stripe PaymentIntent for a checkout (one per record, reused on refresh), for the
 * browser to confirm. Answers the keys Stripe.js needs.
 */
export async function createCheckoutIntent(p: Payments, userId: number, id: number) {
  const card = await payableCheckout(p, userId, id);
  if (!PAYABLE.has(card.status)) throw badInput("This payment has already been made.");
  if (!p.gateway.browser) throw badInput("Card payments are not available at the moment.");
  if (card.stripePaymentIntentId) {
    const pi = await p.gateway.retrievePaymentIntent(card.stripePaymentIntentId);
    if (pi.status === "succeeded") throw badInput("This payment has already been made.");
    return { publishableKey: p.gateway.browser.publishableKey, clientSecret: pi.clientSecret };
  }
  const customerId = await ensureStripeCustomer(p, userId);
  const idempotencyKey = `checkout:${card.id}`;
  await p.db.cardPayment.update({ where: { id: card.id }, data: { stripeIdempotencyKey: idempotencyKey } });
  const pi = await p.gateway.createPaymentIntent({
    customerId,
    amountCents: card.amountCents,
    description: `${card.description} (member ${userId})`,
    metadata: { bc_card_payment_id: String(card.id), bc_kind: "checkout", bc_user_id: String(userId) },
    idempotencyKey,
  });
  await p.db.cardPayment.updateMany({
    where: { id: card.id, status: { in: ["INITIATED", "INTENT"] } },
    data: { status: "INTENT", stripePaymentIntentId: pi.id },
  });
  return { publishableKey: p.gateway.browser.publishableKey, clientSecret: pi.clientSecret };
}

/** stripe-webpage-confirm: the browser says Stripe approved. Not trusted for money; only INTENT → PENDING. */
export async function markCheckoutConfirmedInBrowser(p: Payments, userId: number, id: number) {
  await payableCheckout(p, userId, id);
  await p.db.cardPayment.updateMany({ where: { id, status: "INTENT" }, data: { status: "PENDING" } });
}

/** The line shown above the card form (§3.2 step 4). */
export function checkoutMessage(opts: {
  description: string;
  totalCents: bigint;
  balanceCents: bigint;
  recipientName?: string | null;
}) {
  const b = formatMoney(opts.balanceCents);
  const a = formatMoney(opts.totalCents);
  if (opts.recipientName) {
    return opts.balanceCents > 0n
      ? `Partial payment for transfer to ${opts.recipientName} (${opts.description}). Also using your current balance of ${b} to make a total payment of ${a}.`
      : `Payment to ${opts.recipientName} (${opts.description})`;
  }
  return opts.balanceCents > 0n
    ? `Partial payment for ${opts.description}. Also using your current balance of ${b} to make a total payment of ${a}.`
    : `Payment for: ${opts.description}`;
}

/** "Taking you back to …": where next_url leads, in words (§3.2 step 4). */
export function backLabel(nextUrl: string | null | undefined) {
  if (!nextUrl) return null;
  if (nextUrl.includes("events")) return "Events";
  if (nextUrl.includes("dashboard")) return "Dashboard";
  if (nextUrl.includes("payments")) return "your statement";
  return "Next";
}
