// Statement lines of an account, newest first, with what a statement shows: the posting's description and
// reference, and the counterparty's name. One index range scan on (account_id, entry_no) plus key look-ups.
import type { Db } from "../../db/client";
import { Prisma } from "../../generated/prisma/client";

export interface StatementRow {
  entryNo: number;
  createdAt: Date;
  amountCents: bigint;
  balanceAfterCents: bigint;
  type: string;
  description: string;
  referenceNo: string;
  postingId: bigint;
  cardPaymentId: number | null;
  counterpartyAccountId: number | null;
  counterparty: string | null;
  /** The card that paid, on top-up lines. */
  card: {
    brand: string | null;
    last4: string | null;
    expMonth: number | null;
    expYear: number | null;
    receiptUrl: string | null;
    /** SUCCEEDED, PARTIAL_REFUND or REFUNDED. */
    status: string;
  } | null;
}

const SYSTEM_NAMES: Record<string, string> = {
  CARD_FUNDS: "Card payment",
  FEE_INCOME: "Federation fees",
  SETTLEMENTS_PAYABLE: "Bank settlement",
  ADJUSTMENTS: "Federation adjustment",
};

export interface StatementFilter {
  /** First and last calendar day (YYYY-MM-DD) in `timeZone`, both included. */
  from?: string | null;
  to?: string | null;
  type?: string | null;
  timeZone?: string;
}

export async function statementRows(
  db: Db,
  accountId: number,
  opts: { limit: number; beforeEntryNo?: number } & StatementFilter,
): Promise<StatementRow[]> {
  const before = opts.beforeEntryNo ?? 2 ** 31 - 1;
  const tz = opts.timeZone ?? "Australia/Sydney";
  const from = opts.from
    ? Prisma.sql`AND e.created_at >= (${opts.from}::date::timestamp AT TIME ZONE ${tz})`
    : Prisma.empty;
  const to = opts.to
    ? Prisma.sql`AND e.created_at < ((${opts.to}::date + 1)::timestamp AT TIME ZONE ${tz})`
    : Prisma.empty;
  const type = opts.type ? Prisma.sql`AND e.type = ${opts.type}` : Prisma.empty;
  const rows = await db.$queryRaw<
    (Omit<StatementRow, "counterparty" | "card"> & {
      cp_user: string | null;
      cp_org: string | null;
      cp_sys: string | null;
      card_brand: string | null;
      card_last4: string | null;
      card_exp_month: number | null;
      card_exp_year: number | null;
      receipt_url: string | null;
      card_status: string | null;
    })[]
  >`
    SELECT e.entry_no AS "entryNo", e.created_at AS "createdAt", e.amount_cents AS "amountCents",
           e.balance_after_cents AS "balanceAfterCents", e.type, p.description, p.reference_no AS "referenceNo",
           p.id AS "postingId", p.card_payment_id AS "cardPaymentId",
           e.counterparty_account_id AS "counterpartyAccountId",
           u.first_name || ' ' || u.last_name AS cp_user, o.name AS cp_org, ca.system_code AS cp_sys,
           c.card_brand, c.card_last4, c.card_exp_month, c.card_exp_year, c.receipt_url, c.status::text AS card_status
      FROM entries e
      JOIN postings p ON p.id = e.posting_id
      LEFT JOIN accounts ca ON ca.id = e.counterparty_account_id
      LEFT JOIN users u ON u.id = ca.user_id
      LEFT JOIN organisations o ON o.id = ca.organisation_id
      LEFT JOIN card_payments c ON c.id = p.card_payment_id
     WHERE e.account_id = ${accountId} AND e.entry_no < ${before} ${from} ${to} ${type}
     ORDER BY e.entry_no DESC
     LIMIT ${opts.limit}`;
  return rows.map(
    ({
      cp_user,
      cp_org,
      cp_sys,
      card_brand,
      card_last4,
      card_exp_month,
      card_exp_year,
      receipt_url,
      card_status,
      ...r
    }) => ({
      ...r,
      counterparty: cp_user ?? cp_org ?? (cp_sys ? (SYSTEM_NAMES[cp_sys] ?? cp_sys) : null),
      card: card_status
        ? {
            brand: card_brand,
            last4: card_last4,
            expMonth: card_exp_month,
            expYear: card_exp_year,
            receiptUrl: receipt_url,
            status: card_status,
          }
        : null,
    }),
  );
}
