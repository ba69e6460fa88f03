// Checkouts made by `when_insufficient: "checkout"` expire (issue 16's `checkout.expired`): a charge still
// pending `API_CHECKOUT_EXPIRY_HOURS` after it was made (default 24, the life of a Stripe Checkout session) is
// marked failed with failure_code "checkout_expired", and `checkout.expired` and `charge.failed` are recorded in
// the same transaction. Its card payment is unlinked from the purchase in that transaction too: a member who still
// pays it afterwards (a PaymentIntent already open at the browser) gets the money as a top-up of their balance,
// and the charge is not made. A checkout nobody started paying (no PaymentIntent yet) can no longer be paid.
//
// Run by a scheduled pg-boss job (jobs/scheduler.ts); safe with any number of processes running it at once: the
// charges and their card payments are claimed with FOR UPDATE SKIP LOCKED, and only while the card payment is
// not booked. The card webhook's booking locks the same card payment row, so one of the two wins: a payment
// booked first completes the charge (it is not expired); an expiry first makes the later payment a top-up.
// Each run first settles any charge still pending on a booked card payment (checkout-charges.ts): such a charge
// is never expired, it is made or failed by what the ledger holds.
import { inTransaction } from "../ledger/transaction";
import type { ApiServices } from "./api-services";
import { type ChargeRow, recordChargeEvent, SELECT_CHARGES } from "./charge-records";
import { resolveBookedCheckouts } from "./checkout-charges";

/** The scheduled job's queue (jobs/scheduler.ts). */
export const CHECKOUT_EXPIRY_JOB = "api-checkout-expiry";

/** Charges expired per transaction. */
const BATCH = 100;

export const EXPIRED_CHECKOUT_MESSAGE =
  "The checkout expired before it was paid; a payment made afterwards stays on the balance.";

/** Expires every checkout charge older than `maxAgeMs`; answers how many it expired. */
export async function expireCheckoutCharges(s: ApiServices, maxAgeMs: number): Promise<number> {
  await resolveBookedCheckouts(s);
  let total = 0;
  for (;;) {
    const n = await inTransaction(s.p.pool, async (client) => {
      const { rows: due } = await client.query<{ id: number; card_payment_id: number }>(
        `SELECT c.id, c.card_payment_id
           FROM api_charges c JOIN card_payments cp ON cp.id = c.card_payment_id
          WHERE c.status = 'pending' AND c.created_at < now() - $1 * interval '1 millisecond'
            AND cp.status NOT IN ('SUCCEEDED', 'PARTIAL_REFUND', 'REFUNDED')
          ORDER BY c.id LIMIT $2
          FOR UPDATE OF c, cp SKIP LOCKED`,
        [maxAgeMs, BATCH],
      );
      if (due.length === 0) return 0;
      await client.query(
        `UPDATE api_charges SET status = 'failed', failure_code = 'checkout_expired', updated_at = now()
          WHERE id = ANY($1::int[])`,
        [due.map((d) => d.id)],
      );
      // Unlinked, a later payment books only the member's credit (settle-card-payment.ts) and runs no callback.
      await client.query(
        `UPDATE card_payments
            SET linked_type = NULL, linked_amount_cents = NULL, linked_organisation_id = NULL, linked_user_id = NULL,
                route_code = NULL, route_payload = NULL, failure_message = $2,
                status = CASE WHEN status = 'INITIATED' THEN 'FAILED'::"CardPaymentStatus" ELSE status END,
                updated_at = now()
          WHERE id = ANY($1::int[])`,
        [due.map((d) => d.card_payment_id), EXPIRED_CHECKOUT_MESSAGE],
      );
      const { rows } = await client.query<ChargeRow>(`${SELECT_CHARGES} WHERE c.id = ANY($1::int[]) ORDER BY c.id`, [
        due.map((d) => d.id),
      ]);
      for (const row of rows) {
        await recordChargeEvent(s, client, "checkout.expired", row);
        await recordChargeEvent(s, client, "charge.failed", row);
      }
      return due.length;
    });
    total += n;
    if (n < BATCH) return total;
  }
}
