// The member's own auto top-up settings (reference §3.3.1): the amount (one of the four offered, checked here
// rather than only in the browser) and switching it off.
import { badInput } from "../../lib/errors";
import type { Payments } from "./context";

export const AUTO_TOP_UP_CHOICES_CENTS = [5_000n, 10_000n, 15_000n, 20_000n] as const;

export async function setAutoTopUpAmount(p: Payments, userId: number, amountCents: bigint) {
  if (!AUTO_TOP_UP_CHOICES_CENTS.includes(amountCents as (typeof AUTO_TOP_UP_CHOICES_CENTS)[number])) {
    throw badInput("Choose an auto top-up amount of $50, $100, $150 or $200.");
  }
  await p.db.user.update({ where: { id: userId }, data: { autoTopUpAmountCents: amountCents } });
}

/** Stops auto top-up. The saved card stays with Stripe, so setting it up again is quick. */
export async function cancelAutoTopUp(p: Payments, userId: number) {
  await p.db.user.update({ where: { id: userId }, data: { autoTopUpStatus: "OFF", autoTopUpAmountCents: null } });
}
