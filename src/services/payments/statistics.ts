// Figures for the system monitoring pages (reference §3.19).
import { percentOf } from "../../lib/money";
import type { Payments } from "./context";
import { activePaymentSettings } from "./settings";

const PAID = ["SUCCEEDED", "PARTIAL_REFUND", "REFUNDED"] as const;

export async function getPaymentsStatistics(p: Payments) {
  const [members, cards, paid, turnover, feeIncome, settings] = await Promise.all([
    p.db.account.count({ where: { kind: "MEMBER", entryCount: { gt: 0 } } }),
    p.db.cardPayment.aggregate({ _count: { _all: true }, _sum: { amountCents: true } }),
    p.db.cardPayment.aggregate({
      where: { status: { in: [...PAID] } },
      _sum: { amountCents: true, refundedCents: true },
    }),
    p.db.$queryRaw<{ s: bigint | null }[]>`
      SELECT sum(e.amount_cents)::bigint AS s FROM entries e JOIN accounts a ON a.id = e.account_id
       WHERE a.kind <> 'SYSTEM' AND e.amount_cents > 0`,
    p.accounts.forSystem("FEE_INCOME").then((id) => p.db.account.findUniqueOrThrow({ where: { id } })),
    activePaymentSettings(p.db),
  ]);
  const count = BigInt(cards._count._all);
  const totalCardPaymentCents = paid._sum.amountCents ?? 0n;
  const totalCardRefundCents = paid._sum.refundedCents ?? 0n;
  const lessRefundsCents = totalCardPaymentCents - totalCardRefundCents;
  return {
    membersWhoHaveMadePayments: members,
    totalCardPayments: cards._count._all,
    totalCardPaymentCents,
    totalCardRefundCents,
    lessRefundsCents,
    totalTurnoverCents: (turnover[0]?.s ?? 0n) + (cards._sum.amountCents ?? 0n),
    // Mean of every card payment attempt, as the original; rounded half up to the cent.
    averageCardPaymentCents: count === 0n ? 0n : ((cards._sum.amountCents ?? 0n) * 2n + count) / (2n * count),
    // Settlement fees earned: the federation's fee income account (it only ever receives fees).
    federationFeesCents: feeIncome.balanceCents,
    estimatedStripeFeesCents: estimatedCardFeeCents(lessRefundsCents, count, settings),
  };
}

/** Stripe's fees on `count` card payments worth `netCents`, as the fee settings expect them. */
export function estimatedCardFeeCents(
  netCents: bigint,
  count: bigint,
  settings: { stripeFeePpm: number; stripeFixedFeeCents: number },
) {
  return percentOf(netCents, settings.stripeFeePpm) + BigInt(settings.stripeFixedFeeCents) * count;
}

/** Health of the payment flows: card payments or card set-ups stuck half-way make the status "Bad". */
export async function paymentsStatusSummary(p: Payments) {
  const [latestCardPayment, latestMemberEntry, latestOrgEntry, pendingCardPayments, pendingAutoTopUps] =
    await Promise.all([
      p.db.cardPayment.findFirst({ where: { status: "SUCCEEDED" }, orderBy: { createdAt: "desc" } }),
      latestEntry(p, "MEMBER"),
      latestEntry(p, "ORGANISATION"),
      p.db.cardPayment.findMany({ where: { status: "PENDING" }, orderBy: { createdAt: "asc" } }),
      p.db.user.findMany({
        where: { autoTopUpStatus: "PENDING" },
        select: { id: true, systemNumber: true, firstName: true, lastName: true },
      }),
    ]);
  const status: "Good" | "Bad" = pendingCardPayments.length || pendingAutoTopUps.length ? "Bad" : "Good";
  return { status, latestCardPayment, latestMemberEntry, latestOrgEntry, pendingCardPayments, pendingAutoTopUps };
}

async function latestEntry(p: Payments, kind: "MEMBER" | "ORGANISATION") {
  const rows = await p.db.$queryRaw<{ accountId: number; entryNo: number; amountCents: bigint; createdAt: Date }[]>`
    SELECT e.account_id AS "accountId", e.entry_no AS "entryNo", e.amount_cents AS "amountCents",
           e.created_at AS "createdAt"
      FROM entries e JOIN accounts a ON a.id = e.account_id
     WHERE a.kind = ${kind}::"AccountKind"
     ORDER BY e.created_at DESC LIMIT 1`;
  return rows[0] ?? null;
}
