// A top-up the member asks for on the manual top-up page (reference §3.4), by either card: the registered card
// (charged at once, off-session) or another card (through the checkout). One rule for both, checked here before
// anything is created or charged: at least $50, and the balance may not go over $2,000 with it. Automatic
// top-ups follow their own amount rule (§3.3.3, calculate-auto-topup-amount.ts) and are not limited here.
import { badInput } from "../../lib/errors";
import { autoTopUpMember } from "../payments/auto-topup-member";
import type { Payments } from "../payments/context";
import { createCheckout } from "./checkout";

export const MIN_MANUAL_TOP_UP_CENTS = 5_000n;
export const MAX_BALANCE_AFTER_TOP_UP_CENTS = 200_000n;

/** Refuses (BAD_INPUT, the original's messages) a manual top-up under $50 or taking the balance over $2,000. */
export async function checkManualTopUpLimits(p: Payments, userId: number, amountCents: bigint) {
  if (amountCents < MIN_MANUAL_TOP_UP_CENTS) throw badInput("Insufficient amount. Minimum is $50");
  const balance = (await p.db.account.findUnique({ where: { userId }, select: { balanceCents: true } }))?.balanceCents;
  if ((balance ?? 0n) + amountCents > MAX_BALANCE_AFTER_TOP_UP_CENTS) {
    throw badInput("Too large. Maximum balance is $2000");
  }
}

export interface ManualTopUpRequest {
  userId: number;
  amountCents: bigint;
  /** "Use Registered Card": charge the saved card now; otherwise pay at the checkout. */
  registeredCard: boolean;
  /** The form's request id: the same key is the same top-up (never charged or created twice). */
  requestKey: string;
}

export type ManualTopUpResult =
  | { via: "registered_card"; message: string }
  | { via: "checkout"; cardPaymentId: number };

export async function manualTopUp(p: Payments, req: ManualTopUpRequest): Promise<ManualTopUpResult> {
  await checkManualTopUpLimits(p, req.userId, req.amountCents);
  if (req.registeredCard) {
    const r = await autoTopUpMember(p, {
      userId: req.userId,
      amountCents: req.amountCents,
      type: "Manual Top Up",
      idempotencyKey: req.requestKey,
    });
    if (!r.ok) throw badInput(r.message);
    return { via: "registered_card", message: r.message };
  }
  const card = await createCheckout(p, {
    userId: req.userId,
    amountCents: req.amountCents,
    description: "Manual Top Up",
    requestKey: req.requestKey,
  });
  return { via: "checkout", cardPaymentId: card.id };
}
