// A `when_insufficient: "checkout"` charge reaches its final state in the transaction that books its card
// payment (the callback registry's on-settle handler, run by settle-card-payment.ts): the purchase made →
// succeeded, with checkout.completed and charge.succeeded; not made (the member spent the balance meanwhile,
// or their account is no longer active) → failed with that failure_code and charge.failed, the card's money
// staying on the member's balance as a top-up (the member is told by settle-card-payment.ts). A charge is
// therefore never pending once its card payment is booked; `resolveBookedCheckouts` finds any that were (left
// by code before this one, which completed charges after the commit and left a refused one pending) and
// settles them from the ledger the same way.

import { purchaseRefused } from "../cards/settle-card-payment";
import type { TxClient } from "../ledger/book-postings";
import { inTransaction } from "../ledger/transaction";
import type { PurchaseRefusal, SettleContext } from "../payments/callbacks";
import type { ApiServices } from "./api-services";
import { type ChargeRow, chargeByKey, recordChargeEvent } from "./charge-records";

/** The charge's failure_code for a purchase that was not made. */
const FAILURE_CODE: Record<PurchaseRefusal, string> = {
  insufficient_funds: "insufficient_funds",
  member_inactive: "member_inactive",
  not_bookable: "purchase_failed",
};

/**
 * The on-settle handler of the API's route code: settles the pending charge `chargeKey` paid through the card
 * payment in `ctx`, in the caller's transaction. Answers the charge, or null if none was pending on that payment.
 */
export async function settleCheckoutCharge(
  s: ApiServices,
  client: TxClient,
  chargeKey: string,
  ctx: SettleContext,
): Promise<ChargeRow | null> {
  const made = ctx.purchase.made;
  // balance_after: the member's balance after the purchase's posting; when not made, as it stands now.
  const { rows } = await client.query<{ id: number }>(
    `UPDATE api_charges c
        SET status = $3, failure_code = $4, posting_id = $5, updated_at = now(),
            balance_after_cents = coalesce(
              (SELECT e.balance_after_cents FROM entries e JOIN accounts a ON a.id = e.account_id
                WHERE e.posting_id = $5 AND a.user_id = c.user_id),
              (SELECT balance_cents FROM accounts WHERE user_id = c.user_id))
      WHERE c.charge_key = $1 AND c.status = 'pending' AND c.card_payment_id = $2
      RETURNING c.id`,
    [
      chargeKey,
      ctx.cardPaymentId,
      made ? "succeeded" : "failed",
      made ? null : FAILURE_CODE[ctx.purchase.reason],
      made ? ctx.purchase.postingId.toString() : null,
    ],
  );
  if (rows.length === 0) {
    s.p.logger.warn(
      { chargeKey, cardPaymentId: ctx.cardPaymentId },
      "card payment booked: no pending API charge on it",
    );
    return null;
  }
  const row = (await chargeByKey(client, chargeKey))!;
  if (made) {
    await recordChargeEvent(s, client, "checkout.completed", row);
    await recordChargeEvent(s, client, "charge.succeeded", row);
  } else await recordChargeEvent(s, client, "charge.failed", row);
  return row;
}

/** Charges settled per transaction. */
const BATCH = 100;

/**
 * Settles every charge still pending on a booked card payment, from what the ledger holds: the purchase's posting
 * exists → succeeded; it does not → failed (insufficient_funds, the only reason earlier code left one unmade), the
 * member told. Safe with several processes at once (SKIP LOCKED). Answers how many it settled.
 */
export async function resolveBookedCheckouts(s: ApiServices): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await inTransaction(s.p.pool, async (client) => {
      const { rows: due } = await client.query<{
        charge_key: string;
        card_payment_id: number;
        posting_id: string | null;
      }>(
        `SELECT c.charge_key, c.card_payment_id, p.id::text AS posting_id
           FROM api_charges c JOIN card_payments cp ON cp.id = c.card_payment_id
           LEFT JOIN postings p ON p.idempotency_key = 'card:' || cp.id || ':purchase'
          WHERE c.status = 'pending' AND cp.status IN ('SUCCEEDED', 'PARTIAL_REFUND', 'REFUNDED')
          ORDER BY c.id LIMIT $1
          FOR UPDATE OF c SKIP LOCKED`,
        [BATCH],
      );
      for (const d of due) {
        const purchase: SettleContext["purchase"] = d.posting_id
          ? { made: true, postingId: BigInt(d.posting_id) }
          : { made: false, reason: "insufficient_funds" };
        if (!purchase.made) await purchaseRefused(client, d.card_payment_id, purchase.reason);
        await settleCheckoutCharge(s, client, d.charge_key, { cardPaymentId: d.card_payment_id, purchase });
      }
      return due.length;
    });
    total += n;
    if (n < BATCH) return total;
  }
}
