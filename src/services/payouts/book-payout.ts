// Books a Stripe payout from what Stripe says about it now (the webhook and finance's "Check with Stripe" both
// come here, inside one transaction, under the payout row's lock), so the order and number of events do not
// matter: each step is booked once, with its own idempotency key.
//
//  - Fees: once the payout is paid or failed, Stripe's actual fees on the balance transactions it carried are
//    booked (card funds → STRIPE_FEES), beside what our fee settings expected for them. Dispute withdrawals and
//    reinstatements are left out: the dispute handling books their fees.
//  - Paid: card funds → the federation's bank (FEDERATION_BANK), the payout's amount.
//  - Failed: Stripe documents that a payout reported paid may fail later; the bank money goes back to card funds.
//    A failure is final, so a "paid" seen after it books nothing.
import type pg from "pg";
import { formatMoney, percentOf } from "../../lib/money";
import type { EntryInput } from "../ledger/posting";
import { bookSystemStep as book } from "../ledger/transaction";
import type { StripeBalanceTxn, StripePayoutInfo } from "../payments/card-gateway";

export interface FeeSettings {
  stripeFeePpm: number;
  stripeFixedFeeCents: number;
}

/** Stripe's fee on a card payment as our settings estimate it (the card payment page's estimate). */
export const expectedCardFee = (amountCents: bigint, s: FeeSettings) =>
  percentOf(amountCents, s.stripeFeePpm) + BigInt(s.stripeFixedFeeCents);

const isDispute = (t: StripeBalanceTxn) =>
  t.reportingCategory === "dispute" || t.reportingCategory === "dispute_reversal" || /^(dp|du)_/.test(t.source ?? "");

export interface PayoutFees {
  feeCents: bigint;
  expectedFeeCents: bigint;
  count: number;
}

/**
 * The fees of the balance transactions a payout carried, or a reason why they cannot be trusted: they must be in
 * the payout's currency and their nets must add up to the payout's amount (Stripe's own rule for automatic
 * payouts).
 */
export function payoutFees(po: StripePayoutInfo, txns: StripeBalanceTxn[], s: FeeSettings): PayoutFees | string {
  const carried = txns.filter((t) => t.id !== po.balanceTransactionId && !(t.type === "payout" && t.source === po.id));
  const other = carried.find((t) => t.currency !== po.currency);
  if (other) return `balance transaction ${other.id} is in ${other.currency}, the payout in ${po.currency}`;
  const net = carried.reduce((sum, t) => sum + t.netCents, 0n);
  if (net !== po.amountCents) {
    return `its balance transactions add up to ${formatMoney(net)}, the payout is ${formatMoney(po.amountCents)}`;
  }
  let feeCents = 0n;
  let expectedFeeCents = 0n;
  for (const t of carried) {
    if (isDispute(t)) continue;
    feeCents += t.feeCents;
    expectedFeeCents += t.type === "charge" || t.type === "payment" ? expectedCardFee(t.amountCents, s) : t.feeCents;
  }
  return { feeCents, expectedFeeCents, count: carried.length };
}

interface Row {
  amount_cents: string;
  currency: string;
  status: string;
  fee_cents: string | null;
  paid_posting_id: string | null;
}

/** Moves `cents` from card funds into `to` (a negative amount moves it back). */
const fromCardFunds = (to: "FEDERATION_BANK" | "STRIPE_FEES", cents: bigint): EntryInput[] => [
  { system: to, amountCents: -cents, counterparty: 1 },
  { system: "CARD_FUNDS", amountCents: cents, counterparty: 0 },
];

/**
 * Brings the ledger in line with Stripe's payout `po` (as just retrieved from Stripe). `txns`: the balance
 * transactions it carried, when Stripe can list them (automatic payouts); fees are booked only from them.
 * Answers what was done, for the inbox and the page.
 */
