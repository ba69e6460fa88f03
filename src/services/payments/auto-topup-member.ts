// Automatic top-up from the member's saved card (reference §3.3.2), with decision 8: a hard decline switches
// auto top-up off and tells the member; a bank asking for authentication keeps it on and asks the member to
// confirm the payment on-session. The charge itself, its idempotency and its booking are in
// cards/saved-card-charge.ts.

import { formatMoney } from "../../lib/money";
import { chargeSavedCard } from "../cards/saved-card-charge";
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
  /** For a top-up that rescues a payment: charge nothing if the balance already covers this much by then. */
  unlessBalanceAtLeast?: bigint;
}

export type AutoTopUpResult =
  | { ok: true; amountCents: bigint; cardPaymentId: number; message: string }
  | {
      ok: false;
      message: string;
      /** Another top-up for this member is being charged right now (its card record id). */
      busyWith?: number;
      /** The bank wants the member to confirm this card payment on-session. */
      needsAuthentication?: number;
      /** Nothing was charged: the balance already covered `unlessBalanceAtLeast`. */
      notNeeded?: true;
    };

export async function autoTopUpMember(p: Payments, req: AutoTopUpRequest): Promise<AutoTopUpResult> {
  const user = await p.db.user.findUnique({ where: { id: req.userId } });
  if (user?.autoTopUpStatus !== "ON") return { ok: false, message: "Member not set up for Auto Top Up" };
  if (!user.stripeCustomerId) return { ok: false, message: "No Stripe customer id found" };
  const amountCents = req.amountCents ?? user.autoTopUpAmountCents;
  if (!amountCents || amountCents <= 0n) return { ok: false, message: "No auto top-up amount is set" };

  const r = await chargeSavedCard(p, {
    userId: user.id,
    customerId: user.stripeCustomerId,
    amountCents,
    type: req.type ?? "Auto Top Up",
    requestKey: `topup:${req.idempotencyKey}`,
    unlessBalanceAtLeast: req.unlessBalanceAtLeast,
  });
  switch (r.status) {
    case "succeeded":
      if (!r.replayed) p.events.emit("autoTopUpSucceeded", { userId: user.id, amountCents, cardLabel: r.cardLabel });
      return {
        ok: true,
        amountCents,
        cardPaymentId: r.cardPaymentId,
        message: `Top up successful. ${formatMoney(amountCents)} added to your account from ${r.cardLabel}`,
      };
    case "busy":
      return { ok: false, message: "Another top-up is in progress.", busyWith: r.inFlightCardPaymentId };
    case "not_needed":
      return { ok: false, message: "The balance already covers it: no top-up was needed.", notNeeded: true };
    case "hard_decline":
      // Auto top-up is now off (switched with the failure, in its transaction) until the member sets it up again.
      p.events.emit("autoTopUpFailed", { userId: user.id, amountCents, message: r.message });
      return { ok: false, message: `${r.message} Auto Top Up has been disabled.` };
    case "authentication_required":
      p.events.emit("autoTopUpNeedsAuthentication", {
        userId: user.id,
        amountCents,
        message: r.message,
        cardPaymentId: r.cardPaymentId,
      });
      return {
        ok: false,
        message: "Your bank needs you to confirm this top-up before it can be made.",
        needsAuthentication: r.cardPaymentId,
      };
    default:
      return { ok: false, message: r.message };
  }
}

/** Waits (polling; no lock held) until a saved-card charge in flight has an outcome, for at most `timeoutMs`. */
export async function waitForTopUp(p: Payments, cardPaymentId: number, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const c = await p.db.cardPayment.findUnique({ where: { id: cardPaymentId }, select: { status: true } });
    if (c?.status !== "INITIATED") return;
    await new Promise((r) => setTimeout(r, 25));
  }
}
