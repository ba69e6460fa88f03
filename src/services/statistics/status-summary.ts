// The status summary at the top of the statistics page (the original's payments_status_summary, widened): what
// needs someone's attention now. Federation-wide for finance staff; a club's officers see their club's part
// (its money not yet settled and its open IOUs), as the rest (Stripe, e-mail) is the federation's business.
import { WAITING_FOR_STRIPE } from "../cards/stripe-pending";
import { financeSummary } from "../finance/finance-summary";
import { MAX_ATTEMPTS } from "../notifications/mailer";
import type { Payments } from "../payments/context";
import { unpaidPayables } from "../settlement/batch-lifecycle";

export interface ClubStatus {
  /** The club's balance: money it holds that no settlement has paid out yet. */
  balanceCents: bigint;
  /** Confirmed settlements on their way to the club's bank (batch not yet marked paid, not returned). */
  inTransit: { count: number; cents: bigint };
  openIous: { count: number; cents: bigint };
}

export async function clubStatus(p: Payments, organisationId: number): Promise<ClubStatus> {
  const [account, transit, ious] = await Promise.all([
    p.db.account.findUnique({ where: { organisationId }, select: { balanceCents: true } }),
    p.pool.query<{ n: number; cents: string }>(
      `SELECT count(*)::int AS n, coalesce(sum(s.net_cents), 0)::text AS cents
         FROM settlements s JOIN settlement_batches b ON b.id = s.batch_id
        WHERE s.organisation_id = $1 AND b.status <> 'PAID' AND s.returned_at IS NULL AND s.net_cents > 0`,
      [organisationId],
    ),
    p.db.iou.aggregate({ where: { organisationId }, _count: { _all: true }, _sum: { amountCents: true } }),
  ]);
  return {
    balanceCents: account?.balanceCents ?? 0n,
    inTransit: { count: transit.rows[0]!.n, cents: BigInt(transit.rows[0]!.cents) },
    openIous: { count: ious._count._all, cents: ious._sum.amountCents ?? 0n },
  };
}

export async function federationStatus(p: Payments) {
  const [summary, events, cards, emails, payables, ious] = await Promise.all([
    financeSummary(p),
    p.pool.query<{ waiting: number; failed: number }>(
      `SELECT count(*)::int AS waiting, count(*) FILTER (WHERE outcome LIKE 'failed:%')::int AS failed
         FROM stripe_events WHERE processed_at IS NULL`,
    ),
    p.db.cardPayment.aggregate({ where: WAITING_FOR_STRIPE, _count: { _all: true }, _sum: { amountCents: true } }),
    // Failed: the mail server refused a send (tried again later), or every try is used up (given up).
    p.pool.query<{ retrying: number; given_up: number }>(
      `SELECT count(*) FILTER (WHERE send_attempts < $1)::int AS retrying,
              count(*) FILTER (WHERE send_attempts >= $1)::int AS given_up
         FROM notifications WHERE send_email AND sent_at IS NULL AND (last_error IS NOT NULL OR send_attempts >= $1)`,
      [MAX_ATTEMPTS],
    ),
    unpaidPayables(p),
    p.db.iou.aggregate({ _count: { _all: true }, _sum: { amountCents: true } }),
  ]);
  const available = summary.stripe.availableCents;
  return {
    summary,
    stripeEvents: events.rows[0]!,
    cardPaymentsPending: { count: cards._count._all, cents: cards._sum.amountCents ?? 0n },
    failedEmails: { retrying: emails.rows[0]!.retrying, givenUp: emails.rows[0]!.given_up },
    unsettled: {
      clubsHeldCents: summary.organisations.totalCents,
      clubsWithBalance: summary.organisations.withBalance,
      inTransit: { count: payables.lines.length, cents: payables.inBatchesCents },
    },
    openIous: { count: ious._count._all, cents: ious._sum.amountCents ?? 0n },
    stripe: {
      availableCents: available,
      membersCreditCents: summary.members.totalCents,
      /** Stripe's available balance less what members could spend; negative: Stripe holds less. */
      differenceCents: available === null ? null : available - summary.members.totalCents,
    },
  };
}
