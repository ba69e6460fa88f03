// payment_api_interactive (reference §3.2): pay from the balance (or an auto top-up) when possible; otherwise
// make a card checkout for what the balance does not cover and send the member to it. The purchase is booked by
// the webhook when the card payment succeeds, then the caller's callback runs.
import { formatMoney } from "../../lib/money";
import { createCheckout, STRIPE_MINIMUM_CENTS } from "../cards/checkout";
import type { Payments } from "./context";
import { type PaymentApiBatchInput, paymentApiBatch } from "./payment-api-batch";

export type PaymentApiInteractiveInput = PaymentApiBatchInput & {
  routeCode?: string | null;
  routePayload?: string | null;
  /** Where the member goes afterwards (a path on this site); the dashboard when not given. */
  nextUrl?: string | null;
};

export type PaymentApiInteractiveResult =
  /** Paid from the balance: flash `message` and redirect to `nextUrl`. */
  | {
      kind: "paid";
      message: string;
      topUpCents: bigint | null;
      nextUrl: string;
      /** As paymentApiBatch answers them (for callers that record the booking). */
      postingId: bigint | null;
      balanceAfterCents: bigint | null;
    }
  /** The rest is to be paid by card: redirect to `checkoutUrl`. */
  | { kind: "checkout"; cardPaymentId: number; cardAmountCents: bigint; checkoutUrl: string };

export async function paymentApiInteractive(
  p: Payments,
  input: PaymentApiInteractiveInput,
): Promise<PaymentApiInteractiveResult> {
  const { routeCode, routePayload, nextUrl: next, ...batch } = input;
  const nextUrl = next && /^\/(?!\/)/.test(next) ? next : "/dashboard";
  const r = await paymentApiBatch(p, batch);
  const amountCents = BigInt(batch.amountCents);
  if (r.ok) {
    if (!r.replayed) await p.callbacks.run(routeCode, routePayload ?? "", {});
    const to = batch.otherMemberId
      ? await p.db.user.findUnique({ where: { id: batch.otherMemberId }, select: { firstName: true, lastName: true } })
      : batch.organisationId
        ? await p.db.organisation.findUnique({ where: { id: batch.organisationId }, select: { name: true } })
        : null;
    const name = to && ("name" in to ? to.name : `${to.firstName} ${to.lastName}`);
    return {
      kind: "paid",
      message: `Payment of ${formatMoney(amountCents)}${name ? ` to ${name}` : ""} successful`,
      topUpCents: r.topUpCents,
      nextUrl,
      postingId: r.postingId,
      balanceAfterCents: r.balanceAfterCents,
    };
  }
  // The member's balance is used first and the card pays the rest (a negative balance adds to it). Stripe will
  // not take less than 50 cents; anything charged over the purchase stays on the member's balance.
  let cardAmountCents = amountCents - r.balanceCents;
  if (cardAmountCents < STRIPE_MINIMUM_CENTS) cardAmountCents = STRIPE_MINIMUM_CENTS;
  const card = await createCheckout(p, {
    userId: batch.memberId,
    amountCents: cardAmountCents,
    description: batch.description,
    // book_internals = false (events): the card only credits the member; the callback books the entries.
    linked: {
      type: batch.type ?? "Miscellaneous",
      amountCents,
      organisationId: batch.bookInternals === false || batch.otherMemberId ? null : (batch.organisationId ?? null),
      userId: batch.bookInternals === false ? null : (batch.otherMemberId ?? null),
      clubSessionId: batch.clubSessionId ?? null,
      eventId: batch.eventId ?? null,
    },
    routeCode,
    routePayload,
    requestKey: batch.idempotencyKey,
  });
  return {
    kind: "checkout",
    cardPaymentId: card.id,
    cardAmountCents: card.amountCents,
    checkoutUrl: `/payments/checkout/${card.id}?next=${encodeURIComponent(nextUrl)}`,
  };
}
