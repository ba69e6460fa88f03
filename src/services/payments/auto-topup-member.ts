// Automatic top-up from the member's saved card (reference §3.3.2). The card is charged outside any database
// transaction, with an idempotency key derived from the caller's, then the credit is booked; a retry with the
// same key neither charges nor books twice.
import { formatMoney } from "../../lib/money";
import type { TransactionType } from "../ledger/transaction-types";
import type { Payments } from "./context";

export interface AutoTopUpRequest {
  userId: number;
  /** Amount to take; the member's auto top-up amount when omitted. */
  amountCents?: bigint;
  /** "Auto Top Up", or "Manual Top Up" when the member chose "use my registered card". */
  type?: Extract<TransactionType, "Auto Top Up" | "Manual Top Up">;
  /** Identifies this top-up: the same key means the same top-up. */
  idempotencyKey: string;
}

export type AutoTopUpResult =
  | { ok: true; amountCents: bigint; balanceAfterCents: bigint | null; message: string }
  | { ok: false; message: string };

export async function autoTopUpMember(p: Payments, req: AutoTopUpRequest): Promise<AutoTopUpResult> {
  const user = await p.db.user.findUnique({ where: { id: req.userId } });
  if (user?.autoTopUpStatus !== "ON") return { ok: false, message: "Member not set up for Auto Top Up" };
  if (!user.stripeCustomerId) return { ok: false, message: "No Stripe customer id found" };
  const amountCents = req.amountCents ?? user.autoTopUpAmountCents;
  if (!amountCents || amountCents <= 0n) return { ok: false, message: "No auto top-up amount is set" };
  const type = req.type ?? "Auto Top Up";

  const charge = await p.gateway.chargeSavedCard({
    userId: user.id,
    amountCents,
    description: `${type} for ${user.firstName} ${user.lastName}`,
    idempotencyKey: `topup:${req.idempotencyKey}`,
  });

  if (charge.status === "succeeded") {
    const booked = await p.ledger.post({
      idempotencyKey: `topup:${req.idempotencyKey}`,
      type,
      description: `Payment from ${charge.cardLabel}`,
      cardPaymentId: charge.cardPaymentId,
      entries: [
        { userId: user.id, amountCents, counterparty: 1 },
        { system: "CARD_FUNDS", amountCents: -amountCents, counterparty: 0 },
      ],
    });
    if (booked.status !== "POSTED" && booked.status !== "DUPLICATE") {
      // The card was charged but the credit could not be booked: this needs a person.
      p.logger.error({ userId: user.id, booked, cardPaymentId: charge.cardPaymentId }, "top-up charged but not booked");
      return { ok: false, message: "Your card was charged but the credit could not be recorded; finance will fix it." };
    }
    const balanceAfterCents = booked.status === "POSTED" ? (booked.balances[0]?.balanceAfterCents ?? null) : null;
    if (booked.status === "POSTED") {
      p.events.emit("autoTopUpSucceeded", { userId: user.id, amountCents, cardLabel: charge.cardLabel });
    }
    return {
      ok: true,
      amountCents,
      balanceAfterCents,
      message: `Top up successful. ${formatMoney(amountCents)} added to your account from ${charge.cardLabel}`,
    };
  }

  if (charge.status === "declined" && charge.kind === "hard") {
    // As the original: a refused card switches auto top-up off until the member sets it up again.
    await p.db.user.update({ where: { id: user.id }, data: { autoTopUpStatus: "FAILED" } });
    p.events.emit("autoTopUpFailed", { userId: user.id, amountCents, message: charge.message });
    return { ok: false, message: `${charge.message} Auto Top Up has been disabled.` };
  }
  if (charge.status === "declined") {
    // Decision 8: the bank wants the member to confirm; keep auto top-up on and ask them.
    p.events.emit("autoTopUpNeedsAuthentication", { userId: user.id, amountCents, message: charge.message });
    return { ok: false, message: `${charge.message} Please confirm the payment with your bank.` };
  }
  p.logger.warn({ userId: user.id, charge }, "auto top-up outcome not known yet");
  return { ok: false, message: charge.message };
}
