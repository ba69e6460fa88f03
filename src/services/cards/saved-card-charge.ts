// Charges a member's saved card without them present (auto top-up, "use my registered card"), booking the
// credit at once when Stripe says it succeeded. Rules, in order of importance:
//  - the same request key never charges twice: the card record is found by it, and Stripe's idempotency key
//    (`topup:<record id>`) is saved on the record before the call;
//  - at most one saved-card charge per member is in flight (a unique index), so two payments needing a top-up
//    at the same moment cannot both charge the card: the second is told to wait for the first;
//  - a charge made to cover a payment is not made when, by the time it holds the member's slot, the balance
//    already covers that payment (another top-up landed meanwhile: its credit is booked before its slot is free);
//  - no database transaction is open during the Stripe call.
import { type CardPayment, Prisma } from "../../generated/prisma/client";
import { inTransaction } from "../ledger/transaction";
import { messages } from "../notifications/messages";
import { writeNotifications } from "../notifications/outbox";
import { CardGatewayError, cardLabel } from "../payments/card-gateway";
import type { Payments } from "../payments/context";
import { settleCardPayment } from "./settle-card-payment";

export type SavedCardChargeResult =
  | { status: "succeeded"; cardPaymentId: number; cardLabel: string; replayed: boolean }
  | { status: "hard_decline" | "failed"; cardPaymentId: number; message: string }
  | { status: "authentication_required"; cardPaymentId: number; message: string }
  | { status: "unknown"; cardPaymentId: number; message: string }
  /** Another saved-card charge for this member is in flight: wait for it, then look at the balance again. */
  | { status: "busy"; inFlightCardPaymentId: number }
  /** The balance already covered `unlessBalanceAtLeast`: nothing was charged. */
  | { status: "not_needed" };

export interface SavedCardChargeRequest {
  userId: number;
  customerId: string;
  amountCents: bigint;
  type: "Auto Top Up" | "Manual Top Up";
  requestKey: string;
  /** Charge nothing if, once this request holds the member's slot, the balance is at least this. */
  unlessBalanceAtLeast?: bigint;
}

/**
 * Takes this member's one saved-card slot for the request, or finds the request's record, or names the charge
 * in flight. The in-flight charge may finish between our refused insert and our look at it: then try again.
 * Each such miss means another request took the slot and let it go meanwhile (quickly, when it found the top-up
 * no longer needed), so under a burst of payments this can take a few rounds.
 */
async function claim(
  p: Payments,
  req: SavedCardChargeRequest,
): Promise<{ card: CardPayment; fresh: boolean } | { busyWith: number }> {
  for (let attempt = 1; ; attempt++) {
    const existing = await p.db.cardPayment.findUnique({ where: { requestKey: req.requestKey } });
    if (existing) return { card: existing, fresh: false };
    try {
      const card = await p.db.$transaction(async (tx) => {
        const c = await tx.cardPayment.create({
          data: {
            userId: req.userId,
            kind: "SAVED_CARD",
            description: req.type,
            amountCents: req.amountCents,
            requestKey: req.requestKey,
          },
        });
        return tx.cardPayment.update({ where: { id: c.id }, data: { stripeIdempotencyKey: `topup:${c.id}` } });
      });
      return { card, fresh: true };
    } catch (e) {
      if (!(e instanceof Prisma.PrismaClientKnownRequestError) || e.code !== "P2002" || attempt >= 50) throw e;
      const inFlight = await p.db.cardPayment.findFirst({
        where: { userId: req.userId, kind: "SAVED_CARD", status: "INITIATED" },
        select: { id: true },
      });
      if (inFlight) return { busyWith: inFlight.id };
      await new Promise((r) => setTimeout(r, Math.random() * 5)); // let the burst spread out
    }
  }
}