export async function bookPayout(
  client: pg.PoolClient,
  po: StripePayoutInfo,
  txns: StripeBalanceTxn[] | null,
  settings: FeeSettings,
): Promise<{ outcome: string; changed: boolean }> {
  const arrival = po.arrivalDate ? new Date(po.arrivalDate * 1000) : null;
  const inserted = await client.query(
    `INSERT INTO stripe_payouts (id, amount_cents, currency, status, arrival_date) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (id) DO NOTHING RETURNING id`,
    [po.id, po.amountCents.toString(), po.currency, po.status, arrival],
  );
  const { rows } = await client.query<Row>(
    `SELECT amount_cents::text, currency, status, fee_cents::text, paid_posting_id::text
       FROM stripe_payouts WHERE id = $1 FOR UPDATE`,
    [po.id],
  );
  const row = rows[0]!;
  // What this row said before this sync: a failure already recorded is final.
  const wasFailed = inserted.rows.length === 0 && row.status === "failed";
  if (BigInt(row.amount_cents) !== po.amountCents || row.currency !== po.currency) {
    const outcome = `rejected: payout ${po.id} is ${po.amountCents} ${po.currency} at Stripe, ${row.amount_cents} ${row.currency} here`;
    return { outcome, changed: false };
  }
  const done: string[] = [];
  const settled = po.status === "paid" || po.status === "failed";

  if (settled && row.fee_cents === null && txns) {
    const fees = payoutFees(po, txns, settings);
    if (typeof fees === "string")
      return { outcome: `rejected: payout ${po.id}: ${fees}; nothing booked`, changed: false };
    const feePosting =
      fees.feeCents === 0n
        ? null
        : await book(
            client,
            `payout:${po.id}:fees`,
            "Stripe Fee",
            `Stripe's fees on the ${fees.count} transactions of payout ${po.id}: ${formatMoney(fees.feeCents)} ` +
              `(expected ${formatMoney(fees.expectedFeeCents)})`,
            fromCardFunds("STRIPE_FEES", fees.feeCents),
          );
    await client.query(
      `UPDATE stripe_payouts SET fee_cents = $2, expected_fee_cents = $3, transaction_count = $4, fee_posting_id = $5
        WHERE id = $1`,
      [po.id, fees.feeCents.toString(), fees.expectedFeeCents.toString(), fees.count, feePosting],
    );
    done.push(`fees ${formatMoney(fees.feeCents)} booked (expected ${formatMoney(fees.expectedFeeCents)})`);
  }

  let paidPosting = row.paid_posting_id;
  if (po.status === "paid" && !paidPosting && !wasFailed) {
    paidPosting = await book(
      client,
      `payout:${po.id}`,
      "Stripe Payout",
      `Stripe payout ${po.id} to the federation's bank: ${formatMoney(po.amountCents)}`,
      fromCardFunds("FEDERATION_BANK", po.amountCents),
    );
    await client.query("UPDATE stripe_payouts SET paid_posting_id = $2 WHERE id = $1", [po.id, paidPosting]);
    done.push(`paid ${formatMoney(po.amountCents)} booked`);
  }

  if (po.status === "failed" && !wasFailed) {
    if (paidPosting) {
      const failed = await book(
        client,
        `payout:${po.id}:failed`,
        "Stripe Payout",
        `Stripe payout ${po.id} failed (${po.failureCode ?? "no reason given"}): ` +
          `${formatMoney(po.amountCents)} is back in the Stripe balance`,
        fromCardFunds("FEDERATION_BANK", -po.amountCents),
      );
      await client.query("UPDATE stripe_payouts SET failed_posting_id = $2 WHERE id = $1", [po.id, failed]);
      done.push("failure booked (paid amount back in card funds)");
    } else done.push("failed before it was paid: no bank money to take back");
  }

  // A failure is final (Stripe never pays a failed payout), so a stale status never overwrites it.
  await client.query(
    `UPDATE stripe_payouts SET status = CASE WHEN status = 'failed' THEN status ELSE $2 END,
            failure_code = coalesce($3, failure_code), failure_message = coalesce($4, failure_message),
            arrival_date = $5, updated_at = now()
      WHERE id = $1`,
    [po.id, po.status, po.failureCode, po.failureMessage, arrival],
  );
  const outcome = `payout ${po.id}: ${done.length ? done.join("; ") : `nothing to book (${po.status})`}`;
  return { outcome, changed: done.length > 0 };
}
