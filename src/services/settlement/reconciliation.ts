// Reconciliation (reference §3.17): members' and clubs' balances as at the end of a date, the lines of the month
// before it, and a check that the ledger's card-funds account matches the card payments that succeeded less the
// money refunded to cards.
import type { Payments } from "../payments/context";

export interface BalanceAt {
  kind: "MEMBER" | "ORGANISATION";
  id: number;
  number: string;
  firstName: string | null;
  lastName: string | null;
  name: string | null;
  balanceCents: bigint;
}

/** Every member's and club's balance at the end of `date` (local day), from their running balances. */
export async function balancesAt(p: Payments, date: string): Promise<BalanceAt[]> {
  return p.db.$queryRaw<BalanceAt[]>`
    SELECT a.kind::text AS kind, a.id, coalesce(u.system_number::text, o.club_number) AS number,
           u.first_name AS "firstName", u.last_name AS "lastName", o.name,
           coalesce((SELECT e.balance_after_cents FROM entries e
                      WHERE e.account_id = a.id
                        AND e.created_at < ((${date}::date + 1)::timestamp AT TIME ZONE ${p.timeZone})
                      ORDER BY e.created_at DESC, e.entry_no DESC LIMIT 1), 0)::bigint AS "balanceCents"
      FROM accounts a
      LEFT JOIN users u ON u.id = a.user_id
      LEFT JOIN organisations o ON o.id = a.organisation_id
     WHERE a.kind IN ('MEMBER', 'ORGANISATION')
     ORDER BY a.kind, number`;
}

export async function reconciliationSummary(p: Payments, date: string) {
  const rows = await balancesAt(p, date);
  const sum = (k: string) => rows.filter((r) => r.kind === k).reduce((a, r) => a + r.balanceCents, 0n);
  const count = (k: string) => rows.filter((r) => r.kind === k).length;
  const [card] = await p.db.$queryRaw<
    {
      ledger: bigint;
      charged: bigint;
      refunded: bigint;
      paidOut: bigint;
      fees: bigint;
      expectedFees: bigint;
      disputed: bigint;
      reinstated: bigint;
    }[]
  >`
    SELECT (SELECT balance_cents FROM accounts WHERE system_code = 'CARD_FUNDS') AS ledger,
           (SELECT coalesce(sum(amount_cents), 0) FROM card_payments
             WHERE status IN ('SUCCEEDED', 'PARTIAL_REFUND', 'REFUNDED'))::bigint AS charged,
           (SELECT coalesce(sum(card_amount_cents), 0) FROM card_refunds WHERE status <> 'FAILED')::bigint AS refunded,
           (SELECT coalesce(sum(amount_cents), 0) FROM stripe_payouts
             WHERE paid_posting_id IS NOT NULL AND failed_posting_id IS NULL)::bigint AS "paidOut",
           (SELECT coalesce(sum(fee_cents), 0) FROM stripe_payouts)::bigint AS fees,
           (SELECT coalesce(sum(expected_fee_cents), 0) FROM stripe_payouts)::bigint AS "expectedFees",
           (SELECT coalesce(sum(amount_cents + fee_cents), 0) FROM card_disputes
             WHERE withdrawn_at IS NOT NULL)::bigint AS disputed,
           (SELECT coalesce(sum(reinstated_cents), 0) FROM card_disputes
             WHERE reinstated_at IS NOT NULL)::bigint AS reinstated`;
  // Card money held for us at Stripe is a debit balance: the account shows it as −(what Stripe holds for us):
  // charged, less refunded to cards, paid out to the bank, Stripe's fees, and disputes withdrawn (net of any
  // reinstated) — each computed from its own records, not from the ledger.
  const c = card!;
  const held = c.charged - c.refunded - c.paidOut - c.fees - c.disputed + c.reinstated;
  const expected = -held;
  return {
    date,
    members: { totalCents: sum("MEMBER"), count: count("MEMBER") },
    organisations: { totalCents: sum("ORGANISATION"), count: count("ORGANISATION") },
    cardFunds: {
      ledgerCents: c.ledger,
      chargedCents: c.charged,
      refundedCents: c.refunded,
      paidOutCents: c.paidOut,
      feesCents: c.fees,
      /** Stripe's actual fees on paid-out payments less what the fee settings expected. */
      feeDifferenceCents: c.fees - c.expectedFees,
      disputesNetCents: c.disputed - c.reinstated,
      expectedCents: expected,
      differenceCents: c.ledger - expected,
    },
  };
}

/** The day a month before `date` (clamped to the month's length). */
export function monthBefore(date: string) {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  const last = new Date(Date.UTC(y, m - 1, 0)).getUTCDate();
  return new Date(Date.UTC(y, m - 2, Math.min(d, last))).toISOString().slice(0, 10);
}

export interface RecLine {
  at: Date;
  table: string;
  counterparty: string | null;
  reference: string | null;
  type: string;
  description: string;
  amountCents: bigint;
  balanceCents: bigint | null;
}

/** Member and club ledger lines and card payments between a month before `date` and its end, by date. */
export async function reconciliationLines(p: Payments, date: string): Promise<RecLine[]> {
  const from = monthBefore(date);
  return p.db.$queryRaw<RecLine[]>`
    SELECT * FROM (
      SELECT e.created_at AS at,
             CASE WHEN a.kind = 'MEMBER' THEN 'Member Transaction' ELSE 'Organisation Transaction' END AS table,
             coalesce(cu.first_name || ' ' || cu.last_name, co.name, ca.system_code) AS counterparty,
             p.reference_no AS reference, e.type, p.description, e.amount_cents AS "amountCents",
             e.balance_after_cents AS "balanceCents"
        FROM entries e
        JOIN accounts a ON a.id = e.account_id AND a.kind IN ('MEMBER', 'ORGANISATION')
        JOIN postings p ON p.id = e.posting_id
        LEFT JOIN accounts ca ON ca.id = e.counterparty_account_id
        LEFT JOIN users cu ON cu.id = ca.user_id
        LEFT JOIN organisations co ON co.id = ca.organisation_id
       WHERE e.created_at >= (${from}::date::timestamp AT TIME ZONE ${p.timeZone})
         AND e.created_at < ((${date}::date + 1)::timestamp AT TIME ZONE ${p.timeZone})
      UNION ALL
      SELECT c.created_at, 'Stripe Transaction', u.first_name || ' ' || u.last_name, c.stripe_charge_id,
             c.status::text, c.description, c.amount_cents, NULL
        FROM card_payments c LEFT JOIN users u ON u.id = c.user_id
       WHERE c.status IN ('SUCCEEDED', 'PARTIAL_REFUND', 'REFUNDED')
         AND c.created_at >= (${from}::date::timestamp AT TIME ZONE ${p.timeZone})
         AND c.created_at < ((${date}::date + 1)::timestamp AT TIME ZONE ${p.timeZone})
    ) x ORDER BY at`;
}
