// Saving a card for auto top-up (reference §3.3.1) and confirming an auto top-up the bank wanted the member to
// authenticate (decision 8). Auto top-up is switched on only by Stripe's webhook (setup_intent.succeeded): what
// the browser says is recorded as PENDING and never trusted.
import { randomUUID } from "node:crypto";
import { badInput, notFound } from "../../lib/errors";
import type { Payments } from "../payments/context";
import { ensureStripeCustomer } from "./stripe-customer";

/** create-payment-superintent: a SetupIntent for the member's customer; answers the keys Stripe.js needs. */
export async function startCardSetup(p: Payments, userId: number) {
  if (!p.gateway.browser) throw badInput("Card payments are not available at the moment.");
  const customerId = await ensureStripeCustomer(p, userId);
  const si = await p.gateway.createSetupIntent({
    customerId,
    description: `Intent to set up auto pay by member ${userId}`,
    metadata: { bc_user_id: String(userId), bc_kind: "auto_top_up" },
    // Each visit to the page is a new set-up; the key only protects one request's retries.
    idempotencyKey: `setup:${userId}:${randomUUID()}`,
  });
  return { publishableKey: p.gateway.browser.publishableKey, clientSecret: si.clientSecret };
}

/** stripe-autotopup-off: before a new card is saved, auto top-up is off (as the original). */
export async function autoTopUpOffForNewCard(p: Payments, userId: number) {
  await p.db.user.update({ where: { id: userId }, data: { autoTopUpStatus: "OFF" } });
}

/** stripe-autotopup-confirm: the browser says the card was saved; ON comes with the webhook. */
export async function autoTopUpPendingConfirmation(p: Payments, userId: number) {
  await p.db.user.updateMany({
    where: { id: userId, autoTopUpStatus: { in: ["OFF", "FAILED"] } },
    data: { autoTopUpStatus: "PENDING" },
  });
}

/** The card payment an auto top-up left waiting for the member's authentication, with what the page needs. */
export async function topUpAwaitingAuthentication(p: Payments, userId: number, cardPaymentId: number) {
  const card = Number.isSafeInteger(cardPaymentId)
    ? await p.db.cardPayment.findUnique({ where: { id: cardPaymentId } })
    : null;
  if (!card || card.userId !== userId || card.kind !== "SAVED_CARD") throw notFound("That payment does not exist.");
  if (card.status !== "REQUIRES_ACTION" || !card.stripePaymentIntentId) {
    return { card, done: true as const };
  }
  if (!p.gateway.browser) throw badInput("Card payments are not available at the moment.");
  const pi = await p.gateway.retrievePaymentIntent(card.stripePaymentIntentId);
  const customerId = (await p.db.user.findUniqueOrThrow({ where: { id: userId } })).stripeCustomerId;
  const saved = customerId ? await p.gateway.defaultCard(customerId) : null;
  return {
    card,
    done: false as const,
    clientSecret: pi.clientSecret,
    paymentMethodId: saved?.paymentMethodId ?? null,
    publishableKey: p.gateway.browser.publishableKey,
  };
}
