// payout.paid / payout.failed (and the other payout.* events): the payout is retrieved from Stripe before the
// inbox transaction, the event's object is matched against it field by field, and the ledger is then brought in
// line with Stripe's payout as it is now (book-payout.ts). So a forged or stale object changes nothing, and
// events in any order, or twice, book each step once.
import type pg from "pg";
import { type AuditActor, recordAudit } from "../audit/record";
import { inTransaction } from "../ledger/transaction";
import { mismatchOf, notOurs } from "../cards/stripe-match";
import type { StripeBalanceTxn, StripePayoutInfo } from "../payments/card-gateway";
import type { Payments } from "../payments/context";
import { activePaymentSettings } from "../payments/settings";
import { bookPayout, type FeeSettings } from "./book-payout";

/** The account's currency: a payout in any other is not one of ours to book. */
const OUR_CURRENCY = "aud";

export interface PayoutFacts {
  kind: "payout";
  payout: StripePayoutInfo | null;
  txns: StripeBalanceTxn[] | null;
  settings: FeeSettings;
}

/** What Stripe says about a payout now: the payout, and (once it is paid or failed) the transactions it carried. */
export async function payoutFacts(p: Payments, id: string): Promise<PayoutFacts> {
  const [payout, settings] = await Promise.all([p.gateway.retrievePayout(id), activePaymentSettings(p.db)]);
  const settled = payout && (payout.status === "paid" || payout.status === "failed");
  const txns = settled && payout.automatic ? await p.gateway.payoutBalanceTransactions(id) : null;
  return { kind: "payout", payout, txns, settings };
}

export async function applyPayoutEvent(
  client: pg.PoolClient,
  type: string,
  o: Record<string, unknown>,
  facts: PayoutFacts,
) {
  const po = facts.payout;
  if (!po) return { outcome: `ignored: Stripe has no payout ${String(o.id)}` };
  const { rows } = await client.query<{ amount_cents: string; currency: string }>(
    "SELECT amount_cents::text, currency FROM stripe_payouts WHERE id = $1",
    [po.id],
  );
  const m = mismatchOf([
    { name: "id", theirs: o.id, ours: po.id, required: true, link: true },
    { name: "amount", theirs: o.amount, ours: po.amountCents, required: true },
    { name: "currency", theirs: o.currency, ours: po.currency, required: true },
    { name: "currency", theirs: o.currency, ours: OUR_CURRENCY },
    { name: "balance_transaction", theirs: o.balance_transaction, ours: po.balanceTransactionId },
    { name: "amount", theirs: o.amount, ours: rows[0]?.amount_cents },
    { name: "currency", theirs: o.currency, ours: rows[0]?.currency },
  ]);
  if (m) return notOurs(`Stripe's payout ${po.id}`, m);
  // The event says what happened; Stripe's payout must say the same (or, for "paid", that it failed since).
  const said = type === "payout.failed" ? ["failed"] : type === "payout.paid" ? ["paid", "failed"] : null;
  if (said && !said.includes(po.status)) {
    return notOurs(`Stripe's payout ${po.id}`, { field: "status", theirs: type.slice(7), ours: po.status });
  }
  return { outcome: (await bookPayout(client, po, facts.txns, facts.settings)).outcome };
}

/**
 * Finance's "Check with Stripe": the newest payouts, each booked as Stripe says it is now (a missed or failed
 * webhook repaired; a payout already booked changes nothing). Answers one line per payout; each repair that
 * booked something is in the audit trail (`stripe.repair`), in its transaction.
 */
export async function checkPayoutsWithStripe(p: Payments, audit: AuditActor, limit = 20): Promise<string[]> {
  const recent = await p.gateway.recentPayouts(limit);
  const lines: string[] = [];
  for (const listed of recent) {
    const facts = await payoutFacts(p, listed.id);
    if (!facts.payout) continue;
    if (facts.payout.currency !== OUR_CURRENCY) {
      lines.push(`payout ${listed.id}: ignored (in ${facts.payout.currency})`);
      continue;
    }
    const po = facts.payout;
    const line = await inTransaction(p.pool, async (client) => {
      const r = await bookPayout(client, po, facts.txns, facts.settings);
      if (r.changed) {
        await recordAudit(client, {
          ...audit,
          action: "stripe.repair",
          targetType: "stripe_payout",
          targetId: po.id,
          before: null,
          after: { status: po.status, amountCents: po.amountCents.toString(), outcome: r.outcome },
        });
      }
      return r.outcome;
    });
    lines.push(line);
  }
  return lines;
}

/** The payouts page: newest first, with Stripe's fees beside what the settings expected. */
export async function listPayouts(p: Payments) {
  const rows = await p.db.stripePayout.findMany({ orderBy: { createdAt: "desc" }, take: 100 });
  return rows.map((r) => ({
    ...r,
    feeDifferenceCents: r.feeCents !== null && r.expectedFeeCents !== null ? r.feeCents - r.expectedFeeCents : null,
  }));
}