export async function chargeSavedCard(p: Payments, req: SavedCardChargeRequest): Promise<SavedCardChargeResult> {
  const claimed = await claim(p, req);
  if ("busyWith" in claimed) return { status: "busy", inFlightCardPaymentId: claimed.busyWith };
  const { card } = claimed;
  if (!claimed.fresh) {
    // A retry of a charge already made (or being made): report what happened, charge nothing.
    if (card.status === "SUCCEEDED" || card.status === "PARTIAL_REFUND" || card.status === "REFUNDED") {
      return {
        status: "succeeded",
        cardPaymentId: card.id,
        cardLabel: cardLabel({
          brand: card.cardBrand,
          last4: card.cardLast4,
          expMonth: card.cardExpMonth,
          expYear: card.cardExpYear,
        }),
        replayed: true,
      };
    }
    if (card.status === "INITIATED") return { status: "busy", inFlightCardPaymentId: card.id };
    if (card.status === "REQUIRES_ACTION") {
      return { status: "authentication_required", cardPaymentId: card.id, message: card.failureMessage ?? "" };
    }
    if (card.status === "PENDING")
      return { status: "unknown", cardPaymentId: card.id, message: card.failureMessage ?? "" };
    return { status: "failed", cardPaymentId: card.id, message: card.failureMessage ?? "The card payment failed." };
  }

  if (req.unlessBalanceAtLeast !== undefined && (await balanceCovers(p, req.userId, req.unlessBalanceAtLeast))) {
    // Another top-up landed between the payment's refusal and this claim. The record never reached Stripe.
    await p.db.cardPayment.deleteMany({ where: { id: card.id, status: "INITIATED" } });
    return { status: "not_needed" };
  }

  const metadata = { bc_card_payment_id: String(card.id), bc_kind: "saved_card", bc_user_id: String(req.userId) };
  let attempt = 0;
  for (;;) {
    attempt += 1;
    try {
      const charge = await p.gateway.chargeSavedCard({
        customerId: req.customerId,
        amountCents: req.amountCents,
        description: `${req.type} for member ${req.userId}`,
        metadata,
        idempotencyKey: card.stripeIdempotencyKey!,
      });
      const settled = await inTransaction(p.pool, (client) => settleCardPayment(client, card.id, charge, p.callbacks));
      if (settled.status === "mismatch" || settled.status === "not_found") {
        throw new Error(`saved-card charge ${card.id} could not be booked: ${settled.status}`);
      }
      return { status: "succeeded", cardPaymentId: card.id, cardLabel: cardLabel(charge), replayed: false };
    } catch (e) {
      if (!(e instanceof CardGatewayError)) throw e;
      if (e.kind === "retryable" && attempt < 3) {
        await new Promise((r) => setTimeout(r, 200 * attempt));
        continue;
      }
      return recordFailure(p, req, card.id, e);
    }
  }
}

async function balanceCovers(p: Payments, userId: number, cents: bigint): Promise<boolean> {
  const account = await p.db.account.findUnique({ where: { userId }, select: { balanceCents: true } });
  return account !== null && account.balanceCents >= cents;
}

/** Records a failed charge, and what it means for the member, in one transaction. */
async function recordFailure(
  p: Payments,
  req: SavedCardChargeRequest,
  id: number,
  e: CardGatewayError,
): Promise<SavedCardChargeResult> {
  const status = e.kind === "authentication_required" ? "REQUIRES_ACTION" : e.kind === "unknown" ? "PENDING" : "FAILED";
  await inTransaction(p.pool, async (client) => {
    await client.query(
      `UPDATE card_payments SET status = $2::"CardPaymentStatus", failure_message = $3,
              stripe_payment_intent_id = coalesce($4, stripe_payment_intent_id), updated_at = now()
        WHERE id = $1`,
      [id, status, e.message, e.details.paymentIntentId ?? null],
    );
    if (e.kind === "hard_decline") {
      // As the original: a refused card switches auto top-up off until the member sets it up again.
      await client.query("UPDATE users SET auto_top_up_status = 'FAILED', updated_at = now() WHERE id = $1", [
        req.userId,
      ]);
      await writeNotifications(client, [messages.autoTopUpFailed(req.userId, req.amountCents, e.message, String(id))]);
    }
    if (e.kind === "authentication_required") {
      await writeNotifications(client, [messages.autoTopUpNeedsConfirmation(req.userId, req.amountCents, id)]);
    }
  });
  if (e.kind === "authentication_required")
    return { status: "authentication_required", cardPaymentId: id, message: e.message };
  if (e.kind === "unknown") {
    p.logger.warn(
      { cardPaymentId: id, message: e.message },
      "saved-card charge outcome unknown: waiting for the webhook",
    );
    return { status: "unknown", cardPaymentId: id, message: e.message };
  }
  return { status: e.kind === "hard_decline" ? "hard_decline" : "failed", cardPaymentId: id, message: e.message };
}
