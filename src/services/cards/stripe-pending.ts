// The Stripe health report (reference §3.16) and its repairs, for finance staff. A missed or late webhook must
// never lose a member's money: any card payment still waiting can be checked against Stripe and, if Stripe took
// the money, booked exactly as the webhook would have (same keys, so a late webhook then changes nothing).
// Unlike the original, the report itself changes nothing; repairs are separate POSTs by finance editors.
import type { Prisma } from "../../generated/prisma/client";
import { badInput } from "../../lib/errors";
import { type AuditActor, recordAudit } from "../audit/record";
import { inTransaction } from "../ledger/transaction";
import type { Payments } from "../payments/context";
import { settleCardPayment } from "./settle-card-payment";
import { afterCardBooked } from "./stripe-webhook";

const userFields = { select: { id: true, firstName: true, lastName: true, systemNumber: true } } as const;
const STALE_SETUP_MINUTES = 10;

/** Card payments waiting for Stripe's answer (checkout paid but unconfirmed, saved-card charges under way). */
export const WAITING_FOR_STRIPE = {
  OR: [
    { kind: "CHECKOUT", status: "PENDING" },
    { kind: "SAVED_CARD", status: { in: ["INITIATED", "PENDING", "REQUIRES_ACTION"] } },
  ],
} satisfies Prisma.CardPaymentWhereInput;

export async function stripePendingReport(p: Payments) {
  const [lastSucceeded, waiting, abandoned, setupUsers, pendingRefunds] = await Promise.all([
    p.db.cardPayment.findFirst({
      where: { status: "SUCCEEDED" },
      orderBy: { updatedAt: "desc" },
      select: { updatedAt: true },
    }),
    p.db.cardPayment.findMany({
      where: WAITING_FOR_STRIPE,
      orderBy: { createdAt: "asc" },
      include: { user: userFields },
    }),
    p.db.cardPayment.findMany({
      where: { kind: "CHECKOUT", status: "INTENT" },
      orderBy: { createdAt: "desc" },
      take: 20,
      include: { user: userFields },
    }),
    p.db.user.findMany({ where: { autoTopUpStatus: "PENDING" }, select: { ...userFields.select, updatedAt: true } }),
    p.db.cardRefund.findMany({ where: { status: "PENDING" }, orderBy: { createdAt: "asc" } }),
  ]);
  return { lastSucceededAt: lastSucceeded?.updatedAt ?? null, waiting, abandoned, setupUsers, pendingRefunds };
}

/**
 * Asks Stripe about one waiting card payment and books it if Stripe took the money. Answers what happened. A
 * repair that changes something is in the audit trail (`audit`: the finance editor), in the change's transaction.
 */
export async function reconcileCardPayment(p: Payments, cardPaymentId: number, audit?: AuditActor): Promise<string> {
  const card = Number.isSafeInteger(cardPaymentId)
    ? await p.db.cardPayment.findUnique({ where: { id: cardPaymentId } })
    : null;
  if (!card) throw badInput("That card payment does not exist.");
  if (!card.stripePaymentIntentId) return "Stripe was never asked to take this payment: nothing to do.";
  const pi = await p.gateway.retrievePaymentIntent(card.stripePaymentIntentId);
  if (pi.status !== "succeeded" || !pi.charge) {
    if (card.kind === "SAVED_CARD" && card.status === "PENDING" && pi.status === "requires_payment_method") {
      const outcome = "Stripe did not take the money: marked failed.";
      await p.db.$transaction(async (tx) => {
        await tx.cardPayment.update({ where: { id: card.id }, data: { status: "FAILED" } });
        if (audit) await recordAudit(tx, repairRow(audit, card, outcome));
      });
      return outcome;
    }
    return `Stripe says the payment is ${pi.status.replaceAll("_", " ")}: nothing booked.`;
  }
  const charge = pi.charge;
  const booked = "Stripe took the money: booked now.";
  const r = await inTransaction(p.pool, async (client) => {
    const settled = await settleCardPayment(client, card.id, charge, p.callbacks);
    if (settled.status === "booked" && audit) await recordAudit(client, repairRow(audit, card, booked));
    return settled;
  });
  if (r.status === "booked") {
    await afterCardBooked(p, r);
    return booked;
  }
  if (r.status === "already_booked") return "Already booked.";
  if (r.status === "mismatch") return `Not booked: ${r.reason}.`;
  return "Not booked: the card payment has no member.";
}

function repairRow(audit: AuditActor, card: { id: number; status: string; userId: number | null }, outcome: string) {
  return {
    ...audit,
    action: "stripe.repair",
    targetType: "card_payment",
    targetId: card.id,
    before: { status: card.status, userId: card.userId },
    after: { outcome },
  };
}

/** Members whose card set-up never completed (no webhook within 10 minutes) go back to OFF, as the original. */
export async function resetStaleCardSetups(p: Payments, audit?: AuditActor): Promise<number> {
  return p.db.$transaction(async (tx) => {
    const reset = await tx.$queryRaw<{ id: number }[]>`
      UPDATE users SET auto_top_up_status = 'OFF', updated_at = now()
       WHERE auto_top_up_status = 'PENDING'
         AND updated_at < now() - make_interval(mins => ${STALE_SETUP_MINUTES})
      RETURNING id`;
    if (reset.length > 0 && audit) {
      await recordAudit(tx, {
        ...audit,
        action: "stripe.reset_setups",
        targetType: "users",
        targetId: reset.map((u) => u.id).join(","),
        before: { autoTopUpStatus: "PENDING" },
        after: { autoTopUpStatus: "OFF", userIds: reset.map((u) => u.id) },
      });
    }
    return reset.length;
  });
}
