// The statistics of a period (the original's get_payments_statistics, by period and scope): money moved by kind,
// each figure an SQL aggregate over the period's entries or records, in integer cents.
import type { Payments } from "../payments/context";
import { activePaymentSettings } from "../payments/settings";
import { estimatedCardFeeCents } from "../payments/statistics";
import type { Period } from "./period";
import { type StatisticsScope, scopeSql } from "./scope";

export interface Tally {
  count: number;
  cents: bigint;
}

export interface TypeRow {
  holder: "Members" | "Clubs";
  type: string;
  count: number;
  inCents: bigint;
  outCents: bigint;
}

const tally = (r: { n: number; cents: string | null } | undefined): Tally => ({
  count: r?.n ?? 0,
  cents: BigInt(r?.cents ?? 0),
});

/** The period's bounds as timestamps: `$1` from, `$2` to (local dates), `$3` time zone. */
const IN_PERIOD = (col: string) =>
  `${col} >= ($1::date::timestamp AT TIME ZONE $3) AND ${col} < (($2::date + 1)::timestamp AT TIME ZONE $3)`;

export async function periodFigures(p: Payments, period: Period, scope: StatisticsScope) {
  const s = scopeSql(scope, 4);
  const args = [period.from, period.to, p.timeZone, ...s.params];
  const club = scope.kind === "club" ? scope.organisationId : null;
  const [moves, byType, iousPaid] = await Promise.all([
    p.pool.query<{
      top_ups: number;
      top_up_cents: string;
      payments: number;
      payment_cents: string;
      transfers: number;
      transfer_cents: string;
      org_transfers: number;
      org_transfer_cents: string;
      refunds: number;
      refund_cents: string;
    }>(
      // Transfers and refunds are counted once, on the side that pays: a member's "Member Transfer" out, a
      // club's "Org Transfer" out, a club's "Refund" to a member.
      `SELECT count(*) FILTER (WHERE ${s.topUp})::int AS top_ups,
              coalesce(sum(${s.topUpCents}) FILTER (WHERE ${s.topUp}), 0)::text AS top_up_cents,
              count(*) FILTER (WHERE ${s.payment})::int AS payments,
              coalesce(sum(${s.paymentCents}) FILTER (WHERE ${s.payment}), 0)::text AS payment_cents,
              count(*) FILTER (WHERE a.kind = 'MEMBER' AND e.type = 'Member Transfer' AND e.amount_cents < 0)::int
                AS transfers,
              coalesce(sum(-e.amount_cents) FILTER (WHERE a.kind = 'MEMBER' AND e.type = 'Member Transfer'
                AND e.amount_cents < 0), 0)::text AS transfer_cents,
              count(*) FILTER (WHERE a.kind = 'ORGANISATION' AND e.type = 'Org Transfer' AND e.amount_cents < 0)::int
                AS org_transfers,
              coalesce(sum(-e.amount_cents) FILTER (WHERE a.kind = 'ORGANISATION' AND e.type = 'Org Transfer'
                AND e.amount_cents < 0), 0)::text AS org_transfer_cents,
              count(*) FILTER (WHERE a.kind = 'ORGANISATION' AND e.type = 'Refund' AND e.amount_cents < 0)::int
                AS refunds,
              coalesce(sum(-e.amount_cents) FILTER (WHERE a.kind = 'ORGANISATION' AND e.type = 'Refund'
                AND e.amount_cents < 0), 0)::text AS refund_cents
         FROM entries e JOIN accounts a ON a.id = e.account_id
        WHERE ${s.accounts} AND ${IN_PERIOD("e.created_at")}`,
      args,
    ),
    p.pool.query<{ kind: string; type: string; n: number; in_cents: string; out_cents: string }>(
      `SELECT a.kind::text AS kind, e.type, count(*)::int AS n,
              coalesce(sum(e.amount_cents) FILTER (WHERE e.amount_cents > 0), 0)::text AS in_cents,
              coalesce(sum(-e.amount_cents) FILTER (WHERE e.amount_cents < 0), 0)::text AS out_cents
         FROM entries e JOIN accounts a ON a.id = e.account_id
        WHERE ${s.accounts} AND ${IN_PERIOD("e.created_at")}
        GROUP BY 1, 2 ORDER BY 1 DESC, 2`,
      args,
    ),
    p.pool.query<{ n: number; cents: string }>(
      `SELECT count(*)::int AS n, coalesce(sum((payload->>'amount')::bigint), 0)::text AS cents
         FROM outbound_events
        WHERE type = 'iou.paid' AND ($4::int IS NULL OR organisation_id = $4) AND ${IN_PERIOD("created_at")}`,
      [period.from, period.to, p.timeZone, club],
    ),
  ]);
  const m = moves.rows[0]!;
  return {
    topUps: tally({ n: m.top_ups, cents: m.top_up_cents }),
    payments: tally({ n: m.payments, cents: m.payment_cents }),
    memberTransfers: tally({ n: m.transfers, cents: m.transfer_cents }),
    clubTransfers: tally({ n: m.org_transfers, cents: m.org_transfer_cents }),
    clubRefunds: tally({ n: m.refunds, cents: m.refund_cents }),
    iousPaid: tally(iousPaid.rows[0]),
    byType: byType.rows.map(
      (r): TypeRow => ({
        holder: r.kind === "MEMBER" ? "Members" : "Clubs",
        type: r.type,
        count: r.n,
        inCents: BigInt(r.in_cents),
        outCents: BigInt(r.out_cents),
      }),
    ),
  };
}

/** Card money in the period (federation only): card payments, refunds to cards and Stripe's fees. */
export async function cardFigures(p: Payments, period: Period) {
  const args = [period.from, period.to, p.timeZone];
  const [cards, refunds, fees, autoTopUps, settings] = await Promise.all([
    // Gross: Stripe keeps its fee on a payment refunded later.
    p.pool.query<{ n: number; cents: string }>(
      `SELECT count(*)::int AS n, coalesce(sum(amount_cents), 0)::text AS cents
         FROM card_payments
        WHERE status IN ('SUCCEEDED', 'PARTIAL_REFUND', 'REFUNDED') AND ${IN_PERIOD("created_at")}`,
      args,
    ),
    p.pool.query<{ n: number; cents: string; fee: string }>(
      `SELECT count(*)::int AS n, coalesce(sum(card_amount_cents), 0)::text AS cents,
              coalesce(sum(fee_cents), 0)::text AS fee
         FROM card_refunds WHERE status <> 'FAILED' AND ${IN_PERIOD("created_at")}`,
      args,
    ),
    // Booked from Stripe's payouts: the STRIPE_FEES account's side of each "Stripe Fee" posting is −fee.
    p.pool.query<{ n: number; cents: string }>(
      `SELECT count(*)::int AS n, coalesce(sum(-e.amount_cents), 0)::text AS cents
         FROM entries e JOIN accounts a ON a.id = e.account_id
        WHERE a.system_code = 'STRIPE_FEES' AND ${IN_PERIOD("e.created_at")}`,
      args,
    ),
    p.db.user.count({ where: { autoTopUpStatus: "ON" } }),
    activePaymentSettings(p.db),
  ]);
  const card = tally(cards.rows[0]);
  return {
    cardPayments: card,
    estimatedFeeCents: estimatedCardFeeCents(card.cents, BigInt(card.count), settings),
    stripeFeesBooked: tally(fees.rows[0]),
    cardRefunds: tally(refunds.rows[0]),
    refundFeesCents: BigInt(refunds.rows[0]?.fee ?? 0),
    activeAutoTopUps: autoTopUps,
  };
}
