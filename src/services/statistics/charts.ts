// The statistics page's charts, each computed by PostgreSQL in one pass over the period's entries (the ledger may
// hold millions): weekly sums, and money held at the end of each week as the balance before the period (today's
// balances less what moved since) plus a running (window) sum of the weekly nets. Amounts stay integer cents.
import type { Payments } from "../payments/context";
import type { Period } from "./period";
import { type StatisticsScope, scopeSql } from "./scope";

export interface WeekRow {
  /** The bucket's first day: the week's Monday, or the period's first day for a partial first week. */
  week: string;
  membersHeldCents: bigint;
  clubsHeldCents: bigint;
  topUps: number;
  topUpCents: bigint;
  payments: number;
  paymentCents: bigint;
}

/**
 * One row per week of the period (weeks with no entries too). Money held is at the end of the week's last day in
 * the period. `$1` from, `$2` to (dates), `$3` time zone.
 */
export async function weeklySeries(p: Payments, period: Period, scope: StatisticsScope): Promise<WeekRow[]> {
  const s = scopeSql(scope, 4);
  const { rows } = await p.pool.query<{
    week: string;
    members: string;
    clubs: string;
    top_ups: number;
    top_up_cents: string;
    payments: number;
    payment_cents: string;
  }>(
    // One pass over the entries from the period's start on. Each falls in its week by a binary search over the
    // weeks' first instants (width_bucket; half the cost of converting every row to local time); those after
    // the period fall past the last week and count only for the opening balance, which is today's balance less
    // everything since the period began.
    `WITH weeks AS (
       SELECT (row_number() OVER (ORDER BY w) - 1)::int AS i, w::date AS monday
         FROM generate_series(date_trunc('week', $1::date::timestamp), $2::date::timestamp, interval '1 week') AS w
     ),
     bounds AS (
       SELECT array_append(array_agg(monday::timestamp AT TIME ZONE $3 ORDER BY i) FILTER (WHERE i > 0),
                           ($2::date + 1)::timestamp AT TIME ZONE $3) AS b
         FROM weeks
     ),
     sums AS (
       SELECT width_bucket(e.created_at, (SELECT b FROM bounds)) AS i,
              sum(e.amount_cents) FILTER (WHERE a.kind = 'MEMBER') AS members_net,
              sum(e.amount_cents) FILTER (WHERE a.kind = 'ORGANISATION') AS clubs_net,
              count(*) FILTER (WHERE ${s.topUp}) AS top_ups,
              sum(${s.topUpCents}) FILTER (WHERE ${s.topUp}) AS top_up_cents,
              count(*) FILTER (WHERE ${s.payment}) AS payments,
              sum(${s.paymentCents}) FILTER (WHERE ${s.payment}) AS payment_cents
         FROM entries e JOIN accounts a ON a.id = e.account_id
        WHERE ${s.accounts} AND e.created_at >= ($1::date::timestamp AT TIME ZONE $3)
        GROUP BY 1
     ),
     opening AS (
       SELECT (SELECT coalesce(sum(a.balance_cents) FILTER (WHERE a.kind = 'MEMBER'), 0) FROM accounts a
                WHERE ${s.accounts}) - coalesce(sum(members_net), 0) AS members,
              (SELECT coalesce(sum(a.balance_cents) FILTER (WHERE a.kind = 'ORGANISATION'), 0) FROM accounts a
                WHERE ${s.accounts}) - coalesce(sum(clubs_net), 0) AS clubs
         FROM sums
     )
     SELECT to_char(greatest(w.monday, $1::date), 'YYYY-MM-DD') AS week,
            (o.members + sum(coalesce(f.members_net, 0)) OVER (ORDER BY w.i))::text AS members,
            (o.clubs + sum(coalesce(f.clubs_net, 0)) OVER (ORDER BY w.i))::text AS clubs,
            coalesce(f.top_ups, 0)::int AS top_ups, coalesce(f.top_up_cents, 0)::text AS top_up_cents,
            coalesce(f.payments, 0)::int AS payments, coalesce(f.payment_cents, 0)::text AS payment_cents
       FROM weeks w CROSS JOIN opening o LEFT JOIN sums f ON f.i = w.i
      ORDER BY w.i`,
    [period.from, period.to, p.timeZone, ...s.params],
  );
  return rows.map((r) => ({
    week: r.week,
    membersHeldCents: BigInt(r.members),
    clubsHeldCents: BigInt(r.clubs),
    topUps: r.top_ups,
    topUpCents: BigInt(r.top_up_cents),
    payments: r.payments,
    paymentCents: BigInt(r.payment_cents),
  }));
}

/** The histogram's bins: lower bounds in cents (the first bin takes everything below the second's bound). */
export const BALANCE_BINS: { label: string; fromCents: bigint }[] = [
  { label: "$0 or less", fromCents: -(2n ** 62n) },
  { label: "$0.01 – $9.99", fromCents: 1n },
  { label: "$10 – $24.99", fromCents: 1_000n },
  { label: "$25 – $49.99", fromCents: 2_500n },
  { label: "$50 – $99.99", fromCents: 5_000n },
  { label: "$100 – $249.99", fromCents: 10_000n },
  { label: "$250 – $499.99", fromCents: 25_000n },
  { label: "$500 or more", fromCents: 50_000n },
];

export interface BinRow {
  label: string;
  /** Null when the bin is held back (see SMALLEST_CLUB_BIN). */
  members: number | null;
  totalCents: bigint | null;
}

/**
 * On a club's page a bin of fewer members than this shows neither its count nor its money: a club officer could
 * otherwise read one player's balance off a bin of one (and members' balances are not the club's to see).
 */
export const SMALLEST_CLUB_BIN = 5;

/**
 * Members' balances now, counted per bin. For a club: the members who have had a transaction with it (the other
 * party of its entries), so officers see how much credit their own players hold, never who holds it; bins under
 * SMALLEST_CLUB_BIN members are held back.
 */
export async function balanceHistogram(p: Payments, scope: StatisticsScope): Promise<BinRow[]> {
  const thresholds = BALANCE_BINS.slice(1).map((b) => b.fromCents.toString());
  const members =
    scope.kind === "federation"
      ? "SELECT balance_cents FROM accounts WHERE kind = 'MEMBER'"
      : `SELECT m.balance_cents FROM accounts m
          WHERE m.kind = 'MEMBER' AND m.id IN (
            SELECT e.counterparty_account_id FROM entries e
             WHERE e.account_id = (SELECT id FROM accounts WHERE organisation_id = $2))`;
  const { rows } = await p.pool.query<{ bin: number; n: number; total: string }>(
    `SELECT width_bucket(balance_cents, $1::bigint[]) AS bin, count(*)::int AS n, sum(balance_cents)::text AS total
       FROM (${members}) m GROUP BY 1`,
    [thresholds, ...(scope.kind === "club" ? [scope.organisationId] : [])],
  );
  return BALANCE_BINS.map((b, i) => {
    const row = rows.find((r) => r.bin === i);
    const members = row?.n ?? 0;
    if (scope.kind === "club" && members > 0 && members < SMALLEST_CLUB_BIN) {
      return { label: b.label, members: null, totalCents: null };
    }
    return { label: b.label, members, totalCents: BigInt(row?.total ?? 0) };
  });
}
