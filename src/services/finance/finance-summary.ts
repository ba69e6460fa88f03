// The finance home page's figures (reference §3.15): net liability, members' and clubs' totals and counts, auto
// top-up users, Stripe's available balance (asked live; shown as unavailable if Stripe does not answer) and the
// card volume of the last 30 days.
import type { Payments } from "../payments/context";

export async function financeSummary(p: Payments) {
  const [totals, users, auto, cards, stripe] = await Promise.all([
    p.db.$queryRaw<{ kind: string; total: bigint; nonzero: bigint; n: bigint }[]>`
      SELECT kind::text, coalesce(sum(balance_cents), 0)::bigint AS total,
             count(*) FILTER (WHERE balance_cents <> 0) AS nonzero, count(*) AS n
        FROM accounts WHERE kind IN ('MEMBER', 'ORGANISATION') GROUP BY kind`,
    p.db.user.count(),
    p.db.user.count({ where: { autoTopUpStatus: "ON" } }),
    p.db.$queryRaw<{ total: bigint; n: bigint }[]>`
      SELECT coalesce(sum(amount_cents), 0)::bigint AS total, count(*) AS n FROM card_payments
       WHERE status IN ('SUCCEEDED', 'PARTIAL_REFUND', 'REFUNDED') AND created_at > now() - interval '30 days'`,
    p.gateway.availableBalanceCents().catch(() => null),
  ]);
  const of = (kind: string) => totals.find((t) => t.kind === kind) ?? { total: 0n, nonzero: 0n, n: 0n };
  const members = of("MEMBER");
  const orgs = of("ORGANISATION");
  return {
    netLiabilityCents: members.total + orgs.total,
    members: { users, withBalance: Number(members.nonzero), autoTopUp: auto, totalCents: members.total },
    organisations: { count: Number(orgs.n), withBalance: Number(orgs.nonzero), totalCents: orgs.total },
    stripe: {
      availableCents: stripe,
      last30DaysCents: cards[0]?.total ?? 0n,
      last30DaysCount: Number(cards[0]?.n ?? 0n),
    },
  };
}
